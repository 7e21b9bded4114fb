import type * as Cookies from "@effect/platform/Cookies"
import type * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import type * as UrlParams from "@effect/platform/UrlParams"
import * as Arr from "effect/Array"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Inspectable from "effect/Inspectable"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as DaytonaMetrics from "../DaytonaMetrics.js"
import { builtIn, collected } from "./spans.js"

/**
 * The propagation rule, set in the fiber that sends one attempt: trace headers (`traceparent`,
 * `b3`) go with a request when the caller set `tracePropagation: true`, never when it set `false`,
 * and otherwise only when the program runs with a tracer of its own (an exporter such as
 * `@effect/opentelemetry`'s), not Effect's built-in one, whose spans nobody collects. An
 * `HttpClient` given `HttpClient.withTracerPropagation` keeps its own choice.
 *
 * With the built-in tracer and no headers to send, the platform's own `http.client` span is not
 * made: nobody collects it and nothing is propagated from it (it is what carries the headers when
 * they are sent), so it would only cost each attempt its time. A client that turns propagation
 * back on for itself gets its span, and its headers, as before. @internal
 */
export const propagationRule = (setting: boolean | undefined): Effect.Effect<void> =>
  Effect.withFiberRuntime((fiber) => {
    const builtInOnly = Context.get(fiber.getFiberRef(DefaultServices.currentServices), Tracer.Tracer) === builtIn()
    const enabled = setting ?? !builtInOnly
    if (enabled || !builtInOnly) return FiberRef.set(HttpClient.currentTracerPropagation, enabled)
    const disabledWhen = fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)
    return Effect.zipRight(
      FiberRef.set(HttpClient.currentTracerPropagation, false),
      FiberRef.set(
        HttpClient.currentTracerDisabledWhen,
        (request) => !fiber.getFiberRef(HttpClient.currentTracerPropagation) || disabledWhen(request)
      )
    )
  })

/** Tagged metrics by metric name and tags; each entry is the tagged form of the metric its key names. */
const taggedCache = new Map<string, unknown>()

/**
 * A metric with tags, built once per distinct set of tags. Its updates hand the base metric the same
 * label array every time, which the base metric's hook cache recognises; `Metric.tagged` would build a
 * new array, a new metric key and a registry lookup on every update.
 */
const tagged = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  name: string,
  tags: ReadonlyArray<string>
): Metric.Metric<Type, In, Out> => {
  const key = `${name}\u0000${tags.join("\u0000")}`
  const found = taggedCache.get(key) as Metric.Metric<Type, In, Out> | undefined
  if (found !== undefined) return found
  const labels: Array<MetricLabel.MetricLabel> = []
  for (let i = 0; i + 1 < tags.length; i += 2) labels.push(MetricLabel.make(tags[i]!, tags[i + 1]!))
  const withExtra = (extra: ReadonlyArray<MetricLabel.MetricLabel>) =>
    extra.length === 0 ? labels : Arr.union(labels, extra)
  const made = Metric.make(
    metric.keyType,
    (input: In, extra) => metric.unsafeUpdate(input, withExtra(extra)),
    (extra) => metric.unsafeValue(withExtra(extra)),
    (input: In, extra) => metric.unsafeModify(input, withExtra(extra))
  )
  taggedCache.set(key, made)
  return made
}

const liveSandboxes = new Set<string>()

/** Records a sandbox handed out by a create. @internal */
export const sandboxCreated = (id: string): Effect.Effect<void> =>
  Effect.sync(() => {
    liveSandboxes.add(id)
    DaytonaMetrics.sandboxesCreated.unsafeUpdate(1, [])
    DaytonaMetrics.sandboxesLive.unsafeUpdate(liveSandboxes.size, [])
  })

/** Records a sandbox that is gone: `accepted` when this delete removed it (else it was already gone). */
const sandboxGone = (id: string | undefined, accepted: boolean): void => {
  if (accepted) DaytonaMetrics.sandboxesDeleted.unsafeUpdate(1, [])
  if (id !== undefined && liveSandboxes.delete(id)) DaytonaMetrics.sandboxesLive.unsafeUpdate(liveSandboxes.size, [])
}

const seconds = (startMillis: number, endMillis: number) => Math.max(0, endMillis - startMillis) / 1000

/** The typed failure of an exit, if it failed with one. */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/**
 * Times a wait for a sandbox state into `daytona_wait_duration_seconds`, with its outcome: `done`,
 * `timeout` (its deadline passed), `failed` or `interrupted`. @internal
 */
export const timedWait =
  (operation: string) =>
  <A, E, R>(wait: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Clock.currentTimeMillis, (start) =>
      Effect.onExit(wait, (exit) =>
        Effect.map(Clock.currentTimeMillis, (end) => {
          const outcome = Exit.isSuccess(exit)
            ? "done"
            : Predicate.isTagged(failureOf(exit), "WaitTimeoutError")
              ? "timeout"
              : Cause.isInterruptedOnly(exit.cause)
                ? "interrupted"
                : "failed"
          tagged(DaytonaMetrics.waitDuration, "wait", ["operation", operation, "outcome", outcome]).unsafeUpdate(
            seconds(start, end),
            []
          )
        })
      )
    )

