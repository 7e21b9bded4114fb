/**
 * Schemas of the request bodies that create and reshape sandboxes, with Daytona's validation rules:
 * the SDK checks what it sends with them, and the local server rejects bad requests with them (and
 * Daytona's messages).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { GpuTypeName } from "./GpuType.js"
import { SecretMounts } from "./SecretDto.js"
import * as WireSchema from "./WireSchema.js"

/**
 * The image build a sandbox or snapshot is created from: a Dockerfile and the hashes of its uploaded
 * context.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateBuildInfo = WireSchema.struct({
  dockerfileContent: WireSchema.string.pipe(WireSchema.nonEmpty),
  contextHashes: WireSchema.optional(WireSchema.array(WireSchema.string))
}).annotations({ identifier: "CreateBuildInfo" })

/**
 * A volume to mount, as `POST /sandbox` takes it. `volumeId` accepts a volume's id or name.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSandboxVolume = WireSchema.struct({
  volumeId: WireSchema.string.pipe(WireSchema.nonEmpty),
  mountPath: WireSchema.string,
  subpath: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "CreateSandboxVolume" })

const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/
const domain = /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$/

const commaSeparated = (value: string) =>
  value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")

/**
 * Why a comma-separated IPv4 CIDR allow list is invalid (at most 10 entries), in Daytona's words, or
 * `undefined` when it is valid.
 *
 * @since 0.1.0
 * @category validation
 */
export const networkAllowListProblem = (value: string): string | undefined => {
  const entries = commaSeparated(value)
  if (entries.length > 10) return "Network allow list cannot contain more than 10 networks"
  for (const entry of entries) {
    const match = cidr.exec(entry)
    if (match === null) return `Invalid network format: "${entry}". Expected CIDR notation`
    if (match.slice(1, 5).some((octet) => Number(octet) > 255)) return `Invalid IP address: "${entry}"`
    if (Number(match[5]) > 32) return `Invalid CIDR prefix length: "${entry}"`
  }
  return undefined
}

/**
 * Why a comma-separated domain allow list is invalid (at most 10 entries), or `undefined`.
 *
 * @since 0.1.0
 * @category validation
 */
export const domainAllowListProblem = (value: string): string | undefined => {
  const entries = commaSeparated(value)
  if (entries.length > 10) return "Domain allow list cannot contain more than 10 domains"
  const invalid = entries.find((entry) => !domain.test(entry))
  return invalid === undefined ? undefined : `Invalid domain format: "${invalid}"`
}

const NetworkAllowList = WireSchema.string.pipe(Schema.filter((value) => networkAllowListProblem(value) ?? true))
const DomainAllowList = WireSchema.string.pipe(Schema.filter((value) => domainAllowListProblem(value) ?? true))

/** Daytona's `@Transform` accepts one GPU type where a list is expected. */
const GpuTypes = Schema.transform(
  Schema.Union(GpuTypeName, WireSchema.array(GpuTypeName)),
  Schema.Array(Schema.typeSchema(GpuTypeName)),
  { strict: true, decode: (value) => (typeof value === "string" ? [value] : value), encode: (value) => value }
).pipe(Schema.filter((types) => types.length > 0, { message: () => "$property must contain at least 1 elements" }))

