import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** The request's path and query as the client sent them (before any router mount stripped a prefix). */
export const originalPath = Effect.map(HttpServerRequest.HttpServerRequest, (request) => request.originalUrl)

/** The current time (the Effect `Clock`) as an ISO 8601 string, as error bodies carry it. */
export const isoNow = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis).toISOString())

/** A request body that could not be read or parsed. */
export type BodyError = { readonly _tag: "BodyError"; readonly message: string }

/**
 * Reads a request body the way Daytona's API does: JSON when the content type is JSON or missing,
 * an empty body as `{}` (bodiless POSTs arrive as `application/x-www-form-urlencoded` with no
 * content), form fields for a non-empty urlencoded body.
 */
export const readBody: Effect.Effect<unknown, BodyError, HttpServerRequest.HttpServerRequest> = Effect.gen(
  function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const text = yield* request.text.pipe(
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

/** A JSON answer, 200 unless told otherwise. */
export const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })
