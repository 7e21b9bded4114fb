/**
 * The sandbox handle: an immutable value holding the sandbox's fields as the API last reported
 * them, and every operation on it as an `Effect` whose services are already provided. Operations
 * that change the sandbox return a new handle; the old one is not updated.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as CodeInterpreter from "./CodeInterpreter.js"
import * as Stream from "effect/Stream"
import * as ControlPlaneApi from "./ControlPlaneApi.js"
import type { ResizeSandbox, UpdateSandboxNetworkSettings } from "./CreateSandbox.js"
import type * as DaytonaClient from "./DaytonaClient.js"
import {
  type ApiError,
  type ConflictError,
  type NotFoundError,
  type SandboxFailedError,
  ValidationError,
  WaitTimeoutError
} from "./DaytonaError.js"
import * as BuildLogs from "./internal/buildLogs.js"
import { inputCannotFail } from "./internal/expect.js"
import type * as Events from "./Events.js"
import * as EventWait from "./internal/eventWait.js"
import * as FileUrlSigning from "./internal/fileUrlSigning.js"
import * as FailedToStart from "./internal/failedToStart.js"
import * as Telemetry from "./internal/telemetry.js"
import * as Transport from "./internal/transport.js"
import type { PortPreviewUrl, SignedPortPreviewUrl } from "./PreviewUrl.js"
import type { SandboxDto, SandboxListItem } from "./SandboxDto.js"
import * as SandboxMetrics from "./SandboxMetrics.js"
import { isFailed, type SandboxState } from "./SandboxState.js"
import type { SshAccessDto, SshAccessValidationDto } from "./SshAccess.js"
import * as ComputerUse from "./ComputerUse.js"
import * as FileSystem from "./FileSystem.js"
import * as Git from "./Git.js"
import * as LspServer from "./LspServer.js"
import * as Process from "./Process.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import * as Wait from "./Wait.js"
import * as Spans from "./internal/spans.js"

/**
 * The label that carries a sandbox's code-run language (`python`, `typescript`, `javascript`).
 *
 * @since 0.1.0
 * @category constants
 */
export const languageLabel = Process.languageLabel

/**
 * Options of an operation that waits.
 *
 * @since 0.1.0
 * @category models
 */
export interface WaitOptions {
  /** Deadline of the whole operation, request included. Default: `DaytonaConfig.operationTimeout`. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Polling cadence. Default: {@link Wait.defaultSchedule}. */
  readonly schedule?: Schedule.Schedule<unknown> | undefined
}

/**
 * Errors of a lifecycle operation that waits for a state.
 *
 * @since 0.1.0
 * @category models
 */
export type LifecycleError =
  | ApiError
  | NotFoundError
  | ConflictError
  | ValidationError
  | WaitTimeoutError
  | SandboxFailedError

/**
 * Errors of a call that changes a sandbox without waiting.
 *
 * @since 0.1.0
 * @category models
 */
export type UpdateError = ApiError | NotFoundError | ConflictError | ValidationError

/**
 * Errors of a call to the sandbox's toolbox.
 *
 * @since 0.1.0
 * @category models
 */
export type ToolboxError = ApiError | NotFoundError

/**
 * Options of a pre-signed file URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface SignedUrlOptions {
  /**
   * How long the URL works: whole seconds, at least one; `Duration.infinity` for a URL that never
   * expires (until the signing key is rotated). Default one hour.
   */
  readonly expiresIn?: Duration.DurationInput | undefined
}

/**
 * The operations of a sandbox, whatever form its fields came in.
 *
 * @since 0.1.0
 * @category models
 */
