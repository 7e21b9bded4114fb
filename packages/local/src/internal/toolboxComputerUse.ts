import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as NodePath from "node:path"
import { badRequest } from "./daemonError.js"
import * as Desktop from "./desktop.js"
import * as DesktopAccessibility from "./desktopAccessibility.js"
import * as DesktopKeys from "./desktopKeys.js"
import * as DesktopRecordings from "./desktopRecordings.js"
import * as DesktopScreen from "./desktopScreen.js"
import { desktopOf, displayRunning, type DesktopState } from "./desktopState.js"
import type { SandboxRecord } from "./record.js"
import { empty, type EndpointHandler, serve } from "./toolboxRoute.js"

// ---------------------------------------------------------------------------------------------
// the desktop's processes
// ---------------------------------------------------------------------------------------------

const startDesktop: EndpointHandler<typeof ToolboxApi.computerUseStart> = (sandbox) =>
  Effect.map(Desktop.start(sandbox), (state) => ({
    message: "Computer use processes started successfully",
    status: Desktop.statusMap(state)
  }))

const stopDesktop: EndpointHandler<typeof ToolboxApi.computerUseStop> = (sandbox) =>
  Effect.gen(function* () {
    yield* Desktop.requireFeature("desktop")
    const state = yield* Desktop.stop(sandbox)
    return { message: "Computer use processes stopped successfully", status: Desktop.statusMap(state) }
  })

const processesStatus: EndpointHandler<typeof ToolboxApi.computerUseProcessesStatus> = (sandbox) =>
  Effect.gen(function* () {
    yield* Desktop.requireFeature("desktop")
    return { status: Desktop.overallStatus(yield* desktopOf(sandbox.id)) }
  })

const systemStatus: EndpointHandler<typeof ToolboxApi.computerUseSystemStatus> = (sandbox) =>
  Effect.gen(function* () {
    yield* Desktop.requireFeature("desktop")
    return { status: displayRunning(yield* desktopOf(sandbox.id)) ? "active" : "inactive" }
  })

/** A process of the desktop named in the path (one that has not run yet reads as stopped). */
const processOf = (sandbox: SandboxRecord, name: string) =>
  Effect.gen(function* () {
    yield* Desktop.requireFeature("desktop")
    const state = yield* desktopOf(sandbox.id)
    const known = yield* Desktop.processNames
    if (!known.includes(name)) return yield* Desktop.unknownProcess(name, known)
    return { state, process: state.processes.get(name) }
  })

const processStatus: EndpointHandler<typeof ToolboxApi.computerUseProcessStatus> = (sandbox, { params }) =>
  Effect.map(processOf(sandbox, params.processName), ({ process }) => ({
    processName: params.processName,
    running: process?.running === true
  }))

const restartProcess: EndpointHandler<typeof ToolboxApi.computerUseRestartProcess> = (sandbox, { params }) =>
  Effect.gen(function* () {
    yield* processOf(sandbox, params.processName)
    yield* Desktop.restart(sandbox, params.processName)
    return { message: `Process ${params.processName} restarted successfully`, processName: params.processName }
  })

const logFile = (sandbox: SandboxRecord, name: string, extension: "log" | "err") =>
  Effect.map(Desktop.logDirOf(sandbox), (dir) => NodePath.posix.join(dir, `${name}.${extension}`))

const processLogs: EndpointHandler<typeof ToolboxApi.computerUseProcessLogs> = (sandbox, { params }) =>
  Effect.gen(function* () {
    yield* processOf(sandbox, params.processName)
    const logs = yield* Desktop.readLog(sandbox, yield* logFile(sandbox, params.processName, "log"))
    return { processName: params.processName, logs }
  })

const processErrors: EndpointHandler<typeof ToolboxApi.computerUseProcessErrors> = (sandbox, { params }) =>
  Effect.gen(function* () {
    yield* processOf(sandbox, params.processName)
    const errors = yield* Desktop.readLog(sandbox, yield* logFile(sandbox, params.processName, "err"))
    return { processName: params.processName, errors }
  })

// ---------------------------------------------------------------------------------------------
// mouse
// ---------------------------------------------------------------------------------------------

/** The desktop for an input route, with `xdotool`'s path. */
const input = (sandbox: SandboxRecord) =>
  Effect.map(Desktop.runningDesktop(sandbox, "desktop"), ({ paths, state }) => ({ state, xdotool: paths.xdotool! }))

