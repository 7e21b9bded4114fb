/**
 * Removing a tree that a sandbox made while a process of the sandbox still changes it: links are
 * removed, never entered, whatever is swapped between two steps; trees deeper than a path can name
 * are removed too. Real files and a real racing process (`renameat2(RENAME_EXCHANGE)` in a loop,
 * as an attack probe did against a volume being deleted), real time, each wait bounded.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { removeTree } from "../src/internal/treeRemoval.js"
import { tempDir } from "./utils.js"

/** Swaps each directory `d<i>` with the link `s<i>` (to `victim`) as fast as it can, for `seconds`. */
const racer = `
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
tree, victim, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
os.chdir(tree)
pairs = []
for i in range(16):
    os.makedirs(f"d{i}")
    for j in range(2):
        open(f"d{i}/f{j}", "w").write("x")
    os.symlink(victim, f"s{i}")
    pairs.append((f"d{i}".encode(), f"s{i}".encode()))
for i in range(2000):
    os.makedirs(f"z{i}/y")
print("ready", flush=True)
end = time.time() + seconds
while time.time() < end:
    for a, b in pairs:
        libc.syscall(316, -100, a, -100, b, 2)
`

const victimFiles = 50

describe("removing a tree a sandbox may still be changing", () => {
  it.live(
    "a directory swapped for a link to another directory, again and again, never has that directory emptied",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const victim = NodePath.join(dir, "victim")
        yield* Effect.promise(async () => {
          await NodeFs.mkdir(victim)
          for (let i = 0; i < victimFiles; i++) await NodeFs.writeFile(NodePath.join(victim, `kept-${i}`), "x")
        })
        for (let round = 0; round < 6; round++) {
          const tree = NodePath.join(dir, `tree-${round}`)
          yield* Effect.promise(() => NodeFs.mkdir(tree))
          const child = NodeChildProcess.spawn("python3", ["-c", racer, tree, victim, "3"], {
            stdio: ["ignore", "pipe", "inherit"]
          })
          yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
          yield* Effect.async<void>((resume) => {
            child.stdout!.on("data", () => resume(Effect.void))
            child.once("exit", () => resume(Effect.void))
          }).pipe(Effect.timeout("30 seconds"))
          yield* Effect.promise(() => removeTree(tree))
          child.kill("SIGKILL")
          const left = yield* Effect.promise(() => NodeFs.readdir(victim))
          assert.strictEqual(left.length, victimFiles, `round ${round}: the victim lost files`)
          assert.isFalse(
            yield* Effect.promise(() =>
              NodeFs.access(tree).then(
                () => true,
                () => false
              )
            ),
            `round ${round}: the tree is gone`
          )
        }
      }).pipe(Effect.scoped),
    120_000
  )

  it.live(
    "a tree deeper than any path can name is removed, with few descriptors open",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const tree = NodePath.join(dir, "deep")
        const depth = 3000
        yield* Effect.promise(
          () =>
            new Promise<void>((resolve, reject) =>
              NodeChildProcess.execFile(
                "python3",
                [
                  "-c",
                  `import os\nos.chdir(${JSON.stringify(dir)})\nfor i in range(${depth}):\n    os.mkdir("deep" if i == 0 else "d")\n    os.chdir("deep" if i == 0 else "d")\n    open("f", "w").write("x")`
                ],
                (error) => (error === null ? resolve() : reject(error))
              )
            )
        )
        const descriptorsBefore = (yield* Effect.promise(() => NodeFs.readdir("/proc/self/fd"))).length
        let most = 0
        const watching = setInterval(() => {
          void NodeFs.readdir("/proc/self/fd").then((fds) => (most = Math.max(most, fds.length)))
        }, 5)
        yield* Effect.promise(() => removeTree(tree)).pipe(Effect.ensuring(Effect.sync(() => clearInterval(watching))))
        assert.isFalse(
          yield* Effect.promise(() =>
            NodeFs.access(tree).then(
              () => true,
              () => false
            )
          )
        )
        assert.isBelow(most - descriptorsBefore, 20, "descriptors held while removing")
      }).pipe(Effect.scoped),
    120_000
  )
})
