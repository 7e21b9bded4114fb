import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as ComputerUse from "../src/ComputerUse.js"
import { makeToolbox, target, type ToolboxReply, type ToolboxRequest } from "./support/FakeToolbox.js"

/** The first bytes of a PNG of `width` × `height`: signature and IHDR (what `imageInfo` reads). */
const pngHeader = (width: number, height: number) => {
  const bytes = new Uint8Array(33)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13], 0)
  bytes.set(
    [..."IHDR"].map((c) => c.charCodeAt(0)),
    12
  )
  new DataView(bytes.buffer).setUint32(16, width)
  new DataView(bytes.buffer).setUint32(20, height)
  bytes.set([8, 2, 0, 0, 0], 24)
  return bytes
}

/** A JPEG's start of image, an APP0 segment and a baseline start of frame of `width` × `height`. */
const jpegHeader = (width: number, height: number) =>
  new Uint8Array([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x04,
    0x00,
    0x00,
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x03,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0
  ])

const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")

const daemonError = (status: number, code: string, message: string): ToolboxReply => ({
  status,
  json: { statusCode: status, message, code, timestamp: "2026-01-01T00:00:00Z", path: "/computeruse", method: "GET" }
})

const processes = { message: "ok", status: { xvfb: { running: true, priority: 100, autoRestart: false } } }

const routes = (requests: ReadonlyArray<ToolboxRequest>) => requests.map((r) => `${r.method} ${r.route}`)

describe("ComputerUse", () => {
  it.effect("the desktop as a scoped resource: started on acquire, stopped when the scope closes", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 200, json: processes }))
      const cu = ComputerUse.make(target, fake.toolbox)
      const scope = yield* Scope.make()
      const started = yield* Scope.extend(cu.scoped, scope)
      assert.strictEqual(started.status?.["xvfb"]?.running, true)
      assert.deepStrictEqual(routes(yield* fake.requests), ["POST /computeruse/start"])
      yield* Scope.close(scope, Exit.void)
      assert.deepStrictEqual(routes(yield* fake.requests), ["POST /computeruse/start", "POST /computeruse/stop"])

      // A failure inside the scope stops it too.
      const failed = yield* Effect.scoped(Effect.zipRight(cu.scoped, Effect.fail("boom" as const))).pipe(Effect.flip)
      assert.strictEqual(failed, "boom")
      assert.deepStrictEqual(
        (yield* fake.requests).slice(2).map((r) => r.route),
        ["/computeruse/start", "/computeruse/stop"]
      )
    })
  )

  it.effect(
    "screenshots are bytes with their format and size, decoded from base64 once; regions keep x, y, width, height",
    () =>
      Effect.gen(function* () {
        const png = pngHeader(237, 151)
        const jpeg = jpegHeader(200, 150)
        const fake = yield* makeToolbox((request) =>
          request.route.includes("compressed")
            ? { status: 200, json: { screenshot: base64(jpeg), sizeBytes: jpeg.length } }
            : { status: 200, json: { screenshot: base64(png), cursorPosition: { x: 5, y: 6 }, sizeBytes: png.length } }
        )
        const cu = ComputerUse.make(target, fake.toolbox)
        const region = yield* cu.screenshot.takeRegion({ x: 13, y: 7, width: 237, height: 151 }, { showCursor: true })
        assert.deepStrictEqual([region.format, region.width, region.height, region.sizeBytes], ["png", 237, 151, 33])
        assert.deepStrictEqual(region.cursorPosition, { x: 5, y: 6 })
        assert.deepStrictEqual([...region.bytes], [...png])
        const compressed = yield* cu.screenshot.takeCompressedRegion(
          { x: 1, y: 2, width: 400, height: 300 },
          { format: "jpeg", quality: 60, scale: 0.5 }
        )
        assert.deepStrictEqual([compressed.format, compressed.width, compressed.height], ["jpeg", 200, 150])
        const [first, second] = yield* fake.requests
        assert.strictEqual(first?.route, "/computeruse/screenshot/region")
        assert.deepStrictEqual(first?.query, { x: "13", y: "7", width: "237", height: "151", showCursor: "true" })
        assert.strictEqual(second?.route, "/computeruse/screenshot/region/compressed")
        assert.deepInclude(second?.query, {
          x: "1",
          y: "2",
          width: "400",
          height: "300",
          format: "jpeg",
          quality: "60"
        })
        assert.strictEqual(second?.query["scale"], "0.5")
      })
  )

  it.effect("an answer that is not an image is an UnexpectedResponseError, not bytes", () =>
    Effect.gen(function* () {
      const answers = ["", "%%%not base64%%%", base64(new TextEncoder().encode("GIF89a, not supported"))]
      const fake = yield* makeToolbox((_, index) => ({ status: 200, json: { screenshot: answers[index] } }))
      const cu = ComputerUse.make(target, fake.toolbox)
      for (let i = 0; i < answers.length; i++) {
        const error = yield* cu.screenshot.takeFullScreen().pipe(Effect.flip)
        assert.strictEqual(error._tag, "UnexpectedResponseError")
      }
    })
  )

  it.effect("a server without the desktop's packages is an UnsupportedError naming what to install", () =>
    Effect.gen(function* () {
      const message =
        "computer use is not available: Xvfb (Debian package xvfb) is not installed on the machine running the local server: install with `apt-get install xvfb`"
      const fake = yield* makeToolbox(() => daemonError(400, "COMPUTER_USE_NOT_INSTALLED", message))
      const cu = ComputerUse.make(target, fake.toolbox)
      const error = yield* cu.start.pipe(Effect.flip)
      assert.strictEqual(error._tag, "UnsupportedError")
      assert.include(error.message, "apt-get install xvfb")
      const other = yield* makeToolbox(() => daemonError(400, "COMPUTER_USE_NOT_STARTED", "not started"))
      const notStarted = yield* ComputerUse.make(target, other.toolbox).mouse.getPosition.pipe(Effect.flip)
      assert.strictEqual(notStarted._tag, "ValidationError")
    })
  )

  it.effect("a recording downloads as a Stream of its bytes; a body cut short fails the stream", () =>
    Effect.gen(function* () {
      const parts = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5]), new Uint8Array([6])]
      const whole = yield* makeToolbox(() => ({ status: 200, chunks: parts, headers: { "content-type": "video/mp4" } }))
      const bytes = yield* Stream.runCollect(ComputerUse.make(target, whole.toolbox).recording.download("rec-1"))
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(bytes).flatMap((chunk) => [...chunk]),
        [1, 2, 3, 4, 5, 6]
      )
      assert.deepStrictEqual(routes(yield* whole.requests), ["GET /computeruse/recordings/rec-1/download"])

      const cut = yield* makeToolbox(() => ({ status: 200, chunks: parts.slice(0, 1), cut: true }))
      const error = yield* Stream.runDrain(ComputerUse.make(target, cut.toolbox).recording.download("rec-1")).pipe(
        Effect.flip
      )
      assert.strictEqual(error._tag, "TransportError")

      const missing = yield* makeToolbox(() => daemonError(404, "NOT_FOUND", "recording not found"))
      const notFound = yield* Stream.runDrain(ComputerUse.make(target, missing.toolbox).recording.download("x")).pipe(
        Effect.flip
      )
      assert.strictEqual(notFound._tag, "NotFoundError")
    })
  )
})
