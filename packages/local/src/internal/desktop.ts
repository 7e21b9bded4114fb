import type { ProcessStatus } from "@effect-daytona/sdk/ComputerUseDto"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as NodePath from "node:path"
import { SandboxEngine } from "../SandboxEngine.js"
import { badRequest, DaemonError, internal, notFound } from "./daemonError.js"
import { type DesktopProcess, type DesktopState, desktopOf, displayRunning } from "./desktopState.js"
import * as DesktopTools from "./desktopTools.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { SandboxesService } from "./sandboxes.js"
import { viewOf } from "./toolboxFs.js"
import { pause, runInSandbox, sandboxTmp } from "./toolboxRoute.js"

/** The screen Daytona's desktop has unless `VNC_RESOLUTION` says otherwise. */
export const defaultResolution = { width: 1024, height: 768 }

/** How long the X server may take to accept clients. */
const displayReadyMillis = 10_000
/** How long a process may take to end after SIGTERM before it is killed. */
const terminateGrace = Duration.seconds(3)

/** 400 `COMPUTER_USE_NOT_INSTALLED`: a tool the feature needs is missing; the message names the Debian packages. */
export const notInstalled = (hint: string) =>
  new DaemonError({
    status: 400,
    code: "COMPUTER_USE_NOT_INSTALLED",
    message: `computer use is not available: ${hint}`
  })

/** 400 `COMPUTER_USE_NOT_STARTED`: the route needs the desktop, which is not running. */
export const notStarted = (sandboxId: string) =>
  new DaemonError({
    status: 400,
    code: "COMPUTER_USE_NOT_STARTED",
    message: `computer use is not started in sandbox ${sandboxId}: start it first (POST /computeruse/start)`
  })

/** 400 `COMPUTER_USE_NOT_STARTED`: the desktop was stopped or restarted while the request ran. */
export const stoppedMeanwhile = (sandboxId: string) =>
  new DaemonError({
    status: 400,
    code: "COMPUTER_USE_NOT_STARTED",
    message: `computer use in sandbox ${sandboxId} was stopped or restarted while the request ran: try again once it runs`
  })

/** The tools this machine has, as the server detected them at start. */
export const toolSupport = Effect.map(SandboxesService, (sandboxes) => sandboxes.desktopTools)

/** Fails with the install hint when this machine lacks a tool `feature` needs; else the tools' paths. */
export const requireFeature = (feature: DesktopTools.Feature) =>
  Effect.flatMap(toolSupport, (support) => {
    const hint = DesktopTools.installHint(support, feature)
    return hint === undefined ? Effect.succeed(support.paths) : Effect.fail(notInstalled(hint))
  })

/**
 * The desktop of a sandbox, for a route that needs it running: fails with the install hint when
 * the feature's tools are missing, then with `COMPUTER_USE_NOT_STARTED` when it is not running.
 */
export const runningDesktop = (sandbox: SandboxRecord, feature: DesktopTools.Feature) =>
  Effect.gen(function* () {
    const paths = yield* requireFeature(feature)
    const state = yield* desktopOf(sandbox.id)
    if (!displayRunning(state)) return yield* notStarted(sandbox.id)
    return { state, paths }
  })

/**
 * Runs a tool against the sandbox's display, inside the sandbox; a failure is the tool's output,
 * or `COMPUTER_USE_NOT_STARTED` when the display went away meanwhile.
 */
export const runTool = (
  sandbox: SandboxRecord,
  state: DesktopState,
  argv: ReadonlyArray<string>,
  options: { readonly timeout?: Duration.Duration | undefined; readonly cwd?: string | undefined } = {}
) => {
  const generation = state.generation
  return runInSandbox(sandbox, argv, {
    env: { DISPLAY: state.display ?? ":0" },
    timeout: options.timeout ?? Duration.seconds(30),
    cwd: options.cwd
  }).pipe(
    Effect.flatMap((result) =>
      result.exitCode === 0
        ? Effect.succeed(result.output)
        : Effect.flatMap(desktopGone(state, generation), (gone) => {
            if (gone) return Effect.fail(stoppedMeanwhile(sandbox.id))
            const output = result.output.trim()
            return Effect.fail(
              internal(
                `${NodePath.basename(argv[0] ?? "tool")} failed (exit code ${result.exitCode})${output === "" ? "" : `: ${output.slice(-1000)}`}`
              )
            )
          })
    )
  )
}

