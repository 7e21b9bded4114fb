import type * as ErrorBody from "@effect-daytona/sdk/ErrorBody"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { isoNow } from "./http.js"

/**
 * A toolbox failure, answered with the daemon's `ErrorResponse` body. `code` is one of the
 * daemon's machine codes: the generic ones of `libs/common-go/pkg/errors` (`BAD_REQUEST`,
 * `NOT_FOUND`, …) or a route's own (`FILE_NOT_FOUND`, `LSP_SERVER_NOT_INSTALLED`, …).
 */
export class DaemonError extends Data.TaggedError("DaemonError")<{
  readonly status: number
  readonly code: string
  readonly message: string
}> {}

/** 400 `BAD_REQUEST`; the daemon prefixes the message with `bad request: `. */
export const badRequest = (message: string) =>
  new DaemonError({ status: 400, code: "BAD_REQUEST", message: `bad request: ${message}` })

/** 401 `UNAUTHORIZED`; the daemon prefixes the message with `unauthorized: `. */
export const unauthorized = (message: string) =>
  new DaemonError({ status: 401, code: "UNAUTHORIZED", message: `unauthorized: ${message}` })

/** 403 `FORBIDDEN`; the daemon prefixes the message with `forbidden: `. */
export const forbidden = (message: string) =>
  new DaemonError({ status: 403, code: "FORBIDDEN", message: `forbidden: ${message}` })

/** 404 `NOT_FOUND`; the daemon prefixes the message with `not found: `. */
export const notFound = (message: string) =>
  new DaemonError({ status: 404, code: "NOT_FOUND", message: `not found: ${message}` })

/** 408 `REQUEST_TIMEOUT`; the daemon prefixes the message with `request timeout: `. */
export const requestTimeout = (message: string) =>
  new DaemonError({ status: 408, code: "REQUEST_TIMEOUT", message: `request timeout: ${message}` })

/** 409 `CONFLICT`; the daemon prefixes the message with `conflict: `. */
export const conflict = (message: string) =>
  new DaemonError({ status: 409, code: "CONFLICT", message: `conflict: ${message}` })

/** 500 `INTERNAL_SERVER_ERROR`, with the message as it is. */
export const internal = (message: string) => new DaemonError({ status: 500, code: "INTERNAL_SERVER_ERROR", message })

/** 502 `BAD_GATEWAY`; the daemon prefixes the message with `bad gateway: `. */
export const badGateway = (message: string) =>
  new DaemonError({ status: 502, code: "BAD_GATEWAY", message: `bad gateway: ${message}` })

/** 503 `SERVICE_UNAVAILABLE`: the server is out of a resource for now (open files), not broken. */
export const unavailable = (message: string) => new DaemonError({ status: 503, code: "SERVICE_UNAVAILABLE", message })

/** 404 `FILE_NOT_FOUND` of the file routes, with the message as it is. */
export const fileNotFound = (message: string) => new DaemonError({ status: 404, code: "FILE_NOT_FOUND", message })

/** 403 `FILE_ACCESS_DENIED` of the file routes, with the message as it is. */
export const fileAccessDenied = (message: string) =>
  new DaemonError({ status: 403, code: "FILE_ACCESS_DENIED", message })

/** What the runner answers for a sandbox that is not started: it has no container address to reach. */
export const sandboxNotStarted = (sandboxId: string) =>
  badRequest(`failed to resolve container IP for sandbox ${sandboxId}. Is the Sandbox started?`)

/** Where a failure happened, as the daemon's `ErrorResponse` reports it. */
export interface ErrorLocation {
  readonly path: string
  readonly method: string
  readonly timestamp: string
}

/** The daemon's `ErrorResponse` body: `{statusCode, message, code, timestamp, path, method}`. */
export const daemonErrorBody = (error: DaemonError, location: ErrorLocation): ErrorBody.ToolboxErrorBody => ({
  statusCode: error.status,
  message: error.message,
  code: error.code,
  timestamp: location.timestamp,
  path: location.path,
  method: location.method
})

/** The HTTP answer for a toolbox failure: its status, and the body naming the request's path and method. */
export const daemonErrorResponse = (error: DaemonError) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const timestamp = yield* isoNow
    const path = new URL(request.originalUrl, "http://local").pathname
    return HttpServerResponse.unsafeJson(daemonErrorBody(error, { path, method: request.method, timestamp }), {
      status: error.status
    })
  })