/** The status tag of a failed attempt: the answer's status, else what went wrong. */
const failureStatus = (failure: unknown): string => {
  if (Predicate.hasProperty(failure, "status") && typeof failure.status === "number") return String(failure.status)
  if (Predicate.isTagged(failure, "RequestTimeoutError")) return "timeout"
  if (Predicate.isTagged(failure, "TransportError")) return "transport_error"
  return "error"
}

/** A streamed answer whose body bytes are counted as they are read. */
class CountedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly request: HttpClientRequest.HttpClientRequest
  readonly status: number
  readonly headers: Headers.Headers
  readonly remoteAddress: Option.Option<string>

  constructor(
    private readonly source: HttpClientResponse.HttpClientResponse,
    private readonly counter: Metric.Metric.Counter<number>
  ) {
    super()
    this.request = source.request
    this.status = source.status
    this.headers = source.headers
    this.remoteAddress = source.remoteAddress
  }

  get cookies(): Cookies.Cookies {
    return this.source.cookies
  }
  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.tap(this.source.text, (text) => this.counter.unsafeUpdate(encoder.encode(text).length, []))
  }
  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return this.source.json
  }
  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return this.source.urlParamsBody
  }
  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.tap(this.source.arrayBuffer, (bytes) => this.counter.unsafeUpdate(bytes.byteLength, []))
  }
  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return this.source.formData
  }
  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    return countChunks(this.source.stream, this.counter)
  }
  toJSON(): unknown {
    return this.source.toJSON()
  }
}

const encoder = new TextEncoder()

const countChunks = <E>(
  stream: Stream.Stream<Uint8Array, E>,
  counter: Metric.Metric.Counter<number>
): Stream.Stream<Uint8Array, E> =>
  Stream.mapChunks(stream, (chunk) => {
    let total = 0
    for (const bytes of chunk) total += bytes.length
    if (total > 0) counter.unsafeUpdate(total, [])
    return chunk
  })

/** The operation a declared call makes, with the sandbox its path names (`sandboxIdOrName`). @internal */
export const operationOf = (name: string, input: unknown): { readonly name: string; readonly sandboxId?: string } => {
  const params = Predicate.hasProperty(input, "params") ? input.params : undefined
  return Predicate.hasProperty(params, "sandboxIdOrName") && typeof params.sandboxIdOrName === "string"
    ? { name, sandboxId: params.sandboxIdOrName }
    : { name }
}

/** What the transport knows of one request. @internal */
export interface RequestInfo {
  readonly api: "control-plane" | "toolbox"
  readonly method: string
  /** The declared operation's name; `undefined` for a raw request. */
  readonly operation: string | undefined
  readonly replay: string
  /** The sandbox the request concerns: the toolbox's target, or the control-plane path's sandbox. */
  readonly sandboxId?: string | undefined
  /** The client's `tracePropagation`: when true, the request's span is made for its headers to carry. */
  readonly tracePropagation?: boolean | undefined
}

/**
 * The telemetry of one request: a span around all its attempts, each attempt counted and timed,
 * replays counted with their reason, body bytes counted. @internal
 */
