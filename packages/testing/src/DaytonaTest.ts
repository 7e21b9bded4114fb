/**
 * The test layer: the real SDK (`Daytona`, its clients and configuration) wired to the local
 * server's HTTP app in memory, with no socket and, by default, no process, and the `DaytonaTest`
 * service that scripts it: failures and delays on the wire, sandboxes put into `error` or
 * `build_failed`, what commands print and return.
 *
 * Provide a fresh layer to each test (`Effect.provide(DaytonaTest.layer())` inside `it.effect`):
 * the layer is built in the test's fiber, so the server's transitions and the SDK's waits read the
 * test's `TestClock`, and every test starts from an empty server.
 *
 * @since 0.1.0
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import type * as DaytonaClient from "@effect-daytona/sdk/DaytonaClient"
import type * as DaytonaConfig from "@effect-daytona/sdk/DaytonaConfig"
import type { MissingCredentialsError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import type * as Snapshots from "@effect-daytona/sdk/Snapshots"
import type * as ToolboxClient from "@effect-daytona/sdk/ToolboxClient"
import type * as Volumes from "@effect-daytona/sdk/Volumes"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as LocalConfig from "@effect-daytona/local/LocalConfig"
import * as LocalDaytona from "@effect-daytona/local/LocalDaytona"
import * as SandboxEngine from "@effect-daytona/local/SandboxEngine"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as Faults from "./Faults.js"
import * as InMemoryHttpClient from "./InMemoryHttpClient.js"
import * as InMemoryWebSocket from "./InMemoryWebSocket.js"
import type * as RequestMatch from "./RequestMatch.js"
import * as ScriptedEngine from "./ScriptedEngine.js"

/**
 * The base URL the in-memory server answers for. Nothing listens there: only the layer's own
 * `HttpClient` resolves it.
 *
 * @since 0.1.0
 * @category constants
 */
export const baseUrl = "http://daytona.test"

/**
 * The API key the in-memory server accepts and the SDK sends.
 *
 * @since 0.1.0
 * @category constants
 */
export const apiKey = "dtn_test"

/**
 * The failed states a test can put a sandbox in.
 *
 * @since 0.1.0
 * @category models
 */
export type FailedState = "error" | "build_failed"

/**
 * Options of {@link Service.setSandboxState}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FailedStateOptions {
  readonly errorReason?: string | undefined
  /** Whether `sandbox.recover()` may bring it back (only for `error`); default false. */
  readonly recoverable?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The control plane's URL as the SDK sees it (`http://daytona.test/api`). */
  readonly apiUrl: string
  readonly apiKey: Redacted.Redacted<string>
  /** The layer's temporary data directory (SQLite file and sandboxes' files); removed on release. */
  readonly dataDir: string
  /**
   * The in-memory client the SDK uses (faults apply), for raw requests to the server: give it full
   * URLs under {@link baseUrl} and the bearer key yourself.
   */
  readonly httpClient: HttpClient.HttpClient
  /** See {@link Faults.Faults.failNext}. */
  readonly failNext: Faults.Faults["failNext"]
  /** See {@link Faults.Faults.delayNext}. */
  readonly delayNext: Faults.Faults["delayNext"]
  /** See {@link Faults.Faults.setPolicy}: the fault of every request no rule claims. */
  readonly setFaultPolicy: Faults.Faults["setPolicy"]
  /** Removes every failure and delay not yet used, and the fault policy. */
  readonly clearFaults: Effect.Effect<void>
  /** Every request the SDK sent so far, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<Faults.RecordedRequest>>
  /**
   * Puts a sandbox (by id or name) into `error` or `build_failed`, as if its runner had reported
   * it: a transition in progress ends, and a wait for `started` fails with `SandboxFailedError`.
   * Dies when there is no such sandbox (a mistake in the test, not a condition to handle).
   */
  readonly setSandboxState: (idOrName: string, state: FailedState, options?: FailedStateOptions) => Effect.Effect<void>
  /** Decides what matching commands print and return (scripted engine only). */
  readonly scriptCommand: ScriptedEngine.Script["scriptCommand"]
  /** Every command the scripted engine was asked to run, oldest first (empty with the real engine). */
  readonly commands: Effect.Effect<ReadonlyArray<ScriptedEngine.CommandRun>>
  /** Decides what terminals opened from now on do with their input (scripted engine only). */
  readonly scriptTerminal: ScriptedEngine.Script["scriptTerminal"]
  /** Decides what matching code-interpreter runs report (scripted engine only). */
  readonly scriptCode: ScriptedEngine.Script["scriptCode"]
  /** Every interpreter run the scripted engine was asked for, oldest first (empty with the real engine). */
  readonly codeRuns: Effect.Effect<ReadonlyArray<ScriptedEngine.CodeRun>>
  /** Decides which TCP ports a started sandbox reports listening on (scripted engine only). */
  readonly scriptPorts: ScriptedEngine.Script["scriptPorts"]
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DaytonaTest extends Context.Tag("@effect-daytona/testing/DaytonaTest")<DaytonaTest, Service>() {}