/** How long a failed tool waits for the end of the X server to be noticed before blaming the tool. */
const goneWindowMillis = 500

/**
 * Whether the desktop went away while a tool ran (it was stopped or restarted since `generation`,
 * or its sandbox stopped): a tool that fails then is answered as `COMPUTER_USE_NOT_STARTED`, not as
 * a server error. The X server's end
 * is noticed a moment after the tool's, so this waits a little for it.
 */
export const desktopGone = (state: DesktopState, generation: number) =>
  Effect.promise(async () => {
    if (state.generation !== generation) return true
    const xvfb = state.processes.get("xvfb")
    if (xvfb?.running === true)
      await Promise.race([xvfb.ended, new Promise((resolve) => setTimeout(resolve, goneWindowMillis))])
    return state.generation !== generation || !displayRunning(state)
  })

/** The size of the screen: the sandbox's `VNC_RESOLUTION` (`WIDTHxHEIGHT`), else 1024×768. */
const resolutionOf = (sandbox: SandboxRecord) => {
  const asked = sandbox.env["VNC_RESOLUTION"]
  if (asked === undefined || asked === "") return Effect.succeed(defaultResolution)
  const match = /^(\d{2,4})x(\d{2,4})$/.exec(asked.trim())
  const width = Number(match?.[1])
  const height = Number(match?.[2])
  return match !== null && width >= 16 && height >= 16 && width <= 8192 && height <= 8192
    ? Effect.succeed({ width, height })
    : Effect.fail(badRequest(`VNC_RESOLUTION must be WIDTHxHEIGHT, each from 16 to 8192 (got ${asked})`))
}

const readSmall = (sandbox: SandboxRecord, path: string) =>
  Effect.flatMap(viewOf(sandbox), (view) =>
    Effect.promise(() =>
      SandboxFs.readTail(view, path, 4096).then(
        (tail) => tail.bytes.toString("utf8"),
        () => ""
      )
    )
  )

/** The end of a file the sandbox wrote (logs), read without following a final link. */
export const readLog = (sandbox: SandboxRecord, path: string, maxBytes = 1024 * 1024) =>
  Effect.flatMap(viewOf(sandbox), (view) =>
    Effect.promise(() =>
      SandboxFs.readTail(view, path, maxBytes).then(
        (tail) => tail.bytes.toString("utf8"),
        () => ""
      )
    )
  )

/**
 * Starts a process of the desktop inside the sandbox: a shell writes its pid (as the sandbox sees
 * it) to `<dir>/<name>.pid`, sends its output to `<name>.log` and `<name>.err` in `dir`, then
 * becomes the command. The fiber that waits for it is the server's handle on it.
 */
export const supervise = (
  sandbox: SandboxRecord,
  process: DesktopProcess,
  dir: string,
  argv: ReadonlyArray<string>,
  options: { readonly env?: Readonly<Record<string, string>>; readonly extra?: string } = {}
) =>
  Effect.gen(function* () {
    let ended = () => {}
    process.ended = new Promise((resolve) => (ended = resolve))
    process.running = true
    process.pid = undefined
    const name = process.name
    const script = `d=$0; echo $$ > "$d/${name}.pid" || exit 126; exec "$@" >>"$d/${name}.log" 2>>"$d/${name}.err"${options.extra ?? ""}`
    const run = runInSandbox(sandbox, ["/bin/sh", "-c", script, dir, ...argv], { env: options.env }).pipe(
      Effect.ignore,
      Effect.ensuring(
        Effect.sync(() => {
          process.running = false
          ended()
        })
      )
    )
    process.fiber = yield* Effect.forkDaemon(run)
  })

