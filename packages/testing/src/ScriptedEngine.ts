/**
 * A `SandboxEngine` for tests that runs no processes: the test decides what each command prints
 * and returns. Files are real (under the layer's temporary data directory), laid out as a
 * Daytona sandbox sees them: the home directory is `/home/daytona`, `/tmp` is the sandbox's own,
 * and every other absolute path lives in the sandbox's private tree, never on the machine.
 *
 * @since 0.1.0
 */
import * as LocalConfig from "@effect-daytona/local/LocalConfig"
import * as SandboxEngine from "@effect-daytona/local/SandboxEngine"
import type * as SandboxInterpreter from "@effect-daytona/local/SandboxInterpreter"
import type * as SandboxTerminal from "@effect-daytona/local/SandboxTerminal"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as ScriptedInterpreter from "./internal/scriptedInterpreter.js"
import * as ScriptedTerminal from "./internal/scriptedTerminal.js"

/**
 * A command as the toolbox asked the engine to run it. `command` is `argv` joined by spaces:
 * `executeCommand("python3 main.py")` runs `["python3", "main.py"]`, a Python `codeRun` runs
 * `["python3", "-c", code]`, JavaScript `["node", "-e", code]`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CommandRun {
  readonly sandboxId: string
  readonly argv: ReadonlyArray<string>
  readonly command: string
  readonly cwd: string | undefined
  readonly env: Readonly<Record<string, string>>
  readonly stdin: string | undefined
  /** The server-side command timeout, when the caller gave one. */
  readonly timeout: Duration.Duration | undefined
}

/**
 * What a scripted command does. The toolbox answers `stdout` then `stderr` as one `result`
 * (Daytona merges them) with `exitCode` (default 0). With `delay` the command takes that long on
 * Effect's `Clock` (so `TestClock` drives it); a delay longer than the caller's command timeout
 * ends as a command timeout (`CommandTimeoutError` in the SDK).
 *
 * @since 0.1.0
 * @category models
 */
export interface CommandReply {
  readonly stdout?: string | undefined
  readonly stderr?: string | undefined
  readonly exitCode?: number | undefined
  readonly delay?: Duration.DurationInput | undefined
}

/**
 * A terminal as a script sees it: where it was opened, its environment and its current size
 * (changed by resizes).
 *
 * @since 0.1.0
 * @category models
 */
export interface TerminalSession {
  readonly sandboxId: string
  readonly cwd: string | undefined
  readonly env: Readonly<Record<string, string>>
  readonly cols: number
  readonly rows: number
}

/**
 * What a scripted terminal does with what was typed: print `output` (after `delay` on Effect's
 * `Clock`, when given), then end with `exitCode` when given.
 *
 * @since 0.1.0
 * @category models
 */
export interface TerminalReply {
  readonly output?: string | undefined
  readonly exitCode?: number | undefined
  readonly delay?: Duration.DurationInput | undefined
}

/**
 * A scripted terminal: called with each piece of input as it is typed (text, as the client sent it)
 * and the session; `undefined` prints nothing.
 *
 * @since 0.1.0
 * @category models
 */
export type TerminalScript = (input: string, session: TerminalSession) => TerminalReply | undefined

/**
 * What a terminal does when no script was given: it echoes what is typed, newlines as `\r\n`, as a
 * terminal in its default mode does, and never exits by itself.
 *
 * @since 0.1.0
 * @category constants
 */
export const echoTerminal: TerminalScript = (input) => ({ output: input.replace(/\r?\n/g, "\r\n") })

