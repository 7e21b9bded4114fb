/**
 * Schemas of the toolbox daemon's pseudo-terminal bodies (`/process/pty`) and of the messages its PTY
 * WebSocket carries, defined once: the SDK decodes answers and checks what it sends with them, the
 * local server decodes requests and writes its messages with them.
 *
 * On the socket, terminal bytes go both ways as binary frames; the daemon also sends JSON text
 * frames `{"type":"control","status":…}`: `connected` once attached, `exited` with the exit code
 * (only to clients that offered the {@link exitControlProtocol} subprotocol), `error` when the session
 * cannot be attached. Its close frame carries `{"exitCode":…,"exitReason":…}` (1000 for exit code 0,
 * 1011 otherwise) when the shell ended.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional
const StringMap = Schema.Record({ key: Schema.String, value: Schema.String })

/**
 * The largest terminal side the daemon accepts (columns or rows).
 *
 * @since 0.1.0
 * @category constants
 */
export const maxSide = 1000

/**
 * The subprotocol a client offers to receive the `exited` control message before the close frame.
 *
 * @since 0.1.0
 * @category constants
 */
export const exitControlProtocol = "X-Daytona-Pty-Exit-Control"

/**
 * The prefix of the subprotocol that carries a terminal's environment on `create-connect`: followed
 * by the base64url (unpadded) JSON object of the variables.
 *
 * @since 0.1.0
 * @category constants
 */
export const envsProtocolPrefix = "X-Daytona-Pty-Envs~"

const side = (name: "cols" | "rows", min: number) =>
  Schema.Number.pipe(
    Schema.filter((n) => Number.isInteger(n) && n >= min && n <= 65535, {
      message: () => `invalid value for ${name} - must be an integer from ${min}`
    }),
    Schema.filter((n) => n <= maxSide, { message: () => `invalid value for ${name} - must be less than ${maxSide}` })
  )

/**
 * A side of the terminal in a query (`create-connect`): a number from 0 to 1000.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtySideFromString = (name: "cols" | "rows") => Schema.compose(Schema.NumberFromString, side(name, 0))

/**
 * The body of `POST /process/pty`: the session's id (the caller's choice), working directory,
 * environment, size (80×24 by default, at most 1000 a side) and whether the shell starts only when the
 * first client connects.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtyCreateRequest = Schema.Struct({
  id: Schema.optional(Schema.String),
  cwd: Schema.optional(Schema.String),
  envs: Schema.optional(StringMap),
  cols: Schema.optional(side("cols", 0)),
  rows: Schema.optional(side("rows", 0)),
  lazyStart: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "PtyCreateRequest" })

/**
 * The answer of `POST /process/pty`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtyCreateResponse = Schema.Struct({ sessionId: Schema.String }).annotations({
  identifier: "PtyCreateResponse"
})

/**
 * A PTY session as the daemon describes it; `active` is whether its shell runs.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtySessionInfo = Schema.Struct({
  id: Schema.String,
  cwd: optional(Schema.String),
  envs: optional(StringMap),
  cols: Schema.Number,
  rows: Schema.Number,
  createdAt: optional(Schema.String),
  active: Schema.Boolean,
  lazyStart: optional(Schema.Boolean)
}).annotations({ identifier: "PtySessionInfo" })

/**
 * @since 0.1.0
 * @category models
 */
export type PtySessionInfo = typeof PtySessionInfo.Type

/**
 * The answer of `GET /process/pty`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtyListResponse = Schema.Struct({
  sessions: Schema.optionalWith(Schema.Array(PtySessionInfo), { nullable: true, default: () => [] })
}).annotations({ identifier: "PtyListResponse" })

/**
 * The body of `POST /process/pty/{sessionId}/resize`: 1 to 1000 a side.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtyResizeRequest = Schema.Struct({
  cols: side("cols", 1),
  rows: side("rows", 1)
}).annotations({ identifier: "PtyResizeRequest" })

/**
 * A control message of the PTY WebSocket (a JSON text frame).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtyControlMessage = Schema.Struct({
  type: Schema.Literal("control"),
  status: Schema.String,
  exitCode: optional(Schema.Number),
  exitReason: optional(Schema.String),
  error: optional(Schema.String)
}).annotations({ identifier: "PtyControlMessage" })

/**
 * @since 0.1.0
 * @category models
 */
export type PtyControlMessage = typeof PtyControlMessage.Type

/**
 * The reason of the close frame the daemon sends when a session's shell ended (or could not be found).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PtyCloseReason = Schema.Struct({
  exitCode: optional(Schema.Number),
  exitReason: optional(Schema.String),
  error: optional(Schema.String)
}).annotations({ identifier: "PtyCloseReason" })

/**
 * The daemon's words for an exit code: none for 0, `Ctrl+C`, `SIGKILL`, `SIGTERM`, `signal N` above
 * 128, else `non-zero exit`.
 *
 * @since 0.1.0
 * @category utils
 */
export const exitReason = (exitCode: number): string | undefined =>
  exitCode === 0
    ? undefined
    : exitCode === 130
      ? "Ctrl+C"
      : exitCode === 137
        ? "SIGKILL"
        : exitCode === 143
          ? "SIGTERM"
          : exitCode > 128
            ? `signal ${exitCode - 128}`
            : "non-zero exit"
