/**
 * Schemas of the toolbox daemon's computer-use bodies and queries (the desktop, mouse, keyboard,
 * screenshots, display, recordings and accessibility), defined once: the SDK checks what it sends
 * and decodes answers with them, the local server validates requests with them. Names follow the
 * contract of `@daytona/toolbox-api-client` (`computer-use-api`); requests carry the rules the
 * local server applies, answers are decoded tolerantly (every field may be missing or `null`).
 *
 * @since 0.1.0
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional

/** A coordinate on the screen (a whole number of pixels). */
const Coordinate = WireSchema.integer

// ---------------------------------------------------------------------------------------------
// queries
// ---------------------------------------------------------------------------------------------

const message = (text: string) => ({ message: () => text })

/** An integer query parameter, within `min` (and `max`). */
const integerQuery = (min: number, max?: number) =>
  Schema.transformOrFail(Schema.String, Schema.Number, {
    strict: true,
    decode: (text, _, ast) => {
      const value = /^-?\d+$/.test(text.trim()) ? Number(text) : Number.NaN
      if (!Number.isSafeInteger(value))
        return ParseResult.fail(new ParseResult.Type(ast, text, "$property must be an integer number"))
      if (value < min)
        return ParseResult.fail(new ParseResult.Type(ast, text, `$property must not be less than ${min}`))
      if (max !== undefined && value > max)
        return ParseResult.fail(new ParseResult.Type(ast, text, `$property must not be greater than ${max}`))
      return ParseResult.succeed(value)
    },
    encode: (value, _, ast) =>
      Number.isSafeInteger(value) && value >= min && (max === undefined || value <= max)
        ? ParseResult.succeed(String(value))
        : ParseResult.fail(
            new ParseResult.Type(
              ast,
              value,
              max === undefined
                ? `$property must be an integer not less than ${min}`
                : `$property must be an integer from ${min} to ${max}`
            )
          )
  })

/**
 * The scale of a compressed screenshot: a number from 0.1 to 1 ("`$property` must be a number from
 * 0.1 to 1").
 */
const ScaleQuery = Schema.transformOrFail(Schema.String, Schema.Number, {
  strict: true,
  decode: (text, _, ast) => {
    const value = text.trim() === "" ? Number.NaN : Number(text)
    return Number.isFinite(value) && value >= 0.1 && value <= 1
      ? ParseResult.succeed(value)
      : ParseResult.fail(new ParseResult.Type(ast, text, "$property must be a number from 0.1 to 1"))
  },
  encode: (value, _, ast) =>
    Number.isFinite(value) && value >= 0.1 && value <= 1
      ? ParseResult.succeed(String(value))
      : ParseResult.fail(new ParseResult.Type(ast, value, "$property must be a number from 0.1 to 1"))
})

/**
 * The image formats a compressed screenshot can have (`jpg` is read as `jpeg`).
 *
 * @since 0.1.0
 * @category constants
 */
export const screenshotFormats = ["png", "jpeg", "jpg", "webp"] as const

/**
 * An image format of a compressed screenshot.
 *
 * @since 0.1.0
 * @category models
 */
export type ScreenshotFormat = (typeof screenshotFormats)[number]

const FormatQuery = Schema.Literal(...screenshotFormats).annotations(
  message(`$property must be one of ${screenshotFormats.join(", ")}`)
)

const showCursor = { showCursor: Schema.optional(WireSchema.BooleanFromString) }

const region = {
  x: integerQuery(0),
  y: integerQuery(0),
  width: integerQuery(1),
  height: integerQuery(1)
}

const compression = {
  format: Schema.optional(FormatQuery),
  quality: Schema.optional(integerQuery(1, 100)),
  scale: Schema.optional(ScaleQuery)
}

