import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { sweep } from "../src/internal/cgroups.js"
import { tempDir } from "./utils.js"

/** A pid no process has (Linux's largest), for a server that is gone. */
const gonePid = 4194303

/** A group of a server as a plain directory: its files as cgroupfs would show them. */
const group = (parent: string, server: number, files: Record<string, string>) =>
  Effect.promise(async () => {
    const dir = NodePath.join(parent, `daytona-local-${server}-abc123`, "sandbox")
    await NodeFs.mkdir(dir, { recursive: true })
    for (const [name, content] of Object.entries(files)) await NodeFs.writeFile(NodePath.join(dir, name), content)
    return dir
  })

/** A file's text as cgroupfs would read it back (a write replaces the value; here the file keeps its newline). */
const content = (dir: string, name: string) =>
  Effect.promise(() => NodeFs.readFile(NodePath.join(dir, name), "utf8").then((text) => text.trim()))

describe("sweeping the cgroups of servers that are gone", () => {
  it.scoped(
    "thaws a group a dead server left frozen (v1 and v2), creates no file, and leaves a live server's alone",
    () =>
      Effect.gen(function* () {
        const parent = yield* tempDir
        const v1 = yield* group(parent, gonePid, { "cgroup.procs": "", "freezer.state": "FROZEN\n" })
        const v2 = yield* group(NodePath.join(parent, "v2"), gonePid, { "cgroup.procs": "", "cgroup.freeze": "1\n" })
        const live = yield* group(NodePath.join(parent, "live"), process.pid, {
          "cgroup.procs": "",
          "freezer.state": "FROZEN\n"
        })
        yield* Effect.promise(() => sweep(parent))
        yield* Effect.promise(() => sweep(NodePath.join(parent, "v2")))
        yield* Effect.promise(() => sweep(NodePath.join(parent, "live")))
        assert.strictEqual(yield* content(v1, "freezer.state"), "THAWED")
        assert.strictEqual(yield* content(v2, "cgroup.freeze"), "0")
        assert.strictEqual(yield* content(live, "freezer.state"), "FROZEN")
        assert.deepStrictEqual((yield* Effect.promise(() => NodeFs.readdir(v1))).sort(), [
          "cgroup.procs",
          "freezer.state"
        ])
        assert.deepStrictEqual((yield* Effect.promise(() => NodeFs.readdir(v2))).sort(), [
          "cgroup.freeze",
          "cgroup.procs"
        ])
      })
  )
})
