import { assert, describe, it } from "@effect/vitest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Daytona from "../src/Daytona.js"
import { DaytonaClient } from "../src/DaytonaClient.js"
import type { SandboxFailedError, WaitTimeoutError } from "../src/DaytonaError.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { SandboxDto } from "../src/SandboxDto.js"
import type { SandboxState } from "../src/SandboxState.js"
import * as Wait from "../src/Wait.js"
import { apiKey, apiUrl, type Handler, layerWith, makeFake, sandboxDto } from "./support/FakeHttp.js"

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/** An effect that records the TestClock time of each run and yields the run's index. */
const recorder = Effect.gen(function* () {
  const times = yield* Ref.make<ReadonlyArray<number>>([])
  const tick = Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Ref.modify(times, (list) => [list.length, [...list, now]] as const)
  )
  return { tick, times: Ref.get(times), count: Effect.map(Ref.get(times), (list) => list.length) }
})

/** The poll times the default cadence should produce up to `until` ms. */
const expectedDefaultTimes = (until: number): ReadonlyArray<number> => {
  const times: Array<number> = []
  let t = 0
  for (let i = 0; i <= 50; i++) {
    times.push(t)
    t += 100
  }
  t = 5000
  for (let n = 0; ; n++) {
    t += Math.min(110 * Math.pow(1.1, n), 1000)
    if (t > until + 1e-6) break
    times.push(t)
  }
  return times
}

const assertTimes = (actual: ReadonlyArray<number>, expected: ReadonlyArray<number>) => {
  assert.strictEqual(actual.length, expected.length, `poll count: ${JSON.stringify(actual.slice(-3))}`)
  actual.forEach((time, i) => assert.closeTo(time, expected[i]!, 1e-3, `poll #${i}`))
}

/** GET /sandbox/sb-1 through the real client, decoded with the real schema. */
const getSandbox = Effect.flatMap(DaytonaClient, (client) =>
  client.json(HttpClientRequest.get("/sandbox/sb-1"), SandboxDto)
)

/** A handler whose sandbox state the test can change while a wait runs. */
const mutableSandbox = (initial: SandboxState) => {
  let state: SandboxState = initial
  const handler: Handler = () => ({ status: 200, body: sandboxDto({ state }) })
  return { handler, set: (next: SandboxState) => (state = next) }
}

/** A client whose requests never answer and that reports when a request is aborted. */
const hangingClient = Effect.gen(function* () {
  const started = yield* Ref.make(0)
  const aborted = yield* Ref.make(0)
  const client = HttpClient.make(() =>
    Ref.update(started, (n) => n + 1).pipe(
      Effect.zipRight(Effect.never),
      Effect.onInterrupt(() => Ref.update(aborted, (n) => n + 1))
    )
  )
  return { client, started: Ref.get(started), aborted: Ref.get(aborted) }
})

const hangingLayer = (client: HttpClient.HttpClient) =>
  Daytona.layer({
    apiKey: Redacted.make(apiKey),
    apiUrl,
    retryPolicy: RetryPolicy.none,
    requestTimeout: "5 minutes"
  }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))

/** Waits for started the way the SDK's operations do: poll, track, one deadline. */
const waitStarted = (deadline: Duration.Duration) =>
  Effect.gen(function* () {
    const tracker = yield* Wait.tracker("sb-1")
    return yield* Wait.poll(Effect.flatMap(getSandbox, tracker.observe), { decide: Wait.untilStarted }).pipe(
      Wait.withDeadline(deadline, tracker.timeoutError({ operation: "start", awaited: "started", timeout: deadline }))
    )
  })

// ---------------------------------------------------------------------------------------------

