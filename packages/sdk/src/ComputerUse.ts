/**
 * Computer use: a desktop inside the sandbox (a virtual display), driven through the toolbox
 * daemon: mouse, keyboard, screenshots, display and window information, screen recordings and the
 * AT-SPI accessibility tree. Screenshots come back as bytes with their format and size (the wire's
 * base64 is decoded once); recordings download as a `Stream` or to a file; the desktop itself is a
 * scoped resource ({@link ComputerUse.scoped}: started, then stopped when the scope closes).
 *
 * A server without the desktop's tools answers with the packages to install; that answer is an
 * {@link UnsupportedError} here.
 *
 * @since 0.1.0
 */
import * as PlatformFileSystem from "@effect/platform/FileSystem"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as ComputerUseDto from "./ComputerUseDto.js"
import {
  type ApiError,
  type CommandTimeoutError,
  type ConflictError,
  type NotFoundError,
  RequestTimeoutError,
  TransportError,
  UnexpectedResponseError,
  UnsupportedError,
  ValidationError
} from "./DaytonaError.js"
import { idleTimeout } from "./internal/idleTimeout.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import * as Spans from "./internal/spans.js"

/**
 * What a computer-use call can fail with: an API error, a refused request (`ValidationError`: bad
 * input, or the desktop is not started), a missing process or recording (`NotFoundError`), a
 * recording still active (`ConflictError`), typing that outlived its time (`CommandTimeoutError`),
 * or a server without the desktop's tools (`UnsupportedError`, whose message names what to install).
 *
 * @since 0.1.0
 * @category models
 */
export type ComputerUseError =
  | ApiError
  | ValidationError
  | NotFoundError
  | ConflictError
  | CommandTimeoutError
  | UnsupportedError

/**
 * The image formats of a screenshot.
 *
 * @since 0.1.0
 * @category models
 */
export type ImageFormat = "png" | "jpeg" | "webp"

/**
 * A screenshot: the image's bytes (decoded from the wire's base64), its format and size in pixels as
 * read from the image itself, and where the pointer was.
 *
 * @since 0.1.0
 * @category models
 */
export interface Screenshot {
  readonly bytes: Uint8Array
  readonly format: ImageFormat
  readonly width: number
  readonly height: number
  /** The image's size in bytes. */
  readonly sizeBytes: number
  readonly cursorPosition?: { readonly x: number; readonly y: number } | undefined
}

/**
 * A region of the screen: its top-left corner and size, in pixels.
 *
 * @since 0.1.0
 * @category models
 */
export interface Region {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
}

/**
 * Options of a compressed screenshot: the format (`png` by default), the quality of JPEG and WebP
 * (1–100, 85 by default), the scale (0.1–1) and whether the pointer is drawn.
 *
 * @since 0.1.0
 * @category models
 */
export interface ScreenshotOptions {
  readonly showCursor?: boolean | undefined
  readonly format?: "png" | "jpeg" | "jpg" | "webp" | undefined
  readonly quality?: number | undefined
  readonly scale?: number | undefined
}

/**
 * The mouse of the desktop.
 *
 * @since 0.1.0
 * @category models
 */
export interface Mouse {
  /** Where the pointer is. */
  readonly getPosition: Effect.Effect<ComputerUseDto.MousePositionResponse, ComputerUseError>
  /** Moves the pointer; answers where it is after the move. */
  readonly move: (x: number, y: number) => Effect.Effect<ComputerUseDto.MousePositionResponse, ComputerUseError>
  /** Moves the pointer and clicks (`left` by default; twice with `double`). */
  readonly click: (
    x: number,
    y: number,
    options?: { readonly button?: ComputerUseDto.MouseButton | undefined; readonly double?: boolean | undefined }
  ) => Effect.Effect<ComputerUseDto.MousePositionResponse, ComputerUseError>
  /** Presses a button at the start, moves to the end and releases it there. */
  readonly drag: (
    startX: number,
    startY: number,
    endX: number,
    endY: number,
    options?: { readonly button?: ComputerUseDto.MouseButton | undefined }
  ) => Effect.Effect<ComputerUseDto.MousePositionResponse, ComputerUseError>
  /** Turns the wheel `amount` steps (1 by default) at a position. */
  readonly scroll: (
    x: number,
    y: number,
    direction: "up" | "down",
    amount?: number
  ) => Effect.Effect<boolean, ComputerUseError>
}

