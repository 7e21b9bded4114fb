import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import type { SandboxView } from "../src/SandboxEngine.js"
import * as SandboxFs from "../src/internal/sandboxFs.js"
import { PathFailure } from "../src/internal/sandboxPath.js"
import { tempDir } from "./utils.js"

/**
 * The toolbox's file operations resolve paths inside a sandbox's view, never on the host: a view
 * with a writable home and /tmp, a read-only "system" directory, and host directories outside it
 * that nothing may reach.
 */
const layout = Effect.gen(function* () {
  const root = yield* tempDir
  const dirs = {
    home: NodePath.join(root, "home"),
    tmp: NodePath.join(root, "tmp"),
    system: NodePath.join(root, "system"),
    outside: NodePath.join(root, "outside")
  }
  yield* Effect.promise(async () => {
    for (const dir of Object.values(dirs)) await NodeFs.mkdir(dir)
    await NodeFs.writeFile(NodePath.join(dirs.outside, "secret.txt"), "host secret")
    await NodeFs.writeFile(NodePath.join(dirs.system, "readme.txt"), "system file")
  })
  const view: SandboxView = {
    home: "/home/daytona",
    mounts: [
      { inside: "/home/daytona", host: dirs.home, writable: true },
      { inside: "/tmp", host: dirs.tmp, writable: true },
      { inside: "/usr", host: dirs.system, writable: false }
    ],
    hidden: ["/proc"],
    checkPermissions: false,
    diskQuota: 1024 * 1024,
    quotaRoots: [
      { inside: "/home/daytona", host: dirs.home, writable: true },
      { inside: "/tmp", host: dirs.tmp, writable: true }
    ]
  }
  return { view, dirs }
})

const failure = <A>(promise: () => Promise<A>) =>
  Effect.promise(() =>
    promise().then(
      () => undefined,
      (error: unknown) => error
    )
  )

const codeOf = (error: unknown) => (error instanceof PathFailure ? error.code : String(error))

const write = (view: SandboxView, path: string, text: string) => SandboxFs.writeFile(view, path, [Buffer.from(text)])

const hostFiles = (dir: string) => Effect.promise(() => NodeFs.readdir(dir))

