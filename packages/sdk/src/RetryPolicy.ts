/**
 * The retry policy: which failures are retried, and when.
 *
 * A failure is transient when the connection dropped or never opened, the answer's body broke off,
 * no answer came within the request timeout, or the server answered 408, 429, 502, 503 or 504. What
 * happens then is declared with each endpoint (`Endpoint.Replay`): a `safe` request is sent again; a
 * `convergent` one (start, stop, archive, create…) is reconciled by reading the resource, and sent
 * again only when the read shows it did not happen; an `unsafe` one (a command, a commit) is sent
 * again only when it provably never reached the server (the connection was never established) or
 * the server answered 429, which Daytona's throttler sends before the request is handled. The pause
 * before a request is sent again is the policy's delay or the server's `Retry-After` /
 * `Retry-After-<throttler>`, whichever is longer; a server that asks for more than
 * `DaytonaConfig.maxRetryAfter` ends the retries with the error. The same policy paces the
 * reconnections of a followed log and the resumptions of a download (its count starting over
 * whenever bytes arrived).
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import type { ApiError } from "./DaytonaError.js"

/**
 * What the policy sees of a failed attempt.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryableFailure {
  readonly error: ApiError
  /** 1 for the first attempt. */
  readonly attempt: number
  /** The pause the server asked for, if it asked. */
  readonly retryAfter: Duration.Duration | undefined
}

/**
 * A schedule fed with each failed attempt; when it stops, the last error is returned.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryPolicy = Schedule.Schedule<unknown, RetryableFailure>

/**
 * Exponential backoff from 250 ms (×2, jittered, each pause capped at 10 s), at most 3 retries.
 *
 * @since 0.1.0
 * @category constructors
 */
export const exponential = (options?: {
  readonly base?: Duration.DurationInput
  readonly factor?: number
  readonly maxDelay?: Duration.DurationInput
  readonly retries?: number
}): RetryPolicy => {
  const maxDelay = Duration.decode(options?.maxDelay ?? "10 seconds")
  return Schedule.exponential(options?.base ?? "250 millis", options?.factor ?? 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, maxDelay)),
    Schedule.intersect(Schedule.recurs(options?.retries ?? 3))
  )
}

/**
 * The default policy: {@link exponential} with its defaults.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultPolicy: RetryPolicy = exponential()

/**
 * A policy that never retries.
 *
 * @since 0.1.0
 * @category constants
 */
export const none: RetryPolicy = Schedule.stop
