/**
 * The local Daytona server: the control plane under `/api` and the toolbox under
 * `/toolbox/{sandboxId}`, on one HTTP server, with a Bearer API key on every route, and the
 * S3-compatible object storage of build contexts under `/object-storage` (signed with the
 * temporary credentials `GET /api/object-storage/push-access` issues).
 *
 * @since 0.1.0
 */
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type * as SqlError from "@effect/sql/SqlError"
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as ControlPlane from "./internal/controlPlane.js"
import * as ControlPlaneError from "./internal/controlPlaneError.js"
import * as Events from "./internal/events.js"
import * as EventsGateway from "./internal/eventsGateway.js"
import * as Http from "./internal/http.js"
import * as ObjectStorage from "./internal/objectStorage.js"
import * as ObjectStorageRoutes from "./internal/objectStorageRoutes.js"
import * as PreviewProxy from "./internal/previewProxy.js"
import * as Sandboxes from "./internal/sandboxes.js"
import * as Snapshots from "./internal/snapshots.js"
import * as Volumes from "./internal/volumes.js"
import * as DaemonError from "./internal/daemonError.js"
import * as Store from "./internal/store.js"
import * as Egress from "./internal/egress.js"
import * as SecretVault from "./internal/secretVault.js"
import * as Toolbox from "./internal/toolbox.js"
import * as LocalConfig from "./LocalConfig.js"
import * as SandboxEngine from "./SandboxEngine.js"

/**
 * A running local server: where it listens and the key it accepts.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The server's base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** The control plane's base URL (`url` + `/api`), what `DAYTONA_API_URL` should be. */
  readonly apiUrl: string
  readonly apiKey: Redacted.Redacted<string>
  readonly dataDir: string
  readonly isolation: SandboxEngine.ResolvedIsolation
  /** Which resource limits hold on this machine. */
  readonly limits: SandboxEngine.LimitsReport
}

/**
 * @since 0.1.0
 * @category tags
 */
export class LocalDaytona extends Context.Tag("@effect-daytona/local/LocalDaytona")<LocalDaytona, Service>() {}

/**
 * Why the server could not start: the engine, the SQLite store or the socket failed.
 *
 * @since 0.1.0
 * @category errors
 */
export type StartError = SandboxEngine.EngineError | SqlError.SqlError | HttpServerError.ServeError

/**
 * What the HTTP application needs: the services `layerServices` builds.
 *
 * @since 0.1.0
 * @category models
 */
export type Services =
  | Sandboxes.SandboxesService
  | Snapshots.SnapshotsService
  | Volumes.VolumesService
  | SecretVault.SecretVaultService
  | ObjectStorage.ObjectStorageService
  | SandboxEngine.SandboxEngine
  | LocalConfig.LocalConfig
  | Events.EventBus

const isToolbox = (url: string) => url === "/toolbox" || url.startsWith("/toolbox/")

