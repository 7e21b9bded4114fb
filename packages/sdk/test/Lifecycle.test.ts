import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as Daytona from "../src/Daytona.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as WarmPools from "../src/WarmPools.js"
import { WarmPool } from "../src/WarmPoolDto.js"
import {
  advance,
  assertRequest,
  daytonaOver,
  errorBody,
  handleOver,
  layerWith,
  makeFake,
  sandboxDto,
  settle,
  toolboxProxyUrl
} from "./support/FakeHttp.js"

/** The request lines (`METHOD path?query`) a fake saw. */
const lines = (requests: ReadonlyArray<{ readonly method: string; readonly path: string; readonly url: URL }>) =>
  requests.map((request) => `${request.method} ${request.path}${request.url.search}`)

const warmPool = (overrides: Record<string, unknown> = {}) => ({
  id: "wp-1",
  organizationId: "org-1",
  snapshot: "daytona-small",
  target: "us",
  pool: 2,
  currentSize: 0,
  cpu: 1,
  mem: 1,
  disk: 3,
  osUser: "daytona",
  env: {},
  errorReason: null,
  createdAt: "2026-11-29T12:00:00.000Z",
  updatedAt: "2026-11-29T12:00:00.000Z",
  ...overrides
})

describe("Sandbox: pause", () => {
  it.effect("POSTs /pause, then polls until paused", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "pausing", desiredState: "paused" }) }
          : { status: 200, body: sandboxDto({ state: index < 2 ? "pausing" : "paused", desiredState: "paused" }) }
      )
      const sandbox = yield* handleOver(fake.client)
      const fiber = yield* Effect.fork(sandbox.pause())
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "paused")
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "POST /api/sandbox/sb-1/pause",
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1"
      ])
    })
  )

  it.effect("a pause that ends in error fails with SandboxFailedError; a refused one with its typed error", () =>
    Effect.gen(function* () {
      const failing = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "pausing" }) }
          : { status: 200, body: sandboxDto({ state: "error", errorReason: "freezer broke" }) }
      )
      const fiber = yield* Effect.fork((yield* handleOver(failing.client)).pause())
      yield* settle(fiber)
      assert.strictEqual((yield* Effect.flip(Fiber.join(fiber)))._tag, "SandboxFailedError")

      const refused = yield* makeFake(() => ({
        status: 400,
        body: errorBody(400, "Bad Request", "Sandbox must be in started state to pause")
      }))
      const error = yield* Effect.flip((yield* handleOver(refused.client)).pause())
      assert.strictEqual(error._tag, "ValidationError")
    })
  )

  it.effect("times out with WaitTimeoutError naming the operation", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "pausing" }) }))
      const fiber = yield* Effect.fork((yield* handleOver(fake.client)).pause({ timeout: "1 second" }))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "WaitTimeoutError")
      if (error._tag === "WaitTimeoutError") assert.strictEqual(error.operation, "pause")
    })
  )
})

