/**
 * The control plane's endpoints the SDK calls and the local server serves, each declared once (see
 * `Endpoint`). Paths are relative to the API URL (which ends in `/api`); names are the operation ids
 * of Daytona's generated client, against whose snapshot the conformance test checks every one.
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import {
  CreateSandbox,
  CreateSandboxSnapshot,
  ForkSandbox,
  ResizeSandbox,
  UpdateSandboxNetworkSettings
} from "./CreateSandbox.js"
import * as Endpoint from "./Endpoint.js"
import { PortPreviewUrl, SignedPortPreviewUrl } from "./PreviewUrl.js"
import { ListSandboxesResponse, PaginatedSandboxes, SandboxDto, SandboxLabels, ToolboxProxyUrl } from "./SandboxDto.js"
import { StorageAccess } from "./ObjectStorageDto.js"
import { MetricsResponse } from "./SandboxMetrics.js"
import { SandboxClass, SandboxState } from "./SandboxState.js"
import { CreateSecret, ListSecretsResponse, SecretDto, UpdateSandboxSecrets, UpdateSecret } from "./SecretDto.js"
import { CreateSnapshot, PaginatedSnapshots, SnapshotDto, Url } from "./SnapshotDto.js"
import { SshAccessDto, SshAccessValidationDto } from "./SshAccess.js"
import { CreateVolume, VolumeDto, VolumeList } from "./VolumeDto.js"
import { CreateWarmPool, UpdateWarmPool, WarmPool, WarmPoolList } from "./WarmPoolDto.js"
import * as WireSchema from "./WireSchema.js"

const endpoint = Endpoint.make("control-plane")

const oneOf = <const Values extends ReadonlyArray<string>>(...values: Values) =>
  Schema.String.annotations({
    message: () => `$property must be one of the following values: ${values.join(", ")}`
  }).pipe(
    Schema.filter((value): value is Values[number] => values.includes(value), {
      message: () => `$property must be one of the following values: ${values.join(", ")}`
    })
  )

const queryInteger = (min: number, max?: number) => {
  const integer = Schema.NumberFromString.annotations({ message: () => "$property must be an integer number" }).pipe(
    Schema.filter((n) => Number.isInteger(n), { message: () => "$property must be an integer number" }),
    WireSchema.min(min)
  )
  return max === undefined ? integer : integer.pipe(WireSchema.max(max))
}

/** Labels to match, sent as a JSON object in one query parameter. */
const LabelsQuery = Schema.transformOrFail(Schema.String, Schema.Record({ key: Schema.String, value: Schema.String }), {
  strict: true,
  decode: (text, _, ast) => {
    try {
      const parsed: unknown = JSON.parse(text)
      if (
        typeof parsed === "object" &&
        parsed !== null &&
        !Array.isArray(parsed) &&
        Object.values(parsed).every((value) => typeof value === "string")
      ) {
        return ParseResult.succeed(parsed as Record<string, string>)
      }
    } catch {
      // answered below, as Daytona does, whatever was wrong with the text
    }
    return ParseResult.fail(new ParseResult.Type(ast, text, "Invalid labels JSON format"))
  },
  encode: (labels) => ParseResult.succeed(JSON.stringify(labels))
})

const ListedState = SandboxState.pipe(
  Schema.filter((state) => state !== "destroyed", {
    message: () => "each value in states must be one of the following values, except destroyed"
  })
)

const countFilters = {
  minCpu: Schema.optional(queryInteger(1)),
  maxCpu: Schema.optional(queryInteger(1)),
  minMemoryGiB: Schema.optional(queryInteger(1)),
  maxMemoryGiB: Schema.optional(queryInteger(1)),
  minDiskGiB: Schema.optional(queryInteger(1)),
  maxDiskGiB: Schema.optional(queryInteger(1))
}

const matchFilters = {
  id: Schema.optional(Schema.String),
  name: Schema.optional(Schema.String),
  labels: Schema.optional(LabelsQuery),
  includeErroredDeleted: Schema.optional(WireSchema.BooleanFromString),
  states: Schema.optional(WireSchema.repeated(ListedState)),
  snapshots: Schema.optional(WireSchema.repeated(Schema.String))
}

const eventFilters = {
  lastEventAfter: Schema.optional(WireSchema.DateFromString),
  lastEventBefore: Schema.optional(WireSchema.DateFromString)
}

const order = Schema.optional(oneOf("asc", "desc"))

/**
 * The query of the cursor-paginated sandbox list.
 *
 * @since 0.1.0
 * @category queries
 */
