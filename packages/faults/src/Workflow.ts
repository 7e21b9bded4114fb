/**
 * The full workflow of one sandbox, step by step (create, files, git, commands, a session with its
 * followed log, previews, labels, SSH, stop/start/archive, delete), each step classed by the
 * requests it sends: `replayable` when every one of them is safe or convergent (the SDK must carry it
 * through any transient fault), `unsafe` when it runs something that may not be run twice (a command,
 * a commit), which may fail after an ambiguous fault and must then say so.
 *
 * A run never stops at a failed step: the steps that need what it made are skipped, the others go on.
 *
 * @since 0.1.0
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as DaytonaError from "@effect-daytona/sdk/DaytonaError"
import type * as Process from "@effect-daytona/sdk/Process"
import type * as Sandbox from "@effect-daytona/sdk/Sandbox"
import type * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * Whether a step's requests may all be replayed or reconciled.
 *
 * @since 0.1.0
 * @category models
 */
export type StepClass = "replayable" | "unsafe"

/**
 * How one step ended.
 *
 * - `Success`.
 * - `Skipped`: a step it needs failed.
 * - `Avoidable`: a replayable step failed, or an unsafe one failed without an ambiguous fault.
 * - `Ambiguous`: an unsafe step failed after a fault that leaves open whether it ran, and its error
 *   says it may have (`sent`).
 * - `Untyped`: a failure outside the SDK's typed errors (a defect, an unknown value).
 *
 * @since 0.1.0
 * @category models
 */
export type StepOutcome = "Success" | "Skipped" | "Avoidable" | "Ambiguous" | "Untyped"

/**
 * One step's record.
 *
 * @since 0.1.0
 * @category models
 */
export interface StepReport {
  readonly step: string
  readonly class: StepClass
  readonly outcome: StepOutcome
  /** The failure's tag and message, when it failed. */
  readonly error?: string | undefined
  readonly millis: number
}

/**
 * What a run did: its sandbox (when the create succeeded) and every step.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunReport {
  readonly sandboxId: string | undefined
  readonly steps: ReadonlyArray<StepReport>
}

/**
 * Options of {@link run}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Labels every sandbox of the run carries. */
  readonly labels: Readonly<Record<string, string>>
  /** A git repository the sandbox can clone (`file://…` on the local server without isolation). */
  readonly repositoryUrl: string
}

/**
 * Whether an error leaves open whether its request ran, and says that it may have.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isAmbiguous = (error: unknown): boolean => {
  if (!DaytonaError.isDaytonaError(error)) return false
  switch (error._tag) {
    case "TransportError":
      return error.sent
    case "RequestTimeoutError":
      return error.sent === true
    case "UnexpectedResponseError":
      return error.sent === true && error.reason === "Status"
    default:
      return false
  }
}

const describe = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure)) return Cause.pretty(cause).slice(0, 300)
  const error = failure.value
  return DaytonaError.isDaytonaError(error) ? `${error._tag}: ${error.message}` : String(error).slice(0, 300)
}

/** The outcome of a failed step by its class and cause. */
const judge = (stepClass: StepClass, cause: Cause.Cause<unknown>): StepOutcome => {
  const failure = Cause.failureOption(cause)
  if (Option.isNone(failure) || !DaytonaError.isDaytonaError(failure.value)) return "Untyped"
  return stepClass === "unsafe" && isAmbiguous(failure.value) ? "Ambiguous" : "Avoidable"
}

const logScript = "(for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done; echo done >&2; exit 3)"
const expectedStdout = "line 1\nline 2\nline 3\nline 4\nline 5\n"
const fileText = "0123456789abcdef".repeat(512)

/**
 * Runs the whole workflow in the caller's scope (whose end deletes the sandbox whatever happened)
 * and reports every step. A step whose answer is wrong (other bytes downloaded, a log with a gap or a
 * duplicate) dies: that is a bug, not a fault.
 *
 * @since 0.1.0
 * @category constructors
 */
