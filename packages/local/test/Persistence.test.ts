import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { advance, asSandbox, call, clientLayer, createStarted, serve, state, tempDir } from "./utils.js"

describe("persistence", () => {
  it.scoped("a restart keeps every sandbox; running ones come back stopped; delete removes the directory", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* Scope.make()
      const { client } = yield* serve(dir).pipe(Scope.extend(first))
      const running = yield* createStarted(client, { name: "running", labels: { k: "v" } })
      const stopped = yield* createStarted(client, { name: "stopped" })
      yield* call(client, "POST", `/api/sandbox/${stopped.id}/stop`)
      yield* advance("1 second")
      yield* call(client, "POST", `/api/sandbox/${stopped.id}/autostop/42`)
      yield* Scope.close(first, Exit.void)

      const { client: again } = yield* serve(dir)
      const back = asSandbox(yield* call(again, "GET", "/api/sandbox/running"))
      assert.deepStrictEqual([back.id, back.state, back.labels], [running.id, "stopped", { k: "v" }])
      const other = asSandbox(yield* call(again, "GET", `/api/sandbox/${stopped.id}`))
      assert.deepStrictEqual([other.state, other.autoStopInterval], ["stopped", 42])
      yield* call(again, "POST", `/api/sandbox/${running.id}/start`)
      yield* advance("1 second")
      assert.strictEqual(yield* state(again, running.id), "started")

      const root = NodePath.join(dir, "sandboxes", stopped.id)
      assert.isTrue(
        yield* Effect.promise(() =>
          NodeFs.stat(root).then(
            () => true,
            () => false
          )
        )
      )
      yield* call(again, "DELETE", `/api/sandbox/${stopped.id}`)
      yield* advance("1 second")
      assert.strictEqual((yield* call(again, "GET", `/api/sandbox/${stopped.id}`)).status, 404)
      assert.isFalse(
        yield* Effect.promise(() =>
          NodeFs.stat(root).then(
            () => true,
            () => false
          )
        )
      )
    }).pipe(Effect.provide(clientLayer))
  )
})
