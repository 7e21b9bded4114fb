/**
 * Waiting as composable combinators: poll an effect on a `Schedule` until a decision says done or
 * failed, and bound any effect (requests included) by one deadline that reports the last state
 * seen. Everything reads Effect's `Clock`, so `TestClock` drives waits in tests.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import { SandboxFailedError, ValidationError, WaitTimeoutError } from "./DaytonaError.js"
import * as Transport from "./internal/transport.js"
import type { SandboxState } from "./SandboxState.js"

/**
 * What a poll's result means: the wait is over (`Done`), must go on (`Continue`), or has failed
 * (`Fail`).
 *
 * @since 0.1.0
 * @category models
 */
export type Decision<A, E> =
  | { readonly _tag: "Done"; readonly value: A }
  | { readonly _tag: "Continue" }
  | { readonly _tag: "Fail"; readonly error: E }

/**
 * @since 0.1.0
 * @category constructors
 */
export const done = <A>(value: A): Decision<A, never> => ({ _tag: "Done", value })

/**
 * @since 0.1.0
 * @category constructors
 */
export const keepPolling: Decision<never, never> = { _tag: "Continue" }

/**
 * @since 0.1.0
 * @category constructors
 */
export const fail = <E>(error: E): Decision<never, E> => ({ _tag: "Fail", error })

/**
 * The official SDKs' cadence: every 100 ms for the first 5 seconds, then each pause 10% longer than
 * the one before, never more than 1 second.
 *
 * @since 0.1.0
 * @category schedules
 */
export const defaultSchedule: Schedule.Schedule<unknown> = Schedule.spaced("100 millis").pipe(
  Schedule.upTo("5 seconds"),
  Schedule.andThen(
    Schedule.exponential("110 millis", 1.1).pipe(
      Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(1)))
    )
  )
)

/**
 * Whether a poll's failure is only a missed poll: a transient failure of its request (a dropped
 * connection, a body cut off, no answer in time, 408, 429, 502, 503, 504) that survived the
 * request's own retries. The next poll may well succeed, so a wait goes on until its deadline.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isMissedPoll = (error: unknown): boolean => Transport.isTransient(error)

/**
 * Runs `self`, then again after each pause of `schedule` (default {@link defaultSchedule}), until
 * `decide` says `Done` or `Fail`. When the schedule ends, polling goes on once a second; bound
 * the wait with {@link withDeadline}. A poll that fails with an error `missed` accepts (default
 * {@link isMissedPoll}) counts as a poll that saw nothing new: the wait goes on, within the
 * deadline that bounds it; any other failure ends the wait.
 *
 * @since 0.1.0
 * @category combinators
 */
export const poll = <A, E, R, B, E2>(
  self: Effect.Effect<A, E, R>,
  options: {
    readonly decide: (a: A) => Decision<B, E2>
    readonly schedule?: Schedule.Schedule<unknown> | undefined
    readonly missed?: ((error: E) => boolean) | undefined
  }
): Effect.Effect<B, E | E2, R> =>
  Effect.gen(function* () {
    const driver = yield* Schedule.driver(
      Schedule.andThen(options.schedule ?? defaultSchedule, Schedule.spaced("1 second"))
    )
    const missed = options.missed ?? isMissedPoll
    const attempt = self.pipe(
      Effect.map(Option.some),
      Effect.catchIf(missed, () => Effect.succeed(Option.none<A>()))
    )
    while (true) {
      const seen = yield* attempt
      const decision: Decision<B, E2> = Option.isSome(seen) ? options.decide(seen.value) : keepPolling
      switch (decision._tag) {
        case "Done":
          return decision.value
        case "Fail":
          return yield* Effect.fail(decision.error)
        case "Continue":
          yield* Effect.ignore(driver.next(undefined))
      }
    }
  })

