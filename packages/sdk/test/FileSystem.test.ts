import * as PlatformFileSystem from "@effect/platform/FileSystem"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as FileSystem from "../src/FileSystem.js"
import * as NodeUploadBody from "../src/NodeUploadBody.js"
import {
  boundaryOf,
  filenameOf,
  formDataDisposition,
  makeParser,
  makeSearch,
  scriptSearch,
  MultipartError
} from "../src/MultipartCodec.js"
import {
  base,
  concatChunks,
  makeToolbox,
  multipartBody,
  random,
  randomCuts,
  splitAt,
  target
} from "./support/FakeToolbox.js"

const B = "DAYTONA-FILE-BOUNDARY"
const multipartHeaders = { "content-type": `multipart/form-data; boundary=${B}` }
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const encode = (value: string) => new TextEncoder().encode(value)

const naiveIndexOf = (haystack: Uint8Array, needle: Uint8Array, from = 0) => {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

/** Bytes that look like the start of a delimiter, to end up on both sides of chunk splits. */
const nearDelimiters = [
  "\r",
  "\r\n",
  "\r\n-",
  "\r\n--",
  `\r\n--${B.slice(0, 1)}`,
  `\r\n--${B.slice(0, 7)}`,
  `\r\n--${B.slice(0, -1)}`,
  `\r\r\n--${B.slice(0, 3)}`,
  `--${B}`,
  `\n--${B}`,
  `\r\n-${B}`
].map(encode)

/** A random payload full of near-delimiters (and `-`), never holding the delimiter itself. */
const trickyPayload = (next: () => number, maxPieces = 12): Uint8Array => {
  for (;;) {
    const pieces: Array<Uint8Array> = []
    for (let i = Math.floor(next() * maxPieces); i > 0; i--) {
      pieces.push(
        next() < 0.5
          ? nearDelimiters[Math.floor(next() * nearDelimiters.length)]!
          : new Uint8Array(Math.floor(next() * 40)).map(() => (next() < 0.2 ? 45 : Math.floor(next() * 256)))
      )
    }
    const bytes = concatChunks(pieces)
    if (naiveIndexOf(bytes, encode(`\r\n--${B}`)) === -1) return bytes
  }
}

const fileInfo = (name: string, overrides: Record<string, unknown> = {}) => ({
  name,
  isDir: false,
  size: 3,
  mode: "-rw-r--r--",
  permissions: "0644",
  owner: "daytona",
  group: "daytona",
  modTime: "2026-11-29 12:00:00 +0000 UTC",
  modifiedAt: "2026-11-29T12:00:00Z",
  ...overrides
})

/** Reads a multipart request body into its parts, in order. */
const partsOf = (body: Uint8Array, contentType: string | undefined) => {
  const boundary = /boundary=([^;]+)/.exec(contentType ?? "")![1]!
  const parser = makeParser(boundary)
  const parts: Array<{ headers: Record<string, string>; body: string }> = []
  for (const event of parser.push(body)) {
    if (event._tag === "Headers") parts.push({ headers: { ...event.headers }, body: "" })
    if (event._tag === "Data") parts[parts.length - 1]!.body += text(event.bytes)
  }
  assert.isTrue(parser.complete(), "the upload body has a closing boundary")
  return parts
}

describe("FileSystem", () => {
  it.effect("listFiles sends GET /files?path= and decodes FileInfo", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({
        status: 200,
        json: [fileInfo("a.txt"), fileInfo("d", { isDir: true })]
      }))
      const files = yield* FileSystem.make(target, fake.toolbox).listFiles("/home/daytona")
      const [req] = yield* fake.requests
      assert.strictEqual(req!.method, "GET")
      assert.strictEqual(req!.path, `${base}/files`)
      assert.deepStrictEqual(req!.query, { path: "/home/daytona" })
      assert.deepStrictEqual(
        files.map((f) => [f.name, f.isDir]),
        [
          ["a.txt", false],
          ["d", true]
        ]
      )
    })
  )

  it.effect("getFileDetails maps a status-only 404 to NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 404 }))
      const error = yield* FileSystem.make(target, fake.toolbox).getFileDetails("/nope").pipe(Effect.flip)
      assert.strictEqual(error._tag, "NotFoundError")
      const [req] = yield* fake.requests
      assert.strictEqual(req!.route, "/files/info")
      assert.deepStrictEqual(req!.query, { path: "/nope" })
    })
  )

  it.effect("getFileDetails keeps the server's message", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({
        status: 404,
        json: { statusCode: 404, message: "not found: file /nope does not exist", code: "NOT_FOUND" }
      }))
      const error = yield* FileSystem.make(target, fake.toolbox).getFileDetails("/nope").pipe(Effect.flip)
      assert.strictEqual(error._tag, "NotFoundError")
      assert.include(error.message, "file /nope does not exist")
    })
  )

  it.effect("createFolder, deleteFile, moveFiles and setFilePermissions send query parameters, no body", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox((req) => ({
        status: req.method === "POST" && req.route === "/files/folder" ? 201 : 200
      }))
      const fs = FileSystem.make(target, fake.toolbox)
      yield* fs.createFolder("/home/daytona/d", "755")
      yield* fs.deleteFile("/home/daytona/d", { recursive: true })
      yield* fs.deleteFile("/home/daytona/f")
      yield* fs.moveFiles("/a", "/b")
      yield* fs.setFilePermissions("/a", { mode: "644", owner: "root" })
      const reqs = yield* fake.requests
      assert.deepStrictEqual(
        reqs.map((r) => [r.method, r.route, r.query, r.bodyTag]),
        [
          ["POST", "/files/folder", { path: "/home/daytona/d", mode: "755" }, "Empty"],
          ["DELETE", "/files", { path: "/home/daytona/d", recursive: "true" }, "Empty"],
          ["DELETE", "/files", { path: "/home/daytona/f" }, "Empty"],
          ["POST", "/files/move", { source: "/a", destination: "/b" }, "Empty"],
          ["POST", "/files/permissions", { path: "/a", owner: "root", mode: "644" }, "Empty"]
        ]
      )
    })
  )

  it.effect("moveFiles onto an existing destination is a ConflictError", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 409 }))
      const error = yield* FileSystem.make(target, fake.toolbox).moveFiles("/a", "/b").pipe(Effect.flip)
      assert.strictEqual(error._tag, "ConflictError")
    })
  )

  it.effect("findFiles, searchFiles and replaceInFiles", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox((req) =>
        req.route === "/files/find"
          ? { status: 200, json: [{ file: "/a.py", line: 3, content: "TODO: x" }] }
          : req.route === "/files/search"
            ? { status: 200, json: { files: ["/a.py", "/b.py"] } }
            : {
                status: 200,
                json: [
                  { file: "/a.py", success: true },
                  { file: "/b.py", success: false, error: "denied" }
                ]
              }
      )
      const fs = FileSystem.make(target, fake.toolbox)
      const matches = yield* fs.findFiles("/", "TODO")
      const names = yield* fs.searchFiles("/", "*.py")
      const replaced = yield* fs.replaceInFiles(["/a.py", "/b.py"], "old", "new")
      assert.deepStrictEqual(matches, [{ file: "/a.py", line: 3, content: "TODO: x" }])
      assert.deepStrictEqual(names, ["/a.py", "/b.py"])
      assert.deepStrictEqual(
        replaced.map((r) => r.error),
        [undefined, "denied"]
      )
      const reqs = yield* fake.requests
      assert.deepStrictEqual(reqs[0]!.query, { path: "/", pattern: "TODO" })
      assert.deepStrictEqual(reqs[1]!.query, { path: "/", pattern: "*.py" })
      assert.deepStrictEqual(reqs[2]!.json, { files: ["/a.py", "/b.py"], pattern: "old", newValue: "new" })
      assert.strictEqual(reqs[2]!.method, "POST")
    })
  )

  describe("upload", () => {
    it.effect("uploadFiles streams multipart with files[i].path before files[i].file", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({
          status: 200,
          json: {
            files: [
              { path: "/home/daytona/a.txt", bytes: 5 },
              { path: "/home/daytona/日本.bin", bytes: 3 }
            ]
          }
        }))
        const written = yield* FileSystem.make(target, fake.toolbox).uploadFiles([
          { destination: "/home/daytona/a.txt", source: "hello" },
          { destination: "/home/daytona/日本.bin", source: new Uint8Array([1, 2, 3]) }
        ])
        assert.deepStrictEqual(
          written.map((f) => f.bytes),
          [5, 3]
        )
        const [req] = yield* fake.requests
        assert.strictEqual(req!.method, "POST")
        assert.strictEqual(req!.route, "/files/bulk-upload")
        assert.strictEqual(req!.bodyTag, "Stream")
        assert.match(req!.contentType!, /^multipart\/form-data; boundary=/)
        const parts = partsOf(req!.bytes!, req!.contentType)
        assert.deepStrictEqual(
          parts.map((p) => /name="([^"]+)"/.exec(p.headers["content-disposition"]!)![1]),
          ["files[0].path", "files[0].file", "files[1].path", "files[1].file"]
        )
        assert.strictEqual(parts[0]!.body, "/home/daytona/a.txt")
        assert.strictEqual(parts[1]!.body, "hello")
        assert.strictEqual(parts[2]!.body, "/home/daytona/日本.bin")
        assert.include(parts[3]!.headers["content-disposition"]!, `filename="__.bin"`)
        assert.include(parts[3]!.headers["content-disposition"]!, `filename*=utf-8''%E6%97%A5%E6%9C%AC.bin`)
      })
    )

    it.effect("uploadFile from a Stream is sent once, never retried, and its error is kept", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, json: { files: [] } }))
        const fs = FileSystem.make(target, fake.toolbox)
        const encoder = new TextEncoder()
        yield* fs.uploadFile("/tmp/s.txt", Stream.make(encoder.encode("ab"), encoder.encode("cd")))
        const [req] = yield* fake.requests
        assert.strictEqual(partsOf(req!.bytes!, req!.contentType)[1]!.body, "abcd")

        class SourceBroke {
          readonly _tag = "SourceBroke"
        }
        const failing = Stream.concat(Stream.make(encoder.encode("x")), Stream.fail(new SourceBroke()))
        const error = yield* fs.uploadFile("/tmp/f.txt", failing).pipe(Effect.flip)
        assert.instanceOf(error, SourceBroke)
      })
    )

    it.effect("a partial upload failure is a ValidationError listing the daemon's errors", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({
          status: 400,
          json: { errors: ["files[0]: permission denied"], files: [] }
        }))
        const error = yield* FileSystem.make(target, fake.toolbox).uploadFile("/etc/x", "data").pipe(Effect.flip)
        assert.strictEqual(error._tag, "ValidationError")
        assert.include(error.message, "files[0]: permission denied")
      })
    )

    it.effect("upload progress counts content bytes into a SubscriptionRef", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, json: { files: [] } }))
        const progress = yield* SubscriptionRef.make<FileSystem.TransferProgress>({ bytes: 0, total: undefined })
        yield* FileSystem.make(target, fake.toolbox).uploadFiles(
          [
            { destination: "/a", source: "12345" },
            { destination: "/b", source: "678" }
          ],
          { progress }
        )
        assert.deepStrictEqual(yield* SubscriptionRef.get(progress), { bytes: 8, total: 8 })
      })
    )

    it.effect("uploads from a local file path without reading it whole", () =>
      Effect.gen(function* () {
        const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "fs-test-"))
        const local = NodePath.join(dir, "big.bin")
        const content = new Uint8Array(300_000).map((_, i) => i % 251)
        NodeFs.writeFileSync(local, content)
        const fake = yield* makeToolbox(() => ({ status: 200, json: { files: [] } }))
        yield* FileSystem.make(target, fake.toolbox).uploadFile("/home/daytona/big.bin", FileSystem.localFile(local))
        const [req] = yield* fake.requests
        const body = req!.bytes!
        const marker = new TextEncoder().encode("application/octet-stream\r\n\r\n")
        const start = Buffer.from(body).indexOf(Buffer.from(marker)) + marker.length
        assert.deepStrictEqual(body.slice(start, start + content.length), content)
        const missing = yield* FileSystem.make(target, fake.toolbox)
          .uploadFile("/x", FileSystem.localFile(NodePath.join(dir, "missing")))
          .pipe(Effect.flip)
        assert.strictEqual(missing._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 1)
      }).pipe(Effect.provide(NodeFileSystem.layer))
    )
  })

  describe("upload through an UploadBody service (NodeUploadBody)", () => {
    const withLocalFile = <A, E, R>(content: Uint8Array, use: (path: string) => Effect.Effect<A, E, R>) =>
      Effect.acquireUseRelease(
        Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "fs-node-body-"))),
        (dir) => {
          const local = NodePath.join(dir, "data.bin")
          NodeFs.writeFileSync(local, content)
          return use(local)
        },
        (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
      )
    const content = new Uint8Array(2_500_000).map((_, i) => (i * 7) % 253)

    it.effect(
      "bytes and local files (empty ones too) go through the service as one raw body, framed as the stream body is",
      () =>
        withLocalFile(content, (local) =>
          Effect.gen(function* () {
            const fake = yield* makeToolbox(() => ({ status: 200, json: { files: [] } }))
            const emptyLocal = NodePath.join(NodePath.dirname(local), "empty.bin")
            NodeFs.writeFileSync(emptyLocal, "")
            const files = [
              { destination: "/home/daytona/a.txt", source: "hello" },
              { destination: "/home/daytona/日本.bin", source: FileSystem.localFile(local) },
              { destination: "/home/daytona/empty", source: new Uint8Array(0) },
              { destination: "/home/daytona/empty-local", source: FileSystem.localFile(emptyLocal) },
              { destination: "/home/daytona/again.bin", source: FileSystem.localFile(local) }
            ]
            const progress = yield* SubscriptionRef.make<FileSystem.TransferProgress>({ bytes: 0, total: undefined })
            yield* FileSystem.make(target, fake.toolbox)
              .uploadFiles(files, { progress })
              .pipe(Effect.provide(NodeUploadBody.layer))
            yield* FileSystem.make(target, fake.toolbox).uploadFiles(files)
            const [viaService, viaStream] = yield* fake.requests
            assert.strictEqual(viaService!.bodyTag, "Raw")
            assert.strictEqual(viaStream!.bodyTag, "Stream")
            assert.strictEqual(viaService!.headers["content-length"], String(viaService!.bytes!.length))
            assert.deepStrictEqual(
              partsOf(viaService!.bytes!, viaService!.contentType),
              partsOf(viaStream!.bytes!, viaStream!.contentType)
            )
            const total = 5 + 2 * content.length
            assert.deepStrictEqual(yield* SubscriptionRef.get(progress), { bytes: total, total })
            const parts = partsOf(viaService!.bytes!, viaService!.contentType)
            assert.strictEqual(parts.length, 10)
            assert.deepStrictEqual([parts[5]!.body, parts[7]!.body], ["", ""])
            assert.strictEqual(parts[9]!.body, parts[3]!.body)
          })
        ).pipe(Effect.provide(NodeFileSystem.layer))
    )

    it.effect("a Stream source keeps the stream body", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, json: { files: [] } }))
        yield* FileSystem.make(target, fake.toolbox)
          .uploadFile("/tmp/s.txt", Stream.make(new TextEncoder().encode("abc")))
          .pipe(Effect.provide(NodeUploadBody.layer))
        const [req] = yield* fake.requests
        assert.strictEqual(req!.bodyTag, "Stream")
        assert.strictEqual(partsOf(req!.bytes!, req!.contentType)[1]!.body, "abc")
      })
    )

    it.effect("a replay reads the file again from the start; progress starts again with it", () =>
      withLocalFile(content, (local) =>
        Effect.gen(function* () {
          const fake = yield* makeToolbox(
            (_, index) => (index === 0 ? { status: 503, text: "busy" } : { status: 200, json: { files: [] } }),
            { retryPolicy: Schedule.recurs(1) }
          )
          const progress = yield* SubscriptionRef.make<FileSystem.TransferProgress>({ bytes: 0, total: undefined })
          yield* FileSystem.make(target, fake.toolbox)
            .uploadFile("/home/daytona/data.bin", FileSystem.localFile(local), { progress })
            .pipe(Effect.provide(NodeUploadBody.layer))
          const [first, second] = yield* fake.requests
          assert.strictEqual(first!.bytes!.length, second!.bytes!.length)
          assert.deepStrictEqual(partsOf(second!.bytes!, second!.contentType)[1]!.body.length, content.length)
          assert.deepStrictEqual(yield* SubscriptionRef.get(progress), { bytes: content.length, total: content.length })
        })
      ).pipe(Effect.provide(NodeFileSystem.layer))
    )

    it.effect("a local file that shrinks after its size was read fails the upload as a local read", () =>
      withLocalFile(content, (local) =>
        Effect.gen(function* () {
          const fake = yield* makeToolbox(() => ({ status: 200, json: { files: [] } }))
          const error = yield* FileSystem.make(target, fake.toolbox)
            .uploadFile("/home/daytona/data.bin", FileSystem.localFile(local))
            .pipe(Effect.provide(NodeUploadBody.layer), Effect.flip)
          assert.strictEqual(error._tag, "TransportError")
          assert.strictEqual(error._tag === "TransportError" ? error.reason : undefined, "Encode")
          assert.instanceOf(
            error._tag === "TransportError" ? error.cause : undefined,
            NodeUploadBody.LocalFileShrunkError
          )
        })
      ).pipe(
        // The file's size as stat reads it is 10 bytes more than the file holds.
        Effect.provide(
          Layer.effect(
            PlatformFileSystem.FileSystem,
            Effect.map(PlatformFileSystem.FileSystem, (fs) => ({
              ...fs,
              stat: (path: string) =>
                Effect.map(fs.stat(path), (info) => ({
                  ...info,
                  size: PlatformFileSystem.Size(Number(info.size) + 10)
                }))
            }))
          ).pipe(Layer.provideMerge(NodeFileSystem.layer))
        )
      )
    )
  })

  describe("download", () => {
    it.effect("downloadFile posts {paths} and streams the file part", () =>
      Effect.gen(function* () {
        const body = multipartBody(B, [{ name: "file", filename: "/home/daytona/a.txt", body: "hello world" }])
        const fake = yield* makeToolbox(() => ({
          status: 200,
          chunks: splitAt(body, [10, 50, 120]),
          headers: multipartHeaders
        }))
        const progress = yield* SubscriptionRef.make<FileSystem.TransferProgress>({ bytes: 0, total: undefined })
        const chunks = yield* FileSystem.make(target, fake.toolbox)
          .downloadFile("/home/daytona/a.txt", { progress })
          .pipe(Stream.runCollect)
        assert.strictEqual(text(Buffer.concat(Chunk.toReadonlyArray(chunks))), "hello world")
        assert.deepStrictEqual(yield* SubscriptionRef.get(progress), { bytes: 11, total: 11 })
        const [req] = yield* fake.requests
        assert.strictEqual(req!.method, "POST")
        assert.strictEqual(req!.route, "/files/bulk-download")
        assert.deepStrictEqual(req!.json, { paths: ["/home/daytona/a.txt"] })
        assert.strictEqual(req!.headers["accept"], "multipart/form-data")
      })
    )

    it.effect("a per-file error part fails a single download with NotFoundError and the server message", () =>
      Effect.gen(function* () {
        const body = multipartBody(B, [
          {
            name: "error",
            filename: "/nope",
            body: JSON.stringify({ statusCode: 404, message: "file not found: /nope", code: "FILE_NOT_FOUND" })
          }
        ])
        const fake = yield* makeToolbox(() => ({ status: 200, chunks: [body], headers: multipartHeaders }))
        const error = yield* FileSystem.make(target, fake.toolbox)
          .downloadFile("/nope")
          .pipe(Stream.runDrain, Effect.flip)
        assert.strictEqual(error._tag, "NotFoundError")
        assert.include(error.message, "file not found: /nope")
        assert.strictEqual((error as { errorCode?: string }).errorCode, "FILE_NOT_FOUND")
      })
    )

    it.effect("downloadFiles returns per-file errors as values and matches parts by filename*", () =>
      Effect.gen(function* () {
        const body = multipartBody(B, [
          { name: "file", filename: "/data/ünï.txt", body: "one" },
          {
            name: "error",
            filename: "/data/dir",
            body: JSON.stringify({ statusCode: 400, message: "path is a directory", code: "INVALID_FILE_PATH" })
          },
          { name: "file", filename: "/data/b.bin", body: new Uint8Array([0, 13, 10, 45, 45, 255]) }
        ])
        const fake = yield* makeToolbox(() => ({ status: 200, chunks: [body], headers: multipartHeaders }))
        const results = yield* FileSystem.make(target, fake.toolbox).downloadFiles([
          "/data/ünï.txt",
          "/data/dir",
          "/data/b.bin",
          "/data/missing"
        ])
        assert.strictEqual(text(results[0]!.content!), "one")
        assert.strictEqual(results[1]!.error?._tag, "ValidationError")
        assert.deepStrictEqual([...results[2]!.content!], [0, 13, 10, 45, 45, 255])
        assert.strictEqual(results[3]!.error?._tag, "UnexpectedResponseError")
        assert.include(results[3]!.error!.message, "no data received for /data/missing")
      })
    )

    it.effect("a truncated multipart answer is a body cut off (TransportError), once retries are spent", () =>
      Effect.gen(function* () {
        const body = multipartBody(B, [{ name: "file", filename: "/a", body: "partial content" }], { close: false })
        const cut = body.slice(0, body.length - 6)
        const fake = yield* makeToolbox(() => ({ status: 200, chunks: [cut], headers: multipartHeaders }))
        const error = yield* FileSystem.make(target, fake.toolbox).downloadFiles(["/a"]).pipe(Effect.flip)
        assert.strictEqual(error._tag, "TransportError")
        assert.include(error.message, "truncated")
      })
    )

    it.effect("a non-multipart answer is an UnexpectedResponseError", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, json: { oops: true } }))
        const error = yield* FileSystem.make(target, fake.toolbox).downloadFile("/a").pipe(Stream.runDrain, Effect.flip)
        assert.strictEqual(error._tag, "UnexpectedResponseError")
      })
    )

    it.effect("an empty path list is rejected before any request", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200 }))
        const error = yield* FileSystem.make(target, fake.toolbox).downloadFiles([]).pipe(Effect.flip)
        assert.strictEqual(error._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )

    it.effect("random chunk splits of the multipart answer give the same files (property)", () =>
      Effect.gen(function* () {
        const next = random(7)
        for (let round = 0; round < 60; round++) {
          const payloads = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
            next() < 0.5
              ? new Uint8Array(Math.floor(next() * 200)).map(() => (next() < 0.2 ? 45 : Math.floor(next() * 256)))
              : trickyPayload(next)
          ).map((bytes, i) => ({ path: `/f${i}`, bytes }))
          const body = multipartBody(
            B,
            payloads.map((p) => ({ name: "file" as const, filename: p.path, body: p.bytes }))
          )
          const chunks = splitAt(body, randomCuts(next, body.length, Math.floor(next() * 20)))
          const fake = yield* makeToolbox(() => ({ status: 200, chunks, headers: multipartHeaders }))
          const results = yield* FileSystem.make(target, fake.toolbox).downloadFiles(payloads.map((p) => p.path))
          assert.deepStrictEqual(
            results.map((r) => [...(r.content ?? [])]),
            payloads.map((p) => [...p.bytes]),
            `round ${round}`
          )
        }
      })
    )

    it.effect("downloadFileTo writes the file and removes it again when the download fails", () =>
      Effect.gen(function* () {
        const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "fs-test-"))
        const ok = multipartBody(B, [{ name: "file", filename: "/a", body: "content" }])
        const bad = multipartBody(B, [{ name: "file", filename: "/b", body: "content" }], { close: false }).slice(0, -4)
        const fake = yield* makeToolbox((_, i) => ({
          status: 200,
          chunks: [i === 0 ? ok : bad],
          headers: multipartHeaders
        }))
        const fs = FileSystem.make(target, fake.toolbox)
        yield* fs.downloadFileTo("/a", NodePath.join(dir, "sub", "a.txt"))
        assert.strictEqual(NodeFs.readFileSync(NodePath.join(dir, "sub", "a.txt"), "utf8"), "content")
        const error = yield* fs.downloadFileTo("/b", NodePath.join(dir, "b.txt")).pipe(Effect.flip)
        assert.strictEqual(error._tag, "TransportError")
        assert.isFalse(NodeFs.existsSync(NodePath.join(dir, "b.txt")))
        const platform = yield* PlatformFileSystem.FileSystem
        assert.isTrue(yield* platform.exists(NodePath.join(dir, "sub", "a.txt")))
      }).pipe(Effect.provide(NodeFileSystem.layer))
    )

    it.effect("downloadFilesTo writes files of many chunks, batched, byte for byte (property)", () =>
      Effect.gen(function* () {
        const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "fs-test-"))
        const next = random(11)
        for (let round = 0; round < 10; round++) {
          const payloads = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, i) => ({
            path: `/d${i}`,
            bytes: trickyPayload(next, 400)
          }))
          const body = multipartBody(
            B,
            payloads.map((p) => ({ name: "file" as const, filename: p.path, body: p.bytes }))
          )
          const chunks = splitAt(body, randomCuts(next, body.length, Math.floor(next() * 200)))
          const fake = yield* makeToolbox(() => ({ status: 200, chunks, headers: multipartHeaders }))
          const progress = yield* SubscriptionRef.make<FileSystem.TransferProgress>({ bytes: 0, total: undefined })
          const results = yield* FileSystem.make(target, fake.toolbox).downloadFilesTo(
            payloads.map((p) => ({ source: p.path, destination: NodePath.join(dir, `${round}${p.path}`) })),
            { progress }
          )
          assert.deepStrictEqual(
            results.map((r) => [...NodeFs.readFileSync(r.destination!)]),
            payloads.map((p) => [...p.bytes]),
            `round ${round}`
          )
          const total = payloads.reduce((n, p) => n + p.bytes.length, 0)
          assert.strictEqual((yield* SubscriptionRef.get(progress)).bytes, total)
        }
      }).pipe(Effect.provide(NodeFileSystem.layer))
    )

    it.effect("progress can be observed as a stream of changes from another fiber", () =>
      Effect.gen(function* () {
        const body = multipartBody(B, [{ name: "file", filename: "/a", body: "x".repeat(1000) }])
        const fake = yield* makeToolbox(() => ({
          status: 200,
          chunks: splitAt(body, [150, 400, 700, 1000]),
          headers: multipartHeaders
        }))
        const progress = yield* SubscriptionRef.make<FileSystem.TransferProgress>({ bytes: 0, total: undefined })
        const watcher = yield* progress.changes.pipe(
          Stream.takeUntil((p) => p.bytes === 1000),
          Stream.runCollect,
          Effect.fork
        )
        yield* Effect.yieldNow()
        yield* FileSystem.make(target, fake.toolbox).downloadFile("/a", { progress }).pipe(Stream.runDrain)
        const seen = Chunk.toReadonlyArray(yield* Fiber.join(watcher))
        assert.strictEqual(seen[seen.length - 1]!.bytes, 1000)
        assert.strictEqual(seen[seen.length - 1]!.total, 1000)
        assert.isAbove(seen.length, 2)
      })
    )
  })

  describe("multipart helpers", () => {
    it("formDataDisposition escapes quotes and adds filename* outside printable ASCII", () => {
      assert.strictEqual(formDataDisposition("files[0].path"), `form-data; name="files[0].path"`)
      assert.strictEqual(formDataDisposition("f", 'a"b.txt'), `form-data; name="f"; filename="a\\"b.txt"`)
      assert.strictEqual(
        formDataDisposition("f", "café ✓.txt"),
        `form-data; name="f"; filename="caf_ _.txt"; filename*=utf-8''caf%C3%A9%20%E2%9C%93.txt`
      )
    })

    it("boundaryOf and filenameOf read quoted and extended parameters", () => {
      assert.strictEqual(boundaryOf(`multipart/form-data; boundary=${B}`), B)
      assert.strictEqual(boundaryOf(`multipart/form-data; boundary="a b"`), "a b")
      assert.isUndefined(boundaryOf("application/json"))
      assert.strictEqual(
        filenameOf(`form-data; name="file"; filename="/a/_.txt"; filename*=utf-8''/a/%C3%BC.txt`),
        "/a/ü.txt"
      )
      assert.strictEqual(filenameOf(`form-data; name="file"; filename="/a/b.txt"`), "/a/b.txt")
    })

    it("makeSearch and scriptSearch find the first occurrence a naive search finds (property)", () => {
      const next = random(3)
      for (let round = 0; round < 300; round++) {
        const needle = encode(`\r\n--${B.slice(0, 1 + Math.floor(next() * B.length))}`)
        const whole = concatChunks(
          Array.from({ length: Math.floor(next() * 8) }, () =>
            next() < 0.4
              ? needle.subarray(0, 1 + Math.floor(next() * needle.length))
              : new Uint8Array(Math.floor(next() * 30)).map(() => (next() < 0.3 ? 45 : Math.floor(next() * 256)))
          )
        )
        // a view into a larger buffer, as a pushed chunk often is
        const skip = Math.floor(next() * Math.min(4, whole.length + 1))
        const haystack = whole.subarray(skip)
        const from = Math.floor(next() * (haystack.length + 1))
        const expected = naiveIndexOf(haystack, needle, from)
        assert.strictEqual(makeSearch(needle)(haystack, from), expected, `round ${round}`)
        assert.strictEqual(scriptSearch(needle)(haystack, from), expected, `round ${round} (script)`)
      }
    })

    it("the parser gives the same parts however near-delimiters fall across chunks (property)", () => {
      const next = random(5)
      for (let round = 0; round < 300; round++) {
        const payloads = Array.from({ length: Math.floor(next() * 4) }, () => trickyPayload(next))
        const body = multipartBody(
          B,
          payloads.map((bytes, i) => ({ name: "file" as const, filename: `/p${i}`, body: bytes }))
        )
        const chunks =
          round % 10 === 0
            ? splitAt(
                body,
                Array.from({ length: body.length }, (_, i) => i)
              )
            : splitAt(body, randomCuts(next, body.length, Math.floor(next() * 40)))
        const parser = makeParser(B)
        const parts: Array<Array<Uint8Array>> = []
        let open = false
        for (const chunk of chunks) {
          // Buffers, like the bytes a Node socket gives
          for (const event of parser.push(Buffer.from(chunk))) {
            if (event._tag === "Headers") {
              assert.isFalse(open)
              open = true
              parts.push([])
            } else if (event._tag === "Data") {
              assert.isTrue(open)
              assert.isAbove(event.bytes.length, 0)
              assert.strictEqual(Object.getPrototypeOf(event.bytes), Uint8Array.prototype)
              parts[parts.length - 1]!.push(event.bytes)
            } else {
              assert.isTrue(open)
              open = false
            }
          }
        }
        assert.isTrue(parser.complete(), `round ${round}`)
        assert.deepStrictEqual(
          parts.map((p) => [...concatChunks(p)]),
          payloads.map((p) => [...p]),
          `round ${round}`
        )
      }
    })

    it("the parser reports preamble-free parts, empty bodies and completion", () => {
      const parser = makeParser("XX")
      const events = parser.push(new TextEncoder().encode("--XX\r\nA: 1\r\n\r\n\r\n--XX\r\n\r\nbody\r\n--XX--\r\n"))
      assert.deepStrictEqual(
        events.map((e) =>
          e._tag === "Data" ? text(e.bytes) : e._tag === "Headers" ? JSON.stringify(e.headers) : e._tag
        ),
        [`{"a":"1"}`, "End", "{}", "body", "End"]
      )
      assert.isTrue(parser.complete())
      assert.throws(() => makeParser("XX").push(new TextEncoder().encode("--XXjunk")), MultipartError)
    })
  })
})