/**
 * A run of the code interpreter as the toolbox asked for it. `interpreter` numbers the interpreters
 * the engine started (from 1, in order): each context has its own, so a script can keep state per
 * context.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodeRun {
  readonly sandboxId: string
  readonly interpreter: number
  readonly code: string
  readonly env: Readonly<Record<string, string>>
  readonly cwd: string | undefined
}

/**
 * What a scripted run reports, in order: `stdout`, `stderr`, then `error` (an exception with name,
 * value and traceback). With `delay` the run takes that long on Effect's `Clock` before it reports
 * anything (so a run timeout shorter than the delay interrupts it). With `exitCode` the interpreter
 * process ends after the run, losing its state.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodeReply {
  readonly stdout?: string | undefined
  readonly stderr?: string | undefined
  readonly error?:
    | { readonly name: string; readonly value: string; readonly traceback?: string | undefined }
    | undefined
  readonly delay?: Duration.DurationInput | undefined
  readonly exitCode?: number | undefined
}

/**
 * Which runs a code script answers: the exact code, a `RegExp` tested against it, or a predicate on
 * the whole run.
 *
 * @since 0.1.0
 * @category models
 */
export type CodeMatch = string | RegExp | ((run: CodeRun) => boolean)

/**
 * The name of the error a run no script matches reports.
 *
 * @since 0.1.0
 * @category constants
 */
export const unscriptedCodeError = "NotScripted"

/**
 * Which commands a script answers: the exact `command` string, a `RegExp` tested against it, or a
 * predicate on the whole run.
 *
 * @since 0.1.0
 * @category models
 */
export type CommandMatch = string | RegExp | ((run: CommandRun) => boolean)

/**
 * Options of {@link Script.scriptCommand}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptOptions {
  /** How many runs the script answers; default: every run. */
  readonly times?: number | undefined
}

/**
 * The scripts of one engine and the commands it was asked to run.
 *
 * @since 0.1.0
 * @category models
 */
export interface Script {
  /**
   * Answers matching commands with `reply` (a value, or a function of the run). The most
   * recently added script that matches wins, so a test can override an earlier one.
   */
  readonly scriptCommand: (
    match: CommandMatch,
    reply: CommandReply | ((run: CommandRun) => CommandReply),
    options?: ScriptOptions
  ) => Effect.Effect<void>
  /** Every command run so far, oldest first. */
  readonly commands: Effect.Effect<ReadonlyArray<CommandRun>>
  /** What terminals opened from now on do with their input (default: {@link echoTerminal}). */
  readonly scriptTerminal: (script: TerminalScript) => Effect.Effect<void>
  /**
   * Answers matching interpreter runs with `reply`; the most recently added script that matches
   * wins. A run no script matches reports a `NotScripted` error naming the code.
   */
  readonly scriptCode: (
    match: CodeMatch,
    reply: CodeReply | ((run: CodeRun) => CodeReply),
    options?: ScriptOptions
  ) => Effect.Effect<void>
  /** Every interpreter run so far, oldest first. */
  readonly codeRuns: Effect.Effect<ReadonlyArray<CodeRun>>
  /**
   * The TCP ports a sandbox reports listening on from now on (toolbox `GET /port` and
   * `/port/{port}/in-use`), while it is started; none until a test says so.
   */
  readonly scriptPorts: (sandboxId: string, ports: ReadonlyArray<number>) => Effect.Effect<void>
}

interface Rule {
  readonly match: CommandMatch
  readonly reply: CommandReply | ((run: CommandRun) => CommandReply)
  remaining: number
}

/**
 * A script together with the function the engine asks for each run's reply.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScriptedCommands extends Script {
  /** Records the run and returns the reply of the newest matching script (or the unscripted one). */
  readonly answer: (run: CommandRun) => CommandReply
  /** Records the interpreter run and returns the reply of the newest matching code script. */
  readonly answerCode: (run: CodeRun) => CodeReply
  /** The terminal script in force. */
  readonly terminal: () => TerminalScript
  /** The ports last scripted for a sandbox. */
  readonly portsOf: (sandboxId: string) => ReadonlyArray<number>
}

/**
 * What a command no script matches answers: exit code 127 and a message naming the command.
 *
 * @since 0.1.0
 * @category constants
 */
