/**
 * The machinery behind the routes: each sandbox is a directory on this machine and the set of
 * processes started in it, held in a control group (when the machine allows) with the sandbox's
 * limits. Under bubblewrap each sandbox also has its own user, mount, PID, IPC and UTS namespaces
 * (and network namespace when it is cut off), with root inside mapped to an unprivileged id
 * outside. Stopping a sandbox kills every one of its processes; deleting it removes its directory.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as NodeChildProcess from "node:child_process"
import * as NodeCrypto from "node:crypto"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import * as Bwrap from "./internal/bwrap.js"
import * as Cgroups from "./internal/cgroups.js"
import { spawnInteractive } from "./internal/interactive.js"
import * as InterpreterWorker from "./internal/interpreterWorker.js"
import * as EgressListener from "./internal/egressListener.js"
import * as EgressTrust from "./internal/egressTrust.js"
import { isEnvironmentName } from "./internal/environment.js"
import * as Processes from "./internal/processes.js"
import * as Reaper from "./internal/reaper.js"
import * as UsageOf from "./internal/processUsage.js"
import * as SandboxFs from "./internal/sandboxFs.js"
import { PathFailure } from "./internal/sandboxPath.js"
import { childStdio, collect, type Group, signalGroup, type SpawnSpec } from "./internal/spawn.js"
import * as TerminalRelay from "./internal/terminalRelay.js"
import * as TreeRemoval from "./internal/treeRemoval.js"
import * as UserNetwork from "./internal/userNetwork.js"
import * as VolumeMounts from "./internal/volumeMounts.js"
import { LocalConfig, type SandboxNetwork } from "./LocalConfig.js"
import type * as SandboxInterpreter from "./SandboxInterpreter.js"
import type * as SandboxTerminal from "./SandboxTerminal.js"

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
 * A host directory a sandbox sees at `inside`: its own (writable) or the machine's (read-only).
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxMount {
  readonly inside: string
  readonly host: string
  readonly writable: boolean
}

/**
 * How a sandbox sees the file system, for the toolbox's file operations: they resolve every path
 * inside this view, component by component, so links the sandbox plants never lead the server
 * outside it. `hidden` prefixes are private to the sandbox's processes (its `/proc`); `identity`
 * is the host uid and gid of the sandbox's root, which files created for it get; with
 * `checkPermissions` the server (running as root) applies the sandbox's own permissions on
 * read-only mounts; `diskQuota` bounds what toolbox writes may add to `quotaRoots`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxView {
  readonly home: string
  readonly mounts: ReadonlyArray<SandboxMount>
  readonly hidden: ReadonlyArray<string>
  readonly identity?: { readonly uid: number; readonly gid: number } | undefined
  readonly checkPermissions: boolean
  readonly diskQuota?: number | undefined
  readonly quotaRoots?: ReadonlyArray<SandboxMount> | undefined
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
 * What a finished process left: its exit code and its stdout and stderr, interleaved as written
 * (the last 10 MiB, after a line saying how much was cut when it printed more).
 *
 * @since 0.1.0
 * @category models
 */
export interface RunResult {
  readonly exitCode: number
  readonly output: string
}

/**
 * What a sandbox may use, as Daytona counts it: CPUs, memory and disk in GiB.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resources {
  readonly cpu: number
  readonly memory: number
  readonly disk: number
}

/**
 * A sandbox's network settings, as stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface NetworkSettings {
  readonly blockAll: boolean
  readonly allowList?: string | null | undefined
  readonly domainAllowList?: string | null | undefined
}

/**
 * How a sandbox starts: its resources and network settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface StartOptions {
  readonly resources?: Resources | undefined
  readonly network?: NetworkSettings | undefined
  /**
   * The egress proxy the sandbox goes out through (secrets, allow lists): under isolation its only
   * way out; required whenever the network settings hold an allow list.
   */
  readonly egress?: EgressOptions | undefined
  /** Volume directories to bind into the sandbox (isolation only). */
  readonly volumes?: ReadonlyArray<VolumeMount> | undefined
}

/**
 * How a sandbox reaches its egress proxy: the engine makes a listener the sandbox (and only it) can
 * reach, hands every connection to `accept`, points the sandbox's programs at it and makes them
 * trust the proxy's authority; `close` is called when the sandbox stops.
 *
 * @since 0.1.0
 * @category models
 */
export interface EgressOptions {
  readonly accept: (socket: NodeNet.Socket) => void
  readonly close: () => void
  /** The proxy's authority certificate (PEM file). */
  readonly caFile: string
  /** The machine's CA bundle followed by that certificate (PEM file). */
  readonly bundleFile: string
}

/**
 * A volume to bind: its directory on this machine, a subpath in it, and where the sandbox sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface VolumeMount {
  readonly root: string
  readonly subpath?: string | undefined
  readonly mountPath: string
}

/**
 * Whether one kind of limit holds on this machine, and how.
 *
 * @since 0.1.0
 * @category models
 */
export interface LimitReport {
  readonly enforced: boolean
  readonly how: string
}

/**
 * Which limits the engine enforces on this machine (reported by `GET /api/config` and at start).
 *
 * @since 0.1.0
 * @category models
 */
export interface LimitsReport {
  readonly mechanism: "cgroup-v2" | "cgroup-v1" | "rlimits"
  readonly memory: LimitReport
  readonly processes: LimitReport
  readonly cpu: LimitReport
  readonly fileSize: LimitReport
  readonly disk: LimitReport
  readonly networkBlockAll: LimitReport
  readonly networkAllowList: LimitReport
  /**
   * Whether a sandbox without network rules has a network of its own (`slirp4netns`), or shares
   * the machine's (its loopback services and those of every other such sandbox reachable).
   */
  readonly networkIsolation: LimitReport
  /** Why control groups are not used, when they are not. */
  readonly cgroupsUnavailable?: string | undefined
}

/**
 * How the engine pauses a sandbox here: its control group's freezer (v2 `cgroup.freeze`, v1
 * `freezer`), else SIGSTOP and SIGCONT to every process it tracks for the sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export interface PauseReport {
  readonly mechanism: "cgroup-v2-freeze" | "cgroup-v1-freezer" | "sigstop"
  readonly how: string
}

/**
 * What the processes of a started sandbox use: CPU time spent (seconds, by the processes alive
 * now) and resident memory (bytes).
 *
 * @since 0.1.0
 * @category models
 */
