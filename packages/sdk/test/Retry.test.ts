import { assert, describe, it } from "@effect/vitest"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { DaytonaClient, type SendOptions } from "../src/DaytonaClient.js"
import type * as DaytonaConfig from "../src/DaytonaConfig.js"
import type { ApiError, StatusError } from "../src/DaytonaError.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { ToolboxClient } from "../src/ToolboxClient.js"
import { errorBody, type Handler, layerWith, makeFake, type Reply, toolboxProxyUrl } from "./support/FakeHttp.js"

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

/** A deterministic policy: a fixed pause, a bounded count. */
const fixed = (pause: Duration.DurationInput, retries: number): RetryPolicy.RetryPolicy =>
  Schedule.spaced(pause).pipe(Schedule.intersect(Schedule.recurs(retries)))

const ok: Reply = { status: 200, body: { ok: true } }

/** Replies with `replies[i]`, and with the last one for every further request. */
const sequence =
  (...replies: ReadonlyArray<Reply>): Handler =>
  (_, index) =>
    replies[Math.min(index, replies.length - 1)]!

type Outcome = Either.Either<HttpClientResponse.HttpClientResponse, ApiError | StatusError>

/**
 * Forks one control-plane request over a fresh fake; `run(adjust)` advances the TestClock and
 * returns how many requests the fake has seen, `result` joins the fiber.
 */
const start = (
  handler: Handler,
  request: HttpClientRequest.HttpClientRequest,
  config: Partial<DaytonaConfig.Options>,
  sendOptions?: SendOptions
) =>
  Effect.gen(function* () {
    const fake = yield* makeFake(handler)
    const fiber = yield* Effect.fork(
      Effect.flatMap(DaytonaClient, (client) => client.send(request, sendOptions)).pipe(
        Effect.either,
        Effect.provide(layerWith(fake.client, config))
      )
    )
    const advance = (duration: Duration.DurationInput) =>
      Effect.zipRight(
        TestClock.adjust(duration),
        Effect.map(fake.requests, (list) => list.length)
      )
    const result = Fiber.join(fiber)
    return { advance, result, requests: fake.requests }
  })

/** Runs a request to completion, giving retries ten minutes of TestClock time. */
const run = (
  handler: Handler,
  request: HttpClientRequest.HttpClientRequest,
  config: Partial<DaytonaConfig.Options>,
  sendOptions?: SendOptions
) =>
  Effect.gen(function* () {
    const started = yield* start(handler, request, config, sendOptions)
    yield* started.advance("10 minutes")
    const outcome = yield* started.result
    return { outcome, attempts: (yield* started.requests).length }
  })

const getSandbox = HttpClientRequest.get("/sandbox/sb-1")
const postStart = HttpClientRequest.post("/sandbox/sb-1/start")

const status503: Reply = { status: 503, body: errorBody(503, "Service Unavailable", "maintenance") }
const status502: Reply = { status: 502, body: "<html>bad gateway</html>" }
const status504: Reply = { status: 504 }
const status429: Reply = {
  status: 429,
  body: errorBody(429, "Too Many Requests", "ThrottlerException: Too Many Requests")
}
const reset: Reply = { transportError: "reset" }
const refused: Reply = { transportError: "refused" }

const expectSuccess = (outcome: Outcome) => {
  if (Either.isLeft(outcome)) return assert.fail(`expected success, got ${outcome.left._tag}: ${outcome.left.message}`)
  assert.strictEqual(outcome.right.status, 200)
  return outcome.right
}

const expectFailure = (outcome: Outcome) => {
  if (Either.isRight(outcome)) return assert.fail(`expected a failure, got ${outcome.right.status}`)
  return outcome.left
}

// ---------------------------------------------------------------------------------------------

