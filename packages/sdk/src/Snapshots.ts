/**
 * The Snapshots service: list, find, create, delete, activate, deactivate and await Daytona's
 * snapshots (`/snapshots`), and read their build logs. A snapshot is created from an image name
 * or from an `Image` of the declarative builder (sent as its Dockerfile, its local build context
 * uploaded first).
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as ControlPlaneApi from "./ControlPlaneApi.js"
import * as DaytonaClient from "./DaytonaClient.js"
import type * as DaytonaConfig from "./DaytonaConfig.js"
import {
  type ApiError,
  type BuildContextError,
  type ConflictError,
  type NotFoundError,
  type ObjectStorageError,
  SnapshotFailedError,
  TransportError,
  ValidationError,
  type WaitTimeoutError
} from "./DaytonaError.js"
import * as Image from "./Image.js"
import { expectStatus } from "./internal/expect.js"
import * as BuildLogs from "./internal/buildLogs.js"
import * as ContextUpload from "./internal/contextUpload.js"
import * as Transport from "./internal/transport.js"
import type { GpuType } from "./GpuType.js"
import type { SandboxClass } from "./SandboxState.js"
import type { CreateSnapshot, SnapshotDto, SnapshotState } from "./SnapshotDto.js"
import * as Wait from "./Wait.js"
import * as Spans from "./internal/spans.js"

/**
 * A snapshot as the control plane reports it.
 *
 * @since 0.1.0
 * @category models
 */
export type Snapshot = SnapshotDto

/**
 * States from which a snapshot will not become `active` by itself: a wait for `active` fails on
 * them (`inactive` needs {@link Service.activate}).
 *
 * @since 0.1.0
 * @category constants
 */
export const failedStates: ReadonlyArray<SnapshotState> = ["error", "build_failed", "removing", "inactive"]

/**
 * Filters and order of the snapshot list.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListQuery {
  /** Partial name match. */
  readonly name?: string | undefined
  /** Server default `lastUsedAt`. */
  readonly sort?: "name" | "state" | "lastUsedAt" | "createdAt" | undefined
  /** Server default `desc`. */
  readonly order?: "asc" | "desc" | undefined
  /** Page size, 1–200 (server default 100). */
  readonly limit?: number | undefined
}

/**
 * One page of the page-based list.
 *
 * @since 0.1.0
 * @category models
 */
export interface SnapshotPage {
  readonly items: ReadonlyArray<Snapshot>
  readonly total: number
  readonly page: number
  readonly totalPages: number
}