/**
 * The keyboard of the desktop.
 *
 * @since 0.1.0
 * @category models
 */
export interface Keyboard {
  /** Types a text (line breaks press Enter; a tab or another control character is refused), `delay` ms between keys. */
  readonly type: (
    text: string,
    options?: { readonly delay?: number | undefined }
  ) => Effect.Effect<void, ComputerUseError>
  /** Presses a key (`enter`, `a`, `f5`, `num_plus`…) with modifiers (`ctrl`, `alt`, `shift`, `cmd`). */
  readonly press: (key: string, modifiers?: ReadonlyArray<string>) => Effect.Effect<void, ComputerUseError>
  /** Presses one chord such as `ctrl+shift+t`. */
  readonly hotkey: (keys: string) => Effect.Effect<void, ComputerUseError>
}

/**
 * Screenshots of the desktop.
 *
 * @since 0.1.0
 * @category models
 */
export interface Screenshots {
  /** The whole screen as PNG. */
  readonly takeFullScreen: (options?: {
    readonly showCursor?: boolean | undefined
  }) => Effect.Effect<Screenshot, ComputerUseError>
  /** Exactly `region` of the screen as PNG (a region that leaves the screen is refused). */
  readonly takeRegion: (
    region: Region,
    options?: { readonly showCursor?: boolean | undefined }
  ) => Effect.Effect<Screenshot, ComputerUseError>
  /** The whole screen in a format, quality and scale. */
  readonly takeCompressed: (options?: ScreenshotOptions) => Effect.Effect<Screenshot, ComputerUseError>
  /** A region in a format, quality and scale. */
  readonly takeCompressedRegion: (
    region: Region,
    options?: ScreenshotOptions
  ) => Effect.Effect<Screenshot, ComputerUseError>
}

/**
 * The displays and windows of the desktop.
 *
 * @since 0.1.0
 * @category models
 */
export interface Display {
  readonly getInfo: Effect.Effect<ComputerUseDto.DisplayInfoResponse, ComputerUseError>
  readonly getWindows: Effect.Effect<ComputerUseDto.WindowsResponse, ComputerUseError>
}

/**
 * Screen recordings: MP4 files kept in the sandbox (`~/.daytona/recordings`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Recordings {
  /** Starts recording (the label goes into the file's name: letters, digits, spaces, `.`, `_`, `-`). */
  readonly start: (label?: string) => Effect.Effect<ComputerUseDto.Recording, ComputerUseError>
  /** Stops a recording and answers it completed, with its duration and size. */
  readonly stop: (id: string) => Effect.Effect<ComputerUseDto.Recording, ComputerUseError>
  readonly list: Effect.Effect<ReadonlyArray<ComputerUseDto.Recording>, ComputerUseError>
  readonly get: (id: string) => Effect.Effect<ComputerUseDto.Recording, ComputerUseError>
  readonly delete: (id: string) => Effect.Effect<void, ComputerUseError>
  /** A recording's bytes as a stream. */
  readonly download: (id: string) => Stream.Stream<Uint8Array, ComputerUseError>
  /** Streams a recording to a local file (parent directories created; removed again on failure). */
  readonly downloadTo: (
    id: string,
    localPath: string
  ) => Effect.Effect<void, ComputerUseError | UnexpectedResponseError, PlatformFileSystem.FileSystem>
}

/**
 * The AT-SPI accessibility tree of the desktop's applications.
 *
 * @since 0.1.0
 * @category models
 */
