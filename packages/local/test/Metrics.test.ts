import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { realSleep, sh, upload } from "./attackHarness.js"
import { advance, call, clientLayer, createStarted, serve, tempDir } from "./utils.js"

interface Series {
  readonly metricName: string
  readonly dataPoints: ReadonlyArray<{ readonly timestamp: string; readonly value: number }>
}

describe("metrics", () => {
  it.scoped("are sampled on the clock from the sandbox's processes and files, in Daytona's shape", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      const big = "x".repeat(256 * 1024)
      assert.strictEqual((yield* upload(client, sandbox.id, "big", big)).status, 200)
      // A process that holds memory and burns CPU while the samples are taken.
      yield* sh(
        client,
        sandbox.id,
        `nohup node -e 'const b = Buffer.alloc(64 << 20, 1); for (;;) {}' >/dev/null 2>&1 &`
      )
      yield* realSleep(500)
      // Samples are taken at the TestClock's times (from the epoch on).
      const from = new Date(0).toISOString()
      for (let i = 0; i < 3; i++) {
        yield* advance("10 seconds")
        yield* realSleep(200)
      }
      const to = new Date(3600_000).toISOString()
      const answer = yield* call(client, "GET", `/api/sandbox/${sandbox.id}/telemetry/metrics?from=${from}&to=${to}`)
      assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      const series = (answer.body as { series: ReadonlyArray<Series> }).series
      const points = (name: string) => series.find((s) => s.metricName === name)?.dataPoints ?? []
      assert.isAtLeast(points("daytona.sandbox.memory.usage").length, 2)
      assert.isAbove(points("daytona.sandbox.memory.usage").at(-1)!.value, 32 << 20)
      assert.isAtLeast(points("daytona.sandbox.filesystem.usage").at(-1)!.value, big.length)
      assert.strictEqual(points("daytona.sandbox.memory.limit").at(-1)!.value, 1024 ** 3)
      assert.isAbove(points("daytona.sandbox.cpu.utilization").at(-1)!.value, 0)

      const chosen = yield* call(
        client,
        "GET",
        `/api/sandbox/${sandbox.id}/telemetry/metrics?from=${from}&to=${to}&metricNames=daytona.sandbox.cpu.limit`
      )
      assert.deepStrictEqual(
        (chosen.body as { series: ReadonlyArray<Series> }).series.map((s) => s.metricName),
        ["daytona.sandbox.cpu.limit"]
      )

      const latest = yield* call(client, "GET", `/toolbox/${sandbox.id}/system/metrics`)
      assert.strictEqual(latest.status, 200, JSON.stringify(latest.body))
      const now = latest.body as { memUsed: number; diskUsed: number; cpuCount: number; diskFree: number }
      assert.isAbove(now.memUsed, 32 << 20)
      assert.isAtLeast(now.diskUsed, big.length)
      assert.strictEqual(now.cpuCount, sandbox.cpu)

      const backwards = yield* call(client, "GET", `/api/sandbox/${sandbox.id}/telemetry/metrics?from=${to}&to=${from}`)
      assert.strictEqual(backwards.status, 400)
      const missing = yield* call(client, "GET", `/api/sandbox/nope/telemetry/metrics?from=${from}&to=${to}`)
      assert.strictEqual(missing.status, 404)
      const noRange = yield* call(client, "GET", `/api/sandbox/${sandbox.id}/telemetry/metrics`)
      assert.strictEqual(noRange.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )
})