export interface Operations {
  /** Files in the sandbox: list, search, move, permissions, streaming upload and download. */
  readonly fs: FileSystem.FileSystem
  /** Git in the sandbox: clone, status, branches, commit, push, pull, history. */
  readonly git: Git.Git
  /** Commands, code runs and sessions (with followed logs) in the sandbox. */
  readonly process: Process.Process
  /** A desktop in the sandbox: mouse, keyboard, screenshots, windows, recordings, accessibility. */
  readonly computerUse: ComputerUse.ComputerUse
  /** A stateful Python interpreter in the sandbox (contexts, streamed runs). */
  readonly codeInterpreter: CodeInterpreter.CodeInterpreter
  /**
   * A language server for a project in the sandbox (`python`, `typescript` or `javascript`; an
   * unsupported language fails before a request is sent).
   */
  readonly createLspServer: (
    languageId: string,
    pathToProject: string
  ) => Effect.Effect<LspServer.LspServer, ValidationError>
  /** Reads the sandbox again. */
  readonly refreshData: Effect.Effect<Sandbox, ApiError | NotFoundError>
  /** The home directory of the sandbox's user (toolbox `GET /user-home-dir`). */
  readonly getUserHomeDir: Effect.Effect<string, ToolboxError>
  /** The working directory: the image's WORKDIR, else the home directory (toolbox `GET /work-dir`). */
  readonly getWorkDir: Effect.Effect<string, ToolboxError>
  /** The TCP ports a process of the sandbox listens on, ascending (toolbox `GET /port`). */
  readonly getActivePorts: Effect.Effect<ReadonlyArray<number>, ToolboxError>
  /**
   * Whether a process of the sandbox listens on `port` (toolbox `GET /port/{port}/in-use`); a port
   * outside 1–65535 is a `ValidationError`.
   */
  readonly isPortInUse: (port: number) => Effect.Effect<boolean, ToolboxError | ValidationError>
  /**
   * Asks at each pause of `schedule` (default `Wait.defaultSchedule`) whether a process of the
   * sandbox listens on `port`, until one does: a server started in the sandbox is then ready for
   * its preview link. Fails with `WaitTimeoutError` when `timeout` (default
   * `DaytonaConfig.operationTimeout`) passes first; a transient failure of one question is a missed
   * poll (`Wait.poll`).
   */
  readonly waitUntilPortInUse: (
    port: number,
    options?: WaitOptions
  ) => Effect.Effect<void, ToolboxError | ValidationError | WaitTimeoutError>
  /** Replaces all labels (including `code-toolbox-language`) and returns the updated sandbox. */
  readonly setLabels: (labels: Readonly<Record<string, string>>) => Effect.Effect<Sandbox, UpdateError>
  /** Starts (or resumes) the sandbox and waits until it is `started`. */
  readonly start: (options?: WaitOptions) => Effect.Effect<Sandbox, LifecycleError>
  /**
   * Brings the sandbox to `started` from wherever it is, under one deadline: a started sandbox is
   * answered as it is (no request but a read); a stopped, archived or paused one is started; one in
   * a transition (starting, stopping, archiving, pausing, restoring, resizing, snapshotting, …) is
   * waited for and then started from where it lands. A start refused because another client began
   * a transition meanwhile (`ConflictError`) is tried again from a fresh read, a few times. `error`,
   * `build_failed` and `destroyed` end it with `SandboxFailedError`; a sandbox that is gone, with
   * `NotFoundError`.
   */
  readonly ensureStarted: (options?: WaitOptions) => Effect.Effect<Sandbox, LifecycleError>
  /**
   * Brings the sandbox to rest with no process running, under one deadline: a stopped or archived
   * sandbox is answered as it is (one that is gone counts as stopped, as for `waitUntilStopped`); a
   * started or paused one is stopped (with `force`, forcibly); one in a transition is waited for
   * first, as `ensureStarted` does. `error` and `build_failed` end it with `SandboxFailedError`.
   */
  readonly ensureStopped: (
    options?: WaitOptions & { readonly force?: boolean | undefined }
  ) => Effect.Effect<Sandbox, LifecycleError>
  /** Stops the sandbox (`force`: SIGKILL instead of SIGTERM) and waits until it is `stopped` or `destroyed`. */
  readonly stop: (
    options?: WaitOptions & { readonly force?: boolean | undefined }
  ) => Effect.Effect<Sandbox, LifecycleError>
  /** Deletes the sandbox; with `wait`, also waits until it is gone. */
  readonly delete: (
    options?: WaitOptions & { readonly wait?: boolean | undefined }
  ) => Effect.Effect<void, LifecycleError>
  /** Archives a stopped sandbox; with `wait`, also waits until it is `archived`. */
  readonly archive: (
    options?: WaitOptions & { readonly wait?: boolean | undefined }
  ) => Effect.Effect<Sandbox, LifecycleError>
  /** Recovers a sandbox in a recoverable `error` state and waits until it is `started`. */
  readonly recover: (options?: WaitOptions) => Effect.Effect<Sandbox, LifecycleError>
  /** Waits until the sandbox is `started`; `error` and `build_failed` end the wait with a failure. */
  readonly waitUntilStarted: (
    options?: WaitOptions
  ) => Effect.Effect<Sandbox, ApiError | NotFoundError | ValidationError | WaitTimeoutError | SandboxFailedError>
  /** Waits until the sandbox is `stopped`; a sandbox that is gone counts as stopped. */
  readonly waitUntilStopped: (
    options?: WaitOptions
  ) => Effect.Effect<Sandbox, ApiError | ValidationError | WaitTimeoutError | SandboxFailedError>
  /** Minutes of inactivity before auto-stop; 0 disables. Negative or fractional values are rejected. */
  readonly setAutostopInterval: (minutes: number) => Effect.Effect<Sandbox, UpdateError>
  /** Minutes stopped before auto-archive; 0 means the maximum. Negative or fractional values are rejected. */
  readonly setAutoArchiveInterval: (minutes: number) => Effect.Effect<Sandbox, UpdateError>
  /** Minutes stopped before auto-delete; negative disables, 0 deletes on stop. */
  readonly setAutoDeleteInterval: (minutes: number) => Effect.Effect<Sandbox, UpdateError>
  /** The preview URL of a port and, for a private sandbox, the token that opens it. */
  readonly getPreviewLink: (port: number) => Effect.Effect<PortPreviewUrl, ApiError | NotFoundError | ValidationError>
  /** A preview URL with its own token, valid for `expiresInSeconds` (1–86400; the server's default is 60). */
  readonly getSignedPreviewUrl: (
    port: number,
    options?: { readonly expiresInSeconds?: number | undefined }
  ) => Effect.Effect<SignedPortPreviewUrl, ApiError | NotFoundError | ValidationError>
  /** Ends a signed preview URL before its expiry. */
  readonly expireSignedPreviewUrl: (
    port: number,
    token: string
  ) => Effect.Effect<void, ApiError | NotFoundError | ValidationError>
  /** Creates an SSH access token (revoking the sandbox's earlier ones); the server's default lifetime is 60 minutes. */
  readonly createSshAccess: (options?: {
    readonly expiresInMinutes?: number | undefined
  }) => Effect.Effect<SshAccessDto, ApiError | NotFoundError | ValidationError>
  /** Revokes one SSH token, or all of the sandbox's tokens when none is given. */
  readonly revokeSshAccess: (token?: string) => Effect.Effect<void, ApiError | NotFoundError | ValidationError>
  /** Tells whether an SSH token is valid. Real Daytona answers this only to its SSH gateway's key (403 otherwise). */
  readonly validateSshAccess: (
    token: string
  ) => Effect.Effect<SshAccessValidationDto, ApiError | NotFoundError | ValidationError>
  /** Resets the auto-stop timer. */
  readonly refreshActivity: Effect.Effect<void, ApiError | NotFoundError>
  /**
   * Keeps the sandbox from being auto-stopped for inactivity while the current scope is open:
   * a fiber of the scope calls `refreshActivity` every `every` (default a third of the sandbox's
   * auto-stop interval, at least 30 s and at most 5 minutes), and stops when the scope closes.
   * A refresh that fails is tried again at the next tick; a sandbox that is gone ends the fiber.
   */
  readonly keepActive: (options?: {
    readonly every?: Duration.DurationInput | undefined
  }) => Effect.Effect<void, ValidationError, Scope.Scope>
  /** Changes network access; at least one setting is required. */
  readonly updateNetworkSettings: (settings: UpdateSandboxNetworkSettings) => Effect.Effect<Sandbox, UpdateError>
  /** Resizes CPU, memory (GiB) or disk (GiB) and waits until the resize completes. */
  readonly resize: (resources: ResizeSandbox, options?: WaitOptions) => Effect.Effect<Sandbox, LifecycleError>
  /** Waits until the sandbox is no longer `resizing`. */
  readonly waitForResizeComplete: (
    options?: WaitOptions
  ) => Effect.Effect<Sandbox, ApiError | NotFoundError | ValidationError | WaitTimeoutError | SandboxFailedError>
  /**
   * Freezes the sandbox's processes (`pausing`, then `paused`) and waits until it is `paused`;
   * `start` resumes it. Sandbox classes that cannot pause are refused by the server.
   */
  readonly pause: (options?: WaitOptions) => Effect.Effect<Sandbox, LifecycleError>
  /**
   * A new sandbox from a copy of this one's files (started or stopped), waited for until it is
   * `started`; this one shows `forking` meanwhile. Not replayed on a lost answer: a second request
   * would make a second fork.
   */
  readonly fork: (
    options?: WaitOptions & { readonly name?: string | undefined }
  ) => Effect.Effect<Sandbox, LifecycleError>
  /**
   * Captures the sandbox's files into a new snapshot named `name` (new sandboxes can start from it),
   * and waits until the sandbox has left `snapshotting`; then read the snapshot's state with
   * `Snapshots.get(name)`.
   */
  readonly createSnapshot: (name: string, options?: WaitOptions) => Effect.Effect<Sandbox, LifecycleError>
  /**
   * Minutes of inactivity before auto-pause; 0 disables. At most one of auto-stop and auto-pause
   * may be non-zero (disable auto-stop first). Negative or fractional values are rejected.
   */
  readonly setAutoPauseInterval: (minutes: number) => Effect.Effect<Sandbox, UpdateError>
  /**
   * Destroys the sandbox `minutes` from now, whatever its state (0 removes the TTL); the deadline is
   * `autoDestroyAt`. Negative or fractional values are rejected.
   */
  readonly setTtl: (minutes: number) => Effect.Effect<Sandbox, UpdateError>
  /** The latest sample of CPU, memory and disk use, from the sandbox's toolbox (`GET /system/metrics`). */
  readonly getMetricsLatest: Effect.Effect<SandboxMetrics.SandboxMetrics, ToolboxError>
  /**
   * The usage samples between `start` (default: the sandbox's creation) and `end` (default: now),
   * in time order (`GET /sandbox/{id}/telemetry/metrics`).
   */
  readonly getMetrics: (options?: {
    readonly start?: Date | undefined
    readonly end?: Date | undefined
  }) => Effect.Effect<ReadonlyArray<SandboxMetrics.SandboxMetrics>, ApiError | NotFoundError | ValidationError>
  /** The same as {@link Operations.getUserHomeDir} (Daytona deprecated this name). */
  readonly getUserRootDir: Effect.Effect<string, ToolboxError>
  /** The sandbox this one was forked from (`NotFoundError` when it was not forked). */
  readonly getParent: Effect.Effect<Sandbox, ApiError | NotFoundError>
  /** The sandboxes this one descends from by forks, the oldest first. */
  readonly getAncestors: Effect.Effect<ReadonlyArray<Sandbox>, ApiError | NotFoundError>
  /** The sandboxes forked from this one (destroyed ones too with `includeDestroyed`). */
  readonly getForks: (options?: {
    readonly includeDestroyed?: boolean | undefined
  }) => Effect.Effect<ReadonlyArray<Sandbox>, ApiError | NotFoundError | ValidationError>