export const unscriptedExitCode = 127

/**
 * A new, empty script.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeScript: Effect.Effect<ScriptedCommands> = Effect.sync(() => {
  const rules: Array<Rule> = []
  const runs: Array<CommandRun> = []
  const codeRules: Array<{
    readonly match: CodeMatch
    readonly reply: CodeReply | ((run: CodeRun) => CodeReply)
    remaining: number
  }> = []
  const codeRuns: Array<CodeRun> = []
  let terminal = echoTerminal
  const ports = new Map<string, ReadonlyArray<number>>()
  const test = (match: CommandMatch, run: CommandRun) =>
    typeof match === "string" ? match === run.command : match instanceof RegExp ? match.test(run.command) : match(run)
  const testCode = (match: CodeMatch, run: CodeRun) =>
    typeof match === "string" ? match === run.code : match instanceof RegExp ? match.test(run.code) : match(run)
  return {
    scriptTerminal: (script) => Effect.sync(() => void (terminal = script)),
    terminal: () => terminal,
    scriptPorts: (sandboxId, listening) =>
      Effect.sync(
        () =>
          void ports.set(
            sandboxId,
            Array.from(new Set(listening)).sort((a, b) => a - b)
          )
      ),
    portsOf: (sandboxId) => ports.get(sandboxId) ?? [],
    scriptCode: (match, reply, options) =>
      Effect.sync(() => {
        codeRules.push({ match, reply, remaining: options?.times ?? Number.POSITIVE_INFINITY })
      }),
    codeRuns: Effect.sync(() => codeRuns.slice()),
    answerCode: (run) => {
      codeRuns.push(run)
      for (let i = codeRules.length - 1; i >= 0; i--) {
        const rule = codeRules[i]!
        if (rule.remaining <= 0 || !testCode(rule.match, run)) continue
        rule.remaining--
        return typeof rule.reply === "function" ? rule.reply(run) : rule.reply
      }
      return {
        error: {
          name: unscriptedCodeError,
          value: `no script matches ${JSON.stringify(run.code)}; add one with DaytonaTest.scriptCode`
        }
      }
    },
    scriptCommand: (match, reply, options) =>
      Effect.sync(() => {
        rules.push({ match, reply, remaining: options?.times ?? Number.POSITIVE_INFINITY })
      }),
    commands: Effect.sync(() => runs.slice()),
    answer: (run) => {
      runs.push(run)
      for (let i = rules.length - 1; i >= 0; i--) {
        const rule = rules[i]!
        if (rule.remaining <= 0 || !test(rule.match, run)) continue
        rule.remaining--
        return typeof rule.reply === "function" ? rule.reply(run) : rule.reply
      }
      return {
        stderr: `${run.argv[0] ?? ""}: command not found (no script matches ${JSON.stringify(run.command)}; add one with DaytonaTest.scriptCommand)\n`,
        exitCode: unscriptedExitCode
      }
    }
  }
})

/** The sandbox's home as its processes see it, as in Daytona's images. */
const home = "/home/daytona"