describe("Retry: idempotent requests are retried on transient failures", () => {
  const transient: ReadonlyArray<readonly [string, Reply]> = [
    ["503", status503],
    ["502", status502],
    ["504", status504],
    ["429", status429],
    ["408 (control plane)", { status: 408, body: errorBody(408, "Request Timeout", "slow") }],
    ["connection reset", reset],
    ["connection refused", refused]
  ]
  for (const [name, failure] of transient) {
    it.effect(`GET is retried after ${name} and succeeds (RetryPolicy.exponential())`, () =>
      Effect.gen(function* () {
        const { outcome, attempts } = yield* run(sequence(failure, ok), getSandbox, {
          retryPolicy: RetryPolicy.exponential()
        })
        expectSuccess(outcome)
        assert.strictEqual(attempts, 2)
      })
    )
  }

  it.effect("GET is retried after a request timeout and succeeds", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence({ hang: true }, ok), getSandbox, {
        retryPolicy: fixed("1 second", 3),
        requestTimeout: "10 seconds"
      })
      expectSuccess(outcome)
      assert.strictEqual(attempts, 2)
    })
  )

  it.effect("PUT and DELETE are idempotent and retried", () =>
    Effect.gen(function* () {
      for (const request of [HttpClientRequest.put("/sandbox/sb-1/labels"), HttpClientRequest.del("/sandbox/sb-1")]) {
        const { outcome, attempts } = yield* run(sequence(status503, ok), request, {
          retryPolicy: RetryPolicy.exponential()
        })
        expectSuccess(outcome)
        assert.strictEqual(attempts, 2, request.method)
      }
    })
  )

  it.effect("toolbox GETs are retried too", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(sequence(status502, status503, ok))
      const fiber = yield* Effect.fork(
        Effect.flatMap(ToolboxClient, (client) =>
          client.send({ id: "sb-1", toolboxProxyUrl }, HttpClientRequest.get("/files?path=/tmp"))
        ).pipe(Effect.provide(layerWith(fake.client, { retryPolicy: RetryPolicy.exponential() })))
      )
      yield* TestClock.adjust("1 minute")
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.status, 200)
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 3)
      for (const request of requests) assert.strictEqual(request.path, "/toolbox/sb-1/files")
    })
  )
})

describe("Retry: what is never retried", () => {
  const permanent: ReadonlyArray<readonly [number, string]> = [
    [400, "ValidationError"],
    [401, "AuthenticationError"],
    [403, "AuthorizationError"],
    [404, "NotFoundError"],
    [409, "ConflictError"],
    [410, "UnexpectedResponseError"],
    [422, "ValidationError"],
    [500, "UnexpectedResponseError"]
  ]
  for (const [status, tag] of permanent) {
    it.effect(`GET ${status} is not retried (${tag})`, () =>
      Effect.gen(function* () {
        const { outcome, attempts } = yield* run(
          sequence({ status, body: errorBody(status, "x", "no") }, ok),
          getSandbox,
          {
            retryPolicy: RetryPolicy.exponential()
          }
        )
        assert.strictEqual(expectFailure(outcome)._tag, tag)
        assert.strictEqual(attempts, 1)
      })
    )
  }

  it.effect("a toolbox 408 (command timeout) is not retried", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(
        sequence({ status: 408, body: { statusCode: 408, code: "REQUEST_TIMEOUT", message: "t" } }, ok)
      )
      const fiber = yield* Effect.fork(
        Effect.flatMap(ToolboxClient, (client) =>
          client.send({ id: "sb-1", toolboxProxyUrl }, HttpClientRequest.get("/process/session/s/command/c"))
        ).pipe(Effect.either, Effect.provide(layerWith(fake.client, { retryPolicy: RetryPolicy.exponential() })))
      )
      yield* TestClock.adjust("1 minute")
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(expectFailure(outcome)._tag, "CommandTimeoutError")
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )

  it.effect("retry: false disables retries", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(
        sequence(status503, ok),
        getSandbox,
        { retryPolicy: RetryPolicy.exponential() },
        { retry: false }
      )
      assert.strictEqual(expectFailure(outcome)._tag, "UnexpectedResponseError")
      assert.strictEqual(attempts, 1)
    })
  )

  it.effect("RetryPolicy.none never retries (503, reset, refused, 429)", () =>
    Effect.gen(function* () {
      for (const failure of [status503, reset, refused, status429]) {
        const { outcome, attempts } = yield* run(sequence(failure, ok), getSandbox, { retryPolicy: RetryPolicy.none })
        expectFailure(outcome)
        assert.strictEqual(attempts, 1)
      }
    })
  )
})

