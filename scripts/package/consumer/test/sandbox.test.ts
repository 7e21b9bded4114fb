/**
 * The consumer smoke test's `@effect/vitest` test: the program's kind of workflow under
 * `@effect-daytona/testing`'s layer (the local server's app in memory, driven by `TestClock`).
 */
import { Daytona } from "@effect-daytona/sdk"
import { DaytonaTest } from "@effect-daytona/testing"
import { assert, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"

const answer = Effect.gen(function* () {
  const daytona = yield* Daytona.Daytona
  const sandbox = yield* daytona.create({ language: "python" })
  const run = yield* sandbox.process.executeCommand("python3 main.py")
  return run.result.trim()
})

it.effect("a sandbox that takes 30 s to start answers a scripted command", () =>
  Effect.gen(function* () {
    yield* DaytonaTest.scriptCommand("python3 main.py", { stdout: "42\n" })
    const fiber = yield* Effect.fork(answer)
    yield* TestClock.adjust("30 seconds")
    assert.strictEqual(yield* Fiber.join(fiber), "42")
  }).pipe(Effect.provide(DaytonaTest.layer({ timings: { create: "30 seconds" } })))
)
