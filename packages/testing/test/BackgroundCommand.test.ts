/**
 * `process.runInBackground` over the local server's real engine (isolation none): a command in a
 * session of its own, its stdin, its output followed and read, its exit code awaited, and its end
 * when killed or when its scope closes. Real processes, so a live clock; every wait is bounded.
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs/promises"
import { DaytonaTest } from "../src/index.js"

/** Whether a process of the machine runs `sleep <seconds>` (the real engine with no isolation runs them here). */
const sleeping = (seconds: number) =>
  Effect.promise(async () => {
    for (const name of await NodeFs.readdir("/proc")) {
      if (!/^\d+$/.test(name)) continue
      const cmdline = await NodeFs.readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")
      if (cmdline === `sleep\u0000${seconds}\u0000`) return true
    }
    return false
  })

/** Waits (real time, at most 10 s) until no process sleeps `seconds`. */
const untilNotSleeping = (seconds: number) =>
  Effect.gen(function* () {
    for (let i = 0; i < 200 && (yield* sleeping(seconds)); i++) yield* Effect.sleep("50 millis")
    return !(yield* sleeping(seconds))
  })

const realEngine = DaytonaTest.layer({ engine: "real" })

describe("process.runInBackground", () => {
  it.live(
    "answers at once; stdin, followed and read output, and the exit code of the command",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Effect.flatMap(Daytona.Daytona, (daytona) => daytona.create())
        const command = yield* sandbox.process.runInBackground(
          `sh -c 'read line; echo "got $line"; echo oops >&2; exit 3'`
        )
        const followed = yield* Effect.fork(Stream.runCollect(command.follow))
        yield* command.sendInput("hello\n")
        assert.strictEqual(yield* command.exitCode({ timeout: "20 seconds" }), 3)
        const events = Chunk.toReadonlyArray(yield* Fiber.join(followed))
        const text = (tag: string) =>
          events
            .filter((event) => event._tag === tag)
            .map((event) => ("text" in event ? event.text : ""))
            .join("")
        assert.deepStrictEqual(
          [text("Stdout"), text("Stderr"), events.at(-1)],
          ["got hello\n", "oops\n", { _tag: "Exit", exitCode: 3 }]
        )
        const logs = yield* command.logs
        assert.deepStrictEqual([logs.stdout, logs.stderr], ["got hello\n", "oops\n"])
      }).pipe(Effect.scoped, Effect.provide(realEngine)),
    60_000
  )

  it.live(
    "kill ends it; a scope that closes ends what still runs; a deadline on the exit code is typed",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Effect.flatMap(Daytona.Daytona, (daytona) => daytona.create())
        const marker = 60_000 + Math.floor(Math.random() * 30_000)
        const sessions = Effect.map(sandbox.process.listSessions, (all) =>
          all.map((session) => session.sessionId).filter((id) => id.startsWith("background-"))
        )
        const killed = yield* Effect.scoped(
          Effect.gen(function* () {
            const command = yield* sandbox.process.runInBackground(`sleep ${marker}`)
            const late = yield* Effect.flip(command.exitCode({ timeout: "300 millis" }))
            assert.strictEqual(late._tag, "WaitTimeoutError")
            yield* command.kill
            assert.isTrue(yield* untilNotSleeping(marker), "kill ended the command")
            return command
          })
        )
        const gone = yield* Effect.flip(sandbox.process.getSessionCommand(killed.sessionId, killed.commandId))
        assert.strictEqual(gone._tag, "NotFoundError")

        const left = yield* Effect.scoped(
          Effect.gen(function* () {
            const command = yield* sandbox.process.runInBackground(`sleep ${marker + 1}`)
            assert.deepStrictEqual(yield* sessions, [command.sessionId])
            for (let i = 0; i < 200 && !(yield* sleeping(marker + 1)); i++) yield* Effect.sleep("50 millis")
            assert.isTrue(yield* sleeping(marker + 1))
            return command.sessionId
          })
        )
        assert.deepStrictEqual(yield* sessions, [])
        assert.isTrue(yield* untilNotSleeping(marker + 1), "the scope's end ended the command")
        assert.notStrictEqual(left, killed.sessionId)
      }).pipe(Effect.scoped, Effect.provide(realEngine)),
    60_000
  )
})
