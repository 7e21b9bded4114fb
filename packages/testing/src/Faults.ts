/**
 * Fault injection on the wire, between the SDK and the in-memory server: scripted failures
 * (a status with an error body, a broken connection, an answer whose body breaks off), delayed
 * answers, a policy deciding the fault of every request (random mixes), and a record of every
 * request the SDK sent.
 *
 * @since 0.1.0
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { STATUS_CODES } from "node:http"
import type * as InMemoryHttpClient from "./InMemoryHttpClient.js"
import * as RequestMatch from "./RequestMatch.js"

/**
 * An answer the server never gave: `status` with `body` (a string is sent as is, anything else as
 * JSON; by default Daytona's error body for that status, control-plane or toolbox shaped) and
 * extra `headers` (e.g. `{ "retry-after": "2" }`).
 *
 * @since 0.1.0
 * @category models
 */
export interface StatusFailure {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * A broken connection. `refused`: the request never reached the server (nothing happened there).
 * `reset`: the server handled the request, then the connection dropped before the answer arrived.
 *
 * @since 0.1.0
 * @category models
 */
export interface TransportFailure {
  readonly transport: "refused" | "reset"
}

/**
 * An answer cut off: the server handled the request and answered, but the body breaks off half way
 * (the connection dropped while it was read).
 *
 * @since 0.1.0
 * @category models
 */
export interface TruncatedBody {
  readonly truncate: "body"
}

/**
 * What an injected failure does.
 *
 * @since 0.1.0
 * @category models
 */
export type Failure = StatusFailure | TransportFailure | TruncatedBody

/**
 * What a {@link Policy} decides for one request: a failure, an answer held back for a while (the
 * server handles the request at once), or nothing (it passes).
 *
 * @since 0.1.0
 * @category models
 */
export type Injection = Failure | { readonly delay: Duration.DurationInput } | undefined

/**
 * Decides the fault of every request that no `failNext`/`delayNext` rule claimed.
 *
 * @since 0.1.0
 * @category models
 */
export type Policy = (request: RequestMatch.RequestInfo) => Injection

/**
 * How many matching requests a fault applies to (default 1).
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultOptions {
  readonly times?: number | undefined
}

/**
 * A request the SDK sent, as the server (or the injected fault) saw it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly url: string
  /** The URL's path, e.g. `/api/sandbox` or `/toolbox/<id>/process/execute`. */
  readonly path: string
  /** The declared endpoint (`ControlPlaneApi` or `ToolboxApi` name), when the request calls one. */
  readonly operation: RequestMatch.Operation | undefined
  readonly headers: Readonly<Record<string, string>>
  /** The body as text, when it was in memory (JSON, text); `undefined` for none, streams and forms. */
  readonly body: string | undefined
  /** When it was sent, in `Clock` milliseconds (so `TestClock` time in tests). */
  readonly sentAt: number
  /** The answer's status; `undefined` when none arrived (broken connection, interrupted, timed out). */
  readonly status: number | undefined
  /** Which injected faults applied. */
  readonly injected: ReadonlyArray<"failure" | "delay">
  /** What the injected failure was, when there was one. */
  readonly failure?: "status" | "refused" | "reset" | "truncated" | undefined
}

/**
 * The fault rules and request log of one test layer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Faults {
  /** The next `times` requests matching `match` fail with `failure` instead of reaching the server. */
  readonly failNext: (match: RequestMatch.RequestMatch, failure: Failure, options?: FaultOptions) => Effect.Effect<void>
  /**
   * The answers to the next `times` requests matching `match` arrive `duration` late (on Effect's
   * `Clock`). The server handles the request at once; only its answer is held back.
   */
  readonly delayNext: (
    match: RequestMatch.RequestMatch,
    duration: Duration.DurationInput,
    options?: FaultOptions
  ) => Effect.Effect<void>
  /** Decides the fault of every request no rule claims (a random mix, for instance). */
  readonly setPolicy: (policy: Policy) => Effect.Effect<void>
  /** Removes every fault not yet used, and the policy. */
  readonly clear: Effect.Effect<void>
  /** Every request sent so far, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** Wraps the in-memory client's requests (see `InMemoryHttpClient.Options.intercept`). */
  readonly intercept: (
    exchange: InMemoryHttpClient.Exchange
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
}

interface Rule<A> {
  readonly match: RequestMatch.RequestMatch
  readonly value: A
  remaining: number
}

const take = <A>(rules: Array<Rule<A>>, info: RequestMatch.RequestInfo): A | undefined => {
  const rule = rules.find((r) => r.remaining > 0 && RequestMatch.matches(r.match, info))
  if (rule === undefined) return undefined
  rule.remaining--
  return rule.value
}

const textOf = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  if (body._tag === "Uint8Array") return new TextDecoder().decode(body.body)
  if (body._tag === "Raw" && typeof body.body === "string") return body.body
  return undefined
}

const connectionError = (request: HttpClientRequest.HttpClientRequest, code: "ECONNREFUSED" | "ECONNRESET") =>
  new HttpClientError.RequestError({
    request,
    reason: "Transport",
    cause: Object.assign(new Error(code === "ECONNREFUSED" ? "connect ECONNREFUSED" : "socket hang up"), { code }),
    description: `injected failure: ${code}`
  })

