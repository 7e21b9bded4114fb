import { ResizeSandbox, UpdateSandboxNetworkSettings } from "@effect-daytona/sdk/CreateSandbox"
import { allRoutes, type Route } from "@effect-daytona/sdk/ControlPlaneRoutes"
import { SandboxLabels } from "@effect-daytona/sdk/SandboxDto"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import { type ApiError, apiErrorResponse, badRequest, forbidden } from "./apiError.js"
import { json, readBody } from "./http.js"
import type { Query } from "./listing.js"
import { SandboxesService } from "./sandboxes.js"
import { SnapshotsService } from "./snapshots.js"
import * as Validation from "./validation.js"
import { VolumesService } from "./volumes.js"

/** What the control plane's handlers need. */
export type Services = SandboxesService | SnapshotsService | VolumesService

interface Context {
  readonly param: (name: string) => string
  readonly query: Query
  readonly one: (name: string) => string | undefined
  readonly body: Effect.Effect<unknown, ApiError, HttpServerRequest.HttpServerRequest>
}

type Handler = (ctx: Context) => Effect.Effect<unknown, ApiError, Services | HttpServerRequest.HttpServerRequest>

const withService = <A>(f: (service: SandboxesService["Type"]) => Effect.Effect<A, ApiError>) =>
  Effect.flatMap(SandboxesService, f)

const withSnapshots = <A>(f: (service: SnapshotsService["Type"]) => Effect.Effect<A, ApiError>) =>
  Effect.flatMap(SnapshotsService, f)

const withVolumes = <A>(f: (service: VolumesService["Type"]) => Effect.Effect<A, ApiError>) =>
  Effect.flatMap(VolumesService, f)

const handlers: { readonly [K in keyof typeof allRoutes]: Handler } = {
  listSandboxes: (ctx) => withService((s) => s.list(ctx.query)),
  listSandboxesPaginated: (ctx) => withService((s) => s.listPaginated(ctx.query)),
  createSandbox: (ctx) =>
    ctx.body.pipe(
      Effect.flatMap(Validation.createSandbox),
      Effect.flatMap((body) => withService((s) => s.create(body)))
    ),
  getSandbox: (ctx) => withService((s) => s.get(ctx.param("sandboxIdOrName"))),
  deleteSandbox: (ctx) => withService((s) => s.remove(ctx.param("sandboxIdOrName"))),
  startSandbox: (ctx) => withService((s) => s.start(ctx.param("sandboxIdOrName"))),
  stopSandbox: (ctx) => withService((s) => s.stop(ctx.param("sandboxIdOrName"), ctx.one("force") === "true")),
  archiveSandbox: (ctx) => withService((s) => s.archive(ctx.param("sandboxIdOrName"))),
  recoverSandbox: (ctx) => withService((s) => s.recover(ctx.param("sandboxIdOrName"))),
  resizeSandbox: (ctx) =>
    ctx.body.pipe(
      Effect.flatMap((body) =>
        Validation.isRecord(body)
          ? new Validation.Checker(body)
              .field("cpu", "number", { min: 1 })
              .field("memory", "number", { min: 1 })
              .field("disk", "number", { min: 1 })
              .done(ResizeSandbox)
          : Effect.fail(badRequest("Request body must be a JSON object"))
      ),
      Effect.flatMap((body) => withService((s) => s.resize(ctx.param("sandboxIdOrName"), body)))
    ),
  replaceLabels: (ctx) =>
    ctx.body.pipe(
      Effect.flatMap((body) => {
        if (!Validation.isRecord(body)) return Effect.fail(badRequest("Request body must be a JSON object"))
        const checker = new Validation.Checker(body)
        if (body.labels === undefined || body.labels === null) checker.push("labels must be an object")
        return checker.stringMap("labels").done(SandboxLabels)
      }),
      Effect.flatMap((body) => withService((s) => s.replaceLabels(ctx.param("sandboxIdOrName"), body.labels)))
    ),
  setAutostopInterval: (ctx) =>
    Validation.integerParam("interval", ctx.param("interval")).pipe(
      Effect.flatMap((interval) => withService((s) => s.setAutostop(ctx.param("sandboxIdOrName"), interval)))
    ),
  setAutoArchiveInterval: (ctx) =>
    Validation.integerParam("interval", ctx.param("interval")).pipe(
      Effect.flatMap((interval) => withService((s) => s.setAutoArchive(ctx.param("sandboxIdOrName"), interval)))
    ),
  setAutoDeleteInterval: (ctx) =>
    Validation.integerParam("interval", ctx.param("interval")).pipe(
      Effect.flatMap((interval) => withService((s) => s.setAutoDelete(ctx.param("sandboxIdOrName"), interval)))
    ),
  updateNetworkSettings: (ctx) =>
    ctx.body.pipe(
      Effect.flatMap((body) =>
        Validation.isRecord(body)
          ? new Validation.Checker(body)
              .field("networkBlockAll", "boolean")
              .field("networkAllowList", "string")
              .field("domainAllowList", "string")
              .done(UpdateSandboxNetworkSettings)
          : Effect.fail(badRequest("Request body must be a JSON object"))
      ),
      Effect.flatMap((body) => withService((s) => s.networkSettings(ctx.param("sandboxIdOrName"), body)))
    ),
  updateLastActivity: (ctx) => withService((s) => s.touch(ctx.param("sandboxId"))),
  getPortPreviewUrl: (ctx) => withService((s) => s.previewUrl(ctx.param("sandboxIdOrName"), ctx.param("port"))),
  getSignedPortPreviewUrl: (ctx) =>
    withService((s) =>
      s.signedPreviewUrl(ctx.param("sandboxIdOrName"), ctx.param("port"), ctx.one("expiresInSeconds"))
    ),
  expireSignedPortPreviewUrl: (ctx) =>
    withService((s) => s.expireSignedPreviewUrl(ctx.param("sandboxIdOrName"), ctx.param("port"), ctx.param("token"))),
  createSshAccess: (ctx) =>
    withService((s) => s.createSshAccess(ctx.param("sandboxIdOrName"), ctx.one("expiresInMinutes"))),
  revokeSshAccess: (ctx) => withService((s) => s.revokeSshAccess(ctx.param("sandboxIdOrName"), ctx.one("token"))),
  validateSshAccess: (ctx) => {
    const token = ctx.one("token")
    return token === undefined
      ? Effect.fail(forbidden("Invalid authentication context"))
      : withService((s) => s.validateSshAccess(token))
  },
  getToolboxProxyUrl: (ctx) =>
    withService((s) => s.get(ctx.param("sandboxId")).pipe(Effect.as({ url: s.toolboxProxyUrl }))),
  listSnapshots: (ctx) => withSnapshots((s) => s.list(ctx.query)),
  createSnapshot: (ctx) =>
    ctx.body.pipe(
      Effect.flatMap(Validation.createSnapshot),
      Effect.flatMap((body) => withSnapshots((s) => s.create(body)))
    ),
  getSnapshot: (ctx) => withSnapshots((s) => s.get(ctx.param("id"))),
  removeSnapshot: (ctx) => withSnapshots((s) => s.remove(ctx.param("id"))),
  activateSnapshot: (ctx) => withSnapshots((s) => s.activate(ctx.param("id"))),
  deactivateSnapshot: (ctx) => withSnapshots((s) => s.deactivate(ctx.param("id"))),
  getSnapshotBuildLogsUrl: (ctx) => withSnapshots((s) => s.buildLogsUrl(ctx.param("id"))),
  listVolumes: (ctx) => withVolumes((s) => s.list(ctx.one("includeDeleted") === "true")),
  createVolume: (ctx) =>
    ctx.body.pipe(
      Effect.flatMap(Validation.createVolume),
      Effect.flatMap((body) => withVolumes((s) => s.create(body.name)))
    ),
  getVolume: (ctx) => withVolumes((s) => s.get(ctx.param("volumeId"))),
  getVolumeByName: (ctx) => withVolumes((s) => s.getByName(ctx.param("name"))),
  deleteVolume: (ctx) => withVolumes((s) => s.remove(ctx.param("volumeId")))
}