/**
 * The query of `GET /computeruse/screenshot`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ScreenshotQuery = Schema.Struct(showCursor)

/**
 * The query of `GET /computeruse/screenshot/region`: the region's top-left corner and size.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RegionScreenshotQuery = Schema.Struct({ ...region, ...showCursor })

/**
 * The query of `GET /computeruse/screenshot/compressed`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompressedScreenshotQuery = Schema.Struct({ ...showCursor, ...compression })

/**
 * The query of `GET /computeruse/screenshot/region/compressed`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompressedRegionScreenshotQuery = Schema.Struct({ ...region, ...showCursor, ...compression })

/**
 * The query of `GET /computeruse/a11y/tree`: `scope` (`focused`, `pid`, `all`), the process of
 * `scope=pid`, and how deep to walk (`-1` unbounded, `0` the root only).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilityTreeQuery = Schema.Struct({
  scope: Schema.optional(Schema.String),
  pid: Schema.optional(integerQuery(1)),
  maxDepth: Schema.optional(integerQuery(-1))
})

// ---------------------------------------------------------------------------------------------
// the desktop's processes
// ---------------------------------------------------------------------------------------------

/**
 * One process of the desktop as `start`, `stop` and `getStatus` report it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProcessStatus = Schema.Struct({
  running: optional(Schema.Boolean),
  pid: optional(Schema.Number),
  priority: optional(Schema.Number),
  autoRestart: optional(Schema.Boolean)
}).annotations({ identifier: "ProcessStatus" })

/**
 * @since 0.1.0
 * @category models
 */
export type ProcessStatus = typeof ProcessStatus.Type

/**
 * The answer of `POST /computeruse/start` and `POST /computeruse/stop`: a message and each
 * process's status, by name.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ComputerUseProcessesResponse = Schema.Struct({
  message: optional(Schema.String),
  status: optional(Schema.Record({ key: Schema.String, value: ProcessStatus }))
}).annotations({ identifier: "ComputerUseStartResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ComputerUseProcessesResponse = typeof ComputerUseProcessesResponse.Type

/**
 * The known states of the desktop: every process running (`active`), some (`partial`), none
 * (`inactive`).
 *
 * @since 0.1.0
 * @category constants
 */
export const knownComputerUseStates = ["active", "partial", "inactive"] as const

/**
 * The answer of `GET /computeruse/status` and `GET /computeruse/process-status`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ComputerUseStatusResponse = Schema.Struct({
  status: optional(WireSchema.tolerant("ComputerUseState", knownComputerUseStates))
}).annotations({ identifier: "ComputerUseStatusResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ComputerUseStatusResponse = typeof ComputerUseStatusResponse.Type

/**
 * The path parameter naming one desktop process.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProcessRef = Schema.Struct({ processName: Schema.String })

/**
 * The answer of `GET /computeruse/process/{processName}/status`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProcessStatusResponse = Schema.Struct({
  processName: optional(Schema.String),
  running: optional(Schema.Boolean)
}).annotations({ identifier: "ProcessStatusResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ProcessStatusResponse = typeof ProcessStatusResponse.Type

/**
 * The answer of `POST /computeruse/process/{processName}/restart`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProcessRestartResponse = Schema.Struct({
  message: optional(Schema.String),
  processName: optional(Schema.String)
}).annotations({ identifier: "ProcessRestartResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ProcessRestartResponse = typeof ProcessRestartResponse.Type

/**
 * The answer of `GET /computeruse/process/{processName}/logs`: what the process wrote on stdout.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProcessLogsResponse = Schema.Struct({
  processName: optional(Schema.String),
  logs: optional(Schema.String)
}).annotations({ identifier: "ProcessLogsResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ProcessLogsResponse = typeof ProcessLogsResponse.Type

/**
 * The answer of `GET /computeruse/process/{processName}/errors`: what the process wrote on stderr.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProcessErrorsResponse = Schema.Struct({
  processName: optional(Schema.String),
  errors: optional(Schema.String)
}).annotations({ identifier: "ProcessErrorsResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ProcessErrorsResponse = typeof ProcessErrorsResponse.Type

// ---------------------------------------------------------------------------------------------
// mouse
// ---------------------------------------------------------------------------------------------

/**
 * A position on the screen.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Position = Schema.Struct({
  x: optional(Schema.Number),
  y: optional(Schema.Number)
}).annotations({ identifier: "Position" })

/**
 * @since 0.1.0
 * @category models
 */
export type Position = typeof Position.Type