/**
 * Options of {@link layer}. Transition times default to zero (every lifecycle step completes at
 * once), so a test only meets time when it asks for it, e.g. `timings: { create: "30 seconds" }`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** How long each lifecycle transition takes on Effect's `Clock`; default zero for all. */
  readonly timings?: Partial<Record<keyof LocalConfig.Timings, Duration.DurationInput>> | undefined
  /** How long create and start hold the request waiting for `started`; default 30 s, as Daytona. */
  readonly startWait?: Duration.DurationInput | undefined
  /** How often auto-stop, auto-archive and auto-delete are enforced; default 10 s, as Daytona. */
  readonly lifecycleInterval?: Duration.DurationInput | undefined
  readonly region?: string | undefined
  readonly organizationId?: string | undefined
  /** The SDK's settings (timeouts, retry policy); credentials and URL are the layer's. */
  readonly sdk?: Omit<DaytonaConfig.Options, "apiKey" | "apiUrl" | "jwtToken" | "organizationId"> | undefined
  /**
   * `scripted` (default): commands are answered by scripts, nothing is spawned. `real`: the local
   * server's engine runs real processes (isolated with `isolation`, default `none`).
   */
  readonly engine?: "scripted" | "real" | undefined
  readonly isolation?: LocalConfig.Isolation | undefined
}

const zeroTimings: Record<keyof LocalConfig.Timings, Duration.DurationInput> = {
  create: Duration.zero,
  build: Duration.zero,
  start: Duration.zero,
  stop: Duration.zero,
  archive: Duration.zero,
  restore: Duration.zero,
  destroy: Duration.zero,
  resize: Duration.zero
}

const tempDir = Effect.acquireRelease(
  Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "effect-daytona-test-"))),
  (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
)

/**
 * The SDK's services (`Daytona`, `Snapshots`, `Volumes` and their clients) over an in-memory local
 * server, a `WebSocketConnector` to the same server in memory (for terminals and interpreter runs),
 * and the {@link DaytonaTest} service. Build one per test (see the module's documentation).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<
  | DaytonaTest
  | Daytona.Daytona
  | Snapshots.Snapshots
  | Volumes.Volumes
  | DaytonaClient.DaytonaClient
  | ToolboxClient.ToolboxClient
  | DaytonaConfig.DaytonaConfig
  | WebSocketConnector.WebSocketConnector,
  LocalDaytona.StartError | MissingCredentialsError | ValidationError
> =>
  Layer.scopedContext(
    Effect.gen(function* () {
      const dataDir = yield* tempDir
      const key = Redacted.make(apiKey)
      const config = LocalConfig.make({
        dataDir,
        apiKey: key,
        isolation: options.isolation ?? "none",
        timings: { ...zeroTimings, ...options.timings },
        startWait: options.startWait ?? Duration.seconds(30),
        lifecycleInterval: options.lifecycleInterval ?? Duration.seconds(10),
        organizationId: options.organizationId,
        region: options.region
      })
      const script = yield* ScriptedEngine.makeScript
      const engine = options.engine === "real" ? SandboxEngine.layer : ScriptedEngine.layer(script)
      const services = yield* Layer.build(LocalDaytona.layerServices(config, baseUrl, { engine }))
      const faults = yield* Faults.make("/api")
      const app = Effect.provide(LocalDaytona.app, services)
      const connect = yield* InMemoryWebSocket.make(app, { origin: baseUrl })
      const httpClient = InMemoryHttpClient.make(app, {
        origin: baseUrl,
        intercept: faults.intercept
      })
      const apiUrl = `${baseUrl}/api`
      const sdk = yield* Layer.build(
        Daytona.layer({ ...options.sdk, apiKey: key, apiUrl }).pipe(
          Layer.provide(Layer.succeed(HttpClient.HttpClient, httpClient))
        )
      )
      const service: Service = {
        apiUrl,
        apiKey: key,
        dataDir,
        httpClient,
        failNext: faults.failNext,
        delayNext: faults.delayNext,
        setFaultPolicy: faults.setPolicy,
        clearFaults: faults.clear,
        requests: faults.requests,
        setSandboxState: (idOrName, state, stateOptions = {}) =>
          LocalDaytona.setSandboxState(idOrName, state, stateOptions).pipe(
            Effect.provide(services),
            Effect.asVoid,
            Effect.orDieWith((error) => new Error(`DaytonaTest.setSandboxState: ${error.message}`))
          ),
        scriptCommand: script.scriptCommand,
        commands: script.commands,
        scriptTerminal: script.scriptTerminal,
        scriptCode: script.scriptCode,
        codeRuns: script.codeRuns,
        scriptPorts: script.scriptPorts
      }
      return Context.add(sdk, DaytonaTest, service).pipe(Context.add(WebSocketConnector.WebSocketConnector, connect))
    })
  )

/**
 * The next `times` requests matching `match` fail with `failure` (a status and body, or a broken
 * connection) instead of reaching the server.
 *
 * @since 0.1.0
 * @category faults
 */
