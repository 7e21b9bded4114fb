/**
 * Settings of the local Daytona server: where it keeps its data, the key it accepts, how long
 * lifecycle transitions take and how sandboxes are isolated.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

/**
 * How sandbox processes are confined. `bwrap` gives each started sandbox bubblewrap namespaces
 * (user, mount, PID, IPC, UTS; network too when it is cut off) with Daytona's layout:
 * `/home/daytona` and `/tmp` its own, only the machine's system directories and language runtimes
 * visible (read-only), root inside mapped to an unprivileged id outside, no capabilities; every
 * command enters them with `nsenter`. `none` runs sandboxes as plain processes of this machine
 * whose home is the sandbox's directory, which is not a security boundary; `auto` (the default)
 * picks `bwrap` when it works here, else `none`.
 *
 * @since 0.1.0
 * @category models
 */
export type Isolation = "auto" | "none" | "bwrap"

/**
 * How resource limits are enforced: `auto` uses control groups when this machine lets the server
 * create them (cgroup v2 delegated, else writable v1), else rlimits; `rlimits` never touches
 * control groups.
 *
 * @since 0.1.0
 * @category models
 */
export type ResourceLimits = "auto" | "rlimits"

/**
 * The network of a sandbox that has no network rules. `private` gives it a network namespace of
 * its own whose way out is `slirp4netns` (user-mode NAT): it reaches what the machine reaches
 * outside, but neither the machine's loopback services nor another sandbox's, as on Daytona.
 * `shared` leaves it in the machine's network namespace: it reaches the machine's `127.0.0.1`
 * (a database of the developer's, say) and every other such sandbox's. `auto` (the default)
 * picks `private` when bubblewrap isolation is in use and `slirp4netns` works here, else `shared`;
 * `private` refuses to start the server otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxNetwork = "auto" | "private" | "shared"

/**
 * How long each lifecycle transition takes. Measured with Effect's `Clock`, so `TestClock`
 * drives them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Timings {
  readonly create: Duration.Duration
  readonly build: Duration.Duration
  readonly start: Duration.Duration
  readonly stop: Duration.Duration
  readonly archive: Duration.Duration
  readonly restore: Duration.Duration
  readonly destroy: Duration.Duration
  readonly resize: Duration.Duration
}

/** Half of this process's soft limit of open descriptors (`/proc/self/limits`), or 4,096 where it cannot be read. */
const defaultMaxConnections = (): number => {
  try {
    const limits = NodeFs.readFileSync("/proc/self/limits", "utf8")
    const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1])
    return Number.isInteger(soft) && soft > 0 ? Math.max(64, Math.floor(soft / 2)) : 4096
  } catch {
    return 4096
  }
}

/**
 * What callers may set; everything has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Directory for the SQLite database and the sandboxes' files. Default `~/.effect-daytona/local`. */
  readonly dataDir?: string | undefined
  /** The API key every request must carry as `Authorization: Bearer <key>`. Default: a random key. */
  readonly apiKey?: string | Redacted.Redacted<string> | undefined
  /** Interface to bind. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Port to bind; 0 picks a free one. Default 0 for the layer, 3000 for the CLI. */
  readonly port?: number | undefined
  readonly isolation?: Isolation | undefined
  readonly resourceLimits?: ResourceLimits | undefined
  /** The network of sandboxes without network rules (see {@link SandboxNetwork}). Default `auto`. */
  readonly sandboxNetwork?: SandboxNetwork | undefined
  /**
   * How many client connections the server holds at once; one more is closed as it arrives. Default
   * half of the process's descriptor limit, so that connections that send nothing can never take
   * the descriptors sandboxes, files and control groups need.
   */
  readonly maxConnections?: number | undefined
  readonly timings?: Partial<Record<keyof Timings, Duration.DurationInput>> | undefined
  /** How long create and start wait for `started` before answering (Daytona waits 30 s). */
  readonly startWait?: Duration.DurationInput | undefined
  /** How often the auto-stop/archive/delete rules are checked (Daytona: every 10 s). */
  readonly lifecycleInterval?: Duration.DurationInput | undefined
  readonly organizationId?: string | undefined
  /** The region id reported as `target`. Default `local`. */
  readonly region?: string | undefined
  /**
   * Where the computer-use tools (`Xvfb`, `xdotool`, `ffmpeg`, …) are looked for, as a `PATH`-like
   * list. Default: the server's `PATH`; an empty string means that none is installed.
   */
  readonly desktopToolPath?: string | undefined
  /** The egress proxy of sandboxes with secrets or network rules (see {@link EgressOptions}). */
  readonly egress?: EgressOptions | undefined
}

