/**
 * Schemas of the sandbox objects the control plane returns: the full sandbox, the lighter list
 * item, and both list envelopes.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { GpuType } from "./GpuType.js"
import { BackupState, SandboxClass, SandboxDesiredState, SandboxState } from "./SandboxState.js"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional

/**
 * A volume mounted into a sandbox. `volumeId` accepts a volume's id or name on create.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SandboxVolume = Schema.Struct({
  volumeId: Schema.String,
  mountPath: Schema.String,
  subpath: optional(Schema.String)
}).annotations({ identifier: "SandboxVolume" })

/**
 * @since 0.1.0
 * @category models
 */
export type SandboxVolume = typeof SandboxVolume.Type

/**
 * How a sandbox created from a declarative image was built.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BuildInfo = Schema.Struct({
  dockerfileContent: optional(Schema.String),
  contextHashes: optional(Schema.Array(Schema.String)),
  createdAt: Schema.String,
  updatedAt: Schema.String,
  snapshotRef: Schema.String
}).annotations({ identifier: "BuildInfo" })

/**
 * @since 0.1.0
 * @category models
 */
export type BuildInfo = typeof BuildInfo.Type

const commonFields = {
  id: Schema.String,
  organizationId: Schema.String,
  name: Schema.String,
  snapshot: optional(Schema.String),
  user: Schema.String,
  labels: WireSchema.StringMap,
  public: Schema.Boolean,
  target: Schema.String,
  cpu: Schema.Number,
  gpu: Schema.Number,
  gpuType: optional(GpuType),
  memory: Schema.Number,
  disk: Schema.Number,
  state: optional(SandboxState),
  desiredState: optional(SandboxDesiredState),
  errorReason: optional(Schema.String),
  recoverable: optional(Schema.Boolean),
  backupState: optional(BackupState),
  autoStopInterval: optional(Schema.Number),
  autoArchiveInterval: optional(Schema.Number),
  autoDeleteInterval: optional(Schema.Number),
  createdAt: optional(Schema.String),
  updatedAt: optional(Schema.String),
  lastActivityAt: optional(Schema.String),
  sandboxClass: optional(SandboxClass),
  daemonVersion: optional(Schema.String),
  runnerId: optional(Schema.String),
  toolboxProxyUrl: Schema.String,
  // Lifecycle of Daytona 0.216: auto-pause, TTL, spot, warm pools
  autoPauseInterval: optional(Schema.Number),
  autoDestroyAt: optional(Schema.String),
  spot: optional(Schema.Boolean),
  spotEvictedAt: optional(Schema.String),
  warmPoolId: optional(Schema.String)
}

const SandboxDtoSchema = Schema.Struct({
  ...commonFields,
  env: WireSchema.StringMap,
  networkBlockAll: Schema.Boolean,
  networkAllowList: optional(Schema.String),
  domainAllowList: optional(Schema.String),
  backupCreatedAt: optional(Schema.String),
  volumes: optional(Schema.Array(SandboxVolume)),
  buildInfo: optional(BuildInfo),
  linkedSandboxId: optional(Schema.String)
}).annotations({ identifier: "Sandbox" })

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxDto extends Schema.Schema.Type<typeof SandboxDtoSchema> {}

/**
 * A sandbox as it is on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxDtoEncoded extends Schema.Schema.Encoded<typeof SandboxDtoSchema> {}

/**
 * A sandbox as `GET /sandbox/{id}` and the lifecycle calls return it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SandboxDto: Schema.Schema<SandboxDto, SandboxDtoEncoded> = SandboxDtoSchema

const SandboxListItemSchema = Schema.Struct(commonFields).annotations({ identifier: "SandboxListItem" })

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxListItem extends Schema.Schema.Type<typeof SandboxListItemSchema> {}

/**
 * A list item as it is on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxListItemEncoded extends Schema.Schema.Encoded<typeof SandboxListItemSchema> {}

/**
 * A sandbox as the cursor-paginated list returns it: no `env`, network settings, volumes or build
 * information.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SandboxListItem: Schema.Schema<SandboxListItem, SandboxListItemEncoded> = SandboxListItemSchema

/**
 * One page of `GET /sandbox`. `nextCursor` is `null` on the last page.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListSandboxesResponse = Schema.Struct({
  items: Schema.Array(SandboxListItem),
  nextCursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "ListSandboxesResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ListSandboxesResponse = typeof ListSandboxesResponse.Type

/**
 * One page of the deprecated page-based `GET /sandbox/paginated`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PaginatedSandboxes = Schema.Struct({
  items: Schema.Array(SandboxDto),
  total: Schema.Number,
  page: Schema.Number,
  totalPages: Schema.Number
}).annotations({ identifier: "PaginatedSandboxes" })

/**
 * @since 0.1.0
 * @category models
 */
export type PaginatedSandboxes = typeof PaginatedSandboxes.Type

/**
 * The body of `PUT /sandbox/{id}/labels` (and, per the spec, its response).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SandboxLabels = Schema.Struct({
  labels: Schema.propertySignature(WireSchema.StringMap).annotations({
    missingMessage: () => "$property must be an object"
  })
}).annotations({ identifier: "SandboxLabels" })

/**
 * @since 0.1.0
 * @category models
 */
export type SandboxLabels = typeof SandboxLabels.Type

/**
 * The answer of `GET /sandbox/{id}/toolbox-proxy-url`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolboxProxyUrl = Schema.Struct({ url: Schema.String }).annotations({ identifier: "ToolboxProxyUrl" })
