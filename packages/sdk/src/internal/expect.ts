import * as Effect from "effect/Effect"
import { type StatusError, UnexpectedResponseError } from "../DaytonaError.js"

type StatusTag = StatusError["_tag"]

const isStatusError = (u: unknown): u is StatusError =>
  typeof u === "object" &&
  u !== null &&
  "_tag" in u &&
  (u._tag === "NotFoundError" ||
    u._tag === "ConflictError" ||
    u._tag === "ValidationError" ||
    u._tag === "CommandTimeoutError")

/**
 * Keeps the status errors an operation declares and turns the others into
 * `UnexpectedResponseError`, so that each operation's error type lists what it can really fail with.
 *
 * @internal
 */
export const expectStatus =
  <const Tags extends ReadonlyArray<StatusTag>>(...tags: Tags) =>
  <A, E, R>(
    self: Effect.Effect<A, E, R>
  ): Effect.Effect<
    A,
    Exclude<E, StatusError> | Extract<E, { readonly _tag: Tags[number] }> | UnexpectedResponseError,
    R
  > =>
    Effect.catchIf(
      self,
      (error: E) => isStatusError(error) && !tags.includes(error._tag),
      (caught: E) => {
        const error = caught as StatusError
        return Effect.fail(
          new UnexpectedResponseError({
            reason: "Status",
            // A command that ran out of time did run; a refused request (400, 404, 409) did not.
            sent: error._tag === "CommandTimeoutError",
            message: error.message,
            status: error.status ?? 0,
            method: error.method ?? "",
            path: error.path ?? "",
            ...(error.errorCode === undefined ? {} : { errorCode: error.errorCode }),
            ...(error.requestId === undefined ? {} : { requestId: error.requestId }),
            ...(error.body === undefined ? {} : { body: error.body })
          })
        )
      }
    ) as Effect.Effect<
      A,
      Exclude<E, StatusError> | Extract<E, { readonly _tag: Tags[number] }> | UnexpectedResponseError,
      R
    >

/**
 * For calls of endpoints that declare no 400 and whose input is plain strings, which no declaration can
 * reject: a `ValidationError` there could only come from a bug of the SDK, so it is a defect rather
 * than part of the error type (a server's 400 is already an `UnexpectedResponseError` for them).
 *
 * @internal
 */
export const inputCannotFail = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, { readonly _tag: "ValidationError" }>, R> =>
  Effect.catchIf(
    self,
    (error: E) => typeof error === "object" && error !== null && "_tag" in error && error._tag === "ValidationError",
    (error) => Effect.die(error)
  ) as Effect.Effect<A, Exclude<E, { readonly _tag: "ValidationError" }>, R>
