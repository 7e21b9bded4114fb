import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as DaytonaConfig from "../DaytonaConfig.js"
import {
  type ApiError,
  AuthenticationError,
  AuthorizationError,
  CommandTimeoutError,
  ConflictError,
  NotFoundError,
  RateLimitedError,
  RequestTimeoutError,
  type StatusError,
  TransportError,
  UnexpectedResponseError,
  ValidationError
} from "../DaytonaError.js"
import type { Replay } from "../Endpoint.js"
import type { RetryableFailure } from "../RetryPolicy.js"
import * as ErrorBody from "../ErrorBody.js"
import * as BufferedResponse from "./bufferedResponse.js"
import * as Telemetry from "./telemetry.js"
import { sdkVersion, targetProtocolVersion } from "./version.js"

/** @internal */
export interface SendOptions {
  /**
   * For a request that calls no declaration: whether replaying it is harmless. Defaults to true for
   * GET, HEAD, PUT, DELETE, OPTIONS. A declared endpoint's call takes its replay class instead.
   */
  readonly idempotent?: boolean | undefined
  /** Overrides the configured request timeout for this request. */
  readonly timeout?: Duration.Duration | undefined
  /** Set to false for bodies that cannot be re-read (one-shot streams). */
  readonly retry?: boolean | undefined
  /**
   * Set to true when the caller reads the answer as a stream: the request timeout then covers only
   * the answer's head. Otherwise a successful answer's body is read within the request timeout (a
   * body that stalls is a `RequestTimeoutError`, retried like one) and handed over in memory.
   */
  readonly stream?: boolean | undefined
}

/**
 * How a request may be replayed, from its endpoint's declaration (see `Endpoint.Replay`), with the
 * status that, answered to a replay, means an earlier attempt already did the work. @internal
 */
export interface ReplayRule {
  readonly replay: Replay
  readonly alreadyDone?: number | undefined
}

/** @internal */
export type SendError = ApiError | StatusError

/** The declared operation a request calls, for its span and metrics. @internal */
export interface Operation {
  readonly name: string
  /** The control-plane sandbox it concerns, when its path names one. */
  readonly sandboxId?: string | undefined
}

/** @internal */
export interface Transport {
  readonly send: (
    request: HttpClientRequest.HttpClientRequest,
    options?: SendOptions & { readonly rule?: ReplayRule | undefined; readonly operation?: Operation | undefined }
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, SendError>
  /** The retry policy with the server's `Retry-After` applied: what paces every replay. */
  readonly schedule: Schedule.Schedule<unknown, RetryableFailure>
}

/** @internal */
export type Side = "control-plane" | "toolbox"

const idempotentMethods: ReadonlySet<string> = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
const retryableStatuses: ReadonlySet<number> = new Set([408, 429, 502, 503, 504])
/** Statuses after which the request may or may not have been handled (a gateway's, an overloaded server's). */
const ambiguousStatuses: ReadonlySet<number> = new Set([408, 502, 503, 504])
const connectPhaseCodes: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT"
])
const excerptLength = 1024

/** Walks an error's cause chain for a Node or undici error code. */
const errorCodes = (error: unknown): ReadonlyArray<string> => {
  const codes: Array<string> = []
  const seen = new Set<unknown>()
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || !Predicate.isObject(value) || seen.has(value)) return
    seen.add(value)
    if (Predicate.hasProperty(value, "code") && typeof value.code === "string") codes.push(value.code)
    if (Predicate.hasProperty(value, "cause")) visit(value.cause, depth + 1)
    if (Predicate.hasProperty(value, "errors") && Array.isArray(value.errors)) {
      for (const inner of value.errors) visit(inner, depth + 1)
    }
  }
  visit(error, 0)
  return codes
}

/** @internal */
export const neverReachedServer = (cause: unknown): boolean =>
  errorCodes(cause).some((code) => connectPhaseCodes.has(code))

const pathOf = (url: string): string => {
  try {
    return new URL(url).pathname
  } catch {
    return url.split("?")[0] ?? url
  }
}

/** @internal */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string =>
  secrets.reduce((acc, secret) => (secret.length >= 4 ? acc.split(secret).join("<redacted>") : acc), text)

const parseRetryAfter = (value: string | undefined, now: number): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Duration.seconds(Number(trimmed))
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? undefined : Duration.millis(Math.max(0, date - now))
}