describe("Wait.defaultSchedule cadence", () => {
  it.effect("polls every 100 ms for the first 5 seconds (51 polls at 0, 100, …, 5000)", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(Wait.poll(rec.tick, { decide: () => Wait.keepPolling }))
      yield* TestClock.adjust("999 millis")
      assert.strictEqual(yield* rec.count, 10)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* rec.count, 11)
      yield* TestClock.adjust("4 seconds")
      assertTimes(yield* rec.times, expectedDefaultTimes(5000))
      assert.strictEqual(yield* rec.count, 51)
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("after 5 s each pause grows ×1.1 from 110 ms", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(Wait.poll(rec.tick, { decide: () => Wait.keepPolling }))
      yield* TestClock.adjust("5109 millis")
      assert.strictEqual(yield* rec.count, 51)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* rec.count, 52) // 5110
      yield* TestClock.adjust("120 millis")
      assert.strictEqual(yield* rec.count, 52)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* rec.count, 53) // 5231
      yield* TestClock.adjust("10 seconds")
      assertTimes(yield* rec.times, expectedDefaultTimes(15_231))
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("pauses are capped at 1 second", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(Wait.poll(rec.tick, { decide: () => Wait.keepPolling }))
      yield* TestClock.adjust("2 minutes")
      const times = yield* rec.times
      assertTimes(times, expectedDefaultTimes(120_000))
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      assert.isAtMost(Math.max(...gaps), 1000 + 1e-3)
      // The last minute is polled exactly once a second.
      for (const gap of gaps.slice(-60)) assert.closeTo(gap, 1000, 1e-3)
      yield* Fiber.interrupt(fiber)
    })
  )
})

describe("Wait.poll", () => {
  it.effect("Done ends the wait with its value; decide sees every result", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const seen: Array<number> = []
      const fiber = yield* Effect.fork(
        Wait.poll(rec.tick, {
          decide: (i) => {
            seen.push(i)
            return i === 3 ? Wait.done(`done at ${i}`) : Wait.keepPolling
          }
        })
      )
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Fiber.join(fiber), "done at 3")
      assert.deepStrictEqual(seen, [0, 1, 2, 3])
      assert.deepStrictEqual(yield* rec.times, [0, 100, 200, 300])
    })
  )

  it.effect("Done on the first result does not sleep", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const value = yield* Wait.poll(rec.tick, { decide: (i) => Wait.done(i) })
      assert.strictEqual(value, 0)
      assert.deepStrictEqual(yield* rec.times, [0])
    })
  )

  it.effect("Fail ends the wait with its error", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(
        Wait.poll(rec.tick, {
          decide: (i) => (i === 2 ? Wait.fail({ _tag: "Boom", at: i } as const) : Wait.keepPolling)
        })
      )
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      assert.deepStrictEqual(exit, Exit.fail({ _tag: "Boom", at: 2 } as const))
      assert.strictEqual(yield* rec.count, 3)
    })
  )

  it.effect("an error of the polled effect ends the wait", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(
        Wait.poll(
          Effect.flatMap(rec.tick, (i) => (i === 1 ? Effect.fail("request failed" as const) : Effect.succeed(i))),
          { decide: () => Wait.keepPolling }
        )
      )
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail("request failed" as const))
      assert.strictEqual(yield* rec.count, 2)
    })
  )

  it.effect("a custom schedule sets the cadence", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(
        Wait.poll(rec.tick, { decide: () => Wait.keepPolling, schedule: Schedule.spaced("250 millis") })
      )
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* rec.times, [0, 250, 500, 750, 1000])
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("when a custom schedule ends, polling goes on once a second", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(
        Wait.poll(rec.tick, {
          decide: () => Wait.keepPolling,
          schedule: Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(2)))
        })
      )
      yield* TestClock.adjust("2200 millis")
      assert.deepStrictEqual(yield* rec.times, [0, 100, 200, 1200, 2200])
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("a state change is noticed within one poll interval (early and late in the wait)", () =>
    Effect.gen(function* () {
      for (const [flipAt, interval] of [
        [1_000, 100],
        [30_000, 1_000]
      ] as const) {
        const sandbox = mutableSandbox("starting")
        const fake = yield* makeFake(sandbox.handler)
        const fiber = yield* Effect.fork(
          Wait.poll(getSandbox, { decide: Wait.untilStarted }).pipe(
            Effect.zip(Clock.currentTimeMillis),
            Effect.provide(layerWith(fake.client))
          )
        )
        yield* TestClock.adjust(Duration.millis(flipAt))
        const before = (yield* fake.requests).length
        const flippedAt = yield* TestClock.currentTimeMillis
        sandbox.set("started")
        yield* TestClock.adjust(Duration.millis(interval))
        const [result, finishedAt] = yield* Fiber.join(fiber)
        assert.strictEqual(result.state, "started")
        assert.isAtLeast(finishedAt, flippedAt)
        assert.isAtMost(finishedAt - flippedAt, interval, `noticed ${finishedAt - flippedAt} ms after the change`)
        // Exactly one more request (the one that saw the change), or none when it raced the flip.
        assert.isAtMost((yield* fake.requests).length - before, 1)
      }
    })
  )

  it.effect("interrupting a wait stops polling: no request after the interruption", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(mutableSandbox("starting").handler)
      const fiber = yield* Effect.fork(
        Wait.poll(getSandbox, { decide: Wait.untilStarted }).pipe(Effect.provide(layerWith(fake.client)))
      )
      yield* TestClock.adjust("2 seconds")
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      const count = (yield* fake.requests).length
      assert.strictEqual(count, 21)
      yield* TestClock.adjust("5 minutes")
      assert.strictEqual((yield* fake.requests).length, count)
    })
  )

  it.effect("interrupting a wait aborts the request in flight", () =>
    Effect.gen(function* () {
      const hanging = yield* hangingClient
      const fiber = yield* Effect.fork(
        Wait.poll(getSandbox, { decide: Wait.untilStarted }).pipe(Effect.provide(hangingLayer(hanging.client)))
      )
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* hanging.started, 1)
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(yield* hanging.aborted, 1)
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual(yield* hanging.started, 1)
    })
  )
})

