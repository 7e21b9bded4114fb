/**
 * A bounded load run of the example backend on loopback (`pnpm --filter @effect-daytona/examples
 * load [--sequential 20] [--burst 200] [--pool 10]`): the local server in this process, the service
 * on a free port, and `POST /run` (Python) measured three ways:
 *
 * 1. no warm sandbox (`min: 0`): each request waits for a create;
 * 2. a warm pool (`min` = `max` = `--pool`), requests one after another;
 * 3. a burst of `--burst` concurrent requests on that pool.
 *
 * Then the service is shut down and the sandboxes the pools left on the server are counted (there
 * must be none). Latencies are the client's, from sending the request to reading the whole answer.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpServer from "@effect/platform/HttpServer"
import * as LocalDaytonaConfig from "@effect-daytona/local/LocalDaytonaConfig"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as DaytonaMetrics from "@effect-daytona/sdk/DaytonaMetrics"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Scope from "effect/Scope"
import * as NodeFs from "node:fs"
import { createServer } from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { parseArgs } from "node:util"
import WebSocket from "ws"
import * as RunApiLive from "./RunApiLive.js"

const { values } = parseArgs({
  options: {
    sequential: { type: "string", default: "20" },
    burst: { type: "string", default: "200" },
    pool: { type: "string", default: "10" }
  }
})
const sequential = Number(values.sequential)
const burst = Number(values.burst)
const poolSize = Number(values.pool)

const daytona = Daytona.layerWithoutConfig.pipe(
  Layer.provideMerge(
    Layer.unwrapScoped(
      Effect.map(
        Effect.acquireRelease(
          Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "run-service-load-"))),
          (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
        ),
        (dataDir) => LocalDaytonaConfig.layer({ dataDir, startWait: "30 seconds" })
      )
    )
  ),
  Layer.provide(NodeHttpClient.layerUndici)
)

/** The service with `pool`, on a free port, in `scope`; its base URL. */
const start = (pool: SandboxPool.Options, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const context = yield* Layer.buildWithScope(
      RunApiLive.layer({ pool }).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provide(WebSocketConnector.layer(WebSocket))
      ),
      scope
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : yield* Effect.dieMessage("no port")
  })

/** One `POST /run`: its status and the client's latency in milliseconds. */
const run = (base: string, i: number) =>
  Effect.promise(async () => {
    const begin = performance.now()
    const response = await fetch(`${base}/run`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ language: "python", code: `print(${i} * 2)`, timeoutSeconds: 300 })
    })
    const body = (await response.json()) as { output?: string }
    const ok = response.status === 200 && body.output === `${i * 2}\n`
    return { status: response.status, ok, ms: performance.now() - begin }
  })

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const summary = (label: string, results: ReadonlyArray<{ readonly ok: boolean; readonly ms: number }>) => {
  const ms = results.map((r) => r.ms).sort((a, b) => a - b)
  const failed = results.filter((r) => !r.ok).length
  return `| ${label} | ${results.length} | ${failed} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 95).toFixed(0)} | ${ms.at(-1)!.toFixed(0)} |`
}

/** Waits until the pool holds `count` Python sandboxes (the warm ones). */
const warmUp = (count: number) =>
  Effect.flatMap(Daytona.Daytona, (service) =>
    service
      .listPage({ labels: { [SandboxPool.poolLabel]: "load-warm" } })
      .pipe(
        Effect.delay("200 millis"),
        Effect.repeat({ until: (page) => page.items.filter((item) => item.state === "started").length >= count }),
        Effect.timeout("5 minutes")
      )
  )

/** The mean wait for a healthy sandbox in `pool`, in milliseconds, from the SDK's metric. */
const meanLeaseWait = (pool: string) =>
  Effect.map(
    Metric.value(DaytonaMetrics.poolLeaseWait.pipe(Metric.tagged("pool", pool), Metric.tagged("language", "python"))),
    (state) => (state.count === 0 ? 0 : (state.sum / state.count) * 1000)
  )

const leftOnServer = Effect.flatMap(Daytona.Daytona, (service) =>
  Effect.map(service.listPage({ limit: 200 }), (page) =>
    page.items.filter((item) => SandboxPool.poolLabel in item.labels)
  )
)

const program = Effect.gen(function* () {
  const rows: Array<string> = []
  const common: SandboxPool.Options = { reuse: false, leaseTimeout: "5 minutes", warm: [{ language: "python" }] }

  const cold = yield* Scope.make()
  const coldBase = yield* start({ ...common, name: "load-cold", min: 0, max: poolSize, warm: [] }, cold)
  const coldResults = yield* Effect.forEach(
    Array.from({ length: sequential }, (_, i) => i),
    (i) => run(coldBase, i)
  )
  rows.push(summary("no warm sandbox, one at a time", coldResults))
  const coldWait = yield* meanLeaseWait("load-cold")
  yield* Scope.close(cold, Exit.void)

  const warm = yield* Scope.make()
  const warmBase = yield* start({ ...common, name: "load-warm", min: poolSize, max: poolSize }, warm)
  yield* warmUp(poolSize)
  const warmResults: Array<{ ok: boolean; ms: number }> = []
  for (let i = 0; i < sequential; i++) {
    warmResults.push(yield* run(warmBase, i))
    // Give the pool the time to replace the sandbox the request used (a backend between requests).
    yield* warmUp(poolSize)
  }
  rows.push(summary(`warm pool of ${poolSize}, one at a time`, warmResults))
  const warmWait = yield* meanLeaseWait("load-warm")
  const burstResults = yield* Effect.forEach(
    Array.from({ length: burst }, (_, i) => i),
    (i) => run(warmBase, i),
    { concurrency: "unbounded" }
  )
  rows.push(summary(`warm pool of ${poolSize}, ${burst} at once`, burstResults))
  yield* Scope.close(warm, Exit.void)

  // Shutdown waits until Daytona accepted every delete; a sandbox may still be `destroying` then.
  const left = yield* leftOnServer
  const notDeleted = left.filter((item) => item.state !== "destroying" && item.state !== "destroyed")
  const shutdownAt = performance.now()
  const gone = yield* leftOnServer.pipe(
    Effect.delay("100 millis"),
    Effect.repeat({ until: (items) => items.length === 0 }),
    Effect.timeout("60 seconds"),
    Effect.option
  )
  const goneAfter = performance.now() - shutdownAt
  yield* Console.log(
    [
      "| Requests | n | failed | p50 ms | p95 ms | max ms |",
      "| --- | --- | --- | --- | --- | --- |",
      ...rows,
      "",
      `Mean wait for a healthy sandbox (daytona_pool_lease_wait_seconds), one at a time: no warm sandbox ${coldWait.toFixed(0)} ms, warm pool ${warmWait.toFixed(0)} ms`,
      `Pooled sandboxes on the server when shutdown ended: ${left.length} (delete not accepted: ${notDeleted.length}); ` +
        (gone._tag === "Some" ? `none left ${goneAfter.toFixed(0)} ms later` : "some still there 60 s later")
    ].join("\n")
  )
  if (
    notDeleted.length > 0 ||
    gone._tag === "None" ||
    [...coldResults, ...warmResults, ...burstResults].some((r) => !r.ok)
  ) {
    return yield* Effect.fail(new Error("the load run failed (see above)"))
  }
})

program.pipe(Effect.provide(daytona), NodeRuntime.runMain)
