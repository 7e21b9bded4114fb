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
import type * as Scope from "effect/Scope"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as Bwrap from "./internal/bwrap.js"
import * as SandboxPath from "./internal/sandboxPath.js"
import { collect, type Group, signalGroup, type SpawnSpec } from "./internal/spawn.js"
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
 * A path the sandbox's processes could not use that way: outside the sandbox's own writable
 * directories (for a write), or private to its namespace (its `/proc`, other homes).
 *
 * @since 0.1.0
 * @category errors
 */
export class PathNotAccessible extends Data.TaggedError("PathNotAccessible")<{
  readonly sandboxId: string
  readonly path: string
  readonly access: "read" | "write"
  readonly message: string
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
  /**
   * The host path behind a path as the sandbox's processes see it (relative paths start at its
   * home, symbolic links are followed inside the sandbox's view). Under isolation, writes are
   * allowed only in its home and `/tmp`.
   */
  readonly resolvePath: (
    sandboxId: string,
    path: string,
    access: "read" | "write"
  ) => Effect.Effect<string, PathNotAccessible>
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
export const isolatedHome = Bwrap.isolatedHome

/**
 * Whether `bwrap` is installed and sandboxes can be isolated with it here.
 *
 * @since 0.1.0
 * @category utils
 */
export const bwrapAvailable: Effect.Effect<boolean> = Effect.map(Bwrap.probe, (enter) => enter !== undefined)

/**
 * Whether the sandboxes of an engine with this isolation are a security boundary, and the
 * warning to show when they are not.
 *
 * @since 0.1.0
 * @category utils
 */
export const securityNotice = (
  isolation: ResolvedIsolation
): { readonly securityBoundary: boolean; readonly warning?: string } =>
  isolation === "none"
    ? {
        securityBoundary: false,
        warning:
          "isolation is off: sandboxes are plain processes of this machine and not a security boundary; their home is the sandbox's directory and absolute paths are the machine's own"
      }
    : { securityBoundary: true }

const stopGrace = Duration.seconds(3)

/**
 * Builds an engine that keeps sandboxes under `<dataDir>/sandboxes/<id>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, EngineError, LocalConfig | Scope.Scope> = Effect.gen(function* () {
  const config = yield* LocalConfig
  const enter = config.isolation === "none" ? undefined : yield* Bwrap.probe
  if (config.isolation === "bwrap" && enter === undefined)
    return yield* new EngineError({ message: 'isolation "bwrap" was asked for, but bwrap is not usable here' })
  const isolation: ResolvedIsolation = enter === undefined ? "none" : "bwrap"
  const sandboxesDir = NodePath.join(config.dataDir, "sandboxes")
  const running = new Map<string, Bwrap.Holder | null>()
  const groups = new Map<string, Set<Group>>()
  const pgids = new Map<string, Set<number>>()

  const paths = (sandboxId: string): SandboxPaths => {
    const root = NodePath.join(sandboxesDir, sandboxId)
    const home = NodePath.join(root, "home")
    return { root, home, tmp: NodePath.join(root, "tmp"), homeInSandbox: isolation === "bwrap" ? isolatedHome : home }
  }

  const view = (p: SandboxPaths): SandboxPath.View =>
    isolation === "bwrap"
      ? {
          home: isolatedHome,
          mounts: [
            { inside: isolatedHome, host: p.home },
            { inside: "/tmp", host: p.tmp }
          ],
          hidden: ["/home", "/proc", "/dev"]
        }
      : { home: p.home, mounts: [{ inside: "/", host: "/" }], hidden: [] }

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

  /** Without isolation, background processes outlive their group's leader: end every group ever started. */
  const killLeftovers = (sandboxId: string) =>
    Effect.sync(() => {
      for (const pgid of pgids.get(sandboxId) ?? []) {
        try {
          process.kill(-pgid, "SIGKILL")
        } catch {
          // the group is gone
        }
      }
      pgids.delete(sandboxId)
    })

  const stop = (sandboxId: string, options?: { readonly force?: boolean | undefined }) =>
    Effect.suspend(() => {
      const holder = running.get(sandboxId)
      running.delete(sandboxId)
      return killAll(sandboxId, options?.force === true).pipe(
        Effect.zipRight(holder === undefined || holder === null ? killLeftovers(sandboxId) : Bwrap.stopHolder(holder))
      )
    })

