import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Schema from "effect/Schema"
import { VolumeDto } from "../src/VolumeDto.js"
import * as Volumes from "../src/Volumes.js"
import { advance, assertRequest, errorBody, layerWith, makeFake, settle, standardHeaders } from "./support/FakeHttp.js"

const volumeDto = (overrides: Record<string, unknown> = {}) => ({
  id: "vol-1",
  name: "data",
  organizationId: "org-1",
  state: "ready",
  createdAt: "2026-11-29T12:00:00.000Z",
  updatedAt: "2026-11-29T12:00:00.000Z",
  lastUsedAt: null,
  errorReason: null,
  ...overrides
})

/** A volume value, decoded as the SDK decodes answers. */
const aVolume = (overrides: Record<string, unknown> = {}): Volumes.Volume =>
  Schema.decodeUnknownSync(VolumeDto)(volumeDto(overrides))

const volumesOver = (client: HttpClient.HttpClient) => Effect.provide(Volumes.Volumes, layerWith(client))

describe("Volumes.list and get", () => {
  it.effect("list sends GET /volumes (includeDeleted only when asked) and decodes every volume", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: [volumeDto(), volumeDto({ id: "vol-2", name: "cache", state: "volume_future_state" })]
      }))
      const volumes = yield* volumesOver(fake.client)
      const all = yield* volumes.list()
      yield* volumes.list({ includeDeleted: true })
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "GET", path: "/api/volumes", body: undefined, headers: standardHeaders })
      assertRequest(requests[1], { method: "GET", path: "/api/volumes", query: [["includeDeleted", "true"]] })
      assert.deepStrictEqual(
        all.map((v) => [v.id, v.state]),
        [
          ["vol-1", "ready"],
          ["vol-2", "volume_future_state"]
        ]
      )
      assert.isUndefined(all[0]!.errorReason)
      assert.isUndefined(all[0]!.lastUsedAt)
    })
  )

  it.effect("get sends GET /volumes/{volumeId}; 404 is a NotFoundError, an empty id a ValidationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/vol-1")
          ? { status: 200, body: volumeDto() }
          : { status: 404, body: errorBody(404, "Not Found", "Volume not found", request.path) }
      )
      const volumes = yield* volumesOver(fake.client)
      const volume = yield* volumes.get("vol-1")
      assert.strictEqual(volume.name, "data")
      assertRequest((yield* fake.requests)[0], { method: "GET", path: "/api/volumes/vol-1" })
      assert.strictEqual((yield* Effect.flip(volumes.get("vol-9")))._tag, "NotFoundError")
      assert.strictEqual((yield* Effect.flip(volumes.get("")))._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )

  it.effect("a 500 is an UnexpectedResponseError, a body off the contract too", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) =>
        index === 0
          ? { status: 500, body: errorBody(500, "Internal Server Error", "boom", "/api/volumes") }
          : { status: 200, body: [{ id: 1 }] }
      )
      const volumes = yield* volumesOver(fake.client)
      const status = yield* Effect.flip(volumes.list())
      assert.strictEqual(status._tag, "UnexpectedResponseError")
      const body = yield* Effect.flip(volumes.list())
      assert.strictEqual(body._tag, "UnexpectedResponseError")
      assert.strictEqual(body._tag === "UnexpectedResponseError" ? body.reason : undefined, "InvalidBody")
    })
  )
})

describe("Volumes.getByName and create", () => {
  it.effect("getByName sends GET /volumes/by-name/{name}; a missing volume is a NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/data")
          ? { status: 200, body: volumeDto() }
          : { status: 404, body: errorBody(404, "Not Found", "Volume not found", request.path) }
      )
      const volumes = yield* volumesOver(fake.client)
      assert.strictEqual((yield* volumes.getByName("data")).id, "vol-1")
      assertRequest((yield* fake.requests)[0], { method: "GET", path: "/api/volumes/by-name/data" })
      assert.strictEqual((yield* Effect.flip(volumes.getByName("team data")))._tag, "NotFoundError")
      assertRequest((yield* fake.requests)[1], { method: "GET", path: "/api/volumes/by-name/team%20data" })
      assert.strictEqual((yield* fake.requests).length, 2, "no create without create: true")
    })
  )

  it.effect("getByName with create: true creates the missing volume (POST /volumes {name}) without waiting", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "GET"
          ? { status: 404, body: errorBody(404, "Not Found", "Volume not found", request.path) }
          : { status: 200, body: volumeDto({ id: "vol-new", name: "fresh", state: "pending_create" }) }
      )
      const volumes = yield* volumesOver(fake.client)
      const volume = yield* volumes.getByName("fresh", { create: true })
      assert.strictEqual(volume.id, "vol-new")
      assert.strictEqual(volume.state, "pending_create")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 2)
      assertRequest(requests[0], { method: "GET", path: "/api/volumes/by-name/fresh" })
      assertRequest(requests[1], {
        method: "POST",
        path: "/api/volumes",
        body: { name: "fresh" },
        headers: { ...standardHeaders, "content-type": "application/json" }
      })
    })
  )

  it.effect("create sends POST /volumes {name}; a taken name (400) is a ValidationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        (request.body as { readonly name: string }).name === "taken"
          ? {
              status: 400,
              body: errorBody(400, "Bad Request", "Volume with name taken already exists", "/api/volumes")
            }
          : { status: 200, body: volumeDto({ state: "pending_create" }) }
      )
      const volumes = yield* volumesOver(fake.client)
      const volume = yield* volumes.create("data")
      assert.strictEqual(volume.state, "pending_create")
      assertRequest((yield* fake.requests)[0], { method: "POST", path: "/api/volumes", body: { name: "data" } })
      const taken = yield* Effect.flip(volumes.create("taken"))
      assert.strictEqual(taken._tag, "ValidationError")
      assert.strictEqual(taken._tag === "ValidationError" ? taken.status : undefined, 400)
      const empty = yield* Effect.flip(volumes.create("  "))
      assert.strictEqual(empty._tag === "ValidationError" ? empty.field : undefined, "name")
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )
})

