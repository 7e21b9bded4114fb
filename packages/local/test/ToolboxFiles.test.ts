import { assert, describe, it } from "@effect/vitest"
import { AuthorizationError, ConflictError, NotFoundError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const MiB = 1024 * 1024

const sha256 = (bytes: Uint8Array) => NodeCrypto.createHash("sha256").update(bytes).digest("hex")

/** Deterministic pseudo-random bytes, produced in 1 MiB chunks. */
const content = (size: number) =>
  Stream.unfold(0, (offset) => {
    if (offset >= size) return Option.none()
    const length = Math.min(MiB, size - offset)
    const chunk = NodeCrypto.createHash("sha512").update(String(offset)).digest()
    const bytes = new Uint8Array(length)
    for (let i = 0; i < length; i += chunk.length) bytes.set(chunk.subarray(0, Math.min(chunk.length, length - i)), i)
    bytes[0] = offset & 0xff
    return Option.some([bytes, offset + length] as const)
  })

const hashStream = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Stream.runFold(stream, NodeCrypto.createHash("sha256"), (hash, bytes) => hash.update(bytes)).pipe(
    Effect.map((hash) => hash.digest("hex"))
  )

describe("toolbox files through the SDK", () => {
  it.live(
    "files of 0 B, 1 B, 1 MiB and 64 MiB round-trip with equal SHA-256",
    () =>
      Effect.gen(function* () {
        const { sandbox, home } = yield* sdkSandbox()
        for (const size of [0, 1, MiB, 64 * MiB]) {
          const path = `data/file-${size}.bin`
          const expected = yield* hashStream(content(size))
          yield* sandbox.fs.uploadFile(path, content(size))
          const onDisk = sha256(yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, path))))
          assert.strictEqual(onDisk, expected, `upload of ${size} bytes`)
          const downloaded = yield* hashStream(sandbox.fs.downloadFile(path))
          assert.strictEqual(downloaded, expected, `download of ${size} bytes`)
          const info = yield* sandbox.fs.getFileDetails(path)
          assert.strictEqual(info.size, size)
        }
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "a tree of 1,000 small files uploads in one call; bulk downloads answer per file",
    () =>
      Effect.gen(function* () {
        const { sandbox, home } = yield* sdkSandbox()
        const files = Array.from({ length: 1000 }, (_, i) => ({
          source: `file ${i}\n`,
          destination: `tree/d${i % 10}/sub${i % 7}/f${i}.txt`
        }))
        const written = yield* sandbox.fs.uploadFiles(files)
        assert.strictEqual(written.length, 1000)
        assert.deepStrictEqual(written[999], { path: "tree/d9/sub5/f999.txt", bytes: 9 })
        const text = yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, "tree/d3/sub4/f123.txt"), "utf8"))
        assert.strictEqual(text, "file 123\n")

        const unicode = "tree/ünï cødé ✓.txt"
        yield* sandbox.fs.uploadFile(unicode, "snow ☃")
        const results = yield* sandbox.fs.downloadFiles(["tree/d0/sub0/f0.txt", "tree/missing.txt", unicode, "tree/d1"])
        assert.strictEqual(new TextDecoder().decode(results[0]!.content), "file 0\n")
        assert.instanceOf(results[1]!.error, NotFoundError)
        assert.include(results[1]!.error!.message, "tree/missing.txt")
        assert.strictEqual(new TextDecoder().decode(results[2]!.content), "snow ☃")
        assert.instanceOf(results[3]!.error, ValidationError)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live("list, details, folders, move, delete, find, search, replace and permissions", () =>
    Effect.gen(function* () {
      const { sandbox, home } = yield* sdkSandbox()
      const fs = sandbox.fs
      yield* fs.createFolder("proj/src", "750")
      const folder = yield* fs.getFileDetails("proj/src")
      assert.deepStrictEqual([folder.isDir, folder.permissions, folder.mode], [true, "0750", "drwxr-x---"])
      yield* fs.uploadFiles([
        { source: "alpha\nneedle here\nomega\n", destination: "proj/src/a.ts" },
        { source: "no match\n", destination: "proj/src/b.js" },
        { source: "needle again\n", destination: "proj/readme.md" }
      ])
      const listed = yield* fs.listFiles("proj/src")
      assert.deepStrictEqual(
        listed.map((f) => [f.name, f.isDir, f.size]),
        [
          ["a.ts", false, 24],
          ["b.js", false, 9]
        ]
      )
      assert.strictEqual(listed[0]!.mode, "-rw-r--r--")

      const matches = yield* fs.findFiles("proj", "needle")
      assert.deepStrictEqual(matches, [
        { file: "proj/readme.md", line: 1, content: "needle again" },
        { file: "proj/src/a.ts", line: 2, content: "needle here" }
      ])
      assert.deepStrictEqual(yield* fs.searchFiles("proj", "**/*.ts"), ["proj/src/a.ts"])
      assert.deepStrictEqual(yield* fs.searchFiles("proj", "*.md"), ["proj/readme.md"])
      assert.deepStrictEqual(yield* fs.searchFiles(`${home}/proj`, "src/*.{ts,js}"), [
        `${home}/proj/src/a.ts`,
        `${home}/proj/src/b.js`
      ])

      const replaced = yield* fs.replaceInFiles(["proj/src/a.ts", "proj/nope.ts"], "needle", "pin")
      assert.deepStrictEqual(replaced[0], { file: "proj/src/a.ts", success: true })
      assert.isFalse(replaced[1]!.success)
      const a = yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, "proj/src/a.ts"), "utf8"))
      assert.strictEqual(a, "alpha\npin here\nomega\n")

      yield* fs.setFilePermissions("proj/src/a.ts", { mode: "600", owner: "0", group: "root" })
      assert.strictEqual((yield* fs.getFileDetails("proj/src/a.ts")).permissions, "0600")

      yield* fs.moveFiles("proj/src/b.js", "proj/lib/b.js")
      const moved = yield* fs.listFiles("proj/lib")
      assert.deepStrictEqual(
        moved.map((f) => f.name),
        ["b.js"]
      )
      const conflict = yield* failureOf(fs.moveFiles("proj/readme.md", "proj/src/a.ts"))
      assert.instanceOf(conflict, ConflictError)

      const notRecursive = yield* failureOf(fs.deleteFile("proj/src"))
      assert.instanceOf(notRecursive, ValidationError)
      assert.include(notRecursive.message, "cannot delete directory without recursive flag")
      yield* fs.deleteFile("proj/readme.md")
      yield* fs.deleteFile("proj", { recursive: true })
      assert.deepStrictEqual(
        (yield* fs.listFiles(".")).map((f) => f.name).filter((n) => n === "proj"),
        []
      )
    }).pipe(Effect.scoped)
  )

  it.live("file not found, permission denied and not a directory reach the SDK as typed errors", () =>
    Effect.gen(function* () {
      const { sandbox } = yield* sdkSandbox()
      const fs = sandbox.fs
      const missing = yield* failureOf(fs.listFiles("nowhere"))
      assert.instanceOf(missing, NotFoundError)
      assert.include(missing.message, "nowhere: no such file or directory")
      assert.strictEqual(missing.errorCode, "FILE_NOT_FOUND")
      assert.instanceOf(yield* failureOf(fs.getFileDetails("nowhere/x")), NotFoundError)

      yield* fs.uploadFile("plain.txt", "x")
      const notDir = yield* failureOf(fs.listFiles("plain.txt"))
      assert.instanceOf(notDir, ValidationError)
      assert.include(notDir.message, "plain.txt: not a directory")

      const denied = yield* failureOf(fs.createFolder("/sys/daytona-test", "755"))
      assert.instanceOf(denied, AuthorizationError)
      assert.include(denied.message, "permission denied")

      const upload = yield* failureOf(fs.uploadFile("/sys/daytona-test.txt", "x"))
      assert.instanceOf(upload, ValidationError)
      assert.include(upload.message, "/sys/daytona-test.txt: permission denied")

      const download = yield* failureOf(Stream.runCollect(fs.downloadFile("nowhere.txt")).pipe(Effect.map(Chunk.size)))
      assert.instanceOf(download, NotFoundError)
    }).pipe(Effect.scoped)
  )
})
