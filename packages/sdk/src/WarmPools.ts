/**
 * The WarmPools service: Daytona's warm pools (`/warm-pools`), sandboxes of a snapshot kept started
 * by the server and handed out at once by a `create` from that snapshot whose options a started
 * sandbox can serve. List, create, resize and delete them; `currentSize` against `pool` tells how
 * full a pool is.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ControlPlaneApi from "./ControlPlaneApi.js"
import * as DaytonaClient from "./DaytonaClient.js"
import type * as DaytonaConfig from "./DaytonaConfig.js"
import { type ApiError, type ConflictError, type NotFoundError, ValidationError } from "./DaytonaError.js"
import { inputCannotFail } from "./internal/expect.js"
import type { CreateWarmPool, WarmPool } from "./WarmPoolDto.js"
import * as Spans from "./internal/spans.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Every warm pool of the organization. */
  readonly list: Effect.Effect<ReadonlyArray<WarmPool>, ApiError>
  /**
   * Keeps `pool` sandboxes of `snapshot` (a name or id) started in `target` (the server's default
   * region when absent). A snapshot that already has a pool there is a `ConflictError`.
   */
  readonly create: (
    options: CreateWarmPool
  ) => Effect.Effect<WarmPool, ApiError | NotFoundError | ConflictError | ValidationError>
  /** Sets a pool's size; 0 drains it. */
  readonly update: (
    warmPoolId: string,
    options: { readonly pool: number }
  ) => Effect.Effect<WarmPool, ApiError | NotFoundError | ValidationError>
  /** Deletes a pool; its unclaimed sandboxes are deleted with it. */
  readonly delete: (warmPoolId: string) => Effect.Effect<void, ApiError | NotFoundError | ValidationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class WarmPools extends Context.Tag("@effect-daytona/sdk/WarmPools")<WarmPools, Service>() {}

const requiredId = (warmPoolId: string) =>
  warmPoolId.trim() === ""
    ? Effect.fail(new ValidationError({ field: "warmPoolId", message: "a warm pool id is required" }))
    : Effect.void

/**
 * Builds the service over the control-plane client.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, DaytonaClient.DaytonaClient> = Effect.gen(function* () {
  const client = yield* DaytonaClient.DaytonaClient
  const list = client.call(ControlPlaneApi.listWarmPools, {}).pipe(inputCannotFail)
  return {
    list: list.pipe(Spans.withSpan("WarmPools.list", { captureStackTrace: false })),
    create: (options) =>
      client
        .call(
          ControlPlaneApi.createWarmPool,
          options.target === undefined
            ? { payload: { snapshot: options.snapshot, pool: options.pool } }
            : { payload: options },
          {
            // One pool per snapshot and region: finding it means the lost request took effect.
            reconcile: Effect.map(list, (all) =>
              Option.fromNullable(
                all.find(
                  (pool) =>
                    pool.snapshot === options.snapshot &&
                    (options.target === undefined || pool.target === options.target) &&
                    pool.pool === options.pool
                )
              )
            )
          }
        )
        .pipe(
          Spans.withSpan("WarmPools.create", {
            captureStackTrace: false,
            attributes: { "daytona.snapshot": options.snapshot }
          })
        ),
    update: (warmPoolId, options) =>
      requiredId(warmPoolId).pipe(
        Effect.zipRight(
          client.call(ControlPlaneApi.updateWarmPool, { params: { id: warmPoolId }, payload: { pool: options.pool } })
        ),
        Spans.withSpan("WarmPools.update", {
          captureStackTrace: false,
          attributes: { "daytona.warmPool.id": warmPoolId }
        })
      ),
    delete: (warmPoolId) =>
      requiredId(warmPoolId).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.deleteWarmPool, { params: { id: warmPoolId } })),
        Effect.asVoid,
        Spans.withSpan("WarmPools.delete", {
          captureStackTrace: false,
          attributes: { "daytona.warmPool.id": warmPoolId }
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
export const layer: Layer.Layer<WarmPools, never, DaytonaClient.DaytonaClient> = Layer.effect(WarmPools, make)

/**
 * The service with its own control-plane client: needs `DaytonaConfig` and an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithClient: Layer.Layer<WarmPools, never, HttpClient.HttpClient | DaytonaConfig.DaytonaConfig> =
  Layer.provide(layer, DaytonaClient.layer)
