/**
 * Schemas of the snapshots the control plane takes and returns, and their states.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CreateBuildInfo } from "./CreateSandbox.js"
import { BuildInfo } from "./SandboxDto.js"
import { GpuType, GpuTypeName } from "./GpuType.js"
import { SandboxClass } from "./SandboxState.js"
import * as WireSchema from "./WireSchema.js"
import { type Tolerant, tolerant } from "./WireSchema.js"

/**
 * Every state the v0.190 API reports for a snapshot.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownSnapshotStates = [
  "building",
  "pending",
  "pulling",
  "active",
  "inactive",
  "error",
  "build_failed",
  "removing"
] as const

/**
 * The state of a snapshot.
 *
 * @since 0.1.0
 * @category models
 */
export type SnapshotState = Tolerant<(typeof knownSnapshotStates)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const SnapshotState = tolerant("SnapshotState", knownSnapshotStates)

const optional = WireSchema.optional

const SnapshotDtoSchema = Schema.Struct({
  id: Schema.String,
  organizationId: optional(Schema.String),
  general: Schema.Boolean,
  name: Schema.String,
  imageName: optional(Schema.String),
  state: SnapshotState,
  size: optional(Schema.Number),
  entrypoint: optional(Schema.Array(Schema.String)),
  cpu: Schema.Number,
  gpu: Schema.Number,
  gpuType: optional(GpuType),
  mem: Schema.Number,
  disk: Schema.Number,
  errorReason: optional(Schema.String),
  createdAt: Schema.String,
  updatedAt: Schema.String,
  lastUsedAt: optional(Schema.String),
  buildInfo: optional(BuildInfo),
  regionIds: optional(Schema.Array(Schema.String)),
  initialRunnerId: optional(Schema.String),
  ref: optional(Schema.String),
  sandboxClass: optional(SandboxClass),
  /** The sandbox whose files a snapshot of a sandbox holds. */
  sourceSandboxId: optional(Schema.String)
}).annotations({ identifier: "SnapshotDto" })

/**
 * @since 0.1.0
 * @category models
 */
export interface SnapshotDto extends Schema.Schema.Type<typeof SnapshotDtoSchema> {}

/**
 * A snapshot as it is on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface SnapshotDtoEncoded extends Schema.Schema.Encoded<typeof SnapshotDtoSchema> {}

/**
 * A snapshot as `GET /snapshots/{id}` returns it. `mem` is the memory in GiB (the API's name). The
 * fields the API sends as `null` (`size`, `entrypoint`, `errorReason`, `lastUsedAt`) are decoded as
 * absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SnapshotDto: Schema.Schema<SnapshotDto, SnapshotDtoEncoded> = SnapshotDtoSchema

/**
 * One page of `GET /snapshots` (page-based).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PaginatedSnapshots = Schema.Struct({
  items: Schema.Array(SnapshotDto),
  total: Schema.Number,
  page: Schema.Number,
  totalPages: Schema.Number
}).annotations({ identifier: "PaginatedSnapshots" })

/**
 * @since 0.1.0
 * @category models
 */
export type PaginatedSnapshots = typeof PaginatedSnapshots.Type

const CreateSnapshotSchema = Schema.Struct({
  name: Schema.propertySignature(WireSchema.string.pipe(WireSchema.safeDisplay)).annotations({
    missingMessage: () => "$property must be a string"
  }),
  imageName: WireSchema.optional(WireSchema.string),
  entrypoint: WireSchema.optional(
    WireSchema.array(WireSchema.string.annotations({ message: () => "each value in $container must be a string" }))
  ),
  cpu: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0))),
  gpu: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0), WireSchema.max(1))),
  gpuType: WireSchema.optional(
    WireSchema.array(GpuTypeName).pipe(
      Schema.filter((types) => types.length === 1, { message: () => "$property must contain exactly 1 element" })
    )
  ),
  memory: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0))),
  disk: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0))),
  buildInfo: WireSchema.optional(CreateBuildInfo),
  regionId: WireSchema.optional(WireSchema.string),
  sandboxClass: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "CreateSnapshot" })

/**
 * @since 0.1.0
 * @category models
 */
export interface CreateSnapshot extends Schema.Schema.Type<typeof CreateSnapshotSchema> {}

/**
 * The body of `POST /snapshots` as it is on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateSnapshotEncoded extends Schema.Schema.Encoded<typeof CreateSnapshotSchema> {}

/**
 * The body of `POST /snapshots`: an image name (`imageName`) or a Dockerfile (`buildInfo`), with
 * the resources of the sandboxes created from it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSnapshot: Schema.Schema<CreateSnapshot, CreateSnapshotEncoded> = CreateSnapshotSchema

/**
 * The answer of `GET /snapshots/{id}/build-logs-url`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Url = Schema.Struct({ url: Schema.String }).annotations({ identifier: "Url" })