describe("Sandbox: fork", () => {
  it.effect("POSTs /fork with the name, then waits on the fork (not the source) until started", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ id: "fork-1", name: "copy", state: "creating" }) }
          : { status: 200, body: sandboxDto({ id: "fork-1", name: "copy", state: index < 2 ? "creating" : "started" }) }
      )
      const sandbox = yield* handleOver(fake.client)
      const fiber = yield* Effect.fork(sandbox.fork({ name: "copy" }))
      yield* settle(fiber)
      const forked = yield* Fiber.join(fiber)
      assert.strictEqual(forked.id, "fork-1")
      assert.strictEqual(forked.state, "started")
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "POST", path: "/api/sandbox/sb-1/fork", body: { name: "copy" } })
      assert.deepStrictEqual(lines(requests.slice(1)), ["GET /api/sandbox/fork-1", "GET /api/sandbox/fork-1"])
    })
  )

  it.effect("a fork's copy of its parent's create id is removed, so the parent's create cannot find it", () =>
    Effect.gen(function* () {
      const inherited = { "code-toolbox-language": "python", team: "a", [Daytona.createIdLabel]: "parent-create" }
      const fake = yield* makeFake((request) =>
        request.method === "PUT"
          ? {
              status: 200,
              body: sandboxDto({
                id: "fork-3",
                state: "started",
                labels: { "code-toolbox-language": "python", team: "a" }
              })
            }
          : { status: 200, body: sandboxDto({ id: "fork-3", state: "started", labels: inherited }) }
      )
      const forked = yield* (yield* handleOver(fake.client)).fork()
      assert.deepStrictEqual(forked.labels, { "code-toolbox-language": "python", team: "a" })
      const requests = yield* fake.requests
      assert.deepStrictEqual(lines(requests), ["POST /api/sandbox/sb-1/fork", "PUT /api/sandbox/fork-3/labels"])
      assertRequest(requests[1], {
        method: "PUT",
        path: "/api/sandbox/fork-3/labels",
        body: { labels: { "code-toolbox-language": "python", team: "a" } }
      })
    })
  )

  it.effect("Daytona.fork forks by id or name; an empty one is refused before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ id: "fork-2", state: "started" }) }))
      const daytona = yield* daytonaOver(fake.client)
      assert.strictEqual((yield* daytona.fork("source-name")).id, "fork-2")
      assertRequest((yield* fake.requests)[0], { method: "POST", path: "/api/sandbox/source-name/fork", body: {} })
      assert.strictEqual((yield* Effect.flip(daytona.fork(" ")))._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )

  it.effect("a lost fork answer is not replayed (a second request would make a second fork)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ transportError: "reset" }))
      const sandbox = yield* handleOver(fake.client, sandboxDto(), { retryPolicy: RetryPolicy.exponential() })
      const fiber = yield* Effect.fork(sandbox.fork())
      yield* settle(fiber)
      assert.strictEqual((yield* Effect.flip(Fiber.join(fiber)))._tag, "TransportError")
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )
})

describe("Sandbox: createSnapshot", () => {
  it.effect("POSTs /snapshot with the name and waits until the sandbox leaves snapshotting", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "snapshotting" }) }
          : { status: 200, body: sandboxDto({ state: index < 2 ? "snapshotting" : "started" }) }
      )
      const fiber = yield* Effect.fork((yield* handleOver(fake.client)).createSnapshot("mine:1"))
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "started")
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "POST", path: "/api/sandbox/sb-1/snapshot", body: { name: "mine:1" } })
      assert.deepStrictEqual(lines(requests.slice(1)), ["GET /api/sandbox/sb-1", "GET /api/sandbox/sb-1"])
    })
  )

  it.effect("an empty name is refused before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const error = yield* Effect.flip((yield* handleOver(fake.client)).createSnapshot(""))
      assert.strictEqual(error._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("a lost answer is reconciled by the snapshot of that name taken from this sandbox", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) => {
        if (index === 0) return { transportError: "reset" }
        if (request.path === "/api/snapshots/mine%3A1")
          return {
            status: 200,
            body: {
              id: "snap-1",
              general: false,
              name: "mine:1",
              state: "snapshotting",
              cpu: 1,
              gpu: 0,
              mem: 1,
              disk: 3,
              createdAt: "2026-11-29T12:00:00.000Z",
              updatedAt: "2026-11-29T12:00:00.000Z",
              sourceSandboxId: "sb-1"
            }
          }
        return { status: 200, body: sandboxDto({ state: "started" }) }
      })
      const sandbox = yield* handleOver(fake.client, sandboxDto(), { retryPolicy: RetryPolicy.exponential() })
      const fiber = yield* Effect.fork(sandbox.createSnapshot("mine:1"))
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "started")
      assert.deepStrictEqual(lines(yield* fake.requests).slice(0, 3), [
        "POST /api/sandbox/sb-1/snapshot",
        "GET /api/snapshots/mine%3A1",
        "GET /api/sandbox/sb-1"
      ])
      assert.strictEqual((yield* fake.requests).filter((request) => request.method === "POST").length, 1)
    })
  )
})

