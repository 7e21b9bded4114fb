import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"

/** The part of `ws`'s socket class a heartbeat needs; the standard `WebSocket` has none of it. */
interface PingableSocket {
  readonly readyState: number
  readonly ping: () => void
  readonly terminate: () => void
  readonly on: (event: "pong", listener: () => void) => unknown
  readonly off: (event: "pong", listener: () => void) => unknown
}

const isPingable = (socket: object): socket is PingableSocket =>
  "ping" in socket &&
  typeof socket.ping === "function" &&
  "terminate" in socket &&
  typeof socket.terminate === "function" &&
  "on" in socket &&
  typeof socket.on === "function" &&
  "off" in socket &&
  typeof socket.off === "function"

const open = 1

/** Why a heartbeat ended a connection: the peer answered no ping for a whole interval. */
export class HeartbeatLost extends Error {
  constructor(readonly interval: Duration.Duration) {
    super(`the peer answered no heartbeat ping within ${Duration.format(interval)}: the connection went silent`)
    this.name = "HeartbeatLost"
  }
}

/**
 * Pings an open socket every `interval`, in a fiber of the current scope. When a ping is still
 * unanswered at the next tick, `onLost` is called and the connection is torn down (a close without a
 * handshake, which the peer of a silent connection would never answer). Does nothing for sockets
 * that cannot ping, or when `interval` is infinite.
 */
export const keepAlive = (
  socket: object,
  interval: Duration.Duration,
  onLost: (reason: HeartbeatLost) => void
): Effect.Effect<void, never, Scope.Scope> => {
  if (!isPingable(socket) || !Duration.isFinite(interval)) return Effect.void
  let answered = true
  const onPong = () => {
    answered = true
  }
  const tick = Effect.sync(() => {
    if (socket.readyState !== open) return true
    if (!answered) {
      onLost(new HeartbeatLost(interval))
      socket.terminate()
      return false
    }
    answered = false
    try {
      socket.ping()
    } catch {
      // The socket is closing: its close event ends the run.
    }
    return true
  })
  return Effect.acquireRelease(
    Effect.sync(() => socket.on("pong", onPong)),
    () => Effect.sync(() => socket.off("pong", onPong))
  ).pipe(
    Effect.zipRight(
      Effect.forkScoped(
        Effect.repeat(tick, { schedule: Schedule.spaced(interval), while: (go) => go }).pipe(Effect.delay(interval))
      )
    ),
    Effect.asVoid
  )
}
