import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
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
import { attemptTimeout } from "./attemptTimeout.js"
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
    options?: SendOptions & {
      readonly rule?: ReplayRule | undefined
      readonly operation?: Operation | undefined
      /** The sandbox a toolbox request goes to, for its span and metrics. */
      readonly sandboxId?: string | undefined
    }
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

/** A request that failed before any answer, as the SDK's `TransportError` (connection failures say whether the request left). */
export const transportError = (error: HttpClientError.RequestError, method: string, path: string): TransportError => {
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

/**
 * The headers set on every request, credentials included, built once per client; they replace whatever
 * the caller set under the same names (a caller's `Authorization` never reaches the server).
 * @internal
 */
export const requestHeaders = (config: DaytonaConfig.Service): Record<string, string> => ({
  ...defaultHeaders(config),
  authorization: `Bearer ${Redacted.value(config.credentials._tag === "ApiKey" ? config.credentials.apiKey : config.credentials.token)}`
})

/** The secrets that must never appear in an error. @internal */
export const secretsOf = (config: DaytonaConfig.Service): ReadonlyArray<string> => [
  Redacted.value(config.credentials._tag === "ApiKey" ? config.credentials.apiKey : config.credentials.token)
]

const nullBodyStatuses: ReadonlySet<number> = new Set([101, 204, 205, 304])

/** A response whose body was read into memory, readable again by callers like every other response. */
const buffered = (response: HttpClientResponse.HttpClientResponse, bytes: ArrayBuffer) =>
  BufferedResponse.make(response, nullBodyStatuses.has(response.status) ? undefined : new Uint8Array(bytes))

const isSuccess = (status: number) => status >= 200 && status < 300

/** @internal */
export const make = (client: HttpClient.HttpClient, config: DaytonaConfig.Service, side: Side): Transport => {
  const secrets = secretsOf(config)
  const headers = requestHeaders(config)
  const schedule = Schedule.intersect(config.retryPolicy, Schedule.identity<RetryableFailure>()).pipe(
    Schedule.modifyDelay(([, failure], delay) =>
      failure.retryAfter !== undefined && Duration.greaterThan(failure.retryAfter, delay) ? failure.retryAfter : delay
    )
  )
  // What `Effect.retry({ schedule, while: retryable })` steps: the policy sees every failed attempt.
  const retrySchedule = Schedule.whileInput(schedule, (failure: AttemptFailure) => failure.retryable)
  const propagationRule = Telemetry.propagationRule(config.tracePropagation)

  const send: Transport["send"] = (input, options = {}) =>
    Effect.suspend(() => {
      const method = input.method
      const timeout = options.timeout ?? config.requestTimeout
      const rule: ReplayRule = options.rule ?? {
        replay: (options.idempotent ?? idempotentMethods.has(method)) ? "safe" : "unsafe",
        alreadyDone: method === "DELETE" ? 404 : undefined
      }
      const telemetry = Telemetry.request(
        {
          api: side,
          method,
          operation: options.operation?.name,
          sandboxId: side === "toolbox" ? options.sandboxId : options.operation?.sandboxId,
          replay: rule.replay,
          tracePropagation: config.tracePropagation
        },
        HttpClientRequest.setHeaders(input, headers)
      )
      const request = telemetry.request
      // Only failures need the path (a URL parse): errors name it.
      let path: string | undefined
      const pathOfRequest = () => (path ??= pathOf(request.url))
      let attempts = 0
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

      const timedOut = () => new RequestTimeoutError({ method, path: pathOfRequest(), timeout, sent: true })
      const exchangeFailure = (error: HttpClientError.HttpClientError | RequestTimeoutError): SendError => {
        switch (error._tag) {
          case "RequestTimeoutError":
            return error
          case "RequestError":
            return transportError(error, method, pathOfRequest())
          case "ResponseError":
            return new TransportError({
              reason: "Body",
              method,
              path: pathOfRequest(),
              sent: true,
              description: error.description ?? "could not read the response",
              cause: error.cause
            })
        }
      }

      // The head, and for a buffered answer the whole body, within one request timeout.
      const exchange = attemptTimeout(
        Effect.flatMap(client.execute(request), (response) =>
          options.stream === true || !isSuccess(response.status)
            ? Effect.succeed(response)
            : Effect.map(response.arrayBuffer, (bytes) => buffered(response, telemetry.received(bytes)))
        ),
        timeout,
        timedOut,
        propagationRule
      )

      const failed = (response: HttpClientResponse.HttpClientResponse, attempt: number) =>
        // A replay whose lost earlier attempt already did the work (a delete's 404, a create's 409).
        response.status === rule.alreadyDone && answerLost
          ? Effect.as(
              Effect.ignore(attemptTimeout(response.text, timeout, timedOut)),
              buffered(response, new ArrayBuffer(0))
            )
          : Effect.flatMap(
              Effect.orElseSucceed(attemptTimeout(response.text, timeout, timedOut), () => ""),
              (bodyText) =>
                Effect.flatMap(Clock.currentTimeMillis, (now) => {
                  const retryAfter = retryAfterOf(response.headers, now)
                  return Effect.fail(
                    classify(
                      errorFromResponse({
                        side,
                        status: response.status,
                        method,
                        path: pathOfRequest(),
                        headers: response.headers,
                        bodyText,
                        retryAfter,
                        secrets
                      }),
                      retryAfter,
                      attempt
                    )
                  )
                })
            )

      const attempt: Effect.Effect<HttpClientResponse.HttpClientResponse, AttemptFailure> = telemetry.attempt(
        Effect.suspend((): Effect.Effect<HttpClientResponse.HttpClientResponse, AttemptFailure> => {
          const n = ++attempts
          return Effect.matchEffect(exchange, {
            onFailure: (error) => Effect.fail(classify(exchangeFailure(error), undefined, n)),
            onSuccess: (response) => (isSuccess(response.status) ? Effect.succeed(response) : failed(response, n))
          })
        })
      )

      // The retry policy comes in only once an attempt failed: a call answered at once never steps it.
      const replaying = (
        failure: AttemptFailure,
        driver: Schedule.ScheduleDriver<unknown, AttemptFailure>
      ): Effect.Effect<HttpClientResponse.HttpClientResponse, SendError> =>
        Effect.matchEffect(driver.next(failure), {
          onFailure: () => Effect.fail(failure.failure),
          onSuccess: () => Effect.catchAll(attempt, (next) => replaying(next, driver))
        })

      return telemetry.observe(
        Effect.catchAll(attempt, (failure) =>
          Effect.flatMap(Schedule.driver(retrySchedule), (driver) => replaying(failure, driver))
        ),
        options.stream === true
      )
    })

  return { send, schedule }
}

/** Reads a JSON body and decodes it; a body that does not match becomes `UnexpectedResponseError`. @internal */
export const decodeJson = <A, I>(schema: Schema.Schema<A, I>, secrets: ReadonlyArray<string> = []) => {
  const decode = Schema.decodeUnknownEither(schema)
  const fromText = (
    response: HttpClientResponse.HttpClientResponse,
    text: string
  ): Effect.Effect<A, UnexpectedResponseError> => {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return Effect.fail(invalidBody(response, text, "the body is not JSON", secrets))
    }
    const decoded = decode(json)
    return Either.isRight(decoded)
      ? Effect.succeed(decoded.right)
      : Effect.fail(invalidBody(response, text, ParseResult.TreeFormatter.formatErrorSync(decoded.left), secrets))
  }
  return (
    response: HttpClientResponse.HttpClientResponse
  ): Effect.Effect<A, UnexpectedResponseError | TransportError> => {
    // An answer the transport read into memory is decoded at once, with no effect to run for its text.
    const text = BufferedResponse.textOf(response)
    return text === undefined
      ? Effect.flatMap(readText(response), (read) => fromText(response, read))
      : fromText(response, text)
  }
}

const invalidBody = (
  response: HttpClientResponse.HttpClientResponse,
  text: string,
  detail: string,
  secrets: ReadonlyArray<string>
) => {
  const method = response.request.method
  const path = pathOf(response.request.url)
  const excerpt = scrub(text, secrets).slice(0, excerptLength)
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