describe("Retry: bounded count", () => {
  it.effect("exponential() makes 4 attempts (3 retries), then fails with the last error", () =>
    Effect.gen(function* () {
      const handler: Handler = (_, index) => ({
        status: 503,
        body: errorBody(503, "Service Unavailable", `attempt ${index + 1}`)
      })
      const { outcome, attempts } = yield* run(handler, getSandbox, { retryPolicy: RetryPolicy.exponential() })
      const error = expectFailure(outcome)
      assert.strictEqual(attempts, 4)
      assert.strictEqual(error._tag, "UnexpectedResponseError")
      assert.strictEqual(error.message, "GET /api/sandbox/sb-1 → 503: attempt 4")
    })
  )

  it.effect("the last error is returned even when the failures differ", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence(status503, reset, status502, status429), getSandbox, {
        retryPolicy: RetryPolicy.exponential()
      })
      assert.strictEqual(attempts, 4)
      assert.strictEqual(expectFailure(outcome)._tag, "RateLimitedError")
    })
  )

  it.effect("exponential({ retries: 1 }) makes 2 attempts", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence(status503), getSandbox, {
        retryPolicy: RetryPolicy.exponential({ retries: 1 })
      })
      expectFailure(outcome)
      assert.strictEqual(attempts, 2)
    })
  )

  it.effect("the default policy (no retryPolicy option) retries 3 times", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence(status503), getSandbox, { retryPolicy: undefined })
      expectFailure(outcome)
      assert.strictEqual(attempts, 4)
    })
  )

  it.effect("the policy sees each failed attempt with its number, error and retryAfter", () =>
    Effect.gen(function* () {
      const seen = yield* Ref.make<ReadonlyArray<string>>([])
      const policy: RetryPolicy.RetryPolicy = fixed("1 second", 2).pipe(
        Schedule.tapInput((failure: RetryPolicy.RetryableFailure) =>
          Ref.update(seen, (list) => [
            ...list,
            `${failure.attempt}:${failure.error._tag}:${failure.retryAfter === undefined ? "-" : Duration.toMillis(failure.retryAfter)}`
          ])
        )
      )
      const { outcome, attempts } = yield* run(
        sequence({ ...status429, headers: { "retry-after": "3" } }, reset, status504),
        getSandbox,
        { retryPolicy: policy }
      )
      assert.strictEqual(expectFailure(outcome)._tag, "UnexpectedResponseError")
      assert.strictEqual(attempts, 3)
      assert.deepStrictEqual(yield* Ref.get(seen), [
        "1:RateLimitedError:3000",
        "2:TransportError:-",
        "3:UnexpectedResponseError:-"
      ])
    })
  )
})