/**
 * The body of `POST /computeruse/mouse/move` (a missing coordinate is 0, as the daemon reads it).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MouseMoveRequest = Schema.Struct({
  x: WireSchema.optional(Coordinate),
  y: WireSchema.optional(Coordinate)
}).annotations({ identifier: "MouseMoveRequest" })

/**
 * The mouse buttons (`left` when none is given).
 *
 * @since 0.1.0
 * @category constants
 */
export const mouseButtons = ["left", "right", "middle"] as const

/**
 * A mouse button.
 *
 * @since 0.1.0
 * @category models
 */
export type MouseButton = (typeof mouseButtons)[number]

/**
 * The body of `POST /computeruse/mouse/click`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MouseClickRequest = Schema.Struct({
  x: WireSchema.optional(Coordinate),
  y: WireSchema.optional(Coordinate),
  button: WireSchema.optional(WireSchema.string),
  double: WireSchema.optional(WireSchema.boolean)
}).annotations({ identifier: "MouseClickRequest" })

/**
 * The body of `POST /computeruse/mouse/drag`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MouseDragRequest = Schema.Struct({
  startX: WireSchema.optional(Coordinate),
  startY: WireSchema.optional(Coordinate),
  endX: WireSchema.optional(Coordinate),
  endY: WireSchema.optional(Coordinate),
  button: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "MouseDragRequest" })

/**
 * The scroll directions.
 *
 * @since 0.1.0
 * @category constants
 */
export const scrollDirections = ["up", "down"] as const

/**
 * The body of `POST /computeruse/mouse/scroll`: `amount` wheel steps (1 when 0 or missing).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MouseScrollRequest = Schema.Struct({
  x: WireSchema.optional(Coordinate),
  y: WireSchema.optional(Coordinate),
  direction: WireSchema.optional(WireSchema.string),
  amount: WireSchema.optional(WireSchema.integer.pipe(WireSchema.min(0), WireSchema.max(1000)))
}).annotations({ identifier: "MouseScrollRequest" })

/**
 * The answer of the mouse's move and position: where the pointer is.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MousePositionResponse = Position.annotations({ identifier: "MousePositionResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type MousePositionResponse = typeof MousePositionResponse.Type

/**
 * The answer of `POST /computeruse/mouse/click`: where the pointer is after the click.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MouseClickResponse = Position.annotations({ identifier: "MouseClickResponse" })

/**
 * The answer of `POST /computeruse/mouse/drag`: where the pointer is after the drag.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MouseDragResponse = Position.annotations({ identifier: "MouseDragResponse" })

/**
 * The answer of `POST /computeruse/mouse/scroll`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ScrollResponse = Schema.Struct({ success: optional(Schema.Boolean) }).annotations({
  identifier: "ScrollResponse"
})

// ---------------------------------------------------------------------------------------------
// keyboard
// ---------------------------------------------------------------------------------------------

/**
 * The body of `POST /computeruse/keyboard/type`: the text and the pause between keys, in
 * milliseconds.
 *
 * @since 0.1.0
 * @category schemas
 */
export const KeyboardTypeRequest = Schema.Struct({
  text: WireSchema.optional(WireSchema.string),
  delay: WireSchema.optional(WireSchema.integer.pipe(WireSchema.min(0), WireSchema.max(10_000)))
}).annotations({ identifier: "KeyboardTypeRequest" })

/**
 * The body of `POST /computeruse/keyboard/key`: a key and the modifiers held while it is pressed.
 *
 * @since 0.1.0
 * @category schemas
 */
export const KeyboardPressRequest = Schema.Struct({
  key: WireSchema.optional(WireSchema.string),
  modifiers: WireSchema.optional(WireSchema.array(WireSchema.string))
}).annotations({ identifier: "KeyboardPressRequest" })

/**
 * The body of `POST /computeruse/keyboard/hotkey`: one chord such as `ctrl+shift+t`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const KeyboardHotkeyRequest = Schema.Struct({
  keys: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "KeyboardHotkeyRequest" })

/**
 * What the keyboard routes answer (the contract leaves it open; the daemon sends an empty object).
 *
 * @since 0.1.0
 * @category schemas
 */
export const EmptyResponse = Schema.Unknown

