/**
 * A `WebSocketConnector` that connects the SDK's WebSockets (followed logs, terminals, interpreter
 * runs) to an `HttpApp` in memory: each connection runs the app on an upgrade request whose
 * `upgrade` hands the server one end of an in-memory pair of sockets, the SDK holding the other.
 * A request the app answers without upgrading fails the connection as `ws` does ("Unexpected
 * server response: <status>"), so the SDK maps the status to its typed error.
 *
 * The app runs in the runtime the connector was made in: under `TestClock` (the layer built in the
 * test's fiber), the server's timeouts read the test's clock. Frames are delivered in order, each in
 * a microtask of its own, and wait until the receiving side listens.
 *
 * @since 0.1.0
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Socket from "@effect/platform/Socket"
import type * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type { App } from "./InMemoryHttpClient.js"

const CONNECTING = 0
const OPEN = 1
const CLOSED = 3

/** What one end dispatches, queued until that end listens for messages. */
type Delivery =
  | { readonly _tag: "message"; readonly data: string | Uint8Array }
  | { readonly _tag: "close"; readonly code: number; readonly reason: string }
  | { readonly _tag: "open" }
  | { readonly _tag: "error"; readonly error: Error }

/**
 * One end of an in-memory WebSocket pair, shaped like the standard `WebSocket` as far as the SDK
 * and `@effect/platform`'s `Socket.fromWebSocket` use it.
 */
class End extends EventTarget {
  readyState: number
  binaryType = "arraybuffer"
  peer: End | undefined
  private listening = false
  private readonly queue: Array<Delivery> = []
  private flushing = false

  constructor(
    readyState: number,
    readonly protocol: string
  ) {
    super()
    this.readyState = readyState
  }

  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: AddEventListenerOptions | boolean
  ) {
    super.addEventListener(type, listener, options)
    if (type === "message" && !this.listening) {
      this.listening = true
      this.flush()
    }
  }

  /** Queues a delivery to this end, in order. */
  deliver(delivery: Delivery) {
    this.queue.push(delivery)
    this.flush()
  }

  private flush() {
    if (this.flushing || this.queue.length === 0) return
    const next = this.queue[0]!
    if (next._tag === "message" && !this.listening) return
    this.flushing = true
    queueMicrotask(() => {
      this.flushing = false
      const delivery = this.queue.shift()
      if (delivery !== undefined) this.dispatch(delivery)
      this.flush()
    })
  }

  private dispatch(delivery: Delivery) {
    switch (delivery._tag) {
      case "open":
        if (this.readyState === CONNECTING) this.readyState = OPEN
        this.dispatchEvent(new Event("open"))
        return
      case "message":
        if (this.readyState === CLOSED) return
        this.dispatchEvent(Object.assign(new Event("message"), { data: delivery.data }))
        return
      case "error":
        this.dispatchEvent(
          Object.assign(new Event("error"), { error: delivery.error, message: delivery.error.message })
        )
        return
      case "close":
        this.readyState = CLOSED
        this.dispatchEvent(Object.assign(new Event("close"), { code: delivery.code, reason: delivery.reason }))
        return
    }
  }

  send(data: string | Uint8Array | ArrayBuffer) {
    if (this.readyState !== OPEN || this.peer === undefined) return
    const copy = typeof data === "string" ? data : new Uint8Array(data instanceof ArrayBuffer ? data.slice(0) : data)
    this.peer.deliver({ _tag: "message", data: copy })
  }

  close(code = 1000, reason = "") {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSED
    this.deliver({ _tag: "close", code, reason })
    this.peer?.shutdown(code, reason)
  }

  /** The other side closed: this one closes too, after what it has queued. */
  shutdown(code: number, reason: string) {
    if (this.readyState === CLOSED) return
    this.readyState = CLOSED
    this.deliver({ _tag: "close", code, reason })
  }
}

/** The web request of an upgrade to `url`, with the connection's headers and subprotocols. */
const upgradeRequest = (url: URL, options: WebSocketConnector.ConnectOptions) => {
  const headers = new Headers(options.headers)
  headers.set("connection", "Upgrade")
  headers.set("upgrade", "websocket")
  headers.set("sec-websocket-version", "13")
  const protocols = options.protocols === undefined ? [] : [options.protocols].flat()
  if (protocols.length > 0) headers.set("sec-websocket-protocol", protocols.join(", "))
  return new Request(url, { method: "GET", headers })
}

/**
 * `base` with `upgrade` answered by `upgrade`, also after the router rewrites it (`modify`, which
 * builds a new request).
 */
const upgradeable = (
  base: HttpServerRequest.HttpServerRequest,
  upgrade: Effect.Effect<Socket.Socket>
): HttpServerRequest.HttpServerRequest =>
  Object.create(base, {
    upgrade: { value: upgrade },
    modify: {
      value: (options: Parameters<HttpServerRequest.HttpServerRequest["modify"]>[0]) =>
        upgradeable(base.modify(options), upgrade)
    }
  })

/**
 * A connector whose connections are served by `app` (which answers for `origin`), in the runtime
 * of the effect that makes it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (app: App, options: { readonly origin: string }): Effect.Effect<WebSocketConnector.Connect> =>
  Effect.map(Effect.runtime<never>(), (runtime) => {
    const origin = new URL(options.origin).origin
    return (address, connectOptions) => {
      const url = new URL(address)
      url.protocol = url.protocol === "wss:" ? "https:" : "http:"
      const client = new End(CONNECTING, "")
      if (url.origin !== origin) {
        client.deliver({
          _tag: "error",
          error: Object.assign(new Error(`getaddrinfo ENOTFOUND ${url.hostname}`), { code: "ENOTFOUND" })
        })
        client.shutdown(1006, "")
        return client as unknown as globalThis.WebSocket
      }
      const server = new End(OPEN, "")
      server.peer = client
      let upgraded = false
      const request = upgradeable(
        HttpServerRequest.fromWeb(upgradeRequest(url, connectOptions)),
        Effect.suspend(() => {
          upgraded = true
          client.peer = server
          client.deliver({ _tag: "open" })
          return Socket.fromWebSocket(Effect.succeed(server as unknown as globalThis.WebSocket))
        })
      )
      Runtime.runFork(runtime)(
        app.pipe(
          Effect.provideService(HttpServerRequest.HttpServerRequest, request),
          Effect.map((response) => response.status),
          Effect.catchAllCause(() => Effect.succeed(500)),
          Effect.flatMap((status) =>
            Effect.sync(() => {
              if (!upgraded) {
                client.deliver({ _tag: "error", error: new Error(`Unexpected server response: ${status}`) })
                client.shutdown(1006, "")
              } else server.close(1006, "")
            })
          )
        )
      )
      return client as unknown as globalThis.WebSocket
    }
  })
