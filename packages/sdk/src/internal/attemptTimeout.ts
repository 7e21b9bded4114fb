import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)
/** Longer timers than this do not fire as asked in JavaScript; such a bound is no bound. */
const maxTimerMillis = 2 ** 31 - 1

/**
 * Fails `self` with `onTimeout()` when it has not completed within `duration`, and interrupts it.
 * The timeout works where the caller cannot be interrupted (a scope's finaliser deleting its
 * sandbox), while an interruption sent to such a caller still cannot reach `self`: `self` runs in a
 * detached, interruptible fiber that the caller awaits.
 *
 * Under the live clock that is one fiber and one timer, which costs a small call a third of what
 * `Effect.timeoutFail` (two fibers racing, their states merged back) does; under every other clock
 * (`TestClock`) the timer is the clock's own sleep, through `Effect.timeoutFail`. A duration beyond
 * what a timer can hold (`Duration.infinity`) runs `self` with no timer at all.
 *
 * `setup`, when given, runs first in the fiber that runs `self` (always a fiber of its own then),
 * so that the `FiberRef`s it sets hold for `self` alone and need no restoring afterwards (what
 * `Effect.locally` pays for).
 *
 * @internal
 */
export const attemptTimeout = <A, E, E2>(
  self: Effect.Effect<A, E>,
  duration: Duration.Duration,
  onTimeout: () => E2,
  setup?: Effect.Effect<void>
): Effect.Effect<A, E | E2> => {
  const prepared = setup === undefined ? self : Effect.zipRight(setup, self)
  const millis = Duration.toMillis(duration)
  if (!(millis <= maxTimerMillis)) return setup === undefined ? self : detached(prepared)
  return Effect.clockWith((clock) =>
    clock === liveClock
      ? withTimer(prepared, millis, onTimeout)
      : withClock(prepared, duration, onTimeout, setup !== undefined)
  )
}

const withTimer = <A, E, E2>(self: Effect.Effect<A, E>, millis: number, onTimeout: () => E2) =>
  Effect.flatMap(Effect.forkDaemon(Effect.interruptible(self)), (fiber) =>
    Effect.async<A, E | E2>((resume) => {
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        fiber.unsafeInterruptAsFork(fiber.id())
      }, millis)
      // Resumes once `self` is over: done, or interrupted by the timer (its clean-up included).
      fiber.addObserver((exit) => {
        clearTimeout(timer)
        resume(timedOut && Exit.isInterrupted(exit) ? Effect.fail(onTimeout()) : exit)
      })
      // The observer above clears the timer once the interrupted fiber is over.
      return Fiber.interrupt(fiber)
    })
  )

/**
 * Runs `self` in a fiber of its own that the caller awaits (its `FiberRef`s are not merged back);
 * interrupting the caller interrupts it, unless the caller cannot be interrupted.
 */
const detached = <A, E>(self: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.flatMap(Effect.forkDaemon(Effect.interruptible(self)), (fiber) =>
    Effect.onInterrupt(
      Effect.flatMap(Fiber.await(fiber), (exit) => exit),
      () => Fiber.interrupt(fiber)
    )
  )

const withClock = <A, E, E2>(
  self: Effect.Effect<A, E>,
  duration: Duration.Duration,
  onTimeout: () => E2,
  alwaysDetached: boolean
) => {
  const timed = Effect.timeoutFail(self, { duration, onTimeout })
  return alwaysDetached
    ? detached(timed)
    : Effect.checkInterruptible((interruptible) =>
        interruptible ? timed : Effect.flatMap(Effect.forkDaemon(Effect.interruptible(timed)), Fiber.join)
      )
}