/** Reads the pid a supervised process's shell wrote, waiting a little for it. */
export const readPid = (sandbox: SandboxRecord, process: DesktopProcess, dir: string) =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 100 && process.running; attempt++) {
      const text = (yield* readSmall(sandbox, NodePath.posix.join(dir, `${process.name}.pid`))).trim()
      if (/^\d{1,9}$/.test(text)) {
        process.pid = Number(text)
        return
      }
      yield* pause(20)
    }
  })

/**
 * Ends a process of the desktop: SIGTERM inside the sandbox (so that ffmpeg finishes its file),
 * then, when it has not ended within the grace period, a kill of everything it started.
 */
export const terminate = (sandbox: SandboxRecord, process: DesktopProcess, grace: Duration.Duration = terminateGrace) =>
  Effect.gen(function* () {
    if (!process.running) return
    if (process.pid !== undefined)
      yield* runInSandbox(sandbox, ["/bin/sh", "-c", 'kill -TERM "$0"', String(process.pid)]).pipe(Effect.ignore)
    const ended = yield* Effect.promise(() => process.ended).pipe(Effect.timeout(grace), Effect.option)
    if (ended._tag === "None" && process.fiber !== undefined) yield* Fiber.interrupt(process.fiber)
  })

const newProcess = (name: string, priority: number): DesktopProcess => ({
  name,
  priority,
  pid: undefined,
  running: false,
  fiber: undefined,
  ended: Promise.resolve()
})

/**
 * Runs the X server on a display whose abstract socket name it holds. An X client tries the
 * abstract name `@/tmp/.X11-unix/X<n>` before the display's file, and abstract names belong to
 * the network namespace, which sandboxes share with the machine: another sandbox listening there
 * would receive this sandbox's clients (their keystrokes, their windows). So the first display
 * whose name can be bound is taken, the name is kept bound but never listened on (a client
 * trying it is refused at once and goes on to the file under this sandbox's `/tmp`), and the
 * X server inherits the bound socket, so the name is held exactly as long as the server runs.
 */
const displayHolder = [
  "import os, socket, sys",
  "for n in range(32768):",
  "    if os.path.lexists('/tmp/.X%d-lock' % n) or os.path.lexists('/tmp/.X11-unix/X%d' % n):",
  "        continue",
  "    held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
  "    try:",
  "        held.bind('\\0/tmp/.X11-unix/X%d' % n)",
  "    except OSError:",
  "        held.close()",
  "        continue",
  "    held.set_inheritable(True)",
  "    os.execv(sys.argv[1], [sys.argv[1], ':%d' % n] + sys.argv[2:])",
  "sys.exit('no free X display: every abstract socket name from :0 to :32767 is taken')"
].join("\n")

/** Starts the X server and waits until it accepts clients (it says which display it took). */
const startDisplay = (
  sandbox: SandboxRecord,
  state: DesktopState,
  paths: { readonly xvfb: string; readonly python3: string }
) =>
  Effect.gen(function* () {
    const { width, height } = yield* resolutionOf(sandbox)
    const engine = yield* SandboxEngine
    const tmp = yield* sandboxTmp(sandbox)
    state.logDir = NodePath.posix.join(engine.paths(sandbox.id).homeInSandbox, ".daytona", "computeruse")
    state.scratchDir = NodePath.posix.join(tmp.inside, ".daytona-computeruse")
    // The directories are the server's plumbing in the sandbox: whatever the sandbox left at their
    // names that is not a directory (a link, a file) is removed, then they are made afresh.
    const prepared = yield* runInSandbox(sandbox, [
      "/bin/sh",
      "-c",
      'for d in "$0" "$1"; do if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then rm -f -- "$d"; fi; done; mkdir -p -- "$0" "$1" && rm -f -- "$0/xvfb.display"',
      state.logDir,
      state.scratchDir
    ])
    if (prepared.exitCode !== 0)
      return yield* badRequest(`cannot create the desktop's directories in the sandbox: ${prepared.output.trim()}`)
    const process = state.processes.get("xvfb") ?? newProcess("xvfb", 100)
    state.processes.set("xvfb", process)
    state.generation++
    state.display = undefined
    state.width = width
    state.height = height
    // -displayfd writes the display's number once the server accepts clients; no TCP and no
    // abstract socket listened on: the only way in is the socket under the sandbox's own /tmp.
    yield* supervise(
      sandbox,
      process,
      state.logDir,
      [
        paths.python3,
        "-c",
        displayHolder,
        paths.xvfb,
        "-displayfd",
        "3",
        "-screen",
        "0",
        `${width}x${height}x24`,
        "-nolisten",
        "tcp",
        "-nolisten",
        "local",
        "-noreset"
      ],
      { extra: ' 3>"$d/xvfb.display"' }
    )
    const displayFile = NodePath.posix.join(state.logDir, "xvfb.display")
    const deadline = Date.now() + displayReadyMillis
    while (Date.now() < deadline && process.running) {
      const text = (yield* readSmall(sandbox, displayFile)).trim()
      if (/^\d{1,4}$/.test(text)) {
        state.display = `:${text}`
        yield* readPid(sandbox, process, state.logDir)
        return
      }
      yield* pause(25)
    }
    const errors = (yield* readLog(sandbox, NodePath.posix.join(state.logDir, "xvfb.err"), 2000)).trim()
    if (process.fiber !== undefined) yield* Fiber.interrupt(process.fiber)
    return yield* internal(
      `the X server (Xvfb) did not start${process.running ? " in time" : ""}${errors === "" ? "" : `: ${errors}`}`
    )
  })

