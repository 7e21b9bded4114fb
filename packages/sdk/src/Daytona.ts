/**
 * The Daytona service: create, find, list and delete sandboxes.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ControlPlaneApi from "./ControlPlaneApi.js"
import type { CreateSandbox, Resources } from "./CreateSandbox.js"
import * as DaytonaClient from "./DaytonaClient.js"
import * as DaytonaConfig from "./DaytonaConfig.js"
import {
  type ApiError,
  type BuildContextError,
  type ConflictError,
  type MissingCredentialsError,
  type NotFoundError,
  type ObjectStorageError,
  type SandboxFailedError,
  ValidationError,
  type WaitTimeoutError
} from "./DaytonaError.js"
import * as Image from "./Image.js"
import * as ContextUpload from "./internal/contextUpload.js"
import * as FailedToStart from "./internal/failedToStart.js"
import * as Telemetry from "./internal/telemetry.js"
import * as Transport from "./internal/transport.js"
import type { SandboxVolume } from "./SandboxDto.js"
import * as Sandbox from "./Sandbox.js"
import type { SandboxClass, SandboxState } from "./SandboxState.js"
import * as Secrets from "./Secrets.js"
import * as Events from "./Events.js"
import * as EventWait from "./internal/eventWait.js"
import * as Snapshots from "./Snapshots.js"
import * as ToolboxClient from "./ToolboxClient.js"
import * as Volumes from "./Volumes.js"
import * as WarmPools from "./WarmPools.js"
import * as Wait from "./Wait.js"
import * as Spans from "./internal/spans.js"

/**
 * The label every sandbox created by this SDK carries: a unique id per create call, by which a
 * sandbox whose create answer never arrived is found again (to adopt it or to delete it).
 *
 * @since 0.1.0
 * @category constants
 */
export const createIdLabel: typeof Sandbox.createIdLabel = Sandbox.createIdLabel

/**
 * Languages a sandbox's code runner speaks.
 *
 * @since 0.1.0
 * @category models
 */
export type CodeLanguage = "python" | "typescript" | "javascript"

/**
 * How to create a sandbox. Give `snapshot` (a snapshot's name or id; the server's default when
 * neither is given) or `image`, not both. An `image` is an image name (built as `FROM <image>`), an
 * `Image` from the declarative builder (sent as its Dockerfile; one with issues fails with a
 * `ValidationError` before any request; its local build context, if it has one, is uploaded first:
 * see `BuildContext.upload`), or a Dockerfile with the hashes of an already uploaded context.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateOptions {
  readonly name?: string | undefined
  readonly snapshot?: string | undefined
  readonly image?:
    | string
    | Image.Image
    | { readonly dockerfile: string; readonly contextHashes?: ReadonlyArray<string> }
    | undefined
  /** Stored as the `code-toolbox-language` label; default `python`. */
  readonly language?: CodeLanguage | undefined
  /** The OS user; the server's default is `daytona`. */
  readonly user?: string | undefined
  readonly envVars?: Readonly<Record<string, string>> | undefined
  readonly labels?: Readonly<Record<string, string>> | undefined
  /** Whether preview links work without a token. */
  readonly public?: boolean | undefined
  /** Only with `image`: a snapshot brings its own resources. */
  readonly resources?: Resources | undefined
  /** Minutes of inactivity before auto-stop; 0 disables (server default 15). */
  readonly autoStopInterval?: number | undefined
  /** Minutes stopped before auto-archive; 0 means the maximum (server default 7 days). */
  readonly autoArchiveInterval?: number | undefined
  /** Minutes stopped before auto-delete; negative disables (the default), 0 deletes on stop. */
  readonly autoDeleteInterval?: number | undefined
  /** Deleted as soon as it stops (the same as `autoDeleteInterval: 0`). */
  readonly ephemeral?: boolean | undefined
  /**
   * Minutes of inactivity before auto-pause; 0 disables. At most one of `autoStopInterval` and
   * `autoPauseInterval` may be non-zero; not allowed for ephemeral sandboxes.
   */
  readonly autoPauseInterval?: number | undefined
  /** Minutes after which the sandbox is destroyed, whatever its state; 0 (the default) disables. */
  readonly ttlMinutes?: number | undefined
  /** GPU sandboxes only: may be evicted without notice to free capacity. */
  readonly spot?: boolean | undefined
  readonly volumes?: ReadonlyArray<SandboxVolume> | undefined
  readonly networkBlockAll?: boolean | undefined
  /** Comma-separated IPv4 CIDRs (at most 10). */
  readonly networkAllowList?: string | undefined
  readonly domainAllowList?: string | undefined
  /** The region; default `DaytonaConfig.target`. */
  readonly target?: string | undefined
  /**
   * Deadline for the request and the wait until `started`. Default `DaytonaConfig.operationTimeout`.
   * The upload of an `Image`'s build context comes before it (each of its requests has the request
   * timeout, at least 30 minutes for an archive).
   */
  readonly timeout?: Duration.DurationInput | undefined
  /**
   * Secrets to mount: environment variable name → name of an existing secret of the organization.
   * The variable holds the secret's placeholder; the value is substituted on outbound requests to
   * the secret's hosts.
   */
  readonly secrets?: Readonly<Record<string, string>> | undefined
}