/**
 * Settings of the egress proxy, the only way out of a sandbox that has secrets or network rules.
 *
 * @since 0.1.0
 * @category models
 */
export interface EgressOptions {
  /**
   * Host names the proxy resolves to these addresses before asking the system's resolver, like
   * `/etc/hosts` for the proxy alone (a service of this machine under a name of its own). An
   * address given here is used even when it is this machine's loopback, which is otherwise never
   * a destination.
   */
  readonly hosts?: Readonly<Record<string, string>> | undefined
  /** PEM certificates the proxy trusts, besides the system's, when it connects to a host over HTTPS. */
  readonly trustedCertificates?: ReadonlyArray<string> | undefined
}

/**
 * The resolved settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface LocalConfigShape {
  readonly dataDir: string
  readonly apiKey: Redacted.Redacted<string>
  readonly host: string
  readonly port: number
  readonly isolation: Isolation
  readonly resourceLimits: ResourceLimits
  readonly sandboxNetwork: SandboxNetwork
  readonly maxConnections: number
  readonly timings: Timings
  readonly startWait: Duration.Duration
  readonly lifecycleInterval: Duration.Duration
  readonly organizationId: string
  readonly region: string
  readonly desktopToolPath: string
  readonly egress: {
    readonly hosts: Readonly<Record<string, string>>
    readonly trustedCertificates: ReadonlyArray<string>
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class LocalConfig extends Context.Tag("@effect-daytona/local/LocalConfig")<LocalConfig, LocalConfigShape>() {}

/**
 * The default data directory: `~/.effect-daytona/local`.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultDataDir = (): string => NodePath.join(NodeOs.homedir(), ".effect-daytona", "local")

/**
 * The default transition times: short enough for interactive use, long enough to be observed.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTimings: Timings = {
  create: Duration.millis(100),
  build: Duration.millis(500),
  start: Duration.millis(100),
  stop: Duration.millis(100),
  archive: Duration.millis(200),
  restore: Duration.millis(200),
  destroy: Duration.millis(100),
  resize: Duration.millis(100)
}

/**
 * A new API key in Daytona's format: `dtn_` and 64 hex digits.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generateApiKey = (): string => {
  const bytes = new Uint8Array(32)
  globalThis.crypto.getRandomValues(bytes)
  return "dtn_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
}

/**
 * Fills in the defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): LocalConfigShape => {
  const timings = { ...defaultTimings }
  for (const [key, value] of Object.entries(options.timings ?? {})) {
    if (value !== undefined) timings[key as keyof Timings] = Duration.decode(value)
  }
  const apiKey = options.apiKey ?? generateApiKey()
  return {
    dataDir: NodePath.resolve(options.dataDir ?? defaultDataDir()),
    apiKey: typeof apiKey === "string" ? Redacted.make(apiKey) : apiKey,
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 0,
    isolation: options.isolation ?? "auto",
    resourceLimits: options.resourceLimits ?? "auto",
    sandboxNetwork: options.sandboxNetwork ?? "auto",
    maxConnections: options.maxConnections ?? defaultMaxConnections(),
    timings,
    startWait: Duration.decode(options.startWait ?? Duration.seconds(30)),
    lifecycleInterval: Duration.decode(options.lifecycleInterval ?? Duration.seconds(10)),
    organizationId: options.organizationId ?? "local",
    region: options.region ?? "local",
    desktopToolPath: options.desktopToolPath ?? process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    egress: {
      hosts: Object.fromEntries(
        Object.entries(options.egress?.hosts ?? {}).map(([name, address]) => [name.toLowerCase(), address])
      ),
      trustedCertificates: options.egress?.trustedCertificates ?? []
    }
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<LocalConfig> => Layer.succeed(LocalConfig, make(options))
