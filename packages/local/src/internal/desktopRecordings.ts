import type { Recording } from "@effect-daytona/sdk/ComputerUseDto"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as NodeCrypto from "node:crypto"
import * as NodePath from "node:path"
import { SandboxEngine } from "../SandboxEngine.js"
import { badRequest, conflict, internal, notFound } from "./daemonError.js"
import { readLog, readPid, requireFeature, runningDesktop, stoppedMeanwhile, supervise, terminate } from "./desktop.js"
import {
  type DesktopProcess,
  type DesktopState,
  type RecordingState,
  desktopOf,
  displayRunning
} from "./desktopState.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { attachment, fileResponse, viewOf } from "./toolboxFs.js"
import { pause, runInSandbox } from "./toolboxRoute.js"

/** How long ffmpeg may take to finish its file after SIGTERM before it is killed. */
const finishGrace = Duration.seconds(10)
/** How long a new recording must survive to be acknowledged: x11grab failures end ffmpeg at once. */
const startupWindow = 300

const uuidPrefix = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_/

/**
 * Checks a label, which becomes part of a file name: letters, digits, spaces, dots, underscores and
 * hyphens, at most 100 characters, not starting with a dot and without `..`.
 */
const checkLabel = (label: string) => {
  const trimmed = label.trim()
  const valid =
    trimmed !== "" &&
    label.length <= 100 &&
    !label.includes("..") &&
    !trimmed.startsWith(".") &&
    /^[A-Za-z0-9. _-]+$/.test(label)
  return valid
    ? Effect.void
    : Effect.fail(
        badRequest(
          "invalid label: use at most 100 letters, digits, spaces, dots, underscores and hyphens, not starting with a dot and without '..'"
        )
      )
}

const stamp = (date: Date) => {
  const p = (n: number) => String(n).padStart(2, "0")
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
}

/** Where a sandbox's recordings live, as it sees it: `~/.daytona/recordings`. */
const recordingsDir = (sandbox: SandboxRecord) =>
  Effect.map(SandboxEngine, (engine) =>
    NodePath.posix.join(engine.paths(sandbox.id).homeInSandbox, ".daytona", "recordings")
  )

/** A recording as the API answers it. */
export const toDto = (recording: RecordingState): typeof Recording.Encoded => ({
  id: recording.id,
  fileName: recording.fileName,
  filePath: recording.filePath,
  startTime: recording.startTime,
  status: recording.status,
  ...(recording.endTime === undefined ? {} : { endTime: recording.endTime }),
  ...(recording.durationSeconds === undefined ? {} : { durationSeconds: recording.durationSeconds }),
  ...(recording.sizeBytes === undefined ? {} : { sizeBytes: recording.sizeBytes })
})

const sizeOf = (sandbox: SandboxRecord, path: string) =>
  Effect.flatMap(viewOf(sandbox), (view) =>
    Effect.promise(() =>
      SandboxFs.stat(view, path).then(
        (found) => (found.status.isFile() ? found.status.size : undefined),
        () => undefined
      )
    )
  )

/** Starts recording the screen of a sandbox into `~/.daytona/recordings/<id>_<label>_<time>.mp4`. */
export const start = (sandbox: SandboxRecord, label: string | undefined) =>
  Effect.gen(function* () {
    const paths = yield* requireFeature("recordings")
    if (label !== undefined && label !== "") yield* checkLabel(label)
    const { state } = yield* runningDesktop(sandbox, "recordings")
    const generation = state.generation
    const dir = yield* recordingsDir(sandbox)
    const made = yield* runInSandbox(sandbox, ["/bin/sh", "-c", 'mkdir -p -- "$0"', dir])
    if (made.exitCode !== 0) return yield* badRequest(`cannot create ${dir} in the sandbox: ${made.output.trim()}`)
    const id = NodeCrypto.randomUUID()
    const now = new Date()
    const fileName = `${id}_${label !== undefined && label !== "" ? label : "session"}_${stamp(now)}.mp4`
    const filePath = NodePath.posix.join(dir, fileName)
    const process: DesktopProcess = {
      name: `recording-${id}`,
      priority: 500,
      pid: undefined,
      running: false,
      fiber: undefined,
      ended: Promise.resolve()
    }
    const recording: RecordingState = {
      id,
      fileName,
      filePath,
      startTime: now.toISOString(),
      status: "recording",
      endTime: undefined,
      durationSeconds: undefined,
      sizeBytes: undefined,
      process
    }
    const even = (n: number) => n - (n % 2)
    yield* supervise(sandbox, process, state.logDir, [
      paths.ffmpeg!,
      "-nostdin",
      "-loglevel",
      "error",
      "-f",
      "x11grab",
      "-framerate",
      "30",
      "-video_size",
      `${state.width}x${state.height}`,
      "-i",
      state.display!,
      ...(state.width % 2 === 0 && state.height % 2 === 0
        ? []
        : ["-vf", `crop=${even(state.width)}:${even(state.height)}:0:0`]),
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-pix_fmt",
      "yuv420p",
      "-y",
      filePath
    ])
    state.recordings.set(id, recording)
    void process.ended.then(() => {
      if (recording.status === "recording") {
        recording.status = "failed"
        recording.endTime = new Date().toISOString()
        recording.process = undefined
      }
    })
    yield* readPid(sandbox, process, state.logDir)
    yield* pause(startupWindow)
    if (!process.running) {
      if (!displayRunning(state) || state.generation !== generation) return yield* stoppedMeanwhile(sandbox.id)
      const errors = (yield* readLog(sandbox, NodePath.posix.join(state.logDir, `${process.name}.err`), 2000)).trim()
      return yield* internal(`the recording could not start${errors === "" ? "" : `: ${errors}`}`)
    }
    return recording
  })

