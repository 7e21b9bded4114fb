import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { apiErrorBody, toolboxErrorBody } from "./errors.js"

/** The request's path and query as the client sent them (before any router mount stripped a prefix). */
export const originalPath = Effect.map(HttpServerRequest.HttpServerRequest, (request) => request.originalUrl)

const isoNow = Effect.map(Clock.currentTimeMillis, (millis) => new Date(millis).toISOString())

export const apiError = (status: number, message: string) =>
  Effect.gen(function* () {
    const path = yield* originalPath
    const timestamp = yield* isoNow
    return HttpServerResponse.unsafeJson(apiErrorBody(status, message, path, timestamp), { status })
  })

export const toolboxError = (status: number, code: string, message: string) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const timestamp = yield* isoNow
    return HttpServerResponse.unsafeJson(
      toolboxErrorBody(
        status,
        code,
        message,
        new URL(request.originalUrl, "http://local").pathname,
        request.method,
        timestamp
      ),
      { status }
    )
  })

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

export const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status })
