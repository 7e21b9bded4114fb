/**
 * The machinery behind the routes: each sandbox is a directory on this machine and the set of
 * processes started in it. Stopping a sandbox kills every one of its processes; deleting it removes
 * its directory.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { signalGroup, collect, type Group } from "./internal/spawn.js"
import { LocalConfig } from "./LocalConfig.js"

/**
 * The isolation a running engine uses (`auto` resolved).
 *
 * @since 0.1.0
 * @category models
 */
export type ResolvedIsolation = "none" | "bwrap"

/**
 * Where a sandbox lives. `home` and `tmp` are host paths; `homeInSandbox` is the home directory
 * as the sandbox's own processes see it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxPaths {
  readonly root: string
  readonly home: string
  readonly tmp: string
  readonly homeInSandbox: string
}

/**
 * A process to run in a sandbox. `cwd` is a path as the sandbox sees it (relative paths start at
 * its home); `env` is added to the sandbox's base environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  readonly argv: ReadonlyArray<string>
  readonly cwd?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly stdin?: string | undefined
  readonly timeout?: Duration.Duration | undefined
}

/**
 * What a finished process left: its exit code and its stdout and stderr, interleaved as written.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunResult {
  readonly exitCode: number
  readonly output: string
}

/**
 * The engine could not do what was asked of the machine.
 *
 * @since 0.1.0
 * @category errors
 */
export class EngineError extends Data.TaggedError("EngineError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * A process outlived its timeout and was killed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProcessTimeout extends Data.TaggedError("ProcessTimeout")<{
  readonly timeout: Duration.Duration
}> {}

/**
 * The sandbox is not started, so it cannot run processes.
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxNotRunning extends Data.TaggedError("SandboxNotRunning")<{
  readonly sandboxId: string
}> {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly isolation: ResolvedIsolation
  readonly paths: (sandboxId: string) => SandboxPaths
  /** Creates the sandbox's directories (idempotent). */
  readonly provision: (sandboxId: string) => Effect.Effect<SandboxPaths, EngineError>
  readonly start: (sandboxId: string) => Effect.Effect<void, EngineError>
  /** Kills every process of the sandbox: SIGTERM then, after a grace period, SIGKILL. */
  readonly stop: (sandboxId: string, options?: { readonly force?: boolean | undefined }) => Effect.Effect<void>
  /** Stops the sandbox and removes its directory. */
  readonly destroy: (sandboxId: string) => Effect.Effect<void, EngineError>
  readonly isRunning: (sandboxId: string) => Effect.Effect<boolean>
  readonly run: (
    sandboxId: string,
    options: RunOptions
  ) => Effect.Effect<RunResult, EngineError | ProcessTimeout | SandboxNotRunning>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class SandboxEngine extends Context.Tag("@effect-daytona/local/SandboxEngine")<SandboxEngine, Service>() {}

/**
 * The home directory of a sandbox as its processes see it under `bwrap`.
 *
 * @since 0.1.0
 * @category constants
 */
export const isolatedHome = "/home/daytona"

/**
 * Whether `bwrap` is installed and can create the namespaces it needs here.
 *
 * @since 0.1.0
 * @category utils
 */
export const bwrapAvailable: Effect.Effect<boolean> = Effect.async((resume) => {
  NodeChildProcess.execFile(
    "bwrap",
    ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-pid", "--die-with-parent", "true"],
    { timeout: 5000 },
    (error) => resume(Effect.succeed(error === null))
  )
})

const stopGrace = Duration.seconds(3)

