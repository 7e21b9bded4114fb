import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as NodeHttp from "node:http"
import type { Duplex } from "node:stream"
import { Server } from "socket.io"
import { EventBus } from "./events.js"
import { sameSecret } from "./secrets.js"

/** Where Daytona serves its notification gateway: under the API's path (`/api`). */
export const gatewayPath = "/api/socket.io/"

/** The gateway as the server's socket hands it requests on its path. */
export interface Gateway {
  /** Whether a request's URL is on the gateway's path. */
  readonly handles: (url: string | undefined) => boolean
  readonly request: (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => void
  readonly upgrade: (request: NodeHttp.IncomingMessage, socket: Duplex, head: Buffer) => void
}

/**
 * Daytona's notification gateway, on the `socket.io` package: WebSocket transport only (as
 * Daytona's), every connection authenticated by the token of its Socket.IO handshake (`auth.token`,
 * the API key) and joined to its organization's room (a handshake naming another organization is
 * refused), then every event the server publishes sent to that room (`sandbox.state.updated`, …).
 *
 * The Socket.IO server is attached to an HTTP server of its own that never listens: the server's
 * socket hands it the requests and upgrades on its path, so the gateway shares the server's port
 * without taking over the handlers of its other routes.
 */
export const make = (options: {
  readonly apiKey: Redacted.Redacted<string>
  readonly organizationId: string
}): Effect.Effect<Gateway, never, EventBus | import("effect/Scope").Scope> =>
  Effect.gen(function* () {
    const bus = yield* EventBus
    const attachment = new NodeHttp.Server()
    const io = new Server(attachment, {
      path: gatewayPath,
      transports: ["websocket"],
      serveClient: false
    })
    io.use((socket, next) => {
      const token: unknown = socket.handshake.auth["token"]
      const organization = socket.handshake.query["organizationId"]
      if (typeof token !== "string" || !sameSecret(token, Redacted.value(options.apiKey)))
        return next(new Error("Unauthorized"))
      if (organization !== undefined && organization !== options.organizationId) return next(new Error("Unauthorized"))
      void socket.join(options.organizationId)
      next()
    })
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        io.close(() => resume(Effect.void))
      })
    )
    const events = yield* bus.subscribe
    yield* Queue.take(events).pipe(
      Effect.tap((event) => Effect.sync(() => io.to(event.organizationId).emit(event.name, event.payload))),
      Effect.forever,
      Effect.forkScoped
    )
    return {
      handles: (url) => url !== undefined && url.startsWith(gatewayPath),
      request: (request, response) => {
        attachment.emit("request", request, response)
      },
      upgrade: (request, socket, head) => {
        attachment.emit("upgrade", request, socket, head)
      }
    }
  })
