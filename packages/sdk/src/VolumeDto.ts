/**
 * Schemas of the volumes the control plane takes and returns, and their states.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"
import { type Tolerant, tolerant } from "./WireSchema.js"

const optional = WireSchema.optional

/**
 * Every state the v0.190 API reports for a volume.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownVolumeStates = [
  "creating",
  "ready",
  "pending_create",
  "pending_delete",
  "deleting",
  "deleted",
  "error"
] as const

/**
 * The state of a volume.
 *
 * @since 0.1.0
 * @category models
 */
export type VolumeState = Tolerant<(typeof knownVolumeStates)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const VolumeState = tolerant("VolumeState", knownVolumeStates)

const VolumeDtoSchema = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  organizationId: Schema.String,
  state: VolumeState,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  lastUsedAt: optional(Schema.String),
  errorReason: optional(Schema.String)
}).annotations({ identifier: "VolumeDto" })

/**
 * @since 0.1.0
 * @category models
 */
export interface VolumeDto extends Schema.Schema.Type<typeof VolumeDtoSchema> {}

/**
 * A volume as it is on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface VolumeDtoEncoded extends Schema.Schema.Encoded<typeof VolumeDtoSchema> {}

/**
 * A volume as the control plane returns it. `lastUsedAt` and `errorReason` (sent as `null` when
 * unset) are decoded as absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const VolumeDto: Schema.Schema<VolumeDto, VolumeDtoEncoded> = VolumeDtoSchema

/**
 * The answer of `GET /volumes`: every volume, not paginated.
 *
 * @since 0.1.0
 * @category schemas
 */
export const VolumeList = Schema.Array(VolumeDto).annotations({ identifier: "VolumeList" })

/**
 * The body of `POST /volumes`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateVolume = Schema.Struct({
  name: Schema.propertySignature(WireSchema.string.pipe(WireSchema.safeDisplay)).annotations({
    missingMessage: () => "$property must be a string"
  })
}).annotations({ identifier: "CreateVolume" })

/**
 * @since 0.1.0
 * @category models
 */
export type CreateVolume = typeof CreateVolume.Type
