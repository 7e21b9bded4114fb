import * as ControlPlaneApi from "@effect-daytona/sdk/ControlPlaneApi"
import type * as Endpoint from "@effect-daytona/sdk/Endpoint"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { type ControlPlaneError, controlPlaneErrorResponse, badRequest } from "./controlPlaneError.js"
import * as BuildLogFollow from "./buildLogFollow.js"
import * as EndpointRoute from "./endpointRoute.js"
import { ObjectStorageService } from "./objectStorage.js"
import { SandboxesService } from "./sandboxes.js"
import { SecretVaultService } from "./secretVault.js"
import { SnapshotsService } from "./snapshots.js"
import { VolumesService } from "./volumes.js"

/** What the control plane's handlers need. */
export type Services = SandboxesService | SnapshotsService | VolumesService | SecretVaultService | ObjectStorageService

type Endpoints = typeof ControlPlaneApi.endpoints

/** The handler of one declared endpoint: its decoded input in, its declared answer out. */
type Handler<T extends Endpoint.Any> = (
  input: EndpointRoute.Input<T>
) => Effect.Effect<
  Endpoint.EncodedSuccessOf<T> | HttpServerResponse.HttpServerResponse,
  ControlPlaneError,
  Services | HttpServerRequest.HttpServerRequest
>

const sandboxes = <A>(f: (service: SandboxesService["Type"]) => Effect.Effect<A, ControlPlaneError>) =>
  Effect.flatMap(SandboxesService, f)

const snapshots = <A>(f: (service: SnapshotsService["Type"]) => Effect.Effect<A, ControlPlaneError>) =>
  Effect.flatMap(SnapshotsService, f)

const volumes = <A>(f: (service: VolumesService["Type"]) => Effect.Effect<A, ControlPlaneError>) =>
  Effect.flatMap(VolumesService, f)

const secrets = <A>(f: (service: SecretVaultService["Type"]) => Effect.Effect<A, ControlPlaneError>) =>
  Effect.flatMap(SecretVaultService, f)

