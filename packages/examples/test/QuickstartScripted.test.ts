import * as Daytona from "@effect-daytona/sdk/Daytona"
import { DaytonaTest } from "@effect-daytona/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { quickstart } from "../src/workflows/quickstart.js"

/** Every sandbox the server still lists for a run, in any state. */
const leftOf = (runId: string) =>
  Effect.flatMap(Daytona.Daytona, (daytona) => daytona.listPage({ labels: { run: runId } })).pipe(
    Effect.map((page) => page.items.map((sandbox) => `${sandbox.id} ${sandbox.state}`))
  )

const scriptPython = Effect.all([
  DaytonaTest.scriptCommand(/^python3 \/home\/daytona\/main\.py$/, { stdout: "hello from python 3.12.0\n" }),
  DaytonaTest.scriptCommand(/print\(6 \* 7\)/, { stdout: "42\n" })
])

describe("the quickstart workflow under the testing kit (no process, TestClock)", () => {
  it.effect("runs every step against Daytona-like timings and leaves nothing behind", () =>
    Effect.gen(function* () {
      yield* scriptPython
      const runId = "timed"
      const fiber = yield* Effect.fork(Effect.scoped(quickstart(runId)))
      // Creates, starts, stops and archives each take seconds on the server; only the clock moves.
      let seconds = 0
      while (fiber.unsafePoll() === null && seconds < 60) {
        yield* TestClock.adjust("1 second")
        seconds++
      }
      yield* Fiber.join(fiber)
      // create 3 s + stop 2 s + start 2 s + stop 2 s + archive 5 s, each waited for on the clock.
      assert.isAtLeast(seconds, 14)
      assert.isAtMost(seconds, 20)
      assert.deepStrictEqual(yield* leftOf(runId), [])
      const commands = (yield* DaytonaTest.commands).map((run) => run.command)
      assert.isTrue(commands.some((command) => command === "python3 /home/daytona/main.py"))
      const lifecycle = (yield* DaytonaTest.requests)
        .filter((request) => /^(start|stop|archive|delete)Sandbox$/.test(request.operation ?? ""))
        .map((request) => `${request.operation} ${request.status}`)
      // The workflow deletes its sandbox; the scope's own delete afterwards finds it gone (404 is done).
      assert.deepStrictEqual(lifecycle, [
        "stopSandbox 200",
        "startSandbox 200",
        "stopSandbox 200",
        "archiveSandbox 200",
        "deleteSandbox 200",
        "deleteSandbox 404"
      ])
    }).pipe(
      Effect.provide(
        DaytonaTest.layer({
          timings: { create: "3 seconds", start: "2 seconds", stop: "2 seconds", archive: "5 seconds" }
        })
      )
    )
  )

  it.effect("a 429 on stop is retried after its Retry-After; a 503 on stop is reconciled; the scope cleans up", () =>
    Effect.gen(function* () {
      yield* scriptPython
      yield* DaytonaTest.failNext({ operation: "stopSandbox" }, { status: 429, headers: { "retry-after": "3" } })
      const fiber = yield* Effect.fork(Effect.scoped(quickstart("throttled")))
      for (let i = 0; i < 30; i++) yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      const stops = (yield* DaytonaTest.requests).filter((request) => request.operation === "stopSandbox")
      assert.deepStrictEqual(
        stops.map((request) => request.status),
        [429, 200, 200]
      )
      assert.isAtLeast(stops[1]!.sentAt - stops[0]!.sentAt, 3000, "waited for Retry-After")
      assert.deepStrictEqual(yield* leftOf("throttled"), [])

      // A 503 may come before or after the server acted: a stop is convergent, so the SDK reads the
      // sandbox, sees it still started, and asks again; the run completes and nothing is left.
      const before = (yield* DaytonaTest.requests).length
      yield* DaytonaTest.failNext({ operation: "stopSandbox" }, { status: 503 })
      const again = yield* Effect.fork(Effect.scoped(quickstart("unavailable")))
      for (let i = 0; i < 30; i++) yield* TestClock.adjust("1 second")
      yield* Fiber.join(again)
      const sent = (yield* DaytonaTest.requests).slice(before)
      const firstStop = sent.findIndex((request) => request.operation === "stopSandbox")
      assert.deepStrictEqual(
        sent.slice(firstStop, firstStop + 3).map((request) => `${request.operation} ${request.status}`),
        ["stopSandbox 503", "getSandbox 200", "stopSandbox 200"]
      )
      assert.deepStrictEqual(yield* leftOf("unavailable"), [])
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("a script that fails stops the run, and the scope deletes the sandbox", () =>
    Effect.gen(function* () {
      yield* DaytonaTest.scriptCommand(/main\.py/, { stderr: "Traceback: boom\n", exitCode: 3 })
      const exit = yield* Effect.exit(Effect.scoped(quickstart("failing")))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(exit)
      assert.strictEqual(error instanceof Error ? error.message : String(error), "the script exited with 3")
      assert.deepStrictEqual(yield* leftOf("failing"), [])
      const deletes = (yield* DaytonaTest.requests).filter((request) => request.operation === "deleteSandbox")
      assert.strictEqual(deletes.length, 1)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("a sandbox that fails while restarting ends the run with SandboxFailedError and is deleted", () =>
    Effect.gen(function* () {
      yield* scriptPython
      const fiber = yield* Effect.fork(Effect.scoped(quickstart("broken")))
      // Step until the workflow has asked for the restart, then break the sandbox as a runner would.
      let started = false
      for (let i = 0; i < 100 && !started; i++) {
        yield* TestClock.adjust("100 millis")
        started = (yield* DaytonaTest.requests).some((request) => request.operation === "startSandbox")
      }
      assert.isTrue(started, "the workflow reached its restart")
      const [sandbox] = (yield* Daytona.Daytona.pipe(
        Effect.flatMap((daytona) => daytona.listPage({ labels: { run: "broken" } }))
      )).items
      yield* DaytonaTest.setSandboxState(sandbox!.id, "error", { errorReason: "runner lost" })
      for (let i = 0; i < 20; i++) yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual("_tag" in error ? error._tag : error.message, "SandboxFailedError")
      assert.deepStrictEqual(yield* leftOf("broken"), [])
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { start: "10 seconds" } })))
  )
})