describe("Retry: timing", () => {
  it.effect("exponential() waits 250 ms ± 20% jitter before the first retry", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence(status503, ok), getSandbox, { retryPolicy: RetryPolicy.exponential() })
      assert.strictEqual(yield* started.advance("199 millis"), 1)
      assert.strictEqual(yield* started.advance("101 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("exponential() caps each pause at maxDelay", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence(status503), getSandbox, {
        retryPolicy: RetryPolicy.exponential({ base: "20 seconds", maxDelay: "1 second" })
      })
      assert.strictEqual(yield* started.advance("999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      assert.strictEqual(yield* started.advance("999 millis"), 2)
      assert.strictEqual(yield* started.advance("1 millis"), 3)
      assert.strictEqual(yield* started.advance("1 second"), 4)
      assert.strictEqual(yield* started.advance("1 minute"), 4)
      expectFailure(yield* started.result)
    })
  )

  it.effect("Retry-After seconds: no second attempt before it has passed, one right after", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence({ ...status429, headers: { "retry-after": "5" } }, ok), getSandbox, {
        retryPolicy: RetryPolicy.exponential()
      })
      assert.strictEqual(yield* started.advance("4999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("Retry-After on a 503 is honoured as well", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence({ ...status503, headers: { "retry-after": "2" } }, ok), getSandbox, {
        retryPolicy: RetryPolicy.exponential()
      })
      assert.strictEqual(yield* started.advance("1999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("a policy delay longer than Retry-After wins", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence({ ...status429, headers: { "retry-after": "1" } }, ok), getSandbox, {
        retryPolicy: fixed("3 seconds", 1)
      })
      assert.strictEqual(yield* started.advance("2999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("Retry-After as an HTTP date", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("Sun, 29 Nov 2026 12:00:00 GMT"))
      const started = yield* start(
        sequence({ ...status429, headers: { "retry-after": "Sun, 29 Nov 2026 12:00:07 GMT" } }, ok),
        getSandbox,
        { retryPolicy: RetryPolicy.exponential() }
      )
      assert.strictEqual(yield* started.advance("6999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("an HTTP-date Retry-After in the past means no extra pause", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("Sun, 29 Nov 2026 12:00:00 GMT"))
      const started = yield* start(
        sequence({ ...status429, headers: { "retry-after": "Sun, 29 Nov 2026 11:00:00 GMT" } }, ok),
        getSandbox,
        { retryPolicy: fixed("100 millis", 1) }
      )
      assert.strictEqual(yield* started.advance("100 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("Retry-After-<throttler> headers: the longest pause wins", () =>
    Effect.gen(function* () {
      const started = yield* start(
        sequence(
          {
            ...status429,
            headers: {
              "retry-after": "2",
              "retry-after-sandbox-create": "9",
              "retry-after-authenticated": "4",
              "x-ratelimit-reset-sandbox-create": "60"
            }
          },
          ok
        ),
        getSandbox,
        { retryPolicy: RetryPolicy.exponential() }
      )
      assert.strictEqual(yield* started.advance("8999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("only Retry-After-sandbox-create (no plain Retry-After) is honoured, and reported on the error", () =>
    Effect.gen(function* () {
      const started = yield* start(
        sequence({ ...status429, headers: { "retry-after-sandbox-create": "3" } }),
        postStart,
        { retryPolicy: fixed("10 millis", 1) }
      )
      assert.strictEqual(yield* started.advance("2999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      const error = expectFailure(yield* started.result)
      if (error._tag !== "RateLimitedError") return assert.fail(`got ${error._tag}`)
      assert.isTrue(Duration.equals(error.retryAfter!, Duration.seconds(3)))
    })
  )

  it.effect("Retry-After longer than maxRetryAfter (60 s default): no retry, RateLimitedError with retryAfter", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence({ ...status429, headers: { "retry-after": "120" } }, ok), getSandbox, {
        retryPolicy: RetryPolicy.exponential()
      })
      assert.strictEqual(yield* started.advance("10 minutes"), 1)
      const error = expectFailure(yield* started.result)
      if (error._tag !== "RateLimitedError") return assert.fail(`got ${error._tag}`)
      assert.isTrue(Duration.equals(error.retryAfter!, Duration.seconds(120)))
      assert.strictEqual(error.status, 429)
    })
  )

  it.effect("Retry-After equal to maxRetryAfter is still honoured", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence({ ...status429, headers: { "retry-after": "60" } }, ok), getSandbox, {
        retryPolicy: RetryPolicy.exponential()
      })
      assert.strictEqual(yield* started.advance("59999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )

  it.effect("a larger maxRetryAfter lets a 120 s Retry-After be honoured", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence({ ...status429, headers: { "retry-after": "120" } }, ok), getSandbox, {
        retryPolicy: RetryPolicy.exponential(),
        maxRetryAfter: "5 minutes"
      })
      assert.strictEqual(yield* started.advance("119999 millis"), 1)
      assert.strictEqual(yield* started.advance("1 millis"), 2)
      expectSuccess(yield* started.result)
    })
  )
})

describe("Retry: non-idempotent requests", () => {
  const policy = { retryPolicy: RetryPolicy.exponential() }

  for (const [name, failure, tag] of [
    ["503", status503, "UnexpectedResponseError"],
    ["502", status502, "UnexpectedResponseError"],
    ["504", status504, "UnexpectedResponseError"],
    ["408 (control plane)", { status: 408 }, "UnexpectedResponseError"],
    ["a connection reset (the request may have been sent)", reset, "TransportError"]
  ] as const) {
    it.effect(`a POST is not replayed after ${name}`, () =>
      Effect.gen(function* () {
        const { outcome, attempts } = yield* run(sequence(failure, ok), postStart, policy)
        const error = expectFailure(outcome)
        assert.strictEqual(error._tag, tag)
        if (error._tag === "TransportError") assert.strictEqual(error.sent, true)
        assert.strictEqual(attempts, 1)
      })
    )
  }

  it.effect("a POST is not replayed after a request timeout", () =>
    Effect.gen(function* () {
      const started = yield* start(sequence({ hang: true }, ok), postStart, {
        ...policy,
        requestTimeout: "10 seconds"
      })
      assert.strictEqual(yield* started.advance("10 seconds"), 1)
      assert.strictEqual(yield* started.advance("5 minutes"), 1)
      assert.strictEqual(expectFailure(yield* started.result)._tag, "RequestTimeoutError")
    })
  )

  it.effect("a POST is replayed after ECONNREFUSED (never sent)", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence(refused, ok), postStart, policy)
      expectSuccess(outcome)
      assert.strictEqual(attempts, 2)
    })
  )

  it.effect("a POST is replayed after 429 (throttled before handling)", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence(status429, ok), postStart, policy)
      expectSuccess(outcome)
      assert.strictEqual(attempts, 2)
    })
  )

  it.effect("a POST marked idempotent is replayed after 503, reset and a request timeout", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(
        sequence(status503, reset, { hang: true }, ok),
        postStart,
        { ...policy, requestTimeout: "5 seconds" },
        { idempotent: true }
      )
      expectSuccess(outcome)
      assert.strictEqual(attempts, 4)
    })
  )

  it.effect("a GET marked idempotent: false is not replayed after 503", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence(status503, ok), getSandbox, policy, { idempotent: false })
      expectFailure(outcome)
      assert.strictEqual(attempts, 1)
    })
  )

  it.effect("retry: false stops even the replay of a refused POST", () =>
    Effect.gen(function* () {
      const { outcome, attempts } = yield* run(sequence(refused, ok), postStart, policy, { retry: false })
      const error = expectFailure(outcome)
      if (error._tag !== "TransportError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.sent, false)
      assert.strictEqual(attempts, 1)
    })
  )

  it.effect("a replayed POST sends the same body", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(sequence(refused, ok))
      const fiber = yield* Effect.fork(
        Effect.flatMap(DaytonaClient, (client) =>
          client.send(HttpClientRequest.post("/sandbox").pipe(HttpClientRequest.bodyUnsafeJson({ name: "a" })))
        ).pipe(Effect.provide(layerWith(fake.client, policy)))
      )
      yield* TestClock.adjust("1 minute")
      yield* Fiber.join(fiber)
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 2)
      assert.deepStrictEqual(requests[0]!.body, { name: "a" })
      assert.deepStrictEqual(requests[1]!.body, { name: "a" })
    })
  )
})
