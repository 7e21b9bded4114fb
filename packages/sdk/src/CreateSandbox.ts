/**
 * Schemas of the request bodies that create and reshape sandboxes.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { StringMap } from "./SandboxDto.js"
import { GpuType } from "./SandboxState.js"

/**
 * The image build a sandbox is created from: a Dockerfile and the hashes of its uploaded context.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateBuildInfo = Schema.Struct({
  dockerfileContent: Schema.String,
  contextHashes: Schema.optional(Schema.Array(Schema.String))
}).annotations({ identifier: "CreateBuildInfo" })

/**
 * A volume to mount, as `POST /sandbox` takes it. `volumeId` accepts a volume's id or name. Unlike
 * the answer's `SandboxVolume`, `subpath` is never null on the way in (the spec's `SandboxVolume`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSandboxVolume = Schema.Struct({
  volumeId: Schema.String,
  mountPath: Schema.String,
  subpath: Schema.optional(Schema.String)
}).annotations({ identifier: "CreateSandboxVolume" })

/**
 * The body of `POST /sandbox`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSandbox = Schema.Struct({
  name: Schema.optional(Schema.String),
  snapshot: Schema.optional(Schema.String),
  user: Schema.optional(Schema.String),
  env: Schema.optional(StringMap),
  labels: Schema.optional(StringMap),
  public: Schema.optional(Schema.Boolean),
  networkBlockAll: Schema.optional(Schema.Boolean),
  networkAllowList: Schema.optional(Schema.String),
  domainAllowList: Schema.optional(Schema.String),
  target: Schema.optional(Schema.String),
  cpu: Schema.optional(Schema.Number),
  gpu: Schema.optional(Schema.Number),
  gpuType: Schema.optional(Schema.Array(GpuType)),
  memory: Schema.optional(Schema.Number),
  disk: Schema.optional(Schema.Number),
  autoStopInterval: Schema.optional(Schema.Number),
  autoArchiveInterval: Schema.optional(Schema.Number),
  autoDeleteInterval: Schema.optional(Schema.Number),
  volumes: Schema.optional(Schema.Array(CreateSandboxVolume)),
  buildInfo: Schema.optional(CreateBuildInfo),
  linkedSandbox: Schema.optional(Schema.String)
}).annotations({ identifier: "CreateSandbox" })

/**
 * @since 0.1.0
 * @category models
 */
export type CreateSandbox = typeof CreateSandbox.Type

/**
 * Resources of a sandbox built from an image: cores, GiB of memory, GiB of disk, GPUs. A sandbox
 * created from a snapshot takes the snapshot's resources.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Resources = Schema.Struct({
  cpu: Schema.optional(Schema.Number),
  memory: Schema.optional(Schema.Number),
  disk: Schema.optional(Schema.Number),
  gpu: Schema.optional(Schema.Number),
  gpuType: Schema.optional(Schema.Union(GpuType, Schema.Array(GpuType)))
}).annotations({ identifier: "Resources" })

/**
 * @since 0.1.0
 * @category models
 */
export type Resources = typeof Resources.Type

/**
 * The body of `POST /sandbox/{id}/resize`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResizeSandbox = Schema.Struct({
  cpu: Schema.optional(Schema.Number),
  memory: Schema.optional(Schema.Number),
  disk: Schema.optional(Schema.Number)
}).annotations({ identifier: "ResizeSandbox" })

/**
 * @since 0.1.0
 * @category models
 */
export type ResizeSandbox = typeof ResizeSandbox.Type

/**
 * The body of `POST /sandbox/{id}/network-settings`. At least one field must be set.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateSandboxNetworkSettings = Schema.Struct({
  networkBlockAll: Schema.optional(Schema.Boolean),
  networkAllowList: Schema.optional(Schema.String),
  domainAllowList: Schema.optional(Schema.String)
}).annotations({ identifier: "UpdateSandboxNetworkSettings" })

/**
 * @since 0.1.0
 * @category models
 */
export type UpdateSandboxNetworkSettings = typeof UpdateSandboxNetworkSettings.Type