/**
 * Errors of `create`. `ObjectStorageError` and `BuildContextError` come only from the upload of an
 * `Image`'s build context.
 *
 * @since 0.1.0
 * @category models
 */
export type CreateError =
  | ApiError
  | ConflictError
  | ValidationError
  | NotFoundError
  | WaitTimeoutError
  | SandboxFailedError
  | ObjectStorageError
  | BuildContextError

/**
 * Filters of the sandbox list. Names follow the API; arrays match any of their values, `labels`
 * matches all of its pairs.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListQuery {
  readonly id?: string | undefined
  readonly name?: string | undefined
  readonly labels?: Readonly<Record<string, string>> | undefined
  readonly states?: ReadonlyArray<SandboxState> | undefined
  readonly snapshots?: ReadonlyArray<string> | undefined
  readonly regionIds?: ReadonlyArray<string> | undefined
  readonly sandboxClasses?: ReadonlyArray<SandboxClass> | undefined
  readonly includeErroredDeleted?: boolean | undefined
  readonly minCpu?: number | undefined
  readonly maxCpu?: number | undefined
  readonly minMemoryGiB?: number | undefined
  readonly maxMemoryGiB?: number | undefined
  readonly minDiskGiB?: number | undefined
  readonly maxDiskGiB?: number | undefined
  readonly isPublic?: boolean | undefined
  readonly isRecoverable?: boolean | undefined
  readonly createdAtAfter?: Date | undefined
  readonly createdAtBefore?: Date | undefined
  readonly lastEventAfter?: Date | undefined
  readonly lastEventBefore?: Date | undefined
  readonly sort?: "name" | "cpu" | "memoryGib" | "diskGib" | "lastActivityAt" | "createdAt" | undefined
  readonly order?: "asc" | "desc" | undefined
  /** Page size, 1–200 (server default 100). */
  readonly limit?: number | undefined
}

/**
 * One page of the cursor-paginated list.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxPage {
  readonly items: ReadonlyArray<Sandbox.SandboxSummary>
  readonly nextCursor: string | null
}

/**
 * Filters of the deprecated page-based list.
 *
 * @since 0.1.0
 * @category models
 */
export interface PaginatedQuery
  extends Omit<
    ListQuery,
    "regionIds" | "sandboxClasses" | "isPublic" | "isRecoverable" | "createdAtAfter" | "createdAtBefore" | "sort"
  > {
  readonly page?: number | undefined
  readonly regions?: ReadonlyArray<string> | undefined
  readonly sort?:
    | "id"
    | "name"
    | "state"
    | "snapshot"
    | "region"
    | "updatedAt"
    | "createdAt"
    | "lastActivityAt"
    | undefined
}

/**
 * One page of the deprecated page-based list.
 *
 * @since 0.1.0
 * @category models
 */