export const run = (
  options: Options
): Effect.Effect<RunReport, never, Daytona.Daytona | WebSocketConnector.WebSocketConnector | Scope.Scope> =>
  Effect.gen(function* () {
    const daytona = yield* Daytona.Daytona
    const reports: Array<StepReport> = []
    const step = <A, E, R>(
      name: string,
      stepClass: StepClass,
      effect: Effect.Effect<A, E, R>
    ): Effect.Effect<Option.Option<A>, never, R> =>
      Effect.gen(function* () {
        const started = Date.now()
        const exit = yield* Effect.exit(effect)
        const millis = Date.now() - started
        if (Exit.isSuccess(exit)) {
          reports.push({ step: name, class: stepClass, outcome: "Success", millis })
          return Option.some(exit.value)
        }
        if (Cause.isDie(exit.cause)) return yield* Effect.die(Cause.squash(exit.cause))
        reports.push({
          step: name,
          class: stepClass,
          outcome: judge(stepClass, exit.cause),
          error: describe(exit.cause),
          millis
        })
        return Option.none()
      })
    const skip = (...names: ReadonlyArray<string>) => {
      for (const name of names) reports.push({ step: name, class: "replayable", outcome: "Skipped", millis: 0 })
    }

    const created = yield* step("create", "replayable", daytona.createScoped({ labels: options.labels }))
    if (Option.isNone(created)) return { sandboxId: undefined, steps: reports }
    let sandbox: Sandbox.Sandbox = created.value

    const home = yield* step("home directory", "replayable", sandbox.getUserHomeDir)
    const dir = `${Option.getOrElse(home, () => "/home/daytona")}/work`
    yield* step("create folder", "replayable", sandbox.fs.createFolder(dir, "755"))
    const uploaded = yield* step("upload", "replayable", sandbox.fs.uploadFile(`${dir}/data.txt`, fileText))
    yield* step("list files", "replayable", sandbox.fs.listFiles(dir))
    if (Option.isSome(uploaded)) {
      yield* step("file info", "replayable", sandbox.fs.getFileDetails(`${dir}/data.txt`))
      yield* step(
        "download",
        "replayable",
        Stream.runCollect(sandbox.fs.downloadFile(`${dir}/data.txt`)).pipe(
          Effect.map((chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8")),
          Effect.filterOrDieMessage((text) => text === fileText, "download: other bytes than the file's")
        )
      )
    } else skip("file info", "download")

    const cloned = yield* step("git clone", "unsafe", sandbox.git.clone(options.repositoryUrl, `${dir}/repo`))
    if (Option.isSome(cloned)) {
      yield* step("git status", "replayable", sandbox.git.status(`${dir}/repo`))
      const added = yield* step("git add", "replayable", sandbox.git.add(`${dir}/repo`, ["."]))
      if (Option.isSome(added)) {
        yield* step(
          "git commit",
          "unsafe",
          sandbox.git.commit(`${dir}/repo`, "from the workflow", "Fault", "fault@example.com", { allowEmpty: true })
        )
      } else skip("git commit")
    } else skip("git status", "git add", "git commit")

    yield* step("execute command", "unsafe", sandbox.process.executeCommand("echo hello"))
    yield* step("code run", "unsafe", sandbox.process.codeRun("print(6 * 7)"))

    const session = yield* step("create session", "replayable", sandbox.process.createSession("workflow"))
    const command = Option.isSome(session)
      ? yield* step(
          "session command",
          "unsafe",
          sandbox.process.executeSessionCommand("workflow", { command: logScript, runAsync: true })
        )
      : Option.none()
    if (Option.isSome(command)) {
      const commandId = command.value.cmdId
      yield* step(
        "follow logs",
        "replayable",
        Stream.runCollect(sandbox.process.followSessionCommandLogs("workflow", commandId)).pipe(
          Effect.map(Chunk.toReadonlyArray),
          Effect.tap((events) => checkFollowed(events))
        )
      )
      yield* step("session logs", "replayable", sandbox.process.getSessionCommandLogs("workflow", commandId))
    } else skip(...(Option.isSome(session) ? [] : ["session command"]), "follow logs", "session logs")

    yield* step("preview link", "replayable", sandbox.getPreviewLink(3000))
    const labelled = yield* step("set labels", "replayable", sandbox.setLabels({ ...sandbox.labels, stage: "done" }))
    if (Option.isSome(labelled)) sandbox = labelled.value
    yield* step("ssh access", "replayable", sandbox.createSshAccess({ expiresInMinutes: 5 }))
    yield* step("list", "replayable", Stream.runCollect(daytona.list({ labels: options.labels })))
    yield* step("stop", "replayable", sandbox.stop())
    yield* step("start", "replayable", sandbox.start())
    yield* step("stop again", "replayable", sandbox.stop())
    yield* step("archive", "replayable", sandbox.archive({ wait: true }))
    yield* step("delete", "replayable", sandbox.delete({ wait: true }))
    return { sandboxId: sandbox.id, steps: reports }
  })

/** A followed log must be the command's whole output, once, in order, ending with its exit code once. */
const checkFollowed = (events: ReadonlyArray<Process.SessionLogEvent>) =>
  Effect.suspend(() => {
    const stdout = events.map((event) => (event._tag === "Stdout" ? event.text : "")).join("")
    const stderr = events.map((event) => (event._tag === "Stderr" ? event.text : "")).join("")
    const exits = events.filter((event) => event._tag === "Exit")
    const last = events[events.length - 1]
    if (
      stdout !== expectedStdout ||
      stderr !== "done\n" ||
      exits.length !== 1 ||
      last?._tag !== "Exit" ||
      last.exitCode !== 3
    ) {
      return Effect.dieMessage(
        `follow logs: expected the whole log once with exit 3, got stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}, ${exits.length} exit(s) ${JSON.stringify(exits)}`
      )
    }
    return Effect.void
  })