/** The longest pause among `Retry-After` and every `Retry-After-<throttler>` header. @internal */
export const retryAfterOf = (headers: Readonly<Record<string, string>>, now: number): Duration.Duration | undefined => {
  let longest: Duration.Duration | undefined
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (lower !== "retry-after" && !lower.startsWith("retry-after-")) continue
    const parsed = parseRetryAfter(value, now)
    if (parsed !== undefined && (longest === undefined || Duration.greaterThan(parsed, longest))) longest = parsed
  }
  return longest
}

/** Maps a non-2xx response into the typed family. @internal */
export const errorFromResponse = (options: {
  readonly side: Side
  readonly status: number
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly bodyText: string
  readonly retryAfter: Duration.Duration | undefined
  readonly secrets: ReadonlyArray<string>
}): SendError => {
  const text = scrub(options.bodyText, options.secrets)
  const parsed = ErrorBody.summarize(text)
  const requestId = options.headers["x-request-id"]
  const message = `${options.method} ${options.path} → ${options.status}: ${parsed.message ?? (text.trim() === "" ? "no error message" : text.slice(0, 200))}`
  const fields = {
    message,
    status: options.status,
    method: options.method,
    path: options.path,
    ...(parsed.errorCode === undefined ? {} : { errorCode: parsed.errorCode }),
    ...(requestId === undefined ? {} : { requestId }),
    ...(text === "" ? {} : { body: text.slice(0, excerptLength) })
  }
  switch (options.status) {
    case 400:
    case 422:
      return new ValidationError(fields)
    case 401:
      return new AuthenticationError(fields)
    case 403:
      return new AuthorizationError(fields)
    case 404:
      return new NotFoundError(fields)
    case 408:
      return options.side === "toolbox" || parsed.errorCode === "REQUEST_TIMEOUT"
        ? new CommandTimeoutError(fields)
        : new UnexpectedResponseError({ ...fields, reason: "Status", sent: true })
    case 409:
      return new ConflictError(fields)
    case 429:
      return new RateLimitedError({
        ...fields,
        ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter })
      })
    default:
      return new UnexpectedResponseError({ ...fields, reason: "Status", sent: options.status >= 500 })
  }
}

interface AttemptFailure extends RetryableFailure {
  readonly failure: SendError
  readonly retryable: boolean
}

/** The status of a failure that came from an answer; a command timeout's 408 is the command's, not the network's. */
const statusOf = (failure: unknown): number | undefined =>
  Predicate.isTagged(failure, "CommandTimeoutError") ||
  !Predicate.hasProperty(failure, "status") ||
  typeof failure.status !== "number"
    ? undefined
    : failure.status

/**
 * Whether a failure may pass if the request is sent again: a connection that dropped or never
 * opened, an answer whose body broke off, no answer within the request timeout, or a 408, 429, 502,
 * 503 or 504. @internal
 */
export const isTransient = (failure: unknown): boolean => {
  if (Predicate.isTagged(failure, "RequestTimeoutError")) return true
  if (Predicate.isTagged(failure, "TransportError")) {
    const reason = Predicate.hasProperty(failure, "reason") ? failure.reason : undefined
    return reason === "Connection" || reason === "Body"
  }
  const status = statusOf(failure)
  return status !== undefined && retryableStatuses.has(status)
}

/**
 * Whether a failed request may have been handled although its caller cannot tell: its connection
 * dropped after it was sent, its answer broke off or never came, or a gateway or an overloaded
 * server answered 408, 502, 503 or 504. @internal
 */
export const isAmbiguous = (failure: unknown): boolean => {
  if (Predicate.isTagged(failure, "RequestTimeoutError")) return true
  if (Predicate.isTagged(failure, "TransportError")) {
    const reason = Predicate.hasProperty(failure, "reason") ? failure.reason : undefined
    return (
      (reason === "Connection" || reason === "Body") && Predicate.hasProperty(failure, "sent") && failure.sent === true
    )
  }
  const status = statusOf(failure)
  return status !== undefined && ambiguousStatuses.has(status)
}

const transportError = (error: HttpClientError.RequestError, method: string, path: string): TransportError => {
  const reason = error.reason === "Transport" ? "Connection" : error.reason
  return new TransportError({
    reason,
    method,
    path,
    sent: reason === "Connection" ? !neverReachedServer(error.cause) : false,
    description: error.description ?? (error.cause instanceof Error ? error.cause.message : "request failed"),
    cause: error.cause
  })
}

