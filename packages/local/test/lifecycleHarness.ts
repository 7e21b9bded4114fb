import * as Effect from "effect/Effect"
import { realSleep } from "./attackHarness.js"
import { advance, asSandbox, call, type Client } from "./utils.js"

/**
 * Advances the TestClock in steps, giving real time to the background work (file copies) between
 * steps, until the sandbox reports `wanted` (at most `steps` steps); answers the last state seen.
 */
export const settleTo = (client: Client, id: string, wanted: string, steps = 60) =>
  Effect.gen(function* () {
    let seen = ""
    for (let i = 0; i < steps; i++) {
      const answer = yield* call(client, "GET", `/api/sandbox/${id}`)
      seen = answer.status === 404 ? "destroyed" : (asSandbox(answer).state ?? "")
      if (seen === wanted) return seen
      yield* realSleep(50)
      yield* advance("500 millis")
    }
    return seen
  })

/** The state of a snapshot, read by id or name. */
export const snapshotState = (client: Client, idOrName: string) =>
  Effect.map(call(client, "GET", `/api/snapshots/${idOrName}`), (answer) => {
    const body = answer.body as { readonly state?: string; readonly errorReason?: string | null }
    return { status: answer.status, state: body.state, errorReason: body.errorReason }
  })

/** Advances until a snapshot reports `wanted` (as `settleTo` does for sandboxes). */
export const snapshotSettleTo = (client: Client, idOrName: string, wanted: string, steps = 60) =>
  Effect.gen(function* () {
    let seen: string | undefined
    for (let i = 0; i < steps; i++) {
      seen = (yield* snapshotState(client, idOrName)).state
      if (seen === wanted) return seen
      yield* realSleep(50)
      yield* advance("500 millis")
    }
    return seen
  })