/** Each process's status, by name, as `start`, `stop` and `process-status` report it. */
export const statusMap = (state: DesktopState): Record<string, typeof ProcessStatus.Encoded> =>
  Object.fromEntries(
    [...state.processes.values()].map((process) => [
      process.name,
      {
        running: process.running,
        priority: process.priority,
        autoRestart: false,
        ...(process.running && process.pid !== undefined ? { pid: process.pid } : {})
      }
    ])
  )

/** Waits (real time, at most `millis`) until `ready` holds or the process has ended. */
const waitFor = (process: DesktopProcess, millis: number, ready: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    const deadline = Date.now() + millis
    while (Date.now() < deadline && process.running) {
      if (yield* ready) return true
      yield* pause(25)
    }
    return false
  })

/**
 * Starts the accessibility stack: a D-Bus session bus and the AT-SPI bus launcher, their sockets
 * under the sandbox's own `/tmp` (paths, never abstract sockets, which the machine's network
 * namespace would share). When it cannot start, the desktop runs without it and the accessibility
 * routes say why.
 */
const startAccessibility = (
  sandbox: SandboxRecord,
  state: DesktopState,
  paths: { readonly dbus: string; readonly atspiBus: string }
) =>
  Effect.gen(function* () {
    const runDir = NodePath.posix.join(state.scratchDir, "r")
    const bus = NodePath.posix.join(state.scratchDir, "bus")
    const prepared = yield* runInSandbox(sandbox, [
      "/bin/sh",
      "-c",
      'mkdir -p -m 700 -- "$0" && rm -f -- "$1"',
      runDir,
      bus
    ])
    if (prepared.exitCode !== 0) return
    const view = yield* viewOf(sandbox)
    const dbus = state.processes.get("dbus") ?? newProcess("dbus", 200)
    state.processes.set("dbus", dbus)
    yield* supervise(sandbox, dbus, state.logDir, [paths.dbus, "--session", "--nofork", `--address=unix:path=${bus}`])
    const listening = yield* waitFor(
      dbus,
      5000,
      Effect.promise(() => SandboxFs.exists(view, bus))
    )
    yield* readPid(sandbox, dbus, state.logDir)
    if (!listening) return
    const address = `unix:path=${bus}`
    const atspi = state.processes.get("atspi") ?? newProcess("atspi", 250)
    state.processes.set("atspi", atspi)
    yield* supervise(sandbox, atspi, state.logDir, [paths.atspiBus, "--launch-immediately"], {
      env: { DISPLAY: state.display!, DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runDir }
    })
    const launched = yield* waitFor(
      atspi,
      5000,
      Effect.promise(() =>
        SandboxFs.list(view, NodePath.posix.join(runDir, "at-spi")).then(
          (entries) => entries.some((entry) => entry.name.startsWith("bus")),
          () => false
        )
      )
    )
    yield* readPid(sandbox, atspi, state.logDir)
    if (launched) state.busAddress = address
  })

