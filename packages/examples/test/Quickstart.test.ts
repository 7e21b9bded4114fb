import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as LocalDaytonaConfig from "@effect-daytona/local/LocalDaytonaConfig"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { main, quickstart } from "../src/workflows/quickstart.js"

const localDaytona = Layer.unwrapScoped(
  Effect.acquireRelease(
    Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "quickstart-test-"))),
    (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.map((dataDir) => LocalDaytonaConfig.layer({ dataDir, startWait: "5 seconds" })))
)

const daytona = Daytona.layerWithoutConfig.pipe(
  Layer.provideMerge(localDaytona),
  Layer.provide(NodeHttpClient.layerUndici),
  Layer.merge(NodeFileSystem.layer)
)

const sandboxesOfRun = (runId: string) =>
  Effect.flatMap(Daytona.Daytona, (service) => service.listPage({ labels: { run: runId } }))

describe("quickstart against the in-process local server", () => {
  it.live(
    "runs every step and leaves no sandbox behind",
    () => main.pipe(Effect.provide(daytona), Effect.timeout("60 seconds")),
    90_000
  )

  it.live(
    "interrupted after the sandbox started, it still deletes the sandbox",
    () =>
      Effect.gen(function* () {
        const runId = crypto.randomUUID()
        const fiber = yield* Effect.fork(Effect.scoped(quickstart(runId)))
        yield* sandboxesOfRun(runId).pipe(
          Effect.delay("20 millis"),
          Effect.repeat({ until: (page) => page.items.length === 1 }),
          Effect.timeout("20 seconds")
        )
        yield* Fiber.interrupt(fiber)
        const left = yield* sandboxesOfRun(runId).pipe(
          Effect.delay("50 millis"),
          Effect.repeat({ until: (page) => page.items.length === 0 }),
          Effect.timeout("20 seconds")
        )
        assert.strictEqual(left.items.length, 0)
      }).pipe(Effect.provide(daytona)),
    90_000
  )
})
