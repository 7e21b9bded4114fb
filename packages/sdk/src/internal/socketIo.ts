import type * as Socket from "@effect/platform/Socket"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/**
 * The client side of one Socket.IO session over a WebSocket, as Daytona's notification gateway
 * speaks it: Engine.IO protocol 4 (`EIO=4`, WebSocket transport only), Socket.IO protocol 5 on the
 * default namespace, text packets only. The session opens the namespace with its `auth` object
 * (Daytona reads the token there), answers the server's heartbeat pings, and hands each event to the
 * caller; it ends when the socket closes, the server ends the session, or the server's pings stop
 * (a connection gone silent).
 */

/** What a session reports: the namespace opened, refused (with the server's reason), or an event. */
export type Frame =
  | { readonly _tag: "Connected" }
  | { readonly _tag: "Refused"; readonly reason: string }
  | { readonly _tag: "Event"; readonly name: string; readonly data: unknown }

/** The session ended for a reason of the protocol (not of the socket). */
export class SessionEnded extends Data.TaggedError("SessionEnded")<{ readonly reason: string }> {}

/** The query that selects Engine.IO 4 over a WebSocket. */
export const transportQuery = "EIO=4&transport=websocket"

const decoder = new TextDecoder()

interface Handshake {
  readonly pingInterval: number
  readonly pingTimeout: number
}

const parseJson = (text: string): unknown => {
  try {
    return text === "" ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

/** A Socket.IO packet of the default namespace (the namespace and ack id are read and set aside). */
const parsePacket = (text: string): { readonly type: string; readonly data: unknown } | undefined => {
  const type = text[0]
  if (type === undefined) return undefined
  let i = 1
  let namespace = "/"
  if (text[i] === "/") {
    const comma = text.indexOf(",", i)
    namespace = comma === -1 ? text.slice(i) : text.slice(i, comma)
    i = comma === -1 ? text.length : comma + 1
  }
  if (namespace !== "/") return undefined
  while (i < text.length && text[i]! >= "0" && text[i]! <= "9") i++
  return { type, data: parseJson(text.slice(i)) }
}

const reasonOf = (data: unknown) =>
  typeof data === "object" && data !== null && "message" in data && typeof data.message === "string"
    ? data.message
    : "the server refused the connection"

/**
 * Runs one session on `socket` until it ends, reporting its frames to `onFrame`. A server that does
 * not confirm the namespace within `connectTimeout`, or whose pings stop, ends it with
 * `SessionEnded`.
 */
export const run = <E, R>(
  socket: Socket.Socket,
  auth: Readonly<Record<string, unknown>>,
  onFrame: (frame: Frame) => Effect.Effect<void, E, R>,
  connectTimeout: Duration.Duration
): Effect.Effect<void, Socket.SocketError | SessionEnded | E, R | Scope.Scope> =>
  Effect.gen(function* () {
    const write = yield* socket.writer
    let handshake: Handshake | undefined
    let connected = false
    let heard = true
    const handle = (data: string | Uint8Array): Effect.Effect<void, Socket.SocketError | SessionEnded | E, R> => {
      const text = typeof data === "string" ? data : decoder.decode(data)
      heard = true
      switch (text[0]) {
        case "0": {
          const open = parseJson(text.slice(1)) as Partial<Handshake> | undefined
          handshake = {
            pingInterval: typeof open?.pingInterval === "number" ? open.pingInterval : 25_000,
            pingTimeout: typeof open?.pingTimeout === "number" ? open.pingTimeout : 20_000
          }
          return write(`40${JSON.stringify(auth)}`)
        }
        case "1":
          return Effect.fail(new SessionEnded({ reason: "the server closed the connection" }))
        case "2":
          return write("3")
        case "4": {
          const packet = parsePacket(text.slice(1))
          if (packet === undefined) return Effect.void
          switch (packet.type) {
            case "0":
              connected = true
              return onFrame({ _tag: "Connected" })
            case "4":
              return Effect.zipRight(
                onFrame({ _tag: "Refused", reason: reasonOf(packet.data) }),
                Effect.fail(new SessionEnded({ reason: reasonOf(packet.data) }))
              )
            case "1":
              return Effect.fail(new SessionEnded({ reason: "the server ended the session" }))
            case "2": {
              const args = packet.data
              if (!Array.isArray(args) || typeof args[0] !== "string") return Effect.void
              return onFrame({ _tag: "Event", name: args[0], data: args[1] })
            }
            default:
              return Effect.void
          }
        }
        default:
          return Effect.void
      }
    }
    const confirmed = Effect.sleep(connectTimeout).pipe(
      Effect.zipRight(
        Effect.suspend(() =>
          connected ? Effect.never : Effect.fail(new SessionEnded({ reason: "the server did not open the session" }))
        )
      )
    )
    // The server pings every `pingInterval`: nothing heard for that plus `pingTimeout` means a dead connection.
    const watchdog = Effect.gen(function* () {
      while (true) {
        const wait = handshake === undefined ? 25_000 + 20_000 : handshake.pingInterval + handshake.pingTimeout
        heard = false
        yield* Effect.sleep(Duration.millis(wait))
        if (!heard) return yield* Effect.fail(new SessionEnded({ reason: "the server's heartbeat stopped" }))
      }
    })
    yield* Effect.raceAll([socket.runRaw(handle), confirmed, watchdog])
  })
