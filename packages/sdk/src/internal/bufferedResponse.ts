import type * as Cookies from "@effect/platform/Cookies"
import type * as Headers from "@effect/platform/Headers"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Effect from "effect/Effect"
import * as Inspectable from "effect/Inspectable"
import type * as Option from "effect/Option"
import * as Stream from "effect/Stream"

const decoder = new TextDecoder()

class BufferedResponse extends Inspectable.Class implements HttpClientResponse.HttpClientResponse {
  readonly [HttpIncomingMessage.TypeId]: HttpIncomingMessage.TypeId = HttpIncomingMessage.TypeId
  readonly [HttpClientResponse.TypeId]: HttpClientResponse.TypeId = HttpClientResponse.TypeId
  readonly request: HttpClientRequest.HttpClientRequest
  readonly status: number
  readonly headers: Headers.Headers
  readonly remoteAddress: Option.Option<string>
  private readonly source: HttpClientResponse.HttpClientResponse
  private readonly body: Uint8Array<ArrayBuffer> | undefined
  private decoded: string | undefined

  constructor(source: HttpClientResponse.HttpClientResponse, body: Uint8Array<ArrayBuffer> | undefined) {
    super()
    this.source = source
    this.request = source.request
    this.status = source.status
    this.headers = source.headers
    this.remoteAddress = source.remoteAddress
    this.body = body
  }

  get cookies(): Cookies.Cookies {
    return this.source.cookies
  }

  private decodeError(cause: unknown) {
    return new HttpClientError.ResponseError({ request: this.request, response: this, reason: "Decode", cause })
  }

  /** The body as text, decoded once. */
  textNow(): string {
    return (this.decoded ??= this.body === undefined ? "" : decoder.decode(this.body))
  }

  get text(): Effect.Effect<string, HttpClientError.ResponseError> {
    return Effect.sync(() => this.textNow())
  }

  get json(): Effect.Effect<unknown, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: (): unknown => (text === "" ? null : JSON.parse(text)),
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  get urlParamsBody(): Effect.Effect<UrlParams.UrlParams, HttpClientError.ResponseError> {
    return Effect.flatMap(this.text, (text) =>
      Effect.try({
        try: () => UrlParams.fromInput(new URLSearchParams(text)),
        catch: (cause) => this.decodeError(cause)
      })
    )
  }

  get arrayBuffer(): Effect.Effect<ArrayBuffer, HttpClientError.ResponseError> {
    return Effect.sync(() => (this.body === undefined ? new ArrayBuffer(0) : new Uint8Array(this.body).buffer))
  }

  get formData(): Effect.Effect<FormData, HttpClientError.ResponseError> {
    return Effect.tryPromise({
      try: () => new Response(this.body ?? null, { headers: this.headers }).formData(),
      catch: (cause) => this.decodeError(cause)
    })
  }

  get stream(): Stream.Stream<Uint8Array, HttpClientError.ResponseError> {
    if (this.body === undefined) {
      return Stream.fail(
        new HttpClientError.ResponseError({
          request: this.request,
          response: this,
          reason: "EmptyBody",
          description: "can not create stream from empty body"
        })
      )
    }
    return this.body.length === 0 ? Stream.empty : Stream.succeed(this.body)
  }

  toJSON(): unknown {
    return HttpIncomingMessage.inspect(this, {
      _id: "@effect/platform/HttpClientResponse",
      request: this.request.toJSON(),
      status: this.status
    })
  }
}

/**
 * A response whose body has been read into memory, readable again as often as needed; `body` is
 * undefined for a status that has no body (204, 304…).
 *
 * @internal
 */
export const make = (
  source: HttpClientResponse.HttpClientResponse,
  body: Uint8Array<ArrayBuffer> | undefined
): HttpClientResponse.HttpClientResponse => new BufferedResponse(source, body)

/**
 * The text of a response read into memory by {@link make}, at once; `undefined` for every other
 * response, whose body must be read through its `text` effect.
 *
 * @internal
 */
export const textOf = (response: HttpClientResponse.HttpClientResponse): string | undefined =>
  response instanceof BufferedResponse ? response.textNow() : undefined