const CreateSandboxSchema = Schema.Struct({
  name: WireSchema.optional(WireSchema.string.pipe(WireSchema.safeDisplay)),
  snapshot: WireSchema.optional(WireSchema.string),
  user: WireSchema.optional(WireSchema.string),
  env: WireSchema.optional(WireSchema.StringMap),
  labels: WireSchema.optional(WireSchema.StringMap),
  public: WireSchema.optional(WireSchema.boolean),
  networkBlockAll: WireSchema.optional(WireSchema.boolean),
  networkAllowList: WireSchema.optional(NetworkAllowList),
  domainAllowList: WireSchema.optional(DomainAllowList),
  target: WireSchema.optional(WireSchema.string),
  cpu: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0))),
  gpu: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0), WireSchema.max(1))),
  gpuType: WireSchema.optional(GpuTypes),
  memory: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0))),
  disk: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(0))),
  autoStopInterval: WireSchema.optional(WireSchema.number),
  autoArchiveInterval: WireSchema.optional(WireSchema.number),
  autoDeleteInterval: WireSchema.optional(WireSchema.number),
  volumes: WireSchema.optional(WireSchema.array(CreateSandboxVolume)),
  buildInfo: WireSchema.optional(CreateBuildInfo),
  linkedSandbox: WireSchema.optional(WireSchema.string),
  // secrets (issue 13)
  secrets: WireSchema.optional(SecretMounts),
  // Lifecycle of Daytona 0.216: auto-pause, TTL, spot
  autoPauseInterval: WireSchema.optional(WireSchema.number),
  ttlMinutes: WireSchema.optional(WireSchema.number),
  spot: WireSchema.optional(WireSchema.boolean)
}).annotations({ identifier: "CreateSandbox" })

/**
 * @since 0.1.0
 * @category models
 */
export interface CreateSandbox extends Schema.Schema.Type<typeof CreateSandboxSchema> {}

/**
 * The body of `POST /sandbox` as it is on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateSandboxEncoded extends Schema.Schema.Encoded<typeof CreateSandboxSchema> {}

/**
 * The body of `POST /sandbox`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSandbox: Schema.Schema<CreateSandbox, CreateSandboxEncoded> = CreateSandboxSchema

/**
 * Resources of a sandbox built from an image: cores, GiB of memory, GiB of disk, GPUs. A sandbox
 * created from a snapshot takes the snapshot's resources.
 *
 * @since 0.1.0
 * @category models
 */
export interface Resources {
  readonly cpu?: number | undefined
  readonly memory?: number | undefined
  readonly disk?: number | undefined
  readonly gpu?: number | undefined
  readonly gpuType?: string | ReadonlyArray<string> | undefined
}

/**
 * The body of `POST /sandbox/{id}/resize`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ResizeSandbox = Schema.Struct({
  cpu: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(1))),
  memory: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(1))),
  disk: WireSchema.optional(WireSchema.number.pipe(WireSchema.min(1)))
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
  networkBlockAll: WireSchema.optional(WireSchema.boolean),
  networkAllowList: WireSchema.optional(NetworkAllowList),
  domainAllowList: WireSchema.optional(DomainAllowList)
}).annotations({ identifier: "UpdateSandboxNetworkSettings" })

/**
 * @since 0.1.0
 * @category models
 */
export type UpdateSandboxNetworkSettings = typeof UpdateSandboxNetworkSettings.Type

// ---------------------------------------------------------------------------------------------
// Lifecycle of Daytona 0.216: fork, snapshot of a sandbox
// ---------------------------------------------------------------------------------------------

/**
 * The body of `POST /sandbox/{id}/fork`: the fork's name (Daytona generates one when absent).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ForkSandbox = Schema.Struct({
  name: WireSchema.optional(WireSchema.string.pipe(WireSchema.safeDisplay))
}).annotations({ identifier: "ForkSandbox" })

/**
 * @since 0.1.0
 * @category models
 */
export type ForkSandbox = typeof ForkSandbox.Type

/**
 * The body of `POST /sandbox/{id}/snapshot`: the new snapshot's name, and whether the memory of a
 * VM is kept too (Windows sandboxes only; a container refuses it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSandboxSnapshot = Schema.Struct({
  name: Schema.propertySignature(WireSchema.string.pipe(WireSchema.nonEmpty, WireSchema.safeDisplay)).annotations({
    missingMessage: () => "$property must be a string"
  }),
  includeMemory: WireSchema.optional(WireSchema.boolean)
}).annotations({ identifier: "CreateSandboxSnapshot" })

/**
 * @since 0.1.0
 * @category models
 */
export type CreateSandboxSnapshot = typeof CreateSandboxSnapshot.Type