/** A coordinate kept on the screen (the X server keeps the pointer there too). */
const clamp = (value: number | undefined, size: number) => String(Math.min(Math.max(0, value ?? 0), size - 1))

const buttonNumber = (button: string | undefined) => {
  const name = (button ?? "").trim().toLowerCase()
  if (name === "" || name === "left") return Effect.succeed("1")
  if (name === "middle") return Effect.succeed("2")
  if (name === "right") return Effect.succeed("3")
  return Effect.fail(
    badRequest(`unsupported mouse button ${JSON.stringify(button)}: expected one of left, right, middle`)
  )
}

/** Runs an `xdotool` chain that ends by printing where the pointer is, and answers that position. */
const pointerAfter = (sandbox: SandboxRecord, state: DesktopState, xdotool: string, chain: ReadonlyArray<string>) =>
  Effect.flatMap(Desktop.runTool(sandbox, state, [xdotool, ...chain, "getmouselocation", "--shell"]), (output) =>
    Effect.sync(() => DesktopScreen.parsePosition(output))
  )

const mousePosition: EndpointHandler<typeof ToolboxApi.computerUseMousePosition> = (sandbox) =>
  Effect.flatMap(input(sandbox), ({ state, xdotool }) => DesktopScreen.pointer(sandbox, state, xdotool))

const mouseMove: EndpointHandler<typeof ToolboxApi.computerUseMouseMove> = (sandbox, { payload }) =>
  Effect.flatMap(input(sandbox), ({ state, xdotool }) =>
    pointerAfter(sandbox, state, xdotool, ["mousemove", clamp(payload.x, state.width), clamp(payload.y, state.height)])
  )

const mouseClick: EndpointHandler<typeof ToolboxApi.computerUseMouseClick> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const { state, xdotool } = yield* input(sandbox)
    const button = yield* buttonNumber(payload.button)
    return yield* pointerAfter(sandbox, state, xdotool, [
      "mousemove",
      clamp(payload.x, state.width),
      clamp(payload.y, state.height),
      "sleep",
      "0.05",
      "click",
      ...(payload.double === true ? ["--repeat", "2", "--delay", "80"] : []),
      button
    ])
  })

const mouseDrag: EndpointHandler<typeof ToolboxApi.computerUseMouseDrag> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const { state, xdotool } = yield* input(sandbox)
    const button = yield* buttonNumber(payload.button)
    const from = { x: payload.startX ?? 0, y: payload.startY ?? 0 }
    const to = { x: payload.endX ?? 0, y: payload.endY ?? 0 }
    const steps = 10
    const path: Array<string> = []
    for (let i = 1; i <= steps; i++) {
      const x = Math.round(from.x + ((to.x - from.x) * i) / steps)
      const y = Math.round(from.y + ((to.y - from.y) * i) / steps)
      path.push("mousemove", clamp(x, state.width), clamp(y, state.height), "sleep", "0.01")
    }
    return yield* pointerAfter(sandbox, state, xdotool, [
      "mousemove",
      clamp(from.x, state.width),
      clamp(from.y, state.height),
      "sleep",
      "0.05",
      "mousedown",
      button,
      "sleep",
      "0.05",
      ...path,
      "sleep",
      "0.05",
      "mouseup",
      button
    ])
  })

const mouseScroll: EndpointHandler<typeof ToolboxApi.computerUseMouseScroll> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const direction = (payload.direction ?? "").trim().toLowerCase()
    if (direction !== "up" && direction !== "down")
      return yield* badRequest(
        `unsupported scroll direction ${JSON.stringify(payload.direction ?? "")}: expected up or down`
      )
    const { state, xdotool } = yield* input(sandbox)
    const amount = payload.amount === undefined || payload.amount === 0 ? 1 : payload.amount
    yield* Desktop.runTool(sandbox, state, [
      xdotool,
      "mousemove",
      clamp(payload.x, state.width),
      clamp(payload.y, state.height),
      "sleep",
      "0.05",
      "click",
      "--repeat",
      String(amount),
      "--delay",
      "20",
      direction === "up" ? "4" : "5"
    ])
    return { success: true }
  })

// ---------------------------------------------------------------------------------------------
// keyboard
// ---------------------------------------------------------------------------------------------

/** The most text one `type` request sends (it travels as one argument, which Linux caps at 128 KiB). */
const maxTypedBytes = 100 * 1024

