import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import {
  advance,
  advanceInSteps,
  asApiError,
  asSandbox,
  call,
  clientLayer,
  createStarted,
  driveUntilDone,
  serve,
  state,
  tempDir
} from "./utils.js"

describe("lifecycle", () => {
  it.scoped("create reports creating, then started once the transition time has passed", () =>
    Effect.gen(function* () {
      const { client, server } = yield* serve(yield* tempDir)
      const created = yield* call(client, "POST", "/api/sandbox", { name: "one", labels: { a: "b" } })
      assert.strictEqual(created.status, 200)
      const dto = asSandbox(created)
      assert.strictEqual(dto.state, "creating")
      assert.strictEqual(dto.desiredState, "started")
      assert.strictEqual(dto.name, "one")
      assert.strictEqual(dto.toolboxProxyUrl, `${server.url}/toolbox`)
      yield* advance("999 millis")
      assert.strictEqual(yield* state(client, dto.id), "creating")
      yield* advance("1 millis")
      assert.strictEqual(yield* state(client, dto.id), "started")
      assert.strictEqual(yield* state(client, "one"), "started")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("create waits for started within startWait, like Daytona", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir, { startWait: "30 seconds" })
      const fiber = yield* Effect.fork(call(client, "POST", "/api/sandbox", {}))
      const created = yield* driveUntilDone(fiber, "100 millis")
      assert.strictEqual(asSandbox(created).state, "started")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("stop, start, archive and restore go through their transitional states", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      const stopping = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/stop?force=false`)
      assert.strictEqual(asSandbox(stopping).state, "stopping")
      const again = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/stop`)
      assert.deepStrictEqual([again.status, asApiError(again).message], [409, "Sandbox state change in progress"])
      yield* advance("1 second")
      assert.strictEqual(yield* state(client, sandbox.id), "stopped")

      const archiving = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/archive`)
      assert.strictEqual(asSandbox(archiving).state, "archiving")
      yield* advance("1 second")
      assert.strictEqual(yield* state(client, sandbox.id), "archived")

      const starting = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/start`)
      assert.strictEqual(asSandbox(starting).state, "archived")
      yield* advance("1 millis")
      assert.strictEqual(yield* state(client, sandbox.id), "restoring")
      yield* advance("1 second")
      assert.strictEqual(yield* state(client, sandbox.id), "started")
      const token = asSandbox(starting)
      assert.strictEqual(token.id, sandbox.id)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("illegal transitions answer Daytona's errors", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const creating = asSandbox(yield* call(client, "POST", "/api/sandbox", {}))
      const stopWhileCreating = yield* call(client, "POST", `/api/sandbox/${creating.id}/stop`)
      assert.deepStrictEqual(
        [stopWhileCreating.status, asApiError(stopWhileCreating).message],
        [409, "Sandbox state change in progress"]
      )
      const deleteWhileCreating = yield* call(client, "DELETE", `/api/sandbox/${creating.id}`)
      assert.strictEqual(deleteWhileCreating.status, 409)
      yield* advance("1 second")

      const archiveStarted = yield* call(client, "POST", `/api/sandbox/${creating.id}/archive`)
      assert.deepStrictEqual(
        [archiveStarted.status, asApiError(archiveStarted).message],
        [400, "Sandbox is not stopped"]
      )
      const startStarted = yield* call(client, "POST", `/api/sandbox/${creating.id}/start`)
      assert.deepStrictEqual([startStarted.status, asSandbox(startStarted).state], [200, "started"])

      yield* call(client, "POST", `/api/sandbox/${creating.id}/stop`)
      yield* advance("1 second")
      const stopStopped = yield* call(client, "POST", `/api/sandbox/${creating.id}/stop`)
      assert.deepStrictEqual(
        [stopStopped.status, asApiError(stopStopped).message],
        [400, "Sandbox is not in a stoppable state"]
      )
      const error = asApiError(stopStopped)
      assert.strictEqual(error.error, "Bad Request")
      assert.strictEqual(error.path, `/api/sandbox/${creating.id}/stop`)

      const recover = yield* call(client, "POST", `/api/sandbox/${creating.id}/recover`)
      assert.strictEqual(recover.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("delete is soft: destroying, renamed, then not found; the name is free again", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client, { name: "gone" })
      const deleted = asSandbox(yield* call(client, "DELETE", `/api/sandbox/gone`))
      assert.strictEqual(deleted.state, "destroying")
      assert.match(deleted.name, /^DESTROYED_gone_\d+$/)
      yield* advance("1 second")
      const missing = yield* call(client, "GET", `/api/sandbox/${sandbox.id}`)
      assert.deepStrictEqual(
        [missing.status, asApiError(missing).message],
        [404, `Sandbox with ID or name ${sandbox.id} not found`]
      )
      const again = yield* call(client, "POST", "/api/sandbox", { name: "gone" })
      assert.strictEqual(again.status, 200)
      const duplicate = yield* call(client, "POST", "/api/sandbox", { name: "gone" })
      assert.deepStrictEqual(
        [duplicate.status, asApiError(duplicate).message],
        [409, "Sandbox with name gone already exists"]
      )
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("stopping an ephemeral sandbox deletes it", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client, { autoDeleteInterval: 0 })
      const stopped = asSandbox(yield* call(client, "POST", `/api/sandbox/${sandbox.id}/stop`))
      assert.strictEqual(stopped.state, "destroying")
      yield* advance("1 second")
      assert.strictEqual((yield* call(client, "GET", `/api/sandbox/${sandbox.id}`)).status, 404)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("auto-stop, auto-archive and auto-delete follow the clock", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir, { lifecycleInterval: "10 seconds" })
      const a = yield* createStarted(client, { autoStopInterval: 1, autoArchiveInterval: 2 })
      const b = yield* createStarted(client, { autoStopInterval: 1, autoDeleteInterval: 2 })
      const c = yield* createStarted(client, { autoStopInterval: 0 })
      yield* advanceInSteps("50 seconds", "10 seconds")
      assert.strictEqual(yield* state(client, a.id), "started")
      yield* advanceInSteps("20 seconds", "10 seconds")
      assert.strictEqual(yield* state(client, a.id), "stopped")
      assert.strictEqual(yield* state(client, b.id), "stopped")
      yield* advanceInSteps("140 seconds", "10 seconds")
      assert.strictEqual(yield* state(client, a.id), "archived")
      assert.strictEqual((yield* call(client, "GET", `/api/sandbox/${b.id}`)).status, 404)
      assert.strictEqual(yield* state(client, c.id), "started")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("last-activity postpones auto-stop", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir, { lifecycleInterval: "10 seconds" })
      const a = yield* createStarted(client, { autoStopInterval: 1 })
      yield* advanceInSteps("50 seconds", "10 seconds")
      const touched = yield* call(client, "POST", `/api/sandbox/${a.id}/last-activity`)
      assert.deepStrictEqual([touched.status, touched.body], [201, undefined])
      yield* advanceInSteps("50 seconds", "10 seconds")
      assert.strictEqual(yield* state(client, a.id), "started")
      yield* advanceInSteps("20 seconds", "10 seconds")
      assert.strictEqual(yield* state(client, a.id), "stopped")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a sandbox that fails to start is in error, recoverable, and recover starts it again", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const { id } = yield* createStarted(client)
      assert.strictEqual((yield* call(client, "POST", `/api/sandbox/${id}/recover`)).status, 400)
      yield* call(client, "POST", `/api/sandbox/${id}/stop`)
      yield* advance("1 second")
      const tmp = NodePath.join(dir, "sandboxes", id, "tmp")
      yield* Effect.promise(async () => {
        await NodeFs.rm(tmp, { recursive: true })
        await NodeFs.writeFile(tmp, "not a directory")
      })
      yield* call(client, "POST", `/api/sandbox/${id}/start`)
      yield* advance("1 second")
      const failed = asSandbox(yield* call(client, "GET", `/api/sandbox/${id}`))
      assert.deepStrictEqual([failed.state, failed.recoverable], ["error", true])
      assert.include(failed.errorReason, "cannot create the sandbox's directories")
      const refused = yield* call(client, "POST", `/api/sandbox/${id}/start`)
      assert.deepStrictEqual([refused.status, asApiError(refused).message], [400, "Sandbox is in an errored state"])

      yield* Effect.promise(() => NodeFs.rm(tmp))
      const recovering = asSandbox(yield* call(client, "POST", `/api/sandbox/${id}/recover`))
      assert.strictEqual(recovering.state, "starting")
      yield* advance("1 second")
      const recovered = asSandbox(yield* call(client, "GET", `/api/sandbox/${id}`))
      assert.deepStrictEqual(
        [recovered.state, recovered.recoverable, recovered.errorReason],
        ["started", false, undefined]
      )
    }).pipe(Effect.provide(clientLayer))
  )
})
