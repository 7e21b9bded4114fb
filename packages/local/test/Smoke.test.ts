import { assert, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { advance, call, clientLayer, serve, tempDir } from "./utils.js"

it.scoped("smoke", () =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const { client } = yield* serve(dir)
    const created = yield* call(client, "POST", "/api/sandbox", { labels: { a: "b" } })
    console.log(created)
    yield* advance("2 seconds")
    const got = yield* call(client, "GET", `/api/sandbox/${created.body.id}`)
    console.log(got)
    const exec = yield* call(client, "POST", `/toolbox/${created.body.id}/process/execute`, { command: "echo hi" })
    console.log(exec)
    assert.strictEqual(got.body.state, "started")
  }).pipe(Effect.provide(clientLayer))
)