export const ListSandboxesQuery = Schema.Struct({
  cursor: Schema.optional(Schema.String),
  limit: Schema.optional(queryInteger(1, 200)),
  ...matchFilters,
  regionIds: Schema.optional(WireSchema.repeated(Schema.String)),
  sandboxClasses: Schema.optional(WireSchema.repeated(SandboxClass)),
  ...countFilters,
  isPublic: Schema.optional(WireSchema.BooleanFromString),
  isRecoverable: Schema.optional(WireSchema.BooleanFromString),
  createdAtAfter: Schema.optional(WireSchema.DateFromString),
  createdAtBefore: Schema.optional(WireSchema.DateFromString),
  ...eventFilters,
  sort: Schema.optional(oneOf("name", "cpu", "memoryGib", "diskGib", "lastActivityAt", "createdAt")),
  order,
  // Lifecycle of Daytona 0.216: TTL and warm pools
  autoDestroyAtAfter: Schema.optional(WireSchema.DateFromString),
  autoDestroyAtBefore: Schema.optional(WireSchema.DateFromString),
  includeWarm: Schema.optional(WireSchema.BooleanFromString)
})

/**
 * The query of the deprecated page-based sandbox list.
 *
 * @since 0.1.0
 * @category queries
 */
export const ListSandboxesPaginatedQuery = Schema.Struct({
  page: Schema.optional(queryInteger(1)),
  limit: Schema.optional(queryInteger(1, 200)),
  ...matchFilters,
  regions: Schema.optional(WireSchema.repeated(Schema.String)),
  ...countFilters,
  ...eventFilters,
  sort: Schema.optional(oneOf("id", "name", "state", "snapshot", "region", "updatedAt", "createdAt", "lastActivityAt")),
  order
})

/**
 * The query of the snapshot list.
 *
 * @since 0.1.0
 * @category queries
 */
export const ListSnapshotsQuery = Schema.Struct({
  page: Schema.optional(queryInteger(1)),
  limit: Schema.optional(queryInteger(1, 200)),
  name: Schema.optional(Schema.String),
  sort: Schema.optional(oneOf("name", "state", "lastUsedAt", "createdAt")),
  order: Schema.optional(oneOf("asc", "desc"))
})

const SandboxRef = Schema.Struct({ sandboxIdOrName: Schema.String })

/** A path parameter that is a whole number of minutes. */
const Interval = Schema.Struct({
  sandboxIdOrName: Schema.String,
  interval: WireSchema.IntegerFromString
})

/** A port number in a path: "Invalid port" unless 1–65535. */
const Port = Schema.NumberFromString.annotations({ message: () => "Invalid port" }).pipe(
  Schema.filter((port) => Number.isInteger(port) && port >= 1 && port <= 65535, { message: () => "Invalid port" })
)

const SandboxPort = Schema.Struct({ sandboxIdOrName: Schema.String, port: Port })

const SnapshotRef = Schema.Struct({ id: Schema.String })
const VolumeRef = Schema.Struct({ volumeId: Schema.String })

const lifecycle = { params: SandboxRef, success: Endpoint.json(SandboxDto), errors: [400, 404, 409] } as const

/**
 * `GET /sandbox`: one page of the cursor-paginated list.
 *
 * @since 0.1.0
 * @category sandboxes
 */
export const listSandboxes = endpoint({
  name: "listSandboxes",
  method: "GET",
  path: "/sandbox",
  query: ListSandboxesQuery,
  success: Endpoint.json(ListSandboxesResponse),
  errors: [400]
})

/**
 * `GET /sandbox/paginated`: one page of the deprecated page-based list.
 *
 * @since 0.1.0
 * @category sandboxes
 */
export const listSandboxesPaginated = endpoint({
  name: "listSandboxesPaginatedDeprecated",
  method: "GET",
  path: "/sandbox/paginated",
  query: ListSandboxesPaginatedQuery,
  success: Endpoint.json(PaginatedSandboxes),
  errors: [400]
})

/**
 * `POST /sandbox`: creates a sandbox (and, from a snapshot, waits until it has started). Convergent
 * because every create of the SDK carries a unique `effect-daytona.create-id` label: after an
 * ambiguous failure the sandbox is looked up by that label, adopted when found, asked for again when
 * not.
 *
 * @since 0.1.0
 * @category sandboxes
 */
export const createSandbox = endpoint({
  name: "createSandbox",
  method: "POST",
  path: "/sandbox",
  payload: Endpoint.json(CreateSandbox),
  success: Endpoint.json(SandboxDto),
  errors: [400, 404, 409],
  replay: "convergent"
})

/**
 * `GET /sandbox/{sandboxIdOrName}`.
 *
 * @since 0.1.0
 * @category sandboxes
 */
export const getSandbox = endpoint({
  name: "getSandbox",
  method: "GET",
  path: "/sandbox/{sandboxIdOrName}",
  params: SandboxRef,
  success: Endpoint.json(SandboxDto),
  errors: [404]
})

/**
 * `DELETE /sandbox/{sandboxIdOrName}`: starts the deletion, answering the sandbox (which the SDK does
 * not read).
 *
 * @since 0.1.0
 * @category sandboxes
 */