  // --- secrets, environment, signed file URLs, build logs (issue 13) ---

  /**
   * Replaces the secrets mounted in the sandbox: environment variable name → name of an existing
   * secret (`{}` detaches them all). Processes started from now on see the new placeholders; the
   * substitution on outbound requests follows at once in a sandbox that had secrets or network rules
   * when it started, after a restart otherwise.
   */
  readonly updateSecrets: (secrets: Readonly<Record<string, string>>) => Effect.Effect<Sandbox, UpdateError>
  /**
   * Sets (and, with `unset`, removes first) environment variables of the processes, sessions and
   * terminals started from now on; running ones keep theirs (toolbox `POST /env`).
   */
  readonly updateEnv: (
    env: Readonly<Record<string, string>>,
    options?: { readonly unset?: ReadonlyArray<string> | undefined }
  ) => Effect.Effect<void, ToolboxError | ValidationError>
  /**
   * A URL that downloads the file at `path` with a plain GET, without the API key, until it expires
   * or the sandbox's signing key is rotated (and while the sandbox runs).
   */
  readonly downloadUrl: (
    path: string,
    options?: SignedUrlOptions
  ) => Effect.Effect<string, ApiError | NotFoundError | ValidationError>
  /**
   * A URL that uploads a file to `path` with a POST of `multipart/form-data` (the part `file`),
   * without the API key, until it expires or the signing key is rotated.
   */
  readonly uploadUrl: (
    path: string,
    options?: SignedUrlOptions
  ) => Effect.Effect<string, ApiError | NotFoundError | ValidationError>
  /** Replaces the sandbox's signing key: every URL signed before stops working. */
  readonly rotateSigningKey: Effect.Effect<void, ApiError | NotFoundError>
  /**
   * The build log of a sandbox created from an image, line by line, followed while the build runs
   * and ending when it ends.
   */
  readonly buildLogs: Stream.Stream<string, BuildLogs.FollowError | ValidationError>
}

/**
 * A sandbox read in full (`get`, `create`, lifecycle operations).
 *
 * @since 0.1.0
 * @category models
 */
export interface Sandbox extends SandboxDto, Operations {}

/**
 * A sandbox as a list returns it: the list item's fields (no `env`, network settings, volumes or
 * build information; `refreshData` reads them) and every operation.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxSummary extends SandboxListItem, Operations {}

/**
 * The services a handle's operations run on.
 *
 * @since 0.1.0
 * @category models
 */
export interface Services {
  readonly client: DaytonaClient.Service
  readonly toolbox: ToolboxClient.Service
  /** When present and available, waits listen to its events instead of polling. */
  readonly events?: Events.Service | undefined
}

