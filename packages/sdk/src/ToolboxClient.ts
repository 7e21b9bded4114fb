/**
 * The toolbox client: requests to the daemon inside one sandbox, addressed at
 * `{toolboxProxyUrl}/{sandboxId}` over the same transport as the control plane (same headers,
 * timeouts, retries and error mapping; a 408 here is a command timeout).
 *
 * Replace its layer to fake the inside of sandboxes in tests.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Socket from "@effect/platform/Socket"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import { DaytonaConfig, type Service as ConfigService } from "./DaytonaConfig.js"
import type { ApiError, StatusError } from "./DaytonaError.js"
import type * as Endpoint from "./Endpoint.js"
import * as EndpointCall from "./internal/endpointCall.js"
import * as SocketHeartbeat from "./internal/socketHeartbeat.js"
import * as Transport from "./internal/transport.js"
import { WebSocketConnector } from "./WebSocketConnector.js"

/**
 * The sandbox a toolbox request goes to.
 *
 * @since 0.1.0
 * @category models
 */
export interface Target {
  readonly id: string
  readonly toolboxProxyUrl: string
}

/**
 * Per-request options.
 *
 * @since 0.1.0
 * @category models
 */
export type SendOptions = Transport.SendOptions

/**
 * Options of a call of a declared toolbox endpoint (see `DaytonaClient.CallOptions`).
 *
 * @since 0.1.0
 * @category models
 */
export type CallOptions = EndpointCall.CallOptions

/**
 * What a call of a declared toolbox endpoint can fail with (see `DaytonaClient.CallError`).
 *
 * @since 0.1.0
 * @category models
 */
export type CallError<T extends Endpoint.Any> = EndpointCall.CallError<T>

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The configuration the client runs with (timeouts, retry policy). */
  readonly config: ConfigService
  /** Calls a declared toolbox endpoint of a sandbox and decodes its answer (see `DaytonaClient.Service.call`). */
  readonly call: <T extends Endpoint.Any>(
    target: Target,
    endpoint: T,
    input: Endpoint.Input<T>,
    ...options: EndpointCall.CallOptionsArgs<T>
  ) => Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>>
  /** Calls a declared toolbox endpoint of a sandbox and hands back its response (answers read as streams). */
  readonly execute: <T extends Endpoint.Any>(
    target: Target,
    endpoint: T,
    input: Endpoint.Input<T>,
    options?: CallOptions
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, CallError<T>>
  /** Sends a request whose URL is relative to the sandbox's toolbox base. */
  readonly send: (
    target: Target,
    request: HttpClientRequest.HttpClientRequest,
    options?: SendOptions
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError | StatusError>
  /** Sends a request and decodes its JSON answer. */
  readonly json: <A, I>(
    target: Target,
    request: HttpClientRequest.HttpClientRequest,
    schema: Schema.Schema<A, I>,
    options?: SendOptions
  ) => Effect.Effect<A, ApiError | StatusError>
  /**
   * A WebSocket to a path (query included) under the sandbox's toolbox base, `ws(s)://…`, opened
   * with the same headers as HTTP requests (`Authorization` included) through the
   * {@link WebSocketConnector}. Each `run` of the socket opens a new connection, pinged every
   * `socketHeartbeat` when the connector's sockets can ping: a ping still unanswered at the next one
   * ends the run with a `SocketGenericError` whose cause says so.
   */
  readonly socket: (
    target: Target,
    path: string,
    options?: SocketOptions
  ) => Effect.Effect<Socket.Socket, never, WebSocketConnector>
}

/**
 * Options of {@link Service.socket}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SocketOptions {
  /** Which close codes end a `run` with an error. Default: every code but 1000. */
  readonly closeCodeIsError?: ((code: number) => boolean) | undefined
  /** How long the opening handshake may take. Default: `DaytonaConfig.requestTimeout`. */
  readonly openTimeout?: Duration.DurationInput | undefined
  /** The subprotocols offered in the handshake (`Sec-WebSocket-Protocol`). Default: none. */
  readonly protocols?: ReadonlyArray<string> | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class ToolboxClient extends Context.Tag("@effect-daytona/sdk/ToolboxClient")<ToolboxClient, Service>() {}

/**
 * The toolbox base URL of a sandbox.
 *
 * @since 0.1.0
 * @category constructors
 */
export const baseUrl = (target: Target): string =>
  `${target.toolboxProxyUrl.replace(/\/+$/, "")}/${encodeURIComponent(target.id)}`

/**
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, HttpClient.HttpClient | DaytonaConfig> = Effect.gen(function* () {
  const config = yield* DaytonaConfig
  const client = yield* HttpClient.HttpClient
  const transport = Transport.make(client, config, "toolbox")
  const secrets = Transport.secretsOf(config)
  // Each request names its sandbox for the transport's span and metrics.
  const toSandbox = (target: Target): Transport.Transport => ({
    schedule: transport.schedule,
    send: (request, options) => transport.send(request, { ...options, sandboxId: target.id })
  })
  const send: Service["send"] = (target, request, options) =>
    toSandbox(target).send(HttpClientRequest.prependUrl(request, baseUrl(target)), options)
  const token = config.credentials._tag === "ApiKey" ? config.credentials.apiKey : config.credentials.token
  const socket: Service["socket"] = (target, path, options) => {
    const url = `${baseUrl(target).replace(/^http/i, "ws")}${path.startsWith("/") ? path : `/${path}`}`
    let lost: SocketHeartbeat.HeartbeatLost | undefined
    const acquire = Effect.acquireRelease(
      Effect.map(WebSocketConnector, (connect) =>
        connect(url, {
          headers: { ...Transport.defaultHeaders(config), authorization: `Bearer ${Redacted.value(token)}` },
          ...(options?.protocols === undefined ? {} : { protocols: [...options.protocols] })
        })
      ),
      (ws) => Effect.sync(() => ws.close(1000))
    ).pipe(
      Effect.tap((ws) => {
        lost = undefined
        return SocketHeartbeat.keepAlive(ws, config.socketHeartbeat, (reason) => {
          lost = reason
        })
      })
    )
    // A connection the heartbeat tore down closes like every dropped one (1006): say why instead.
    const explained = <A, E, R>(run: Effect.Effect<A, E, R>): Effect.Effect<A, E | Socket.SocketError, R> =>
      Effect.catchIf(
        run,
        () => lost !== undefined,
        () => Effect.fail(new Socket.SocketGenericError({ reason: "Read", cause: lost }))
      )
    return Effect.map(
      Socket.fromWebSocket(acquire, {
        closeCodeIsError: options?.closeCodeIsError ?? ((code) => code !== 1000),
        openTimeout: options?.openTimeout ?? config.requestTimeout
      }),
      (socket) =>
        Socket.Socket.of({
          ...socket,
          run: (handler, runOptions) => explained(socket.run(handler, runOptions)),
          runRaw: (handler, runOptions) => explained(socket.runRaw(handler, runOptions))
        })
    )
  }
  return {
    config,
    call: (target, endpoint, input, ...options) =>
      EndpointCall.call(toSandbox(target), baseUrl(target), secrets, endpoint, input, ...options),
    execute: (target, endpoint, input, options) =>
      EndpointCall.execute(toSandbox(target), baseUrl(target), endpoint, input, options),
    send,
    json: (target, request, schema, options) =>
      Effect.flatMap(send(target, request, options), Transport.decodeJson(schema, secrets)),
    socket
  }
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ToolboxClient, never, HttpClient.HttpClient | DaytonaConfig> = Layer.effect(
  ToolboxClient,
  make
)