/** Daytona's error body for an injected status: NestJS-shaped under `/api`, daemon-shaped under `/toolbox`. */
const defaultBody = (status: number, method: string, path: string, now: number) => {
  const message = `injected failure: ${status} ${STATUS_CODES[status] ?? ""}`.trim()
  const timestamp = new Date(now).toISOString()
  return path.startsWith("/toolbox/")
    ? {
        statusCode: status,
        message,
        code: (STATUS_CODES[status] ?? "ERROR").toUpperCase().replace(/ /g, "_"),
        timestamp,
        path,
        method
      }
    : { statusCode: status, message, error: STATUS_CODES[status] ?? "Error", path, timestamp }
}

/** The answer with its body cut half way: the first half arrives, then reading it fails. */
const truncated = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(
    Effect.orElseSucceed(response.arrayBuffer, () => new ArrayBuffer(0)),
    (buffer) => {
      const bytes = new Uint8Array(buffer)
      const half = bytes.subarray(0, Math.floor(bytes.length / 2))
      // The half is delivered on the first pull, the failure on the next (an error raised with a chunk
      // still queued would discard it).
      let sent = false
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (!sent && half.length > 0) {
            sent = true
            controller.enqueue(half)
          } else {
            controller.error(Object.assign(new Error("injected failure: the body was cut off"), { code: "ECONNRESET" }))
          }
        }
      })
      const headers = new Headers(response.headers)
      headers.set("content-length", String(bytes.length))
      return HttpClientResponse.fromWeb(response.request, new Response(body, { status: response.status, headers }))
    }
  )

const respond = (request: HttpClientRequest.HttpClientRequest, failure: StatusFailure, path: string) =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const body = failure.body === undefined ? defaultBody(failure.status, request.method, path, now) : failure.body
    const text = typeof body === "string" ? body : JSON.stringify(body)
    const headers = new Headers({ "content-type": typeof body === "string" ? "text/plain" : "application/json" })
    for (const [name, value] of Object.entries(failure.headers ?? {})) headers.set(name, value)
    return HttpClientResponse.fromWeb(request, new Response(text, { status: failure.status, headers }))
  })

/**
 * New, empty fault rules for a server whose control plane is under `apiPath` (e.g. `/api`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (apiPath: string): Effect.Effect<Faults> =>
  Effect.sync(() => {
    const failures: Array<Rule<Failure>> = []
    let policy: Policy | undefined
    const delays: Array<Rule<Duration.Duration>> = []
    const log: Array<{ -readonly [K in keyof RecordedRequest]: RecordedRequest[K] }> = []
    const times = (options: FaultOptions | undefined) => Math.max(0, options?.times ?? 1)

    const intercept: Faults["intercept"] = ({ forward, request, url }) =>
      Effect.gen(function* () {
        const path = url.pathname
        const toolboxPath = /^\/toolbox\/[^/]+(\/.*)$/.exec(path)?.[1]
        const operation =
          path === apiPath || path.startsWith(`${apiPath}/`)
            ? RequestMatch.operationOf(request.method, path.slice(apiPath.length))
            : toolboxPath === undefined
              ? undefined
              : RequestMatch.toolboxOperationOf(request.method, toolboxPath)
        const info: RequestMatch.RequestInfo = { method: request.method, path, operation }
        const ruled = { delay: take(delays, info), failure: take(failures, info) }
        const decided = ruled.delay === undefined && ruled.failure === undefined ? policy?.(info) : undefined
        const delay = decided !== undefined && "delay" in decided ? Duration.decode(decided.delay) : ruled.delay
        const failure = decided !== undefined && !("delay" in decided) ? decided : ruled.failure
        const entry = {
          method: request.method,
          url: url.toString(),
          path,
          operation,
          headers: { ...request.headers },
          body: textOf(request),
          sentAt: yield* Clock.currentTimeMillis,
          status: undefined as number | undefined,
          injected: [
            ...(failure === undefined ? [] : ["failure" as const]),
            ...(delay === undefined ? [] : ["delay" as const])
          ],
          failure:
            failure === undefined
              ? undefined
              : "status" in failure
                ? ("status" as const)
                : "truncate" in failure
                  ? ("truncated" as const)
                  : failure.transport
        }
        log.push(entry)
        let response: HttpClientResponse.HttpClientResponse
        if (failure === undefined) response = yield* forward
        else if ("status" in failure) response = yield* respond(request, failure, path)
        else if ("truncate" in failure) response = yield* Effect.flatMap(forward, truncated)
        else if (failure.transport === "refused") return yield* connectionError(request, "ECONNREFUSED")
        else {
          yield* forward
          return yield* connectionError(request, "ECONNRESET")
        }
        if (delay !== undefined) yield* Effect.sleep(delay)
        entry.status = response.status
        return response
      })

    return {
      failNext: (match, failure, options) =>
        Effect.sync(() => void failures.push({ match, value: failure, remaining: times(options) })),
      delayNext: (match, duration, options) =>
        Effect.sync(() => void delays.push({ match, value: Duration.decode(duration), remaining: times(options) })),
      setPolicy: (next) =>
        Effect.sync(() => {
          policy = next
        }),
      clear: Effect.sync(() => {
        failures.length = 0
        delays.length = 0
        policy = undefined
      }),
      requests: Effect.sync(() => log.map((entry) => ({ ...entry }))),
      intercept
    }
  })
