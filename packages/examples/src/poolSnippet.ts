import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** Python sandboxes kept warm; none serves two leases (the code is untrusted). */
export const PoolLive = SandboxPool.layer({ min: 2, max: 10, warm: [{ language: "python" }], reuse: false }).pipe(
  Layer.provide(Daytona.layerConfig()),
  Layer.provide(NodeHttpClient.layerUndici)
)

/** Runs code in a sandbox leased for the length of the scope: deleted after a failure or an interruption. */
export const runOnce = (code: string) =>
  Effect.gen(function* () {
    const pool = yield* SandboxPool.SandboxPool
    const sandbox = yield* pool.lease({ language: "python" })
    return yield* sandbox.process.codeRun(code)
  }).pipe(Effect.scoped)