export interface PaginatedSandboxPage {
  readonly items: ReadonlyArray<Sandbox.Sandbox>
  readonly total: number
  readonly page: number
  readonly totalPages: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Creates a sandbox and waits until it is `started`, under one deadline. A create whose outcome is
   * unknown (its answer lost, a 502/503/504) is looked up by its create-id label: adopted when found,
   * sent again when not (and a duplicate that landed late is deleted).
   */
  readonly create: (options?: CreateOptions) => Effect.Effect<Sandbox.Sandbox, CreateError>
  /**
   * Creates a sandbox that is deleted when the scope closes, whether the scope succeeds, fails or
   * is interrupted, including when the create itself timed out or was interrupted after the server
   * accepted it.
   */
  readonly createScoped: (options?: CreateOptions) => Effect.Effect<Sandbox.Sandbox, CreateError, Scope.Scope>
  /** Reads a sandbox by id or name. */
  readonly get: (idOrName: string) => Effect.Effect<Sandbox.Sandbox, ApiError | NotFoundError | ValidationError>
  /**
   * The sandbox named `name`, created with `options` (and that name) when there is none, or only a
   * deleted one. A create that loses a race with another client's create of the same name (409)
   * reads the name again and adopts the winner. The sandbox is answered in the state it is in:
   * follow with `ensureStarted` for a started one.
   */
  readonly getOrCreate: (
    name: string,
    options?: Omit<CreateOptions, "name">
  ) => Effect.Effect<Sandbox.Sandbox, CreateError>
  /** Every sandbox matching the query, page after page, fetched as the stream is read. */
  readonly list: (query?: ListQuery) => Stream.Stream<Sandbox.SandboxSummary, ApiError | ValidationError>
  /** One page of the list; pass `nextCursor` back as `cursor` for the next. */
  readonly listPage: (
    query?: ListQuery & { readonly cursor?: string | undefined }
  ) => Effect.Effect<SandboxPage, ApiError | ValidationError>
  /** One page of the deprecated page-based list (`GET /sandbox/paginated`). */
  readonly listPaginated: (query?: PaginatedQuery) => Effect.Effect<PaginatedSandboxPage, ApiError | ValidationError>
  /** Deletes a sandbox by id or name, without waiting for it to be gone. */
  readonly delete: (idOrName: string) => Effect.Effect<void, ApiError | NotFoundError | ConflictError | ValidationError>
  /**
   * Forks a sandbox by id or name: a new sandbox from a copy of its files, waited for until it is
   * `started` (see {@link Sandbox.Operations.fork}).
   */
  readonly fork: (
    idOrName: string,
    options?: Sandbox.WaitOptions & { readonly name?: string | undefined }
  ) => Effect.Effect<Sandbox.Sandbox, Sandbox.LifecycleError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Daytona extends Context.Tag("@effect-daytona/sdk/Daytona")<Daytona, Service>() {}

const languages: ReadonlyArray<string> = ["python", "typescript", "javascript"]

const invalid = (field: string, message: string) => Effect.fail(new ValidationError({ field, message }))

const checkInterval = (field: string, value: number | undefined, allowNegative: boolean) =>
  value === undefined
    ? Effect.void
    : !Number.isInteger(value)
      ? invalid(field, `${field} must be an integer, got ${value}`)
      : !allowNegative && value < 0
        ? invalid(field, `${field} must be non-negative, got ${value}`)
        : Effect.void

/** Builds the body of `POST /sandbox` from the caller's options, validating before any request. */
const createBody = (
  options: CreateOptions,
  createId: string,
  target: string | undefined
): Effect.Effect<CreateSandbox, ValidationError> =>
  Effect.gen(function* () {
    if (options.snapshot !== undefined && options.image !== undefined) {
      return yield* invalid("image", "give either snapshot or image, not both")
    }
    if (options.resources !== undefined && options.image === undefined) {
      return yield* invalid(
        "resources",
        "resources can only be set for a sandbox built from an image; a snapshot brings its own"
      )
    }
    const language = options.language ?? "python"
    if (!languages.includes(language)) {
      return yield* invalid("language", `language must be one of ${languages.join(", ")}, got ${language}`)
    }
    yield* checkInterval("autoStopInterval", options.autoStopInterval, false)
    yield* checkInterval("autoArchiveInterval", options.autoArchiveInterval, false)
    yield* checkInterval("autoDeleteInterval", options.autoDeleteInterval, true)
    yield* checkInterval("autoPauseInterval", options.autoPauseInterval, false)
    yield* checkInterval("ttlMinutes", options.ttlMinutes, false)
    if ((options.autoStopInterval ?? 0) > 0 && (options.autoPauseInterval ?? 0) > 0) {
      return yield* invalid(
        "autoPauseInterval",
        "at most one of autoStopInterval and autoPauseInterval may be non-zero"
      )
    }
    if (options.ephemeral === true && options.autoDeleteInterval !== undefined && options.autoDeleteInterval !== 0) {
      return yield* invalid("ephemeral", "an ephemeral sandbox has autoDeleteInterval 0; do not set another value")
    }
    const resources = options.resources
    for (const key of ["cpu", "memory", "disk", "gpu"] as const) {
      const value = resources?.[key]
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
        return yield* invalid(key, `${key} must be a non-negative integer, got ${value}`)
      }
    }
    const image = options.image
    // An Image's context hashes are set once it is uploaded, after every check here.
    const buildInfo =
      image === undefined
        ? undefined
        : Image.isImage(image)
          ? yield* Image.toBuildInfo(image, [])
          : typeof image === "string"
            ? { dockerfileContent: `FROM ${image}\n` }
            : {
                dockerfileContent: image.dockerfile,
                ...(image.contextHashes === undefined ? {} : { contextHashes: image.contextHashes })
              }
    const gpuType = resources?.gpuType
    const autoDeleteInterval = options.ephemeral === true ? 0 : options.autoDeleteInterval
    const body: CreateSandbox = {
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.snapshot === undefined ? {} : { snapshot: options.snapshot }),
      ...(options.user === undefined ? {} : { user: options.user }),
      env: { ...options.envVars },
      labels: { ...options.labels, [Sandbox.languageLabel]: language, [createIdLabel]: createId },
      ...(options.public === undefined ? {} : { public: options.public }),
      ...(target === undefined ? {} : { target }),
      ...(resources?.cpu === undefined ? {} : { cpu: resources.cpu }),
      ...(resources?.gpu === undefined ? {} : { gpu: resources.gpu }),
      ...(gpuType === undefined ? {} : { gpuType: typeof gpuType === "string" ? [gpuType] : gpuType }),
      ...(resources?.memory === undefined ? {} : { memory: resources.memory }),
      ...(resources?.disk === undefined ? {} : { disk: resources.disk }),
      ...(options.autoStopInterval === undefined ? {} : { autoStopInterval: options.autoStopInterval }),
      ...(options.autoArchiveInterval === undefined ? {} : { autoArchiveInterval: options.autoArchiveInterval }),
      ...(autoDeleteInterval === undefined ? {} : { autoDeleteInterval }),
      ...(options.autoPauseInterval === undefined ? {} : { autoPauseInterval: options.autoPauseInterval }),
      ...(options.ttlMinutes === undefined ? {} : { ttlMinutes: options.ttlMinutes }),
      ...(options.spot === undefined ? {} : { spot: options.spot }),
      ...(options.volumes === undefined ? {} : { volumes: options.volumes }),
      ...(options.networkBlockAll === undefined ? {} : { networkBlockAll: options.networkBlockAll }),
      ...(options.networkAllowList === undefined ? {} : { networkAllowList: options.networkAllowList }),
      ...(options.domainAllowList === undefined ? {} : { domainAllowList: options.domainAllowList }),
      ...(buildInfo === undefined ? {} : { buildInfo }),
      ...(options.secrets === undefined
        ? {}
        : { secrets: Object.entries(options.secrets).map(([env, secret]) => ({ [env]: secret })) })
    }
    return body
  })