export interface Accessibility {
  /** The tree of the focused application (`scope: "focused"`), of a process (`pid`) or of all (`all`). */
  readonly getTree: (options?: {
    readonly scope?: "focused" | "pid" | "all" | undefined
    readonly pid?: number | undefined
    readonly maxDepth?: number | undefined
  }) => Effect.Effect<ComputerUseDto.AccessibilityTreeResponse, ComputerUseError>
  /** The nodes that match every given filter, as a flat list. */
  readonly findNodes: (
    options?: typeof ComputerUseDto.FindAccessibilityNodesRequest.Type
  ) => Effect.Effect<ComputerUseDto.AccessibilityNodesResponse, ComputerUseError>
  readonly focusNode: (id: string) => Effect.Effect<void, ComputerUseError>
  /** Runs an action of a node (its first when none is named). */
  readonly invokeNode: (id: string, action?: string) => Effect.Effect<void, ComputerUseError>
  /** Sets a node's text (editable text) or value (numeric controls). */
  readonly setNodeValue: (id: string, value: string) => Effect.Effect<void, ComputerUseError>
}

/**
 * The computer-use operations of one sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export interface ComputerUse {
  /** Starts the desktop's processes (idempotent) and answers their status. */
  readonly start: Effect.Effect<ComputerUseDto.ComputerUseProcessesResponse, ComputerUseError>
  /** Stops the desktop's processes (active recordings are stopped and kept). */
  readonly stop: Effect.Effect<ComputerUseDto.ComputerUseProcessesResponse, ComputerUseError>
  /** The desktop as a scoped resource: started now, stopped when the scope closes. */
  readonly scoped: Effect.Effect<ComputerUseDto.ComputerUseProcessesResponse, ComputerUseError, Scope.Scope>
  /** `active` when every process runs, `partial` when some do, `inactive` when none does. */
  readonly getStatus: Effect.Effect<ComputerUseDto.ComputerUseStatusResponse, ComputerUseError>
  /** The state of the computer-use system (`active` while the display runs). */
  readonly getSystemStatus: Effect.Effect<ComputerUseDto.ComputerUseStatusResponse, ComputerUseError>
  readonly getProcessStatus: (
    processName: string
  ) => Effect.Effect<ComputerUseDto.ProcessStatusResponse, ComputerUseError>
  readonly restartProcess: (
    processName: string
  ) => Effect.Effect<ComputerUseDto.ProcessRestartResponse, ComputerUseError>
  /** What a process wrote on stdout. */
  readonly getProcessLogs: (processName: string) => Effect.Effect<ComputerUseDto.ProcessLogsResponse, ComputerUseError>
  /** What a process wrote on stderr. */
  readonly getProcessErrors: (
    processName: string
  ) => Effect.Effect<ComputerUseDto.ProcessErrorsResponse, ComputerUseError>
  readonly mouse: Mouse
  readonly keyboard: Keyboard
  readonly screenshot: Screenshots
  readonly display: Display
  readonly recording: Recordings
  readonly accessibility: Accessibility
}

/** The machine code of a server that lacks the desktop's tools. */
const notInstalledCode = "COMPUTER_USE_NOT_INSTALLED"

const unsupported = <A, E, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, never> | UnsupportedError, R> =>
  Effect.catchIf(
    self,
    (error): error is E & ValidationError => error instanceof ValidationError && error.errorCode === notInstalledCode,
    (error) => Effect.fail(new UnsupportedError({ feature: "computer use", message: error.message }))
  )

const u32 = (bytes: Uint8Array, at: number) =>
  ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
const u16 = (bytes: Uint8Array, at: number) => (bytes[at]! << 8) | bytes[at + 1]!
const u16le = (bytes: Uint8Array, at: number) => bytes[at]! | (bytes[at + 1]! << 8)
const u24le = (bytes: Uint8Array, at: number) => bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16)

const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length))

/**
 * The format and size of an image, read from its header: PNG (`IHDR`), JPEG (the first start of
 * frame), WebP (`VP8 `, `VP8L` or `VP8X`). `undefined` when the bytes are none of these.
 *
 * @since 0.1.0
 * @category utils
 */
