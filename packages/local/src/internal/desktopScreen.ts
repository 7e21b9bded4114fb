import type { DisplayInfoResponse, ScreenshotResponse, WindowsResponse } from "@effect-daytona/sdk/ComputerUseDto"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as NodeCrypto from "node:crypto"
import * as NodePath from "node:path"
import { badRequest, internal } from "./daemonError.js"
import { runTool } from "./desktop.js"
import type { DesktopState } from "./desktopState.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { viewOf } from "./toolboxFs.js"

/** The largest image the server reads back from a sandbox (a 8192×8192 PNG fits). */
const maxImageBytes = 256 * 1024 * 1024

/** A pointer position, as `xdotool getmouselocation --shell` prints it. */
export const parsePosition = (output: string): { readonly x: number; readonly y: number } => {
  const x = /^X=(-?\d+)$/m.exec(output)?.[1]
  const y = /^Y=(-?\d+)$/m.exec(output)?.[1]
  if (x === undefined || y === undefined) throw new Error(`unexpected pointer location: ${output.slice(0, 200)}`)
  return { x: Number(x), y: Number(y) }
}

/** Where the pointer is. */
export const pointer = (sandbox: SandboxRecord, state: DesktopState, xdotool: string) =>
  Effect.flatMap(runTool(sandbox, state, [xdotool, "getmouselocation", "--shell"]), (output) =>
    Effect.try({ try: () => parsePosition(output), catch: (error) => internal(String(error)) })
  )

/** What to capture: a region of the screen, whether the pointer is drawn, and how it is encoded. */
export interface Capture {
  readonly x: number
  readonly y: number
  readonly width: number
  readonly height: number
  readonly showCursor: boolean
  readonly format: "png" | "jpeg" | "webp"
  /** 1–100, for JPEG and WebP (85 when not given, as the daemon does). */
  readonly quality: number
  /** 0.1–1: the image is this many times the region's size. */
  readonly scale: number
}

/** ffmpeg's JPEG quantiser (2 best, 31 worst) for a quality from 1 to 100. */
const jpegQuantiser = (quality: number) => Math.round(31 - ((quality - 1) * 29) / 99)

const codec = (capture: Capture): ReadonlyArray<string> => {
  switch (capture.format) {
    case "png":
      return ["-c:v", "png", "-pix_fmt", "rgb24"]
    case "jpeg":
      return ["-c:v", "mjpeg", "-pix_fmt", "yuvj444p", "-q:v", String(jpegQuantiser(capture.quality))]
    case "webp":
      return ["-c:v", "libwebp", "-quality", String(capture.quality)]
  }
}

/** Checks that a region lies on the screen. */
export const checkRegion = (state: DesktopState, region: { x: number; y: number; width: number; height: number }) =>
  region.x + region.width > state.width || region.y + region.height > state.height
    ? Effect.fail(
        badRequest(
          `the region ${region.width}x${region.height} at ${region.x},${region.y} does not fit the screen (${state.width}x${state.height})`
        )
      )
    : Effect.void

/**
 * Captures a region of the sandbox's screen with ffmpeg's X11 grabber, inside the sandbox: exactly
 * the asked pixels (the pointer drawn when asked), scaled and encoded there, written to a file of
 * the sandbox's `/tmp` that the server reads back (without following links) and removes.
 */
