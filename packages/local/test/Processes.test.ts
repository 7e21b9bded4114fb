import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as Processes from "../src/internal/processes.js"

const isLinux = process.platform === "linux"

/**
 * A process holding `extra` descriptors of /dev/null and one listening socket opened after them;
 * prints the socket's port once it listens.
 */
const crowdedListener = (extra: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly pid: number; readonly port: number }>((resume) => {
      const child = NodeChildProcess.spawn(
        process.execPath,
        [
          "-e",
          [
            `const fs = require("fs"), net = require("net")`,
            `for (let i = 0; i < ${extra}; i++) fs.openSync("/dev/null", "r")`,
            `const server = net.createServer().listen(0, "127.0.0.1", () => console.log(server.address().port))`
          ].join("\n")
        ],
        { stdio: ["ignore", "pipe", "inherit"] }
      )
      child.stdout.once("data", (chunk: Buffer) =>
        resume(Effect.succeed({ pid: child.pid!, port: Number(chunk.toString().trim()) }))
      )
    }),
    ({ pid }) => Effect.sync(() => process.kill(pid, "SIGKILL"))
  )

describe.runIf(isLinux)("the sockets a sandbox's processes hold", () => {
  it.scoped("a listener behind 3,000 other descriptors is found, read a few links at a time", () =>
    Effect.gen(function* () {
      const { pid, port } = yield* crowdedListener(3_000)
      const held = yield* Effect.promise(() => Processes.heldSocketInodes([pid]))
      assert.isAtLeast(held.size, 1)
      assert.deepStrictEqual(yield* Effect.promise(() => Processes.listeningPorts([pid], held)), [port])
      const inodes = yield* Effect.promise(() => Processes.listeningInodes(port, pid))
      assert.strictEqual(Processes.heldListener(held, inodes), "127.0.0.1")
      assert.strictEqual(Processes.heldListener(new Set(), inodes), undefined)
    })
  )

  it.scoped("a process that is gone holds nothing, and the scan goes on to the next", () =>
    Effect.gen(function* () {
      const { pid, port } = yield* crowdedListener(10)
      const held = yield* Effect.promise(() => Processes.heldSocketInodes([2 ** 22 + 1, pid]))
      assert.deepStrictEqual(yield* Effect.promise(() => Processes.listeningPorts([pid], held)), [port])
    })
  )
})