const nonNegativeInteger = (field: string, value: number) =>
  Number.isInteger(value) && value >= 0
    ? Effect.void
    : Effect.fail(new ValidationError({ field, message: `${field} must be a non-negative integer, got ${value}` }))

/**
 * Fetches a sandbox by id or name.
 *
 * @since 0.1.0
 * @category internals
 */
export const fetchDto = (services: Services, idOrName: string): Effect.Effect<SandboxDto, ApiError | NotFoundError> =>
  services.client.call(ControlPlaneApi.getSandbox, { params: { sandboxIdOrName: idOrName } }).pipe(inputCannotFail)

/**
 * The label every create of the SDK carries, with a value of its own: after an answer was lost, the
 * create is found again by it (and a duplicate deleted).
 *
 * @since 0.1.0
 * @category constants
 */
export const createIdLabel = "effect-daytona.create-id"

/**
 * A fork inherits its parent's labels, the parent's create id included, so a search for the parent's
 * create would find the fork too (and might delete it as a duplicate): the fork's copy is removed.
 */
const withoutInheritedCreateId = (
  services: Services,
  fork: SandboxDto
): Effect.Effect<SandboxDto, ApiError | NotFoundError | ConflictError | ValidationError> => {
  if (fork.labels[createIdLabel] === undefined) return Effect.succeed(fork)
  const { [createIdLabel]: _inherited, ...labels } = fork.labels
  return services.client
    .call(ControlPlaneApi.replaceLabels, { params: { sandboxIdOrName: fork.id }, payload: { labels } })
    .pipe(Effect.flatMap((answer) => ("id" in answer ? Effect.succeed(answer) : fetchDto(services, fork.id))))
}

/**
 * Forks a sandbox by id or name and waits until the fork is `started`, under one deadline.
 *
 * @since 0.1.0
 * @category internals
 */
export const forkSandbox = (
  services: Services,
  idOrName: string,
  options: (WaitOptions & { readonly name?: string | undefined }) | undefined
): Effect.Effect<Sandbox, LifecycleError> =>
  Effect.gen(function* () {
    const timeout = yield* Wait.deadlineFrom("timeout", options?.timeout, services.client.config.operationTimeout)
    const tracker = yield* Wait.tracker(idOrName)
    const run = Effect.gen(function* () {
      const started = yield* EventWait.wait({
        events: services.events,
        request: services.client
          .call(ControlPlaneApi.forkSandbox, {
            params: { sandboxIdOrName: idOrName },
            payload: options?.name === undefined ? {} : { name: options.name }
          })
          .pipe(Effect.flatMap(tracker.observe)),
        read: (child) => Effect.flatMap(fetchDto(services, child?.id ?? idOrName), tracker.observe),
        pick: (event, child) => (child === undefined ? Option.none() : EventWait.pickSandbox(child.id)(event)),
        decide: Wait.untilStarted,
        schedule: options?.schedule,
        observe: tracker.observe
      })
      return make(yield* withoutInheritedCreateId(services, started), services)
    })
    return yield* Wait.withDeadline(
      run,
      timeout,
      tracker.timeoutError({ operation: "fork", awaited: "started", timeout })
    )
  })

/**
 * Builds a handle from a sandbox's fields.
 *
 * @since 0.1.0
 * @category constructors
 */
export function make(dto: SandboxDto, services: Services): Sandbox
export function make(dto: SandboxListItem, services: Services): SandboxSummary
export function make(dto: SandboxDto | SandboxListItem, services: Services): Sandbox | SandboxSummary {
  const { toolbox } = services
  // A handle is made for every sandbox a call answers with (a list page makes hundreds): each
  // feature's operations are built on first use. Getters of the literal stay own, enumerable
  // properties, so that a copy of the handle (`{ ...sandbox }`) carries the features too.
  let fs: FileSystem.FileSystem | undefined
  let git: Git.Git | undefined
  let process: Process.Process | undefined
  let computerUse: ComputerUse.ComputerUse | undefined
  let codeInterpreter: CodeInterpreter.CodeInterpreter | undefined
  return {
    ...dto,
    ...operations(dto, services),
    get fs() {
      return (fs ??= FileSystem.make(dto, toolbox))
    },
    get git() {
      return (git ??= Git.make(dto, toolbox))
    },
    get process() {
      return (process ??= Process.make(dto, toolbox))
    },
    get computerUse() {
      return (computerUse ??= ComputerUse.make(dto, toolbox))
    },
    get codeInterpreter() {
      return (codeInterpreter ??= CodeInterpreter.make(dto, toolbox))
    }
  }
}

/**
 * An effect built on its first run and then kept: most of a handle's effects are never run (a
 * list's handles mostly are not), so none is built before it is.
 */
const builtOnFirstRun = <A, E, R>(build: () => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  let built: Effect.Effect<A, E, R> | undefined
  return Effect.suspend(() => (built ??= build()))
}

/** The feature services of a handle, built on first use (see {@link make}). */
type FeatureServices = Pick<Operations, "fs" | "git" | "process" | "computerUse" | "codeInterpreter">

/**
 * How often `keepActive` refreshes by default: a third of the auto-stop interval (minutes), within
 * 30 s and 5 minutes; 5 minutes when auto-stop is off.
 */
const keepActiveEvery = (autoStopMinutes: number | undefined): Duration.Duration =>
  autoStopMinutes === undefined || autoStopMinutes <= 0
    ? Duration.minutes(5)
    : Duration.clamp(Duration.seconds((autoStopMinutes * 60) / 3), {
        minimum: Duration.seconds(30),
        maximum: Duration.minutes(5)
      })

/** How many times `ensureStarted` and `ensureStopped` act again after another client began a transition first. */
const maxConflicts = 5

