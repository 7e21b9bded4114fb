import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Image from "../src/Image.js"
import * as Schema from "effect/Schema"
import { SnapshotDto } from "../src/SnapshotDto.js"
import * as Snapshots from "../src/Snapshots.js"
import {
  advance,
  assertRequest,
  errorBody,
  layerWith,
  makeFake,
  settle,
  snapshotDto,
  standardHeaders
} from "./support/FakeHttp.js"

const snapshotId = snapshotDto().id

const page = (items: ReadonlyArray<unknown>, pageNumber: number, totalPages: number) => ({
  items,
  total: items.length * totalPages,
  page: pageNumber,
  totalPages
})

/** A snapshot value, decoded as the SDK decodes answers. */
const aSnapshot = (overrides: Record<string, unknown> = {}): Snapshots.Snapshot =>
  Schema.decodeUnknownSync(SnapshotDto)(snapshotDto(overrides))

const snapshotsOver = (client: HttpClient.HttpClient, options: Parameters<typeof layerWith>[1] = {}) =>
  Effect.provide(Snapshots.Snapshots, layerWith(client, options))

describe("Snapshots.listPage and list", () => {
  it.effect("sends page, limit, name, sort and order and decodes the page (null fields as absent)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: page([snapshotDto(), snapshotDto({ id: "s-2", state: "snapshot_future_state" })], 2, 3)
      }))
      const snapshots = yield* snapshotsOver(fake.client)
      const result = yield* snapshots.listPage({ page: 2, limit: 50, name: "py", sort: "name", order: "asc" })
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assertRequest(requests[0], {
        method: "GET",
        path: "/api/snapshots",
        query: [
          ["page", "2"],
          ["limit", "50"],
          ["name", "py"],
          ["sort", "name"],
          ["order", "asc"]
        ],
        body: undefined,
        headers: standardHeaders
      })
      assert.strictEqual(result.page, 2)
      assert.strictEqual(result.totalPages, 3)
      assert.strictEqual(result.items.length, 2)
      const first = result.items[0]!
      assert.strictEqual(first.mem, 4)
      assert.deepStrictEqual(first.entrypoint, ["sleep", "infinity"])
      assert.isUndefined(first.errorReason)
      assert.isUndefined(first.lastUsedAt)
      assert.strictEqual(result.items[1]!.state, "snapshot_future_state", "an unknown state is data")
    })
  )

  it.effect("list streams every page, asking for page 1, 2, … until totalPages", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => {
        const n = Number(request.url.searchParams.get("page"))
        return { status: 200, body: page([snapshotDto({ id: `s-${n}a` }), snapshotDto({ id: `s-${n}b` })], n, 3) }
      })
      const snapshots = yield* snapshotsOver(fake.client)
      const all = yield* Stream.runCollect(snapshots.list({ limit: 2 }))
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(all).map((s) => s.id),
        ["s-1a", "s-1b", "s-2a", "s-2b", "s-3a", "s-3b"]
      )
      const requests = yield* fake.requests
      assert.deepStrictEqual(
        requests.map((r) => r.query),
        [1, 2, 3].map(
          (n): ReadonlyArray<readonly [string, string]> => [
            ["page", String(n)],
            ["limit", "2"]
          ]
        )
      )
    })
  )

  it.effect("list reads only the pages it needs", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => {
        const n = Number(request.url.searchParams.get("page"))
        return { status: 200, body: page([snapshotDto({ id: `s-${n}` })], n, 10) }
      })
      const snapshots = yield* snapshotsOver(fake.client)
      const firstTwo = yield* Stream.runCollect(Stream.take(snapshots.list(), 2))
      assert.strictEqual(Chunk.size(firstTwo), 2)
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )

  it.effect("an invalid page or limit is a ValidationError before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: page([], 1, 0) }))
      const snapshots = yield* snapshotsOver(fake.client)
      const limit = yield* Effect.flip(snapshots.listPage({ limit: 201 }))
      assert.strictEqual(limit._tag, "ValidationError")
      assert.strictEqual(limit._tag === "ValidationError" ? limit.field : undefined, "limit")
      const pageError = yield* Effect.flip(snapshots.listPage({ page: 0 }))
      assert.strictEqual(pageError._tag === "ValidationError" ? pageError.field : undefined, "page")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )
})