export const deleteSandbox = endpoint({
  name: "deleteSandbox",
  method: "DELETE",
  path: "/sandbox/{sandboxIdOrName}",
  params: SandboxRef,
  success: Endpoint.json(SandboxDto),
  errors: [400, 404, 409],
  replay: "safe"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/start`.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const startSandbox = endpoint({
  name: "startSandbox",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/start",
  ...lifecycle,
  replay: "convergent"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/stop`, `force` to kill rather than stop gracefully.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const stopSandbox = endpoint({
  name: "stopSandbox",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/stop",
  query: Schema.Struct({ force: Schema.optional(WireSchema.BooleanFromString) }),
  ...lifecycle,
  replay: "convergent"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/archive`.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const archiveSandbox = endpoint({
  name: "archiveSandbox",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/archive",
  ...lifecycle,
  replay: "convergent"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/recover`: restarts a sandbox that failed recoverably.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const recoverSandbox = endpoint({
  name: "recoverSandbox",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/recover",
  ...lifecycle,
  replay: "convergent"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/resize`.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const resizeSandbox = endpoint({
  name: "resizeSandbox",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/resize",
  payload: Endpoint.json(ResizeSandbox),
  ...lifecycle,
  replay: "convergent"
})

/**
 * `PUT /sandbox/{sandboxIdOrName}/labels`: replaces every label. Daytona answers with the whole
 * sandbox (see the deviations).
 *
 * @since 0.1.0
 * @category settings
 */
export const replaceLabels = endpoint({
  name: "replaceLabels",
  method: "PUT",
  path: "/sandbox/{sandboxIdOrName}/labels",
  params: SandboxRef,
  payload: Endpoint.json(SandboxLabels),
  success: Endpoint.json(Schema.Union(SandboxDto, SandboxLabels)),
  errors: [400, 404, 409],
  replay: "safe"
})

const intervalSetter = <const Name extends string>(name: Name, segment: string) =>
  endpoint({
    name,
    method: "POST",
    path: `/sandbox/{sandboxIdOrName}/${segment}/{interval}`,
    params: Interval,
    success: Endpoint.json(SandboxDto),
    status: 201,
    errors: [400, 404, 409],
    replay: "safe"
  })

/**
 * `POST /sandbox/{sandboxIdOrName}/autostop/{interval}` (minutes; 0 disables).
 *
 * @since 0.1.0
 * @category settings
 */
export const setAutostopInterval = intervalSetter("setAutostopInterval", "autostop")

/**
 * `POST /sandbox/{sandboxIdOrName}/autoarchive/{interval}` (minutes; 0 means the maximum).
 *
 * @since 0.1.0
 * @category settings
 */
export const setAutoArchiveInterval = intervalSetter("setAutoArchiveInterval", "autoarchive")

/**
 * `POST /sandbox/{sandboxIdOrName}/autodelete/{interval}` (minutes; negative disables).
 *
 * @since 0.1.0
 * @category settings
 */
export const setAutoDeleteInterval = intervalSetter("setAutoDeleteInterval", "autodelete")

/**
 * `POST /sandbox/{sandboxIdOrName}/network-settings`.
 *
 * @since 0.1.0
 * @category settings
 */
export const updateNetworkSettings = endpoint({
  name: "updateNetworkSettings",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/network-settings",
  params: SandboxRef,
  payload: Endpoint.json(UpdateSandboxNetworkSettings),
  success: Endpoint.json(SandboxDto),
  errors: [400, 404, 409],
  replay: "safe"
})

/**
 * `POST /sandbox/{sandboxId}/last-activity`: counts as activity for auto-stop.
 *
 * @since 0.1.0
 * @category settings
 */
export const updateLastActivity = endpoint({
  name: "updateLastActivity",
  method: "POST",
  path: "/sandbox/{sandboxId}/last-activity",
  params: Schema.Struct({ sandboxId: Schema.String }),
  status: 201,
  errors: [404],
  replay: "safe"
})

/**
 * `GET /sandbox/{sandboxIdOrName}/ports/{port}/preview-url`.
 *
 * @since 0.1.0
 * @category access
 */
export const getPortPreviewUrl = endpoint({
  name: "getPortPreviewUrl",
  method: "GET",
  path: "/sandbox/{sandboxIdOrName}/ports/{port}/preview-url",
  params: SandboxPort,
  success: Endpoint.json(PortPreviewUrl),
  errors: [400, 404]
})

/**
 * `GET /sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url`: a URL that carries its own token,
 * valid for `expiresInSeconds` (1–86400, default 60).
 *
 * @since 0.1.0
 * @category access
 */
export const getSignedPortPreviewUrl = endpoint({
  name: "getSignedPortPreviewUrl",
  method: "GET",
  path: "/sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url",
  params: SandboxPort,
  query: Schema.Struct({
    expiresInSeconds: Schema.optional(
      Schema.NumberFromString.annotations({
        message: () => "expiresInSeconds must be between 1 and 86400 seconds"
      }).pipe(
        Schema.filter((n) => Number.isInteger(n) && n >= 1 && n <= 86400, {
          message: () => "expiresInSeconds must be between 1 and 86400 seconds"
        })
      )
    )
  }),
  success: Endpoint.json(SignedPortPreviewUrl),
  errors: [400, 404]
})

/**
 * `POST /sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url/{token}/expire`.
 *
 * @since 0.1.0
 * @category access
 */
export const expireSignedPortPreviewUrl = endpoint({
  name: "expireSignedPortPreviewUrl",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url/{token}/expire",
  params: Schema.Struct({ sandboxIdOrName: Schema.String, port: Port, token: Schema.String }),
  status: 201,
  errors: [400, 404],
  replay: "safe"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/ssh-access`: a token for SSH, valid `expiresInMinutes` (default 60).
 *
 * @since 0.1.0
 * @category access
 */
export const createSshAccess = endpoint({
  name: "createSshAccess",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/ssh-access",
  params: SandboxRef,
  query: Schema.Struct({
    expiresInMinutes: Schema.optional(
      Schema.NumberFromString.annotations({ message: () => "expiresInMinutes must be a number" }).pipe(
        Schema.filter((n) => Number.isFinite(n) && n > 0 && n <= 527040, {
          message: () => "expiresInMinutes must be a positive number of minutes, at most a year"
        })
      )
    )
  }),
  success: Endpoint.json(SshAccessDto),
  errors: [400, 404],
  replay: "safe"
})

/**
 * `DELETE /sandbox/{sandboxIdOrName}/ssh-access`: revokes one token, or every token.
 *
 * @since 0.1.0
 * @category access
 */
export const revokeSshAccess = endpoint({
  name: "revokeSshAccess",
  method: "DELETE",
  path: "/sandbox/{sandboxIdOrName}/ssh-access",
  params: SandboxRef,
  query: Schema.Struct({ token: Schema.optional(Schema.String) }),
  success: Endpoint.json(SandboxDto),
  errors: [400, 404]
})

/**
 * `GET /sandbox/ssh-access/validate?token=…`.
 *
 * @since 0.1.0
 * @category access
 */
export const validateSshAccess = endpoint({
  name: "validateSshAccess",
  method: "GET",
  path: "/sandbox/ssh-access/validate",
  query: Schema.Struct({ token: Schema.String }),
  success: Endpoint.json(SshAccessValidationDto),
  errors: [400, 404]
})

/**
 * `GET /sandbox/{sandboxId}/toolbox-proxy-url`: where the sandbox's toolbox is reached.
 *
 * @since 0.1.0
 * @category access
 */
export const getToolboxProxyUrl = endpoint({
  name: "getToolboxProxyUrl",
  method: "GET",
  path: "/sandbox/{sandboxId}/toolbox-proxy-url",
  params: Schema.Struct({ sandboxId: Schema.String }),
  success: Endpoint.json(ToolboxProxyUrl),
  errors: [404]
})

/**
 * `GET /snapshots`: one page of the snapshot list.
 *
 * @since 0.1.0
 * @category snapshots
 */
export const listSnapshots = endpoint({
  name: "getAllSnapshots",
  method: "GET",
  path: "/snapshots",
  query: ListSnapshotsQuery,
  success: Endpoint.json(PaginatedSnapshots),
  errors: [400]
})

/**
 * `POST /snapshots`: from an image name or a Dockerfile.
 *
 * @since 0.1.0
 * @category snapshots
 */
export const createSnapshot = endpoint({
  name: "createSnapshot",
  method: "POST",
  path: "/snapshots",
  payload: Endpoint.json(CreateSnapshot),
  success: Endpoint.json(SnapshotDto),
  errors: [400, 404, 409],
  replay: "unsafe"
})

/**
 * `GET /snapshots/{id}` (an id or a name).
 *
 * @since 0.1.0
 * @category snapshots
 */
export const getSnapshot = endpoint({
  name: "getSnapshot",
  method: "GET",
  path: "/snapshots/{id}",
  params: SnapshotRef,
  success: Endpoint.json(SnapshotDto),
  errors: [400, 404]
})

/**
 * `DELETE /snapshots/{id}`.
 *
 * @since 0.1.0
 * @category snapshots
 */
export const removeSnapshot = endpoint({
  name: "removeSnapshot",
  method: "DELETE",
  path: "/snapshots/{id}",
  params: SnapshotRef,
  errors: [400, 404]
})

/**
 * `POST /snapshots/{id}/activate`.
 *
 * @since 0.1.0
 * @category snapshots
 */
export const activateSnapshot = endpoint({
  name: "activateSnapshot",
  method: "POST",
  path: "/snapshots/{id}/activate",
  params: SnapshotRef,
  success: Endpoint.json(SnapshotDto),
  errors: [400, 404],
  replay: "convergent"
})

/**
 * `POST /snapshots/{id}/deactivate`.
 *
 * @since 0.1.0
 * @category snapshots
 */
export const deactivateSnapshot = endpoint({
  name: "deactivateSnapshot",
  method: "POST",
  path: "/snapshots/{id}/deactivate",
  params: SnapshotRef,
  status: 204,
  errors: [400, 404],
  replay: "convergent"
})

/**
 * `GET /snapshots/{id}/build-logs-url`: where the build's log is read (Daytona's proxy).
 *
 * @since 0.1.0
 * @category snapshots
 */
export const getSnapshotBuildLogsUrl = endpoint({
  name: "getSnapshotBuildLogsUrl",
  method: "GET",
  path: "/snapshots/{id}/build-logs-url",
  params: SnapshotRef,
  success: Endpoint.json(Url),
  errors: [400, 404]
})

/**
 * `GET /volumes`: every volume.
 *
 * @since 0.1.0
 * @category volumes
 */
export const listVolumes = endpoint({
  name: "listVolumes",
  method: "GET",
  path: "/volumes",
  query: Schema.Struct({ includeDeleted: Schema.optional(WireSchema.BooleanFromString) }),
  success: Endpoint.json(VolumeList),
  errors: [400]
})

/**
 * `POST /volumes`.
 *
 * @since 0.1.0
 * @category volumes
 */
export const createVolume = endpoint({
  name: "createVolume",
  method: "POST",
  path: "/volumes",
  payload: Endpoint.json(CreateVolume),
  success: Endpoint.json(VolumeDto),
  errors: [400],
  replay: "unsafe"
})

/**
 * `GET /volumes/{volumeId}`.
 *
 * @since 0.1.0
 * @category volumes
 */
export const getVolume = endpoint({
  name: "getVolume",
  method: "GET",
  path: "/volumes/{volumeId}",
  params: VolumeRef,
  success: Endpoint.json(VolumeDto),
  errors: [400, 404]
})

/**
 * `GET /volumes/by-name/{name}`.
 *
 * @since 0.1.0
 * @category volumes
 */
export const getVolumeByName = endpoint({
  name: "getVolumeByName",
  method: "GET",
  path: "/volumes/by-name/{name}",
  params: Schema.Struct({ name: Schema.String }),
  success: Endpoint.json(VolumeDto),
  errors: [400, 404]
})

/**
 * `DELETE /volumes/{volumeId}`.
 *
 * @since 0.1.0
 * @category volumes
 */
export const deleteVolume = endpoint({
  name: "deleteVolume",
  method: "DELETE",
  path: "/volumes/{volumeId}",
  params: VolumeRef,
  errors: [400, 404, 409]
})

/**
 * `GET /config`: the deployment's configuration (URL templates, defaults, and on the local server how
 * sandboxes are isolated). Decoded loosely: its fields vary between deployments.
 *
 * @since 0.1.0
 * @category configuration
 */
export const getConfig = endpoint({
  name: "configControllerGetConfig",
  method: "GET",
  path: "/config",
  success: Endpoint.json(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})

// ---------------------------------------------------------------------------------------------
// Lifecycle of Daytona 0.216: pause, fork, snapshots of sandboxes, TTL, auto-pause, metrics,
// warm pools
// ---------------------------------------------------------------------------------------------

/**
 * `POST /sandbox/{sandboxIdOrName}/pause`: freezes a started sandbox's processes (`pausing`, then
 * `paused`); `start` resumes it. Daytona answers 422 for classes that cannot pause.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const pauseSandbox = endpoint({
  name: "pauseSandbox",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/pause",
  params: SandboxRef,
  success: Endpoint.json(SandboxDto),
  errors: [400, 404, 409, 422],
  replay: "convergent"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/fork`: a new sandbox (answered, `creating`) from a copy of this
 * one's files; the source shows `forking` meanwhile. Unsafe: a second request makes a second fork.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const forkSandbox = endpoint({
  name: "forkSandbox",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/fork",
  params: SandboxRef,
  payload: Endpoint.json(ForkSandbox),
  success: Endpoint.json(SandboxDto),
  errors: [400, 404, 409, 422],
  replay: "unsafe"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/snapshot`: captures the sandbox's files into a new snapshot of
 * that name; the sandbox shows `snapshotting` until it is done, then its previous state. Convergent:
 * snapshot names are unique, so a lost answer is reconciled by looking the snapshot up.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const createSandboxSnapshot = endpoint({
  name: "createSandboxSnapshot",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/snapshot",
  params: SandboxRef,
  payload: Endpoint.json(CreateSandboxSnapshot),
  success: Endpoint.json(SandboxDto),
  errors: [400, 404, 409, 422],
  replay: "convergent"
})

/**
 * `POST /sandbox/{sandboxIdOrName}/autopause/{interval}` (minutes of inactivity; 0 disables).
 *
 * @since 0.1.0
 * @category settings
 */
export const setAutoPauseInterval = intervalSetter("setAutoPauseInterval", "autopause")

/**
 * `POST /sandbox/{sandboxIdOrName}/ttl/{ttlMinutes}`: destroyed that many minutes from now, whatever
 * its state (0 disables). Read `autoDestroyAt` for the deadline.
 *
 * @since 0.1.0
 * @category settings
 */
export const setTtl = endpoint({
  name: "setTtl",
  method: "POST",
  path: "/sandbox/{sandboxIdOrName}/ttl/{ttlMinutes}",
  params: Schema.Struct({ sandboxIdOrName: Schema.String, ttlMinutes: WireSchema.IntegerFromString }),
  success: Endpoint.json(SandboxDto),
  status: 201,
  errors: [400, 404, 409],
  replay: "safe"
})

/**
 * `GET /sandbox/{sandboxIdOrName}/ancestors`: the sandboxes it was forked from, the oldest first.
 *
 * @since 0.1.0
 * @category forks
 */
export const getSandboxAncestors = endpoint({
  name: "getSandboxAncestors",
  method: "GET",
  path: "/sandbox/{sandboxIdOrName}/ancestors",
  params: SandboxRef,
  success: Endpoint.json(Schema.Array(SandboxDto)),
  errors: [404]
})

/**
 * `GET /sandbox/{sandboxIdOrName}/forks`: the sandboxes forked from it (destroyed ones with
 * `includeDestroyed`).
 *
 * @since 0.1.0
 * @category forks
 */
export const getSandboxForks = endpoint({
  name: "getSandboxForks",
  method: "GET",
  path: "/sandbox/{sandboxIdOrName}/forks",
  params: SandboxRef,
  query: Schema.Struct({ includeDestroyed: Schema.optional(WireSchema.BooleanFromString) }),
  success: Endpoint.json(Schema.Array(SandboxDto)),
  errors: [400, 404]
})

/**
 * `GET /sandbox/{sandboxIdOrName}/parent`: the sandbox it was forked from (404 when it was not).
 *
 * @since 0.1.0
 * @category forks
 */
export const getSandboxParent = endpoint({
  name: "getSandboxParent",
  method: "GET",
  path: "/sandbox/{sandboxIdOrName}/parent",
  params: SandboxRef,
  success: Endpoint.json(SandboxDto),
  errors: [404]
})

/**
 * `GET /sandbox/{sandboxId}/telemetry/metrics?from=&to=`: the sandbox's usage series between two
 * times, by OpenTelemetry metric name (`metricNames` to choose).
 *
 * @since 0.1.0
 * @category metrics
 */
export const getSandboxMetrics = endpoint({
  name: "getSandboxMetrics",
  method: "GET",
  path: "/sandbox/{sandboxId}/telemetry/metrics",
  params: Schema.Struct({ sandboxId: Schema.String }),
  query: Schema.Struct({
    from: WireSchema.DateFromString,
    to: WireSchema.DateFromString,
    metricNames: Schema.optional(WireSchema.repeated(Schema.String))
  }),
  success: Endpoint.json(MetricsResponse),
  errors: [400, 404]
})

const WarmPoolRef = Schema.Struct({ id: Schema.String })

/**
 * `GET /warm-pools`: every warm pool of the organization.
 *
 * @since 0.1.0
 * @category warm pools
 */
export const listWarmPools = endpoint({
  name: "listWarmPools",
  method: "GET",
  path: "/warm-pools",
  success: Endpoint.json(WarmPoolList)
})

/**
 * `POST /warm-pools`: keeps `pool` sandboxes of a snapshot started (409 when the snapshot already
 * has a pool in that region). Convergent: a lost answer is reconciled by finding the pool of that
 * snapshot and region.
 *
 * @since 0.1.0
 * @category warm pools
 */
export const createWarmPool = endpoint({
  name: "createWarmPool",
  method: "POST",
  path: "/warm-pools",
  payload: Endpoint.json(CreateWarmPool),
  success: Endpoint.json(WarmPool),
  status: 201,
  errors: [400, 404, 409],
  replay: "convergent"
})

/**
 * `PATCH /warm-pools/{id}`: sets the pool's size (`0` drains it).
 *
 * @since 0.1.0
 * @category warm pools
 */
export const updateWarmPool = endpoint({
  name: "updateWarmPool",
  method: "PATCH",
  path: "/warm-pools/{id}",
  params: WarmPoolRef,
  payload: Endpoint.json(UpdateWarmPool),
  success: Endpoint.json(WarmPool),
  errors: [400, 404],
  replay: "safe"
})

/**
 * `DELETE /warm-pools/{id}`: the pool and its unclaimed sandboxes go.
 *
 * @since 0.1.0
 * @category warm pools
 */
export const deleteWarmPool = endpoint({
  name: "deleteWarmPool",
  method: "DELETE",
  path: "/warm-pools/{id}",
  params: WarmPoolRef,
  errors: [404]
})

// ---------------------------------------------------------------------------------------------
// secrets, signed file URLs and sandbox build logs
// ---------------------------------------------------------------------------------------------

const SecretRef = Schema.Struct({ secretId: Schema.String })

/**
 * The query of the cursor-paginated secret list.
 *
 * @since 0.1.0
 * @category queries
 */
export const ListSecretsQuery = Schema.Struct({
  cursor: Schema.optional(Schema.String),
  limit: Schema.optional(queryInteger(1, 200)),
  name: Schema.optional(Schema.String),
  sort: Schema.optional(oneOf("name", "createdAt", "updatedAt")),
  order
})

/**
 * `GET /secret`: every secret of the organization (deprecated by Daytona for the paginated list).
 *
 * @since 0.1.0
 * @category secrets
 */
export const listSecrets = endpoint({
  name: "listSecrets",
  method: "GET",
  path: "/secret",
  success: Endpoint.json(Schema.Array(SecretDto))
})

/**
 * `GET /secret/paginated`: one page of the cursor-paginated list.
 *
 * @since 0.1.0
 * @category secrets
 */
export const listSecretsPaginated = endpoint({
  name: "listSecretsPaginated",
  method: "GET",
  path: "/secret/paginated",
  query: ListSecretsQuery,
  success: Endpoint.json(ListSecretsResponse),
  errors: [400]
})

/**
 * `POST /secret`: the value is stored encrypted and never answered.
 *
 * @since 0.1.0
 * @category secrets
 */
export const createSecret = endpoint({
  name: "createSecret",
  method: "POST",
  path: "/secret",
  payload: Endpoint.json(CreateSecret),
  success: Endpoint.json(SecretDto),
  errors: [400, 409],
  replay: "unsafe"
})

/**
 * `GET /secret/{secretId}`.
 *
 * @since 0.1.0
 * @category secrets
 */
export const getSecret = endpoint({
  name: "getSecret",
  method: "GET",
  path: "/secret/{secretId}",
  params: SecretRef,
  success: Endpoint.json(SecretDto),
  errors: [400, 404]
})

/**
 * `PATCH /secret/{secretId}`: sets the given fields (the same request twice sets them twice).
 *
 * @since 0.1.0
 * @category secrets
 */
export const updateSecret = endpoint({
  name: "updateSecret",
  method: "PATCH",
  path: "/secret/{secretId}",
  params: SecretRef,
  payload: Endpoint.json(UpdateSecret),
  success: Endpoint.json(SecretDto),
  errors: [400, 404],
  replay: "safe"
})

/**
 * `DELETE /secret/{secretId}`.
 *
 * @since 0.1.0
 * @category secrets
 */
export const deleteSecret = endpoint({
  name: "deleteSecret",
  method: "DELETE",
  path: "/secret/{secretId}",
  params: SecretRef,
  errors: [400, 404]
})

/**
 * `PUT /sandbox/{sandboxIdOrName}/secrets`: replaces the secrets mounted in the sandbox.
 *
 * @since 0.1.0
 * @category secrets
 */
export const updateSandboxSecrets = endpoint({
  name: "updateSandboxSecrets",
  method: "PUT",
  path: "/sandbox/{sandboxIdOrName}/secrets",
  params: SandboxRef,
  payload: Endpoint.json(UpdateSandboxSecrets),
  success: Endpoint.json(SandboxDto),
  errors: [400, 404, 409]
})

const SandboxIdRef = Schema.Struct({ sandboxId: Schema.String })

/**
 * `GET /sandbox/{sandboxId}/signing-key`: the key that signs the sandbox's file URLs (plain text).
 *
 * @since 0.1.0
 * @category access
 */
export const getSandboxSigningKey = endpoint({
  name: "getSandboxSigningKey",
  method: "GET",
  path: "/sandbox/{sandboxId}/signing-key",
  params: SandboxIdRef,
  success: Endpoint.text,
  errors: [404]
})

/**
 * `POST /sandbox/{sandboxId}/signing-key/rotate`: a new signing key (plain text); every URL signed
 * with the old one stops working. Sent again, it rotates again, which changes nothing the caller
 * relies on.
 *
 * @since 0.1.0
 * @category access
 */
export const rotateSigningKey = endpoint({
  name: "rotateSigningKey",
  method: "POST",
  path: "/sandbox/{sandboxId}/signing-key/rotate",
  params: SandboxIdRef,
  success: Endpoint.text,
  status: 201,
  errors: [404],
  replay: "safe"
})

/**
 * `GET /sandbox/{sandboxIdOrName}/build-logs-url`: where the build log of a sandbox created from an
 * image is read.
 *
 * @since 0.1.0
 * @category sandboxes
 */
export const getBuildLogsUrl = endpoint({
  name: "getBuildLogsUrl",
  method: "GET",
  path: "/sandbox/{sandboxIdOrName}/build-logs-url",
  params: SandboxRef,
  success: Endpoint.json(Url),
  errors: [400, 404]
})

/**
 * `GET /object-storage/push-access`: temporary credentials for the organization's object storage,
 * where an image's build context is uploaded before a create or snapshot build names it by hash.
 *
 * @since 0.1.0
 * @category images
 */
export const getPushAccess = endpoint({
  name: "getPushAccess",
  method: "GET",
  path: "/object-storage/push-access",
  success: Endpoint.json(StorageAccess)
})

/**
 * Every control-plane endpoint, by the name its module exports it under.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const endpoints: {
  readonly listSandboxes: typeof listSandboxes
  readonly listSandboxesPaginated: typeof listSandboxesPaginated
  readonly createSandbox: typeof createSandbox
  readonly getSandbox: typeof getSandbox
  readonly deleteSandbox: typeof deleteSandbox
  readonly startSandbox: typeof startSandbox
  readonly stopSandbox: typeof stopSandbox
  readonly archiveSandbox: typeof archiveSandbox
  readonly recoverSandbox: typeof recoverSandbox
  readonly resizeSandbox: typeof resizeSandbox
  readonly replaceLabels: typeof replaceLabels
  readonly setAutostopInterval: typeof setAutostopInterval
  readonly setAutoArchiveInterval: typeof setAutoArchiveInterval
  readonly setAutoDeleteInterval: typeof setAutoDeleteInterval
  readonly updateNetworkSettings: typeof updateNetworkSettings
  readonly updateLastActivity: typeof updateLastActivity
  readonly getPortPreviewUrl: typeof getPortPreviewUrl
  readonly getSignedPortPreviewUrl: typeof getSignedPortPreviewUrl
  readonly expireSignedPortPreviewUrl: typeof expireSignedPortPreviewUrl
  readonly createSshAccess: typeof createSshAccess
  readonly revokeSshAccess: typeof revokeSshAccess
  readonly validateSshAccess: typeof validateSshAccess
  readonly getToolboxProxyUrl: typeof getToolboxProxyUrl
  readonly listSnapshots: typeof listSnapshots
  readonly createSnapshot: typeof createSnapshot
  readonly getSnapshot: typeof getSnapshot
  readonly removeSnapshot: typeof removeSnapshot
  readonly activateSnapshot: typeof activateSnapshot
  readonly deactivateSnapshot: typeof deactivateSnapshot
  readonly getSnapshotBuildLogsUrl: typeof getSnapshotBuildLogsUrl
  readonly listVolumes: typeof listVolumes
  readonly createVolume: typeof createVolume
  readonly getVolume: typeof getVolume
  readonly getVolumeByName: typeof getVolumeByName
  readonly deleteVolume: typeof deleteVolume
  readonly getConfig: typeof getConfig
  // Lifecycle of Daytona 0.216
  readonly pauseSandbox: typeof pauseSandbox
  readonly forkSandbox: typeof forkSandbox
  readonly createSandboxSnapshot: typeof createSandboxSnapshot
  readonly setAutoPauseInterval: typeof setAutoPauseInterval
  readonly setTtl: typeof setTtl
  readonly getSandboxAncestors: typeof getSandboxAncestors
  readonly getSandboxForks: typeof getSandboxForks
  readonly getSandboxParent: typeof getSandboxParent
  readonly getSandboxMetrics: typeof getSandboxMetrics
  readonly listWarmPools: typeof listWarmPools
  readonly createWarmPool: typeof createWarmPool
  readonly updateWarmPool: typeof updateWarmPool
  readonly deleteWarmPool: typeof deleteWarmPool
  readonly listSecrets: typeof listSecrets
  readonly listSecretsPaginated: typeof listSecretsPaginated
  readonly createSecret: typeof createSecret
  readonly getSecret: typeof getSecret
  readonly updateSecret: typeof updateSecret
  readonly deleteSecret: typeof deleteSecret
  readonly updateSandboxSecrets: typeof updateSandboxSecrets
  readonly getSandboxSigningKey: typeof getSandboxSigningKey
  readonly rotateSigningKey: typeof rotateSigningKey
  readonly getBuildLogsUrl: typeof getBuildLogsUrl
  readonly getPushAccess: typeof getPushAccess
} = {
  listSandboxes,
  listSandboxesPaginated,
  createSandbox,
  getSandbox,
  deleteSandbox,
  startSandbox,
  stopSandbox,
  archiveSandbox,
  recoverSandbox,
  resizeSandbox,
  replaceLabels,
  setAutostopInterval,
  setAutoArchiveInterval,
  setAutoDeleteInterval,
  updateNetworkSettings,
  updateLastActivity,
  getPortPreviewUrl,
  getSignedPortPreviewUrl,
  expireSignedPortPreviewUrl,
  createSshAccess,
  revokeSshAccess,
  validateSshAccess,
  getToolboxProxyUrl,
  listSnapshots,
  createSnapshot,
  getSnapshot,
  removeSnapshot,
  activateSnapshot,
  deactivateSnapshot,
  getSnapshotBuildLogsUrl,
  listVolumes,
  createVolume,
  getVolume,
  getVolumeByName,
  deleteVolume,
  getConfig,
  listSecrets,
  listSecretsPaginated,
  createSecret,
  getSecret,
  updateSecret,
  deleteSecret,
  updateSandboxSecrets,
  getSandboxSigningKey,
  rotateSigningKey,
  getBuildLogsUrl,
  getPushAccess,
  // Lifecycle of Daytona 0.216
  pauseSandbox,
  forkSandbox,
  createSandboxSnapshot,
  setAutoPauseInterval,
  setTtl,
  getSandboxAncestors,
  getSandboxForks,
  getSandboxParent,
  getSandboxMetrics,
  listWarmPools,
  createWarmPool,
  updateWarmPool,
  deleteWarmPool
}
