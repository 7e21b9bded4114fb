import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as LocalConfig from "../src/LocalConfig.js"
import * as Store from "../src/internal/store.js"
import { record } from "./records.js"
import { tempDir } from "./utils.js"

/** A store over `dir`, open for the life of `scope`. */
const open = (dir: string, scope: Scope.Scope) =>
  Layer.buildWithScope(Store.layer.pipe(Layer.provide(LocalConfig.layer({ dataDir: dir }))), scope).pipe(
    Effect.map(Context.get(Store.SandboxStore))
  )

describe("sandbox store", () => {
  it.scoped("reads what it wrote, and a store reopened over the same directory reads the same, in the same order", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* Scope.make()
      const store = yield* open(dir, first)
      for (const id of ["c", "a", "b", "d"]) yield* store.put(record(id, `name-${id}`))
      // an update keeps its place; a removed sandbox is gone from every read
      yield* store.put(record("a", "name-a", "stopped"))
      yield* store.remove("d")
      const seen = (yield* store.all).map((r) => [r.id, r.state])
      assert.deepStrictEqual(seen, [
        ["c", "started"],
        ["a", "stopped"],
        ["b", "started"]
      ])
      assert.deepStrictEqual(yield* store.get("a"), Option.some(record("a", "name-a", "stopped")))
      assert.isTrue(Option.isNone(yield* store.get("d")))
      yield* Scope.close(first, Exit.void)

      const second = yield* Scope.make()
      const reopened = yield* open(dir, second)
      assert.deepStrictEqual(yield* reopened.all, [
        record("c", "name-c"),
        record("a", "name-a", "stopped"),
        record("b", "name-b")
      ])
      assert.isTrue(Option.isNone(yield* reopened.get("d")))
      yield* Scope.close(second, Exit.void)
    })
  )

  it.scoped(
    "its database and journal files are readable by their owner only, also when an older server made them 0644",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const database = NodePath.join(dir, "daytona.db")
        yield* Effect.promise(() => NodeFs.writeFile(database, "", { mode: 0o644 }))
        yield* Effect.promise(() => NodeFs.chmod(database, 0o644))
        const scope = yield* Scope.make()
        const store = yield* open(dir, scope)
        yield* store.put(record("a", "name-a"))
        const files = (yield* Effect.promise(() => NodeFs.readdir(dir))).filter((name) => name.startsWith("daytona.db"))
        assert.include(files, "daytona.db")
        for (const name of files) {
          const mode = (yield* Effect.promise(() => NodeFs.stat(NodePath.join(dir, name)))).mode & 0o777
          assert.strictEqual(mode.toString(8), "600", name)
        }
        yield* Scope.close(scope, Exit.void)
      })
  )
})