export const imageInfo = (
  bytes: Uint8Array
): { readonly format: ImageFormat; readonly width: number; readonly height: number } | undefined => {
  if (bytes.length >= 24 && u32(bytes, 0) === 0x89504e47 && ascii(bytes, 12, 4) === "IHDR")
    return { format: "png", width: u32(bytes, 16), height: u32(bytes, 20) }
  if (bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let at = 2
    while (at + 9 < bytes.length) {
      if (bytes[at] !== 0xff) return undefined
      const marker = bytes[at + 1]!
      if (marker === 0xff) {
        at++
        continue
      }
      const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc
      if (isFrame) return { format: "jpeg", width: u16(bytes, at + 7), height: u16(bytes, at + 5) }
      at += 2 + u16(bytes, at + 2)
    }
    return undefined
  }
  if (bytes.length >= 30 && ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") {
    const chunk = ascii(bytes, 12, 4)
    if (chunk === "VP8 ") return { format: "webp", width: u16le(bytes, 26) & 0x3fff, height: u16le(bytes, 28) & 0x3fff }
    if (chunk === "VP8L") {
      const bits = bytes[21]! | (bytes[22]! << 8) | (bytes[23]! << 16) | (bytes[24]! << 24)
      return { format: "webp", width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 }
    }
    if (chunk === "VP8X") return { format: "webp", width: u24le(bytes, 24) + 1, height: u24le(bytes, 27) + 1 }
  }
  return undefined
}

const invalidScreenshot = (what: string, message: string) =>
  new UnexpectedResponseError({
    reason: "InvalidBody",
    status: 200,
    method: "GET",
    path: what,
    message: `${what}: ${message}`,
    sent: true
  })

/** Turns the wire's screenshot into bytes with their format and size. */
const toScreenshot =
  (what: string) =>
  (response: ComputerUseDto.ScreenshotResponse): Effect.Effect<Screenshot, UnexpectedResponseError> => {
    if (response.screenshot === undefined || response.screenshot === "")
      return Effect.fail(invalidScreenshot(what, "the answer holds no image"))
    const decoded = Encoding.decodeBase64(response.screenshot)
    if (decoded._tag === "Left") return Effect.fail(invalidScreenshot(what, "the image is not valid base64"))
    const bytes = decoded.right
    const info = imageInfo(bytes)
    if (info === undefined) return Effect.fail(invalidScreenshot(what, "the image is not PNG, JPEG or WebP"))
    const cursor = response.cursorPosition
    return Effect.succeed({
      bytes,
      ...info,
      sizeBytes: bytes.length,
      ...(cursor?.x === undefined || cursor.y === undefined ? {} : { cursorPosition: { x: cursor.x, y: cursor.y } })
    })
  }

