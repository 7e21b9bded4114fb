import type * as ErrorBody from "@effect-daytona/sdk/ErrorBody"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { STATUS_CODES } from "node:http"
import { isoNow, originalPath } from "./http.js"

/** A control-plane failure, answered with NestJS's `AllExceptionsFilter` body. */
export class ControlPlaneError extends Data.TaggedError("ControlPlaneError")<{
  readonly status: number
  readonly message: string
}> {}

/** 400 Bad Request. */
export const badRequest = (message: string) => new ControlPlaneError({ status: 400, message })
/** 401 Unauthorized. */
export const unauthorized = (message = "Invalid credentials") => new ControlPlaneError({ status: 401, message })
/** 403 Forbidden. */
export const forbidden = (message: string) => new ControlPlaneError({ status: 403, message })
/** 404 Not Found. */
export const notFound = (message: string) => new ControlPlaneError({ status: 404, message })
/** 409 Conflict. */
export const conflict = (message: string) => new ControlPlaneError({ status: 409, message })

/** The API's answer for a sandbox id or name that matches no sandbox. */
export const sandboxNotFound = (idOrName: string) => notFound(`Sandbox with ID or name ${idOrName} not found`)
/** The API's answer while another state change of the sandbox is under way. */
export const stateChangeInProgress = () => conflict("Sandbox state change in progress")

/** NestJS's error body: `{statusCode, message, error, path, timestamp}`. */
export const controlPlaneErrorBody = (
  error: ControlPlaneError,
  path: string,
  timestamp: string
): ErrorBody.ApiErrorBody => ({
  statusCode: error.status,
  message: error.message,
  error: STATUS_CODES[error.status] ?? "Error",
  path,
  timestamp
})

/** The HTTP answer for a control-plane failure: its status, and the body naming the request's path. */
export const controlPlaneErrorResponse = (error: ControlPlaneError) =>
  Effect.gen(function* () {
    const path = yield* originalPath
    const timestamp = yield* isoNow
    return HttpServerResponse.unsafeJson(controlPlaneErrorBody(error, path, timestamp), { status: error.status })
  })
