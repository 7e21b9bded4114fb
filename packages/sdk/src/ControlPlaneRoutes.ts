/**
 * The control-plane routes the SDK calls, defined once: the SDK builds every request from this
 * table, the local server serves it, and the spec conformance test checks it against Daytona's
 * OpenAPI file. Paths are relative to the API base URL (which ends in `/api`).
 *
 * @since 0.1.0
 */
import type * as Schema from "effect/Schema"
import { CreateSandbox, ResizeSandbox, UpdateSandboxNetworkSettings } from "./CreateSandbox.js"
import { PortPreviewUrl, SignedPortPreviewUrl } from "./PreviewUrl.js"
import { ListSandboxesResponse, PaginatedSandboxes, SandboxDto, SandboxLabels, ToolboxProxyUrl } from "./SandboxDto.js"
import {
  CreateSnapshot,
  CreateVolume,
  PaginatedSnapshots,
  SnapshotDto,
  Url,
  VolumeDto,
  VolumeList
} from "./SnapshotDto.js"
import { SshAccessDto, SshAccessValidationDto } from "./SshAccess.js"

/**
 * HTTP methods used by the control plane.
 *
 * @since 0.1.0
 * @category models
 */
export type Method = "GET" | "POST" | "PUT" | "DELETE"

/**
 * One route: its method, its path template as the spec writes it, the spec's operation id, the
 * query parameters the SDK may send, and the schemas of its body and answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Route<Params extends string = string> {
  readonly method: Method
  readonly template: string
  readonly operationId: string
  readonly params: ReadonlyArray<Params>
  readonly query: ReadonlyArray<string>
  readonly request?: Schema.Schema.AnyNoContext
  readonly response?: Schema.Schema.AnyNoContext
  /** The status the real server answers with on success (which the spec sometimes misstates). */
  readonly status: number
}

const route = <const Params extends string>(
  method: Method,
  template: string,
  operationId: string,
  options: {
    readonly params?: ReadonlyArray<Params>
    readonly query?: ReadonlyArray<string>
    readonly request?: Schema.Schema.AnyNoContext
    readonly response?: Schema.Schema.AnyNoContext
    readonly status?: number
  } = {}
): Route<Params> => ({
  method,
  template,
  operationId,
  params: options.params ?? [],
  query: options.query ?? [],
  status: options.status ?? 200,
  ...(options.request === undefined ? {} : { request: options.request }),
  ...(options.response === undefined ? {} : { response: options.response })
})

/**
 * Fills a route's path template; every value is URI-encoded.
 *
 * @since 0.1.0
 * @category constructors
 */
export const path = <Params extends string>(self: Route<Params>, params: Readonly<Record<Params, string | number>>) =>
  self.template.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(String((params as Readonly<Record<string, string | number>>)[name]))
  )

const id = ["sandboxIdOrName"] as const

/**
 * The query parameters of the cursor-paginated list.
 *
 * @since 0.1.0
 * @category constants
 */
export const listQuery = [
  "cursor",
  "limit",
  "id",
  "name",
  "labels",
  "includeErroredDeleted",
  "states",
  "snapshots",
  "regionIds",
  "sandboxClasses",
  "minCpu",
  "maxCpu",
  "minMemoryGiB",
  "maxMemoryGiB",
  "minDiskGiB",
  "maxDiskGiB",
  "isPublic",
  "isRecoverable",
  "createdAtAfter",
  "createdAtBefore",
  "lastEventAfter",
  "lastEventBefore",
  "sort",
  "order"
] as const

/**
 * The query parameters of the deprecated page-based list.
 *
 * @since 0.1.0
 * @category constants
 */
export const paginatedQuery = [
  "page",
  "limit",
  "id",
  "name",
  "labels",
  "includeErroredDeleted",
  "states",
  "snapshots",
  "regions",
  "minCpu",
  "maxCpu",
  "minMemoryGiB",
  "maxMemoryGiB",
  "minDiskGiB",
  "maxDiskGiB",
  "lastEventAfter",
  "lastEventBefore",
  "sort",
  "order"
] as const

/**
 * The sandbox routes the SDK calls; the local server serves each of them. Snapshot and volume
 * routes are in {@link snapshotAndVolumeRoutes}, every route in {@link allRoutes}.
 *
 * @since 0.1.0
 * @category routes
 */