/** The headers every request carries. @internal */
export const defaultHeaders = (config: DaytonaConfig.Service): Record<string, string> => ({
  "x-daytona-source": "effect-daytona",
  "x-daytona-sdk-version": targetProtocolVersion,
  "user-agent": `effect-daytona/${sdkVersion}`,
  ...(config.credentials._tag === "Jwt" ? { "x-daytona-organization-id": config.credentials.organizationId } : {})
})

/** The secrets that must never appear in an error. @internal */
export const secretsOf = (config: DaytonaConfig.Service): ReadonlyArray<string> => [
  Redacted.value(config.credentials._tag === "ApiKey" ? config.credentials.apiKey : config.credentials.token)
]

/**
 * Lets a timed effect's timeout work where the caller cannot be interrupted (a scope's finaliser
 * deleting its sandbox). There the timed effect runs interruptibly in a detached fiber: its own
 * timeout can stop a stalled exchange, while an interruption sent to the caller still cannot reach it
 * (a child fiber would receive it, and the finaliser's request would be cut short).
 */
const timeoutEvenWhereUninterruptible = <A, E, R>(timed: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.checkInterruptible((interruptible) =>
    interruptible ? timed : Effect.flatMap(Effect.forkDaemon(Effect.interruptible(timed)), Fiber.join)
  )

const nullBodyStatuses: ReadonlySet<number> = new Set([101, 204, 205, 304])

/** A response whose body was read into memory, readable again by callers like any other response. */
const buffered = (response: HttpClientResponse.HttpClientResponse, bytes: ArrayBuffer) =>
  BufferedResponse.make(response, nullBodyStatuses.has(response.status) ? undefined : new Uint8Array(bytes))

/** @internal */
export const make = (client: HttpClient.HttpClient, config: DaytonaConfig.Service, side: Side): Transport => {
  const secrets = secretsOf(config)
  const headers = defaultHeaders(config)
  const token = config.credentials._tag === "ApiKey" ? config.credentials.apiKey : config.credentials.token
  const schedule = Schedule.intersect(config.retryPolicy, Schedule.identity<RetryableFailure>()).pipe(
    Schedule.modifyDelay(([, failure], delay) =>
      failure.retryAfter !== undefined && Duration.greaterThan(failure.retryAfter, delay) ? failure.retryAfter : delay
    )
  )

  const send: Transport["send"] = (input, options = {}) =>
    Effect.gen(function* () {
      const method = input.method
      const path = pathOf(input.url)
      const timeout = options.timeout ?? config.requestTimeout
      const rule: ReplayRule = options.rule ?? {
        replay: (options.idempotent ?? idempotentMethods.has(method)) ? "safe" : "unsafe",
        alreadyDone: method === "DELETE" ? 404 : undefined
      }
      const telemetry = yield* Telemetry.request(
        {
          api: side,
          method,
          operation: options.operation?.name,
          sandboxId: options.operation?.sandboxId,
          replay: rule.replay
        },
        input.pipe(HttpClientRequest.setHeaders(headers), HttpClientRequest.bearerToken(token))
      )
      const request = telemetry.request
      const attempts = yield* Ref.make(0)
      // Whether an earlier attempt may have been handled by the server although its answer was lost.
      let answerLost = false

      const classify = (failure: SendError, retryAfter: Duration.Duration | undefined, attempt: number) => {
        const status = statusOf(failure)
        const sent = failure._tag === "TransportError" ? failure.sent : status !== 429
        const replayable = rule.replay === "safe" || !sent || status === 429
        const withinPatience = retryAfter === undefined || Duration.lessThanOrEqualTo(retryAfter, config.maxRetryAfter)
        // An attempt that provably never ran does not hide an earlier one that may have.
        const reported =
          answerLost && failure._tag === "TransportError" && !failure.sent
            ? new TransportError({ ...failure, sent: true })
            : failure
        if (isAmbiguous(failure)) answerLost = true
        return {
          failure: reported,
          error: reported as ApiError,
          attempt,
          retryAfter,
          retryable: options.retry !== false && isTransient(failure) && replayable && withinPatience
        } satisfies AttemptFailure
      }

      // The head, and for a buffered answer the whole body, within one request timeout.
      const exchange = Effect.flatMap(
        Telemetry.withPropagationRule(config.tracePropagation)(client.execute(request)),
        (response) =>
          options.stream === true || response.status < 200 || response.status >= 300
            ? Effect.succeed(response)
            : Effect.map(response.arrayBuffer, (bytes) => buffered(response, telemetry.received(bytes)))
      )

      const attempt = Effect.gen(function* () {
        const n = yield* Ref.updateAndGet(attempts, (k) => k + 1)
        const response = yield* exchange.pipe(
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => classify(new RequestTimeoutError({ method, path, timeout, sent: true }), undefined, n)
          }),
          timeoutEvenWhereUninterruptible,
          Effect.catchTag("RequestError", (error) =>
            Effect.fail(classify(transportError(error, method, path), undefined, n))
          ),
          Effect.catchTag("ResponseError", (error) =>
            Effect.fail(
              classify(
                new TransportError({
                  reason: "Body",
                  method,
                  path,
                  sent: true,
                  description: error.description ?? "could not read the response",
                  cause: error.cause
                }),
                undefined,
                n
              )
            )
          )
        )
        if (response.status >= 200 && response.status < 300) return response
        // A replay whose lost earlier attempt already did the work (a delete's 404, a create's 409).
        if (response.status === rule.alreadyDone && answerLost) {
          yield* response.text.pipe(Effect.timeout(timeout), timeoutEvenWhereUninterruptible, Effect.ignore)
          return buffered(response, new ArrayBuffer(0))
        }
        const bodyText = yield* response.text.pipe(
          Effect.timeout(timeout),
          timeoutEvenWhereUninterruptible,
          Effect.orElseSucceed(() => "")
        )
        const now = yield* Clock.currentTimeMillis
        const retryAfter = retryAfterOf(response.headers, now)
        return yield* Effect.fail(
          classify(
            errorFromResponse({
              side,
              status: response.status,
              method,
              path,
              headers: response.headers,
              bodyText,
              retryAfter,
              secrets
            }),
            retryAfter,
            n
          )
        )
      }).pipe(telemetry.attempt)

      return yield* telemetry.observe(
        attempt.pipe(
          Effect.retry({ schedule, while: (failure) => failure.retryable }),
          Effect.mapError((failure) => failure.failure)
        ),
        options.stream === true
      )
    })

  return { send, schedule }
}

