import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import { VolumeDto } from "@effect-daytona/sdk/VolumeDto"
import { failureOf } from "./sdkHarness.js"
import { serveWithSdk } from "./resourcesHarness.js"
import { advance, asApiError, call, clientLayer, driveUntilDone, tempDir } from "./utils.js"

const asVolume = (answer: { readonly body: unknown }) => Schema.decodeUnknownSync(VolumeDto)(answer.body)

describe("volumes", () => {
  it.scoped("create → pending_create → creating → ready at the create timing, then delete → deleted", () =>
    Effect.gen(function* () {
      const { volumes, client } = yield* serveWithSdk(yield* tempDir)
      const created = yield* volumes.create("data")
      assert.deepStrictEqual([created.name, created.state, created.organizationId], ["data", "pending_create", "local"])
      const raw = yield* call(client, "GET", `/api/volumes/${created.id}`)
      assert.deepStrictEqual([raw.status, (raw.body as Record<string, unknown>).lastUsedAt], [200, null])
      yield* advance("999 millis")
      assert.strictEqual((yield* volumes.get(created.id)).state, "pending_create")
      yield* advance("1 millis")
      assert.strictEqual((yield* volumes.get(created.id)).state, "creating")
      yield* advance("1 second")
      assert.strictEqual((yield* volumes.getByName("data")).state, "ready")

      yield* volumes.delete(created.id)
      assert.strictEqual((yield* volumes.get(created.id)).state, "pending_delete")
      yield* advance("1 second")
      assert.strictEqual((yield* volumes.get(created.id)).state, "deleting")
      yield* advance("1 second")
      assert.strictEqual((yield* volumes.get(created.id)).state, "deleted")
      assert.deepStrictEqual(yield* volumes.list(), [])
      assert.deepStrictEqual(
        (yield* volumes.list({ includeDeleted: true })).map((v) => [v.id, v.state]),
        [[created.id, "deleted"]]
      )
      assert.strictEqual((yield* failureOf(volumes.getByName("data")))._tag, "NotFoundError")
      // A deleted volume frees its name.
      const again = yield* volumes.create("data")
      assert.notStrictEqual(again.id, created.id)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("waitUntilReady polls on the Clock until the volume is ready; getByName can create", () =>
    Effect.gen(function* () {
      const { volumes } = yield* serveWithSdk(yield* tempDir)
      const created = yield* volumes.getByName("cache", { create: true })
      assert.strictEqual(created.state, "pending_create")
      const fiber = yield* Effect.fork(volumes.waitUntilReady(created, { timeout: "1 minute" }))
      const ready = yield* driveUntilDone(fiber, "100 millis")
      assert.deepStrictEqual([ready.id, ready.state], [created.id, "ready"])
      const listed = yield* volumes.list()
      assert.deepStrictEqual(
        listed.map((v) => v.name),
        ["cache"]
      )
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("bad requests answer Daytona's error body and status", () =>
    Effect.gen(function* () {
      const { volumes, client } = yield* serveWithSdk(yield* tempDir)
      const volume = yield* volumes.create("data")

      const taken = yield* call(client, "POST", "/api/volumes", { name: "data" })
      assert.strictEqual(taken.status, 400)
      const body = asApiError(taken)
      assert.deepStrictEqual(
        [body.statusCode, body.error, body.message, body.path],
        [400, "Bad Request", "Volume with name data already exists", "/api/volumes"]
      )
      const sdkTaken = yield* failureOf(volumes.create("data"))
      assert.deepStrictEqual([sdkTaken._tag, "status" in sdkTaken ? sdkTaken.status : 0], ["ValidationError", 400])

      const missing = yield* call(client, "POST", "/api/volumes", {})
      assert.deepStrictEqual([missing.status, asApiError(missing).message], [400, "name must be a string"])
      const unsafe = yield* call(client, "POST", "/api/volumes", { name: "<b>x</b>" })
      assert.deepStrictEqual(
        [unsafe.status, asApiError(unsafe).message],
        [400, "name must not contain HTML tags, URLs, or control characters"]
      )

      const notReady = yield* call(client, "DELETE", `/api/volumes/${volume.id}`)
      assert.deepStrictEqual(
        [notReady.status, asApiError(notReady).message],
        [400, "Volume must be in 'ready' or 'error' state in order to be deleted"]
      )
      const unknown = yield* call(client, "GET", "/api/volumes/00000000-0000-4000-8000-000000000000")
      assert.deepStrictEqual(
        [unknown.status, asApiError(unknown).message],
        [404, "Volume with ID 00000000-0000-4000-8000-000000000000 not found"]
      )
      const byName = yield* call(client, "GET", "/api/volumes/by-name/nope")
      assert.deepStrictEqual([byName.status, asApiError(byName).message], [404, "Volume with name nope not found"])
      assert.strictEqual((yield* failureOf(volumes.delete("nope")))._tag, "NotFoundError")

      // An empty name takes the volume's id, as Daytona does.
      const unnamed = asVolume(yield* call(client, "POST", "/api/volumes", { name: "" }))
      assert.strictEqual(unnamed.name, unnamed.id)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a restart keeps volumes; a transition under way completes at its due time", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* Scope.make()
      const { volumes } = yield* serveWithSdk(dir).pipe(Scope.extend(first))
      const ready = yield* volumes.create("kept")
      yield* advance("2 seconds")
      yield* volumes.delete(ready.id)
      const pending = yield* volumes.create("pending")
      yield* Scope.close(first, Exit.void)

      const { volumes: again } = yield* serveWithSdk(dir)
      assert.deepStrictEqual(
        [(yield* again.get(ready.id)).state, (yield* again.getByName("pending")).id],
        ["pending_delete", pending.id]
      )
      yield* advance("2 seconds")
      assert.deepStrictEqual(
        [(yield* again.get(ready.id)).state, (yield* again.get(pending.id)).state],
        ["deleted", "ready"]
      )
    }).pipe(Effect.provide(clientLayer))
  )
})