export interface ProcessUsage {
  readonly cpuSeconds: number
  readonly memoryBytes: number
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
 * A process outlived its timeout and was killed (with every process it started).
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
 * Network settings this engine cannot enforce: refused rather than stored and ignored.
 *
 * @since 0.1.0
 * @category errors
 */
export class NetworkNotEnforced extends Data.TaggedError("NetworkNotEnforced")<{
  readonly message: string
}> {}

/**
 * A preview connection that cannot reach the sandbox's port: nothing of the sandbox listens there
 * (502) or the sandbox is not running (400).
 *
 * @since 0.1.0
 * @category errors
 */
export class PortNotReachable extends Data.TaggedError("PortNotReachable")<{
  readonly status: 400 | 502
  readonly message: string
}> {}

/**
 * Files the server itself needs inside a sandbox (see `Service.prepare`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Plumbing {
  /** The directory, as the sandbox sees it. */
  readonly directory: string
  /** Whether missing parents are created too. */
  readonly parents: boolean
  /** Empty files to create in it. */
  readonly files: ReadonlyArray<string>
  /** FIFOs to create in it (mode 600). */
  readonly fifos: ReadonlyArray<string>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly isolation: ResolvedIsolation
  /** Which limits hold on this machine. */
  readonly limits: LimitsReport
  readonly paths: (sandboxId: string) => SandboxPaths
  /** Creates the sandbox's directories (idempotent). */
  readonly provision: (sandboxId: string) => Effect.Effect<SandboxPaths, EngineError>
  readonly start: (sandboxId: string, options?: StartOptions) => Effect.Effect<void, EngineError>
  /** Kills every process of the sandbox: SIGTERM to the commands then, after a grace period (or at once with `force`), SIGKILL to all. */
  readonly stop: (sandboxId: string, options?: { readonly force?: boolean | undefined }) => Effect.Effect<void>
  /** Stops the sandbox and removes its directory. */
  readonly destroy: (sandboxId: string) => Effect.Effect<void, EngineError>
  readonly isRunning: (sandboxId: string) => Effect.Effect<boolean>
  readonly run: (
    sandboxId: string,
    options: RunOptions
  ) => Effect.Effect<RunResult, EngineError | ProcessTimeout | SandboxNotRunning>
  /**
   * Creates the server's own plumbing inside a running sandbox (a session's directory, its log file
   * and FIFOs) as the sandbox's processes would, so that it belongs to the sandbox's user and stays
   * inside its view. Fails with the reason when it cannot.
   */
  readonly prepare: (
    sandboxId: string,
    plumbing: Plumbing
  ) => Effect.Effect<void, EngineError | ProcessTimeout | SandboxNotRunning>
  /**
   * The host path behind a path as the sandbox's processes see it (relative paths start at its
   * home, symbolic links are followed inside the sandbox's view). Under isolation, writes are
   * allowed only in its home and `/tmp`. For checks only: file operations go through `view`.
   */
  readonly resolvePath: (
    sandboxId: string,
    path: string,
    access: "read" | "write"
  ) => Effect.Effect<string, PathNotAccessible>
  /** How the sandbox sees the file system (see `SandboxView`). */
  readonly view: (sandboxId: string) => SandboxView
  /** Applies new resources to a running sandbox (and to its next start). */
  readonly resize: (sandboxId: string, resources: Resources) => Effect.Effect<void>
  /**
   * Fails when these network settings cannot be enforced for the sandbox (a running one keeps the
   * network it started with); `sandboxId` is undefined for a sandbox being created.
   */
  readonly checkNetwork: (
    sandboxId: string | undefined,
    settings: NetworkSettings
  ) => Effect.Effect<void, NetworkNotEnforced>
  /**
   * The TCP ports on which a process of a started sandbox listens, ascending (none when it is not
   * started); the server's own sockets in its namespace (the egress proxy's) are not the sandbox's.
   */
  readonly listeningPorts: (sandboxId: string) => Effect.Effect<ReadonlyArray<number>>
  /** A connection to a port the sandbox listens on (for the preview proxy); never to anything else. */
  readonly connect: (sandboxId: string, port: number) => Effect.Effect<NodeNet.Socket, PortNotReachable>
  /**
   * Opens a pseudo-terminal with an interactive shell in a running sandbox, as one of its processes
   * (its namespaces, control group, limits and user); it dies with the sandbox.
   */
  readonly openTerminal: (
    sandboxId: string,
    options: SandboxTerminal.Options
  ) => Effect.Effect<SandboxTerminal.Terminal, EngineError | SandboxNotRunning>
  /**
   * Starts a stateful Python interpreter in a running sandbox, as one of its processes; it dies with
   * the sandbox. Fails when it cannot start (no `python3`, a working directory that does not exist).
   */
  readonly startInterpreter: (
    sandboxId: string,
    options: SandboxInterpreter.Options
  ) => Effect.Effect<SandboxInterpreter.Interpreter, EngineError | SandboxNotRunning>
  /** How `pause` works on this machine (reported by `GET /api/config`). */
  readonly pausing: PauseReport
  /** Freezes every process of a started sandbox: none makes progress until `resume` (or a stop). */
  readonly pause: (sandboxId: string) => Effect.Effect<void, EngineError>
  /** Thaws the processes `pause` froze. */
  readonly resume: (sandboxId: string) => Effect.Effect<void, EngineError>
  /** What the processes of a started sandbox use now; undefined when it is not started. */
  readonly usage: (sandboxId: string) => Effect.Effect<ProcessUsage | undefined>
}

const quoted = (name: string) => `"$0/${name.replace(/["\\$`]/g, "\\$&")}"`

/** The shell script that makes `plumbing` inside a sandbox; its directory is `$0`. */
const plumbingScript = (plumbing: Plumbing) =>
  [
    `mkdir ${plumbing.parents ? "-p " : ""}-- "$0"`,
    ...plumbing.files.map((file) => `: > ${quoted(file)}`),
    ...(plumbing.fifos.length === 0 ? [] : [`mkfifo -m 600 -- ${plumbing.fifos.map(quoted).join(" ")}`])
  ].join(" && ")

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
export const bwrapAvailable: Effect.Effect<boolean> = Effect.map(Bwrap.probe, (reason) => reason === undefined)

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

/**
 * The resources of a sandbox started without any (Daytona's `daytona-small`).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultResources: Resources = { cpu: 1, memory: 1, disk: 3 }

const GiB = 1024 * 1024 * 1024

/** Tasks (processes and threads) a sandbox may have per CPU. */
export const tasksPerCpu = 128

const limitsOf = (resources: Resources): Cgroups.Limits => ({
  memoryBytes: Math.round(resources.memory * GiB),
  tasks: Math.max(tasksPerCpu, Math.round(resources.cpu * tasksPerCpu)),
  cpus: resources.cpu
})

/** The host uid (and gid) of a sandbox's root when the server runs as root: one of its own, from its id. */
export const sandboxUid = (sandboxId: string): number =>
  0x60000000 + (NodeCrypto.createHash("sha256").update(sandboxId).digest().readUInt32BE(0) & 0xffffff)

/** How long stopping waits for processes to end after SIGTERM (real time). */
const stopGrace = 3000

/** Waits (real time, at most `millis`) until every group has exited. */
const exitsWithin = (groups: ReadonlyArray<Group>, millis: number) =>
  Effect.promise(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    return Promise.race([
      Promise.all(groups.map((group) => group.exited)),
      new Promise((resolve) => (timer = setTimeout(resolve, millis)))
    ]).finally(() => clearTimeout(timer))
  })

const closeAll = (fds: ReadonlyArray<number>) => {
  for (const fd of fds) {
    try {
      NodeFsSync.closeSync(fd)
    } catch {
      // already closed
    }
  }
}

/**
 * Whether a process of another (unprivileged) uid can join a control group through a descriptor
 * this process opened: the kernel checks the opener's rights (Linux 5.16 and later, and v1).
 */
const joinsThroughDescriptor = async (support: Cgroups.Support, uid: number): Promise<boolean> => {
  const group = await support.create(`probe-${NodeCrypto.randomUUID()}`, { memoryBytes: GiB, tasks: 16, cpus: 1 })
  const fds = group.procsFiles.map((file) => NodeFsSync.openSync(file, "w"))
  try {
    return await new Promise<boolean>((resolve) => {
      const script = fds.map((_, i) => `echo $$ >&${3 + i}`).join(" && ")
      const child = NodeChildProcess.spawn("/bin/sh", ["-c", script], {
        stdio: childStdio(["ignore", "ignore", "ignore"], fds),
        uid,
        gid: uid
      })
      child.once("error", () => resolve(false))
      child.once("exit", (code) => resolve(code === 0))
    })
  } finally {
    closeAll(fds)
    await group.kill()
    await group.remove()
  }
}