/**
 * Bounds `self` by a deadline. When it passes, `self` is interrupted (an HTTP request in flight is
 * aborted) and the effect fails with `onTimeout`'s error. `Duration.infinity` means no deadline.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withDeadline: {
  <E2>(
    deadline: Duration.Duration,
    onTimeout: Effect.Effect<E2>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | E2, R>
  <A, E, R, E2>(
    self: Effect.Effect<A, E, R>,
    deadline: Duration.Duration,
    onTimeout: Effect.Effect<E2>
  ): Effect.Effect<A, E | E2, R>
} = ((...args: Array<unknown>) => {
  if (args.length === 2) {
    const [deadline, onTimeout] = args as [Duration.Duration, Effect.Effect<unknown>]
    return (self: Effect.Effect<unknown, unknown, unknown>) => applyDeadline(self, deadline, onTimeout)
  }
  const [self, deadline, onTimeout] = args as [
    Effect.Effect<unknown, unknown, unknown>,
    Duration.Duration,
    Effect.Effect<unknown>
  ]
  return applyDeadline(self, deadline, onTimeout)
}) as never

const applyDeadline = <A, E, R, E2>(
  self: Effect.Effect<A, E, R>,
  deadline: Duration.Duration,
  onTimeout: Effect.Effect<E2>
): Effect.Effect<A, E | E2, R> =>
  Duration.isFinite(deadline)
    ? Effect.flatMap(
        Effect.timeoutOption(self, deadline),
        Option.match({ onNone: () => Effect.flatMap(onTimeout, Effect.fail), onSome: Effect.succeed })
      )
    : self

/**
 * Checks a caller's deadline: `undefined` takes `fallback`; zero, negative and NaN inputs are
 * validation errors (use `Duration.infinity` for no deadline).
 *
 * @since 0.1.0
 * @category constructors
 */
export const deadlineFrom = (
  field: string,
  input: Duration.DurationInput | undefined,
  fallback: Duration.Duration
): Effect.Effect<Duration.Duration, ValidationError> => {
  if (input === undefined) return Effect.succeed(fallback)
  const invalid = (got: string) =>
    Effect.fail(
      new ValidationError({
        field,
        message: `${field} must be a positive duration (Duration.infinity for none), got ${got}`
      })
    )
  if (typeof input === "number" && (Number.isNaN(input) || input <= 0)) return invalid(String(input))
  if (typeof input === "bigint" && input <= 0n) return invalid(String(input))
  if (typeof input === "string" && input.trim().startsWith("-")) return invalid(input)
  if (Array.isArray(input) && (input[0] < 0 || input[1] < 0)) return invalid(`[${input.join(", ")}]`)
  const duration = Duration.decodeUnknown(input)
  if (Option.isNone(duration)) return invalid(String(input))
  return Duration.greaterThan(duration.value, Duration.zero) ? Effect.succeed(duration.value) : invalid("zero")
}

/**
 * The part of a sandbox a wait looks at.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxSnapshot {
  readonly id: string
  readonly state?: SandboxState | undefined
  readonly errorReason?: string | undefined
  readonly recoverable?: boolean | undefined
}

/**
 * The error of a sandbox that will not reach the state a wait wants: its id, its state and, when it
 * has them, why it failed and whether it can be recovered.
 *
 * @since 0.1.0
 * @category constructors
 */
export const failedError = <S extends SandboxSnapshot>(sandbox: S): SandboxFailedError =>
  new SandboxFailedError({
    sandboxId: sandbox.id,
    state: sandbox.state ?? "unknown",
    ...(sandbox.errorReason === undefined ? {} : { errorReason: sandbox.errorReason }),
    ...(sandbox.recoverable === undefined ? {} : { recoverable: sandbox.recoverable })
  })

const failed = <S extends SandboxSnapshot>(sandbox: S): Decision<never, SandboxFailedError> =>
  fail(failedError(sandbox))

/**
 * Done at `started`; `error` and `build_failed` fail the wait.
 *
 * @since 0.1.0
 * @category decisions
 */
export const untilStarted = <S extends SandboxSnapshot>(sandbox: S): Decision<S, SandboxFailedError> =>
  sandbox.state === "started"
    ? done(sandbox)
    : sandbox.state === "error" || sandbox.state === "build_failed"
      ? failed(sandbox)
      : keepPolling

/**
 * Done at `stopped` or `destroyed` (an ephemeral sandbox is deleted when it stops); `error` and
 * `build_failed` fail the wait.
 *
 * @since 0.1.0
 * @category decisions
 */
