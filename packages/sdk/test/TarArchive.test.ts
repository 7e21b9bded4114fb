import { NodeFileSystem } from "@effect/platform-node"
import * as FileSystem from "@effect/platform/FileSystem"
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as ContextUpload from "../src/internal/contextUpload.js"
import * as TarArchive from "../src/internal/tarArchive.js"
import { concatChunks } from "./support/FakeToolbox.js"

const longName = `${"very-long-directory-name-".repeat(5)}/${"and-a-long-file-name-".repeat(4)}.txt`

/** A directory tree with what an archive must get right: nesting, long and non-ASCII names, a link. */
const makeTree = (root: string) => {
  const write = (path: string, content: string | Uint8Array, mode = 0o644) => {
    NodeFs.mkdirSync(NodePath.dirname(NodePath.join(root, path)), { recursive: true })
    NodeFs.writeFileSync(NodePath.join(root, path), content)
    NodeFs.chmodSync(NodePath.join(root, path), mode)
  }
  write("app/main.py", "print('hello')\n")
  write("app/run.sh", "#!/bin/sh\necho run\n", 0o755)
  write("app/empty.txt", "")
  write(
    "app/block.bin",
    new Uint8Array(512).map((_, i) => i & 0xff)
  )
  write(
    "app/big.bin",
    new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff)
  )
  write(`app/${longName}`, "long\n")
  write("app/données/café ☕.txt", "non-ascii\n")
  NodeFs.mkdirSync(NodePath.join(root, "app/empty-dir"), { recursive: true })
  NodeFs.symlinkSync("main.py", NodePath.join(root, "app/link-to-main"))
  NodeFs.symlinkSync("/nowhere/at/all", NodePath.join(root, "app/dangling"))
  write("requirements.txt", "numpy\n")
}

const collect = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Effect.map(Stream.runCollect(stream), (chunks) => concatChunks(Chunk.toReadonlyArray(chunks)))

/** The archive of one context entry, written to a file: its bytes, its announced length and its path. */
const archive = (root: string, sourcePath: string, archivePath: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const prepared = yield* ContextUpload.prepare(fs, { sourcePath, archivePath })
    const bytes = yield* collect(TarArchive.stream(fs, prepared.members))
    const file = NodePath.join(root, `archive-${prepared.hash}.tar`)
    NodeFs.writeFileSync(file, bytes)
    return { bytes, length: TarArchive.length(prepared.members), file, prepared }
  })

const tempDir = Effect.acquireRelease(
  Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeFs.realpathSync("/tmp"), "tar-test-"))),
  (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
)

/** Every path under `dir`, with a file's content, a link's target or `<dir>`. */
const snapshotOf = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {}
  const visit = (relative: string) => {
    for (const name of NodeFs.readdirSync(NodePath.join(dir, relative))) {
      const path = relative === "" ? name : `${relative}/${name}`
      const full = NodePath.join(dir, path)
      const stat = NodeFs.lstatSync(full)
      if (stat.isSymbolicLink()) out[path] = `-> ${NodeFs.readlinkSync(full)}`
      else if (stat.isDirectory()) {
        out[path] = "<dir>"
        visit(path)
      } else out[path] = `${(stat.mode & 0o777).toString(8)} ${NodeFs.readFileSync(full).toString("base64")}`
    }
  }
  visit("")
  return out
}