// ---------------------------------------------------------------------------------------------
// screenshots and display
// ---------------------------------------------------------------------------------------------

/**
 * The answer of the screenshot routes: the image in base64, its size in bytes, and where the
 * pointer was.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ScreenshotResponse = Schema.Struct({
  screenshot: optional(Schema.String),
  sizeBytes: optional(Schema.Number),
  cursorPosition: optional(Position)
}).annotations({ identifier: "ScreenshotResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ScreenshotResponse = typeof ScreenshotResponse.Type

/**
 * One display (screen) of the desktop.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DisplayInfo = Schema.Struct({
  id: optional(Schema.Number),
  x: optional(Schema.Number),
  y: optional(Schema.Number),
  width: optional(Schema.Number),
  height: optional(Schema.Number),
  isActive: optional(Schema.Boolean)
}).annotations({ identifier: "DisplayInfo" })

/**
 * @since 0.1.0
 * @category models
 */
export type DisplayInfo = typeof DisplayInfo.Type

/**
 * The answer of `GET /computeruse/display/info`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const DisplayInfoResponse = Schema.Struct({
  displays: optional(Schema.Array(DisplayInfo))
}).annotations({ identifier: "DisplayInfoResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type DisplayInfoResponse = typeof DisplayInfoResponse.Type

/**
 * One window of the desktop.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WindowInfo = Schema.Struct({
  id: optional(Schema.Number),
  title: optional(Schema.String),
  x: optional(Schema.Number),
  y: optional(Schema.Number),
  width: optional(Schema.Number),
  height: optional(Schema.Number),
  isActive: optional(Schema.Boolean)
}).annotations({ identifier: "WindowInfo" })

/**
 * @since 0.1.0
 * @category models
 */
export type WindowInfo = typeof WindowInfo.Type

/**
 * The answer of `GET /computeruse/display/windows`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WindowsResponse = Schema.Struct({
  windows: optional(Schema.Array(WindowInfo))
}).annotations({ identifier: "WindowsResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type WindowsResponse = typeof WindowsResponse.Type

// ---------------------------------------------------------------------------------------------
// recordings
// ---------------------------------------------------------------------------------------------

/**
 * The known states of a recording.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownRecordingStatuses = ["recording", "completed", "failed"] as const

/**
 * A screen recording: an MP4 file in the sandbox.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Recording = Schema.Struct({
  id: Schema.String,
  fileName: Schema.String,
  filePath: Schema.String,
  startTime: Schema.String,
  status: WireSchema.tolerant("RecordingStatus", knownRecordingStatuses),
  endTime: optional(Schema.String),
  durationSeconds: optional(Schema.Number),
  sizeBytes: optional(Schema.Number)
}).annotations({ identifier: "Recording" })

/**
 * @since 0.1.0
 * @category models
 */
export type Recording = typeof Recording.Type

