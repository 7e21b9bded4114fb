import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import * as DaytonaMetrics from "../src/DaytonaMetrics.js"
import {
  apiKey,
  type CapturedRequest,
  daytonaOver,
  errorBody,
  handleOver,
  makeFake,
  sandboxDto
} from "./support/FakeHttp.js"

const propagationHeaders = (request: CapturedRequest) =>
  Object.keys(request.headers).filter((name) => name === "traceparent" || name === "b3")

/** A tracer of the program's own (as an exporter installs): Effect's spans, recorded. */
const recordingTracer = Effect.map(Effect.tracer, (builtIn) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = builtIn.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => builtIn.context(f, fiber)
  })
  return { tracer, spans }
})

/** A fake control plane that answers `GET /sandbox/sb-1` with the sandbox. */
const getSandbox = makeFake(() => ({ status: 200, body: sandboxDto() }))

/**
 * The propagation headers (sorted) of one `get` made inside a span of the program's, through the
 * fake's client as `wrap` hands it to the SDK.
 */
const headersOfOneGet = (
  wrap: (client: HttpClient.HttpClient) => HttpClient.HttpClient,
  options?: Parameters<typeof daytonaOver>[1]
) =>
  Effect.gen(function* () {
    const fake = yield* getSandbox
    const daytona = yield* daytonaOver(wrap(fake.client), options)
    yield* daytona.get("sb-1").pipe(Effect.withSpan("handler"))
    const [request] = yield* fake.requests
    return propagationHeaders(request!).sort()
  })

/**
 * The names of the spans Effect's built-in tracer makes while `effect` runs: the tracer object itself
 * counts them, so the SDK still sees the built-in tracer.
 */
const spansOfBuiltIn = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.tracer, (builtIn) => {
    const names: Array<string> = []
    const original = builtIn.span
    const counting: Tracer.Tracer["span"] = (...args) => {
      names.push(args[0])
      return original.apply(builtIn, args)
    }
    return Effect.acquireUseRelease(
      Effect.sync(() => Object.assign(builtIn, { span: counting })),
      () => Effect.as(effect, names),
      () => Effect.sync(() => Object.assign(builtIn, { span: original }))
    )
  })

const counterValue = (metric: Metric.Metric.Counter<number>, tags: Record<string, string>) => {
  let tagged = metric
  for (const [key, value] of Object.entries(tags)) tagged = Metric.tagged(tagged, key, value)
  return Effect.map(Metric.value(tagged), (state) => state.count)
}

