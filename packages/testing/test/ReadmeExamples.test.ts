import { DaytonaTest } from "@effect-daytona/testing"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import { assert, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"

// The program under test: written for real Daytona, unchanged in tests.
const answer = Effect.gen(function* () {
  const daytona = yield* Daytona.Daytona
  const sandbox = yield* daytona.create({ language: "python" })
  const run = yield* sandbox.process.executeCommand("python3 main.py")
  return run.result.trim()
})

it.effect("a scripted command", () =>
  Effect.gen(function* () {
    yield* DaytonaTest.scriptCommand("python3 main.py", { stdout: "42\n" })
    assert.strictEqual(yield* answer, "42")
  }).pipe(Effect.provide(DaytonaTest.layer()))
)

it.effect("a sandbox that takes 30 s to start", () =>
  Effect.gen(function* () {
    yield* DaytonaTest.scriptCommand("python3 main.py", { stdout: "42\n" })
    const fiber = yield* Effect.fork(answer)
    yield* TestClock.adjust("30 seconds") // instant in real time
    assert.strictEqual(yield* Fiber.join(fiber), "42")
  }).pipe(Effect.provide(DaytonaTest.layer({ timings: { create: "30 seconds" } })))
)

it.effect("a 429 is retried after Retry-After; a 503 on a command is not replayed", () =>
  Effect.gen(function* () {
    yield* DaytonaTest.failNext({ operation: "createSandbox" }, { status: 429, headers: { "retry-after": "2" } })
    yield* DaytonaTest.failNext({ operation: "executeCommand" }, { status: 503 })
    const fiber = yield* Effect.fork(Effect.flip(answer))
    yield* TestClock.adjust("2 seconds")
    const error = yield* Fiber.join(fiber)
    assert.strictEqual(error._tag, "UnexpectedResponseError") // the command may have run: no replay
    const sent = yield* DaytonaTest.requests
    assert.deepStrictEqual(
      sent.map((request) => [request.operation, request.status]),
      [
        ["createSandbox", 429],
        ["createSandbox", 200],
        ["executeCommand", 503]
      ]
    )
  }).pipe(Effect.provide(DaytonaTest.layer()))
)

it.effect("a sandbox that fails while starting", () =>
  Effect.gen(function* () {
    const daytona = yield* Daytona.Daytona
    const fiber = yield* Effect.fork(Effect.flip(daytona.create({ name: "job" })))
    yield* TestClock.adjust("1 second")
    yield* DaytonaTest.setSandboxState("job", "error", { errorReason: "disk full" })
    yield* TestClock.adjust("1 second")
    const error = yield* Fiber.join(fiber)
    assert.strictEqual(error._tag, "SandboxFailedError")
  }).pipe(Effect.provide(DaytonaTest.layer({ timings: { create: "30 seconds" }, startWait: 0 })))
)
