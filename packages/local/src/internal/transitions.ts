import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import type * as Scope from "effect/Scope"

/**
 * The one mechanism behind every resource whose state moves on by itself (sandboxes, snapshots,
 * volumes): a stored record carries the time its next step is due, and reading it (or a background
 * fiber, when the step must happen on time) applies each step at its own due time. A record read late,
 * or after a restart, therefore ends up exactly where it would have been.
 */

/** A stored record whose next step is due at `dueAt` (epoch milliseconds), or never (`null`). */
export interface Timed {
  readonly dueAt: number | null
}

/** A record whose step is due now: `dueAt` is set. */
export type Due<R extends Timed> = R & { readonly dueAt: number }

/**
 * Applies every step due at or before `now`, in order, storing each result. `step` completes the
 * step due at `record.dueAt` (with its effect on the machine, if it has one) and returns the record
 * with its next due time, or `null` when nothing more is due. It runs uninterruptibly: a step that
 * reached the machine is always stored.
 */
export const settle = <R extends Timed, E, Req>(
  record: R,
  now: number,
  step: (record: Due<R>) => Effect.Effect<R, E, Req>,
  store: (record: R) => Effect.Effect<void>
): Effect.Effect<R, E, Req> =>
  Effect.gen(function* () {
    let current = record
    while (current.dueAt !== null && current.dueAt <= now) {
      current = yield* step(current as Due<R>)
      yield* store(current)
    }
    return current
  }).pipe(Effect.uninterruptible)

/** What follows a state once its due time has passed, and how long that state lasts (`null`: final). */
export interface Next {
  readonly state: string
  readonly after: Duration.Duration | null
}

/**
 * The step of a record whose states follow a table (no effect on the machine): `next` names the state
 * after the current one, or `undefined` when the current one simply stops being timed.
 */
export const tableStep =
  <R extends Timed & { readonly state: string; readonly updatedAt: number }>(next: (record: R) => Next | undefined) =>
  (record: Due<R>): Effect.Effect<R> => {
    const at = record.dueAt
    const following = next(record)
    return Effect.succeed(
      following === undefined
        ? { ...record, dueAt: null }
        : {
            ...record,
            state: following.state,
            dueAt: following.after === null ? null : at + Duration.toMillis(following.after),
            updatedAt: at
          }
    )
  }

/** Runs records' due steps in the background, at their times: one fiber per record. */
export interface Driver {
  /** (Re)starts the fiber of a record after its due time changed. */
  readonly schedule: (id: string) => Effect.Effect<void>
}

/**
 * A driver over `dueAt` (reads a record's next due time, `null` when nothing is due or the record is
 * gone) and `settleNow` (settles the record, under whatever lock guards it). Its fibers end with the
 * scope.
 */
export const driver = (
  dueAt: (id: string) => Effect.Effect<number | null>,
  settleNow: (id: string) => Effect.Effect<void>
): Effect.Effect<Driver, never, Scope.Scope> =>
  Effect.gen(function* () {
    const fibers = yield* FiberMap.make<string>()
    const drive = (id: string): Effect.Effect<void> =>
      Effect.gen(function* () {
        while (true) {
          const due = yield* dueAt(id)
          if (due === null) return
          const now = yield* Clock.currentTimeMillis
          yield* Effect.sleep(Duration.millis(Math.max(0, due - now)))
          yield* settleNow(id)
        }
      })
    return { schedule: (id) => FiberMap.run(fibers, id, drive(id)).pipe(Effect.asVoid) }
  })

/** Epoch milliseconds as the ISO string the API sends. */
export const iso = (millis: number) => new Date(millis).toISOString()

/** Epoch milliseconds or nothing, as the API's nullable timestamps. */
export const isoOrNull = (millis: number | null) => (millis === null ? null : iso(millis))
