/**
 * How the SDK opens WebSockets to a sandbox's toolbox (followed session logs).
 *
 * Daytona authenticates a toolbox WebSocket with the same headers as HTTP (`Authorization:
 * Bearer …`, `X-Daytona-SDK-Version`, …), and the standard `WebSocket` constructor (and so
 * `Socket.WebSocketConstructor`) cannot send headers. This service is a constructor that can: it
 * receives the URL and the headers of each connection.
 *
 * The SDK never picks an implementation, so that no WebSocket library enters its import graph.
 * On Node, pass the `ws` package's class (it comes with `@effect/platform-node`):
 *
 * ```ts
 * import { WebSocket } from "ws"
 * import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
 *
 * program.pipe(Effect.provide(WebSocketConnector.layer(WebSocket)))
 * ```
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

/**
 * What each connection is opened with.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectOptions {
  readonly headers: Readonly<Record<string, string>>
  readonly protocols?: string | Array<string> | undefined
}

/**
 * Opens a WebSocket with headers. The result must behave like the standard `WebSocket`
 * (`addEventListener`, `send`, `close`, `readyState`), as `ws`'s class does.
 *
 * @since 0.1.0
 * @category models
 */
export type Connect = (url: string, options: ConnectOptions) => globalThis.WebSocket

/**
 * @since 0.1.0
 * @category tags
 */
export class WebSocketConnector extends Context.Tag("@effect-daytona/sdk/WebSocketConnector")<
  WebSocketConnector,
  Connect
>() {}

/**
 * A WebSocket class whose constructor takes `(url, protocols, { headers })`, like `ws`'s.
 *
 * @since 0.1.0
 * @category models
 */
export type HeaderCapableWebSocketClass = new (
  url: string,
  protocols: string | Array<string> | undefined,
  options: { readonly headers: Record<string, string> }
) => object

/**
 * A connector from a `ws`-compatible class.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromClass =
  (WebSocket: HeaderCapableWebSocketClass): Connect =>
  (url, options) =>
    new WebSocket(url, options.protocols, { headers: { ...options.headers } }) as globalThis.WebSocket

/**
 * The connector as a layer, from a `ws`-compatible class.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (WebSocket: HeaderCapableWebSocketClass): Layer.Layer<WebSocketConnector> =>
  Layer.succeed(WebSocketConnector, fromClass(WebSocket))