const operations = (self: SandboxListItem, services: Services): Omit<Operations, keyof FeatureServices> => {
  const { client, toolbox } = services
  const id = self.id
  const ref = { params: { sandboxIdOrName: id } } as const
  const wrap = (dto: SandboxDto): Sandbox => make(dto, services)
  const span = (name: string) =>
    Spans.withSpan(`Sandbox.${name}`, { captureStackTrace: false, attributes: { "daytona.sandbox.id": id } })
  const deadline = (options: WaitOptions | undefined) =>
    Wait.deadlineFrom("timeout", options?.timeout, client.config.operationTimeout)

  const fetch = builtOnFirstRun(() => fetchDto(services, id))

  /**
   * Sends `request` (when given), then polls until `decide` is done, all under the operation's
   * deadline. A poll that fails transiently is a missed poll (see `Wait.poll`).
   */
  const waitFor = <E, E2, E1 = never>(
    operation: string,
    awaited: string,
    decide: (dto: SandboxDto) => Wait.Decision<SandboxDto, E>,
    request: Effect.Effect<SandboxDto, E1> | undefined,
    poll: Effect.Effect<SandboxDto, E2>,
    options: WaitOptions | undefined
  ) =>
    Effect.gen(function* () {
      const timeout = yield* deadline(options)
      const tracker = yield* Wait.tracker(id)
      const run = EventWait.wait({
        events: services.events,
        request: request === undefined ? undefined : Effect.flatMap(request, tracker.observe),
        read: () => Effect.flatMap(poll, tracker.observe),
        pick: EventWait.pickSandbox(id),
        decide,
        schedule: options?.schedule,
        observe: tracker.observe
      })
      return wrap(
        yield* Wait.withDeadline(run, timeout, tracker.timeoutError({ operation, awaited, timeout })).pipe(
          Telemetry.timedWait(operation)
        )
      )
    })

  const fetchOrDestroyed = builtOnFirstRun(() =>
    fetch.pipe(
      Effect.catchTag("NotFoundError", () =>
        Effect.succeed({ ...toDto(self), state: "destroyed", desiredState: "destroyed" } satisfies SandboxDto)
      )
    )
  )

  /**
   * The reconciliation of a lifecycle request whose answer was lost: the sandbox as it is now when
   * it shows the request took effect (or is under way), nothing when the request must be sent again.
   */
  const reconcileWith = (read: Effect.Effect<SandboxDto, unknown>, tookEffect: (dto: SandboxDto) => boolean) =>
    Effect.map(read, (dto) => (tookEffect(dto) ? Option.some(dto) : Option.none()))

  const waitUntilStarted: Operations["waitUntilStarted"] = (options) =>
    waitFor("waitUntilStarted", "started", Wait.untilStarted, undefined, fetch, options).pipe(span("waitUntilStarted"))

  const waitUntilStopped: Operations["waitUntilStopped"] = (options) =>
    waitFor("waitUntilStopped", "stopped", Wait.untilStopped, undefined, fetchOrDestroyed, options).pipe(
      span("waitUntilStopped")
    )

  const setInterval = (
    name: string,
    endpoint:
      | typeof ControlPlaneApi.setAutostopInterval
      | typeof ControlPlaneApi.setAutoArchiveInterval
      | typeof ControlPlaneApi.setAutoDeleteInterval,
    minutes: number,
    validate: (minutes: number) => Effect.Effect<void, ValidationError>
  ) =>
    validate(minutes).pipe(
      Effect.zipRight(client.call(endpoint, { params: { sandboxIdOrName: id, interval: minutes } })),
      Effect.map(wrap),
      span(name)
    )

  const waitForResizeComplete: Operations["waitForResizeComplete"] = (options) =>
    waitFor("waitForResizeComplete", "resized", Wait.untilNotIn(["resizing"]), undefined, fetch, options).pipe(
      span("waitForResizeComplete")
    )

  /** A directory of the sandbox the toolbox names (home, work), read by the operation `name`. */
  const directory = (endpoint: typeof ToolboxApi.getUserHomeDir | typeof ToolboxApi.getWorkDir, name: string) =>
    builtOnFirstRun(() =>
      toolbox.call(self, endpoint, {}).pipe(
        inputCannotFail,
        Effect.map((answer) => answer.dir),
        span(name)
      )
    )

  /**
   * Brings the sandbox to a state `reached` accepts, under one deadline: a sandbox resting in one
   * of `from` is moved by `act`, one in a transition is waited for first; a 409 from another
   * client's transition is answered by reading again (a few times); `fails` ends it.
   */
  const ensure = (
    operation: string,
    awaited: string,
    read: Effect.Effect<SandboxDto, ApiError | NotFoundError>,
    rule: {
      readonly reached: (state: SandboxState | undefined) => boolean
      readonly fails: (state: SandboxState | undefined) => boolean
      readonly from: ReadonlyArray<SandboxState>
      readonly act: (current: Sandbox, inner: WaitOptions) => Effect.Effect<Sandbox, LifecycleError>
    },
    options: WaitOptions | undefined
  ): Effect.Effect<Sandbox, LifecycleError> =>
    Effect.gen(function* () {
      const timeout = yield* deadline(options)
      const tracker = yield* Wait.tracker(id)
      const inner: WaitOptions = { timeout: Duration.infinity, schedule: options?.schedule }
      const run = Effect.gen(function* () {
        let current: Sandbox = wrap(yield* Effect.flatMap(read, tracker.observe))
        for (let conflicts = 0; ; ) {
          const state = current.state
          const resting = current.desiredState === undefined || current.desiredState === state
          if (rule.reached(state) && resting) return current
          if (rule.fails(state)) return yield* Wait.failedError(current)
          if (state !== undefined && rule.from.includes(state) && resting) {
            const moved = yield* Effect.either(rule.act(current, inner))
            if (Either.isRight(moved)) return moved.right
            if (moved.left._tag !== "ConflictError" || ++conflicts > maxConflicts) return yield* Effect.fail(moved.left)
            current = wrap(yield* Effect.flatMap(read, tracker.observe))
            continue
          }
          current = yield* waitFor(operation, "at rest", Wait.untilResting, undefined, read, inner)
        }
      })
      return yield* Wait.withDeadline(run, timeout, tracker.timeoutError({ operation, awaited, timeout }))
    }).pipe(span(operation))

  const ensureStarted: Operations["ensureStarted"] = (options) =>
    ensure(
      "ensureStarted",
      "started",
      fetch,
      {
        reached: (state) => state === "started",
        fails: (state) => state === "destroyed" || isFailed(state),
        from: ["stopped", "archived", "paused"],
        act: (current, inner) => current.start(inner)
      },
      options
    )

  const ensureStopped: Operations["ensureStopped"] = (options) =>
    ensure(
      "ensureStopped",
      "stopped",
      fetchOrDestroyed,
      {
        reached: (state) => state === "stopped" || state === "archived" || state === "destroyed",
        fails: isFailed,
        from: ["started", "paused"],
        act: (current, inner) => current.stop({ ...inner, force: options?.force })
      },
      options
    )

  const refreshActivity = builtOnFirstRun(() =>
    client
      .call(ControlPlaneApi.updateLastActivity, { params: { sandboxId: id } })
      .pipe(inputCannotFail, span("refreshActivity"))
  )

  const keepActive: Operations["keepActive"] = (options) =>
    Effect.gen(function* () {
      const every = yield* Wait.deadlineFrom("every", options?.every, keepActiveEvery(self.autoStopInterval))
      if (!Duration.isFinite(every))
        return yield* new ValidationError({ field: "every", message: "every must be a finite duration" })
      const gone = (refreshed: Either.Either<void, ApiError | NotFoundError>) =>
        Either.isLeft(refreshed) && refreshed.left._tag === "NotFoundError"
      yield* Effect.either(refreshActivity).pipe(
        Effect.repeat({ schedule: Schedule.spaced(every), until: gone }),
        Effect.forkScoped
      )
    })

  const isPortInUse = (port: number) =>
    toolbox
      .call(self, ToolboxApi.isPortInUse, { params: { port } })
      .pipe(Effect.map((answer) => answer.isInUse === true))

  const waitUntilPortInUse: Operations["waitUntilPortInUse"] = (port, options) =>
    Effect.gen(function* () {
      const timeout = yield* deadline(options)
      const listened = Wait.poll(isPortInUse(port), {
        decide: (inUse) => (inUse ? Wait.done(undefined) : Wait.keepPolling),
        schedule: options?.schedule
      })
      const timedOut = new WaitTimeoutError({
        operation: "waitUntilPortInUse",
        resourceId: id,
        timeout,
        awaited: `listening on port ${port}`
      })
      yield* Wait.withDeadline(listened, timeout, Effect.succeed(timedOut))
    }).pipe(span("waitUntilPortInUse"))

  return {
    createLspServer: (languageId, pathToProject) =>
      LspServer.make(self, toolbox, languageId, pathToProject).pipe(span("createLspServer")),
    refreshData: builtOnFirstRun(() => fetch.pipe(Effect.map(wrap), span("refreshData"))),
    getUserHomeDir: directory(ToolboxApi.getUserHomeDir, "getUserHomeDir"),
    getWorkDir: directory(ToolboxApi.getWorkDir, "getWorkDir"),
    getActivePorts: builtOnFirstRun(() =>
      toolbox.call(self, ToolboxApi.getPorts, {}).pipe(
        inputCannotFail,
        Effect.map((answer) => Array.from(new Set(answer.ports ?? [])).sort((a, b) => a - b)),
        span("getActivePorts")
      )
    ),
    isPortInUse: (port) => isPortInUse(port).pipe(span("isPortInUse")),
    waitUntilPortInUse,
    setLabels: (labels) =>
      client.call(ControlPlaneApi.replaceLabels, { ...ref, payload: { labels } }).pipe(
        Effect.flatMap((answer) => ("id" in answer ? Effect.succeed(answer) : fetch)),
        Effect.map(wrap),
        span("setLabels")
      ),
    start: (options) =>
      waitFor(
        "start",
        "started",
        Wait.untilStarted,
        client
          .call(ControlPlaneApi.startSandbox, ref, {
            reconcile: reconcileWith(fetch, (dto) => dto.state === "started" || dto.desiredState === "started")
          })
          .pipe(
            Effect.catchIf(FailedToStart.isFailedToStart, (error) => FailedToStart.toSandboxFailed(id, error, fetch))
          ),
        fetch,
        options
      ).pipe(span("start")),
    ensureStarted,
    ensureStopped,
    stop: (options) =>
      waitFor(
        "stop",
        "stopped",
        Wait.untilStopped,
        client.call(
          ControlPlaneApi.stopSandbox,
          { ...ref, query: { force: options?.force ?? false } },
          {
            reconcile: reconcileWith(
              fetchOrDestroyed,
              (dto) =>
                ["stopping", "stopped", "destroying", "destroyed"].includes(dto.state ?? "") ||
                dto.desiredState === "stopped" ||
                dto.desiredState === "destroyed"
            )
          }
        ),
        fetchOrDestroyed,
        options
      ).pipe(span("stop")),
    delete: (options) =>
      Effect.gen(function* () {
        const timeout = yield* deadline(options)
        const tracker = yield* Wait.tracker(id)
        const run = Effect.gen(function* () {
          yield* client.execute(ControlPlaneApi.deleteSandbox, ref).pipe(Effect.flatMap(Transport.discardBody))
          if (options?.wait !== true) return
          yield* Wait.poll(Effect.flatMap(fetchOrDestroyed, tracker.observe), {
            decide: Wait.untilState("destroyed"),
            schedule: options.schedule
          })
        })
        yield* Wait.withDeadline(
          run,
          timeout,
          tracker.timeoutError({ operation: "delete", awaited: "destroyed", timeout })
        )
      }).pipe(span("delete")),
    archive: (options) =>
      waitFor(
        "archive",
        "archived",
        (dto) => (options?.wait === true ? Wait.untilState("archived")(dto) : Wait.done(dto)),
        client.call(ControlPlaneApi.archiveSandbox, ref, {
          reconcile: reconcileWith(
            fetch,
            (dto) => dto.state === "archiving" || dto.state === "archived" || dto.desiredState === "archived"
          )
        }),
        fetch,
        options
      ).pipe(span("archive")),
    recover: (options) =>
      waitFor(
        "recover",
        "started",
        Wait.untilStarted,
        client
          .call(ControlPlaneApi.recoverSandbox, ref, {
            // Recovery moves the sandbox out of `error` at once; still there, it did not happen.
            reconcile: reconcileWith(fetch, (dto) => dto.state !== "error")
          })
          .pipe(
            Effect.catchIf(FailedToStart.isFailedToStart, (error) => FailedToStart.toSandboxFailed(id, error, fetch))
          ),
        fetch,
        options
      ).pipe(span("recover")),
    waitUntilStarted,
    waitUntilStopped,
    setAutostopInterval: (minutes) =>
      setInterval("setAutostopInterval", ControlPlaneApi.setAutostopInterval, minutes, (m) =>
        nonNegativeInteger("autoStopInterval", m)
      ),
    setAutoArchiveInterval: (minutes) =>
      setInterval("setAutoArchiveInterval", ControlPlaneApi.setAutoArchiveInterval, minutes, (m) =>
        nonNegativeInteger("autoArchiveInterval", m)
      ),
    setAutoDeleteInterval: (minutes) =>
      setInterval("setAutoDeleteInterval", ControlPlaneApi.setAutoDeleteInterval, minutes, (m) =>
        Number.isInteger(m)
          ? Effect.void
          : Effect.fail(
              new ValidationError({
                field: "autoDeleteInterval",
                message: `autoDeleteInterval must be an integer, got ${m}`
              })
            )
      ),
    getPreviewLink: (port) =>
      client
        .call(ControlPlaneApi.getPortPreviewUrl, { params: { sandboxIdOrName: id, port } })
        .pipe(span("getPreviewLink")),
    getSignedPreviewUrl: (port, options) =>
      client
        .call(ControlPlaneApi.getSignedPortPreviewUrl, {
          params: { sandboxIdOrName: id, port },
          query: options?.expiresInSeconds === undefined ? {} : { expiresInSeconds: options.expiresInSeconds }
        })
        .pipe(span("getSignedPreviewUrl")),
    expireSignedPreviewUrl: (port, token) =>
      client
        .call(ControlPlaneApi.expireSignedPortPreviewUrl, { params: { sandboxIdOrName: id, port, token } })
        .pipe(span("expireSignedPreviewUrl")),
    createSshAccess: (options) =>
      client
        .call(ControlPlaneApi.createSshAccess, {
          ...ref,
          query: options?.expiresInMinutes === undefined ? {} : { expiresInMinutes: options.expiresInMinutes }
        })
        .pipe(span("createSshAccess")),
    revokeSshAccess: (token) =>
      client
        .call(ControlPlaneApi.revokeSshAccess, { ...ref, query: token === undefined ? {} : { token } })
        .pipe(Effect.asVoid, span("revokeSshAccess")),
    validateSshAccess: (token) =>
      (token === ""
        ? Effect.fail(new ValidationError({ field: "token", message: "token must not be empty" }))
        : Effect.void
      ).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.validateSshAccess, { query: { token } })),
        span("validateSshAccess")
      ),
    refreshActivity,
    keepActive,
    updateNetworkSettings: (settings) =>
      (settings.networkBlockAll === undefined &&
      settings.networkAllowList === undefined &&
      settings.domainAllowList === undefined
        ? Effect.fail(
            new ValidationError({
              field: "settings",
              message: "at least one of networkBlockAll, networkAllowList, domainAllowList is required"
            })
          )
        : Effect.void
      ).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.updateNetworkSettings, { ...ref, payload: settings })),
        Effect.map(wrap),
        span("updateNetworkSettings")
      ),
    resize: (resources, options) =>
      Effect.gen(function* () {
        const entries = (["cpu", "memory", "disk"] as const).filter((key) => resources[key] !== undefined)
        if (entries.length === 0) {
          return yield* new ValidationError({
            field: "resources",
            message: "at least one of cpu, memory, disk is required"
          })
        }
        for (const key of entries) {
          const value = resources[key] ?? 0
          if (!(Number.isInteger(value) && value >= 1)) {
            return yield* new ValidationError({
              field: key,
              message: `${key} must be a positive integer, got ${value}`
            })
          }
        }
        const body = Object.fromEntries(entries.map((key) => [key, resources[key]]))
        return yield* waitFor(
          "resize",
          "resized",
          Wait.untilNotIn(["resizing"]),
          client.call(
            ControlPlaneApi.resizeSandbox,
            { ...ref, payload: body },
            {
              headers: { "x-daytona-organization-id": self.organizationId },
              reconcile: reconcileWith(
                fetch,
                (dto) => dto.state === "resizing" || entries.every((key) => dto[key] === resources[key])
              )
            }
          ),
          fetch,
          options
        )
      }).pipe(span("resize")),
    waitForResizeComplete,
    pause: (options) =>
      waitFor(
        "pause",
        "paused",
        Wait.untilState("paused"),
        client.call(ControlPlaneApi.pauseSandbox, ref, {
          reconcile: reconcileWith(
            fetch,
            (dto) => dto.state === "pausing" || dto.state === "paused" || dto.desiredState === "paused"
          )
        }),
        fetch,
        options
      ).pipe(span("pause")),
    fork: (options) => forkSandbox(services, id, options).pipe(span("fork")),
    createSnapshot: (name, options) =>
      (name.trim() === ""
        ? Effect.fail(new ValidationError({ field: "name", message: "a snapshot name is required" }))
        : Effect.void
      ).pipe(
        Effect.zipRight(
          waitFor(
            "createSnapshot",
            "snapshot complete",
            Wait.untilNotIn(["snapshotting"]),
            client.call(
              ControlPlaneApi.createSandboxSnapshot,
              { ...ref, payload: { name } },
              {
                // Snapshot names are unique: one of this name taken from this sandbox means it happened.
                reconcile: client.call(ControlPlaneApi.getSnapshot, { params: { id: name } }).pipe(
                  Effect.flatMap((snapshot) =>
                    snapshot.sourceSandboxId === id ? Effect.map(fetch, Option.some) : Effect.succeedNone
                  ),
                  Effect.catchTag("NotFoundError", () => Effect.succeedNone)
                )
              }
            ),
            fetch,
            options
          )
        ),
        span("createSnapshot")
      ),
    setAutoPauseInterval: (minutes) =>
      nonNegativeInteger("autoPauseInterval", minutes).pipe(
        Effect.zipRight(
          client.call(ControlPlaneApi.setAutoPauseInterval, { params: { sandboxIdOrName: id, interval: minutes } })
        ),
        Effect.map(wrap),
        span("setAutoPauseInterval")
      ),
    setTtl: (minutes) =>
      nonNegativeInteger("ttlMinutes", minutes).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.setTtl, { params: { sandboxIdOrName: id, ttlMinutes: minutes } })),
        Effect.map(wrap),
        span("setTtl")
      ),
    getMetricsLatest: builtOnFirstRun(() =>
      Effect.zipWith(
        toolbox.call(self, ToolboxApi.getSystemMetrics, {}).pipe(inputCannotFail),
        Clock.currentTimeMillis,
        (metrics, now) => SandboxMetrics.fromSystemMetrics(metrics, new Date(now))
      ).pipe(span("getMetricsLatest"))
    ),
    getMetrics: (options) =>
      Effect.gen(function* () {
        const to = options?.end ?? new Date(yield* Clock.currentTimeMillis)
        const from = options?.start ?? (self.createdAt === undefined ? to : new Date(self.createdAt))
        if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
          return yield* new ValidationError({ field: "start", message: "start and end must be valid dates" })
        if (from.getTime() > to.getTime())
          return yield* new ValidationError({ field: "start", message: "start must not be after end" })
        const answer = yield* client.call(ControlPlaneApi.getSandboxMetrics, {
          params: { sandboxId: id },
          query: { from, to, metricNames: Object.keys(SandboxMetrics.metricNames) }
        })
        return SandboxMetrics.fromSeries(answer)
      }).pipe(span("getMetrics")),
    getUserRootDir: directory(ToolboxApi.getUserHomeDir, "getUserRootDir"),
    getParent: builtOnFirstRun(() =>
      client.call(ControlPlaneApi.getSandboxParent, ref).pipe(inputCannotFail, Effect.map(wrap), span("getParent"))
    ),
    getAncestors: builtOnFirstRun(() =>
      client.call(ControlPlaneApi.getSandboxAncestors, ref).pipe(
        inputCannotFail,
        Effect.map((all) => all.map(wrap)),
        span("getAncestors")
      )
    ),
    getForks: (options) =>
      client
        .call(ControlPlaneApi.getSandboxForks, {
          ...ref,
          query: options?.includeDestroyed === undefined ? {} : { includeDestroyed: options.includeDestroyed }
        })
        .pipe(
          Effect.map((all) => all.map(wrap)),
          span("getForks")
        ),
    ...dataOperations(self, services, wrap, span)
  }
}