/**
 * The answer of `GET /computeruse/recordings`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListRecordingsResponse = Schema.Struct({
  recordings: Schema.optionalWith(Schema.Array(Recording), { nullable: true, default: () => [] })
}).annotations({ identifier: "ListRecordingsResponse" })

/**
 * The body of `POST /computeruse/recordings/start`: an optional label that goes into the file's
 * name.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StartRecordingRequest = Schema.Struct({
  label: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "StartRecordingRequest" })

/**
 * The body of `POST /computeruse/recordings/stop`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const StopRecordingRequest = Schema.Struct({
  id: WireSchema.nonEmpty(WireSchema.string)
}).annotations({ identifier: "StopRecordingRequest" })

/**
 * The path parameter naming a recording.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RecordingRef = Schema.Struct({ id: Schema.String })

// ---------------------------------------------------------------------------------------------
// accessibility
// ---------------------------------------------------------------------------------------------

/**
 * Where a node lies on the screen.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilityBounds = Schema.Struct({
  x: optional(Schema.Number),
  y: optional(Schema.Number),
  width: optional(Schema.Number),
  height: optional(Schema.Number)
}).annotations({ identifier: "AccessibilityBounds" })

/**
 * A node of the accessibility tree as the SDK holds it.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessibilityNode {
  readonly id?: string | undefined
  readonly role?: string | undefined
  readonly name?: string | undefined
  readonly description?: string | undefined
  readonly states?: ReadonlyArray<string> | undefined
  readonly actions?: ReadonlyArray<string> | undefined
  readonly bounds?: typeof AccessibilityBounds.Type | undefined
  readonly children?: ReadonlyArray<AccessibilityNode> | undefined
}

/**
 * A node of the accessibility tree on the wire.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessibilityNodeEncoded {
  readonly id?: string | null | undefined
  readonly role?: string | null | undefined
  readonly name?: string | null | undefined
  readonly description?: string | null | undefined
  readonly states?: ReadonlyArray<string> | null | undefined
  readonly actions?: ReadonlyArray<string> | null | undefined
  readonly bounds?: typeof AccessibilityBounds.Encoded | null | undefined
  readonly children?: ReadonlyArray<AccessibilityNodeEncoded> | null | undefined
}

/**
 * A node of the accessibility tree: its id (`bus-name:object-path`), role, name, states, actions,
 * bounds and children.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilityNode: Schema.Schema<AccessibilityNode, AccessibilityNodeEncoded> = Schema.Struct({
  id: optional(Schema.String),
  role: optional(Schema.String),
  name: optional(Schema.String),
  description: optional(Schema.String),
  states: optional(Schema.Array(Schema.String)),
  actions: optional(Schema.Array(Schema.String)),
  bounds: optional(AccessibilityBounds),
  children: optional(
    Schema.Array(Schema.suspend((): Schema.Schema<AccessibilityNode, AccessibilityNodeEncoded> => AccessibilityNode))
  )
}).annotations({ identifier: "ComputerUseAccessibilityNode" })

/**
 * The answer of `GET /computeruse/a11y/tree`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilityTreeResponse = Schema.Struct({
  root: optional(AccessibilityNode),
  truncated: optional(Schema.Boolean)
}).annotations({ identifier: "AccessibilityTreeResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type AccessibilityTreeResponse = typeof AccessibilityTreeResponse.Type

/**
 * The answer of `POST /computeruse/a11y/find`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilityNodesResponse = Schema.Struct({
  matches: optional(Schema.Array(AccessibilityNode)),
  truncated: optional(Schema.Boolean)
}).annotations({ identifier: "AccessibilityNodesResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type AccessibilityNodesResponse = typeof AccessibilityNodesResponse.Type

/**
 * The body of `POST /computeruse/a11y/find`: every given filter must hold (`role` compared without
 * case, `name` as `nameMatch` says: `substring` by default, `exact` or `regex`; every state of
 * `states` present), at most `limit` matches (500 by default, 5000 at most).
 *
 * @since 0.1.0
 * @category schemas
 */
export const FindAccessibilityNodesRequest = Schema.Struct({
  scope: WireSchema.optional(WireSchema.string),
  pid: WireSchema.optional(WireSchema.integer.pipe(WireSchema.min(1))),
  role: WireSchema.optional(WireSchema.string),
  name: WireSchema.optional(WireSchema.string),
  nameMatch: WireSchema.optional(WireSchema.string),
  states: WireSchema.optional(WireSchema.array(WireSchema.string)),
  limit: WireSchema.optional(WireSchema.integer)
}).annotations({ identifier: "FindAccessibilityNodesRequest" })

/**
 * The body of `POST /computeruse/a11y/node/focus`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilityNodeRequest = Schema.Struct({
  id: WireSchema.nonEmpty(WireSchema.string)
}).annotations({ identifier: "AccessibilityNodeRequest" })

/**
 * The body of `POST /computeruse/a11y/node/invoke`: the action to invoke (the node's first when
 * none is given).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilityInvokeRequest = Schema.Struct({
  id: WireSchema.nonEmpty(WireSchema.string),
  action: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "AccessibilityInvokeRequest" })

/**
 * The body of `POST /computeruse/a11y/node/value`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccessibilitySetValueRequest = Schema.Struct({
  id: WireSchema.nonEmpty(WireSchema.string),
  value: WireSchema.optional(WireSchema.string)
}).annotations({ identifier: "AccessibilitySetValueRequest" })