/**
 * Builds the computer-use operations of one sandbox.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (target: ToolboxClient.Target, toolbox: ToolboxClient.Service): ComputerUse => {
  const span = (name: string, attributes: Record<string, unknown> = {}) =>
    Spans.withSpan(`ComputerUse.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id, ...attributes }
    })
  const start = unsupported(toolbox.call(target, ToolboxApi.computerUseStart, {})).pipe(span("start"))
  const stop = unsupported(toolbox.call(target, ToolboxApi.computerUseStop, {})).pipe(span("stop"))

  const shot = (name: string, taken: Effect.Effect<ComputerUseDto.ScreenshotResponse, ComputerUseError>) =>
    Effect.flatMap(taken, toScreenshot(`ComputerUse.screenshot.${name}`)).pipe(span(`screenshot.${name}`))

  const download = (id: string): Stream.Stream<Uint8Array, ComputerUseError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const response: HttpClientResponse.HttpClientResponse = yield* unsupported(
          toolbox.execute(target, ToolboxApi.computerUseDownloadRecording, { params: { id } }, { stream: true })
        )
        const method = "GET"
        const path = new URL(response.request.url).pathname
        const idle = toolbox.config.requestTimeout
        return response.stream.pipe(
          Stream.mapError(
            (error) =>
              new TransportError({
                reason: "Body",
                method,
                path,
                sent: true,
                description: error.description ?? "could not read the recording",
                cause: error.cause
              })
          ),
          (stream) => idleTimeout(stream, idle, () => new RequestTimeoutError({ method, path, timeout: idle }))
        )
      })
    )

  const downloadTo: Recordings["downloadTo"] = (id, localPath) =>
    Effect.gen(function* () {
      const fs = yield* PlatformFileSystem.FileSystem
      const parent = dirname(localPath)
      const failed = (description: string) =>
        new UnexpectedResponseError({
          reason: "Status",
          status: 0,
          method: "GET",
          path: localPath,
          message: `cannot write the recording to ${localPath}: ${description}`
        })
      if (parent !== "")
        yield* fs.makeDirectory(parent, { recursive: true }).pipe(Effect.mapError((e) => failed(e.message)))
      yield* Stream.run(download(id), fs.sink(localPath)).pipe(
        Effect.mapError((error) =>
          error._tag === "SystemError" || error._tag === "BadArgument" ? failed(error.message) : error
        ),
        Effect.tapError(() => fs.remove(localPath).pipe(Effect.ignore))
      )
    }).pipe(span("recording.downloadTo", { "daytona.recording.id": id }))

  const computerUse: ComputerUse = {
    start,
    stop,
    scoped: Effect.acquireRelease(start, () => Effect.ignore(stop)),
    getStatus: unsupported(toolbox.call(target, ToolboxApi.computerUseProcessesStatus, {})).pipe(span("getStatus")),
    getSystemStatus: unsupported(toolbox.call(target, ToolboxApi.computerUseSystemStatus, {})).pipe(
      span("getSystemStatus")
    ),
    getProcessStatus: (processName) =>
      unsupported(toolbox.call(target, ToolboxApi.computerUseProcessStatus, { params: { processName } })).pipe(
        span("getProcessStatus")
      ),
    restartProcess: (processName) =>
      unsupported(toolbox.call(target, ToolboxApi.computerUseRestartProcess, { params: { processName } })).pipe(
        span("restartProcess")
      ),
    getProcessLogs: (processName) =>
      unsupported(toolbox.call(target, ToolboxApi.computerUseProcessLogs, { params: { processName } })).pipe(
        span("getProcessLogs")
      ),
    getProcessErrors: (processName) =>
      unsupported(toolbox.call(target, ToolboxApi.computerUseProcessErrors, { params: { processName } })).pipe(
        span("getProcessErrors")
      ),
    mouse: {
      getPosition: unsupported(toolbox.call(target, ToolboxApi.computerUseMousePosition, {})).pipe(
        span("mouse.getPosition")
      ),
      move: (x, y) =>
        unsupported(toolbox.call(target, ToolboxApi.computerUseMouseMove, { payload: { x, y } })).pipe(
          span("mouse.move")
        ),
      click: (x, y, options) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseMouseClick, {
            payload: { x, y, button: options?.button ?? "left", double: options?.double ?? false }
          })
        ).pipe(span("mouse.click")),
      drag: (startX, startY, endX, endY, options) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseMouseDrag, {
            payload: { startX, startY, endX, endY, button: options?.button ?? "left" }
          })
        ).pipe(span("mouse.drag")),
      scroll: (x, y, direction, amount = 1) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseMouseScroll, { payload: { x, y, direction, amount } })
        ).pipe(
          Effect.map((answer) => answer.success === true),
          span("mouse.scroll")
        )
    },
    keyboard: {
      type: (text, options) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseTypeText, {
            payload: { text, ...(options?.delay === undefined ? {} : { delay: options.delay }) }
          })
        ).pipe(Effect.asVoid, span("keyboard.type")),
      press: (key, modifiers = []) =>
        unsupported(toolbox.call(target, ToolboxApi.computerUsePressKey, { payload: { key, modifiers } })).pipe(
          Effect.asVoid,
          span("keyboard.press")
        ),
      hotkey: (keys) =>
        unsupported(toolbox.call(target, ToolboxApi.computerUsePressHotkey, { payload: { keys } })).pipe(
          Effect.asVoid,
          span("keyboard.hotkey")
        )
    },
    screenshot: {
      takeFullScreen: (options) =>
        shot(
          "takeFullScreen",
          unsupported(
            toolbox.call(target, ToolboxApi.computerUseScreenshot, {
              query: { showCursor: options?.showCursor ?? false }
            })
          )
        ),
      takeRegion: (region, options) =>
        shot(
          "takeRegion",
          unsupported(
            toolbox.call(target, ToolboxApi.computerUseRegionScreenshot, {
              query: { ...regionQuery(region), showCursor: options?.showCursor ?? false }
            })
          )
        ),
      takeCompressed: (options) =>
        shot(
          "takeCompressed",
          unsupported(
            toolbox.call(target, ToolboxApi.computerUseCompressedScreenshot, { query: compressionQuery(options) })
          )
        ),
      takeCompressedRegion: (region, options) =>
        shot(
          "takeCompressedRegion",
          unsupported(
            toolbox.call(target, ToolboxApi.computerUseCompressedRegionScreenshot, {
              query: { ...regionQuery(region), ...compressionQuery(options) }
            })
          )
        )
    },
    display: {
      getInfo: unsupported(toolbox.call(target, ToolboxApi.computerUseDisplayInfo, {})).pipe(span("display.getInfo")),
      getWindows: unsupported(toolbox.call(target, ToolboxApi.computerUseWindows, {})).pipe(span("display.getWindows"))
    },
    recording: {
      start: (label) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseStartRecording, {
            payload: label === undefined ? {} : { label }
          })
        ).pipe(span("recording.start")),
      stop: (id) =>
        unsupported(toolbox.call(target, ToolboxApi.computerUseStopRecording, { payload: { id } })).pipe(
          span("recording.stop", { "daytona.recording.id": id })
        ),
      list: unsupported(toolbox.call(target, ToolboxApi.computerUseListRecordings, {})).pipe(
        Effect.map((answer) => answer.recordings),
        span("recording.list")
      ),
      get: (id) =>
        unsupported(toolbox.call(target, ToolboxApi.computerUseGetRecording, { params: { id } })).pipe(
          span("recording.get", { "daytona.recording.id": id })
        ),
      delete: (id) =>
        unsupported(toolbox.call(target, ToolboxApi.computerUseDeleteRecording, { params: { id } })).pipe(
          span("recording.delete", { "daytona.recording.id": id })
        ),
      download,
      downloadTo
    },
    accessibility: {
      getTree: (options) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseAccessibilityTree, {
            query: {
              ...(options?.scope === undefined ? {} : { scope: options.scope }),
              ...(options?.pid === undefined ? {} : { pid: options.pid }),
              ...(options?.maxDepth === undefined ? {} : { maxDepth: options.maxDepth })
            }
          })
        ).pipe(span("accessibility.getTree")),
      findNodes: (options) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseFindAccessibilityNodes, { payload: options ?? {} })
        ).pipe(span("accessibility.findNodes")),
      focusNode: (id) =>
        unsupported(toolbox.call(target, ToolboxApi.computerUseFocusAccessibilityNode, { payload: { id } })).pipe(
          Effect.asVoid,
          span("accessibility.focusNode")
        ),
      invokeNode: (id, action) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseInvokeAccessibilityNode, {
            payload: { id, ...(action === undefined ? {} : { action }) }
          })
        ).pipe(Effect.asVoid, span("accessibility.invokeNode")),
      setNodeValue: (id, value) =>
        unsupported(
          toolbox.call(target, ToolboxApi.computerUseSetAccessibilityNodeValue, { payload: { id, value } })
        ).pipe(Effect.asVoid, span("accessibility.setNodeValue"))
    }
  }
  return computerUse
}

const dirname = (path: string): string => {
  const slash = path.replace(/\/+$/, "").lastIndexOf("/")
  return slash <= 0 ? (slash === 0 ? "/" : "") : path.slice(0, slash)
}

const regionQuery = (region: Region) => ({ x: region.x, y: region.y, width: region.width, height: region.height })

const compressionQuery = (options: ScreenshotOptions | undefined) => ({
  showCursor: options?.showCursor ?? false,
  ...(options?.format === undefined ? {} : { format: options.format }),
  ...(options?.quality === undefined ? {} : { quality: options.quality }),
  ...(options?.scale === undefined ? {} : { scale: options.scale })
})
