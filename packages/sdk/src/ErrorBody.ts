/**
 * Schemas of the error bodies Daytona's servers send.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The control plane's error body (NestJS `AllExceptionsFilter`). `error` is the HTTP status text.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ApiErrorBody = Schema.Struct({
  statusCode: Schema.Number,
  message: Schema.String,
  error: Schema.String,
  path: Schema.String,
  timestamp: Schema.String
}).annotations({ identifier: "ApiErrorBody" })

/**
 * @since 0.1.0
 * @category models
 */
export type ApiErrorBody = typeof ApiErrorBody.Type

/**
 * The toolbox daemon's error body. `code` is a machine code such as `NOT_FOUND` or
 * `REQUEST_TIMEOUT`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ToolboxErrorBody = Schema.Struct({
  statusCode: Schema.Number,
  message: Schema.String,
  code: Schema.optional(Schema.String),
  timestamp: Schema.String,
  path: Schema.String,
  method: Schema.String
}).annotations({ identifier: "ToolboxErrorBody" })

/**
 * @since 0.1.0
 * @category models
 */
export type ToolboxErrorBody = typeof ToolboxErrorBody.Type