describe("Sandbox: intervals, TTL, metrics", () => {
  it.effect("setAutoPauseInterval and setTtl POST their paths; bad values are refused before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 201,
        body: sandboxDto({ autoPauseInterval: 30, autoDestroyAt: "2026-11-29T13:00:00.000Z" })
      }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* sandbox.setAutoPauseInterval(30)).autoPauseInterval, 30)
      assert.strictEqual((yield* sandbox.setTtl(60)).autoDestroyAt, "2026-11-29T13:00:00.000Z")
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "POST /api/sandbox/sb-1/autopause/30",
        "POST /api/sandbox/sb-1/ttl/60"
      ])
      for (const bad of [-1, 1.5, Number.NaN]) {
        assert.strictEqual((yield* Effect.flip(sandbox.setAutoPauseInterval(bad)))._tag, "ValidationError")
        assert.strictEqual((yield* Effect.flip(sandbox.setTtl(bad)))._tag, "ValidationError")
      }
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )

  it.effect("getMetrics asks for the range since creation and pivots the series into samples", () =>
    Effect.gen(function* () {
      yield* advance("0 millis")
      const fake = yield* makeFake(() => ({
        status: 200,
        body: {
          series: [
            {
              metricName: "daytona.sandbox.memory.usage",
              dataPoints: [
                { timestamp: "2026-11-29T12:00:20.000Z", value: 200 },
                { timestamp: "2026-11-29T12:00:10.000Z", value: 100 }
              ]
            },
            {
              metricName: "daytona.sandbox.cpu.utilization",
              dataPoints: [{ timestamp: "2026-11-29T12:00:10.000Z", value: 5 }]
            },
            { metricName: "something.else", dataPoints: [{ timestamp: "2026-11-29T12:00:10.000Z", value: 1 }] }
          ]
        }
      }))
      const sandbox = yield* handleOver(fake.client)
      const end = new Date("2026-11-29T13:00:00.000Z")
      const samples = yield* sandbox.getMetrics({ end })
      assert.deepStrictEqual(
        samples.map((s) => [s.timestamp.toISOString(), s.memUsed, s.cpuUsedPct]),
        [
          ["2026-11-29T12:00:10.000Z", 100, 5],
          ["2026-11-29T12:00:20.000Z", 200, 0]
        ]
      )
      const request = (yield* fake.requests)[0]!
      assert.strictEqual(request.path, "/api/sandbox/sb-1/telemetry/metrics")
      assert.strictEqual(request.url.searchParams.get("from"), "2026-11-29T12:00:00.000Z")
      assert.strictEqual(request.url.searchParams.get("to"), "2026-11-29T13:00:00.000Z")
      assert.include(request.url.searchParams.getAll("metricNames"), "daytona.sandbox.filesystem.usage")

      const backwards = yield* Effect.flip(sandbox.getMetrics({ start: end, end: new Date(0) }))
      assert.strictEqual(backwards._tag, "ValidationError")
    })
  )

  it.effect("getMetricsLatest reads the toolbox's /system/metrics; getUserRootDir is the home directory", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/system/metrics")
          ? { status: 200, body: { cpuCount: 2, memUsed: 42, diskUsed: 7, timestamp: "2026-11-29T12:00:00.000Z" } }
          : { status: 200, body: { dir: "/home/daytona" } }
      )
      const sandbox = yield* handleOver(fake.client)
      const latest = yield* sandbox.getMetricsLatest
      assert.deepStrictEqual([latest.cpuCount, latest.memUsed, latest.diskUsed, latest.memTotal], [2, 42, 7, 0])
      assert.strictEqual(yield* sandbox.getUserRootDir, "/home/daytona")
      assert.deepStrictEqual(
        (yield* fake.requests).map((r) => r.url.href),
        [`${toolboxProxyUrl}/sb-1/system/metrics`, `${toolboxProxyUrl}/sb-1/user-home-dir`]
      )
    })
  )

  it.effect("the ancestry routes: parent, ancestors, forks", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/parent")
          ? { status: 200, body: sandboxDto({ id: "p" }) }
          : { status: 200, body: [sandboxDto({ id: "a" }), sandboxDto({ id: "b" })] }
      )
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* sandbox.getParent).id, "p")
      assert.deepStrictEqual(
        (yield* sandbox.getAncestors).map((s) => s.id),
        ["a", "b"]
      )
      assert.deepStrictEqual(
        (yield* sandbox.getForks({ includeDestroyed: true })).map((s) => s.id),
        ["a", "b"]
      )
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "GET /api/sandbox/sb-1/parent",
        "GET /api/sandbox/sb-1/ancestors",
        "GET /api/sandbox/sb-1/forks?includeDestroyed=true"
      ])
    })
  )
})

