/**
 * The Volumes service: list, find, create, delete and await Daytona's shared volumes
 * (`/volumes`). Volumes are mounted into sandboxes by id or name through `CreateOptions.volumes`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import * as ControlPlaneApi from "./ControlPlaneApi.js"
import * as DaytonaClient from "./DaytonaClient.js"
import type * as DaytonaConfig from "./DaytonaConfig.js"
import {
  type ApiError,
  type ConflictError,
  type NotFoundError,
  ValidationError,
  VolumeFailedError,
  type WaitTimeoutError
} from "./DaytonaError.js"
import type { VolumeState } from "./VolumeDto.js"
import type { VolumeDto } from "./VolumeDto.js"
import * as Wait from "./Wait.js"
import * as Spans from "./internal/spans.js"

/**
 * A volume as the control plane reports it.
 *
 * @since 0.1.0
 * @category models
 */
export type Volume = VolumeDto

/**
 * States from which a volume will not become `ready`: a wait for `ready` fails on them.
 *
 * @since 0.1.0
 * @category constants
 */
export const failedStates: ReadonlyArray<VolumeState> = ["error", "pending_delete", "deleting", "deleted"]

/**
 * @since 0.1.0
 * @category models
 */
export interface GetOptions {
  /** Create the volume when none has this name (the official SDKs' `get(name, create)`); default false. */
  readonly create?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface WaitOptions {
  /** Deadline of the wait. Default `DaytonaConfig.operationTimeout`; `Duration.infinity` for none. */
  readonly timeout?: Duration.DurationInput | undefined
  /** The polling cadence; default `Wait.defaultSchedule`. */
  readonly schedule?: Schedule.Schedule<unknown> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Every volume of the organization (`GET /volumes`, not paginated); deleted ones only when asked. */
  readonly list: (options?: {
    readonly includeDeleted?: boolean | undefined
  }) => Effect.Effect<ReadonlyArray<Volume>, ApiError | ValidationError>
  /** Reads a volume by id. */
  readonly get: (volumeId: string) => Effect.Effect<Volume, ApiError | NotFoundError | ValidationError>
  /**
   * Reads a volume by name; with `create: true`, creates it when it does not exist (without waiting
   * for `ready`, like the official SDKs: use {@link Service.waitUntilReady}).
   */
  readonly getByName: (
    name: string,
    options?: GetOptions
  ) => Effect.Effect<Volume, ApiError | NotFoundError | ValidationError>
  /**
   * Creates a volume (it starts in `pending_create`). A name already taken is a `ValidationError`
   * (the server answers 400, not 409).
   */
  readonly create: (name: string) => Effect.Effect<Volume, ApiError | ValidationError>
  /**
   * Deletes a volume by id, without waiting. The server refuses a volume that is not `ready` or
   * `error` (`ValidationError`) and one mounted by a sandbox that is not destroyed (`ConflictError`).
   */
  readonly delete: (volumeId: string) => Effect.Effect<void, ApiError | NotFoundError | ConflictError | ValidationError>
  /**
   * Polls the volume until it is `ready`. `error` and the deletion states fail with
   * `VolumeFailedError`; the deadline fails with `WaitTimeoutError` carrying the last state seen.
   */
  readonly waitUntilReady: (
    volume: string | Volume,
    options?: WaitOptions
  ) => Effect.Effect<Volume, ApiError | NotFoundError | ValidationError | VolumeFailedError | WaitTimeoutError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Volumes extends Context.Tag("@effect-daytona/sdk/Volumes")<Volumes, Service>() {}

const required = (field: string, value: string) =>
  value.trim() === ""
    ? Effect.fail(new ValidationError({ field, message: `a volume ${field} is required` }))
    : Effect.void

/**
 * Done at `ready`; `error` and the deletion states fail the wait.
 *
 * @since 0.1.0
 * @category decisions
 */
export const untilReady = (volume: Volume): Wait.Decision<Volume, VolumeFailedError> =>
  volume.state === "ready"
    ? Wait.done(volume)
    : failedStates.includes(volume.state)
      ? Wait.fail(
          new VolumeFailedError({
            volumeId: volume.id,
            name: volume.name,
            state: volume.state,
            ...(volume.errorReason === undefined ? {} : { errorReason: volume.errorReason })
          })
        )
      : Wait.keepPolling

/**
 * Builds the service over the control-plane client.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, DaytonaClient.DaytonaClient> = Effect.gen(function* () {
  const client = yield* DaytonaClient.DaytonaClient
  const config = client.config

  const fetchById = (volumeId: string) => client.call(ControlPlaneApi.getVolume, { params: { volumeId } })

  const create: Service["create"] = (name) =>
    required("name", name).pipe(
      Effect.zipRight(client.call(ControlPlaneApi.createVolume, { payload: { name } })),
      Spans.withSpan("Volumes.create", { captureStackTrace: false, attributes: { "daytona.volume.name": name } })
    )

  return {
    list: (options = {}) =>
      client
        .call(ControlPlaneApi.listVolumes, {
          query: options.includeDeleted === undefined ? {} : { includeDeleted: options.includeDeleted }
        })
        .pipe(Spans.withSpan("Volumes.list", { captureStackTrace: false })),
    get: (volumeId) =>
      required("id", volumeId).pipe(
        Effect.zipRight(fetchById(volumeId)),
        Spans.withSpan("Volumes.get", { captureStackTrace: false, attributes: { "daytona.volume.id": volumeId } })
      ),
    getByName: (name, options = {}) =>
      required("name", name).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.getVolumeByName, { params: { name } })),
        Effect.catchTag(
          "NotFoundError",
          (error): Effect.Effect<Volume, ApiError | NotFoundError | ValidationError> =>
            options.create === true ? create(name) : Effect.fail(error)
        ),
        Spans.withSpan("Volumes.getByName", { captureStackTrace: false, attributes: { "daytona.volume.name": name } })
      ),
    create,
    delete: (volumeId) =>
      required("id", volumeId).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.deleteVolume, { params: { volumeId } })),
        Spans.withSpan("Volumes.delete", { captureStackTrace: false, attributes: { "daytona.volume.id": volumeId } })
      ),
    waitUntilReady: (volume, options = {}) =>
      Effect.gen(function* () {
        const volumeId = typeof volume === "string" ? volume : volume.id
        yield* required("id", volumeId)
        const timeout = yield* Wait.deadlineFrom("timeout", options.timeout, config.operationTimeout)
        const tracker = yield* Wait.tracker(volumeId)
        const first = typeof volume === "string" ? undefined : untilReady(volume)
        if (first?._tag === "Done") return first.value
        if (first?._tag === "Fail") return yield* Effect.fail(first.error)
        return yield* Wait.withDeadline(
          Wait.poll(Effect.flatMap(fetchById(volumeId), tracker.observe), {
            decide: untilReady,
            schedule: options.schedule
          }),
          timeout,
          tracker.timeoutError({ operation: "Volumes.waitUntilReady", awaited: "ready", timeout })
        )
      }).pipe(
        Spans.withSpan("Volumes.waitUntilReady", {
          captureStackTrace: false,
          attributes: { "daytona.volume.id": typeof volume === "string" ? volume : volume.id }
        })
      )
  }
})

/**
 * The service over a control-plane client provided from outside.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Volumes, never, DaytonaClient.DaytonaClient> = Layer.effect(Volumes, make)

/**
 * The service with its own control-plane client: needs `DaytonaConfig` and an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithClient: Layer.Layer<Volumes, never, HttpClient.HttpClient | DaytonaConfig.DaytonaConfig> =
  Layer.provide(layer, DaytonaClient.layer)