  const startLock = yield* Effect.makeSemaphore(1)
  const start = (sandboxId: string) =>
    Effect.gen(function* () {
      if (running.has(sandboxId)) return
      const p = yield* provision(sandboxId)
      if (isolation === "none") {
        running.set(sandboxId, null)
        return
      }
      const holder = yield* Bwrap.startHolder(p.home, p.tmp).pipe(
        Effect.mapError((reason) => new EngineError({ message: `cannot isolate sandbox ${sandboxId}: ${reason}` }))
      )
      running.set(sandboxId, holder)
      void holder.exited.then(() => {
        if (running.get(sandboxId) === holder) running.delete(sandboxId)
      })
    }).pipe(startLock.withPermits(1))

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
    if (isolation === "none" && group.child.pid !== undefined) {
      let ids = pgids.get(sandboxId)
      if (ids === undefined) pgids.set(sandboxId, (ids = new Set()))
      ids.add(group.child.pid)
    }
    return () => {
      set.delete(group)
    }
  }

  // `exec "$@" 2>&1` merges stderr into stdout at the descriptor, so their order is kept.
  const merged = ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh"]
  const mergedIn = [
    "/bin/sh",
    "-c",
    'cd -- "$0" 2>/dev/null || { echo "chdir $0: no such file or directory"; exit 255; }; exec "$@" 2>&1'
  ]

  const isDirectory = (path: string) =>
    Effect.promise(() =>
      NodeFs.stat(path).then(
        (s) => s.isDirectory(),
        () => false
      )
    )

  const run = (sandboxId: string, options: RunOptions) =>
    Effect.gen(function* () {
      const holder = running.get(sandboxId)
      if (holder === undefined) return yield* new SandboxNotRunning({ sandboxId })
      const p = paths(sandboxId)
      const env = { ...baseEnv(p), ...options.env }
      const cwd = options.cwd === undefined || options.cwd === "" ? p.homeInSandbox : options.cwd
      let spec: SpawnSpec
      if (holder === null) {
        const dir = NodePath.resolve(p.home, cwd)
        if (!(yield* isDirectory(dir))) return { exitCode: -1, output: `chdir ${dir}: no such file or directory` }
        spec = { file: merged[0]!, args: [...merged.slice(1), ...options.argv], cwd: dir, env, stdin: options.stdin }
      } else {
        spec = {
          file: "nsenter",
          args: [
            ...Bwrap.enterArgs(holder, enter!),
            ...mergedIn,
            NodePath.posix.resolve(isolatedHome, cwd),
            ...options.argv
          ],
          cwd: p.home,
          env,
          stdin: options.stdin
        }
      }
      const spawned = collect(spec, track(sandboxId))
      const timeout = options.timeout
      return yield* timeout === undefined
        ? spawned
        : spawned.pipe(Effect.timeoutFail({ duration: timeout, onTimeout: () => new ProcessTimeout({ timeout }) }))
    })

  const resolvePath = (sandboxId: string, path: string, access: SandboxPath.Access) =>
    Effect.gen(function* () {
      const resolution = yield* Effect.promise(() => SandboxPath.resolve(view(paths(sandboxId)), path, access))
      if (resolution._tag === "Rejected")
        return yield* new PathNotAccessible({ sandboxId, path, access, message: resolution.reason })
      return resolution.hostPath
    })

  yield* Effect.addFinalizer(() =>
    Effect.forEach(Array.from(new Set([...groups.keys(), ...running.keys()])), (id) => stop(id, { force: true }), {
      discard: true
    })
  )

  return SandboxEngine.of({
    isolation,
    paths,
    provision,
    start,
    stop,
    destroy: (sandboxId) =>
      stop(sandboxId, { force: true }).pipe(
        Effect.zipRight(
          fs("cannot remove the sandbox's directory", () =>
            NodeFs.rm(paths(sandboxId).root, { recursive: true, force: true })
          )
        ),
        Effect.tap(() => Effect.sync(() => groups.delete(sandboxId)))
      ),
    isRunning: (sandboxId) => Effect.sync(() => running.has(sandboxId)),
    run,
    resolvePath
  })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SandboxEngine, EngineError, LocalConfig> = Layer.scoped(SandboxEngine, make)