describe("sandbox file system", () => {
  it.scoped("links planted in the sandbox resolve inside it: a host directory is never written", () =>
    Effect.gen(function* () {
      const { view, dirs } = yield* layout
      yield* Effect.promise(async () => {
        await NodeFs.symlink(dirs.outside, NodePath.join(dirs.home, "vt"))
        await NodeFs.symlink("nope/../vt", NodePath.join(dirs.home, "a"))
        await NodeFs.symlink("/tmp", NodePath.join(dirs.home, "t"))
        await NodeFs.symlink("../../../../../../..", NodePath.join(dirs.home, "up"))
      })
      // vt names a host path: in the sandbox that path (in its own /tmp) does not exist
      assert.strictEqual(codeOf(yield* failure(() => write(view, "vt/x.txt", "x"))), "ENOENT")
      // nope/../vt fails like the kernel: nope does not exist
      assert.strictEqual(codeOf(yield* failure(() => write(view, "a/x.txt", "x"))), "ENOENT")
      // an absolute link is the sandbox's /tmp, not the host's
      yield* Effect.promise(() => write(view, "t/y.txt", "in tmp"))
      assert.include(yield* hostFiles(dirs.tmp), "y.txt")
      // .. never climbs above the sandbox's /
      assert.include(["EROFS", "ENOENT"], codeOf(yield* failure(() => write(view, "up/z.txt", "x"))))
      assert.include(["EROFS", "ENOENT"], codeOf(yield* failure(() => write(view, "../../../z.txt", "x"))))
      assert.deepStrictEqual(yield* hostFiles(dirs.outside), ["secret.txt"])
      assert.strictEqual(codeOf(yield* failure(() => SandboxFs.readText(view, "vt/secret.txt", 100))), "ENOENT")
    })
  )

  it.scoped("delete, move, permissions and folders through links stay inside the sandbox", () =>
    Effect.gen(function* () {
      const { view, dirs } = yield* layout
      const secret = NodePath.join(dirs.outside, "secret.txt")
      yield* Effect.promise(async () => {
        await NodeFs.symlink(dirs.outside, NodePath.join(dirs.home, "d"))
        await NodeFs.symlink(secret, NodePath.join(dirs.home, "s"))
        await NodeFs.mkdir(NodePath.join(dirs.home, "tree"))
        await NodeFs.symlink(dirs.outside, NodePath.join(dirs.home, "tree", "link"))
      })
      yield* failure(() => SandboxFs.remove(view, "d", true))
      yield* failure(() => SandboxFs.remove(view, "d/secret.txt", false))
      yield* Effect.promise(() => SandboxFs.remove(view, "tree", true))
      yield* failure(() => SandboxFs.move(view, "d/secret.txt", "stolen.txt"))
      yield* failure(() => SandboxFs.setPermissions(view, "s", { mode: 0o777, uid: -1, gid: -1 }))
      yield* failure(() => SandboxFs.makeDirectory(view, "d/new", 0o755))
      assert.deepStrictEqual(yield* hostFiles(dirs.outside), ["secret.txt"])
      assert.strictEqual((yield* Effect.promise(() => NodeFs.stat(secret))).mode & 0o777, 0o644)
      assert.strictEqual(yield* Effect.promise(() => NodeFs.readFile(secret, "utf8")), "host secret")
      assert.isFalse(yield* Effect.promise(() => SandboxFs.exists(view, "tree")))
    })
  )

  it.scoped("a directory swapped for a link while files are written never leads out", () =>
    Effect.gen(function* () {
      const { view, dirs } = yield* layout
      const target = NodePath.join(dirs.home, "race")
      let running = true
      const swapper = (async () => {
        const ignore = () => undefined
        while (running) {
          await NodeFs.rm(target, { recursive: true, force: true }).catch(ignore)
          await NodeFs.mkdir(target).catch(ignore)
          await NodeFs.rm(target, { recursive: true, force: true }).catch(ignore)
          await NodeFs.symlink(dirs.outside, target).catch(ignore)
          await new Promise((resolve) => setImmediate(resolve))
        }
      })()
      yield* Effect.promise(async () => {
        for (let i = 0; i < 300; i++) await write(view, `race/f${i}.txt`, "x").catch(() => undefined)
        running = false
        await swapper
      })
      assert.deepStrictEqual(yield* hostFiles(dirs.outside), ["secret.txt"])
    })
  )

  it.scoped("read-only mounts, private paths, NUL bytes and the disk quota", () =>
    Effect.gen(function* () {
      const { view, dirs } = yield* layout
      assert.strictEqual(yield* Effect.promise(() => SandboxFs.readText(view, "/usr/readme.txt", 100)), "system file")
      assert.strictEqual(codeOf(yield* failure(() => write(view, "/usr/x", "x"))), "EROFS")
      assert.strictEqual(codeOf(yield* failure(() => write(view, "/etc/x", "x"))), "EROFS")
      assert.strictEqual(codeOf(yield* failure(() => SandboxFs.stat(view, "/proc/self/cmdline"))), "EPRIVATE")
      const nul = yield* failure(() => SandboxFs.stat(view, "a\u0000b"))
      assert.strictEqual(codeOf(nul), "EINVAL")
      assert.notInclude(String((nul as Error).message), dirs.home)
      yield* Effect.promise(() => write(view, "small.bin", "x".repeat(1000)))
      const big = yield* failure(() => SandboxFs.writeFile(view, "big.bin", [Buffer.alloc(2 * 1024 * 1024)]))
      assert.strictEqual(codeOf(big), "EQUOTA")
      assert.deepStrictEqual((yield* hostFiles(dirs.home)).sort(), ["small.bin"])
    })
  )

  it.scoped("an interrupted write leaves nothing under its final name", () =>
    Effect.gen(function* () {
      const { view, dirs } = yield* layout
      async function* broken() {
        yield Buffer.from("partial")
        throw new Error("the client went away")
      }
      const error = yield* failure(() => SandboxFs.writeFile(view, "upload.txt", broken()))
      assert.strictEqual((error as Error).message, "the client went away")
      assert.deepStrictEqual(yield* hostFiles(dirs.home), [])
    })
  )

  it.scoped("an abandoned upload stops waiting for its source and leaves nothing behind", () =>
    Effect.gen(function* () {
      const { view, dirs } = yield* layout
      const controller = new AbortController()
      // A source that delivers one chunk, then stalls until the request is abandoned.
      let delivered = false
      const stalled: AsyncIterableIterator<Uint8Array> = {
        next: () => {
          if (delivered) return new Promise<IteratorResult<Uint8Array>>(() => undefined)
          delivered = true
          queueMicrotask(() => controller.abort())
          return Promise.resolve({ done: false, value: Buffer.from("partial") })
        },
        [Symbol.asyncIterator]: () => stalled
      }
      const error = yield* failure(() => SandboxFs.writeFile(view, "upload.txt", stalled, controller.signal))
      assert.strictEqual((error as Error).message, "the upload was abandoned")
      assert.deepStrictEqual(yield* hostFiles(dirs.home), [])
      const already = yield* failure(() =>
        SandboxFs.writeFile(view, "again.txt", [Buffer.from("x")], controller.signal)
      )
      assert.strictEqual((already as Error).message, "the upload was abandoned")
      assert.deepStrictEqual(yield* hostFiles(dirs.home), [])
    })
  )
  it.effect(
    "measuring a tree thousands of directories deep holds few descriptors, and calls at once share one walk",
    () =>
      Effect.gen(function* () {
        const { dirs, view } = yield* layout
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => NodeChildProcess.execFileSync("rm", ["-rf", NodePath.join(dirs.home, "d")]))
        )
        NodeChildProcess.execFileSync("python3", [
          "-c",
          "import os, sys\nos.chdir(sys.argv[1])\nfor i in range(3000):\n    os.mkdir('d'); os.chdir('d')\nopen('f', 'w').write('x' * 5000)",
          dirs.home
        ])
        const openDescriptors = Effect.promise(() => NodeFs.readdir("/proc/self/fd").then((names) => names.length))
        const before = yield* openDescriptors
        let most = before
        let measuring = true
        const sampled = yield* Effect.fork(
          Effect.gen(function* () {
            while (measuring) {
              most = Math.max(most, yield* openDescriptors)
              yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
            }
          })
        )
        const measured = yield* Effect.promise(() =>
          Promise.all(Array.from({ length: 10 }, () => SandboxFs.usage(view)))
        )
        measuring = false
        yield* Effect.fromFiber(sampled)
        // All ten got the same walk's answer; what lies deeper than 256 levels is not counted.
        assert.strictEqual(new Set(measured).size, 1)
        assert.isAbove(measured[0]!, 256 * 4096 - 1)
        assert.isBelow(most - before, 300, `descriptors held while measuring: ${most - before}`)
      }).pipe(Effect.scoped)
  )
})