describe("Wait.withDeadline", () => {
  it.effect("fails exactly at the deadline with the tracker's WaitTimeoutError and the last state seen", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, i) => ({
        status: 200,
        body: sandboxDto({ state: i < 5 ? "creating" : "starting" })
      }))
      const fiber = yield* Effect.fork(
        Effect.either(waitStarted(Duration.seconds(60))).pipe(Effect.provide(layerWith(fake.client)))
      )
      yield* TestClock.adjust("59900 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "failed before the deadline")
      yield* TestClock.adjust("100 millis")
      const result = yield* Fiber.join(fiber)
      if (result._tag === "Right") return assert.fail("expected a timeout")
      const error = result.left
      if (error._tag !== "WaitTimeoutError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.operation, "start")
      assert.strictEqual(error.resourceId, "sb-1")
      assert.strictEqual(error.awaited, "started")
      assert.strictEqual(error.lastState, "starting")
      assert.isTrue(Duration.equals(error.timeout, Duration.seconds(60)))
      assert.strictEqual(error.message, "start sb-1: not started within 1m (last state seen: starting)")
      // No request after the deadline.
      const count = (yield* fake.requests).length
      yield* TestClock.adjust("5 minutes")
      assert.strictEqual((yield* fake.requests).length, count)
    })
  )

  it.effect("succeeds when the state arrives before the deadline", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, i) => ({
        status: 200,
        body: sandboxDto({ state: i < 20 ? "starting" : "started" })
      }))
      const fiber = yield* Effect.fork(waitStarted(Duration.seconds(3)).pipe(Effect.provide(layerWith(fake.client))))
      yield* TestClock.adjust("2 seconds")
      const sandbox = yield* Fiber.join(fiber)
      assert.strictEqual(sandbox.state, "started")
      assert.strictEqual((yield* fake.requests).length, 21)
    })
  )

  it.effect("the deadline interrupts a request in flight and reports no state when none was seen", () =>
    Effect.gen(function* () {
      const hanging = yield* hangingClient
      const fiber = yield* Effect.fork(
        Effect.either(waitStarted(Duration.seconds(10))).pipe(Effect.provide(hangingLayer(hanging.client)))
      )
      yield* TestClock.adjust("9999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const result = yield* Fiber.join(fiber)
      if (result._tag === "Right") return assert.fail("expected a timeout")
      const error = result.left
      if (error._tag !== "WaitTimeoutError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.resourceId, "sb-1")
      assert.isUndefined(error.lastState)
      assert.strictEqual(error.message, "start sb-1: not started within 10s (no state seen yet)")
      assert.strictEqual(yield* hanging.started, 1)
      assert.strictEqual(yield* hanging.aborted, 1)
    })
  )

  it.effect("Duration.infinity means no deadline", () =>
    Effect.gen(function* () {
      const rec = yield* recorder
      const fiber = yield* Effect.fork(
        Wait.poll(rec.tick, { decide: (i) => (i === 600 ? Wait.done(i) : Wait.keepPolling) }).pipe(
          Wait.withDeadline(Duration.infinity, Effect.succeed("timed out" as const))
        )
      )
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* Fiber.join(fiber), 600)
      const times = yield* rec.times
      assert.isAbove(times[times.length - 1]!, 500_000)
    })
  )

  it.effect("data-first form; the error of self passes through before the deadline", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        Wait.withDeadline(
          Effect.zipRight(Effect.sleep("1 second"), Effect.fail("inner" as const)),
          Duration.seconds(5),
          Effect.succeed("deadline" as const)
        )
      )
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail("inner" as const))
    })
  )

  it.effect("data-first form fails with onTimeout's value at the deadline, evaluated then", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(
        Wait.withDeadline(
          Effect.never,
          Duration.seconds(5),
          Effect.map(Clock.currentTimeMillis, (now) => `at ${now}`)
        )
      )
      yield* TestClock.adjust("4999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail("at 5000"))
    })
  )

  it.effect("a tracker without a resource id or observation reports neither", () =>
    Effect.gen(function* () {
      const tracker = yield* Wait.tracker()
      assert.isUndefined(yield* tracker.last)
      const error: WaitTimeoutError = yield* tracker.timeoutError({
        operation: "create",
        awaited: "started",
        timeout: Duration.seconds(60)
      })
      assert.isUndefined(error.resourceId)
      assert.isUndefined(error.lastState)
      assert.strictEqual(error.message, "create: not started within 1m (no state seen yet)")
      yield* tracker.observe({ id: "sb-9", state: "pending_build" })
      assert.deepStrictEqual(yield* tracker.last, { id: "sb-9", state: "pending_build" })
      const later = yield* tracker.timeoutError({
        operation: "create",
        awaited: "started",
        timeout: Duration.seconds(60)
      })
      assert.strictEqual(later.resourceId, "sb-9")
      assert.strictEqual(later.lastState, "pending_build")
    })
  )
})