describe("Snapshots.get", () => {
  it.effect("GET /snapshots/{idOrName} decodes the snapshot", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: snapshotDto() }))
      const snapshots = yield* snapshotsOver(fake.client)
      const snapshot = yield* snapshots.get("py-box:1.0")
      assertRequest((yield* fake.requests)[0], {
        method: "GET",
        path: "/api/snapshots/py-box%3A1.0",
        headers: standardHeaders
      })
      assert.strictEqual(snapshot.id, snapshotId)
      assert.strictEqual(snapshot.state, "active")
    })
  )

  it.effect("404 is a NotFoundError, 500 an UnexpectedResponseError, an empty name a ValidationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/missing")
          ? { status: 404, body: errorBody(404, "Not Found", "Snapshot missing not found", "/api/snapshots/missing") }
          : { status: 500, body: errorBody(500, "Internal Server Error", "boom", "/api/snapshots/broken") }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      const missing = yield* Effect.flip(snapshots.get("missing"))
      assert.strictEqual(missing._tag, "NotFoundError")
      const broken = yield* Effect.flip(snapshots.get("broken"))
      assert.strictEqual(broken._tag, "UnexpectedResponseError")
      const empty = yield* Effect.flip(snapshots.get(" "))
      assert.strictEqual(empty._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )
})

describe("Snapshots.create", () => {
  it.effect("from an image name: sends imageName, resources, entrypoint, regionId (default target) and class", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: snapshotDto() }))
      const snapshots = yield* snapshotsOver(fake.client, { target: "eu" })
      const snapshot = yield* snapshots.create({
        name: "py-box:1.0",
        image: "python:3.12-slim",
        resources: { cpu: 2, memory: 4, disk: 8, gpu: 1, gpuType: "H100" },
        entrypoint: ["sleep", "infinity"],
        sandboxClass: "container"
      })
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1, "already active: no poll")
      assertRequest(requests[0], {
        method: "POST",
        path: "/api/snapshots",
        body: {
          name: "py-box:1.0",
          imageName: "python:3.12-slim",
          entrypoint: ["sleep", "infinity"],
          cpu: 2,
          gpu: 1,
          gpuType: ["H100"],
          memory: 4,
          disk: 8,
          regionId: "eu",
          sandboxClass: "container"
        },
        headers: { ...standardHeaders, "content-type": "application/json" }
      })
      assert.strictEqual(snapshot.state, "active")
    })
  )

  it.effect("from an Image: sends its Dockerfile as buildInfo.dockerfileContent, an explicit regionId wins", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: snapshotDto({ imageName: undefined }) }))
      const snapshots = yield* snapshotsOver(fake.client, { target: "eu" })
      const image = Image.debianSlim("3.12").pipe(Image.pipInstall(["numpy"]))
      yield* snapshots.create({ name: "numpy-box", image, regionId: "us" })
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: "/api/snapshots",
        body: { name: "numpy-box", buildInfo: { dockerfileContent: image.dockerfile }, regionId: "us" }
      })
    })
  )

  it.effect("a context without FileSystem, a missing name or a bad resource fail before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: snapshotDto() }))
      const snapshots = yield* snapshotsOver(fake.client)
      const withContext = Image.debianSlim("3.12").pipe(Image.addLocalFile("./main.py", "/app/main.py"))
      // No FileSystem to read the context with (BuildContext.test.ts uploads one).
      const context = yield* Effect.flip(snapshots.create({ name: "ctx", image: withContext }))
      assert.strictEqual(context._tag, "BuildContextError")
      const noName = yield* Effect.flip(snapshots.create({ name: "", image: "python:3.12" }))
      assert.strictEqual(noName._tag === "ValidationError" ? noName.field : undefined, "name")
      const badCpu = yield* Effect.flip(snapshots.create({ name: "x", image: "python:3.12", resources: { cpu: 1.5 } }))
      assert.strictEqual(badCpu._tag === "ValidationError" ? badCpu.field : undefined, "cpu")
      const badTimeout = yield* Effect.flip(snapshots.create({ name: "x", image: "python:3.12", timeout: -1 }))
      assert.strictEqual(badTimeout._tag === "ValidationError" ? badTimeout.field : undefined, "timeout")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("polls GET /snapshots/{id} until active under the TestClock", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: snapshotDto({ state: "pending" }) }
          : { status: 200, body: snapshotDto({ state: index < 3 ? "building" : "active" }) }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      const fiber = yield* Effect.fork(snapshots.create({ name: "py-box:1.0", image: "python:3.12-slim" }))
      yield* settle(fiber)
      const snapshot = yield* Fiber.join(fiber)
      assert.strictEqual(snapshot.state, "active")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 4)
      for (const request of requests.slice(1)) {
        assertRequest(request, { method: "GET", path: `/api/snapshots/${snapshotId}` })
      }
    })
  )

  it.effect("wait: false returns the accepted snapshot after one request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: snapshotDto({ state: "pending" }) }))
      const snapshots = yield* snapshotsOver(fake.client)
      const snapshot = yield* snapshots.create({ name: "py-box:1.0", image: "python:3.12-slim", wait: false })
      assert.strictEqual(snapshot.state, "pending")
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )

  it.effect("build_failed during the wait fails with SnapshotFailedError carrying errorReason", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: snapshotDto({ state: "pending" }) }
          : index < 2
            ? { status: 200, body: snapshotDto({ state: "building" }) }
            : { status: 200, body: snapshotDto({ state: "build_failed", errorReason: "RUN exited with 1" }) }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      const fiber = yield* Effect.fork(snapshots.create({ name: "py-box:1.0", image: "python:3.12-slim" }))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "SnapshotFailedError")
      if (error._tag !== "SnapshotFailedError") return
      assert.strictEqual(error.snapshotId, snapshotId)
      assert.strictEqual(error.name, "py-box:1.0")
      assert.strictEqual(error.state, "build_failed")
      assert.strictEqual(error.errorReason, "RUN exited with 1")
      assert.strictEqual((yield* fake.requests).length, 3)
    })
  )

  it.effect("times out at its deadline with a WaitTimeoutError carrying the last state and the id", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 200, body: snapshotDto({ state: "pending" }) }
          : { status: 200, body: snapshotDto({ state: "pulling" }) }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      const fiber = yield* Effect.fork(
        snapshots
          .create({ name: "py-box:1.0", image: "python:3.12-slim", timeout: "5 seconds" })
          .pipe(Effect.flip, Effect.zip(Clock.currentTimeMillis))
      )
      yield* advance("4900 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting before the deadline")
      yield* settle(fiber)
      const [error, failedAt] = yield* Fiber.join(fiber)
      assert.strictEqual(failedAt, 5000)
      assert.strictEqual(error._tag, "WaitTimeoutError")
      if (error._tag !== "WaitTimeoutError") return
      assert.strictEqual(error.operation, "Snapshots.create")
      assert.strictEqual(error.awaited, "active")
      assert.strictEqual(error.resourceId, snapshotId)
      assert.strictEqual(error.lastState, "pulling")
      assert.isTrue(Duration.equals(error.timeout, Duration.seconds(5)))
    })
  )

  it.effect("409 (name taken) is a ConflictError; 400 (quota, :latest) a ValidationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        (request.body as { readonly name: string }).name === "taken"
          ? { status: 409, body: errorBody(409, "Conflict", "Snapshot taken already exists", "/api/snapshots") }
          : { status: 400, body: errorBody(400, "Bad Request", 'tag ":latest" is not allowed', "/api/snapshots") }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      const taken = yield* Effect.flip(snapshots.create({ name: "taken", image: "python:3.12" }))
      assert.strictEqual(taken._tag, "ConflictError")
      const latest = yield* Effect.flip(snapshots.create({ name: "x", image: "python:latest" }))
      assert.strictEqual(latest._tag, "ValidationError")
      assert.strictEqual(latest._tag === "ValidationError" ? latest.status : undefined, 400)
    })
  )
})