export const capture = (
  sandbox: SandboxRecord,
  state: DesktopState,
  tools: { readonly ffmpeg: string; readonly xdotool: string },
  shot: Capture
) =>
  Effect.gen(function* () {
    yield* checkRegion(state, shot)
    const position = yield* pointer(sandbox, state, tools.xdotool)
    const width = Math.max(1, Math.floor(shot.width * shot.scale))
    const height = Math.max(1, Math.floor(shot.height * shot.scale))
    const file = NodePath.posix.join(
      state.scratchDir,
      `shot-${NodeCrypto.randomUUID()}.${shot.format === "jpeg" ? "jpg" : shot.format}`
    )
    const view = yield* viewOf(sandbox)
    const taken = runTool(
      sandbox,
      state,
      [
        tools.ffmpeg,
        "-nostdin",
        "-loglevel",
        "error",
        "-probesize",
        "32",
        "-analyzeduration",
        "0",
        "-f",
        "x11grab",
        "-draw_mouse",
        shot.showCursor ? "1" : "0",
        "-video_size",
        `${shot.width}x${shot.height}`,
        "-i",
        `${state.display}+${shot.x},${shot.y}`,
        "-frames:v",
        "1",
        ...(width === shot.width && height === shot.height ? [] : ["-vf", `scale=${width}:${height}:flags=area`]),
        ...codec(shot),
        "-f",
        "image2",
        "-y",
        file
      ],
      { timeout: Duration.seconds(60) }
    ).pipe(
      Effect.zipRight(
        Effect.tryPromise({
          try: () => SandboxFs.readTail(view, file, maxImageBytes),
          catch: () => internal("the screenshot could not be read back from the sandbox")
        })
      ),
      Effect.ensuring(Effect.promise(() => SandboxFs.remove(view, file, false).catch(() => undefined)))
    )
    const image = yield* taken
    if (image.cut > 0) return yield* internal("the screenshot is larger than the server reads back")
    const response: typeof ScreenshotResponse.Encoded = {
      screenshot: image.bytes.toString("base64"),
      sizeBytes: image.bytes.length,
      cursorPosition: position
    }
    return response
  })

/** The displays: the sandbox's one screen, its size as the X server reports it. */
export const displays = (sandbox: SandboxRecord, state: DesktopState, xdotool: string) =>
  Effect.gen(function* () {
    const output = yield* runTool(sandbox, state, [xdotool, "getdisplaygeometry"])
    const match = /^(\d+)\s+(\d+)/.exec(output.trim())
    const width = match === null ? state.width : Number(match[1])
    const height = match === null ? state.height : Number(match[2])
    const response: typeof DisplayInfoResponse.Encoded = {
      displays: [{ id: 0, x: 0, y: 0, width, height, isActive: true }]
    }
    return response
  })

/** Lists the visible windows with a title: id, title, geometry, and which one has the focus. */
const windowsScript = [
  'x=$0; echo "FOCUS $("$x" getwindowfocus 2>/dev/null)"',
  'for w in $("$x" search --onlyvisible --name "" 2>/dev/null); do',
  '  echo "WINDOW $w"',
  '  echo "TITLE $("$x" getwindowname "$w" 2>/dev/null | head -c 4096 | tr "\\n\\r" "  ")"',
  '  "$x" getwindowgeometry --shell "$w" 2>/dev/null',
  "done",
  "exit 0"
].join("\n")

/** Reads the output of {@link windowsScript}. */
export const parseWindows = (output: string): typeof WindowsResponse.Encoded => {
  const focus = /^FOCUS (\d+)/m.exec(output)?.[1]
  const windows: Array<{
    id: number
    title: string
    x: number
    y: number
    width: number
    height: number
    isActive: boolean
  }> = []
  let current: (typeof windows)[number] | undefined
  for (const line of output.split("\n")) {
    const window = /^WINDOW (\d+)$/.exec(line)
    if (window !== null) {
      current = { id: Number(window[1]), title: "", x: 0, y: 0, width: 0, height: 0, isActive: window[1] === focus }
      windows.push(current)
      continue
    }
    if (current === undefined) continue
    if (line.startsWith("TITLE ")) current.title = line.slice("TITLE ".length).trim()
    const field = /^(X|Y|WIDTH|HEIGHT)=(-?\d+)$/.exec(line)
    if (field !== null) {
      const value = Number(field[2])
      if (field[1] === "X") current.x = value
      else if (field[1] === "Y") current.y = value
      else if (field[1] === "WIDTH") current.width = value
      else current.height = value
    }
  }
  return { windows: windows.filter((window) => window.title !== "") }
}

/** The open windows of the sandbox's desktop. */
export const windows = (sandbox: SandboxRecord, state: DesktopState, xdotool: string) =>
  Effect.map(runTool(sandbox, state, ["/bin/sh", "-c", windowsScript, xdotool]), parseWindows)
