import { DaytonaTest } from "../src/index.js"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import { assert, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

it.effect("a file uploaded through the in-memory server downloads back unchanged", () =>
  Effect.gen(function* () {
    const daytona = yield* Daytona.Daytona
    const sandbox = yield* daytona.create()
    yield* sandbox.fs.uploadFile("/home/daytona/a.txt", "hello")
    const bytes = yield* Stream.runCollect(sandbox.fs.downloadFile("/home/daytona/a.txt"))
    const text = new TextDecoder().decode(Buffer.concat(Array.from(bytes)))
    assert.strictEqual(text, "hello")
  }).pipe(Effect.provide(DaytonaTest.layer()))
)