describe("Snapshots.delete, activate, deactivate", () => {
  it.effect("delete by id sends DELETE /snapshots/{id}; by name it resolves the id first", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "GET" ? { status: 200, body: snapshotDto() } : { status: 200 }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      yield* snapshots.delete(snapshotId)
      yield* snapshots.delete("py-box:1.0")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 3)
      assertRequest(requests[0], { method: "DELETE", path: `/api/snapshots/${snapshotId}`, body: undefined })
      assertRequest(requests[1], { method: "GET", path: "/api/snapshots/py-box%3A1.0" })
      assertRequest(requests[2], { method: "DELETE", path: `/api/snapshots/${snapshotId}` })
    })
  )

  it.effect("delete: 404 is a NotFoundError, 403 (a general snapshot) an AuthorizationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) =>
        index === 0
          ? { status: 404, body: errorBody(404, "Not Found", "Snapshot not found") }
          : { status: 403, body: errorBody(403, "Forbidden", "general snapshots cannot be deleted") }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      assert.strictEqual((yield* Effect.flip(snapshots.delete(snapshotId)))._tag, "NotFoundError")
      assert.strictEqual((yield* Effect.flip(snapshots.delete(snapshotId)))._tag, "AuthorizationError")
    })
  )

  it.effect("activate sends POST /snapshots/{id}/activate and decodes the snapshot; 400 is a ValidationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) =>
        index === 0
          ? { status: 200, body: snapshotDto({ state: "active" }) }
          : { status: 400, body: errorBody(400, "Bad Request", "Snapshot is already active") }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      const active = yield* snapshots.activate(aSnapshot({ state: "inactive" }))
      assert.strictEqual(active.state, "active")
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: `/api/snapshots/${snapshotId}/activate`,
        body: undefined
      })
      const again = yield* Effect.flip(snapshots.activate(snapshotId))
      assert.strictEqual(again._tag, "ValidationError")
    })
  )

  it.effect("deactivate sends POST /snapshots/{id}/deactivate and accepts 204 with no body", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 204 }))
      const snapshots = yield* snapshotsOver(fake.client)
      yield* snapshots.deactivate(snapshotId)
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assertRequest(requests[0], { method: "POST", path: `/api/snapshots/${snapshotId}/deactivate`, body: undefined })
    })
  )
})