/**
 * Builds an engine that keeps sandboxes under `<dataDir>/sandboxes/<id>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, EngineError, LocalConfig | import("effect/Scope").Scope> = Effect.gen(
  function* () {
    const config = yield* LocalConfig
    const isolation: ResolvedIsolation =
      config.isolation === "none"
        ? "none"
        : (yield* bwrapAvailable)
          ? "bwrap"
          : config.isolation === "bwrap"
            ? yield* new EngineError({ message: "isolation \"bwrap\" was asked for, but bwrap is not usable here" })
            : "none"
    const sandboxesDir = NodePath.join(config.dataDir, "sandboxes")
    const running = new Set<string>()
    const groups = new Map<string, Set<Group>>()

    const paths = (sandboxId: string): SandboxPaths => {
      const root = NodePath.join(sandboxesDir, sandboxId)
      const home = NodePath.join(root, "home")
      return { root, home, tmp: NodePath.join(root, "tmp"), homeInSandbox: isolation === "bwrap" ? isolatedHome : home }
    }

    const fs = <A>(what: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: (cause) => new EngineError({ message: `${what}: ${String(cause)}`, cause }) })

    const provision = (sandboxId: string) => {
      const p = paths(sandboxId)
      return fs("cannot create the sandbox's directories", async () => {
        await NodeFs.mkdir(p.home, { recursive: true })
        await NodeFs.mkdir(p.tmp, { recursive: true })
      }).pipe(Effect.as(p))
    }

    const killAll = (sandboxId: string, force: boolean) =>
      Effect.suspend(() => {
        const live = Array.from(groups.get(sandboxId) ?? [])
        if (live.length === 0) return Effect.void
        for (const group of live) signalGroup(group.child, force ? "SIGKILL" : "SIGTERM")
        const exited = Effect.promise(() => Promise.all(live.map((group) => group.exited)))
        return exited.pipe(
          Effect.timeout(stopGrace),
          Effect.catchAll(() => {
            for (const group of live) signalGroup(group.child, "SIGKILL")
            return exited
          }),
          Effect.asVoid
        )
      })

    const stop = (sandboxId: string, options?: { readonly force?: boolean | undefined }) =>
      Effect.suspend(() => {
        running.delete(sandboxId)
        return killAll(sandboxId, options?.force === true)
      })

    const baseEnv = (p: SandboxPaths): Record<string, string> => {
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: p.homeInSandbox,
        USER: "daytona",
        TMPDIR: isolation === "bwrap" ? "/tmp" : p.tmp
      }
      for (const key of ["LANG", "LC_ALL", "TERM", "PYENV_ROOT", "PYENV_VERSION"]) {
        const value = process.env[key]
        if (value !== undefined) env[key] = value
      }
      return env
    }

    const track = (sandboxId: string) => (group: Group) => {
      let set = groups.get(sandboxId)
      if (set === undefined) groups.set(sandboxId, (set = new Set()))
      set.add(group)
      return () => {
        set.delete(group)
      }
    }

    // `exec "$@" 2>&1` merges stderr into stdout at the descriptor, so their order is kept.
    const merged = ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh"]

    const run = (sandboxId: string, options: RunOptions) =>
      Effect.gen(function* () {
        if (!running.has(sandboxId)) return yield* new SandboxNotRunning({ sandboxId })
        const p = paths(sandboxId)
        const env = { ...baseEnv(p), ...options.env }
        const cwd = options.cwd === undefined || options.cwd === "" ? p.homeInSandbox : options.cwd
        const spec =
          isolation === "bwrap"
            ? {
                file: "bwrap",
                args: [
                  ...bwrapArgs(p),
                  "--chdir",
                  NodePath.posix.resolve(isolatedHome, cwd),
                  "--",
                  ...merged,
                  ...options.argv
                ],
                cwd: p.home,
                env,
                stdin: options.stdin
              }
            : {
                file: merged[0]!,
                args: [...merged.slice(1), ...options.argv],
                cwd: NodePath.resolve(p.home, cwd),
                env,
                stdin: options.stdin
              }
        if (isolation === "none") {
          const exists = yield* Effect.promise(() =>
            NodeFs.stat(spec.cwd).then(
              (s) => s.isDirectory(),
              () => false
            )
          )
          if (!exists) return { exitCode: -1, output: `chdir ${spec.cwd}: no such file or directory` }
        }
        const spawned = collect(spec, track(sandboxId))
        const timeout = options.timeout
        return yield* timeout === undefined
          ? spawned
          : spawned.pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => new ProcessTimeout({ timeout }) }))
      })

    yield* Effect.addFinalizer(() =>
      Effect.forEach(Array.from(groups.keys()), (id) => killAll(id, true), { discard: true })
    )

    return SandboxEngine.of({
      isolation,
      paths,
      provision,
      start: (sandboxId) =>
        provision(sandboxId).pipe(Effect.tap(() => Effect.sync(() => running.add(sandboxId))), Effect.asVoid),
      stop,
      destroy: (sandboxId) =>
        stop(sandboxId, { force: true }).pipe(
          Effect.zipRight(fs("cannot remove the sandbox's directory", () =>
            NodeFs.rm(paths(sandboxId).root, { recursive: true, force: true })
          )),
          Effect.tap(() => Effect.sync(() => groups.delete(sandboxId)))
        ),
      isRunning: (sandboxId) => Effect.sync(() => running.has(sandboxId)),
      run
    })
  }
)

const bwrapArgs = (p: SandboxPaths): ReadonlyArray<string> => [
  "--ro-bind",
  "/",
  "/",
  "--tmpfs",
  "/home",
  "--bind",
  p.home,
  isolatedHome,
  "--bind",
  p.tmp,
  "/tmp",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--unshare-pid",
  "--die-with-parent"
]

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SandboxEngine, EngineError, LocalConfig> = Layer.scoped(SandboxEngine, make)
