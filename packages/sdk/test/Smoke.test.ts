import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as Daytona from "../src/Daytona.js"
import { errorBody, layerWith, makeFake, sandboxDto } from "./support/FakeHttp.js"

describe("smoke", () => {
  it.effect("create waits until started", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((req, i) =>
        req.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "creating" }) }
          : { status: 200, body: sandboxDto({ state: i < 3 ? "creating" : "started" }) }
      )
      const fiber = yield* Effect.fork(
        Effect.flatMap(Daytona.Daytona, (d) => d.create({ language: "python" })).pipe(
          Effect.provide(layerWith(fake.client))
        )
      )
      yield* TestClock.adjust("1 second")
      const sandbox = yield* Fiber.join(fiber)
      assert.strictEqual(sandbox.state, "started")
      const reqs = yield* fake.requests
      assert.strictEqual(reqs[0]!.path, "/api/sandbox")
      assert.deepStrictEqual(
        (reqs[0]!.body as { labels: Record<string, string> }).labels["code-toolbox-language"],
        "python"
      )
      assert.strictEqual(reqs.length, 4)
    })
  )

  it.effect("404 maps to NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 404,
        body: errorBody(404, "Not Found", "Sandbox with ID or name x not found")
      }))
      const error = yield* Effect.flatMap(Daytona.Daytona, (d) => d.get("x")).pipe(
        Effect.provide(layerWith(fake.client)),
        Effect.flip
      )
      assert.strictEqual(error._tag, "NotFoundError")
      assert.include(error.message, "Sandbox with ID or name x not found")
    })
  )
})