/**
 * The resources of the sandboxes created from a snapshot: cores, GiB of memory, GiB of disk, GPUs.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resources {
  readonly cpu?: number | undefined
  readonly memory?: number | undefined
  readonly disk?: number | undefined
  readonly gpu?: number | undefined
  readonly gpuType?: GpuType | undefined
}

/**
 * How to create a snapshot. `image` is an image name with a tag or digest (sent as `imageName`;
 * the server rejects `:latest`) or an `Image` from the declarative builder (sent as
 * `buildInfo.dockerfileContent`; one with issues fails with a `ValidationError` before any request;
 * its local build context, if it has one, is uploaded first and named by `buildInfo.contextHashes`:
 * see `BuildContext.upload`).
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateOptions {
  readonly name: string
  readonly image: string | Image.Image
  readonly resources?: Resources | undefined
  readonly entrypoint?: ReadonlyArray<string> | undefined
  /** The region; default `DaytonaConfig.target` (then the organization's default region). */
  readonly regionId?: string | undefined
  readonly sandboxClass?: SandboxClass | undefined
  /** Wait until `active` (default true); with false, the snapshot is returned as the server accepted it. */
  readonly wait?: boolean | undefined
  /**
   * Deadline for the request and the wait. Default `Duration.infinity`, like the official SDKs: the
   * server itself fails a build after 60 minutes and a pull after 30. The upload of an `Image`'s build
   * context comes before it.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** The polling cadence of the wait; default `Wait.defaultSchedule`. */
  readonly schedule?: Schedule.Schedule<unknown> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface WaitOptions {
  /** Deadline of the wait. Default `Duration.infinity`. */
  readonly timeout?: Duration.DurationInput | undefined
  /** The polling cadence; default `Wait.defaultSchedule`. */
  readonly schedule?: Schedule.Schedule<unknown> | undefined
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
  | SnapshotFailedError
  | WaitTimeoutError
  | ObjectStorageError
  | BuildContextError

/**
 * A snapshot's id or name, or the snapshot itself.
 *
 * @since 0.1.0
 * @category models
 */
export type SnapshotRef = string | Snapshot

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Every snapshot matching the query, page after page, fetched as the stream is read. */
  readonly list: (query?: ListQuery) => Stream.Stream<Snapshot, ApiError | ValidationError>
  /** One page of the list (`GET /snapshots?page=`), pages counted from 1. */
  readonly listPage: (
    query?: ListQuery & { readonly page?: number | undefined }
  ) => Effect.Effect<SnapshotPage, ApiError | ValidationError>
  /** Reads a snapshot by id or name. */
  readonly get: (idOrName: string) => Effect.Effect<Snapshot, ApiError | NotFoundError | ValidationError>
  /** Creates a snapshot and (unless `wait: false`) waits until it is `active`, under one deadline. */
  readonly create: (options: CreateOptions) => Effect.Effect<Snapshot, CreateError>
  /**
   * Deletes a snapshot. The API takes only ids: a name is first resolved with a `get`. Deleting a
   * general (shared) snapshot is an `AuthorizationError`.
   */
  readonly delete: (snapshot: SnapshotRef) => Effect.Effect<void, ApiError | NotFoundError | ValidationError>
  /** Activates an inactive snapshot; one that is not `inactive` is a `ValidationError` (400). */
  readonly activate: (snapshot: SnapshotRef) => Effect.Effect<Snapshot, ApiError | NotFoundError | ValidationError>
  /** Deactivates a snapshot (the API answers 204 with no body). */
  readonly deactivate: (snapshot: SnapshotRef) => Effect.Effect<void, ApiError | NotFoundError | ValidationError>
  /**
   * Polls the snapshot until it is `active`. `error`, `build_failed`, `removing` and `inactive` fail
   * with `SnapshotFailedError`; the deadline fails with `WaitTimeoutError` carrying the last state.
   */
  readonly waitUntilActive: (
    snapshot: SnapshotRef,
    options?: WaitOptions
  ) => Effect.Effect<Snapshot, ApiError | NotFoundError | ValidationError | SnapshotFailedError | WaitTimeoutError>
  /** The URL of the snapshot's build logs on Daytona's proxy (`GET /snapshots/{id}/build-logs-url`). */
  readonly buildLogsUrl: (snapshot: SnapshotRef) => Effect.Effect<string, ApiError | NotFoundError | ValidationError>
  /**
   * The build logs written so far, as text: one plain GET of the build-logs URL with the
   * control-plane credentials (as the official SDKs do). {@link Service.followBuildLogs} follows them.
   */
  readonly buildLogs: (snapshot: SnapshotRef) => Effect.Effect<string, ApiError | NotFoundError | ValidationError>
  /**
   * The build logs line by line, followed live while the snapshot builds (`?follow=true`): the
   * stream ends when the build ends.
   */
  readonly followBuildLogs: (snapshot: SnapshotRef) => Stream.Stream<string, ApiError | NotFoundError | ValidationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Snapshots extends Context.Tag("@effect-daytona/sdk/Snapshots")<Snapshots, Service>() {}

const invalid = (field: string, message: string) => Effect.fail(new ValidationError({ field, message }))

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const refId = (snapshot: SnapshotRef) => (typeof snapshot === "string" ? snapshot : snapshot.id)

/**
 * Done at `active`; the {@link failedStates} fail the wait.
 *
 * @since 0.1.0
 * @category decisions
 */
export const untilActive = (snapshot: Snapshot): Wait.Decision<Snapshot, SnapshotFailedError> =>
  snapshot.state === "active"
    ? Wait.done(snapshot)
    : failedStates.includes(snapshot.state)
      ? Wait.fail(
          new SnapshotFailedError({
            snapshotId: snapshot.id,
            name: snapshot.name,
            state: snapshot.state,
            ...(snapshot.errorReason === undefined ? {} : { errorReason: snapshot.errorReason })
          })
        )
      : Wait.keepPolling

/** Builds the body of `POST /snapshots`, validating before any request. */
const createBody = (
  options: CreateOptions,
  target: string | undefined
): Effect.Effect<CreateSnapshot, ValidationError> =>
  Effect.gen(function* () {
    if (typeof options.name !== "string" || options.name.trim() === "") {
      return yield* invalid("name", "a snapshot name is required")
    }
    const image = options.image
    if (typeof image === "string" ? image.trim() === "" : !Image.isImage(image)) {
      return yield* invalid("image", "an image name or an Image is required")
    }
    const resources = options.resources
    for (const key of ["cpu", "memory", "disk", "gpu"] as const) {
      const value = resources?.[key]
      if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
        return yield* invalid(key, `${key} must be a non-negative integer, got ${value}`)
      }
    }
    // An Image's context hashes are set once it is uploaded, after every check here.
    const buildInfo = typeof image === "string" ? undefined : yield* Image.toBuildInfo(image, [])
    const regionId = options.regionId ?? target
    const body: CreateSnapshot = {
      name: options.name,
      ...(typeof image === "string" ? { imageName: image } : {}),
      ...(options.entrypoint === undefined ? {} : { entrypoint: options.entrypoint }),
      ...(resources?.cpu === undefined ? {} : { cpu: resources.cpu }),
      ...(resources?.gpu === undefined ? {} : { gpu: resources.gpu }),
      ...(resources?.gpuType === undefined ? {} : { gpuType: [resources.gpuType] }),
      ...(resources?.memory === undefined ? {} : { memory: resources.memory }),
      ...(resources?.disk === undefined ? {} : { disk: resources.disk }),
      ...(buildInfo === undefined ? {} : { buildInfo }),
      ...(regionId === undefined ? {} : { regionId }),
      ...(options.sandboxClass === undefined ? {} : { sandboxClass: options.sandboxClass })
    }
    return body
  })

