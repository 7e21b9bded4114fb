import { assert, describe, it } from "@effect/vitest"
import { CommandTimeoutError, ConflictError, NotFoundError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import type { SessionLogEvent } from "@effect-daytona/sdk/Process"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import WebSocket from "ws"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const connector = WebSocketConnector.layer(WebSocket)

/** The complete lines of each stream in the order they were completed, as `out:…` / `err:…`. */
const lines = (events: ReadonlyArray<SessionLogEvent>) => {
  const result: Array<string> = []
  const partial = { out: "", err: "" }
  for (const event of events) {
    if (event._tag === "Exit") continue
    const tag = event._tag === "Stdout" ? "out" : "err"
    let text = partial[tag] + event.text
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n")) {
      result.push(`${tag}:${text.slice(0, i)}`)
      text = text.slice(i + 1)
    }
    partial[tag] = text
  }
  return result
}

describe("toolbox sessions through the SDK", () => {
  it.live("a session keeps its shell state between commands and splits stdout from stderr", () =>
    Effect.gen(function* () {
      const { sandbox, home } = yield* sdkSandbox()
      const process = sandbox.process
      yield* process.createSession("s1")
      const cd = yield* process.executeSessionCommand("s1", { command: "mkdir -p work/inner && cd work/inner" })
      assert.strictEqual(cd.exitCode, 0)
      const pwd = yield* process.executeSessionCommand("s1", { command: "pwd" })
      assert.strictEqual(pwd.stdout, `${home}/work/inner\n`)
      assert.strictEqual(pwd.output, `\x01\x01\x01${home}/work/inner\n`)
      yield* process.executeSessionCommand("s1", { command: "export GREETING=hello" })
      const both = yield* process.executeSessionCommand("s1", {
        command: "echo \"$GREETING\"; echo oops >&2; printf 'no newline'; sh -c 'exit 3'"
      })
      assert.deepStrictEqual([both.stdout, both.stderr, both.exitCode], ["hello\nno newline\n", "oops\n", 3])

      const session = yield* process.getSession("s1")
      assert.strictEqual(session.commands.length, 4)
      assert.deepStrictEqual(session.commands[3], {
        id: both.cmdId,
        command: "echo \"$GREETING\"; echo oops >&2; printf 'no newline'; sh -c 'exit 3'",
        exitCode: 3
      })
      const logs = yield* process.getSessionCommandLogs("s1", both.cmdId)
      assert.deepStrictEqual([logs.stdout, logs.stderr], ["hello\nno newline\n", "oops\n"])
      assert.include(logs.output, "\x02\x02\x02oops\n")

      const asyncRun = yield* process.executeSessionCommand("s1", {
        command: 'read line; echo "got:$line"',
        runAsync: true
      })
      assert.isUndefined(asyncRun.exitCode)
      yield* process.sendSessionCommandInput("s1", asyncRun.cmdId, "ping\n")
      let command = yield* process.getSessionCommand("s1", asyncRun.cmdId)
      for (let i = 0; i < 100 && command.exitCode === undefined; i++) {
        yield* Effect.sleep("20 millis")
        command = yield* process.getSessionCommand("s1", asyncRun.cmdId)
      }
      assert.strictEqual(command.exitCode, 0)
      assert.strictEqual((yield* process.getSessionCommandLogs("s1", asyncRun.cmdId)).stdout, "got:ping\n")

      yield* process.createSession("s2")
      assert.deepStrictEqual((yield* process.listSessions).map((s) => s.sessionId).sort(), ["s1", "s2"])
      assert.strictEqual((yield* process.executeSessionCommand("s2", { command: "pwd" })).stdout, `${home}\n`)
      yield* process.deleteSession("s2")
      assert.deepStrictEqual(
        (yield* process.listSessions).map((s) => s.sessionId),
        ["s1"]
      )
      assert.deepStrictEqual(yield* process.getEntrypointSession, { sessionId: "entrypoint", commands: [] })
    }).pipe(Effect.scoped)
  )

  it.live(
    "a followed log of a command printing to both streams for seconds arrives in order, split, ending with its exit code",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        const process = sandbox.process
        yield* process.createSession("follow")
        const started = yield* process.executeSessionCommand("follow", {
          command:
            'for i in 1 2 3 4 5 6 7 8; do echo "out $i"; sleep 0.1; echo "err $i" >&2; sleep 0.2; done; sh -c \'exit 7\'',
          runAsync: true
        })
        const events = Chunk.toReadonlyArray(
          yield* process
            .followSessionCommandLogs("follow", started.cmdId)
            .pipe(Stream.runCollect, Effect.provide(connector), Effect.timeout("20 seconds"))
        )
        const expected = [1, 2, 3, 4, 5, 6, 7, 8].flatMap((i) => [`out:out ${i}`, `err:err ${i}`])
        assert.deepStrictEqual(lines(events), expected)
        assert.deepStrictEqual(events.at(-1), { _tag: "Exit", exitCode: 7 })

        const after = Chunk.toReadonlyArray(
          yield* process
            .followSessionCommandLogs("follow", started.cmdId)
            .pipe(Stream.runCollect, Effect.provide(connector), Effect.timeout("10 seconds"))
        )
        assert.deepStrictEqual(lines(after), expected)

        const missing = yield* failureOf(
          process
            .followSessionCommandLogs("follow", "no-such-command")
            .pipe(Stream.runDrain, Effect.provide(connector), Effect.timeout("10 seconds"))
        )
        assert.instanceOf(missing, NotFoundError)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live("session not found, duplicate session and command timeout reach the SDK as typed errors", () =>
    Effect.gen(function* () {
      const { sandbox } = yield* sdkSandbox()
      const process = sandbox.process
      const missing = yield* failureOf(process.executeSessionCommand("nope", { command: "true" }))
      assert.instanceOf(missing, NotFoundError)
      assert.include(missing.message, "session not found")
      assert.instanceOf(yield* failureOf(process.getSession("nope")), NotFoundError)
      yield* process.createSession("dup")
      assert.instanceOf(yield* failureOf(process.createSession("dup")), ConflictError)
      assert.instanceOf(yield* failureOf(process.createSession("entrypoint")), ValidationError)
      const noCommand = yield* failureOf(process.getSessionCommand("dup", "nope"))
      assert.instanceOf(noCommand, NotFoundError)
      assert.include(noCommand.message, "command not found")

      const timeout = yield* failureOf(process.executeCommand("sleep 5", { timeout: "1 second" }))
      assert.instanceOf(timeout, CommandTimeoutError)
      assert.include(timeout.message, "timeout")
    }).pipe(Effect.scoped)
  )
})
