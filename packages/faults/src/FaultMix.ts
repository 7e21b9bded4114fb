/**
 * The fault mix of the suites, drawn from a seeded generator: per request 5 % a connection reset
 * (half before the server saw the request, half after it answered), 5 % an injected 503, 5 % a 429
 * with `Retry-After: 1`, 3 % a 3 s stall, 3 % an answer whose body is cut half way; the other 79 %
 * pass. The same mix is applied through the fault proxy (real sockets, WebSockets included) and in
 * memory (the testing kit's fault policy).
 *
 * @since 0.1.0
 */
import type * as Faults from "@effect-daytona/testing/Faults"
import { Fault } from "./FaultProxy.js"

/**
 * A small seeded generator (mulberry32): the same seed gives the same sequence.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The seed of a suite: `FAULTS_SEED` when set (to replay a run), else a random one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const seedFromEnv = (): number => Number(process.env["FAULTS_SEED"] ?? Math.floor(Math.random() * 2 ** 31))

/**
 * The fault kinds of the mix.
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "resetBefore" | "resetAfter" | "status503" | "status429" | "stall" | "cut" | "pass"

/**
 * Draws one request's fault kind.
 *
 * @since 0.1.0
 * @category constructors
 */
export const draw = (random: () => number): Kind => {
  const roll = random()
  if (roll < 0.025) return "resetBefore"
  if (roll < 0.05) return "resetAfter"
  if (roll < 0.1) return "status503"
  if (roll < 0.15) return "status429"
  if (roll < 0.18) return "stall"
  if (roll < 0.21) return "cut"
  return "pass"
}

/**
 * The mix through the fault proxy. A WebSocket (a followed log) meets the same kinds: a reset before
 * the upgrade or a drop shortly after it, a refused upgrade (503, 429), its frames held for 3 s, its
 * stream dropped part way.
 *
 * @since 0.1.0
 * @category constructors
 */
export const proxyFault = (random: () => number, websocket: boolean): Fault => {
  switch (draw(random)) {
    case "resetBefore":
      return Fault.resetBeforeForward
    case "resetAfter":
      return websocket ? Fault.closeWebSocket("abort", { afterMillis: 100 }) : Fault.resetAfterForward
    case "status503":
      return Fault.status(503)
    case "status429":
      return Fault.status(429, "1")
    case "stall":
      return Fault.stall(3000)
    case "cut":
      return Fault.cutBody
    case "pass":
      return Fault.pass
  }
}

/**
 * The mix in memory (the testing kit's policy): `refused` and `reset` connections, statuses, an
 * answer held back 3 s, a body cut half way.
 *
 * @since 0.1.0
 * @category constructors
 */
export const inMemoryFault = (random: () => number): Faults.Injection => {
  switch (draw(random)) {
    case "resetBefore":
      return { transport: "refused" }
    case "resetAfter":
      return { transport: "reset" }
    case "status503":
      return { status: 503 }
    case "status429":
      return { status: 429, headers: { "retry-after": "1" } }
    case "stall":
      return { delay: "3 seconds" }
    case "cut":
      return { truncate: "body" }
    case "pass":
      return undefined
  }
}
