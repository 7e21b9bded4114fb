/**
 * A download whose body breaks off is resumed: the files not yet complete are asked for again and
 * the file under way continues past the bytes already delivered, so every byte arrives once. Pauses
 * run on the TestClock.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as FileSystem from "../src/FileSystem.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { makeToolbox, multipartBody, type ToolboxReply, target } from "./support/FakeToolbox.js"
import { settle } from "./support/FakeHttp.js"

const B = "DAYTONA-FILE-BOUNDARY"
const headers = { "content-type": `multipart/form-data; boundary=${B}` }
const files: Readonly<Record<string, string>> = {
  "/a.txt": "first file, ".repeat(40),
  "/b.bin": "second file — with more than ASCII ✓ ".repeat(60),
  "/c.txt": "third"
}
const encoder = new TextEncoder()

/** The daemon's answer for `paths`, cut after `cutAt` bytes when given. */
const answer = (paths: ReadonlyArray<string>, cutAt?: number, override: Record<string, string> = {}): ToolboxReply => {
  const body = multipartBody(
    B,
    paths.map((path) => ({ name: "file" as const, filename: path, body: override[path] ?? files[path]! }))
  )
  return cutAt === undefined
    ? { status: 200, chunks: [body], headers }
    : { status: 200, chunks: [body.slice(0, cutAt)], headers, cut: true }
}

/** Where, in the answer for `paths`, byte `offset` of `path`'s content is. */
const offsetIn = (paths: ReadonlyArray<string>, path: string, offset: number): number => {
  const body = multipartBody(
    B,
    paths.map((p) => ({ name: "file" as const, filename: p, body: files[p]! }))
  )
  const content = encoder.encode(files[path]!)
  const text = Buffer.from(body)
  return text.indexOf(Buffer.from(content)) + offset
}

const run = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.either(effect))
    yield* settle(fiber, { max: "5 minutes" })
    return yield* Fiber.join(fiber)
  })

describe("downloads resume after a body cut off", () => {
  for (const offset of [0, 1, 100, 479]) {
    it.effect(`one file cut at byte ${offset} of its content: every byte once`, () =>
      Effect.gen(function* () {
        const paths = ["/a.txt"]
        const fake = yield* makeToolbox(
          (_, index) => (index === 0 ? answer(paths, offsetIn(paths, "/a.txt", offset)) : answer(paths)),
          { retryPolicy: RetryPolicy.exponential() }
        )
        const result = yield* run(
          Stream.runCollect(FileSystem.make(target, fake.toolbox).downloadFile("/a.txt")).pipe(
            Effect.map((chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8"))
          )
        )
        if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
        assert.strictEqual(result.right, files["/a.txt"])
        assert.strictEqual((yield* fake.requests).length, 2)
      })
    )
  }

  it.effect("three files cut inside the second: only the second and third are asked again; one FileStart each", () =>
    Effect.gen(function* () {
      const paths = ["/a.txt", "/b.bin", "/c.txt"]
      const fake = yield* makeToolbox(
        (request) => {
          const asked = (request.json as { paths: ReadonlyArray<string> }).paths
          return asked.length === 3 ? answer(asked, offsetIn(asked, "/b.bin", 333)) : answer(asked)
        },
        { retryPolicy: RetryPolicy.exponential() }
      )
      const result = yield* run(Stream.runCollect(FileSystem.make(target, fake.toolbox).downloadFilesStream(paths)))
      if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
      const events = Chunk.toReadonlyArray(result.right)
      for (const path of paths) {
        const bytes = events.flatMap((event) => (event._tag === "Chunk" && event.path === path ? [event.bytes] : []))
        assert.strictEqual(Buffer.concat(bytes).toString("utf8"), files[path], path)
        assert.strictEqual(events.filter((event) => event._tag === "FileStart" && event.path === path).length, 1)
        assert.strictEqual(events.filter((event) => event._tag === "FileEnd" && event.path === path).length, 1)
      }
      const requests = yield* fake.requests
      assert.deepStrictEqual(
        requests.map((request) => (request.json as { paths: ReadonlyArray<string> }).paths),
        [paths, ["/b.bin", "/c.txt"]]
      )
    })
  )

  it.effect("downloadFileTo writes the whole file after a cut", () =>
    Effect.gen(function* () {
      const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "resume-test-"))
      const paths = ["/b.bin"]
      const fake = yield* makeToolbox(
        (_, index) => (index === 0 ? answer(paths, offsetIn(paths, "/b.bin", 700)) : answer(paths)),
        { retryPolicy: RetryPolicy.exponential() }
      )
      const result = yield* run(
        FileSystem.make(target, fake.toolbox)
          .downloadFileTo("/b.bin", NodePath.join(dir, "b.bin"))
          .pipe(Effect.provide(NodeFileSystem.layer))
      )
      assert.isTrue(Either.isRight(result))
      assert.strictEqual(NodeFs.readFileSync(NodePath.join(dir, "b.bin"), "utf8"), files["/b.bin"])
      NodeFs.rmSync(dir, { recursive: true, force: true })
    })
  )

  it.effect("a file whose size changed in between fails rather than be spliced from two versions", () =>
    Effect.gen(function* () {
      const paths = ["/a.txt"]
      const fake = yield* makeToolbox(
        (_, index) =>
          index === 0 ? answer(paths, offsetIn(paths, "/a.txt", 50)) : answer(paths, undefined, { "/a.txt": "new" }),
        { retryPolicy: RetryPolicy.exponential() }
      )
      const result = yield* run(Stream.runDrain(FileSystem.make(target, fake.toolbox).downloadFile("/a.txt")))
      if (Either.isRight(result)) return assert.fail("expected a failure")
      assert.strictEqual(result.left._tag, "UnexpectedResponseError")
      assert.include(result.left.message, "changed size")
    })
  )

  it.effect("cuts without progress beyond the retry policy end with the TransportError", () =>
    Effect.gen(function* () {
      const paths = ["/a.txt"]
      const fake = yield* makeToolbox(() => answer(paths, 10), { retryPolicy: RetryPolicy.exponential({ retries: 2 }) })
      const result = yield* run(Stream.runDrain(FileSystem.make(target, fake.toolbox).downloadFile("/a.txt")))
      if (Either.isRight(result)) return assert.fail("expected a failure")
      assert.strictEqual(result.left._tag, "TransportError")
      assert.strictEqual((yield* fake.requests).length, 3)
    })
  )
})