/** The recordings the sandbox's directory holds that this server did not make (or no longer remembers). */
const onDisk = (sandbox: SandboxRecord, state: DesktopState) =>
  Effect.gen(function* () {
    const dir = yield* recordingsDir(sandbox)
    const view = yield* viewOf(sandbox)
    const entries = yield* Effect.promise(() => SandboxFs.list(view, dir).catch(() => []))
    const found: Array<RecordingState> = []
    for (const entry of entries) {
      const id = uuidPrefix.exec(entry.name)?.[1]
      if (id === undefined || !entry.name.endsWith(".mp4") || !entry.status.isFile() || state.recordings.has(id))
        continue
      const time = entry.status.mtime.toISOString()
      found.push({
        id,
        fileName: entry.name,
        filePath: NodePath.posix.join(dir, entry.name),
        startTime: time,
        status: "completed",
        endTime: time,
        durationSeconds: undefined,
        sizeBytes: entry.status.size,
        process: undefined
      })
    }
    return found
  })

/** Every recording: those this server made (active or not) and those found in the sandbox. */
export const list = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const state = yield* desktopOf(sandbox.id)
    const known = yield* Effect.forEach([...state.recordings.values()], (recording) =>
      recording.status === "recording"
        ? Effect.succeed(recording)
        : Effect.map(sizeOf(sandbox, recording.filePath), (size) => (size === undefined ? undefined : recording))
    )
    const kept = known.filter((recording): recording is RecordingState => recording !== undefined)
    return [...kept, ...(yield* onDisk(sandbox, state))]
  })

/** One recording, or 404. */
export const get = (sandbox: SandboxRecord, id: string) =>
  Effect.flatMap(list(sandbox), (recordings) => {
    const found = recordings.find((recording) => recording.id === id)
    return found === undefined ? Effect.fail(notFound("recording not found")) : Effect.succeed(found)
  })

/** Stops a recording and answers it completed; one that is not recording any more is answered as it is. */
export const stop = (sandbox: SandboxRecord, id: string) =>
  Effect.gen(function* () {
    const recording = yield* get(sandbox, id)
    const process = recording.process
    if (recording.status === "recording" && process !== undefined) {
      recording.status = "completed"
      yield* terminate(sandbox, process, finishGrace)
      const end = new Date()
      recording.endTime = end.toISOString()
      recording.durationSeconds = (end.getTime() - Date.parse(recording.startTime)) / 1000
      recording.process = undefined
    }
    recording.sizeBytes = (yield* sizeOf(sandbox, recording.filePath)) ?? recording.sizeBytes
    return recording
  })

/** Deletes a recording's file; 409 while it records. */
export const remove = (sandbox: SandboxRecord, id: string) =>
  Effect.gen(function* () {
    const recording = yield* get(sandbox, id)
    if (recording.status === "recording") return yield* conflict("cannot delete an active recording, stop it first")
    const view = yield* viewOf(sandbox)
    yield* Effect.tryPromise({
      try: () => SandboxFs.remove(view, recording.filePath, false),
      catch: () => internal(`cannot delete ${recording.fileName}`)
    })
    const state = yield* desktopOf(sandbox.id)
    state.recordings.delete(id)
  })

/** A recording's bytes, streamed; 409 while it records (its file is not finished). */
export const download = (sandbox: SandboxRecord, id: string) =>
  Effect.gen(function* () {
    const recording = yield* get(sandbox, id)
    if (recording.status === "recording")
      return yield* conflict("the recording is still active: stop it before downloading")
    return yield* fileResponse(sandbox, recording.filePath, {
      toError: () => notFound("recording file not found"),
      readFailed: `${recording.fileName}: read failed`,
      contentType: "video/mp4",
      headers: { "content-disposition": attachment(recording.fileName) }
    })
  })