/**
 * Builds the service over the control-plane client (and the `HttpClient`, for the build logs,
 * which live on Daytona's proxy rather than under the API's URL).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, DaytonaClient.DaytonaClient | HttpClient.HttpClient> = Effect.gen(
  function* () {
    const client = yield* DaytonaClient.DaytonaClient
    const config = client.config
    const http = yield* HttpClient.HttpClient
    const proxy = Transport.make(http, config, "control-plane")
    const built = { http: Option.some(http), fs: yield* Effect.serviceOption(FileSystem.FileSystem) }
    const secrets = Transport.secretsOf(config)

    const fetch = (idOrName: string) => client.call(ControlPlaneApi.getSnapshot, { params: { id: idOrName } })

    /** The API takes only ids on most routes: a name is resolved with a `get`. */
    const resolveId = (snapshot: SnapshotRef): Effect.Effect<string, ApiError | NotFoundError | ValidationError> => {
      if (typeof snapshot !== "string") return Effect.succeed(snapshot.id)
      if (snapshot.trim() === "") return invalid("snapshot", "a snapshot id or name is required")
      return uuidPattern.test(snapshot) ? Effect.succeed(snapshot) : Effect.map(fetch(snapshot), (found) => found.id)
    }

    const listPage: Service["listPage"] = (query = {}) =>
      client
        .call(ControlPlaneApi.listSnapshots, {
          query: {
            ...(query.page === undefined ? {} : { page: query.page }),
            ...(query.limit === undefined ? {} : { limit: query.limit }),
            ...(query.name === undefined ? {} : { name: query.name }),
            ...(query.sort === undefined ? {} : { sort: query.sort }),
            ...(query.order === undefined ? {} : { order: query.order })
          }
        })
        .pipe(Spans.withSpan("Snapshots.listPage", { captureStackTrace: false }))

    /** Polls until `active`, starting from a snapshot already in hand when there is one. */
    const pollUntilActive = (
      snapshot: SnapshotRef,
      tracker: Wait.Tracker,
      schedule: Schedule.Schedule<unknown> | undefined
    ) =>
      Effect.gen(function* () {
        if (typeof snapshot !== "string") {
          const first = untilActive(yield* tracker.observe(snapshot))
          if (first._tag === "Done") return first.value
          if (first._tag === "Fail") return yield* Effect.fail(first.error)
        }
        return yield* Wait.poll(Effect.flatMap(fetch(refId(snapshot)), tracker.observe), {
          decide: untilActive,
          schedule
        })
      })

    const create: Service["create"] = (options) =>
      Effect.gen(function* () {
        const timeout = yield* Wait.deadlineFrom("timeout", options.timeout, Duration.infinity)
        const validated = yield* createBody(options, config.target)
        // Like the official SDKs, the upload comes before, and outside, the create's deadline.
        const body = yield* ContextUpload.withUploadedContext(client, built, options.image, validated)
        const tracker = yield* Wait.tracker()
        const run = Effect.gen(function* () {
          const accepted = yield* client.call(ControlPlaneApi.createSnapshot, { payload: body })
          yield* Effect.annotateCurrentSpan("daytona.snapshot.id", accepted.id)
          yield* tracker.observe(accepted)
          return options.wait === false ? accepted : yield* pollUntilActive(accepted, tracker, options.schedule)
        })
        return yield* Wait.withDeadline(
          run,
          timeout,
          tracker.timeoutError({ operation: "Snapshots.create", awaited: "active", timeout })
        )
      }).pipe(
        Spans.withSpan("Snapshots.create", {
          captureStackTrace: false,
          attributes: { "daytona.snapshot.name": options.name }
        })
      )

    return {
      list: (query = {}) =>
        Stream.paginateChunkEffect(1, (page) =>
          listPage({ ...query, page }).pipe(
            Effect.map(
              (result) =>
                [
                  Chunk.fromIterable(result.items),
                  result.items.length > 0 && result.page < result.totalPages
                    ? Option.some(result.page + 1)
                    : Option.none()
                ] as const
            )
          )
        ),
      listPage,
      get: (idOrName) =>
        (idOrName.trim() === "" ? invalid("idOrName", "a snapshot id or name is required") : Effect.void).pipe(
          Effect.zipRight(fetch(idOrName)),
          Spans.withSpan("Snapshots.get", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot.id": idOrName }
          })
        ),
      create,
      delete: (snapshot) =>
        resolveId(snapshot).pipe(
          Effect.flatMap((id) => client.call(ControlPlaneApi.removeSnapshot, { params: { id } })),
          Spans.withSpan("Snapshots.delete", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot.id": refId(snapshot) }
          })
        ),
      activate: (snapshot) =>
        resolveId(snapshot).pipe(
          Effect.flatMap((id) =>
            client.call(
              ControlPlaneApi.activateSnapshot,
              { params: { id } },
              // After a lost answer: active means it happened, anything else that it must be asked again.
              { reconcile: Effect.map(fetch(id), (found) => Option.liftPredicate(found, (s) => s.state === "active")) }
            )
          ),
          Spans.withSpan("Snapshots.activate", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot.id": refId(snapshot) }
          })
        ),
      deactivate: (snapshot) =>
        resolveId(snapshot).pipe(
          Effect.flatMap((id) =>
            client.call(
              ControlPlaneApi.deactivateSnapshot,
              { params: { id } },
              {
                reconcile: Effect.map(fetch(id), (found) =>
                  found.state === "inactive" ? Option.some(undefined) : Option.none()
                )
              }
            )
          ),
          Spans.withSpan("Snapshots.deactivate", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot.id": refId(snapshot) }
          })
        ),
      waitUntilActive: (snapshot, options = {}) =>
        Effect.gen(function* () {
          if (typeof snapshot === "string" && snapshot.trim() === "") {
            return yield* invalid("snapshot", "a snapshot id or name is required")
          }
          const timeout = yield* Wait.deadlineFrom("timeout", options.timeout, Duration.infinity)
          const tracker = yield* Wait.tracker(refId(snapshot))
          return yield* Wait.withDeadline(
            pollUntilActive(snapshot, tracker, options.schedule),
            timeout,
            tracker.timeoutError({ operation: "Snapshots.waitUntilActive", awaited: "active", timeout })
          )
        }).pipe(
          Spans.withSpan("Snapshots.waitUntilActive", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot.id": refId(snapshot) }
          })
        ),
      buildLogsUrl: (snapshot) => buildLogsUrl(snapshot),
      followBuildLogs: (snapshot) =>
        buildLogsUrl(snapshot).pipe(
          Effect.map((url) => BuildLogs.follow(proxy.send, url, secrets)),
          Stream.unwrap,
          Spans.withStreamSpan("Snapshots.followBuildLogs", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot.id": refId(snapshot) }
          })
        ),
      buildLogs: (snapshot) =>
        buildLogsUrl(snapshot).pipe(
          Effect.flatMap((url) => proxy.send(HttpClientRequest.get(url))),
          expectStatus("NotFoundError", "ValidationError"),
          Effect.flatMap((response) =>
            response.text.pipe(
              Effect.mapError(
                (error) =>
                  new TransportError({
                    reason: "Body",
                    method: "GET",
                    path: new URL(response.request.url).pathname,
                    sent: true,
                    description: error.description ?? "could not read the response body",
                    cause: error.cause
                  })
              )
            )
          ),
          Effect.map((text) => Transport.scrub(text, secrets)),
          Spans.withSpan("Snapshots.buildLogs", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot.id": refId(snapshot) }
          })
        )
    }

    function buildLogsUrl(snapshot: SnapshotRef) {
      return resolveId(snapshot).pipe(
        Effect.flatMap((id) => client.call(ControlPlaneApi.getSnapshotBuildLogsUrl, { params: { id } })),
        Effect.map((answer) => answer.url),
        Spans.withSpan("Snapshots.buildLogsUrl", {
          captureStackTrace: false,
          attributes: { "daytona.snapshot.id": refId(snapshot) }
        })
      )
    }
  }
)

/**
 * The service over a control-plane client provided from outside; needs the `HttpClient` too.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Snapshots, never, DaytonaClient.DaytonaClient | HttpClient.HttpClient> = Layer.effect(
  Snapshots,
  make
)

/**
 * The service with its own control-plane client: needs `DaytonaConfig` and an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithClient: Layer.Layer<Snapshots, never, HttpClient.HttpClient | DaytonaConfig.DaytonaConfig> =
  Layer.provide(layer, DaytonaClient.layer)
