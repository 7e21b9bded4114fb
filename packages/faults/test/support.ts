import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as RetryPolicy from "@effect-daytona/sdk/RetryPolicy"
import type { SdkOptions } from "../src/Harness.js"
import type { Recorder } from "../src/Recorder.js"

/**
 * Short budgets so that every case ends in seconds: 1 s per request, 4 s per operation, a silent log
 * WebSocket noticed within 1 s.
 */
export const fastSdk: SdkOptions = {
  requestTimeout: "1 second",
  socketHeartbeat: "500 millis",
  operationTimeout: "4 seconds",
  maxRetryAfter: "2 seconds",
  retryPolicy: RetryPolicy.exponential({ base: "20 millis", maxDelay: "200 millis", retries: 3 })
}

/** What one run of an operation ended as. */
export interface Outcome<A> {
  readonly exit: Exit.Exit<A, unknown>
  readonly millis: number
}

/**
 * Runs an operation with a hang detector (`bound` of real time) and records its errors. Fails the
 * test (by dying) when the operation hangs, dies or is interrupted on its own.
 */
export const observe = <A, E, R>(
  label: string,
  self: Effect.Effect<A, E, R>,
  recorder: Recorder,
  bound: Duration.DurationInput = "15 seconds"
): Effect.Effect<Outcome<A>, never, R> =>
  Effect.gen(function* () {
    const start = Date.now()
    const result = yield* self.pipe(Effect.exit, Effect.timeoutOption(bound))
    const millis = Date.now() - start
    if (Option.isNone(result)) {
      return yield* Effect.dieMessage(`${label}: no outcome within ${Duration.format(Duration.decode(bound))} (hang)`)
    }
    const exit = result.value as Exit.Exit<A, unknown>
    recorder.recordExit(exit)
    if (Exit.isFailure(exit)) {
      const defects = Cause.defects(exit.cause)
      if (defects.length > 0) {
        return yield* Effect.dieMessage(`${label}: died: ${Cause.pretty(exit.cause)}`)
      }
      if (Cause.isInterruptedOnly(exit.cause)) {
        return yield* Effect.dieMessage(`${label}: interrupted without being asked to`)
      }
    }
    return { exit, millis }
  })

/** The tag of a failure, or "Success". */
export const outcomeTag = (exit: Exit.Exit<unknown, unknown>): string => {
  if (Exit.isSuccess(exit)) return "Success"
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure)) return "NoFailure"
  const error = failure.value
  return typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : "Untagged"
}

/** The failure of an exit, if it failed with one. */
export const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/** Polls `check` until it holds or `within` passes; returns whether it held. */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, within: Duration.DurationInput) =>
  Effect.gen(function* () {
    const deadline = Date.now() + Duration.toMillis(Duration.decode(within))
    while (Date.now() < deadline) {
      if (yield* check) return true
      yield* Effect.sleep("20 millis")
    }
    return yield* check
  })