/** One handler per declared control-plane endpoint: the compiler refuses a declaration without one. */
const handlers: { readonly [K in keyof Endpoints]: Handler<Endpoints[K]> } = {
  listSandboxes: ({ query }) => sandboxes((s) => s.list(query)),
  listSandboxesPaginated: ({ query }) => sandboxes((s) => s.listPaginated(query)),
  createSandbox: ({ payload }) => sandboxes((s) => s.create(payload)),
  getSandbox: ({ params }) => sandboxes((s) => s.get(params.sandboxIdOrName)),
  deleteSandbox: ({ params }) => sandboxes((s) => s.remove(params.sandboxIdOrName)),
  startSandbox: ({ params }) => sandboxes((s) => s.start(params.sandboxIdOrName)),
  stopSandbox: ({ params, query }) => sandboxes((s) => s.stop(params.sandboxIdOrName, query.force ?? false)),
  archiveSandbox: ({ params }) => sandboxes((s) => s.archive(params.sandboxIdOrName)),
  recoverSandbox: ({ params }) => sandboxes((s) => s.recover(params.sandboxIdOrName)),
  resizeSandbox: ({ params, payload }) => sandboxes((s) => s.resize(params.sandboxIdOrName, payload)),
  replaceLabels: ({ params, payload }) => sandboxes((s) => s.replaceLabels(params.sandboxIdOrName, payload.labels)),
  setAutostopInterval: ({ params }) => sandboxes((s) => s.setAutostop(params.sandboxIdOrName, params.interval)),
  setAutoArchiveInterval: ({ params }) => sandboxes((s) => s.setAutoArchive(params.sandboxIdOrName, params.interval)),
  setAutoDeleteInterval: ({ params }) => sandboxes((s) => s.setAutoDelete(params.sandboxIdOrName, params.interval)),
  updateNetworkSettings: ({ params, payload }) => sandboxes((s) => s.networkSettings(params.sandboxIdOrName, payload)),
  updateLastActivity: ({ params }) => sandboxes((s) => s.touch(params.sandboxId)),
  getPortPreviewUrl: ({ params }) => sandboxes((s) => s.previewUrl(params.sandboxIdOrName, params.port)),
  getSignedPortPreviewUrl: ({ params, query }) =>
    sandboxes((s) => s.signedPreviewUrl(params.sandboxIdOrName, params.port, query.expiresInSeconds)),
  expireSignedPortPreviewUrl: ({ params }) =>
    sandboxes((s) => s.expireSignedPreviewUrl(params.sandboxIdOrName, params.port, params.token)),
  createSshAccess: ({ params, query }) =>
    sandboxes((s) => s.createSshAccess(params.sandboxIdOrName, query.expiresInMinutes)),
  revokeSshAccess: ({ params, query }) => sandboxes((s) => s.revokeSshAccess(params.sandboxIdOrName, query.token)),
  validateSshAccess: ({ query }) => sandboxes((s) => s.validateSshAccess(query.token)),
  getToolboxProxyUrl: ({ params }) =>
    sandboxes((s) => s.get(params.sandboxId).pipe(Effect.as({ url: s.toolboxProxyUrl }))),
  listSnapshots: ({ query }) => snapshots((s) => s.list(query)),
  createSnapshot: ({ payload }) => snapshots((s) => s.create(payload)),
  getSnapshot: ({ params }) => snapshots((s) => s.get(params.id)),
  removeSnapshot: ({ params }) => snapshots((s) => s.remove(params.id)),
  activateSnapshot: ({ params }) => snapshots((s) => s.activate(params.id)),
  deactivateSnapshot: ({ params }) => snapshots((s) => s.deactivate(params.id)),
  getSnapshotBuildLogsUrl: ({ params }) => snapshots((s) => s.buildLogsUrl(params.id)),
  listVolumes: ({ query }) => volumes((s) => s.list(query.includeDeleted ?? false)),
  createVolume: ({ payload }) => volumes((s) => s.create(payload.name)),
  getVolume: ({ params }) => volumes((s) => s.get(params.volumeId)),
  getVolumeByName: ({ params }) => volumes((s) => s.getByName(params.name)),
  deleteVolume: ({ params }) => volumes((s) => s.remove(params.volumeId)),
  getConfig: () => sandboxes((s) => Effect.succeed(s.configuration)),
  listSecrets: () => secrets((s) => s.list),
  listSecretsPaginated: ({ query }) => secrets((s) => s.listPage(query)),
  createSecret: ({ payload }) => secrets((s) => s.create(payload)),
  getSecret: ({ params }) => secrets((s) => s.get(params.secretId)),
  updateSecret: ({ params, payload }) => secrets((s) => s.update(params.secretId, payload)),
  deleteSecret: ({ params }) => secrets((s) => s.remove(params.secretId)),
  updateSandboxSecrets: ({ params, payload }) => sandboxes((s) => s.updateSecrets(params.sandboxIdOrName, payload)),
  getSandboxSigningKey: ({ params }) => sandboxes((s) => s.signingKey(params.sandboxId)),
  rotateSigningKey: ({ params }) => sandboxes((s) => s.rotateSigningKey(params.sandboxId)),
  getBuildLogsUrl: ({ params }) => sandboxes((s) => s.buildLogsUrl(params.sandboxIdOrName)),
  // The storage URL names the host the client reached this server at.
  getPushAccess: () =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
      Effect.flatMap(ObjectStorageService, (storage) =>
        storage.pushAccess(request.headers["host"]).pipe(
          Effect.map((access) => ({
            ...access,
            secret: Redacted.value(access.secret),
            sessionToken: Redacted.value(access.sessionToken)
          }))
        )
      )
    ),
  // Lifecycle of Daytona 0.216
  pauseSandbox: ({ params }) => sandboxes((s) => s.pause(params.sandboxIdOrName)),
  forkSandbox: ({ params, payload }) => sandboxes((s) => s.fork(params.sandboxIdOrName, payload)),
  createSandboxSnapshot: ({ params, payload }) => sandboxes((s) => s.createSnapshot(params.sandboxIdOrName, payload)),
  setAutoPauseInterval: ({ params }) => sandboxes((s) => s.setAutoPause(params.sandboxIdOrName, params.interval)),
  setTtl: ({ params }) => sandboxes((s) => s.setTtl(params.sandboxIdOrName, params.ttlMinutes)),
  getSandboxAncestors: ({ params }) => sandboxes((s) => s.ancestors(params.sandboxIdOrName)),
  getSandboxForks: ({ params, query }) =>
    sandboxes((s) => s.forks(params.sandboxIdOrName, query.includeDestroyed ?? false)),
  getSandboxParent: ({ params }) => sandboxes((s) => s.parent(params.sandboxIdOrName)),
  getSandboxMetrics: ({ params, query }) =>
    sandboxes((s) => s.metrics.range(params.sandboxId, query.from, query.to, query.metricNames)),
  listWarmPools: () => sandboxes((s) => s.warmPools.list),
  createWarmPool: ({ payload }) => sandboxes((s) => s.warmPools.create(payload)),
  updateWarmPool: ({ params, payload }) => sandboxes((s) => s.warmPools.update(params.id, payload.pool)),
  deleteWarmPool: ({ params }) => sandboxes((s) => s.warmPools.remove(params.id))
}

