import { Daytona, type Sandbox } from "@daytona/sdk"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as LocalDaytona from "../src/LocalDaytona.js"
import { hasBwrap } from "./attackHarness.js"
import { desktopRequired, gtkApp, hasAccessibility, hasDesktop, screen, square, tkApp } from "./desktopHarness.js"
import { crop, decodePng, difference, pixel, samePixels } from "./png.js"
import { tempDir } from "./utils.js"

/**
 * The official SDK's `sandbox.computerUse` against the local server, over real HTTP: the same
 * scenarios as our SDK's (a Tk window typed into and clicked, screenshots compared pixel by pixel,
 * a recording downloaded and probed, a GTK window driven through AT-SPI). The SDK uses `Date` and
 * `setTimeout`, so these tests run on real time; every step has a deadline so none can hang.
 */
const step = <A>(name: string, run: () => Promise<A>, seconds = 20) =>
  Effect.tryPromise({ try: run, catch: (cause) => new Error(`${name} failed: ${String(cause)}`, { cause }) }).pipe(
    Effect.timeoutFail({
      duration: `${seconds} seconds`,
      onTimeout: () => new Error(`${name} did not finish within ${seconds} s`)
    })
  )

/** Polls `check` (real time, every 100 ms, at most `millis`) until it yields a value. */
const until = <A>(what: string, check: () => Promise<A | undefined>, millis = 15_000) =>
  step(
    what,
    async () => {
      const deadline = Date.now() + millis
      while (true) {
        const value = await check()
        if (value !== undefined) return value
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
    millis / 1000 + 10
  )

/** A local server, the official client pointed at it, and one started sandbox whose screen is `screen` large. */
const officialSandbox = Effect.gen(function* () {
  const dataDir = yield* tempDir
  const server = yield* LocalDaytona.make({
    dataDir,
    apiKey: "official-sdk-key",
    isolation: hasBwrap ? "bwrap" : "none",
    timings: { create: "50 millis", start: "50 millis", stop: "50 millis", destroy: "50 millis" }
  })
  const daytona = new Daytona({ apiKey: Redacted.value(server.apiKey), apiUrl: server.apiUrl, target: "local" })
  const sandbox: Sandbox = yield* step("create", () =>
    daytona.create(
      { language: "python", envVars: { VNC_RESOLUTION: `${screen.width}x${screen.height}` } },
      { timeout: 10 }
    )
  )
  yield* Effect.addFinalizer(() => Effect.promise(() => sandbox.computerUse.stop().catch(() => undefined)))
  return { dataDir, sandbox }
})

const windowTitled =
  (sandbox: Sandbox, prefix: string, exact = false) =>
  async () =>
    (await sandbox.computerUse.display.getWindows()).windows?.find((window) =>
      exact ? window.title === prefix : window.title?.startsWith(prefix)
    )

const launch = (sandbox: Sandbox, file: string, content: string, program: string) =>
  Effect.gen(function* () {
    yield* step(`upload ${file}`, () => sandbox.fs.uploadFile(Buffer.from(content), file))
    const result = yield* step(`launch ${program}`, () =>
      sandbox.process.executeCommand(`sh -c 'exec ${program} ${file} </dev/null >${file}.log 2>&1 &'`)
    )
    assert.strictEqual(result.exitCode, 0, result.result)
  })

const png = (base64: string | undefined) => decodePng(Buffer.from(base64 ?? "", "base64"))

const desktopTest = hasDesktop || desktopRequired ? it.scopedLive : undefined
const a11yTest = hasAccessibility || desktopRequired ? it.scopedLive : undefined

describe("official SDK: computer use", () => {
  desktopTest?.(
    "a Tk window typed into and clicked; screenshots match the screen, and the SDK's takeRegion asks for a transposed area",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* officialSandbox
        const cu = sandbox.computerUse
        const started = yield* step("start", () => cu.start())
        assert.strictEqual(started.status?.["xvfb"]?.running, true)
        assert.strictEqual((yield* step("status", () => cu.getStatus())).status, "active")
        assert.strictEqual((yield* step("xvfb status", () => cu.getProcessStatus("xvfb"))).running, true)
        const info = yield* step("display", () => cu.display.getInfo())
        assert.deepStrictEqual(info.displays?.[0], { id: 0, x: 0, y: 0, ...screen, isActive: true })

        yield* launch(sandbox, "app.tcl", tkApp, "wish")
        const ready = yield* until("the Tk window", windowTitled(sandbox, "ready"))
        assert.deepStrictEqual([ready.x, ready.y, ready.width, ready.height], [20, 30, 300, 200])

        yield* step("type", () => cu.keyboard.type("official 78"))
        yield* until("the typed text", windowTitled(sandbox, "typed:official 78", true))
        yield* step("press", () => cu.keyboard.press("BackSpace"))
        yield* until("the backspace", windowTitled(sandbox, "typed:official 7", true))
        const clicked = yield* step("click", () => cu.mouse.click(square.x + 30, square.y + 40))
        assert.deepStrictEqual([clicked.x, clicked.y], [square.x + 30, square.y + 40])
        yield* until("the click", windowTitled(sandbox, "clicked 30 40"))
        assert.deepStrictEqual(yield* step("position", () => cu.mouse.getPosition()), {
          x: square.x + 30,
          y: square.y + 40
        })

        const full = png((yield* step("full screen", () => cu.screenshot.takeFullScreen())).screenshot)
        assert.deepStrictEqual([full.width, full.height], [screen.width, screen.height])
        assert.deepStrictEqual(pixel(full, square.x + 5, square.y + 5), [0, 255, 0])

        // takeCompressedRegion passes the region in the API's order: exactly the asked area.
        const region = { x: 170, y: 80, width: 100, height: 60 }
        const compressed = png(
          (yield* step("compressed region", () => cu.screenshot.takeCompressedRegion(region, { format: "png" })))
            .screenshot
        )
        const area = crop(full, region.x, region.y, region.width, region.height)
        assert.isTrue(samePixels(compressed, area), difference(compressed, area))

        // takeRegion (0.216) sends height as x, width as y, y as width and x as height: the server
        // answers exactly the area the request names, which is not the one the caller meant.
        const transposed = png((yield* step("region", () => cu.screenshot.takeRegion(region))).screenshot)
        const sent = { x: region.height, y: region.width, width: region.y, height: region.x }
        assert.deepStrictEqual([transposed.width, transposed.height], [sent.width, sent.height])
        const sentArea = crop(full, sent.x, sent.y, sent.width, sent.height)
        assert.isTrue(samePixels(transposed, sentArea), difference(transposed, sentArea))

        const jpeg = yield* step("compressed", () =>
          cu.screenshot.takeCompressed({ format: "jpeg", quality: 50, scale: 0.5 })
        )
        const jpegBytes = Buffer.from(jpeg.screenshot ?? "", "base64")
        assert.deepStrictEqual([jpegBytes[0], jpegBytes[1]], [0xff, 0xd8])
        assert.strictEqual(jpeg.sizeBytes, jpegBytes.length)

        assert.isTrue(yield* step("scroll", () => cu.mouse.scroll(60, 60, "down", 1)))
        const dragged = yield* step("drag", () => cu.mouse.drag(50, 250, 120, 260))
        assert.deepStrictEqual([dragged.x, dragged.y], [120, 260])
        yield* step("hotkey", () => cu.keyboard.hotkey("ctrl+a"))
        assert.isString((yield* step("errors", () => cu.getProcessErrors("xvfb"))).errors)

        yield* step("stop", () => cu.stop())
        assert.strictEqual((yield* step("status after stop", () => cu.getStatus())).status, "inactive")
      }),
    90_000
  )

  desktopTest?.(
    "a recording started, stopped, listed, downloaded to a playable file and deleted",
    () =>
      Effect.gen(function* () {
        const { sandbox, dataDir } = yield* officialSandbox
        const cu = sandbox.computerUse
        yield* step("start", () => cu.start())
        const recording = yield* step("record", () => cu.recording.start("official"))
        assert.strictEqual(recording.status, "recording")
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2000)))
        const stopped = yield* step("stop recording", () => cu.recording.stop(recording.id))
        assert.strictEqual(stopped.status, "completed")
        const listed = yield* step("list", () => cu.recording.list())
        assert.deepStrictEqual(
          listed.recordings.map((r) => r.id),
          [recording.id]
        )
        assert.strictEqual((yield* step("get", () => cu.recording.get(recording.id))).fileName, recording.fileName)
        const local = NodePath.join(dataDir, "downloads", "official.mp4")
        yield* step("download", () => cu.recording.download(recording.id, local))
        const size = (yield* Effect.promise(() => NodeFs.stat(local))).size
        assert.strictEqual(size, stopped.sizeBytes)
        const probe = NodeChildProcess.spawnSync(
          "ffprobe",
          ["-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "json", local],
          { encoding: "utf8" }
        )
        assert.strictEqual(probe.status, 0, probe.stderr)
        const streams = (JSON.parse(probe.stdout) as { streams: ReadonlyArray<unknown> }).streams
        assert.deepStrictEqual(streams[0], { codec_name: "h264", ...screen })
        yield* step("delete", () => cu.recording.delete(recording.id))
        assert.deepStrictEqual((yield* step("list after delete", () => cu.recording.list())).recordings, [])
      }),
    60_000
  )

  a11yTest?.(
    "a GTK window found, filled and pressed through the accessibility routes",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* officialSandbox
        const cu = sandbox.computerUse
        yield* step("start", () => cu.start())
        yield* launch(sandbox, "app.py", gtkApp, "/usr/bin/python3")
        yield* until("the GTK window", windowTitled(sandbox, "a11y-app"))
        const button = yield* until(
          "the button",
          async () =>
            (
              await cu.accessibility.findNodes({
                scope: "all",
                role: "push button",
                name: "Press me",
                nameMatch: "exact"
              })
            ).matches?.[0]
        )
        const text = (yield* step("find text", () =>
          cu.accessibility.findNodes({ scope: "all", role: "text", states: ["editable"] })
        )).matches?.[0]
        assert.isDefined(text?.id)
        yield* step("set value", () => cu.accessibility.setNodeValue(text!.id!, "official a11y"))
        yield* step("invoke", () => cu.accessibility.invokeNode(button.id!))
        yield* until("the button's action", windowTitled(sandbox, "pressed:official a11y"))
        const tree = yield* step("tree", () => cu.accessibility.getTree({ scope: "all", maxDepth: 1 }))
        assert.strictEqual(tree.root?.role, "desktop frame")
      }),
    60_000
  )
})
