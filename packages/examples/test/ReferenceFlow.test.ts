import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as LocalDaytonaConfig from "@effect-daytona/local/LocalDaytonaConfig"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

const daytona = Daytona.layerWithoutConfig.pipe(
  Layer.provideMerge(
    Layer.unwrapScoped(
      Effect.acquireRelease(
        Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "reference-flow-"))),
        (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
      ).pipe(Effect.map((dataDir) => LocalDaytonaConfig.layer({ dataDir, startWait: "5 seconds" })))
    )
  ),
  Layer.provide(NodeHttpClient.layerUndici)
)

describe("our SDK runs the official SDK's reference flow against the local server", () => {
  it.live(
    "create, get, list, execute, code run, labels, stop, start, stop, archive, delete, preview, SSH",
    () =>
      Effect.gen(function* () {
        const service = yield* Daytona.Daytona
        const created = yield* service.create({
          language: "python",
          labels: { flow: "reference" },
          envVars: { GREETING: "hello" },
          autoStopInterval: 15
        })
        assert.strictEqual(created.state, "started")
        assert.strictEqual(created.labels["flow"], "reference")
        assert.strictEqual(created.autoStopInterval, 15)
        assert.deepStrictEqual(created.env, { GREETING: "hello" })

        const fetched = yield* service.get(created.id)
        assert.strictEqual(fetched.id, created.id)
        const byName = yield* service.get(created.name)
        assert.strictEqual(byName.id, created.id)

        const listed = yield* Stream.runCollect(service.list({ labels: { flow: "reference" } }))
        assert.deepStrictEqual(
          Array.from(listed, (item) => item.id),
          [created.id]
        )

        const echo = yield* fetched.process.executeCommand("echo hi")
        assert.strictEqual(echo.exitCode, 0)
        assert.strictEqual(echo.result, "hi\n")
        const env = yield* fetched.process.executeCommand("printenv GREETING")
        assert.strictEqual(env.result, "hello\n")
        const code = yield* fetched.process.codeRun("print(1 + 1)")
        assert.strictEqual(code.result.trim(), "2")

        const relabelled = yield* fetched.setLabels({ flow: "reference", step: "labels" })
        assert.deepStrictEqual(relabelled.labels, { flow: "reference", step: "labels" })

        const stopped = yield* relabelled.stop()
        assert.strictEqual(stopped.state, "stopped")
        const started = yield* stopped.start()
        assert.strictEqual(started.state, "started")
        const preview = yield* started.getPreviewLink(3000)
        assert.strictEqual(preview.sandboxId, created.id)
        assert.include(preview.url, "3000")
        assert.isAbove(preview.token.length, 0)
        const ssh = yield* started.createSshAccess({ expiresInMinutes: 5 })
        assert.strictEqual(ssh.sandboxId, created.id)
        assert.isAbove(ssh.token.length, 0)

        const stoppedAgain = yield* started.stop()
        const archived = yield* stoppedAgain.archive({ wait: true })
        assert.strictEqual(archived.state, "archived")
        yield* archived.delete({ wait: true })
        const missing = yield* service.get(created.id).pipe(Effect.flip)
        assert.strictEqual(missing._tag, "NotFoundError")
      }).pipe(Effect.provide(daytona), Effect.timeout("60 seconds")),
    90_000
  )
})