const defaultUrlLifetime = Duration.hours(1)

/** The operations of issue 13: secrets, environment, signed file URLs, build logs. */
const dataOperations = (
  self: SandboxListItem,
  services: Services,
  wrap: (dto: SandboxDto) => Sandbox,
  span: (name: string) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
): Pick<Operations, "updateSecrets" | "updateEnv" | "downloadUrl" | "uploadUrl" | "rotateSigningKey" | "buildLogs"> => {
  const { client, toolbox } = services
  const id = self.id

  const expiresAt = (options: SignedUrlOptions | undefined) =>
    Effect.gen(function* () {
      const lifetime = Duration.decode(options?.expiresIn ?? defaultUrlLifetime)
      if (!Duration.isFinite(lifetime)) return 0
      const seconds = Duration.toSeconds(lifetime)
      if (!Number.isInteger(seconds) || seconds < 1)
        return yield* new ValidationError({
          field: "expiresIn",
          message: `expiresIn must be a whole number of seconds, at least 1, got ${seconds}`
        })
      return Math.floor((yield* Clock.currentTimeMillis) / 1000) + seconds
    })

  const signed = (operation: "download" | "upload") => (path: string, options?: SignedUrlOptions) =>
    Effect.gen(function* () {
      if (path === "") return yield* new ValidationError({ field: "path", message: "a path is required" })
      const expires = yield* expiresAt(options)
      const key = yield* client
        .call(ControlPlaneApi.getSandboxSigningKey, { params: { sandboxId: id } })
        .pipe(inputCannotFail)
      return yield* FileUrlSigning.signedUrl({
        toolboxProxyUrl: self.toolboxProxyUrl,
        sandboxId: id,
        operation,
        path,
        expires,
        key: key.trim()
      })
    }).pipe(span(`${operation}Url`))

  return {
    updateSecrets: (secrets) =>
      client
        .call(ControlPlaneApi.updateSandboxSecrets, {
          params: { sandboxIdOrName: id },
          payload: { secrets: Object.entries(secrets).map(([env, secret]) => ({ [env]: secret })) }
        })
        .pipe(Effect.map(wrap), span("updateSecrets")),
    updateEnv: (env, options) =>
      toolbox
        .call(self, ToolboxApi.updateEnv, {
          payload: { set: env, ...(options?.unset === undefined ? {} : { unset: options.unset }) }
        })
        .pipe(Effect.asVoid, span("updateEnv")),
    downloadUrl: signed("download"),
    uploadUrl: signed("upload"),
    rotateSigningKey: builtOnFirstRun(() =>
      client
        .call(ControlPlaneApi.rotateSigningKey, { params: { sandboxId: id } })
        .pipe(inputCannotFail, Effect.asVoid, span("rotateSigningKey"))
    ),
    buildLogs: Stream.suspend(() =>
      client.call(ControlPlaneApi.getBuildLogsUrl, { params: { sandboxIdOrName: id } }).pipe(
        Effect.map((answer) => BuildLogs.follow(client.sendAbsolute, answer.url, Transport.secretsOf(client.config))),
        Stream.unwrap,
        Spans.withStreamSpan("Sandbox.buildLogs", {
          captureStackTrace: false,
          attributes: { "daytona.sandbox.id": id }
        })
      )
    )
  }
}

const toDto = (item: SandboxListItem | SandboxDto): SandboxDto =>
  "env" in item ? item : { ...item, env: {}, networkBlockAll: false }