/** Routes whose bodies are streamed to disk (bounded by the sandbox's disk), not read whole. */
const isStreamedUpload = (url: string) => /^\/toolbox\/[^/?]+\/files\/(?:bulk-)?upload(?:-v2)?(?:[?#]|$)/.test(url)

/**
 * The parts of a signed file URL (`downloadUrl` / `uploadUrl`): only a download (`GET
 * /files/download`) or a single upload (`POST /files/upload-v2`) of a sandbox can be signed.
 */
const signedFileRequest = (method: string, url: string) => {
  const [path = "", search = ""] = url.split("?", 2)
  const match = /^\/toolbox\/([^/]+)\/files\/(download|upload-v2)$/.exec(path)
  if (match === null) return undefined
  if ((match[2] === "download" ? "GET" : "POST") !== method) return undefined
  const query = new URLSearchParams(search)
  const signature = query.get("signature")
  const filePath = query.get("path")
  const expires = query.get("expires")
  if (signature === null || filePath === null || expires === null) return undefined
  if (query.getAll("path").length !== 1) return undefined
  let sandboxId: string
  try {
    sandboxId = decodeURIComponent(match[1]!)
  } catch {
    return undefined
  }
  return { sandboxId, method, path: filePath, expires, signature }
}

/** What a body above the route's limit (or an unreadable one) is answered with: 413 as Daytona's API answers, or 400. */
const bodyRefused = (toolbox: boolean) => (check: Http.BodyCheck) => {
  const tooLarge = check._tag === "TooLarge"
  const message = tooLarge
    ? `request entity too large: the body exceeds ${check.limit} bytes`
    : "The request body could not be read"
  return toolbox
    ? DaemonError.daemonErrorResponse(
        tooLarge
          ? new DaemonError.DaemonError({ status: 413, code: "REQUEST_ENTITY_TOO_LARGE", message })
          : DaemonError.badRequest(message)
      )
    : ControlPlaneError.controlPlaneErrorResponse(
        new ControlPlaneError.ControlPlaneError({ status: tooLarge ? 413 : 400, message })
      )
}

/** The toolbox's routes as patterns (a parameter matches any text): a path none matches answers 501 `NOT_IMPLEMENTED`. */
const toolboxRoutes = Chunk.toReadonlyArray(Toolbox.router.routes).map((route) => ({
  method: route.method,
  pattern: new RegExp(`^/toolbox${route.path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:\w+/g, "[^/]*")}/?$`)
}))

/**
 * A toolbox request no route took: a known path with another method (405), a known path whose
 * parameter the router cannot take, empty or too long (404), or an endpoint of the daemon the local
 * server does not implement (501).
 */
const toolboxRouteMissing = (method: string, url: string): DaemonError.DaemonError => {
  const path = url.split(/[?#]/)[0] ?? url
  const known = toolboxRoutes.filter((route) => route.pattern.test(path))
  if (known.length === 0)
    return new DaemonError.DaemonError({
      status: 501,
      code: "NOT_IMPLEMENTED",
      message: `the local server does not implement ${method} ${path}`
    })
  if (known.some((route) => route.method === method)) return DaemonError.notFound(`${method} ${path}`)
  return new DaemonError.DaemonError({
    status: 405,
    code: "METHOD_NOT_ALLOWED",
    message: `method not allowed: ${method} ${path} (use ${Array.from(new Set(known.map((route) => route.method))).join(", ")})`
  })
}

/**
 * Daytona's event gateway (Socket.IO under `/api/socket.io/`) is served on the server's socket (see
 * `start`), before this application sees a request. What reaches the application on that path (an
 * application run in memory, with no socket) is answered 404 at once, before authentication
 * (Socket.IO sends its token inside the connection, not in a header), so that clients fall back to
 * polling instead of retrying a refused upgrade.
 */
const isEventsGateway = (url: string) => /^\/api\/socket\.io(?:[/?]|$)/.test(url)

/**
 * The whole HTTP application, without a socket. It needs the server's services (see
 * `layerServices`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const app: HttpApp.Default<never, Services> = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const config = yield* LocalConfig.LocalConfig
  if (isEventsGateway(request.url)) {
    return yield* ControlPlaneError.controlPlaneErrorResponse(
      ControlPlaneError.notFound("This server does not serve events (Socket.IO) here: they are served on its socket")
    )
  }
  // Signed with Signature V4 by credentials of `push-access`, not with the API key.
  if (ObjectStorageRoutes.isObjectStorage(request.url)) return yield* ObjectStorageRoutes.handle
  const toolbox = isToolbox(request.url)
  const match = /^Bearer\s+(.+)$/i.exec(request.headers["authorization"] ?? "")
  const signed = match === null ? signedFileRequest(request.method, request.url) : undefined
  const signedOk =
    signed !== undefined &&
    (yield* Effect.flatMap(Sandboxes.SandboxesService, (service) =>
      service.signedRequestAllowed(signed.sandboxId, signed)
    ))
  if (!signedOk && (match === null || !Sandboxes.sameSecret(match[1]!.trim(), Redacted.value(config.apiKey)))) {
    return yield* toolbox
      ? DaemonError.daemonErrorResponse(
          DaemonError.unauthorized("authentication failed: invalid or missing bearer token")
        )
      : ControlPlaneError.controlPlaneErrorResponse(ControlPlaneError.unauthorized("Invalid credentials"))
  }
  if (request.headers["upgrade"] !== undefined || isStreamedUpload(request.url)) return yield* router
  return yield* router.pipe(
    Http.withBody(toolbox ? Http.maxToolboxBody : Http.maxApiBody),
    Effect.catchIf(
      (error): error is Http.BodyCheck =>
        typeof error === "object" &&
        error !== null &&
        "_tag" in error &&
        (error._tag === "TooLarge" || error._tag === "Unreadable"),
      bodyRefused(toolbox)
    )
  )
}).pipe(
  Effect.catchTag("RouteNotFound", (error) =>
    isToolbox(error.request.url)
      ? DaemonError.daemonErrorResponse(toolboxRouteMissing(error.request.method, error.request.url))
      : ControlPlaneError.controlPlaneErrorResponse(
          ControlPlaneError.notFound(`Cannot ${error.request.method} ${error.request.url}`)
        )
  ),
  Effect.catchAllDefect((defect) =>
    Effect.gen(function* () {
      yield* Effect.logError("unexpected failure", Cause.die(defect))
      const request = yield* HttpServerRequest.HttpServerRequest
      return yield* isToolbox(request.url)
        ? DaemonError.daemonErrorResponse(DaemonError.internal(String(defect)))
        : ControlPlaneError.controlPlaneErrorResponse(
            new ControlPlaneError.ControlPlaneError({ status: 500, message: "An unexpected error occurred." })
          )
    })
  )
)

const router = HttpRouter.empty.pipe(
  HttpRouter.mount("/api", ControlPlane.router),
  HttpRouter.mount("/toolbox", Toolbox.router),
  HttpRouter.mount("/snapshots", ControlPlane.buildLogsRouter),
  HttpRouter.mount("/sandboxes", ControlPlane.sandboxBuildLogsRouter)
)

/**
 * Everything behind the routes, for a server whose public URL is `url`: configuration, SQLite
 * store, engine, snapshots, volumes and the sandbox service with its background fibers.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServices = (
  config: LocalConfig.LocalConfigShape,
  url: string,
  options: {
    /** The engine behind the routes; default `SandboxEngine.layer` (real directories and processes). */
    readonly engine?: Layer.Layer<SandboxEngine.SandboxEngine, StartError, LocalConfig.LocalConfig> | undefined
  } = {}
): Layer.Layer<Services, StartError> => {
  const base = Layer.mergeAll(
    Layer.succeed(LocalConfig.LocalConfig, config),
    Layer.succeed(Sandboxes.ServerUrl, url),
    Events.layer
  )
  const engineAndStore = Layer.mergeAll(options.engine ?? SandboxEngine.layer, Store.layer).pipe(
    Layer.provideMerge(base)
  )
  const storage = ObjectStorage.layer.pipe(Layer.provideMerge(engineAndStore))
  const resources = Layer.mergeAll(Snapshots.layer, Volumes.layer, SecretVault.layer, Egress.layer).pipe(
    Layer.provideMerge(storage)
  )
  return Sandboxes.layer.pipe(Layer.provideMerge(resources))
}

/**
 * Puts a sandbox into a failed state (`error` or `build_failed`) as if its runner had reported
 * it, ending any transition in progress and stopping its processes. For tests (fault injection);
 * fails with a 404-shaped `ControlPlaneError` when no such sandbox exists.
 *
 * @since 0.1.0
 * @category test support
 */
export const setSandboxState = (
  idOrName: string,
  state: "error" | "build_failed",
  options: { readonly errorReason?: string | undefined; readonly recoverable?: boolean | undefined } = {}
) => Effect.flatMap(Sandboxes.SandboxesService, (sandboxes) => sandboxes.forceState(idOrName, state, options))

const start = (config: LocalConfig.LocalConfigShape): Effect.Effect<Service, StartError, Scope.Scope> =>
  Effect.gen(function* () {
    const front = new PreviewProxy.FrontServer(config.maxConnections)
    const context = yield* Layer.build(NodeHttpServer.layer(() => front, { port: config.port, host: config.host }))
    const server = Context.get(context, HttpServer.HttpServer)
    const address = server.address
    const url =
      address._tag === "TcpAddress"
        ? `http://${address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname}:${address.port}`
        : `http://localhost`
    const services = yield* Layer.build(layerServices(config, url))
    const runtime = yield* Effect.runtime<never>()
    const sandboxes = Context.get(services, Sandboxes.SandboxesService)
    const engine = Context.get(services, SandboxEngine.SandboxEngine)
    front.proxy = PreviewProxy.make(
      (label, port, credentials) => Runtime.runPromise(runtime)(sandboxes.previewAccess(label, port, credentials)),
      (sandboxId, port) =>
        Runtime.runPromise(runtime)(
          engine.connect(sandboxId, port).pipe(
            Effect.match({
              onFailure: (error): PreviewProxy.Connection => ({
                _tag: "Refused",
                error:
                  error.status === 400
                    ? DaemonError.sandboxNotStarted(sandboxId)
                    : DaemonError.badGateway(error.message)
              }),
              onSuccess: (socket): PreviewProxy.Connection => ({ _tag: "Connected", socket })
            })
          )
        )
    )
    yield* Effect.addFinalizer(() => Effect.sync(() => (front.proxy = undefined)))
    front.events = yield* EventsGateway.make({ apiKey: config.apiKey, organizationId: config.organizationId }).pipe(
      Effect.provide(services)
    )
    yield* Effect.addFinalizer(() => Effect.sync(() => (front.events = undefined)))
    yield* server.serve(app).pipe(Effect.provide(services))
    return {
      url,
      apiUrl: `${url}/api`,
      apiKey: config.apiKey,
      dataDir: config.dataDir,
      isolation: engine.isolation,
      limits: engine.limits
    }
  })

/**
 * Starts the server on a socket (by default 127.0.0.1 and a free port) for the lifetime of the
 * layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: LocalConfig.Options = {}): Layer.Layer<LocalDaytona, StartError> =>
  Layer.scoped(LocalDaytona, start(LocalConfig.make(options)))

/**
 * Starts the server within the current scope and returns where it listens.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: LocalConfig.Options = {}) => start(LocalConfig.make(options))