describe("Wait.deadlineFrom", () => {
  const invalid: ReadonlyArray<readonly [string, Duration.DurationInput, string]> = [
    ["0", 0, "got 0"],
    ["-1", -1, "got -1"],
    ["-5000", -5000, "got -5000"],
    ["NaN", Number.NaN, "got NaN"],
    ['"-5 seconds"', "-5 seconds", "got -5 seconds"],
    ['"0 seconds"', "0 seconds", "got zero"],
    ["Duration.zero", Duration.zero, "got zero"],
    ["0n", 0n, "got 0"],
    ["-1n", -1n, "got -1"],
    ["[-1, 0]", [-1, 0], "got [-1, 0]"],
    ["[0, 0]", [0, 0], "got zero"],
    ['"banana"', "banana" as Duration.DurationInput, "got banana"]
  ]
  for (const [name, input, got] of invalid) {
    it.effect(`rejects ${name}`, () =>
      Effect.gen(function* () {
        const result = yield* Effect.either(Wait.deadlineFrom("timeout", input, Duration.seconds(60)))
        if (result._tag === "Right") return assert.fail(`accepted ${name} as ${Duration.format(result.right)}`)
        assert.strictEqual(result.left._tag, "ValidationError")
        assert.strictEqual(result.left.field, "timeout")
        assert.strictEqual(
          result.left.message,
          `timeout must be a positive duration (Duration.infinity for none), ${got}`
        )
        assert.isUndefined(result.left.status)
      })
    )
  }

  const valid: ReadonlyArray<readonly [string, Duration.DurationInput, Duration.Duration]> = [
    ["1 (ms)", 1, Duration.millis(1)],
    ["90000 (ms)", 90_000, Duration.seconds(90)],
    ['"5 seconds"', "5 seconds", Duration.seconds(5)],
    ['"2 minutes"', "2 minutes", Duration.minutes(2)],
    ["Duration.seconds(30)", Duration.seconds(30), Duration.seconds(30)],
    ["Duration.infinity", Duration.infinity, Duration.infinity],
    ["[1, 0] (hrtime)", [1, 0], Duration.seconds(1)],
    ["5n (nanos)", 5n, Duration.nanos(5n)]
  ]
  for (const [name, input, expected] of valid) {
    it.effect(`accepts ${name}`, () =>
      Effect.gen(function* () {
        const duration = yield* Wait.deadlineFrom("timeout", input, Duration.seconds(60))
        assert.isTrue(
          Duration.equals(duration, expected),
          `${Duration.format(duration)} ≠ ${Duration.format(expected)}`
        )
      })
    )
  }

  it.effect("undefined takes the fallback", () =>
    Effect.gen(function* () {
      const duration = yield* Wait.deadlineFrom("timeout", undefined, Duration.seconds(42))
      assert.isTrue(Duration.equals(duration, Duration.seconds(42)))
    })
  )
})

