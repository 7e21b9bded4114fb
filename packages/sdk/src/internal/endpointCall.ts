import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import type { ApiError, ValidationError } from "../DaytonaError.js"
import * as Endpoint from "../Endpoint.js"
import { expectStatus } from "./expect.js"
import * as Transport from "./transport.js"

/** Per-call options of a declared endpoint: the transport's, and the body of a multipart request. @internal */
export interface CallOptions extends Omit<Transport.SendOptions, "idempotent"> {
  /** The body of an endpoint whose payload is multipart (built by the caller, often streamed). */
  readonly body?: HttpBody.HttpBody | undefined
  /** Header parameters of the contract (`X-Daytona-Organization-ID`, …). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** What a call of `T` can fail with. @internal */
export type CallError<T extends Endpoint.Any> = ApiError | ValidationError | Endpoint.ErrorOf<Endpoint.ErrorsOf<T>>

/** Whether the transport may replay a request of this endpoint after an ambiguous failure. @internal */
export const isReplayable = (endpoint: Endpoint.Any): boolean => endpoint.replay === "safe"

/**
 * Sends a call of a declared endpoint under `base` and hands back the response: statuses the
 * endpoint does not declare become `UnexpectedResponseError`. @internal
 */
export const execute = <T extends Endpoint.Any>(
  transport: Transport.Transport,
  base: string,
  endpoint: T,
  input: Endpoint.Input<T>,
  options: CallOptions = {}
): Effect.Effect<HttpClientResponse.HttpClientResponse, CallError<T>> => {
  const tags = endpoint.errors.map((status) => Endpoint.errorTagOf[status])
  return Endpoint.request(endpoint, input).pipe(
    Effect.flatMap((request) =>
      transport.send(
        HttpClientRequest.prependUrl(
          request.pipe(
            options.body === undefined ? (r) => r : HttpClientRequest.setBody(options.body),
            options.headers === undefined ? (r) => r : HttpClientRequest.setHeaders(options.headers)
          ),
          base
        ),
        { timeout: options.timeout, retry: options.retry, stream: options.stream, idempotent: isReplayable(endpoint) }
      )
    ),
    expectStatus(...tags)
  ) as Effect.Effect<HttpClientResponse.HttpClientResponse, CallError<T>>
}

/** Sends a call and decodes its answer: JSON by the declared schema, text as text, anything else drained. @internal */
export const call = <T extends Endpoint.Any>(
  transport: Transport.Transport,
  base: string,
  secrets: ReadonlyArray<string>,
  endpoint: T,
  input: Endpoint.Input<T>,
  options: CallOptions = {}
): Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>> =>
  Effect.flatMap(
    execute(transport, base, endpoint, input, options),
    (response): Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>> => {
      const success: Endpoint.Success = endpoint.success
      switch (success._tag) {
        case "Json":
          return Transport.decodeJson(success.schema, secrets)(response) as Effect.Effect<
            Endpoint.SuccessOf<T>,
            CallError<T>
          >
        case "Text":
          return Transport.readText(response) as Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>>
        default:
          return Effect.as(Transport.discardBody(response), undefined as Endpoint.SuccessOf<T>)
      }
    }
  )