export const routes = {
  listSandboxes: route("GET", "/sandbox", "listSandboxes", { query: listQuery, response: ListSandboxesResponse }),
  listSandboxesPaginated: route("GET", "/sandbox/paginated", "listSandboxesPaginated_deprecated", {
    query: paginatedQuery,
    response: PaginatedSandboxes
  }),
  createSandbox: route("POST", "/sandbox", "createSandbox", { request: CreateSandbox, response: SandboxDto }),
  getSandbox: route("GET", "/sandbox/{sandboxIdOrName}", "getSandbox", { params: id, response: SandboxDto }),
  deleteSandbox: route("DELETE", "/sandbox/{sandboxIdOrName}", "deleteSandbox", { params: id, response: SandboxDto }),
  startSandbox: route("POST", "/sandbox/{sandboxIdOrName}/start", "startSandbox", {
    params: id,
    response: SandboxDto
  }),
  stopSandbox: route("POST", "/sandbox/{sandboxIdOrName}/stop", "stopSandbox", {
    params: id,
    query: ["force"],
    response: SandboxDto
  }),
  archiveSandbox: route("POST", "/sandbox/{sandboxIdOrName}/archive", "archiveSandbox", {
    params: id,
    response: SandboxDto
  }),
  recoverSandbox: route("POST", "/sandbox/{sandboxIdOrName}/recover", "recoverSandbox", {
    params: id,
    response: SandboxDto
  }),
  resizeSandbox: route("POST", "/sandbox/{sandboxIdOrName}/resize", "resizeSandbox", {
    params: id,
    request: ResizeSandbox,
    response: SandboxDto
  }),
  replaceLabels: route("PUT", "/sandbox/{sandboxIdOrName}/labels", "replaceLabels", {
    params: id,
    request: SandboxLabels,
    response: SandboxLabels
  }),
  setAutostopInterval: route("POST", "/sandbox/{sandboxIdOrName}/autostop/{interval}", "setAutostopInterval", {
    params: ["sandboxIdOrName", "interval"],
    response: SandboxDto,
    status: 201
  }),
  setAutoArchiveInterval: route("POST", "/sandbox/{sandboxIdOrName}/autoarchive/{interval}", "setAutoArchiveInterval", {
    params: ["sandboxIdOrName", "interval"],
    response: SandboxDto,
    status: 201
  }),
  setAutoDeleteInterval: route("POST", "/sandbox/{sandboxIdOrName}/autodelete/{interval}", "setAutoDeleteInterval", {
    params: ["sandboxIdOrName", "interval"],
    response: SandboxDto,
    status: 201
  }),
  updateNetworkSettings: route("POST", "/sandbox/{sandboxIdOrName}/network-settings", "updateNetworkSettings", {
    params: id,
    request: UpdateSandboxNetworkSettings,
    response: SandboxDto
  }),
  updateLastActivity: route("POST", "/sandbox/{sandboxId}/last-activity", "updateLastActivity", {
    params: ["sandboxId"],
    status: 201
  }),
  getPortPreviewUrl: route("GET", "/sandbox/{sandboxIdOrName}/ports/{port}/preview-url", "getPortPreviewUrl", {
    params: ["sandboxIdOrName", "port"],
    response: PortPreviewUrl
  }),
  getSignedPortPreviewUrl: route(
    "GET",
    "/sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url",
    "getSignedPortPreviewUrl",
    { params: ["sandboxIdOrName", "port"], query: ["expiresInSeconds"], response: SignedPortPreviewUrl }
  ),
  expireSignedPortPreviewUrl: route(
    "POST",
    "/sandbox/{sandboxIdOrName}/ports/{port}/signed-preview-url/{token}/expire",
    "expireSignedPortPreviewUrl",
    { params: ["sandboxIdOrName", "port", "token"], status: 201 }
  ),
  createSshAccess: route("POST", "/sandbox/{sandboxIdOrName}/ssh-access", "createSshAccess", {
    params: id,
    query: ["expiresInMinutes"],
    response: SshAccessDto
  }),
  revokeSshAccess: route("DELETE", "/sandbox/{sandboxIdOrName}/ssh-access", "revokeSshAccess", {
    params: id,
    query: ["token"],
    response: SandboxDto
  }),
  validateSshAccess: route("GET", "/sandbox/ssh-access/validate", "validateSshAccess", {
    query: ["token"],
    response: SshAccessValidationDto
  }),
  getToolboxProxyUrl: route("GET", "/sandbox/{sandboxId}/toolbox-proxy-url", "getToolboxProxyUrl", {
    params: ["sandboxId"],
    response: ToolboxProxyUrl
  })
} as const

