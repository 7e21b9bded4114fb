/**
 * Computer use end to end, over real HTTP with our SDK: a real X client (a Tk window) in the
 * sandbox's own display, text typed into it and read back from its title and its pixels, a click at
 * a known position, region screenshots compared pixel by pixel with the full screen, a recording
 * checked with ffprobe, and the accessibility tree of a GTK window.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { assert, describe, it } from "@effect/vitest"
import type * as Sandbox from "@effect-daytona/sdk/Sandbox"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import {
  desktopRequired,
  desktopSandbox,
  eventually,
  gtkApp,
  hasAccessibility,
  hasDesktop,
  screen,
  square,
  tkApp
} from "./desktopHarness.js"
import { crop, decodePng, difference, pixel, samePixels } from "./png.js"
import { failureOf } from "./sdkHarness.js"
import { asToolboxError, call, clientLayer, createStarted, serve, tempDir } from "./utils.js"
import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"

const desktopTest = hasDesktop || desktopRequired ? it.scopedLive : undefined

const titleOf = (sandbox: Sandbox.Sandbox, prefix: string) =>
  Effect.map(sandbox.computerUse.display.getWindows, (answer) =>
    answer.windows?.find((window) => window.title?.startsWith(prefix) === true)
  )

const launch = (sandbox: Sandbox.Sandbox, file: string, content: string, program: string) =>
  Effect.gen(function* () {
    yield* sandbox.fs.uploadFile(file, content)
    const result = yield* sandbox.process.executeCommand(
      `sh -c 'exec ${program} ${file} </dev/null >${file}.log 2>&1 &'`
    )
    assert.strictEqual(result.exitCode, 0, result.result)
  })

/** A body each POST route accepts, so that what answers is the missing tool, not the payload's validation. */
const validPayloads: Readonly<Record<string, unknown>> = {
  "/computeruse/mouse/move": { x: 1, y: 1 },
  "/computeruse/mouse/click": { x: 1, y: 1 },
  "/computeruse/mouse/drag": { startX: 1, startY: 1, endX: 2, endY: 2 },
  "/computeruse/mouse/scroll": { x: 1, y: 1, direction: "down" },
  "/computeruse/keyboard/type": { text: "a" },
  "/computeruse/keyboard/key": { key: "a" },
  "/computeruse/keyboard/hotkey": { keys: "ctrl+a" },
  "/computeruse/recordings/stop": { id: "0b0b0b0b-1111-4222-8333-444444444444" },
  "/computeruse/a11y/node/focus": { id: "1" },
  "/computeruse/a11y/node/invoke": { id: "1" },
  "/computeruse/a11y/node/value": { id: "1", value: "v" }
}

const fullScreen = (sandbox: Sandbox.Sandbox) =>
  Effect.map(sandbox.computerUse.screenshot.takeFullScreen(), (shot) => decodePng(shot.bytes))