const keyError = (error: unknown) => badRequest(error instanceof Error ? error.message : String(error))

const typeText: EndpointHandler<typeof ToolboxApi.computerUseTypeText> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const text = payload.text ?? ""
    const bytes = Buffer.byteLength(text, "utf8")
    if (bytes > maxTypedBytes)
      return yield* badRequest(`text too long to type: ${bytes} bytes, at most ${maxTypedBytes} in one request`)
    yield* Effect.try({ try: () => DesktopKeys.typingSteps(text), catch: keyError })
    const { state, xdotool } = yield* input(sandbox)
    if (text === "") return {}
    const delay = payload.delay ?? 12
    const budget = Math.min(10 * 60_000, 30_000 + [...text].length * (delay + 20))
    yield* Desktop.runTool(
      sandbox,
      state,
      ["/bin/sh", "-c", 'printf "%s" "$1" | "$0" type --delay "$2" --file -', xdotool, text, String(delay)],
      { timeout: Duration.millis(budget) }
    )
    return {}
  })

const pressKey: EndpointHandler<typeof ToolboxApi.computerUsePressKey> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const chord = yield* Effect.try({
      try: () => DesktopKeys.pressChord(payload.key ?? "", payload.modifiers ?? []),
      catch: keyError
    })
    const { state, xdotool } = yield* input(sandbox)
    yield* Desktop.runTool(sandbox, state, [xdotool, "key", "--", chord])
    return {}
  })

const pressHotkey: EndpointHandler<typeof ToolboxApi.computerUsePressHotkey> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const chord = yield* Effect.try({ try: () => DesktopKeys.hotkeyChord(payload.keys ?? ""), catch: keyError })
    const { state, xdotool } = yield* input(sandbox)
    yield* Desktop.runTool(sandbox, state, [xdotool, "key", "--", chord])
    return {}
  })

// ---------------------------------------------------------------------------------------------
// screenshots and display
// ---------------------------------------------------------------------------------------------

const shoot = (
  sandbox: SandboxRecord,
  region: { readonly x: number; readonly y: number; readonly width: number; readonly height: number } | undefined,
  options: {
    readonly showCursor?: boolean | undefined
    readonly format?: string | undefined
    readonly quality?: number | undefined
    readonly scale?: number | undefined
  }
) =>
  Effect.gen(function* () {
    const { state, paths } = yield* Desktop.runningDesktop(sandbox, "screenshots")
    const area = region ?? { x: 0, y: 0, width: state.width, height: state.height }
    return yield* DesktopScreen.capture(
      sandbox,
      state,
      { ffmpeg: paths.ffmpeg!, xdotool: paths.xdotool! },
      {
        ...area,
        showCursor: options.showCursor === true,
        format:
          options.format === "jpeg" || options.format === "jpg" ? "jpeg" : options.format === "webp" ? "webp" : "png",
        quality: options.quality ?? 85,
        scale: options.scale ?? 1
      }
    )
  })

const screenshot: EndpointHandler<typeof ToolboxApi.computerUseScreenshot> = (sandbox, { query }) =>
  shoot(sandbox, undefined, query)

const regionScreenshot: EndpointHandler<typeof ToolboxApi.computerUseRegionScreenshot> = (sandbox, { query }) =>
  shoot(sandbox, query, query)

const compressedScreenshot: EndpointHandler<typeof ToolboxApi.computerUseCompressedScreenshot> = (sandbox, { query }) =>
  shoot(sandbox, undefined, query)

const compressedRegionScreenshot: EndpointHandler<typeof ToolboxApi.computerUseCompressedRegionScreenshot> = (
  sandbox,
  { query }
) => shoot(sandbox, query, query)

const displayInfo: EndpointHandler<typeof ToolboxApi.computerUseDisplayInfo> = (sandbox) =>
  Effect.flatMap(input(sandbox), ({ state, xdotool }) => DesktopScreen.displays(sandbox, state, xdotool))

const windows: EndpointHandler<typeof ToolboxApi.computerUseWindows> = (sandbox) =>
  Effect.flatMap(input(sandbox), ({ state, xdotool }) => DesktopScreen.windows(sandbox, state, xdotool))

// ---------------------------------------------------------------------------------------------
// recordings
// ---------------------------------------------------------------------------------------------

const recordingsInstalled = Desktop.requireFeature("recordings")