describe("Daytona.create: lifecycle options", () => {
  it.effect("sends autoPauseInterval, ttlMinutes and spot; refuses both auto-stop and auto-pause", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.create({ autoPauseInterval: 30, ttlMinutes: 120, spot: false })
      const body = (yield* fake.requests)[0]!.body as Record<string, unknown>
      assert.deepStrictEqual([body["autoPauseInterval"], body["ttlMinutes"], body["spot"]], [30, 120, false])
      for (const bad of [
        { autoStopInterval: 5, autoPauseInterval: 5 },
        { ttlMinutes: -1 },
        { autoPauseInterval: 0.5 }
      ]) {
        assert.strictEqual((yield* Effect.flip(daytona.create(bad)))._tag, "ValidationError")
      }
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )
})

describe("WarmPools", () => {
  it.effect("list, create, update and delete call /warm-pools with their bodies", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => {
        if (request.method === "GET") return { status: 200, body: [warmPool()] }
        if (request.method === "POST") return { status: 201, body: warmPool() }
        if (request.method === "PATCH") return { status: 200, body: warmPool({ pool: 0 }) }
        return { status: 200 }
      })
      const pools = yield* Effect.provide(WarmPools.WarmPools, layerWith(fake.client))
      assert.strictEqual((yield* pools.list)[0]!.id, "wp-1")
      assert.strictEqual((yield* pools.create({ snapshot: "daytona-small", pool: 2 })).pool, 2)
      assert.strictEqual((yield* pools.update("wp-1", { pool: 0 })).pool, 0)
      yield* pools.delete("wp-1")
      const requests = yield* fake.requests
      assert.deepStrictEqual(lines(requests), [
        "GET /api/warm-pools",
        "POST /api/warm-pools",
        "PATCH /api/warm-pools/wp-1",
        "DELETE /api/warm-pools/wp-1"
      ])
      assert.deepStrictEqual(requests[1]!.body, { snapshot: "daytona-small", pool: 2 })
      assert.deepStrictEqual(requests[2]!.body, { pool: 0 })
    })
  )

  it.effect("bad sizes and ids are refused before any request; a 409 is a ConflictError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 409,
        body: errorBody(409, "Conflict", "A warm pool for this snapshot already exists", "/api/warm-pools")
      }))
      const pools = yield* Effect.provide(WarmPools.WarmPools, layerWith(fake.client))
      for (const pool of [-1, 1.5])
        assert.strictEqual((yield* Effect.flip(pools.create({ snapshot: "s", pool })))._tag, "ValidationError")
      assert.strictEqual((yield* Effect.flip(pools.create({ snapshot: "", pool: 1 })))._tag, "ValidationError")
      assert.strictEqual((yield* Effect.flip(pools.update("", { pool: 1 })))._tag, "ValidationError")
      assert.strictEqual((yield* Effect.flip(pools.delete(" ")))._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
      assert.strictEqual((yield* Effect.flip(pools.create({ snapshot: "s", pool: 1 })))._tag, "ConflictError")
      // The schema is tolerant of what it does not need.
      assert.strictEqual(Schema.decodeUnknownSync(WarmPool)(warmPool({ errorReason: undefined })).id, "wp-1")
      assert.isDefined(Daytona.Daytona)
    })
  )
})