describe("Tracing", () => {
  it.effect("no traceparent or b3 header by default: the program has no tracer of its own", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* headersOfOneGet((client) => client), [])
    })
  )

  it.effect("tracePropagation: true sends them even with Effect's built-in tracer", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* headersOfOneGet((client) => client, { tracePropagation: true }), [
        "b3",
        "traceparent"
      ])
    })
  )

  it.effect("a client given HttpClient.withTracerPropagation(true) keeps its choice under the built-in tracer", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* headersOfOneGet((client) => HttpClient.withTracerPropagation(client, true)), [
        "b3",
        "traceparent"
      ])
    })
  )

  it.live("the same rule under the live clock, where each attempt runs in a timed fiber of its own", () =>
    Effect.gen(function* () {
      const fake = yield* getSandbox
      yield* Effect.flatMap(daytonaOver(fake.client), (daytona) => daytona.get("sb-1"))
      yield* Effect.flatMap(daytonaOver(fake.client, { tracePropagation: true }), (daytona) => daytona.get("sb-1"))
      yield* Effect.flatMap(daytonaOver(HttpClient.withTracerPropagation(fake.client, true)), (daytona) =>
        daytona.get("sb-1")
      )
      const sent = yield* fake.requests
      assert.deepStrictEqual(
        sent.map((request) => propagationHeaders(request).sort()),
        [[], ["b3", "traceparent"], ["b3", "traceparent"]]
      )
    })
  )

  it.effect("a tracer of the program's own turns them on; tracePropagation: false keeps them off", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const on = yield* getSandbox
      yield* Effect.flatMap(daytonaOver(on.client), (daytona) => daytona.get("sb-1")).pipe(Effect.withTracer(tracer))
      const [sent] = yield* on.requests
      assert.deepStrictEqual(propagationHeaders(sent!).sort(), ["b3", "traceparent"])
      // The header carries the trace of the SDK's span for the operation.
      const operation = spans.find((span) => span.name === "daytona.getSandbox")
      assert.isDefined(operation)
      assert.include(sent!.headers["traceparent"]!, operation!.traceId)

      const off = yield* getSandbox
      yield* Effect.flatMap(daytonaOver(off.client, { tracePropagation: false }), (daytona) =>
        daytona.get("sb-1")
      ).pipe(Effect.withTracer(tracer))
      const [quiet] = yield* off.requests
      assert.deepStrictEqual(propagationHeaders(quiet!), [])
    })
  )

  it.effect("under Effect's built-in tracer the SDK makes no span of its own, which nothing would collect", () =>
    Effect.gen(function* () {
      const fake = yield* getSandbox
      const daytona = yield* daytonaOver(fake.client)
      assert.deepStrictEqual(yield* spansOfBuiltIn(daytona.get("sb-1").pipe(Effect.withSpan("handler"))), ["handler"])
    })
  )

  it.effect("with tracePropagation: true the request's span is made under the built-in tracer, for its headers", () =>
    Effect.gen(function* () {
      const fake = yield* getSandbox
      const daytona = yield* daytonaOver(fake.client, { tracePropagation: true })
      const names = yield* spansOfBuiltIn(daytona.get("sb-1").pipe(Effect.withSpan("handler")))
      // The platform's own span comes with the headers; the SDK's method span is still not made.
      assert.deepStrictEqual(names, ["handler", "daytona.getSandbox", "http.client GET"])
      const [sent] = yield* fake.requests
      assert.deepStrictEqual(propagationHeaders(sent!).sort(), ["b3", "traceparent"])
    })
  )

  it.effect("one span per operation with its sandbox id and attempts, and never the API key", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      let calls = 0
      const fake = yield* makeFake((request) => {
        if (request.path.endsWith("/user-home-dir")) return { status: 200, body: { dir: "/home/daytona" } }
        calls += 1
        return calls === 1
          ? { status: 503, body: errorBody(503, "Service Unavailable", "try again") }
          : { status: 200, body: sandboxDto() }
      })
      const daytona = yield* daytonaOver(fake.client, {
        retryPolicy: Schedule.recurs(1)
      })
      yield* Effect.withTracer(daytona.get("sb-1"), tracer)
      const sandbox = yield* handleOver(fake.client)
      yield* Effect.withTracer(sandbox.getUserHomeDir, tracer)

      const get = spans.find((span) => span.name === "daytona.getSandbox")!
      assert.strictEqual(get.kind, "client")
      assert.strictEqual(get.attributes.get("daytona.operation"), "getSandbox")
      assert.strictEqual(get.attributes.get("daytona.api"), "control-plane")
      assert.strictEqual(get.attributes.get("daytona.sandbox.id"), "sb-1")
      assert.strictEqual(get.attributes.get("daytona.attempts"), 2)
      assert.strictEqual(get.attributes.get("http.response.status_code"), 200)

      const home = spans.find((span) => span.name === "daytona.getUserHomeDir")!
      assert.strictEqual(home.attributes.get("daytona.api"), "toolbox")
      assert.strictEqual(home.attributes.get("daytona.sandbox.id"), "sb-1")

      for (const span of spans) {
        for (const value of span.attributes.values()) assert.notInclude(String(value), apiKey)
      }
    })
  )
})

describe("DaytonaMetrics", () => {
  it.effect("requests by operation and status, retries, bytes received", () =>
    Effect.gen(function* () {
      const tags = { operation: "getSandbox", api: "control-plane" }
      const before = {
        ok: yield* counterValue(DaytonaMetrics.requests, { ...tags, status: "200" }),
        unavailable: yield* counterValue(DaytonaMetrics.requests, { ...tags, status: "503" }),
        retries: yield* counterValue(DaytonaMetrics.retries, { operation: "getSandbox", reason: "503" }),
        received: yield* counterValue(DaytonaMetrics.bytesReceived, { api: "control-plane" })
      }
      let calls = 0
      const body = JSON.stringify(sandboxDto())
      const fake = yield* makeFake(() => {
        calls += 1
        return calls === 1
          ? { status: 503, body: errorBody(503, "Service Unavailable", "try again") }
          : { status: 200, body }
      })
      const daytona = yield* daytonaOver(fake.client, {
        retryPolicy: Schedule.recurs(1)
      })
      yield* daytona.get("sb-1")
      assert.strictEqual(yield* counterValue(DaytonaMetrics.requests, { ...tags, status: "200" }), before.ok + 1)
      assert.strictEqual(
        yield* counterValue(DaytonaMetrics.requests, { ...tags, status: "503" }),
        before.unavailable + 1
      )
      assert.strictEqual(
        yield* counterValue(DaytonaMetrics.retries, { operation: "getSandbox", reason: "503" }),
        before.retries + 1
      )
      assert.strictEqual(
        yield* counterValue(DaytonaMetrics.bytesReceived, { api: "control-plane" }),
        before.received + new TextEncoder().encode(body).length
      )
    })
  )

  it.effect("every documented name is a metric in the registry once used", () =>
    Effect.gen(function* () {
      const fake = yield* getSandbox
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.get("sb-1")
      const registered = new Set((yield* Metric.snapshot).map((pair) => pair.metricKey.name))
      for (const name of [
        "daytona_requests_total",
        "daytona_request_duration_seconds",
        "daytona_bytes_received_total"
      ]) {
        assert.isTrue(registered.has(name), name)
      }
      for (const name of registered) {
        if (name.startsWith("daytona_")) assert.include(DaytonaMetrics.names, name)
      }
    })
  )
})
