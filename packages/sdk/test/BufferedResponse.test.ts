import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as BufferedResponse from "../src/internal/bufferedResponse.js"

const request = HttpClientRequest.get("http://127.0.0.1/toolbox/sb-1/user-home-dir")
const source = (status: number, headers: Record<string, string> = {}) =>
  HttpClientResponse.fromWeb(request, new Response(null, { status, headers }))
const bytes = (text: string) => new TextEncoder().encode(text)

describe("BufferedResponse", () => {
  it.effect("keeps the source's request, status and headers; its body reads again and again", () =>
    Effect.gen(function* () {
      const response = BufferedResponse.make(
        source(200, { "content-type": "application/json", "x-request-id": "r-1" }),
        bytes(`{"dir":"/home/daytona"}`)
      )
      assert.strictEqual(response.request, request)
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers["x-request-id"], "r-1")
      assert.strictEqual(yield* response.text, `{"dir":"/home/daytona"}`)
      assert.strictEqual(yield* response.text, `{"dir":"/home/daytona"}`)
      assert.deepStrictEqual(yield* response.json, { dir: "/home/daytona" })
      const buffer = yield* response.arrayBuffer
      new Uint8Array(buffer).fill(0)
      assert.strictEqual(yield* response.text, `{"dir":"/home/daytona"}`, "arrayBuffer is a copy")
      const chunks = yield* Stream.runCollect(response.stream)
      assert.strictEqual(new TextDecoder().decode(Chunk.unsafeGet(chunks, 0)), `{"dir":"/home/daytona"}`)
    })
  )

  it.effect("decodes UTF-8 like a fetch Response (BOM dropped, invalid bytes replaced)", () =>
    Effect.gen(function* () {
      const body = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0xc3, 0xa9, 0xff])
      const expected = yield* Effect.promise(() => new Response(body).text())
      assert.strictEqual(yield* BufferedResponse.make(source(200), body).text, expected)
    })
  )

  it.effect("an empty body is empty text, null JSON and an empty stream; bad JSON is a Decode error", () =>
    Effect.gen(function* () {
      const empty = BufferedResponse.make(source(200), new Uint8Array(0))
      assert.strictEqual(yield* empty.text, "")
      assert.isNull(yield* empty.json)
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(empty.stream)), 0)
      const error = yield* BufferedResponse.make(source(200), bytes("{oops")).json.pipe(Effect.flip)
      assert.strictEqual(error.reason, "Decode")
    })
  )

  it.effect("a status without a body reads as empty text and has no stream", () =>
    Effect.gen(function* () {
      const response = BufferedResponse.make(source(204), undefined)
      assert.strictEqual(yield* response.text, "")
      assert.strictEqual((yield* response.arrayBuffer).byteLength, 0)
      const error = yield* Stream.runDrain(response.stream).pipe(Effect.flip)
      assert.strictEqual(error.reason, "EmptyBody")
    })
  )

  it.effect("urlParamsBody and formData read the body like the platform's responses", () =>
    Effect.gen(function* () {
      const form = BufferedResponse.make(
        source(200, { "content-type": "application/x-www-form-urlencoded" }),
        bytes("a=1&b=two")
      )
      assert.deepStrictEqual(yield* form.urlParamsBody, [
        ["a", "1"],
        ["b", "two"]
      ])
      assert.strictEqual((yield* form.formData).get("b"), "two")
    })
  )
})