/** The list filters as the endpoint's query takes them: only the fields that are set. */
const listQuery = <Q extends object>(query: Q): { readonly [K in keyof Q]: Exclude<Q[K], undefined> } =>
  Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined)) as {
    readonly [K in keyof Q]: Exclude<Q[K], undefined>
  }

/**
 * Builds the service over the control-plane and toolbox clients.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, DaytonaClient.DaytonaClient | ToolboxClient.ToolboxClient> =
  Effect.gen(function* () {
    const client = yield* DaytonaClient.DaytonaClient
    const toolbox = yield* ToolboxClient.ToolboxClient
    const events = Option.getOrUndefined(yield* Effect.serviceOption(Events.Events))
    const services: Sandbox.Services = { client, toolbox, events }
    const config = client.config
    const built = yield* ContextUpload.captured

    const listPage: Service["listPage"] = (query = {}) =>
      client.call(ControlPlaneApi.listSandboxes, { query: listQuery(query) }).pipe(
        Effect.map((page) => ({
          items: page.items.map((item) => Sandbox.make(item, services)),
          nextCursor: page.nextCursor === "" ? null : page.nextCursor
        })),
        Spans.withSpan("Daytona.listPage", { captureStackTrace: false })
      )

    const findByCreateId = (createId: string) =>
      listPage({ labels: { [createIdLabel]: createId } }).pipe(Effect.map((page) => page.items.map((item) => item.id)))

    const deleteById = (id: string) =>
      client
        .execute(ControlPlaneApi.deleteSandbox, { params: { sandboxIdOrName: id } })
        .pipe(Effect.flatMap(Transport.discardBody))

    type Progress =
      | { readonly _tag: "NotSent" }
      | { readonly _tag: "InFlight" }
      | { readonly _tag: "Accepted"; readonly id: string; readonly resent: boolean }

    /** A failure a cleanup can outlast: a transition in progress, or a transient one of the network. */
    const worthRetrying = (error: { readonly _tag: string }) =>
      error._tag === "ConflictError" || Wait.isMissedPoll(error)

    const createWith = (options: CreateOptions, createId: string, progress: Ref.Ref<Progress>) =>
      Effect.gen(function* () {
        const timeout = yield* Wait.deadlineFrom("timeout", options.timeout, config.operationTimeout)
        const validated = yield* createBody(options, createId, options.target ?? config.target)
        // Like the official SDKs, the upload comes before, and outside, the create's deadline.
        const body = yield* ContextUpload.withUploadedContext(client, built, options.image, validated)
        const tracker = yield* Wait.tracker()
        // Whether a create was sent again after one whose outcome was unknown (which might yet land).
        let resent = false
        const reconcile = findByCreateId(createId).pipe(
          Effect.flatMap((ids) =>
            ids[0] === undefined
              ? Effect.sync(() => {
                  resent = true
                  return Option.none()
                })
              : Effect.map(Sandbox.fetchDto(services, ids[0]), Option.some)
          )
        )
        const accept = Effect.gen(function* () {
          yield* Ref.set(progress, { _tag: "InFlight" })
          const accepted = yield* client.call(ControlPlaneApi.createSandbox, { payload: body }, { reconcile }).pipe(
            Effect.catchTags({
              // A request that provably never reached the server created nothing: no search on cleanup.
              TransportError: (error) =>
                error.sent
                  ? Effect.fail(error)
                  : Effect.zipRight(Ref.set(progress, { _tag: "NotSent" }), Effect.fail(error))
            }),
            Effect.catchIf(FailedToStart.isFailedToStart, (error) =>
              findByCreateId(createId).pipe(
                Effect.orElseSucceed((): ReadonlyArray<string> => []),
                Effect.flatMap(
                  (ids): Effect.Effect<never, ValidationError | SandboxFailedError> =>
                    ids[0] === undefined
                      ? Effect.fail(error)
                      : Effect.zipRight(
                          Ref.set(progress, { _tag: "Accepted", id: ids[0], resent }),
                          FailedToStart.toSandboxFailed(ids[0], error, Sandbox.fetchDto(services, ids[0]))
                        )
                )
              )
            )
          )
          yield* Ref.set(progress, { _tag: "Accepted", id: accepted.id, resent })
          if (resent) yield* deleteDuplicates(createId, accepted.id)
          yield* Effect.annotateCurrentSpan("daytona.sandbox.id", accepted.id)
          return yield* tracker.observe(accepted)
        })
        const run = EventWait.wait({
          events: services.events,
          request: accept,
          read: (accepted) =>
            accepted === undefined
              ? Effect.dieMessage("a create's wait reads only after its answer")
              : Effect.flatMap(Sandbox.fetchDto(services, accepted.id), tracker.observe),
          pick: (event, accepted) =>
            accepted === undefined ? Option.none() : EventWait.pickSandbox(accepted.id)(event),
          decide: Wait.untilStarted,
          observe: tracker.observe
        })
        const dto = yield* Wait.withDeadline(
          run,
          timeout,
          tracker.timeoutError({ operation: "create", awaited: "started", timeout })
        ).pipe(Telemetry.timedWait("create"))
        yield* Telemetry.sandboxCreated(dto.id)
        return Sandbox.make(dto, services)
      })

    /** Deletes a sandbox, outlasting transitions in progress and transient failures for a while. */
    const deleteSurely = (id: string) =>
      deleteById(id).pipe(
        Effect.catchTag("NotFoundError", () => Effect.void),
        Effect.retry({ while: worthRetrying, schedule: Schedule.spaced("1 second").pipe(Schedule.upTo("2 minutes")) })
      )

    /**
     * A create sent again after an ambiguous failure may have landed twice (the first one was still
     * under way when the label was searched): every sandbox of the create id but the adopted one goes.
     */
    const deleteDuplicates = (createId: string, keep: string) =>
      findByCreateId(createId).pipe(
        Effect.retry({ while: worthRetrying, schedule: Schedule.spaced("1 second").pipe(Schedule.upTo("30 seconds")) }),
        Effect.flatMap((ids) =>
          Effect.forEach(
            ids.filter((id) => id !== keep),
            (id) =>
              deleteSurely(id).pipe(
                Effect.tapError((error) => Effect.logWarning(`could not delete duplicate sandbox ${id}`, error))
              ),
            { discard: true }
          )
        ),
        Effect.ignore
      )

    const cleanup = (createId: string, progress: Ref.Ref<Progress>) =>
      Effect.gen(function* () {
        const state = yield* Ref.get(progress)
        if (state._tag === "NotSent") return
        const search = findByCreateId(createId).pipe(
          Effect.retry({
            while: worthRetrying,
            schedule: Schedule.spaced("1 second").pipe(Schedule.upTo("2 minutes"))
          })
        )
        const ids =
          state._tag === "Accepted"
            ? state.resent
              ? Array.from(new Set([state.id, ...(yield* search.pipe(Effect.orElseSucceed(() => [])))]))
              : [state.id]
            : yield* search.pipe(
                Effect.flatMap((found) => (found.length === 0 ? Effect.fail("none" as const) : Effect.succeed(found))),
                // An answer lost on the way may be for a create still being handled: look a few times.
                Effect.retry(Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(3)))),
                Effect.orElseSucceed((): ReadonlyArray<string> => [])
              )
        yield* Effect.forEach(
          ids,
          (id) =>
            deleteSurely(id).pipe(
              Effect.tapError((error) =>
                Effect.logWarning(`could not delete sandbox ${id} when its scope closed`, error)
              ),
              Effect.ignore
            ),
          { discard: true }
        )
      }).pipe(Spans.withSpan("Daytona.createScoped.cleanup", { captureStackTrace: false }))

    const create: Service["create"] = (options = {}) =>
      Ref.make<Progress>({ _tag: "NotSent" }).pipe(
        Effect.flatMap((progress) => createWith(options, crypto.randomUUID(), progress)),
        Spans.withSpan("Daytona.create", { captureStackTrace: false })
      )

    const createScoped: Service["createScoped"] = (options = {}) =>
      Effect.gen(function* () {
        const createId = crypto.randomUUID()
        const progress = yield* Ref.make<Progress>({ _tag: "NotSent" })
        yield* Effect.addFinalizer(() => cleanup(createId, progress))
        return yield* createWith(options, createId, progress)
      }).pipe(Spans.withSpan("Daytona.createScoped", { captureStackTrace: false }))

    /** The live sandbox of a name, if there is one (a deleted one holds its name no more). */
    const named = (name: string) =>
      Sandbox.fetchDto(services, name).pipe(
        Effect.map((dto) =>
          dto.state === "destroying" || dto.state === "destroyed"
            ? Option.none()
            : Option.some(Sandbox.make(dto, services))
        ),
        Effect.catchTag("NotFoundError", () => Effect.succeed(Option.none<Sandbox.Sandbox>()))
      )

    const getOrCreate: Service["getOrCreate"] = (name, options = {}) =>
      Effect.gen(function* () {
        if (name.trim() === "") return yield* invalid("name", "a sandbox name is required")
        const found = yield* named(name)
        if (Option.isSome(found)) return found.value
        return yield* create({ ...options, name }).pipe(
          Effect.catchTag("ConflictError", (conflict) =>
            Effect.flatMap(named(name), Option.match({ onNone: () => Effect.fail(conflict), onSome: Effect.succeed }))
          )
        )
      }).pipe(
        Spans.withSpan("Daytona.getOrCreate", {
          captureStackTrace: false,
          attributes: { "daytona.sandbox.name": name }
        })
      )

    return {
      create,
      createScoped,
      getOrCreate,
      get: (idOrName) =>
        (idOrName.trim() === "" ? invalid("idOrName", "a sandbox id or name is required") : Effect.void).pipe(
          Effect.zipRight(Sandbox.fetchDto(services, idOrName)),
          Effect.map((dto) => Sandbox.make(dto, services)),
          Spans.withSpan("Daytona.get", { captureStackTrace: false, attributes: { "daytona.sandbox.id": idOrName } })
        ),
      list: (query = {}) =>
        Stream.paginateChunkEffect(Option.none<string>(), (cursor) =>
          listPage({ ...query, ...(Option.isSome(cursor) ? { cursor: cursor.value } : {}) }).pipe(
            Effect.map(
              (page) =>
                [
                  Chunk.fromIterable(page.items),
                  page.nextCursor === null ? Option.none() : Option.some(Option.some(page.nextCursor))
                ] as const
            )
          )
        ),
      listPage,
      listPaginated: (query = {}) =>
        client.call(ControlPlaneApi.listSandboxesPaginated, { query: listQuery(query) }).pipe(
          Effect.map((page) => ({ ...page, items: page.items.map((item) => Sandbox.make(item, services)) })),
          Spans.withSpan("Daytona.listPaginated", { captureStackTrace: false })
        ),
      delete: (idOrName) =>
        (idOrName.trim() === "" ? invalid("idOrName", "a sandbox id or name is required") : Effect.void).pipe(
          Effect.zipRight(deleteById(idOrName)),
          Spans.withSpan("Daytona.delete", {
            captureStackTrace: false,
            attributes: { "daytona.sandbox.id": idOrName }
          })
        ),
      fork: (idOrName, options) =>
        (idOrName.trim() === "" ? invalid("idOrName", "a sandbox id or name is required") : Effect.void).pipe(
          Effect.zipRight(Sandbox.forkSandbox(services, idOrName, options)),
          Spans.withSpan("Daytona.fork", { captureStackTrace: false, attributes: { "daytona.sandbox.id": idOrName } })
        )
    }
  })

