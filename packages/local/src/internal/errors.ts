import * as Data from "effect/Data"
import { STATUS_CODES } from "node:http"

/** A control-plane failure, answered with NestJS's `AllExceptionsFilter` body. */
export class ApiError extends Data.TaggedError("ApiError")<{
  readonly status: number
  readonly message: string
}> {}

export const badRequest = (message: string) => new ApiError({ status: 400, message })
export const unauthorized = (message = "Invalid credentials") => new ApiError({ status: 401, message })
export const forbidden = (message: string) => new ApiError({ status: 403, message })
export const notFound = (message: string) => new ApiError({ status: 404, message })
export const conflict = (message: string) => new ApiError({ status: 409, message })
export const notImplemented = (message: string) => new ApiError({ status: 501, message })

export const sandboxNotFound = (idOrName: string) => notFound(`Sandbox with ID or name ${idOrName} not found`)
export const stateChangeInProgress = () => conflict("Sandbox state change in progress")

export const apiErrorBody = (status: number, message: string, path: string, timestamp: string) => ({
  statusCode: status,
  message,
  error: STATUS_CODES[status] ?? "Error",
  path,
  timestamp
})

/** The toolbox daemon's machine codes (`libs/common-go/pkg/errors`). */
export type ToolboxCode =
  | "BAD_REQUEST"
  | "UNAUTHORIZED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "CONFLICT"
  | "REQUEST_TIMEOUT"
  | "INTERNAL_SERVER_ERROR"
  | "NOT_IMPLEMENTED"

/** A toolbox failure, answered with the daemon's `ErrorResponse` body. */
export class ToolboxError extends Data.TaggedError("ToolboxError")<{
  readonly status: number
  readonly code: ToolboxCode
  readonly message: string
}> {}

export const toolboxBadRequest = (message: string) =>
  new ToolboxError({ status: 400, code: "BAD_REQUEST", message: `bad request: ${message}` })
export const toolboxNotFound = (message: string) =>
  new ToolboxError({ status: 404, code: "NOT_FOUND", message: `not found: ${message}` })
export const toolboxForbidden = (message: string) =>
  new ToolboxError({ status: 403, code: "FORBIDDEN", message: `forbidden: ${message}` })
export const toolboxTimeout = (message: string) =>
  new ToolboxError({ status: 408, code: "REQUEST_TIMEOUT", message: `request timeout: ${message}` })

export const toolboxErrorBody = (
  status: number,
  code: string,
  message: string,
  path: string,
  method: string,
  timestamp: string
) => ({ statusCode: status, message, code, timestamp, path, method })