describe("Snapshots.waitUntilActive", () => {
  it.effect("polls by name until active", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) => ({
        status: 200,
        body: snapshotDto({ state: index < 2 ? "pulling" : "active" })
      }))
      const snapshots = yield* snapshotsOver(fake.client)
      const fiber = yield* Effect.fork(snapshots.waitUntilActive("py-box:1.0", { timeout: "1 minute" }))
      yield* settle(fiber)
      const snapshot = yield* Fiber.join(fiber)
      assert.strictEqual(snapshot.state, "active")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 3)
      for (const request of requests) assertRequest(request, { method: "GET", path: "/api/snapshots/py-box%3A1.0" })
    })
  )

  it.effect("a snapshot value already active returns at once; an inactive one fails without waiting", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: snapshotDto() }))
      const snapshots = yield* snapshotsOver(fake.client)
      const active = aSnapshot()
      assert.strictEqual((yield* snapshots.waitUntilActive(active)).id, snapshotId)
      const inactive = aSnapshot({ state: "inactive" })
      const error = yield* Effect.flip(snapshots.waitUntilActive(inactive))
      assert.strictEqual(error._tag, "SnapshotFailedError")
      assert.strictEqual(error._tag === "SnapshotFailedError" ? error.state : undefined, "inactive")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("an error state fails with SnapshotFailedError; the deadline with WaitTimeoutError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/broken")
          ? { status: 200, body: snapshotDto({ name: "broken", state: "error", errorReason: "pull failed" }) }
          : { status: 200, body: snapshotDto({ state: "building" }) }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      const failed = yield* Effect.flip(snapshots.waitUntilActive("broken"))
      assert.strictEqual(failed._tag, "SnapshotFailedError")
      assert.strictEqual(failed._tag === "SnapshotFailedError" ? failed.errorReason : undefined, "pull failed")
      const fiber = yield* Effect.fork(Effect.flip(snapshots.waitUntilActive("slow", { timeout: "3 seconds" })))
      yield* settle(fiber)
      const timedOut = yield* Fiber.join(fiber)
      assert.strictEqual(timedOut._tag, "WaitTimeoutError")
      if (timedOut._tag !== "WaitTimeoutError") return
      assert.strictEqual(timedOut.resourceId, snapshotId)
      assert.strictEqual(timedOut.lastState, "building")
      assert.strictEqual(timedOut.awaited, "active")
    })
  )
})

describe("Snapshots.buildLogsUrl and buildLogs", () => {
  const logsUrl = `https://proxy.daytona.test/snapshots/${snapshotId}/build-logs`

  it.effect("reads the URL from GET /snapshots/{id}/build-logs-url, then GETs it with the API credentials", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.url.origin === "https://proxy.daytona.test"
          ? { status: 200, body: "Step 1/2 : FROM python:3.12\nStep 2/2 : RUN pip install numpy\n" }
          : { status: 200, body: { url: logsUrl } }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      assert.strictEqual(yield* snapshots.buildLogsUrl(snapshotId), logsUrl)
      const logs = yield* snapshots.buildLogs(snapshotId)
      assert.strictEqual(logs, "Step 1/2 : FROM python:3.12\nStep 2/2 : RUN pip install numpy\n")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 3)
      assertRequest(requests[0], { method: "GET", path: `/api/snapshots/${snapshotId}/build-logs-url` })
      assertRequest(requests[1], { method: "GET", path: `/api/snapshots/${snapshotId}/build-logs-url` })
      assertRequest(requests[2], { method: "GET", path: logsUrl, headers: standardHeaders })
    })
  )

  it.effect("a 404 from the proxy is a NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.url.origin === "https://proxy.daytona.test"
          ? { status: 404, body: "not found" }
          : { status: 200, body: { url: logsUrl } }
      )
      const snapshots = yield* snapshotsOver(fake.client)
      assert.strictEqual((yield* Effect.flip(snapshots.buildLogs(snapshotId)))._tag, "NotFoundError")
    })
  )
})