/**
 * The service over clients provided from outside (to fake the control plane or the toolbox).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromClients: Layer.Layer<Daytona, never, DaytonaClient.DaytonaClient | ToolboxClient.ToolboxClient> =
  Layer.effect(Daytona, make)

/**
 * The service, the `Snapshots`, `Volumes`, `Secrets` and `WarmPools` services, their clients and
 * `Events` (live when a `WebSocketConnector` is provided to the layer, else waits poll): needs
 * `DaytonaConfig` and an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithoutConfig: Layer.Layer<
  | Daytona
  | Snapshots.Snapshots
  | Volumes.Volumes
  | Secrets.Secrets
  | WarmPools.WarmPools
  | Events.Events
  | DaytonaClient.DaytonaClient
  | ToolboxClient.ToolboxClient,
  never,
  HttpClient.HttpClient | DaytonaConfig.DaytonaConfig
> = Layer.provideMerge(
  Layer.mergeAll(layerFromClients, Snapshots.layer, Volumes.layer, Secrets.layer, WarmPools.layer),
  Layer.mergeAll(DaytonaClient.layer, ToolboxClient.layer, Events.layer)
)

/**
 * Everything (`Daytona`, `Snapshots`, `Volumes`, `Secrets`, `WarmPools`, `Events` and the clients) from explicit options; needs an
 * `HttpClient` (for example `NodeHttpClient.layerUndici`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: DaytonaConfig.Options
): Layer.Layer<
  | Daytona
  | Snapshots.Snapshots
  | Volumes.Volumes
  | Secrets.Secrets
  | WarmPools.WarmPools
  | Events.Events
  | DaytonaClient.DaytonaClient
  | ToolboxClient.ToolboxClient
  | DaytonaConfig.DaytonaConfig,
  MissingCredentialsError | ValidationError,
  HttpClient.HttpClient
> => Layer.provideMerge(layerWithoutConfig, DaytonaConfig.layer(options))

/**
 * Everything from the environment (`DAYTONA_API_KEY`, `DAYTONA_API_URL`, …), with optional
 * overrides; needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides: DaytonaConfig.Options = {}
): Layer.Layer<
  | Daytona
  | Snapshots.Snapshots
  | Volumes.Volumes
  | Secrets.Secrets
  | WarmPools.WarmPools
  | Events.Events
  | DaytonaClient.DaytonaClient
  | ToolboxClient.ToolboxClient
  | DaytonaConfig.DaytonaConfig,
  ConfigError.ConfigError | MissingCredentialsError | ValidationError,
  HttpClient.HttpClient
> => Layer.provideMerge(layerWithoutConfig, DaytonaConfig.layerConfig(overrides))