/** A real-time pause (not the Effect `Clock`): waiting for processes of the machine to die. */
const pause = (millis: number) =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(timer))
  })

const blockAllRefused =
  'networkBlockAll is not enforced with isolation "none": the local server cuts a sandbox off the network only under bubblewrap isolation'
const allowListRefused = `network allow lists are not enforced with isolation "none": the local server enforces them with its egress proxy only under bubblewrap isolation, where the proxy is the sandbox's only way out`
const egressRequired = "network allow lists need the egress proxy, which was not given to the engine"
const volumesRefused = `volumes are not mounted with isolation "none": without a mount namespace the local server cannot place a volume at its mount path`
const restartNeeded =
  "the network of a started sandbox cannot change on the local server: stop the sandbox, change its network settings, then start it"

/** The program that, in a sandbox's network namespace, opens connections for the preview proxy and hands them over. */
const relayProgram = `const net=require("net");const dial=(m,hosts)=>{const s=net.connect(m.port,hosts[0]);s.once("connect",()=>{s.pause();process.send({id:m.id,ok:true},s)});s.once("error",(e)=>hosts.length>1?dial(m,hosts.slice(1)):process.send({id:m.id,ok:false,error:String(e.code)}))};process.on("message",(m)=>dial(m,["127.0.0.1","::1"]));process.on("disconnect",()=>process.exit(0))`

/** Opens connections inside one sandbox's network namespace. */
interface Relay {
  readonly connect: (port: number) => Promise<NodeNet.Socket>
  readonly close: () => void
}

const startRelay = (argv: ReadonlyArray<string>): Relay => {
  const child = NodeChildProcess.spawn(argv[0]!, argv.slice(1), {
    stdio: childStdio(["ignore", "ignore", "ignore"], ["ipc"])
  })
  const pending = new Map<number, { resolve: (socket: NodeNet.Socket) => void; reject: (error: Error) => void }>()
  let next = 0
  const failAll = (reason: string) => {
    for (const entry of pending.values()) entry.reject(new Error(reason))
    pending.clear()
  }
  child.on("message", (message: { id?: unknown; ok?: unknown; error?: unknown }, handle: unknown) => {
    const entry = typeof message.id === "number" ? pending.get(message.id) : undefined
    if (entry === undefined) {
      if (handle instanceof NodeNet.Socket) handle.destroy()
      return
    }
    pending.delete(message.id as number)
    if (message.ok === true && handle instanceof NodeNet.Socket) entry.resolve(handle)
    else entry.reject(new Error(String(message.error ?? "refused")))
  })
  child.on("error", () => failAll("the network relay could not start"))
  child.on("exit", () => failAll("the network relay ended"))
  return {
    connect: (port) =>
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error("the network relay ended"))
        const id = next++
        pending.set(id, { resolve, reject })
        child.send({ id, port }, (error) => {
          if (error !== null && error !== undefined) {
            pending.delete(id)
            reject(error)
          }
        })
      }),
    close: () => {
      failAll("the sandbox stopped")
      if (child.exitCode === null) child.kill("SIGKILL")
    }
  }
}

/** Everything the engine holds for a started sandbox. */
interface Running {
  readonly holder: Bwrap.Holder | undefined
  readonly group: Cgroups.SandboxGroup | undefined
  /** The group's `cgroup.procs` files, open for writing, handed to each command. */
  readonly groupFds: ReadonlyArray<number>
  resources: Resources
  readonly network: "host" | "none" | "egress" | "private"
  readonly spawned: Set<Group>
  /** The way out of a sandbox with a network of its own, while it runs. */
  userNetwork?: UserNetwork.UserNetwork
  relay: Relay | undefined
  /** Ports found held by the sandbox: when, and the address that reaches its socket. */
  readonly listeners: Map<number, { readonly checkedAt: number; readonly host: string }>
  /**
   * The latest scan of the sockets its processes hold: shared by every caller while it runs and
   * for a while after, so no number of requests makes the server scan more than one at a time.
   */
  heldSockets?: { readonly inodes: Promise<Set<string>>; finishedAt: number | undefined }
  /** The egress proxy's listener, its port as the sandbox reaches it, and the proxy. */
  readonly egress?: { readonly listener: NodeNet.Server; readonly port: number; readonly options: EgressOptions }
  /** Open directories of the mounted volumes, and where the sandbox sees each. */
  readonly volumes?: ReadonlyArray<{ readonly handle: NodeFs.FileHandle; readonly inside: string }>
  /** Whether `pause` froze its processes. */
  paused: boolean
}

/** Connects to a port of the machine's loopback: 127.0.0.1 or ::1, the address of the socket found. */
const connectTcp = (port: number, host: string) =>
  new Promise<NodeNet.Socket>((resolve, reject) => {
    const socket = NodeNet.connect(port, host)
    socket.once("connect", () => {
      socket.off("error", reject)
      resolve(socket)
    })
    socket.once("error", reject)
  })

/**
 * Whether sandboxes without network rules get networks of their own here: `slirp4netns`'s path
 * (tried once on a throwaway sandbox), or why they share the machine's.
 */
const userNetworkOf = (
  asked: SandboxNetwork,
  isolated: boolean,
  asRoot: boolean
): Effect.Effect<Either.Either<string, string>> =>
  Effect.gen(function* () {
    if (asked === "shared") return Either.left('so configured (sandboxNetwork "shared")')
    if (!isolated) return Either.left("a network of its own needs bubblewrap isolation")
    const program = UserNetwork.find()
    if (program === undefined)
      return Either.left(
        "slirp4netns is not installed (Debian package slirp4netns), so no sandbox has a network of its own"
      )
    const problem = yield* Bwrap.probeHolder("none", (holder) =>
      Effect.runPromise(
        UserNetwork.attach(program, holder, asRoot, Bwrap.directLaunch).pipe(
          Effect.flatMap((network) => network.close),
          Effect.as(undefined),
          Effect.catchAll((reason) => Effect.succeed(reason))
        )
      )
    )
    return problem === undefined
      ? Either.right(program)
      : Either.left(`slirp4netns does not work here (${problem}), so no sandbox has a network of its own`)
  })