export const untilStopped = <S extends SandboxSnapshot>(sandbox: S): Decision<S, SandboxFailedError> =>
  sandbox.state === "stopped" || sandbox.state === "destroyed"
    ? done(sandbox)
    : sandbox.state === "error" || sandbox.state === "build_failed"
      ? failed(sandbox)
      : keepPolling

/**
 * Done at the given state; `error` and `build_failed` fail the wait.
 *
 * @since 0.1.0
 * @category decisions
 */
export const untilState =
  (target: SandboxState) =>
  <S extends SandboxSnapshot>(sandbox: S): Decision<S, SandboxFailedError> =>
    sandbox.state === target
      ? done(sandbox)
      : sandbox.state === "error" || sandbox.state === "build_failed"
        ? failed(sandbox)
        : keepPolling

/**
 * Done once the sandbox has left all the given transitional states (for example `resizing`);
 * `error` and `build_failed` fail the wait.
 *
 * @since 0.1.0
 * @category decisions
 */
export const untilNotIn =
  (transitional: ReadonlyArray<SandboxState>) =>
  <S extends SandboxSnapshot>(sandbox: S): Decision<S, SandboxFailedError> =>
    sandbox.state === "error" || sandbox.state === "build_failed"
      ? failed(sandbox)
      : sandbox.state !== undefined && transitional.includes(sandbox.state)
        ? keepPolling
        : done(sandbox)

/**
 * The states in which no transition is under way: a sandbox rests there until asked to move.
 *
 * @since 0.1.0
 * @category constants
 */
export const restingStates: ReadonlyArray<SandboxState> = ["started", "stopped", "archived", "paused", "destroyed"]

/**
 * Done once the sandbox rests (see {@link restingStates}) in the state it is meant to be in (its
 * `desiredState`, when the answer has one); `error` and `build_failed` fail the wait.
 *
 * @since 0.1.0
 * @category decisions
 */
export const untilResting = <S extends SandboxSnapshot & { readonly desiredState?: string | undefined }>(
  sandbox: S
): Decision<S, SandboxFailedError> =>
  sandbox.state === "error" || sandbox.state === "build_failed"
    ? failed(sandbox)
    : sandbox.state !== undefined &&
        restingStates.includes(sandbox.state) &&
        (sandbox.desiredState === undefined || sandbox.desiredState === sandbox.state)
      ? done(sandbox)
      : keepPolling

/**
 * Remembers the last sandbox an operation saw, so that its deadline can report its id and state.
 *
 * @since 0.1.0
 * @category models
 */
export interface Tracker {
  readonly observe: <S extends { readonly id: string; readonly state?: SandboxState | undefined }>(
    sandbox: S
  ) => Effect.Effect<S>
  readonly last: Effect.Effect<{ readonly id: string; readonly state: SandboxState | undefined } | undefined>
  /** The error the deadline raises: a `WaitTimeoutError` carrying the last id and state seen. */
  readonly timeoutError: (options: {
    readonly operation: string
    readonly awaited: string
    readonly timeout: Duration.Duration
  }) => Effect.Effect<WaitTimeoutError>
}

/**
 * Makes a {@link Tracker}, optionally knowing the resource's id from the start.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tracker = (resourceId?: string): Effect.Effect<Tracker> =>
  Effect.map(
    Ref.make<{ readonly id: string; readonly state: SandboxState | undefined } | undefined>(
      resourceId === undefined ? undefined : { id: resourceId, state: undefined }
    ),
    (ref): Tracker => ({
      observe: (sandbox) => Effect.as(Ref.set(ref, { id: sandbox.id, state: sandbox.state }), sandbox),
      last: Ref.get(ref),
      timeoutError: (options) =>
        Effect.map(
          Ref.get(ref),
          (last) =>
            new WaitTimeoutError({
              operation: options.operation,
              awaited: options.awaited,
              timeout: options.timeout,
              ...(last === undefined ? {} : { resourceId: last.id }),
              ...(last?.state === undefined ? {} : { lastState: last.state })
            })
        )
    })
  )
