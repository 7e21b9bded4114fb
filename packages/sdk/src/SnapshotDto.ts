/**
 * Schemas of the snapshot and volume objects the control plane takes and returns.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { CreateBuildInfo } from "./CreateSandbox.js"
import { BuildInfo } from "./SandboxDto.js"
import { GpuType, SandboxClass, SnapshotState, VolumeState } from "./SandboxState.js"

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { nullable: true })

/**
 * A snapshot as `GET /snapshots/{id}` returns it. `mem` is the memory in GiB (the API's name). The
 * fields the API sends as `null` (`size`, `entrypoint`, `errorReason`, `lastUsedAt`) are decoded as
 * absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SnapshotDto = Schema.Struct({
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
  sandboxClass: optional(SandboxClass)
}).annotations({ identifier: "SnapshotDto" })

/**
 * @since 0.1.0
 * @category models
 */
export type SnapshotDto = typeof SnapshotDto.Type

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

/**
 * The body of `POST /snapshots`: an image name (`imageName`) or a Dockerfile (`buildInfo`), with
 * the resources of the sandboxes created from it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSnapshot = Schema.Struct({
  name: Schema.String,
  imageName: Schema.optional(Schema.String),
  entrypoint: Schema.optional(Schema.Array(Schema.String)),
  cpu: Schema.optional(Schema.Number),
  gpu: Schema.optional(Schema.Number),
  gpuType: Schema.optional(Schema.Array(GpuType)),
  memory: Schema.optional(Schema.Number),
  disk: Schema.optional(Schema.Number),
  buildInfo: Schema.optional(CreateBuildInfo),
  regionId: Schema.optional(Schema.String),
  sandboxClass: Schema.optional(SandboxClass)
}).annotations({ identifier: "CreateSnapshot" })

/**
 * @since 0.1.0
 * @category models
 */
export type CreateSnapshot = typeof CreateSnapshot.Type

/**
 * The answer of `GET /snapshots/{id}/build-logs-url`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Url = Schema.Struct({ url: Schema.String }).annotations({ identifier: "Url" })

/**
 * A volume as the control plane returns it. `lastUsedAt` and `errorReason` (sent as `null` when
 * unset) are decoded as absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const VolumeDto = Schema.Struct({
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
export type VolumeDto = typeof VolumeDto.Type

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
export const CreateVolume = Schema.Struct({ name: Schema.String }).annotations({ identifier: "CreateVolume" })

/**
 * @since 0.1.0
 * @category models
 */
export type CreateVolume = typeof CreateVolume.Type