/** A bad request as NestJS answers it: every message of the validation pipe, joined. */
const rejection = (rejection: EndpointRoute.Rejection) =>
  badRequest(rejection.malformed ?? rejection.messages.join(", "))

const serve = <T extends Endpoint.Any>(endpoint: T, handler: Handler<T>) =>
  HttpRouter.route(endpoint.method)(
    EndpointRoute.routerPath(endpoint),
    EndpointRoute.decodeInput(endpoint).pipe(
      Effect.mapError(rejection),
      Effect.flatMap(handler),
      Effect.map((result) => EndpointRoute.respond(endpoint, result)),
      Effect.catchTag("ControlPlaneError", controlPlaneErrorResponse)
    )
  )

/** The control plane: every declared endpoint of `ControlPlaneApi`, under `/api`. */
export const router: HttpRouter.HttpRouter<never, Services | HttpServerRequest.HttpServerRequest> = (
  Object.keys(ControlPlaneApi.endpoints) as Array<keyof Endpoints>
).reduce(
  (router, name) =>
    serve(ControlPlaneApi.endpoints[name] as Endpoint.Any, handlers[name] as Handler<Endpoint.Any>)(router),
  HttpRouter.empty as HttpRouter.HttpRouter<never, Services>
)

const followed = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
  const query = new URLSearchParams(request.url.split("?")[1] ?? "")
  return query.get("follow") === "true"
})

/**
 * Build logs of snapshots, where `build-logs-url` points (Daytona serves them from its proxy):
 * plain text, what has been written so far, or followed live until the build ends (`?follow=true`).
 */
export const buildLogsRouter: HttpRouter.HttpRouter<never, SnapshotsService | HttpServerRequest.HttpServerRequest> =
  HttpRouter.empty.pipe(
    HttpRouter.get(
      "/:id/build-logs",
      Effect.gen(function* () {
        const params = yield* HttpRouter.params
        const snapshots = yield* SnapshotsService
        const id = params["id"] ?? ""
        const state = snapshots.buildLogState(id)
        // A log that does not exist is a 404 before anything is streamed.
        yield* state
        return yield* BuildLogFollow.respond(state, yield* followed)
      }).pipe(Effect.catchTag("ControlPlaneError", controlPlaneErrorResponse))
    )
  )

/** Build logs of sandboxes created from an image (`GET /sandbox/{id}/build-logs-url` points here). */
export const sandboxBuildLogsRouter: HttpRouter.HttpRouter<
  never,
  SandboxesService | HttpServerRequest.HttpServerRequest
> = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/:id/build-logs",
    Effect.gen(function* () {
      const params = yield* HttpRouter.params
      const sandboxes = yield* SandboxesService
      const state = sandboxes.buildLogState(params["id"] ?? "")
      yield* state
      return yield* BuildLogFollow.respond(state, yield* followed)
    }).pipe(Effect.catchTag("ControlPlaneError", controlPlaneErrorResponse))
  )
)