export interface RequestTelemetry {
  /** The request with its body counted as it is sent (a stream body as it is read). */
  readonly request: HttpClientRequest.HttpClientRequest
  /** Wraps the whole request, all attempts, in its span; a streamed answer's body is counted as it is read. */
  readonly observe: <E, R>(
    effect: Effect.Effect<HttpClientResponse.HttpClientResponse, E, R>,
    streamed: boolean
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, E, R>
  /** Wraps one attempt: counts it by status, times it, counts it as a retry after the first. */
  readonly attempt: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Counts the bytes of an answer read into memory; hands them back. */
  readonly received: <B extends ArrayBuffer>(bytes: B) => B
}

/** The tagged request metrics of one operation on one API, built on its first request. */
interface OperationMetrics {
  readonly duration: Metric.Metric.Histogram<number>
  readonly requests: (status: string) => Metric.Metric.Counter<number>
  readonly retries: (reason: string) => Metric.Metric.Counter<number>
}

/** `make`, run once per distinct argument and kept. */
const memoized = <M>(make: (value: string) => M): ((value: string) => M) => {
  const cache = new Map<string, M>()
  return (value) => {
    let found = cache.get(value)
    if (found === undefined) cache.set(value, (found = make(value)))
    return found
  }
}

const metricsOn = (api: RequestInfo["api"]) =>
  memoized(
    (operation): OperationMetrics => ({
      duration: tagged(DaytonaMetrics.requestDuration, "duration", ["operation", operation, "api", api]),
      requests: memoized((status) =>
        tagged(DaytonaMetrics.requests, "requests", ["operation", operation, "api", api, "status", status])
      ),
      retries: memoized((reason) =>
        tagged(DaytonaMetrics.retries, "retries", ["operation", operation, "reason", reason])
      )
    })
  )

/** The request metrics of each API, by operation. */
const operationMetrics: Record<RequestInfo["api"], (operation: string) => OperationMetrics> = {
  "control-plane": metricsOn("control-plane"),
  toolbox: metricsOn("toolbox")
}

const bytesSent = {
  "control-plane": tagged(DaytonaMetrics.bytesSent, "sent", ["api", "control-plane"]),
  toolbox: tagged(DaytonaMetrics.bytesSent, "sent", ["api", "toolbox"])
}
const bytesReceived = {
  "control-plane": tagged(DaytonaMetrics.bytesReceived, "received", ["api", "control-plane"]),
  toolbox: tagged(DaytonaMetrics.bytesReceived, "received", ["api", "toolbox"])
}

/** Starts the telemetry of one request. @internal */
export const request = (info: RequestInfo, httpRequest: HttpClientRequest.HttpClientRequest): RequestTelemetry => {
  const operation = info.operation ?? "undeclared"
  const sandboxId = info.sandboxId
  const metrics = operationMetrics[info.api](operation)
  const sent = bytesSent[info.api]
  const received = bytesReceived[info.api]
  const body = httpRequest.body
  // A body in memory is sent whole by every attempt; a stream is counted as it is read.
  const bytesPerAttempt =
    body._tag === "Uint8Array" ? body.body.length : body._tag === "Raw" ? (body.contentLength ?? 0) : 0
  const counted =
    body._tag === "Stream"
      ? HttpClientRequest.setBody(
          httpRequest,
          HttpBody.stream(countChunks(body.stream, sent), body.contentType, body.contentLength)
        )
      : httpRequest
  let attempts = 0
  let lastFailure: unknown = undefined
  // The request's span, once `observe` opened it: attempts record on it directly.
  let span: Tracer.Span | undefined

  const attempt: RequestTelemetry["attempt"] = (effect) =>
    Effect.clockWith((clock) => {
      attempts += 1
      const n = attempts
      span?.attribute("daytona.attempts", n)
      if (bytesPerAttempt > 0) sent.unsafeUpdate(bytesPerAttempt, [])
      if (n > 1) {
        const reason = failureStatus(lastFailure)
        metrics.retries(reason).unsafeUpdate(1, [])
        // The TestClock can hold fractional milliseconds, which `currentTimeNanos` cannot convert.
        span?.event("daytona.retry", BigInt(Math.round(clock.unsafeCurrentTimeMillis() * 1_000_000)), {
          "daytona.attempt": n,
          "daytona.retry.reason": reason
        })
      }
      const start = clock.unsafeCurrentTimeMillis()
      return Effect.onExit(effect, (exit) => {
        let status: string
        if (Exit.isSuccess(exit)) {
          const value: unknown = exit.value
          status =
            Predicate.hasProperty(value, "status") && typeof value.status === "number" ? String(value.status) : "ok"
        } else {
          // The transport fails an attempt with its classification, which holds the error.
          const failure: unknown = failureOf(exit)
          lastFailure = Predicate.hasProperty(failure, "failure") ? failure.failure : failure
          status = failure === undefined ? "interrupted" : failureStatus(lastFailure)
        }
        metrics.requests(status).unsafeUpdate(1, [])
        metrics.duration.unsafeUpdate(seconds(start, clock.unsafeCurrentTimeMillis()), [])
        return Effect.void
      })
    })

  const settle = <E, R>(
    effect: Effect.Effect<HttpClientResponse.HttpClientResponse, E, R>,
    streamed: boolean,
    opened: Tracer.Span | undefined
  ) =>
    Effect.mapBoth(effect, {
      onSuccess: (response) => {
        if (operation === "deleteSandbox") sandboxGone(sandboxId, true)
        opened?.attribute("http.response.status_code", response.status)
        return streamed ? new CountedResponse(response, received) : response
      },
      onFailure: (failure) => {
        if (operation === "deleteSandbox" && Predicate.isTagged(failure, "NotFoundError")) {
          sandboxGone(sandboxId, false)
        }
        if (Predicate.hasProperty(failure, "_tag")) opened?.attribute("error.type", failure._tag)
        return failure
      }
    })

  // The span is made when a tracer of the program's collects it, or when its headers carry it.
  const observe: RequestTelemetry["observe"] = (effect, streamed) =>
    Effect.withFiberRuntime((fiber) =>
      info.tracePropagation !== true && !collected(fiber)
        ? settle(effect, streamed, undefined)
        : Effect.useSpan(
            `daytona.${operation}`,
            {
              kind: "client",
              captureStackTrace: false,
              attributes: {
                "daytona.operation": operation,
                "daytona.api": info.api,
                "daytona.replay": info.replay,
                "http.request.method": info.method,
                ...(sandboxId === undefined ? {} : { "daytona.sandbox.id": sandboxId })
              }
            },
            (opened) => {
              span = opened
              opened.attribute("daytona.attempts", attempts)
              return Effect.withParentSpan(settle(effect, streamed, opened), opened)
            }
          )
    )

  return {
    request: counted,
    observe,
    attempt,
    received: (bytes) => {
      if (bytes.byteLength > 0) received.unsafeUpdate(bytes.byteLength, [])
      return bytes
    }
  }
}