describe("computer use", () => {
  it.scoped(
    "without the desktop's packages every route answers 400 naming what to install, and /api/config says so",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const { client } = yield* serve(dir, { desktopToolPath: "" })
        const config = (yield* call(client, "GET", "/api/config")).body as {
          computerUse: Record<string, { supported: boolean; missing?: ReadonlyArray<string>; install?: string }>
        }
        assert.deepStrictEqual(Object.keys(config.computerUse).sort(), [
          "accessibility",
          "desktop",
          "recordings",
          "screenshots"
        ])
        for (const feature of Object.values(config.computerUse)) {
          assert.isFalse(feature.supported)
          assert.include(feature.install, "apt-get install")
        }
        assert.deepStrictEqual(config.computerUse["desktop"]?.missing, ["xvfb", "python3", "xdotool"])

        const sandbox = yield* createStarted(client)
        const routes = Object.values(ToolboxApi.endpoints).filter((endpoint) =>
          endpoint.path.startsWith("/computeruse/")
        )
        assert.isAtLeast(routes.length, 33)
        for (const endpoint of routes) {
          const path = endpoint.path
            .replace("{processName}", "xvfb")
            .replace("{id}", "0b0b0b0b-1111-4222-8333-444444444444")
          const query = path.includes("/screenshot/region") ? "?x=0&y=0&width=10&height=10" : ""
          const answer = yield* call(
            client,
            endpoint.method as "GET" | "POST" | "DELETE",
            `/toolbox/${sandbox.id}${path}${query}`,
            endpoint.method === "POST" ? (validPayloads[path] ?? {}) : undefined
          )
          const error = asToolboxError(answer)
          assert.strictEqual(answer.status, 400, `${endpoint.method} ${path}: ${error.message}`)
          assert.strictEqual(error.code, "COMPUTER_USE_NOT_INSTALLED", `${endpoint.method} ${path}`)
          assert.include(error.message, "apt-get install", `${endpoint.method} ${path}`)
        }
      }).pipe(Effect.provide(clientLayer))
  )

  desktopTest?.(
    "a Tk window in the sandbox's display: typing, clicking and exact screenshots",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* desktopSandbox()
        const cu = sandbox.computerUse
        const started = yield* cu.scoped
        assert.strictEqual(started.status?.["xvfb"]?.running, true)
        assert.strictEqual((yield* cu.getStatus).status === "inactive", false)
        assert.strictEqual((yield* cu.getSystemStatus).status, "active")
        assert.strictEqual((yield* cu.getProcessStatus("xvfb")).running, true)

        const info = yield* cu.display.getInfo
        assert.deepStrictEqual(info.displays?.[0], { id: 0, x: 0, y: 0, ...screen, isActive: true })

        yield* launch(sandbox, "app.tcl", tkApp, "wish")
        const ready = yield* eventually(titleOf(sandbox, "ready"), 15_000, "the Tk window")
        assert.deepStrictEqual([ready.x, ready.y, ready.width, ready.height], [20, 30, 300, 200])

        // The red square is where the window put it.
        const before = yield* fullScreen(sandbox)
        assert.deepStrictEqual([before.width, before.height], [screen.width, screen.height])
        assert.deepStrictEqual(pixel(before, square.x + 30, square.y + 30), [255, 0, 0])

        // Typed text reaches the entry: the window's title shows it.
        yield* cu.keyboard.type("hello, wörld 42")
        yield* eventually(titleOf(sandbox, "typed:hello, wörld 42"), 10_000, "the typed text")
        yield* cu.keyboard.press("backspace")
        yield* eventually(titleOf(sandbox, "typed:hello, wörld 4"), 10_000, "the backspace")
        const typed = yield* fullScreen(sandbox)
        const entry = crop(typed, 30, 40, 150, 20)
        assert.isFalse(samePixels(entry, crop(before, 30, 40, 150, 20)), "the entry shows the text")

        // A click at a known position lands on the square, at the point clicked.
        const clicked = yield* cu.mouse.click(square.x + 30, square.y + 40)
        assert.deepStrictEqual(clicked, { x: square.x + 30, y: square.y + 40 })
        yield* eventually(titleOf(sandbox, "clicked 30 40"), 10_000, "the click")
        const after = yield* fullScreen(sandbox)
        assert.deepStrictEqual(pixel(after, square.x + 5, square.y + 5), [0, 255, 0])

        // A region is exactly the asked size and the same pixels as that area of the full screen.
        for (const region of [
          { x: 170, y: 80, width: 100, height: 60 },
          { x: 0, y: 0, width: 1, height: 1 },
          { x: 13, y: 7, width: 237, height: 151 },
          { x: screen.width - 31, y: screen.height - 17, width: 31, height: 17 }
        ]) {
          const shot = yield* cu.screenshot.takeRegion(region)
          assert.deepStrictEqual([shot.format, shot.width, shot.height], ["png", region.width, region.height])
          const image = decodePng(shot.bytes)
          const area = crop(after, region.x, region.y, region.width, region.height)
          assert.isTrue(
            samePixels(image, area),
            `region ${JSON.stringify(region)} equals the full screen's area: ${difference(image, area)}`
          )
        }
        const outside = yield* failureOf(cu.screenshot.takeRegion({ x: 350, y: 0, width: 100, height: 10 }))
        assert.strictEqual(outside._tag, "ValidationError")
        assert.include(outside.message, "does not fit the screen")

        // Compressed: the format, quality and scale asked for, the size read from the image itself.
        const jpeg = yield* cu.screenshot.takeCompressed({ format: "jpeg", quality: 60, scale: 0.5 })
        assert.deepStrictEqual([jpeg.format, jpeg.width, jpeg.height], ["jpeg", 200, 150])
        assert.strictEqual(jpeg.sizeBytes, jpeg.bytes.length)
        const webp = yield* cu.screenshot.takeCompressedRegion(
          { x: 170, y: 80, width: 100, height: 100 },
          { format: "webp", quality: 80 }
        )
        assert.deepStrictEqual([webp.format, webp.width, webp.height], ["webp", 100, 100])
        const png = yield* cu.screenshot.takeCompressedRegion({ x: 10, y: 10, width: 50, height: 40 }, { scale: 0.5 })
        assert.deepStrictEqual([png.format, png.width, png.height], ["png", 25, 20])

        // The pointer: moved, read, and drawn when asked.
        assert.deepStrictEqual(yield* cu.mouse.move(5, 6), { x: 5, y: 6 })
        assert.deepStrictEqual(yield* cu.mouse.getPosition, { x: 5, y: 6 })
        const plain = yield* cu.screenshot.takeRegion({ x: 0, y: 0, width: 40, height: 40 })
        const withCursor = yield* cu.screenshot.takeRegion({ x: 0, y: 0, width: 40, height: 40 }, { showCursor: true })
        assert.deepStrictEqual(withCursor.cursorPosition, { x: 5, y: 6 })
        assert.isFalse(samePixels(decodePng(plain.bytes), decodePng(withCursor.bytes)), "the cursor is drawn")
        assert.deepStrictEqual(yield* cu.mouse.drag(50, 250, 120, 260), { x: 120, y: 260 })
        assert.isTrue(yield* cu.mouse.scroll(60, 60, "down", 2))

        // Bad input is refused with the reason.
        assert.include((yield* failureOf(cu.keyboard.press("@"))).message, '["shift"]')
        assert.include((yield* failureOf(cu.keyboard.hotkey("ctrl+"))).message, "empty key name")
        assert.include((yield* failureOf(cu.keyboard.type("a\tb"))).message, "tab")
        assert.include((yield* failureOf(cu.keyboard.type("x".repeat(200 * 1024)))).message, "too long")
        assert.strictEqual(
          (yield* failureOf(
            cu.mouse.click(1, 1, { button: "left" }).pipe(Effect.andThen(cu.getProcessStatus("xfce4")))
          ))._tag,
          "NotFoundError"
        )
        yield* cu.keyboard.hotkey("ctrl+a")

        // The X server's logs are there to read.
        assert.isString((yield* cu.getProcessErrors("xvfb")).errors)
      }),
    60_000
  )

  desktopTest?.(
    "a recording of a few seconds is a playable MP4, downloaded to a file",
    () =>
      Effect.gen(function* () {
        const { sandbox, dir } = yield* desktopSandbox()
        const cu = sandbox.computerUse
        yield* cu.scoped
        const started = yield* cu.recording.start("demo run")
        assert.strictEqual(started.status, "recording")
        assert.match(started.fileName, /^[0-9a-f-]{36}_demo run_\d{8}_\d{6}\.mp4$/)
        assert.strictEqual((yield* failureOf(cu.recording.delete(started.id)))._tag, "ConflictError")
        yield* Effect.sleep("2500 millis")
        const stopped = yield* cu.recording.stop(started.id)
        assert.strictEqual(stopped.status, "completed")
        assert.isAtLeast(stopped.durationSeconds ?? 0, 2)
        assert.isAbove(stopped.sizeBytes ?? 0, 0)
        assert.deepStrictEqual((yield* cu.recording.stop(started.id)).status, "completed")
        assert.deepStrictEqual(
          (yield* cu.recording.list).map((recording) => recording.id),
          [started.id]
        )
        assert.strictEqual((yield* cu.recording.get(started.id)).fileName, started.fileName)

        const local = NodePath.join(dir, "out", "recording.mp4")
        yield* cu.recording.downloadTo(started.id, local).pipe(Effect.provide(NodeFileSystem.layer))
        const streamed = yield* Stream.runFold(cu.recording.download(started.id), 0, (n, chunk) => n + chunk.length)
        assert.strictEqual(streamed, (yield* Effect.promise(() => NodeFs.stat(local))).size)
        const probe = NodeChildProcess.spawnSync(
          "ffprobe",
          [
            "-v",
            "error",
            "-show_entries",
            "format=duration,format_name:stream=codec_name,width,height",
            "-of",
            "json",
            local
          ],
          { encoding: "utf8" }
        )
        assert.strictEqual(probe.status, 0, probe.stderr)
        const probed = JSON.parse(probe.stdout) as {
          format: { duration: string; format_name: string }
          streams: ReadonlyArray<{ codec_name: string; width: number; height: number }>
        }
        assert.include(probed.format.format_name, "mp4")
        assert.isAtLeast(Number(probed.format.duration), 1.5)
        assert.deepStrictEqual(probed.streams[0], { codec_name: "h264", ...screen })

        yield* cu.recording.delete(started.id)
        assert.strictEqual((yield* failureOf(cu.recording.get(started.id)))._tag, "NotFoundError")
        assert.strictEqual((yield* failureOf(cu.recording.start("../escape")))._tag, "ValidationError")

        yield* cu.stop
        assert.strictEqual((yield* cu.getStatus).status, "inactive")
        const notStarted = yield* failureOf(cu.screenshot.takeFullScreen())
        assert.strictEqual(notStarted._tag, "ValidationError")
        assert.include(notStarted.message, "not started")
      }),
    60_000
  )

  desktopTest?.(
    "requests racing a stop or restart of the desktop, then a stop of the sandbox, answer typed 4xx errors, never a server error",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* desktopSandbox()
        const cu = sandbox.computerUse
        const requests = [
          cu.screenshot.takeFullScreen(),
          cu.mouse.move(10, 10),
          cu.display.getWindows,
          cu.keyboard.type("abc"),
          ...(hasAccessibility ? [cu.accessibility.findNodes({ scope: "all" })] : [])
        ]
        const race = (stop: Effect.Effect<unknown, unknown>) =>
          Effect.gen(function* () {
            const outcomes = yield* Effect.all(
              [
                ...requests.flatMap((request) => [request, request]).map((request) => Effect.either(request)),
                Effect.zipRight(Effect.sleep("50 millis"), Effect.either(stop))
              ],
              { concurrency: "unbounded" }
            )
            for (const outcome of outcomes) {
              if (outcome._tag === "Right") continue
              const error = outcome.left as { readonly _tag: string; readonly message: string }
              assert.include(["ValidationError", "NotFoundError"], error._tag, error.message)
            }
          })
        yield* cu.start
        yield* race(cu.stop)
        yield* cu.start
        yield* race(Effect.zipRight(cu.stop, cu.start))
        yield* race(cu.restartProcess("xvfb"))
        yield* race(sandbox.stop())
      }),
    60_000
  )

  const a11yTest = hasAccessibility || desktopRequired ? it.scopedLive : undefined

  a11yTest?.(
    "the accessibility tree of a GTK window: find, set a value, invoke a button",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* desktopSandbox()
        const cu = sandbox.computerUse
        const started = yield* cu.scoped
        assert.strictEqual(started.status?.["atspi"]?.running, true)
        yield* launch(sandbox, "app.py", gtkApp, "/usr/bin/python3")
        yield* eventually(titleOf(sandbox, "a11y-app"), 15_000, "the GTK window")
        const button = yield* eventually(
          Effect.map(
            cu.accessibility.findNodes({ scope: "all", role: "push button", name: "Press me", nameMatch: "exact" }),
            (answer) => answer.matches?.[0]
          ),
          15_000,
          "the button in the accessibility tree"
        )
        assert.include(button.actions ?? [], "click")
        const text = (yield* cu.accessibility.findNodes({ scope: "all", role: "text", states: ["editable"] }))
          .matches?.[0]
        assert.isDefined(text?.id)
        yield* cu.accessibility.setNodeValue(text!.id!, "from a11y")
        yield* cu.accessibility.invokeNode(button.id!)
        yield* eventually(titleOf(sandbox, "pressed:from a11y"), 10_000, "the button's action")

        const tree = yield* cu.accessibility.getTree({ scope: "all", maxDepth: 2 })
        assert.strictEqual(tree.root?.role, "desktop frame")
        assert.isTrue(
          tree.root?.children?.some((app) => app.children?.some((frame) => frame.name?.startsWith("pressed")) === true)
        )
        assert.strictEqual((yield* failureOf(cu.accessibility.focusNode(":1.0:/nope")))._tag, "NotFoundError")
        assert.strictEqual(
          (yield* failureOf(cu.accessibility.getTree({ scope: "pid", pid: 999999 })))._tag,
          "NotFoundError"
        )
      }),
    60_000
  )
})