/**
 * The snapshot and volume routes the SDK calls (`Snapshots`, `Volumes`), kept apart from the sandbox
 * {@link routes} so that each service's table stays its own.
 *
 * @since 0.1.0
 * @category routes
 */
export const snapshotAndVolumeRoutes = {
  listSnapshots: route("GET", "/snapshots", "getAllSnapshots", {
    query: ["page", "limit", "name", "sort", "order"],
    response: PaginatedSnapshots
  }),
  createSnapshot: route("POST", "/snapshots", "createSnapshot", { request: CreateSnapshot, response: SnapshotDto }),
  getSnapshot: route("GET", "/snapshots/{id}", "getSnapshot", { params: ["id"], response: SnapshotDto }),
  removeSnapshot: route("DELETE", "/snapshots/{id}", "removeSnapshot", { params: ["id"] }),
  activateSnapshot: route("POST", "/snapshots/{id}/activate", "activateSnapshot", {
    params: ["id"],
    response: SnapshotDto
  }),
  deactivateSnapshot: route("POST", "/snapshots/{id}/deactivate", "deactivateSnapshot", {
    params: ["id"],
    status: 204
  }),
  getSnapshotBuildLogsUrl: route("GET", "/snapshots/{id}/build-logs-url", "getSnapshotBuildLogsUrl", {
    params: ["id"],
    response: Url
  }),
  listVolumes: route("GET", "/volumes", "listVolumes", { query: ["includeDeleted"], response: VolumeList }),
  createVolume: route("POST", "/volumes", "createVolume", { request: CreateVolume, response: VolumeDto }),
  getVolume: route("GET", "/volumes/{volumeId}", "getVolume", { params: ["volumeId"], response: VolumeDto }),
  getVolumeByName: route("GET", "/volumes/by-name/{name}", "getVolumeByName", {
    params: ["name"],
    response: VolumeDto
  }),
  deleteVolume: route("DELETE", "/volumes/{volumeId}", "deleteVolume", { params: ["volumeId"] })
} as const

/**
 * Every control-plane route the SDK calls: {@link routes} and {@link snapshotAndVolumeRoutes}. The
 * spec conformance test checks all of them.
 *
 * @since 0.1.0
 * @category routes
 */
export const allRoutes = { ...routes, ...snapshotAndVolumeRoutes } as const

/**
 * A place where the SDK deliberately follows Daytona's server rather than its spec.
 *
 * @since 0.1.0
 * @category models
 */
export interface Deviation {
  readonly operationId: string
  /** Dotted path of the schema field concerned, or `status` for the success status. */
  readonly subject: string
  readonly spec: string
  readonly implementation: string
}

/**
 * Every deliberate deviation from `daytona-api.openapi.yaml` (v0.190.0), with what the server
 * really does. The conformance test accepts exactly these differences.
 *
 * @since 0.1.0
 * @category constants
 */
export const deviations: ReadonlyArray<Deviation> = [
  ...(["setAutostopInterval", "setAutoArchiveInterval", "setAutoDeleteInterval"] as const).map(
    (operationId): Deviation => ({
      operationId,
      subject: "status",
      spec: "200",
      implementation: "201 (a NestJS POST without @HttpCode(200)); the SDK accepts any 2xx"
    })
  ),
  {
    operationId: "expireSignedPortPreviewUrl",
    subject: "status",
    spec: "200",
    implementation: "201 (a NestJS POST without @HttpCode(200))"
  },
  {
    operationId: "replaceLabels",
    subject: "response",
    spec: "SandboxLabels",
    implementation: "the full Sandbox (a superset); the SDK decodes either"
  },
  {
    operationId: "validateSshAccess",
    subject: "response.sandboxId",
    spec: "string, required",
    implementation: "null when the token is invalid; decoded as string | null"
  }
]