describe("tar archive", () => {
  it.scoped("a directory extracts with the system tar to the same tree (names relative to the archive path)", () =>
    Effect.gen(function* () {
      const source = yield* tempDir
      const out = yield* tempDir
      makeTree(source)
      const result = yield* archive(out, NodePath.join(source, "app"), "app")
      assert.strictEqual(result.bytes.length, result.length)
      assert.strictEqual(result.length % 512, 0)
      const target = NodePath.join(out, "x")
      NodeFs.mkdirSync(target)
      const extraction = spawnSync("tar", ["-xf", result.file, "-C", target], { encoding: "utf8" })
      assert.strictEqual(extraction.status, 0)
      assert.strictEqual(extraction.stderr, "", "tar warns about nothing")
      assert.deepStrictEqual(snapshotOf(NodePath.join(target, "app")), snapshotOf(NodePath.join(source, "app")))
      const listing = execFileSync("tar", ["-tf", result.file], { encoding: "utf8" }).trim().split("\n")
      assert.strictEqual(listing[0], "app/")
      assert.include(listing, `app/${longName}`)
      assert.include(listing, "app/données/café ☕.txt")
      assert.include(listing, "app/empty-dir/")
      const sorted = listing.filter((name) => !name.slice(4).includes("/"))
      assert.deepStrictEqual(sorted, [...sorted].sort())
      const verbose = execFileSync("tar", ["-tvf", result.file], { encoding: "utf8" })
      assert.match(verbose, /lrwxrwxrwx .* app\/link-to-main -> main\.py/)
      assert.match(verbose, /-rwxr-xr-x 0\/0 .* app\/run\.sh/)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("an absolute archive path loses its leading slash, a file is one member, `.` is the root", () =>
    Effect.gen(function* () {
      const source = yield* tempDir
      const out = yield* tempDir
      makeTree(source)
      const file = NodePath.join(source, "requirements.txt")
      const absolute = yield* archive(out, file, file)
      const listing = execFileSync("tar", ["-tf", absolute.file], { encoding: "utf8" }).trim().split("\n")
      assert.deepStrictEqual(listing, [file.slice(1)])
      const dot = yield* archive(out, NodePath.join(source, "app"), ".")
      const names = execFileSync("tar", ["-tf", dot.file], { encoding: "utf8" }).trim().split("\n")
      assert.strictEqual(names[0], "./")
      assert.include(names, "./main.py")
      assert.isUndefined(ContextUpload.archiveName("../x"))
      assert.strictEqual(ContextUpload.archiveName("./a//b/../c/"), "a/c")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("the hash is deterministic, follows content and names, and refuses a missing path", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const source = yield* tempDir
      makeTree(source)
      const app = NodePath.join(source, "app")
      const first = yield* ContextUpload.prepare(fs, { sourcePath: app, archivePath: "app" })
      const again = yield* ContextUpload.prepare(fs, { sourcePath: app, archivePath: "app" })
      assert.strictEqual(first.hash, again.hash)
      assert.match(first.hash, /^[0-9a-f]{32}$/)
      const renamed = yield* ContextUpload.prepare(fs, { sourcePath: app, archivePath: "app2" })
      assert.notStrictEqual(renamed.hash, first.hash)
      NodeFs.writeFileSync(NodePath.join(app, "main.py"), "print('changed')\n")
      const changed = yield* ContextUpload.prepare(fs, { sourcePath: app, archivePath: "app" })
      assert.notStrictEqual(changed.hash, first.hash)
      const missing = yield* Effect.flip(
        ContextUpload.prepare(fs, { sourcePath: NodePath.join(source, "nope"), archivePath: "nope" })
      )
      assert.strictEqual(missing._tag, "ValidationError")
      assert.include(missing.message, NodePath.join(source, "nope"))
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("a file that shrinks while it is archived fails with FileChanged; one that grows is cut at its size", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const source = yield* tempDir
      const file = NodePath.join(source, "data.bin")
      NodeFs.writeFileSync(file, new Uint8Array(1000))
      const prepared = yield* ContextUpload.prepare(fs, { sourcePath: file, archivePath: "data.bin" })
      NodeFs.writeFileSync(file, new Uint8Array(2000))
      const grown = yield* collect(TarArchive.stream(fs, prepared.members))
      assert.strictEqual(grown.length, TarArchive.length(prepared.members))
      NodeFs.writeFileSync(file, new Uint8Array(10))
      const error = yield* Effect.flip(collect(TarArchive.stream(fs, prepared.members)))
      assert.strictEqual(error._tag, "BuildContextError")
      assert.strictEqual(error._tag === "BuildContextError" ? error.reason : undefined, "FileChanged")
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it("headers: a pax header for long or non-ASCII names, and checksums the system tar accepts", () => {
    const short = TarArchive.header({ _tag: "Directory", name: "a/", mode: 0o755, mtime: 0 })
    assert.strictEqual(short.length, 512)
    const long = TarArchive.header({
      _tag: "File",
      name: `${"x".repeat(150)}`,
      path: "",
      size: 0,
      mode: 0o644,
      mtime: 0
    })
    assert.strictEqual(long.length, 512 * 3)
    assert.strictEqual(String.fromCharCode(long[156]!), "x")
    assert.include(new TextDecoder().decode(long.subarray(512, 1024)), `path=${"x".repeat(150)}\n`)
    const unicode = TarArchive.header({ _tag: "SymbolicLink", name: "l", target: "é", mode: 0o777, mtime: 0 })
    assert.include(new TextDecoder().decode(unicode.subarray(512, 1024)), "linkpath=é\n")
  })
})