const startRecording: EndpointHandler<typeof ToolboxApi.computerUseStartRecording> = (sandbox, { payload }) =>
  Effect.map(DesktopRecordings.start(sandbox, payload.label), DesktopRecordings.toDto)

const stopRecording: EndpointHandler<typeof ToolboxApi.computerUseStopRecording> = (sandbox, { payload }) =>
  Effect.zipRight(recordingsInstalled, Effect.map(DesktopRecordings.stop(sandbox, payload.id), DesktopRecordings.toDto))

const listRecordings: EndpointHandler<typeof ToolboxApi.computerUseListRecordings> = (sandbox) =>
  Effect.zipRight(
    recordingsInstalled,
    Effect.map(DesktopRecordings.list(sandbox), (recordings) => ({
      recordings: recordings.map(DesktopRecordings.toDto)
    }))
  )

const getRecording: EndpointHandler<typeof ToolboxApi.computerUseGetRecording> = (sandbox, { params }) =>
  Effect.zipRight(recordingsInstalled, Effect.map(DesktopRecordings.get(sandbox, params.id), DesktopRecordings.toDto))

const deleteRecording: EndpointHandler<typeof ToolboxApi.computerUseDeleteRecording> = (sandbox, { params }) =>
  Effect.zipRight(recordingsInstalled, Effect.as(DesktopRecordings.remove(sandbox, params.id), empty(204)))

const downloadRecording: EndpointHandler<typeof ToolboxApi.computerUseDownloadRecording> = (sandbox, { params }) =>
  Effect.zipRight(recordingsInstalled, DesktopRecordings.download(sandbox, params.id))

/** The computer-use endpoints of the toolbox daemon. */
export const router = HttpRouter.empty
  .pipe(
    serve(ToolboxApi.computerUseStart, startDesktop),
    serve(ToolboxApi.computerUseStop, stopDesktop),
    serve(ToolboxApi.computerUseProcessesStatus, processesStatus),
    serve(ToolboxApi.computerUseSystemStatus, systemStatus),
    serve(ToolboxApi.computerUseProcessStatus, processStatus),
    serve(ToolboxApi.computerUseRestartProcess, restartProcess),
    serve(ToolboxApi.computerUseProcessLogs, processLogs),
    serve(ToolboxApi.computerUseProcessErrors, processErrors)
  )
  .pipe(
    serve(ToolboxApi.computerUseMousePosition, mousePosition),
    serve(ToolboxApi.computerUseMouseMove, mouseMove),
    serve(ToolboxApi.computerUseMouseClick, mouseClick),
    serve(ToolboxApi.computerUseMouseDrag, mouseDrag),
    serve(ToolboxApi.computerUseMouseScroll, mouseScroll),
    serve(ToolboxApi.computerUseTypeText, typeText),
    serve(ToolboxApi.computerUsePressKey, pressKey),
    serve(ToolboxApi.computerUsePressHotkey, pressHotkey),
    serve(ToolboxApi.computerUseScreenshot, screenshot),
    serve(ToolboxApi.computerUseRegionScreenshot, regionScreenshot),
    serve(ToolboxApi.computerUseCompressedScreenshot, compressedScreenshot),
    serve(ToolboxApi.computerUseCompressedRegionScreenshot, compressedRegionScreenshot),
    serve(ToolboxApi.computerUseDisplayInfo, displayInfo),
    serve(ToolboxApi.computerUseWindows, windows)
  )
  .pipe(
    serve(ToolboxApi.computerUseStartRecording, startRecording),
    serve(ToolboxApi.computerUseStopRecording, stopRecording),
    serve(ToolboxApi.computerUseListRecordings, listRecordings),
    serve(ToolboxApi.computerUseGetRecording, getRecording),
    serve(ToolboxApi.computerUseDeleteRecording, deleteRecording),
    serve(ToolboxApi.computerUseDownloadRecording, downloadRecording),
    serve(ToolboxApi.computerUseAccessibilityTree, DesktopAccessibility.tree),
    serve(ToolboxApi.computerUseFindAccessibilityNodes, DesktopAccessibility.find),
    serve(ToolboxApi.computerUseFocusAccessibilityNode, DesktopAccessibility.focus),
    serve(ToolboxApi.computerUseInvokeAccessibilityNode, DesktopAccessibility.invoke),
    serve(ToolboxApi.computerUseSetAccessibilityNodeValue, DesktopAccessibility.setValue)
  )
