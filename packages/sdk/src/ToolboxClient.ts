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
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schema from "effect/Schema"
import { DaytonaConfig } from "./DaytonaConfig.js"
import type { ApiError, StatusError } from "./DaytonaError.js"
import * as Transport from "./internal/transport.js"

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
 * @since 0.1.0
 * @category models
 */
export interface Service {
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
  const send: Service["send"] = (target, request, options) =>
    transport.send(HttpClientRequest.prependUrl(request, baseUrl(target)), options)
  return {
    send,
    json: (target, request, schema, options) =>
      Effect.flatMap(send(target, request, options), Transport.decodeJson(schema, secrets))
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