const routerPath = (template: string) => template.replace(/\{([^}]+)\}/g, ":$1") as HttpRouter.PathInput

const body = readBody.pipe(Effect.mapError((error) => badRequest(error.message)))

/** The control plane: every route of the SDK's route table, under `/api`. */
export const router: HttpRouter.HttpRouter<never, Services> = (Object.keys(allRoutes) as Array<keyof typeof allRoutes>)
  .reduce(
    (router, name) => {
      const route: Route = allRoutes[name]
      const handler = Effect.gen(function* () {
        const params = yield* HttpRouter.params
        const query = yield* HttpServerRequest.ParsedSearchParams
        const ctx: Context = {
          param: (key) => params[key] ?? "",
          query,
          one: (key) => {
            const value = query[key]
            return typeof value === "string" ? value : value?.[0]
          },
          body
        }
        const result = yield* handlers[name](ctx)
        return result === undefined ? HttpServerResponse.empty({ status: route.status }) : json(result, route.status)
      }).pipe(Effect.catchTag("ApiError", apiErrorResponse))
      return HttpRouter.route(route.method)(routerPath(route.template), handler)(router)
    },
    HttpRouter.empty as HttpRouter.HttpRouter<never, Services>
  )
  .pipe(
    HttpRouter.get(
      "/config",
      Effect.map(SandboxesService, (s) => json(s.configuration))
    )
  )

/**
 * Build logs of snapshots, where `build-logs-url` points (Daytona serves them from its proxy):
 * plain text, what has been written so far.
 */
export const buildLogsRouter: HttpRouter.HttpRouter<never, SnapshotsService> = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/:id/build-logs",
    Effect.gen(function* () {
      const params = yield* HttpRouter.params
      const snapshots = yield* SnapshotsService
      const text = yield* snapshots.buildLogs(params["id"] ?? "")
      return HttpServerResponse.text(text, { contentType: "text/plain; charset=utf-8" })
    }).pipe(Effect.catchTag("ApiError", apiErrorResponse))
  )
)
