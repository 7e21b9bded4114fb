/**
 * Schemas of the toolbox daemon's code-interpreter bodies (`/process/interpreter`) and of the messages
 * its execute WebSocket carries, defined once: the SDK and the local server use the same.
 *
 * On `GET /process/interpreter/execute` (a WebSocket) the client sends one JSON text message, an
 * {@link ExecuteRequest}; the daemon answers JSON text messages, {@link OutputMessage}s: `stdout` and
 * `stderr` text as the code prints it, an `error` (name, value, traceback) when it raises, and a
 * `control` message (`completed`, or `interrupted`), then closes with 1000. A run that outlives its
 * `timeout` is interrupted and the socket closes with {@link timeoutCloseCode}; a request it refuses
 * closes with 1008 (or 1002 for a message that is not JSON) and the reason as text.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional

/**
 * The only language the daemon's interpreter runs.
 *
 * @since 0.1.0
 * @category constants
 */
export const language = "python"

/**
 * The close code of a run that outlived its timeout.
 *
 * @since 0.1.0
 * @category constants
 */
export const timeoutCloseCode = 4008

/**
 * The id of the context a run without `contextId` uses; it is not listed and cannot be deleted.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultContextId = "default"

/**
 * The body of `POST /process/interpreter/context`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateContextRequest = Schema.Struct({
  cwd: Schema.optional(Schema.String),
  language: Schema.optional(Schema.String)
}).annotations({ identifier: "CreateContextRequest" })

/**
 * An interpreter context: one long-lived interpreter whose state survives between runs.
 *
 * @since 0.1.0
 * @category schemas
 */
export const InterpreterContext = Schema.Struct({
  id: Schema.String,
  cwd: optional(Schema.String),
  createdAt: optional(Schema.String),
  active: optional(Schema.Boolean),
  language: optional(Schema.String)
}).annotations({ identifier: "InterpreterContext" })

/**
 * @since 0.1.0
 * @category models
 */
export type InterpreterContext = typeof InterpreterContext.Type

/**
 * The answer of `GET /process/interpreter/context` (the default context is not listed).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListContextsResponse = Schema.Struct({
  contexts: Schema.optionalWith(Schema.Array(InterpreterContext), { nullable: true, default: () => [] })
}).annotations({ identifier: "ListContextsResponse" })

/**
 * The message that starts a run: the code, the context (the default one when absent), the
 * variables added to the environment for this run, and the timeout in whole seconds (0: none; the
 * daemon's default is 10 minutes).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExecuteRequest = Schema.Struct({
  code: Schema.String,
  contextId: optional(Schema.String),
  timeout: optional(Schema.Number),
  envs: optional(Schema.Record({ key: Schema.String, value: Schema.String }))
}).annotations({ identifier: "InterpreterExecuteRequest" })

/**
 * @since 0.1.0
 * @category models
 */
export type ExecuteRequest = typeof ExecuteRequest.Type

/**
 * A message of a run, as the daemon sends it (every field but `type` may be empty).
 *
 * @since 0.1.0
 * @category schemas
 */
export const OutputMessage = Schema.Struct({
  type: Schema.String,
  text: optional(Schema.String),
  name: optional(Schema.String),
  value: optional(Schema.String),
  traceback: optional(Schema.String)
}).annotations({ identifier: "InterpreterOutputMessage" })

/**
 * @since 0.1.0
 * @category models
 */
export type OutputMessage = typeof OutputMessage.Type