describe("Volumes.delete", () => {
  it.effect("sends DELETE /volumes/{volumeId}; 409 (in use) is a ConflictError, 400 a ValidationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/vol-1")
          ? { status: 200 }
          : request.path.endsWith("/vol-busy")
            ? { status: 409, body: errorBody(409, "Conflict", "Volume is in use", request.path) }
            : { status: 400, body: errorBody(400, "Bad Request", "Volume must be ready or error", request.path) }
      )
      const volumes = yield* volumesOver(fake.client)
      yield* volumes.delete("vol-1")
      assertRequest((yield* fake.requests)[0], { method: "DELETE", path: "/api/volumes/vol-1", body: undefined })
      assert.strictEqual((yield* Effect.flip(volumes.delete("vol-busy")))._tag, "ConflictError")
      assert.strictEqual((yield* Effect.flip(volumes.delete("vol-pending")))._tag, "ValidationError")
    })
  )
})

describe("Volumes.waitUntilReady", () => {
  it.effect("polls GET /volumes/{id} until ready under the TestClock", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) => ({
        status: 200,
        body: volumeDto({ state: index < 3 ? (index === 0 ? "pending_create" : "creating") : "ready" })
      }))
      const volumes = yield* volumesOver(fake.client)
      const fiber = yield* Effect.fork(volumes.waitUntilReady(aVolume({ state: "pending_create" })))
      yield* settle(fiber)
      const volume = yield* Fiber.join(fiber)
      assert.strictEqual(volume.state, "ready")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 4)
      for (const request of requests) assertRequest(request, { method: "GET", path: "/api/volumes/vol-1" })
    })
  )

  it.effect("a volume already ready returns at once; error fails with VolumeFailedError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: volumeDto({ state: "error", errorReason: "backing store unavailable" })
      }))
      const volumes = yield* volumesOver(fake.client)
      assert.strictEqual((yield* volumes.waitUntilReady(aVolume())).state, "ready")
      assert.strictEqual((yield* fake.requests).length, 0)
      const error = yield* Effect.flip(volumes.waitUntilReady("vol-1"))
      assert.strictEqual(error._tag, "VolumeFailedError")
      if (error._tag !== "VolumeFailedError") return
      assert.strictEqual(error.volumeId, "vol-1")
      assert.strictEqual(error.state, "error")
      assert.strictEqual(error.errorReason, "backing store unavailable")
      assert.include(error.message, "backing store unavailable")
    })
  )

  it.effect("a volume being deleted fails the wait", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: volumeDto({ state: "pending_delete" }) }))
      const volumes = yield* volumesOver(fake.client)
      const error = yield* Effect.flip(volumes.waitUntilReady("vol-1"))
      assert.strictEqual(error._tag === "VolumeFailedError" ? error.state : undefined, "pending_delete")
    })
  )

  it.effect("times out at the deadline (default operationTimeout) with the last state seen", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: volumeDto({ state: "creating" }) }))
      const volumes = yield* volumesOver(fake.client)
      const fiber = yield* Effect.fork(
        volumes.waitUntilReady("vol-1", { timeout: "2 seconds" }).pipe(Effect.flip, Effect.zip(Clock.currentTimeMillis))
      )
      yield* advance("1900 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* settle(fiber)
      const [error, failedAt] = yield* Fiber.join(fiber)
      assert.strictEqual(failedAt, 2000)
      assert.strictEqual(error._tag, "WaitTimeoutError")
      if (error._tag !== "WaitTimeoutError") return
      assert.strictEqual(error.operation, "Volumes.waitUntilReady")
      assert.strictEqual(error.awaited, "ready")
      assert.strictEqual(error.resourceId, "vol-1")
      assert.strictEqual(error.lastState, "creating")
      const defaultDeadline = yield* Effect.fork(Effect.flip(volumes.waitUntilReady("vol-1")))
      yield* settle(defaultDeadline, { step: "1 second" })
      const late = yield* Fiber.join(defaultDeadline)
      assert.strictEqual(late._tag, "WaitTimeoutError")
      assert.strictEqual(late._tag === "WaitTimeoutError" ? late.lastState : undefined, "creating")
    })
  )

  it.effect("a non-positive timeout is a ValidationError before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: volumeDto() }))
      const volumes = yield* volumesOver(fake.client)
      const error = yield* Effect.flip(volumes.waitUntilReady("vol-1", { timeout: 0 }))
      assert.strictEqual(error._tag === "ValidationError" ? error.field : undefined, "timeout")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )
})
