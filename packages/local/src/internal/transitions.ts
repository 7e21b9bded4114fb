import * as Duration from "effect/Duration"

/** What follows a state once its due time has passed, and how long that state lasts (`null`: it is final). */
export interface Step {
  readonly state: string
  readonly after: Duration.Duration | null
}

/** A stored record whose state moves on by itself at due times. Times are epoch milliseconds. */
export interface Timed {
  readonly state: string
  readonly dueAt: number | null
  readonly updatedAt: number
}

/**
 * Applies every step whose due time is at or before `now`, each at its own due time, so a record
 * read late (or after a restart) ends up exactly where it would have been.
 */
export const settle = <R extends Timed>(record: R, now: number, next: (record: R) => Step | undefined): R => {
  let current = record
  while (current.dueAt !== null && current.dueAt <= now) {
    const at = current.dueAt
    const step = next(current)
    current =
      step === undefined
        ? { ...current, dueAt: null }
        : {
            ...current,
            state: step.state,
            dueAt: step.after === null ? null : at + Duration.toMillis(step.after),
            updatedAt: at
          }
  }
  return current
}

/** Epoch milliseconds as the ISO string the API sends. */
export const iso = (millis: number) => new Date(millis).toISOString()

/** Epoch milliseconds or nothing, as the API's nullable timestamps. */
export const isoOrNull = (millis: number | null) => (millis === null ? null : iso(millis))
