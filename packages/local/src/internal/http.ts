import * as MultipartCodec from "@effect-daytona/sdk/MultipartCodec"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as NodeHttp from "node:http"

/** The request's path and query as the client sent them (before any router mount stripped a prefix). */
export const originalPath = Effect.map(HttpServerRequest.HttpServerRequest, (request) => request.originalUrl)

/** The current time (the Effect `Clock`) as an ISO 8601 string, as error bodies carry it. */
export const isoNow = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis).toISOString())

/** A request body that could not be read or parsed. */
export type BodyError = { readonly _tag: "BodyError"; readonly message: string }

/** The largest body read whole (JSON, forms) on the control plane: 1 MiB. */
export const maxApiBody = 1024 * 1024

/** The largest body read whole on the toolbox (commands, code, LSP documents): 16 MiB. Uploads are streamed. */
export const maxToolboxBody = 16 * 1024 * 1024

/** Why a request's body was not read: larger than the limit, or unreadable. */
export type BodyCheck = { readonly _tag: "TooLarge"; readonly limit: number } | { readonly _tag: "Unreadable" }

/** A body the server already read (the router gives handlers a request object of their own, which cannot read it again). */
const bodyRead = FiberRef.unsafeMake<Option.Option<string>>(Option.none())

/** How far past its limit a refused body is still read (and dropped), so the connection stays usable. */
const drainAllowance = 64 * 1024 * 1024

/**
 * Reads a request's whole body, refusing one larger than `limit` bytes: by its `Content-Length`
 * before reading anything, otherwise once the bytes read pass the limit (the rest is read and
 * dropped, up to a bound). `handle` runs with the body at hand for `readBody`.
 */
export const withBody =
  (limit: number) =>
  <A, E, R>(handle: Effect.Effect<A, E, R>): Effect.Effect<A, E | BodyCheck, R | HttpServerRequest.HttpServerRequest> =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const declared = request.headers["content-length"]
      if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit)
        return yield* Effect.fail<BodyCheck>({ _tag: "TooLarge", limit })
      // No length and no chunked encoding: no body on the wire (or an in-memory request that
      // carries its own), left to `readBody`.
      if (declared === undefined && request.headers["transfer-encoding"] === undefined) return yield* handle
      const chunks: Array<Uint8Array> = []
      let size = 0
      yield* request.stream.pipe(
        Stream.runForEachWhile((chunk) =>
          Effect.sync(() => {
            size += chunk.length
            if (size <= limit) chunks.push(chunk)
            return size <= limit + drainAllowance
          })
        ),
        Effect.mapError((): BodyCheck => ({ _tag: "Unreadable" }))
      )
      if (size > limit) return yield* Effect.fail<BodyCheck>({ _tag: "TooLarge", limit })
      const bytes = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      return yield* Effect.locally(handle, bodyRead, Option.some(new TextDecoder().decode(bytes)))
    })

/**
 * Reads a request body the way Daytona's API does: JSON when the content type is JSON or missing,
 * an empty body as `{}` (bodiless POSTs arrive as `application/x-www-form-urlencoded` with no
 * content), form fields for a non-empty urlencoded body. The server reads it before the handler
 * runs (see `withBody`); otherwise it is never read past `maxToolboxBody` bytes.
 */
export const readBody: Effect.Effect<unknown, BodyError, HttpServerRequest.HttpServerRequest> = Effect.gen(
  function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const read = yield* FiberRef.get(bodyRead)
    const text = Option.isSome(read)
      ? read.value
      : yield* HttpIncomingMessage.withMaxBodySize(request.text, Option.some(maxToolboxBody)).pipe(
          Effect.mapError((): BodyError => ({ _tag: "BodyError", message: "The request body could not be read" }))
        )
    if (text.trim() === "") return {}
    const contentType = (request.headers["content-type"] ?? "").toLowerCase()
    if (contentType.startsWith("application/x-www-form-urlencoded"))
      return Object.fromEntries(new URLSearchParams(text))
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      return yield* Effect.fail<BodyError>({
        _tag: "BodyError",
        message: error instanceof Error ? error.message : "Invalid JSON body"
      })
    }
  }
)

/**
 * Settles once the request's body has been received in full (or the connection closed), when the
 * request comes from a Node socket; `undefined` otherwise (an in-memory request).
 */
export const bodyEnded = (request: HttpServerRequest.HttpServerRequest): Promise<void> | undefined => {
  const source = (request as { readonly source?: unknown }).source
  if (!(source instanceof NodeHttp.IncomingMessage)) return undefined
  return new Promise<void>((resolve) => {
    if (source.complete || source.destroyed) return resolve()
    source.once("end", () => resolve())
    source.once("close", () => resolve())
  })
}

/** The boundary of a `multipart/form-data` content type (1 to 70 characters, as RFC 2046 allows), or `undefined`. */
export const multipartBoundary = (contentType: string): string | undefined =>
  /^multipart\/form-data\s*;/i.test(contentType) ? MultipartCodec.boundaryOf(contentType) : undefined

/** A JSON answer, 200 unless told otherwise. */
export const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })
