/**
 * The control-plane client: one preconfigured transport over the caller's `HttpClient`, with the
 * base URL, authentication and `X-Daytona-*` headers, a per-request timeout, the retry policy and
 * the mapping of Daytona's error bodies into the typed error family.
 *
 * Replace its layer to fake the control plane in tests.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import { DaytonaConfig, type Service as ConfigService } from "./DaytonaConfig.js"
import type { ApiError, StatusError } from "./DaytonaError.js"
import type * as Endpoint from "./Endpoint.js"
import * as EndpointCall from "./internal/endpointCall.js"
import * as Transport from "./internal/transport.js"

/**
 * Per-request options.
 *
 * @since 0.1.0
 * @category models
 */
export type SendOptions = Transport.SendOptions

/**
 * Options of a call of a declared endpoint: its timeout, whether its answer is streamed, and the
 * body of a multipart request. Whether it may be replayed comes from the declaration.
 *
 * @since 0.1.0
 * @category models
 */
export type CallOptions = EndpointCall.CallOptions

/**
 * The options argument of a call: required for a `convergent` endpoint, whose call must say how to
 * read whether its request took effect (`reconcile`), optional otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export type CallOptionsArgs<T extends Endpoint.Any> = EndpointCall.CallOptionsArgs<T>

/**
 * How a call of a `convergent` endpoint learns whether its request took effect.
 *
 * @since 0.1.0
 * @category models
 */
export type Reconcile<A> = EndpointCall.Reconcile<A>

/**
 * What a call of a declared endpoint can fail with: the failures of every request, a
 * `ValidationError` for input the declaration rejects before sending, and the errors of the statuses
 * it declares.
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
  readonly config: ConfigService
  /**
   * Calls a declared control-plane endpoint and decodes its answer, replayed by its declaration; a
   * `convergent` endpoint's call says how to read whether it took effect (`reconcile`).
   */
  readonly call: <T extends Endpoint.Any>(
    endpoint: T,
    input: Endpoint.Input<T>,
    ...options: CallOptionsArgs<T>
  ) => Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>>
  /** Calls a declared control-plane endpoint and hands back its response (for answers read as streams). */
  readonly execute: <T extends Endpoint.Any>(
    endpoint: T,
    input: Endpoint.Input<T>,
    options?: CallOptions
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, CallError<T>>
  /** Sends a request whose URL is relative to the API base URL; any non-2xx becomes a typed error. */
  readonly send: (
    request: HttpClientRequest.HttpClientRequest,
    options?: SendOptions
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError | StatusError>
  /**
   * Sends a request whose URL is absolute (an address Daytona handed out, such as a build log on
   * its proxy) with the client's headers, timeout and retries; any non-2xx becomes a typed error.
   */
  readonly sendAbsolute: (
    request: HttpClientRequest.HttpClientRequest,
    options?: SendOptions
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, ApiError | StatusError>
  /** Sends a request and decodes its JSON answer. */
  readonly json: <A, I>(
    request: HttpClientRequest.HttpClientRequest,
    schema: Schema.Schema<A, I>,
    options?: SendOptions
  ) => Effect.Effect<A, ApiError | StatusError>
  /** Sends a request and ignores its body. */
  readonly discard: (
    request: HttpClientRequest.HttpClientRequest,
    options?: SendOptions
  ) => Effect.Effect<void, ApiError | StatusError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DaytonaClient extends Context.Tag("@effect-daytona/sdk/DaytonaClient")<DaytonaClient, Service>() {}

/**
 * Builds the client from the configuration and an `HttpClient`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, HttpClient.HttpClient | DaytonaConfig> = Effect.gen(function* () {
  const config = yield* DaytonaConfig
  const client = yield* HttpClient.HttpClient
  const transport = Transport.make(client, config, "control-plane")
  const secrets = Transport.secretsOf(config)
  const send: Service["send"] = (request, options) =>
    transport.send(HttpClientRequest.prependUrl(request, config.apiUrl), options)
  return {
    config,
    call: (endpoint, input, ...options) =>
      EndpointCall.call(transport, config.apiUrl, secrets, endpoint, input, ...options),
    execute: (endpoint, input, options) => EndpointCall.execute(transport, config.apiUrl, endpoint, input, options),
    send,
    sendAbsolute: (request, options) => transport.send(request, options),
    json: (request, schema, options) => Effect.flatMap(send(request, options), Transport.decodeJson(schema, secrets)),
    discard: (request, options) => Effect.flatMap(send(request, options), Transport.discardBody)
  }
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<DaytonaClient, never, HttpClient.HttpClient | DaytonaConfig> = Layer.effect(
  DaytonaClient,
  make
)