/** Reads a JSON body and decodes it; a body that does not match becomes `UnexpectedResponseError`. @internal */
export const decodeJson =
  <A, I>(schema: Schema.Schema<A, I>, secrets: ReadonlyArray<string> = []) =>
  (response: HttpClientResponse.HttpClientResponse): Effect.Effect<A, UnexpectedResponseError | TransportError> => {
    const method = response.request.method
    const path = pathOf(response.request.url)
    return readText(response).pipe(
      Effect.flatMap((text) =>
        Effect.try(() => JSON.parse(text) as unknown).pipe(
          Effect.flatMap(Schema.decodeUnknown(schema)),
          Effect.mapError((error) => {
            const excerpt = scrub(text, secrets).slice(0, excerptLength)
            const detail = ParseResult.isParseError(error)
              ? ParseResult.TreeFormatter.formatErrorSync(error)
              : "the body is not JSON"
            return new UnexpectedResponseError({
              reason: "InvalidBody",
              sent: true,
              status: response.status,
              method,
              path,
              message: scrub(
                `${method} ${path} → ${response.status}: the response does not match the contract: ${detail}`,
                secrets
              ),
              ...(excerpt === "" ? {} : { body: excerpt })
            })
          })
        )
      )
    )
  }

/** Reads a text body; a body that cannot be read becomes `TransportError`. @internal */
export const readText = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<string, TransportError> =>
  response.text.pipe(
    Effect.mapError(
      (error) =>
        new TransportError({
          reason: "Body",
          method: response.request.method,
          path: pathOf(response.request.url),
          sent: true,
          description: error.description ?? "could not read the response body",
          cause: error.cause
        })
    )
  )

/** Drains a response whose body the caller does not need. @internal */
export const discardBody = (response: HttpClientResponse.HttpClientResponse): Effect.Effect<void> =>
  Effect.ignore(response.text)
