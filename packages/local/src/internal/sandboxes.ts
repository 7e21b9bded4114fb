import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import { LocalConfig } from "../LocalConfig.js"
import { securityNotice } from "../SandboxEngine.js"
import { notFound } from "./controlPlaneError.js"
import * as DesktopTools from "./desktopTools.js"
import { ObjectStorageService } from "./objectStorage.js"
import { daemonVersion } from "./record.js"
import * as SandboxAccess from "./sandboxAccess.js"
import * as SandboxCopies from "./sandboxCopies.js"
import * as SandboxCore from "./sandboxCore.js"
import * as SandboxData from "./sandboxData.js"
import * as SandboxLifecycle from "./sandboxLifecycle.js"
import * as SandboxMetrics from "./sandboxMetrics.js"
import * as SandboxPolicies from "./sandboxPolicies.js"
import { SecretVaultService } from "./secretVault.js"
import { defaultSnapshot, SnapshotsService } from "./snapshots.js"
import { VolumesService } from "./volumes.js"
import * as WarmPools from "./warmPools.js"

export { sameSecret } from "./secrets.js"
export { ServerUrl } from "./serverUrl.js"
export { maxAutoArchiveInterval } from "./sandboxLifecycle.js"
export { defaultSnapshot }

/**
 * The sandbox service the routes call, assembled from its parts: the state machine
 * (`sandboxCore.ts`), the lifecycle and settings (`sandboxLifecycle.ts`), access from outside
 * (`sandboxAccess.ts`), secrets, environment and signing keys (`sandboxData.ts`) and the policies that act by themselves (`sandboxPolicies.ts`).
 */
export const make = Effect.gen(function* () {
  const core = yield* SandboxCore.make
  const storage = yield* ObjectStorageService
  const data = SandboxData.make(core, yield* SecretVaultService, storage)
  const snapshots = yield* SnapshotsService
  /** Copies of files and warm pool refills run here, ended with the service. */
  const background = yield* FiberSet.make<unknown, unknown>()
  const warmPools = yield* WarmPools.make(core, snapshots, background)
  const lifecycle = SandboxLifecycle.make(
    core,
    snapshots,
    yield* VolumesService,
    data.resolveMounts,
    warmPools.claim,
    storage
  )
  const copies = SandboxCopies.make(core, snapshots, background)
  const metrics = SandboxMetrics.make(core)
  const access = SandboxAccess.make(core)
  yield* SandboxPolicies.make(core, warmPools).run
  yield* metrics.run
  const { previewHost } = access
  const desktopTools = DesktopTools.detect((yield* LocalConfig).desktopToolPath)

  /** Daytona's `DaytonaConfiguration` where its fields apply, plus how sandboxes are isolated. */
  const configuration = {
    version: daemonVersion,
    environment: "local",
    dashboardUrl: core.serverUrl,
    proxyToolboxUrl: core.toolboxProxyUrl,
    proxyTemplateUrl: `${previewHost.protocol}//{{PORT}}-{{sandboxId}}.localhost${previewHost.port}`,
    defaultSnapshot,
    maxAutoArchiveInterval: SandboxLifecycle.maxAutoArchiveInterval,
    maintananceMode: false,
    linkedAccountsEnabled: false,
    announcements: {},
    oidc: { issuer: "", clientId: "", audience: "" },
    sshGatewayCommand: `ssh -p 2222 {{TOKEN}}@${new URL(core.serverUrl).hostname}`,
    isolation: core.engine.isolation,
    ...securityNotice(core.engine.isolation),
    resourceLimits: core.engine.limits,
    computerUse: DesktopTools.report(desktopTools),
    pause: core.engine.pausing
  }

  return {
    toolboxProxyUrl: core.toolboxProxyUrl,
    configuration,
    desktopTools,
    ...lifecycle,
    ...access,
    ...data,
    notFound: (message: string) => notFound(message),
    // Lifecycle of Daytona 0.216
    ...copies,
    metrics: { range: metrics.range, latest: metrics.latest, sampleAll: metrics.sampleAll },
    warmPools: {
      list: warmPools.list,
      create: warmPools.create,
      update: warmPools.update,
      remove: warmPools.remove,
      refillAll: warmPools.refillAll
    }
  }
})

/** The sandbox service. */
export interface Sandboxes extends Effect.Effect.Success<typeof make> {}

/** The sandbox service's tag. */
export class SandboxesService extends Context.Tag("@effect-daytona/local/internal/Sandboxes")<
  SandboxesService,
  Sandboxes
>() {}

/** The sandbox service, its background fibers bound to the layer's scope. */
export const layer = Layer.scoped(SandboxesService, make)
