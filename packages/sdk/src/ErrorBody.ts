/**
 * Schemas of the error bodies Daytona's servers send: the control plane's, the toolbox daemon's, and
 * the lenient reading of either that the SDK's transport uses for every failure (and the bulk
 * download for its `error` parts). The local server builds its error bodies with the same types.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/**
 * The control plane's error body (NestJS `AllExceptionsFilter`). `error` is the HTTP status text.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ApiErrorBody = Schema.Struct({
  statusCode: Schema.Number,
  /** One message, or (from validation) several. */
  message: Schema.Union(Schema.String, Schema.Array(Schema.String)),
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

/**
 * Whatever an error body of Daytona says, read leniently: every field may be missing, `message` may be
 * a list (validation), and the machine code may be `code`, `error_code` or the status text in `error`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AnyErrorBody = Schema.Struct({
  statusCode: Schema.optional(Schema.Number),
  message: Schema.optional(Schema.Union(Schema.String, Schema.Array(Schema.Unknown))),
  error: Schema.optional(Schema.Unknown),
  code: Schema.optional(Schema.Unknown),
  error_code: Schema.optional(Schema.Unknown)
}).annotations({ identifier: "AnyErrorBody" })

/**
 * What the SDK takes from an error body: the status it names, its message and its machine code.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorSummary {
  readonly statusCode: number | undefined
  readonly message: string | undefined
  readonly errorCode: string | undefined
}

const decodeAny = Schema.decodeUnknownOption(Schema.parseJson(AnyErrorBody))

/**
 * Reads an error body's text; text that is not such a JSON object gives an empty summary.
 *
 * @since 0.1.0
 * @category parsing
 */
export const summarize = (text: string): ErrorSummary => {
  const body = Option.getOrUndefined(decodeAny(text))
  if (body === undefined) return { statusCode: undefined, message: undefined, errorCode: undefined }
  const raw = body.message
  const message =
    typeof raw === "string"
      ? raw
      : Array.isArray(raw)
        ? raw.filter((item): item is string => typeof item === "string").join(", ")
        : typeof body.error === "string"
          ? body.error
          : undefined
  const errorCode = [body.code, body.error_code, body.error].find((value): value is string => typeof value === "string")
  return { statusCode: body.statusCode, message, errorCode }
}
