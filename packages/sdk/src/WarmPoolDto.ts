/**
 * Schemas of Daytona's warm pools (`/warm-pools`): sandboxes kept started for a snapshot, handed
 * out by `create` when its options match, and the bodies that create and resize a pool.
 *
 * Not to be confused with an SDK-side pool of sandboxes a program keeps for itself: a warm pool
 * lives on the server.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional

const WarmPoolSchema = Schema.Struct({
  id: Schema.String,
  organizationId: Schema.String,
  /** The snapshot the pool keeps sandboxes of. */
  snapshot: Schema.String,
  /** The region. */
  target: Schema.String,
  /** How many started sandboxes the pool keeps. */
  pool: Schema.Number,
  /** How many are started and unclaimed now. */
  currentSize: Schema.Number,
  cpu: Schema.Number,
  mem: Schema.Number,
  disk: Schema.Number,
  osUser: Schema.String,
  env: WireSchema.StringMap,
  /** Why the pool cannot be filled, when it cannot. */
  errorReason: optional(Schema.String),
  createdAt: Schema.String,
  updatedAt: Schema.String
}).annotations({ identifier: "WarmPool" })

/**
 * @since 0.1.0
 * @category models
 */
export interface WarmPool extends Schema.Schema.Type<typeof WarmPoolSchema> {}

/**
 * A warm pool as it is on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface WarmPoolEncoded extends Schema.Schema.Encoded<typeof WarmPoolSchema> {}

/**
 * A warm pool as the API returns it: `currentSize` against `pool` is its status.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WarmPool: Schema.Schema<WarmPool, WarmPoolEncoded> = WarmPoolSchema

/**
 * The answer of `GET /warm-pools`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WarmPoolList = Schema.Array(WarmPool)

const poolSize = WireSchema.integer.pipe(WireSchema.min(0))

/**
 * The body of `POST /warm-pools`: the snapshot (id or name) to keep sandboxes of, how many, and the
 * region (the organization's default when absent). A pool serves only the creates from that
 * snapshot with the default OS user and no environment variables, volumes or secrets of their own.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateWarmPool = Schema.Struct({
  snapshot: Schema.propertySignature(WireSchema.string.pipe(WireSchema.nonEmpty)).annotations({
    missingMessage: () => "$property must be a string"
  }),
  pool: Schema.propertySignature(poolSize).annotations({
    missingMessage: () => "$property must be an integer number"
  }),
  target: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "CreateWarmPool" })

/**
 * @since 0.1.0
 * @category models
 */
export type CreateWarmPool = typeof CreateWarmPool.Type

/**
 * The body of `PATCH /warm-pools/{id}`: the new size (`0` drains the pool).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateWarmPool = Schema.Struct({
  pool: Schema.propertySignature(poolSize).annotations({
    missingMessage: () => "$property must be an integer number"
  })
}).annotations({ identifier: "UpdateWarmPool" })

/**
 * @since 0.1.0
 * @category models
 */
export type UpdateWarmPool = typeof UpdateWarmPool.Type