export const failNext = (
  match: RequestMatch.RequestMatch,
  failure: Faults.Failure,
  options?: Faults.FaultOptions
): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.failNext(match, failure, options))

/**
 * The answers to the next `times` requests matching `match` arrive `duration` late, on Effect's
 * `Clock`; the server handles the request at once.
 *
 * @since 0.1.0
 * @category faults
 */
export const delayNext = (
  match: RequestMatch.RequestMatch,
  duration: Duration.DurationInput,
  options?: Faults.FaultOptions
): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.delayNext(match, duration, options))

/**
 * Decides the fault of every request that no `failNext`/`delayNext` rule claims, e.g. a random mix
 * of statuses, broken connections, cut bodies and delays.
 *
 * @since 0.1.0
 * @category faults
 */
export const setFaultPolicy = (policy: Faults.Policy): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.setFaultPolicy(policy))

/**
 * Removes every failure and delay not yet used, and the fault policy.
 *
 * @since 0.1.0
 * @category faults
 */
export const clearFaults: Effect.Effect<void, never, DaytonaTest> = Effect.flatMap(
  DaytonaTest,
  (test) => test.clearFaults
)

/**
 * Puts a sandbox into `error` or `build_failed` as if its runner had reported it.
 *
 * @since 0.1.0
 * @category faults
 */
export const setSandboxState = (
  idOrName: string,
  state: FailedState,
  options?: FailedStateOptions
): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.setSandboxState(idOrName, state, options))

/**
 * Decides what matching commands print and return, e.g.
 * `DaytonaTest.scriptCommand("python3 main.py", { stdout: "42\n" })`.
 *
 * @since 0.1.0
 * @category commands
 */
export const scriptCommand = (
  match: ScriptedEngine.CommandMatch,
  reply: ScriptedEngine.CommandReply | ((run: ScriptedEngine.CommandRun) => ScriptedEngine.CommandReply),
  options?: ScriptedEngine.ScriptOptions
): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.scriptCommand(match, reply, options))

/**
 * Every request the SDK sent so far, oldest first.
 *
 * @since 0.1.0
 * @category inspection
 */
export const requests: Effect.Effect<ReadonlyArray<Faults.RecordedRequest>, never, DaytonaTest> = Effect.flatMap(
  DaytonaTest,
  (test) => test.requests
)

/**
 * Every command run so far, oldest first.
 *
 * @since 0.1.0
 * @category inspection
 */
export const commands: Effect.Effect<ReadonlyArray<ScriptedEngine.CommandRun>, never, DaytonaTest> = Effect.flatMap(
  DaytonaTest,
  (test) => test.commands
)

/**
 * Decides what terminals opened from now on do with what is typed (each piece of input and the
 * session, its current size included, go to `script`; see the README's example).
 *
 * @since 0.1.0
 * @category terminals
 */
export const scriptTerminal = (script: ScriptedEngine.TerminalScript): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.scriptTerminal(script))

/**
 * Decides which TCP ports a started sandbox (by id) reports listening on from now on, e.g. to
 * test a program that waits with `sandbox.waitUntilPortInUse(3000)` for a server it started.
 *
 * @since 0.1.0
 * @category ports
 */
export const scriptPorts = (sandboxId: string, ports: ReadonlyArray<number>): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.scriptPorts(sandboxId, ports))

/**
 * Decides what matching code-interpreter runs report, e.g.
 * `DaytonaTest.scriptCode("print(x + 1)", { stdout: "42\n" })`.
 *
 * @since 0.1.0
 * @category interpreter
 */
export const scriptCode = (
  match: ScriptedEngine.CodeMatch,
  reply: ScriptedEngine.CodeReply | ((run: ScriptedEngine.CodeRun) => ScriptedEngine.CodeReply),
  options?: ScriptedEngine.ScriptOptions
): Effect.Effect<void, never, DaytonaTest> =>
  Effect.flatMap(DaytonaTest, (test) => test.scriptCode(match, reply, options))

/**
 * Every code-interpreter run so far, oldest first.
 *
 * @since 0.1.0
 * @category inspection
 */
export const codeRuns: Effect.Effect<ReadonlyArray<ScriptedEngine.CodeRun>, never, DaytonaTest> = Effect.flatMap(
  DaytonaTest,
  (test) => test.codeRuns
)