/**
 * Builds an engine that keeps sandboxes under `<dataDir>/sandboxes/<id>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, EngineError, LocalConfig | Scope.Scope> = Effect.gen(function* () {
  const config = yield* LocalConfig
  const unusable = config.isolation === "none" ? "not asked for" : yield* Bwrap.probe
  if (config.isolation === "bwrap" && unusable !== undefined)
    return yield* new EngineError({
      message: `isolation "bwrap" was asked for, but bwrap is not usable here: ${unusable}`
    })
  const isolation: ResolvedIsolation = unusable === undefined ? "bwrap" : "none"
  const asRoot = process.geteuid?.() === 0
  const cgroups =
    config.resourceLimits === "rlimits"
      ? "disabled by configuration (--limits rlimits)"
      : yield* Effect.promise(Cgroups.detect)
  const support = typeof cgroups === "string" ? undefined : cgroups
  if (support !== undefined)
    yield* Effect.acquireRelease(
      Effect.sync(() => Reaper.start(support.bases)),
      (reaper) => Effect.sync(reaper.release)
    )
  /** Whether commands join the sandbox's group from inside, through descriptors; otherwise a launcher does it as root. */
  const joinThroughDescriptors =
    support === undefined || !asRoot || unusable !== undefined
      ? true
      : yield* Effect.promise(() => joinsThroughDescriptor(support, 65534).catch(() => false))
  /** `slirp4netns`'s path when sandboxes get networks of their own, else why they share the machine's. */
  const userNetwork = yield* userNetworkOf(config.sandboxNetwork, unusable === undefined, asRoot)
  if (config.sandboxNetwork === "private" && userNetwork._tag === "Left")
    return yield* new EngineError({
      message: `sandbox network "private" was asked for, but it cannot be made here: ${userNetwork.left}`
    })
  const resolvConfFile = NodePath.join(config.dataDir, "user-network-resolv.conf")
  /** Whether sandboxes with a network of their own get our resolver file: only over one the machine has. */
  const replaceResolvConf = userNetwork._tag === "Right" && NodeFsSync.existsSync("/etc/resolv.conf")
  if (userNetwork._tag === "Right")
    yield* Effect.tryPromise({
      try: async () => {
        await NodeFs.mkdir(config.dataDir, { recursive: true })
        await NodeFs.writeFile(resolvConfFile, UserNetwork.resolvConf, { mode: 0o644 })
      },
      catch: (cause) => new EngineError({ message: `cannot write ${resolvConfFile}: ${String(cause)}`, cause })
    })
  const sandboxesDir = NodePath.join(config.dataDir, "sandboxes")
  const running = new Map<string, Running>()
  const known = new Map<string, Resources>()
  const startLock = yield* Effect.makeSemaphore(1)

  /** Hidden from sandboxes: the data directory, when one of the system paths they see holds it. */
  const hide = Bwrap.systemEntries.some((e) => config.dataDir === e.path || config.dataDir.startsWith(`${e.path}/`))
    ? [config.dataDir]
    : []

  const identityOf = (sandboxId: string) =>
    isolation === "none"
      ? undefined
      : asRoot
        ? { uid: sandboxUid(sandboxId), gid: sandboxUid(sandboxId) }
        : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
  const rootIdentity = (sandboxId: string) => (asRoot && isolation === "bwrap" ? identityOf(sandboxId) : undefined)

  const paths = (sandboxId: string): SandboxPaths => {
    const root = NodePath.join(sandboxesDir, sandboxId)
    const home = NodePath.join(root, "home")
    return { root, home, tmp: NodePath.join(root, "tmp"), homeInSandbox: isolation === "bwrap" ? isolatedHome : home }
  }

  const limits: LimitsReport = (() => {
    const controllers = support?.controllers
    const group = support === undefined ? "" : `cgroup ${support.version}`
    const perUid = asRoot && isolation === "bwrap"
    return {
      mechanism: support === undefined ? "rlimits" : support.version === "v2" ? "cgroup-v2" : "cgroup-v1",
      memory: controllers?.memory
        ? { enforced: true, how: `${group}: the requested memory, no swap, for all of a sandbox's processes together` }
        : { enforced: true, how: "rlimit: each process's address space is limited to the requested memory" },
      processes: controllers?.pids
        ? { enforced: true, how: `${group}: ${tasksPerCpu} tasks (processes and threads) per requested CPU` }
        : perUid
          ? { enforced: true, how: `rlimit on the sandbox's own uid: ${tasksPerCpu} tasks per requested CPU` }
          : { enforced: false, how: "not enforced: no pids control group here, and sandboxes share a uid" },
      cpu: controllers?.cpu
        ? { enforced: true, how: `${group}: CPU time quota of the requested CPUs` }
        : { enforced: false, how: "not enforced: no cpu control group here" },
      fileSize: { enforced: true, how: "rlimit: no process can write a file larger than the requested disk" },
      disk: {
        enforced: true,
        how: "toolbox writes (uploads, replace) are refused when the sandbox's files would exceed the requested disk; processes are held by the file-size limit only"
      },
      networkBlockAll:
        isolation === "bwrap"
          ? { enforced: true, how: "its own network namespace with only a loopback interface" }
          : { enforced: false, how: `refused with 400: ${blockAllRefused}` },
      networkAllowList:
        isolation === "bwrap"
          ? {
              enforced: true,
              how: `the egress proxy: a sandbox with allow lists or secrets has its own network namespace whose only way out is the proxy on 127.0.0.1:${EgressListener.egressPort}, which allows a destination when its name matches domainAllowList or its address networkAllowList`
            }
          : { enforced: false, how: `refused with 400: ${allowListRefused}` },
      networkIsolation:
        userNetwork._tag === "Right"
          ? {
              enforced: true,
              how: "its own network namespace, out through slirp4netns (user-mode NAT; DNS at 10.0.2.3): the machine's and other sandboxes' loopback services and abstract sockets are out of reach"
            }
          : { enforced: false, how: `the machine's network, shared: ${userNetwork.left}` },
      ...(typeof cgroups === "string" ? { cgroupsUnavailable: cgroups } : {})
    }
  })()

  const fs = <A>(what: string, f: () => Promise<A>) =>
    Effect.tryPromise({ try: f, catch: (cause) => new EngineError({ message: `${what}: ${String(cause)}`, cause }) })

  /** Gives a tree to the sandbox's uid (once: when it was created by another kind of server). */
  const chownTree = async (path: string, uid: number, gid: number): Promise<void> => {
    const status = await NodeFs.lstat(path)
    await NodeFs.lchown(path, uid, gid)
    if (!status.isDirectory()) return
    for (const name of await NodeFs.readdir(path)) await chownTree(NodePath.join(path, name), uid, gid)
  }

  const provision = (sandboxId: string) => {
    const p = paths(sandboxId)
    const owner = rootIdentity(sandboxId)
    return fs("cannot create the sandbox's directories", async () => {
      await NodeFs.mkdir(p.root, { recursive: true, mode: 0o700 })
      await NodeFs.mkdir(p.home, { recursive: true })
      await NodeFs.mkdir(p.tmp, { recursive: true })
      if (owner !== undefined)
        for (const dir of [p.home, p.tmp])
          if ((await NodeFs.stat(dir)).uid !== owner.uid) await chownTree(dir, owner.uid, owner.gid)
    }).pipe(Effect.as(p))
  }

  /**
   * How every process of a sandbox starts on the machine: a shell that puts itself in the
   * sandbox's control group and sets the file-size limit (plus the address-space and process
   * limits where no control group holds them), then becomes the command.
   */
  /** `prlimit` before a command, for the limits no control group holds here. */
  const rlimitPrefix = (resources: Resources, sandboxId: string): Array<string> => {
    const limits = limitsOf(resources)
    const rlimits = [
      ...(support?.controllers.memory ? [] : [`--as=${limits.memoryBytes}`]),
      ...(support?.controllers.pids || rootIdentity(sandboxId) === undefined ? [] : [`--nproc=${limits.tasks}`])
    ]
    return rlimits.length === 0 ? [] : [Bwrap.programs.prlimit, ...rlimits, "--"]
  }

  const fileSizeBlocks = (resources: Resources) => String(Math.floor((resources.disk * GiB) / 512))

  /**
   * How the holder (and, where a process of the sandbox's uid cannot join the group through a
   * descriptor, every command) starts on the machine: a shell that puts itself in the sandbox's
   * control group by path and sets the file-size limit, then becomes the command.
   */
  /**
   * A shell that puts itself in the group by path, runs `setup` (which takes its own arguments,
   * `args`, and shifts them away), then becomes the command.
   */
  const groupShell =
    (group: Cgroups.SandboxGroup | undefined, setup: string, args: ReadonlyArray<string>): Bwrap.Launch =>
    (argv) => {
      const files = group?.procsFiles ?? []
      return {
        file: "/bin/sh",
        args: [
          "-c",
          `n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; n=$((n-1)); shift; done; ${setup}exec "$@"`,
          "sh",
          String(files.length),
          ...files,
          ...args,
          ...argv
        ]
      }
    }

  const launcher = (group: Cgroups.SandboxGroup | undefined, resources: Resources, sandboxId: string): Bwrap.Launch =>
    groupShell(group, 'ulimit -f "$1" || exit 125; shift; ', [
      fileSizeBlocks(resources),
      ...rlimitPrefix(resources, sandboxId)
    ])

  /** How a helper of the server that works for a sandbox starts: in the sandbox's control group only. */
  const intoGroup = (group: Cgroups.SandboxGroup | undefined): Bwrap.Launch => groupShell(group, "", [])

  /** Restarts allowed to a sandbox's network that ended while the sandbox ran, per start. */
  const networkRestarts = 5

  /**
   * Gives a started sandbox its way out and keeps it: a `slirp4netns` that ends while the sandbox
   * still runs (crashed by what the sandbox sent, or killed by its memory limit) is started again,
   * a few times at most.
   */
  const keepNetwork = (
    sandboxId: string,
    entry: Running,
    program: string,
    restartsLeft: number
  ): Effect.Effect<UserNetwork.UserNetwork, string> =>
    Effect.tap(UserNetwork.attach(program, entry.holder!, asRoot, intoGroup(entry.group)), (attached) =>
      Effect.sync(() => {
        void attached.exited.then(() => {
          if (running.get(sandboxId) !== entry || entry.userNetwork !== attached || restartsLeft <= 0) return
          Effect.runFork(
            keepNetwork(sandboxId, entry, program, restartsLeft - 1).pipe(
              // A stop that came meanwhile has already closed what it found: this one is closed here.
              Effect.tap((again) =>
                running.get(sandboxId) === entry ? Effect.sync(() => void (entry.userNetwork = again)) : again.close
              ),
              Effect.ignore
            )
          )
        })
      })
    )

  const marker = (sandboxId: string) => `DAYTONA_SANDBOX_ID=${sandboxId}`

  /** Every process of a sandbox on the machine, by the best means this machine offers. */
  const pidsOf = async (sandboxId: string, r: Running): Promise<Array<number>> => {
    if (r.group !== undefined) return r.group.pids()
    if (r.holder !== undefined) return Processes.pidsInNamespace(r.holder.pidNamespace)
    return Processes.pidsWithEnv(marker(sandboxId))
  }
  const processesOf = (sandboxId: string, r: Running) => Effect.promise(() => pidsOf(sandboxId, r))

  const pausing: PauseReport =
    support?.controllers.freezer === true
      ? support.version === "v2"
        ? { mechanism: "cgroup-v2-freeze", how: "the sandbox's control group is frozen (cgroup v2 cgroup.freeze)" }
        : { mechanism: "cgroup-v1-freezer", how: "the sandbox's control group is frozen (cgroup v1 freezer)" }
      : {
          mechanism: "sigstop",
          how: "SIGSTOP to every process the server tracks for the sandbox (again until none appears), SIGCONT on resume"
        }

  /** Freezes or thaws a sandbox's processes by the mechanism `pausing` names. */
  const setFrozen = (sandboxId: string, r: Running, frozen: boolean) =>
    fs(`cannot ${frozen ? "pause" : "resume"} sandbox ${sandboxId}`, async () => {
      const freeze = r.group?.freeze
      if (freeze !== undefined) await freeze(frozen)
      else if (frozen) await UsageOf.stopAll(() => pidsOf(sandboxId, r))
      else await UsageOf.continueAll(() => pidsOf(sandboxId, r))
      r.paused = frozen
    })

  const notStarted = (sandboxId: string) => new EngineError({ message: `sandbox ${sandboxId} is not started` })

  const pauseSandbox = (sandboxId: string) =>
    Effect.suspend(() => {
      const r = running.get(sandboxId)
      if (r === undefined) return Effect.fail(notStarted(sandboxId))
      return r.paused ? Effect.void : setFrozen(sandboxId, r, true)
    })

  const resumeSandbox = (sandboxId: string) =>
    Effect.suspend(() => {
      const r = running.get(sandboxId)
      if (r === undefined) return Effect.fail(notStarted(sandboxId))
      return r.paused ? setFrozen(sandboxId, r, false) : Effect.void
    })

  const usage = (sandboxId: string) =>
    Effect.suspend(() => {
      const r = running.get(sandboxId)
      return r === undefined
        ? Effect.succeed(undefined)
        : Effect.promise(async (): Promise<ProcessUsage> => UsageOf.usageOf(await pidsOf(sandboxId, r)))
    })

  const killAll = (sandboxId: string, r: Running) =>
    Effect.gen(function* () {
      if (r.holder !== undefined) yield* Bwrap.stopHolder(r.holder)
      if (r.group !== undefined) yield* Effect.promise(() => r.group!.kill())
      else
        for (let round = 0; round < 5; round++) {
          const left = yield* processesOf(sandboxId, r)
          if (left.length === 0) break
          Processes.killPids(left)
          yield* pause(20)
        }
      for (const group of r.spawned) signalGroup(group.child, "SIGKILL")
      yield* exitsWithin(Array.from(r.spawned), stopGrace)
      r.relay?.close()
      if (r.userNetwork !== undefined) yield* r.userNetwork.close
      yield* releaseAccess(r)
      closeAll(r.groupFds)
      if (r.group !== undefined) yield* Effect.promise(() => r.group!.remove())
    })

  const stop = (sandboxId: string, options?: { readonly force?: boolean | undefined }) =>
    Effect.suspend(() => {
      const r = running.get(sandboxId)
      if (r === undefined) return Effect.void
      running.delete(sandboxId)
      // Frozen processes would hold SIGTERM until thawed: thaw them so that they can stop gracefully.
      const thawed = r.paused ? Effect.ignore(setFrozen(sandboxId, r, false)) : Effect.void
      const live = Array.from(r.spawned)
      const graceful =
        options?.force === true || live.length === 0
          ? Effect.void
          : Effect.suspend(() => {
              for (const group of live) signalGroup(group.child, "SIGTERM")
              return exitsWithin(live, stopGrace)
            })
      return thawed.pipe(Effect.zipRight(graceful), Effect.zipRight(killAll(sandboxId, r)), Effect.uninterruptible)
    })

  const hasAllowList = (settings: NetworkSettings | undefined) =>
    settings !== undefined && ((settings.allowList ?? "") !== "" || (settings.domainAllowList ?? "") !== "")

  const refuseNetwork = (settings: NetworkSettings | undefined): string | undefined => {
    if (settings === undefined) return undefined
    if (hasAllowList(settings) && isolation === "none") return allowListRefused
    if (settings.blockAll && isolation === "none") return blockAllRefused
    return undefined
  }

  /** The network a sandbox with these settings starts with (`egress` when the proxy is given). */
  const networkMode = (settings: NetworkSettings | undefined, egress: boolean): Running["network"] =>
    egress || hasAllowList(settings)
      ? "egress"
      : settings?.blockAll === true
        ? "none"
        : userNetwork._tag === "Right"
          ? "private"
          : "host"

  /** Ends what the sandbox's access to the outside holds: the proxy's listener, the volumes' directories. */
  const releaseAccess = (r: Running) =>
    Effect.promise(async () => {
      if (r.egress !== undefined) {
        r.egress.listener.close()
        r.egress.options.close()
      }
      for (const volume of r.volumes ?? []) await volume.handle.close().catch(() => undefined)
    })

  /** Opens every volume's directory (subpaths created, no link followed); closes them all on a failure. */
  const openVolumes = (volumes: ReadonlyArray<VolumeMount>) =>
    Effect.tryPromise({
      try: async () => {
        const opened: Array<{ readonly handle: NodeFs.FileHandle; readonly inside: string }> = []
        try {
          for (const volume of volumes)
            opened.push({
              handle: await VolumeMounts.openVolumeDirectory(volume.root, volume.subpath),
              inside: volume.mountPath
            })
          return opened
        } catch (error) {
          for (const volume of opened) await volume.handle.close().catch(() => undefined)
          throw error
        }
      },
      catch: (cause) =>
        new EngineError({ message: `cannot mount a volume: ${cause instanceof Error ? cause.message : String(cause)}` })
    })

  const start = (sandboxId: string, options: StartOptions = {}) =>
    Effect.gen(function* () {
      if (running.has(sandboxId)) return
      const resources = options.resources ?? known.get(sandboxId) ?? defaultResources
      known.set(sandboxId, resources)
      const refused = refuseNetwork(options.network)
      if (refused !== undefined) return yield* new EngineError({ message: refused })
      const network = networkMode(options.network, options.egress !== undefined)
      if (network === "egress" && options.egress === undefined)
        return yield* new EngineError({ message: egressRequired })
      const volumeMounts = options.volumes ?? []
      if (volumeMounts.length > 0 && isolation === "none") return yield* new EngineError({ message: volumesRefused })
      const p = yield* provision(sandboxId)
      yield* Effect.tryPromise({
        try: async () => {
          const writable = [
            { inside: isolatedHome, host: p.home },
            { inside: "/tmp", host: p.tmp }
          ]
          for (const volume of volumeMounts) await VolumeMounts.checkMountPoint(writable, volume.mountPath)
        },
        catch: (cause) =>
          new EngineError({
            message: `cannot mount a volume: ${cause instanceof Error ? cause.message : String(cause)}`
          })
      })
      const volumes = yield* openVolumes(volumeMounts)
      const group =
        support === undefined
          ? undefined
          : yield* fs("cannot create the sandbox's control group", () => support.create(sandboxId, limitsOf(resources)))
      const groupFds = joinThroughDescriptors
        ? (group?.procsFiles ?? []).map((file) => NodeFsSync.openSync(file, "w"))
        : []
      const entry: Running = {
        holder: undefined,
        group,
        groupFds,
        resources,
        network,
        spawned: new Set(),
        relay: undefined,
        listeners: new Map(),
        volumes,
        paused: false
      }
      /** Undoes what this start made when a later step fails. */
      const undo = Effect.sync(() => closeAll(groupFds)).pipe(
        Effect.zipRight(releaseAccess(entry)),
        Effect.zipRight(group === undefined ? Effect.void : Effect.promise(() => group.remove()))
      )
      const egress = options.egress
      if (isolation === "none") {
        if (egress === undefined) {
          running.set(sandboxId, entry)
          return
        }
        const listening = yield* Effect.tryPromise({
          try: () => EgressListener.listenOnHost(),
          catch: (cause) => new EngineError({ message: `cannot start the egress proxy: ${String(cause)}`, cause })
        }).pipe(Effect.tapError(() => undo))
        listening.server.on("connection", egress.accept)
        running.set(sandboxId, {
          ...entry,
          egress: { listener: listening.server, port: listening.port, options: egress }
        })
        return
      }
      // The trust files are copied into the sandbox from descriptors (bubblewrap's --ro-bind-data),
      // one descriptor per copy: the machine's bundle path, and the proxy's own directory.
      const trustTargets: Array<{ readonly file: string; readonly inside: string }> =
        egress === undefined
          ? []
          : [
              ...(EgressTrust.hasSystemBundle() ? [{ file: egress.bundleFile, inside: EgressTrust.systemBundle }] : []),
              { file: egress.bundleFile, inside: `${EgressListener.trustDirectoryInside}/ca-bundle.pem` },
              { file: egress.caFile, inside: `${EgressListener.trustDirectoryInside}/ca.pem` }
            ]
      // A network of its own resolves names through slirp4netns: the machine's resolver may be
      // on its loopback (systemd-resolved's 127.0.0.53), which the sandbox cannot reach.
      if (network === "private" && replaceResolvConf)
        trustTargets.push({ file: resolvConfFile, inside: "/etc/resolv.conf" })
      const trustFds = trustTargets.map((target) => NodeFsSync.openSync(target.file, "r"))
      const extraFds = [...volumes.map((volume) => volume.handle.fd), ...trustFds]
      const layout: Bwrap.Layout = {
        home: p.home,
        tmp: p.tmp,
        network: network === "host" ? "host" : "none",
        hostname: sandboxId.slice(0, 63),
        hide,
        volumes: volumes.map((volume, i) => ({ fd: Bwrap.firstExtraFd + i, inside: volume.inside })),
        files: trustTargets.map((target, i) => ({ fd: Bwrap.firstExtraFd + volumes.length + i, inside: target.inside }))
      }
      const holder = yield* Bwrap.startHolder(
        layout,
        rootIdentity(sandboxId),
        launcher(group, resources, sandboxId),
        extraFds
      ).pipe(
        Effect.ensuring(Effect.sync(() => closeAll(trustFds))),
        Effect.tapError(() => undo),
        Effect.mapError((reason) => new EngineError({ message: `cannot isolate sandbox ${sandboxId}: ${reason}` }))
      )
      let started: Running = { ...entry, holder }
      if (network === "private" && userNetwork._tag === "Right") {
        const withNetwork: Running = started
        withNetwork.userNetwork = yield* keepNetwork(sandboxId, withNetwork, userNetwork.right, networkRestarts).pipe(
          Effect.tapError(() => Bwrap.stopHolder(holder).pipe(Effect.zipRight(undo))),
          Effect.mapError(
            (reason) => new EngineError({ message: `cannot give sandbox ${sandboxId} its network: ${reason}` })
          )
        )
      }
      if (egress !== undefined) {
        const listener = yield* Effect.tryPromise({
          try: () => EgressListener.listenInNamespace(Bwrap.networkCommand(holder, asRoot)),
          catch: (cause) =>
            new EngineError({
              message: `cannot start the egress proxy of sandbox ${sandboxId}: ${cause instanceof Error ? cause.message : String(cause)}`,
              cause
            })
        }).pipe(Effect.tapError(() => Bwrap.stopHolder(holder).pipe(Effect.zipRight(undo))))
        listener.on("connection", egress.accept)
        started = { ...started, egress: { listener, port: EgressListener.egressPort, options: egress } }
      }
      running.set(sandboxId, started)
      void holder.exited.then(() => {
        if (running.get(sandboxId) === started) Effect.runFork(stop(sandboxId, { force: true }))
      })
    }).pipe(startLock.withPermits(1))

  /** The proxy and trust variables of a sandbox that goes out through the egress proxy. */
  const egressEnv = (r: Running): Record<string, string> => {
    if (r.egress === undefined) return {}
    return isolation === "bwrap"
      ? EgressListener.egressEnv(
          r.egress.port,
          `${EgressListener.trustDirectoryInside}/ca.pem`,
          `${EgressListener.trustDirectoryInside}/ca-bundle.pem`
        )
      : EgressListener.egressEnv(r.egress.port, r.egress.options.caFile, r.egress.options.bundleFile)
  }

  const baseEnv = (p: SandboxPaths): Record<string, string> => {
    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
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

  const track = (r: Running) => (group: Group) => {
    r.spawned.add(group)
    return () => {
      r.spawned.delete(group)
    }
  }

  /**
   * The shell every command runs in: it joins the sandbox's control group through the descriptors
   * it got as 3, 4, … (opened by the server; the kernel checks the opener's rights), closes them,
   * sets the file-size limit, enters the working directory and merges stderr into stdout at the
   * descriptor, so their order is kept.
   */
  const commandShell = (dir: string, groupFds: number, resources: Resources): Array<string> => [
    "/bin/sh",
    "-c",
    [
      'd=$0; n=$1; b=$2; shift 2; i=3; while [ "$i" -lt $((3 + n)) ]; do eval "echo \\$\\$ >&$i" || { echo "cannot join the sandbox\'s control group"; exit 125; }; eval "exec $i>&-"; i=$((i + 1)); done',
      'ulimit -f "$b" || exit 125',
      'cd -- "$d" 2>/dev/null || { echo "chdir $d: no such file or directory"; exit 255; }',
      'exec "$@" 2>&1'
    ].join("; "),
    dir,
    String(groupFds),
    fileSizeBlocks(resources)
  ]

  const isDirectory = (path: string) =>
    Effect.promise(() =>
      NodeFs.stat(path).then(
        (s) => s.isDirectory(),
        () => false
      )
    )

  /** Kills a timed-out command with everything it started, `setsid` or not (they carry its marker). */
  const killCommand = (sandboxId: string, r: Running, commandMarker: string) =>
    Effect.gen(function* () {
      for (let round = 0; round < 3; round++) {
        const pids = yield* processesOf(sandboxId, r)
        const marked = yield* Effect.promise(() =>
          Promise.all(pids.map(async (pid) => ((await Processes.environHas(pid, commandMarker)) ? pid : 0)))
        )
        const targets = marked.filter((pid) => pid !== 0)
        if (targets.length === 0) return
        Processes.killPids(targets)
        yield* pause(20)
      }
    })

  /**
   * How a process of a running sandbox starts on the machine: entering its namespaces (under bwrap),
   * joining its control group, with its limits, its environment, the working directory as it sees it
   * and a marker of its own in its environment (which finds everything it starts). `undefined` when
   * the working directory does not exist (without isolation, where the server checks it).
   */
  const commandSpec = (sandboxId: string, r: Running, options: Pick<RunOptions, "argv" | "cwd" | "env" | "stdin">) =>
    Effect.gen(function* () {
      const p = paths(sandboxId)
      const commandMarker = `DAYTONA_LOCAL_COMMAND=${NodeCrypto.randomUUID()}`
      const env = {
        ...baseEnv(p),
        ...egressEnv(r),
        ...options.env,
        DAYTONA_SANDBOX_ID: sandboxId,
        DAYTONA_LOCAL_COMMAND: commandMarker.slice("DAYTONA_LOCAL_COMMAND=".length)
      }
      const cwd = options.cwd === undefined || options.cwd === "" ? p.homeInSandbox : options.cwd
      const rlimits = rlimitPrefix(r.resources, sandboxId)
      // Under isolation the helpers that enter the sandbox run on the machine with the server's
      // fixed environment; the command's own (the caller's PATH, LD_PRELOAD, …) is set by `env -i`
      // inside the sandbox, after every helper, for the command alone.
      const inside = [
        Bwrap.programs.env,
        "-i",
        ...Object.entries(env)
          // what `env -i` takes as an assignment: a name, not an option
          .filter(([key]) => isEnvironmentName(key) && !key.startsWith("-"))
          .map(([key, value]) => `${key}=${value}`)
      ]
      let spec: SpawnSpec
      if (r.holder === undefined) {
        const dir = NodePath.resolve(p.home, cwd)
        if (!(yield* isDirectory(dir))) return { _tag: "MissingDirectory" as const, dir }
        const argv = [...rlimits, ...commandShell(dir, r.groupFds.length, r.resources), ...options.argv]
        spec = { file: argv[0]!, args: argv.slice(1), cwd: dir, env, stdin: options.stdin, fds: r.groupFds }
      } else if (joinThroughDescriptors) {
        const identity = rootIdentity(sandboxId)
        const argv = [
          ...Bwrap.enterCommand(r.holder, undefined),
          ...rlimits,
          ...inside,
          ...commandShell(NodePath.posix.resolve(isolatedHome, cwd), r.groupFds.length, r.resources),
          ...options.argv
        ]
        spec = {
          file: argv[0]!,
          args: argv.slice(1),
          cwd: "/",
          env: Bwrap.hostEnv,
          stdin: options.stdin,
          fds: r.groupFds,
          uid: identity?.uid,
          gid: identity?.gid
        }
      } else {
        const command = launcher(
          r.group,
          r.resources,
          sandboxId
        )([
          ...Bwrap.enterCommand(r.holder, rootIdentity(sandboxId)),
          ...inside,
          ...commandShell(NodePath.posix.resolve(isolatedHome, cwd), 0, r.resources),
          ...options.argv
        ])
        spec = { file: command.file, args: command.args, cwd: "/", env: Bwrap.hostEnv, stdin: options.stdin }
      }
      return { _tag: "Spec" as const, spec, commandMarker }
    })

  const run = (sandboxId: string, options: RunOptions) =>
    Effect.gen(function* () {
      const r = running.get(sandboxId)
      if (r === undefined) return yield* new SandboxNotRunning({ sandboxId })
      const command = yield* commandSpec(sandboxId, r, options)
      if (command._tag === "MissingDirectory")
        return { exitCode: -1, output: `chdir ${command.dir}: no such file or directory` }
      const spawned = collect(command.spec, track(r))
      const timeout = options.timeout
      return yield* timeout === undefined
        ? spawned
        : spawned.pipe(
            Effect.timeoutFail({ duration: timeout, onTimeout: () => new ProcessTimeout({ timeout }) }),
            Effect.tapErrorTag("ProcessTimeout", () => killCommand(sandboxId, r, command.commandMarker))
          )
    })

  /**
   * Starts a long-running process in a sandbox that the server talks to through its stdin and stdout,
   * with a way to kill it and everything it started.
   */
  const spawnInSandbox = (
    sandboxId: string,
    argv: ReadonlyArray<string>,
    options: SandboxTerminal.Options | SandboxInterpreter.Options
  ) =>
    Effect.gen(function* () {
      const r = running.get(sandboxId)
      if (r === undefined) return yield* new SandboxNotRunning({ sandboxId })
      const command = yield* commandSpec(sandboxId, r, { argv, cwd: options.cwd, env: options.env })
      if (command._tag === "MissingDirectory")
        return yield* new EngineError({ message: `chdir ${command.dir}: no such file or directory` })
      const process = yield* Effect.try({
        try: () => spawnInteractive(command.spec, track(r)),
        catch: (cause) => new EngineError({ message: `cannot start ${argv[0]}: ${String(cause)}`, cause })
      })
      const killAll = Effect.sync(() => process.killGroup()).pipe(
        Effect.zipRight(killCommand(sandboxId, r, command.commandMarker))
      )
      return { process, killAll }
    })

  const openTerminal = (sandboxId: string, options: SandboxTerminal.Options) =>
    Effect.flatMap(
      spawnInSandbox(sandboxId, TerminalRelay.relayCommand(options.cols, options.rows), options),
      (started) => TerminalRelay.fromRelay(started.process, started.killAll)
    )

  const startInterpreter = (sandboxId: string, options: SandboxInterpreter.Options) =>
    Effect.flatMap(spawnInSandbox(sandboxId, InterpreterWorker.workerCommand, options), (started) =>
      InterpreterWorker.fromWorker(started.process, started.killAll).pipe(
        Effect.mapError((error) => new EngineError({ message: `cannot start the interpreter: ${error.message}` }))
      )
    )

  const view = (sandboxId: string): SandboxView => {
    const p = paths(sandboxId)
    const resources = running.get(sandboxId)?.resources ?? known.get(sandboxId) ?? defaultResources
    const diskQuota = Math.round(resources.disk * GiB)
    if (isolation === "none")
      return {
        home: p.home,
        mounts: [{ inside: "/", host: "/", writable: true }],
        hidden: [],
        checkPermissions: false,
        diskQuota,
        quotaRoots: [
          { inside: p.home, host: p.home, writable: true },
          { inside: p.tmp, host: p.tmp, writable: true }
        ]
      }
    const own = [
      { inside: isolatedHome, host: p.home, writable: true },
      { inside: "/tmp", host: p.tmp, writable: true }
    ]
    // A volume is reached through the directory the engine holds open, never by its name on the host.
    const volumes = (running.get(sandboxId)?.volumes ?? []).map((volume) => ({
      inside: volume.inside,
      host: `/proc/self/fd/${volume.handle.fd}`,
      writable: true
    }))
    return {
      home: isolatedHome,
      mounts: [...own, ...volumes, ...Bwrap.systemMounts],
      hidden: ["/proc", "/dev", ...hide],
      identity: identityOf(sandboxId),
      checkPermissions: asRoot,
      diskQuota,
      quotaRoots: own
    }
  }

  const resolvePath = (sandboxId: string, path: string, access: "read" | "write") =>
    Effect.tryPromise({
      try: () => SandboxFs.resolveHostPath(view(sandboxId), path, access),
      catch: (cause) =>
        new PathNotAccessible({
          sandboxId,
          path,
          access,
          message: cause instanceof PathFailure ? cause.message : `${path}: cannot be resolved`
        })
    })

  const resize = (sandboxId: string, resources: Resources) =>
    Effect.gen(function* () {
      known.set(sandboxId, resources)
      const r = running.get(sandboxId)
      if (r === undefined) return
      r.resources = resources
      if (r.group !== undefined)
        yield* Effect.promise(() => r.group!.setLimits(limitsOf(resources)).catch(() => undefined))
    })

  const checkNetwork = (sandboxId: string | undefined, settings: NetworkSettings) =>
    Effect.gen(function* () {
      const refused = refuseNetwork(settings)
      if (refused !== undefined) return yield* new NetworkNotEnforced({ message: refused })
      const r = sandboxId === undefined ? undefined : running.get(sandboxId)
      // A sandbox behind the egress proxy takes any rules at once (the proxy reads them per
      // request); otherwise its network namespace must already be the one the rules need.
      if (
        r !== undefined &&
        isolation === "bwrap" &&
        r.network !== "egress" &&
        networkMode(settings, false) !== r.network
      )
        return yield* new NetworkNotEnforced({ message: restartNeeded })
    })

  const listenerCacheMillis = 2000

  /**
   * How long a finished scan of a sandbox's sockets answers for: short, so a server that just began
   * to listen is seen at once, yet no stream of requests makes the server scan back to back.
   */
  const heldSocketsFreshMillis = 250

  /** The inodes of the sockets the sandbox's processes hold, from a scan at most `heldSocketsFreshMillis` old. */
  const heldSockets = (r: Running, pids: ReadonlyArray<number>) =>
    Effect.promise(() => {
      const last = r.heldSockets
      if (
        last !== undefined &&
        (last.finishedAt === undefined || Date.now() - last.finishedAt < heldSocketsFreshMillis)
      )
        return last.inodes
      const scan: NonNullable<Running["heldSockets"]> = {
        inodes: Processes.heldSocketInodes(pids).finally(() => {
          scan.finishedAt = Date.now()
        }),
        finishedAt: undefined
      }
      r.heldSockets = scan
      return scan.inodes
    })

  const listeningPorts = (sandboxId: string) =>
    Effect.suspend(() => {
      const r = running.get(sandboxId)
      if (r === undefined) return Effect.succeed([])
      return Effect.flatMap(processesOf(sandboxId, r), (pids) =>
        Effect.flatMap(heldSockets(r, pids), (held) => Effect.promise(() => Processes.listeningPorts(pids, held)))
      )
    })

  const connect = (sandboxId: string, port: number) =>
    Effect.gen(function* () {
      const r = running.get(sandboxId)
      if (r === undefined)
        return yield* new PortNotReachable({ status: 400, message: `sandbox ${sandboxId} is not started` })
      const unreachable = new PortNotReachable({
        status: 502,
        message: `nothing in the sandbox listens on port ${port}`
      })
      if (r.egress !== undefined && r.holder?.ownNetwork === true && port === r.egress.port)
        return yield* new PortNotReachable({
          status: 502,
          message: `port ${port} is the sandbox's egress proxy, not a service of the sandbox`
        })
      if (r.holder?.ownNetwork === true) {
        const holder = r.holder
        const relay = (r.relay ??= startRelay([
          ...Bwrap.networkCommand(holder, asRoot),
          process.execPath,
          "-e",
          relayProgram
        ]))
        return yield* Effect.tryPromise({ try: () => relay.connect(port), catch: () => unreachable })
      }
      let found = r.listeners.get(port)
      if (found === undefined || Date.now() - found.checkedAt > listenerCacheMillis) {
        const inodes = yield* Effect.promise(() => Processes.listeningInodes(port))
        const host =
          inodes.size === 0
            ? undefined
            : Processes.heldListener(yield* heldSockets(r, yield* processesOf(sandboxId, r)), inodes)
        if (host === undefined) {
          r.listeners.delete(port)
          return yield* unreachable
        }
        found = { checkedAt: Date.now(), host }
        r.listeners.set(port, found)
      }
      const host = found.host
      return yield* Effect.tryPromise({ try: () => connectTcp(port, host), catch: () => unreachable })
    })

  yield* Effect.addFinalizer(() =>
    Effect.forEach(Array.from(running.keys()), (id) => stop(id, { force: true }), { discard: true }).pipe(
      Effect.zipRight(support === undefined ? Effect.void : Effect.promise(() => support.cleanup()))
    )
  )

  return SandboxEngine.of({
    isolation,
    limits,
    paths,
    provision,
    start,
    stop,
    destroy: (sandboxId) =>
      stop(sandboxId, { force: true }).pipe(
        Effect.zipRight(
          fs("cannot remove the sandbox's directory", () => TreeRemoval.removeTree(paths(sandboxId).root))
        ),
        Effect.tap(() =>
          Effect.sync(() => {
            SandboxFs.forgetUsage(view(sandboxId))
            known.delete(sandboxId)
          })
        )
      ),
    isRunning: (sandboxId) => Effect.sync(() => running.has(sandboxId)),
    listeningPorts,
    run,
    prepare: (sandboxId, plumbing) =>
      Effect.flatMap(
        run(sandboxId, { argv: ["/bin/sh", "-c", plumbingScript(plumbing), plumbing.directory] }),
        (result) =>
          result.exitCode === 0
            ? Effect.void
            : Effect.fail(new EngineError({ message: result.output.trim() || `exit code ${result.exitCode}` }))
      ),
    resolvePath,
    view,
    resize,
    checkNetwork,
    connect,
    openTerminal,
    startInterpreter,
    pausing,
    pause: pauseSandbox,
    resume: resumeSandbox,
    usage
  })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<SandboxEngine, EngineError, LocalConfig> = Layer.scoped(SandboxEngine, make)