/**
 * An engine answering commands from `script`, with each sandbox's files under
 * `<dataDir>/sandboxes/<id>/fs`. Directories are created synchronously so that creating a
 * sandbox does no asynchronous I/O (which would race `TestClock.adjust`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  script: Pick<ScriptedCommands, "answer" | "answerCode" | "terminal" | "portsOf">
): Effect.Effect<SandboxEngine.Service, never, LocalConfig.LocalConfig> =>
  Effect.gen(function* () {
    const config = yield* LocalConfig.LocalConfig
    const running = new Set<string>()
    let interpreters = 0
    /** How to end each terminal and interpreter of a sandbox, as stopping it ends its processes. */
    const live = new Map<string, Set<Effect.Effect<void>>>()
    const track = <A extends { readonly kill: Effect.Effect<void> }>(sandboxId: string, opened: A) =>
      Effect.sync(() => {
        let kills = live.get(sandboxId)
        if (kills === undefined) live.set(sandboxId, (kills = new Set()))
        kills.add(opened.kill)
        return opened
      })
    const endAll = (sandboxId: string) =>
      Effect.suspend(() => {
        const kills = [...(live.get(sandboxId) ?? [])]
        live.delete(sandboxId)
        return Effect.all(kills, { discard: true })
      })
    const paths = (sandboxId: string): SandboxEngine.SandboxPaths => {
      const root = NodePath.join(config.dataDir, "sandboxes", sandboxId)
      const fs = NodePath.join(root, "fs")
      return { root, home: NodePath.join(fs, home), tmp: NodePath.join(fs, "tmp"), homeInSandbox: home }
    }
    const provision = (sandboxId: string) =>
      Effect.try({
        try: () => {
          const p = paths(sandboxId)
          NodeFs.mkdirSync(p.home, { recursive: true })
          NodeFs.mkdirSync(p.tmp, { recursive: true })
          return p
        },
        catch: (cause) => new SandboxEngine.EngineError({ message: `cannot create the sandbox's directories`, cause })
      })
    const run = (sandboxId: string, options: SandboxEngine.RunOptions) =>
      Effect.gen(function* () {
        if (!running.has(sandboxId)) return yield* new SandboxEngine.SandboxNotRunning({ sandboxId })
        const reply = script.answer({
          sandboxId,
          argv: options.argv,
          command: options.argv.join(" "),
          cwd: options.cwd,
          env: options.env ?? {},
          stdin: options.stdin,
          timeout: options.timeout
        })
        const delay = reply.delay === undefined ? Duration.zero : Duration.decode(reply.delay)
        const timeout = options.timeout
        if (timeout !== undefined && Duration.greaterThan(delay, timeout)) {
          yield* Effect.sleep(timeout)
          return yield* new SandboxEngine.ProcessTimeout({ timeout })
        }
        if (Duration.greaterThan(delay, Duration.zero)) yield* Effect.sleep(delay)
        return { exitCode: reply.exitCode ?? 0, output: (reply.stdout ?? "") + (reply.stderr ?? "") }
      })
    const resolvePath = (sandboxId: string, path: string, access: "read" | "write") => {
      const inside = NodePath.posix.resolve(home, path)
      return inside.startsWith("/proc/") || inside === "/proc"
        ? Effect.fail(
            new SandboxEngine.PathNotAccessible({ sandboxId, path, access, message: "private to the sandbox" })
          )
        : Effect.succeed(NodePath.join(paths(sandboxId).root, "fs", inside))
    }
    const view = (sandboxId: string): SandboxEngine.SandboxView => ({
      home,
      mounts: [{ inside: "/", host: NodePath.join(paths(sandboxId).root, "fs"), writable: true }],
      hidden: ["/proc"],
      checkPermissions: false
    })
    const notEnforced = { enforced: false, how: "a scripted engine runs no processes" }
    const paused = new Set<string>()
    const notStarted = (sandboxId: string) =>
      new SandboxEngine.EngineError({ message: `sandbox ${sandboxId} is not started` })
    return SandboxEngine.SandboxEngine.of({
      // The layout is Daytona's (home at /home/daytona, /tmp its own), as under bwrap; no process runs.
      isolation: "bwrap",
      limits: {
        mechanism: "rlimits",
        memory: notEnforced,
        processes: notEnforced,
        cpu: notEnforced,
        fileSize: notEnforced,
        disk: notEnforced,
        networkBlockAll: notEnforced,
        networkAllowList: notEnforced,
        networkIsolation: notEnforced
      },
      paths,
      provision,
      start: (sandboxId) => Effect.map(provision(sandboxId), () => void running.add(sandboxId)),
      stop: (sandboxId) =>
        Effect.zipRight(
          Effect.sync(() => {
            running.delete(sandboxId)
            paused.delete(sandboxId)
          }),
          endAll(sandboxId)
        ),
      destroy: (sandboxId) =>
        Effect.zipRight(
          endAll(sandboxId),
          Effect.try({
            try: () => {
              running.delete(sandboxId)
              NodeFs.rmSync(paths(sandboxId).root, { recursive: true, force: true })
            },
            catch: (cause) => new SandboxEngine.EngineError({ message: "cannot remove the sandbox's directory", cause })
          })
        ),
      isRunning: (sandboxId) => Effect.sync(() => running.has(sandboxId)),
      run,
      prepare: (sandboxId, plumbing) =>
        Effect.gen(function* () {
          if (!running.has(sandboxId)) return yield* new SandboxEngine.SandboxNotRunning({ sandboxId })
          const directory = NodePath.join(paths(sandboxId).root, "fs", NodePath.posix.resolve(home, plumbing.directory))
          yield* Effect.try({
            try: () => {
              NodeFs.mkdirSync(directory, { recursive: plumbing.parents })
              for (const file of plumbing.files) NodeFs.writeFileSync(NodePath.join(directory, file), "")
              for (const fifo of plumbing.fifos)
                NodeChildProcess.execFileSync("mkfifo", ["-m", "600", NodePath.join(directory, fifo)])
            },
            catch: (cause) => new SandboxEngine.EngineError({ message: `cannot create ${plumbing.directory}`, cause })
          })
        }),
      resolvePath,
      view,
      resize: () => Effect.void,
      checkNetwork: () => Effect.void,
      listeningPorts: (sandboxId) => Effect.sync(() => (running.has(sandboxId) ? script.portsOf(sandboxId) : [])),
      connect: (sandboxId, port) =>
        Effect.fail(
          new SandboxEngine.PortNotReachable({
            status: 502,
            message: `nothing listens on port ${port} of sandbox ${sandboxId}: a scripted engine runs no processes`
          })
        ),
      openTerminal: (sandboxId, options: SandboxTerminal.Options) =>
        running.has(sandboxId)
          ? Effect.flatMap(
              ScriptedTerminal.make(script.terminal(), {
                sandboxId,
                cwd: options.cwd,
                env: options.env ?? {},
                cols: options.cols,
                rows: options.rows
              }),
              (terminal) => track(sandboxId, terminal)
            )
          : Effect.fail(new SandboxEngine.SandboxNotRunning({ sandboxId })),
      startInterpreter: (sandboxId, options: SandboxInterpreter.Options) =>
        running.has(sandboxId)
          ? Effect.flatMap(
              ScriptedInterpreter.make(script.answerCode, { sandboxId, interpreter: ++interpreters, cwd: options.cwd }),
              (interpreter) => track(sandboxId, interpreter)
            )
          : Effect.fail(new SandboxEngine.SandboxNotRunning({ sandboxId })),
      pausing: { mechanism: "sigstop", how: "a scripted engine runs no processes: pausing only records the state" },
      pause: (sandboxId) =>
        running.has(sandboxId) ? Effect.sync(() => void paused.add(sandboxId)) : Effect.fail(notStarted(sandboxId)),
      resume: (sandboxId) =>
        running.has(sandboxId) ? Effect.sync(() => void paused.delete(sandboxId)) : Effect.fail(notStarted(sandboxId)),
      usage: (sandboxId) => Effect.sync(() => (running.has(sandboxId) ? { cpuSeconds: 0, memoryBytes: 0 } : undefined))
    })
  })

/**
 * The engine as a layer, for `LocalDaytona.layerServices(config, url, { engine })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  script: Pick<ScriptedCommands, "answer" | "answerCode" | "terminal" | "portsOf">
): Layer.Layer<SandboxEngine.SandboxEngine, never, LocalConfig.LocalConfig> =>
  Layer.effect(SandboxEngine.SandboxEngine, make(script))