describe("Wait decisions", () => {
  const sandboxWait = <E>(
    decide: (s: SandboxDto) => Wait.Decision<SandboxDto, E>,
    states: ReadonlyArray<Record<string, unknown>>
  ) =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, i) => ({
        status: 200,
        body: sandboxDto(states[Math.min(i, states.length - 1)])
      }))
      const fiber = yield* Effect.fork(
        Effect.either(Wait.poll(getSandbox, { decide })).pipe(Effect.provide(layerWith(fake.client)))
      )
      yield* TestClock.adjust("10 seconds")
      return { result: yield* Fiber.join(fiber), requests: (yield* fake.requests).length }
    })

  const expectFailed = (result: { readonly _tag: "Left"; readonly left: unknown } | { readonly _tag: "Right" }) => {
    if (result._tag === "Right") return assert.fail("expected SandboxFailedError")
    const error = result.left as SandboxFailedError
    assert.strictEqual(error._tag, "SandboxFailedError")
    return error
  }

  it.effect("untilStarted fails on build_failed with errorReason and recoverable", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* sandboxWait(Wait.untilStarted, [
        { state: "pending_build" },
        { state: "building_snapshot" },
        { state: "build_failed", errorReason: "failed to build image: exit code 1", recoverable: false }
      ])
      const error = expectFailed(result)
      assert.strictEqual(error.sandboxId, "sb-1")
      assert.strictEqual(error.state, "build_failed")
      assert.strictEqual(error.errorReason, "failed to build image: exit code 1")
      assert.strictEqual(error.recoverable, false)
      assert.strictEqual(error.message, "sandbox sb-1 is build_failed: failed to build image: exit code 1")
      assert.strictEqual(requests, 3)
    })
  )

  it.effect("untilStarted fails on error, recoverable: true hints at recover", () =>
    Effect.gen(function* () {
      const { result } = yield* sandboxWait(Wait.untilStarted, [
        { state: "starting" },
        { state: "error", errorReason: "disk full", recoverable: true }
      ])
      const error = expectFailed(result)
      assert.strictEqual(error.state, "error")
      assert.strictEqual(error.errorReason, "disk full")
      assert.strictEqual(error.recoverable, true)
      assert.strictEqual(error.message, "sandbox sb-1 is error: disk full (recoverable: call recover)")
    })
  )

  it.effect("untilStarted: error without a reason", () =>
    Effect.gen(function* () {
      const { result } = yield* sandboxWait(Wait.untilStarted, [
        { state: "error", errorReason: null, recoverable: null }
      ])
      const error = expectFailed(result)
      assert.isUndefined(error.errorReason)
      assert.isUndefined(error.recoverable)
      assert.strictEqual(error.message, "sandbox sb-1 is error: no reason given")
    })
  )

  it.effect("untilStarted keeps polling through unknown states and ends at started", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* sandboxWait(Wait.untilStarted, [
        { state: "creating" },
        { state: "some_future_state" },
        { state: "starting" },
        { state: "started" }
      ])
      if (result._tag === "Left") return assert.fail(`got ${result.left._tag}`)
      assert.strictEqual(result.right.state, "started")
      assert.strictEqual(requests, 4)
    })
  )

  it.effect("untilStopped treats destroyed as done (ephemeral sandbox)", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* sandboxWait(Wait.untilStopped, [
        { state: "stopping" },
        { state: "destroyed" }
      ])
      if (result._tag === "Left") return assert.fail(`got ${result.left._tag}`)
      assert.strictEqual(result.right.state, "destroyed")
      assert.strictEqual(requests, 2)
    })
  )

  it.effect("untilStopped ends at stopped and fails on error / build_failed", () =>
    Effect.gen(function* () {
      const stopped = yield* sandboxWait(Wait.untilStopped, [{ state: "stopping" }, { state: "stopped" }])
      assert.strictEqual(stopped.result._tag === "Right" ? stopped.result.right.state : "failed", "stopped")
      const errored = yield* sandboxWait(Wait.untilStopped, [
        { state: "stopping" },
        { state: "error", errorReason: "x" }
      ])
      assert.strictEqual(expectFailed(errored.result).state, "error")
      const buildFailed = yield* sandboxWait(Wait.untilStopped, [{ state: "build_failed" }])
      assert.strictEqual(expectFailed(buildFailed.result).state, "build_failed")
    })
  )

  it.effect("pure decisions: untilStarted, untilStopped, untilState, untilNotIn", () =>
    Effect.sync(() => {
      const s = (state: SandboxState | undefined) => ({ id: "sb-1", state })
      assert.deepStrictEqual(Wait.untilStarted(s("started")), Wait.done(s("started")))
      assert.deepStrictEqual(Wait.untilStarted(s("stopped")), Wait.keepPolling)
      assert.deepStrictEqual(Wait.untilStarted(s(undefined)), Wait.keepPolling)
      assert.deepStrictEqual(Wait.untilStopped(s("destroyed")), Wait.done(s("destroyed")))
      assert.deepStrictEqual(Wait.untilStopped(s("started")), Wait.keepPolling)
      assert.deepStrictEqual(Wait.untilState("archived")(s("archived")), Wait.done(s("archived")))
      assert.deepStrictEqual(Wait.untilState("archived")(s("archiving")), Wait.keepPolling)
      assert.strictEqual(Wait.untilState("archived")(s("build_failed"))._tag, "Fail")
      assert.deepStrictEqual(Wait.untilNotIn(["resizing"])(s("resizing")), Wait.keepPolling)
      assert.deepStrictEqual(Wait.untilNotIn(["resizing"])(s("started")), Wait.done(s("started")))
      assert.deepStrictEqual(Wait.untilNotIn(["resizing"])(s("brand_new")), Wait.done(s("brand_new")))
      assert.strictEqual(Wait.untilNotIn(["resizing"])(s("error"))._tag, "Fail")
    })
  )
})