/** The names of the desktop's processes on this machine. */
export const processNames = Effect.map(
  toolSupport,
  (support): ReadonlyArray<string> =>
    DesktopTools.installHint(support, "accessibility") === undefined ? ["xvfb", "dbus", "atspi"] : ["xvfb"]
)

/** 404 for a process the desktop does not have, naming those it has. */
export const unknownProcess = (name: string, known: ReadonlyArray<string>) =>
  Effect.fail(notFound(`process ${name} not found (the local server's desktop runs: ${known.join(", ")})`))

/** Where the desktop's logs live, as the sandbox sees it (`~/.daytona/computeruse`). */
export const logDirOf = (sandbox: SandboxRecord) =>
  Effect.map(SandboxEngine, (engine) =>
    NodePath.posix.join(engine.paths(sandbox.id).homeInSandbox, ".daytona", "computeruse")
  )

const startAll = (sandbox: SandboxRecord, state: DesktopState) =>
  Effect.gen(function* () {
    const support = yield* toolSupport
    const paths = support.paths
    if (!displayRunning(state)) yield* startDisplay(sandbox, state, { xvfb: paths.xvfb!, python3: paths.python3! })
    const accessible = DesktopTools.installHint(support, "accessibility") === undefined
    if (accessible && state.busAddress === undefined)
      yield* startAccessibility(sandbox, state, { dbus: paths.dbus!, atspiBus: paths.atspiBus! })
  })

const stopProcesses = (sandbox: SandboxRecord, state: DesktopState, names?: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    state.generation++
    if (names === undefined) state.display = undefined
    const processes = [...state.processes.values()]
      .filter((process) => names === undefined || names.includes(process.name))
      .sort((a, b) => b.priority - a.priority)
    for (const process of processes) yield* terminate(sandbox, process)
    if (names === undefined || names.includes("dbus") || names.includes("atspi")) state.busAddress = undefined
  })

/** Starts the desktop (idempotent): the X server, then the accessibility bus where this machine has it. */
export const start = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    yield* requireFeature("desktop")
    const state = yield* desktopOf(sandbox.id)
    yield* state.lock.withPermits(1)(startAll(sandbox, state))
    return state
  })

/** Stops every process of the desktop (recordings first, the X server last). */
export const stop = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const state = yield* desktopOf(sandbox.id)
    yield* state.lock.withPermits(1)(
      Effect.gen(function* () {
        for (const recording of state.recordings.values()) {
          const process = recording.process
          if (recording.status !== "recording" || process === undefined) continue
          recording.status = "completed"
          yield* terminate(sandbox, process, Duration.seconds(10))
          const end = new Date()
          recording.endTime = end.toISOString()
          recording.durationSeconds = (end.getTime() - Date.parse(recording.startTime)) / 1000
          recording.process = undefined
        }
        yield* stopProcesses(sandbox, state)
      })
    )
    return state
  })

/**
 * Restarts one process of the desktop: the X server restarts the whole desktop, the D-Bus and
 * AT-SPI buses restart together.
 */
export const restart = (sandbox: SandboxRecord, name: string) =>
  Effect.gen(function* () {
    yield* requireFeature("desktop")
    const state = yield* desktopOf(sandbox.id)
    yield* state.lock.withPermits(1)(
      Effect.gen(function* () {
        yield* stopProcesses(sandbox, state, name === "xvfb" ? undefined : ["dbus", "atspi"])
        yield* startAll(sandbox, state)
      })
    )
  })

/** `active` when every process runs, `partial` when some do, `inactive` when none does. */
export const overallStatus = (state: DesktopState): "active" | "partial" | "inactive" => {
  const processes = [...state.processes.values()]
  const running = processes.filter((process) => process.running).length
  if (processes.length > 0 && running === processes.length && displayRunning(state)) return "active"
  return running > 0 ? "partial" : "inactive"
}
