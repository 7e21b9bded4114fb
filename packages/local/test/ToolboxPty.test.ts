/**
 * Terminals through our SDK against the local server over real HTTP and WebSocket: a real
 * pseudo-terminal inside the sandbox (with and without bubblewrap), input, output, resize, exit
 * codes, reconnection with the kept output, and `exit` completing whatever happens to the connection.
 * Every wait has a real-time deadline, so a broken terminal fails the test instead of hanging it.
 */
import { assert, describe, it } from "@effect/vitest"
import type * as Pty from "@effect-daytona/sdk/Pty"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import WebSocket from "ws"
import { bwrapRequired, hasBwrap } from "./attackHarness.js"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const connector = WebSocketConnector.layer(WebSocket)

/** Collects a terminal's output as text, and waits (in real time, at most 10 s) for a pattern in it. */
const screen = (pty: Pty.PtyHandle) =>
  Effect.gen(function* () {
    let text = ""
    yield* pty.output.pipe(
      Stream.decodeText(),
      Stream.runForEach((chunk) => Effect.sync(() => (text += chunk))),
      Effect.forkScoped
    )
    const waitFor = (pattern: RegExp) =>
      Effect.gen(function* () {
        const deadline = Date.now() + 10_000
        while (!pattern.test(text)) {
          if (Date.now() > deadline) return yield* Effect.die(new Error(`no ${pattern} in ${JSON.stringify(text)}`))
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
        }
      })
    return { waitFor, text: () => text }
  })

const isolations = hasBwrap || bwrapRequired ? (["none", "bwrap"] as const) : (["none"] as const)

describe.each(isolations)("terminals through the SDK (isolation %s)", (isolation) => {
  it.live(
    "python3 prints 42, resize changes `stty size`, `exit 3` ends with 3",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox({ isolation })
        const pty = yield* sandbox.process.createPty({ id: "term", cols: 80, rows: 24 })
        const view = yield* screen(pty)
        yield* pty.write("stty size\n")
        yield* view.waitFor(/24 80\r\n/)
        yield* pty.write("python3\n")
        yield* view.waitFor(/>>> $/)
        yield* pty.write("print(6*7)\n")
        yield* view.waitFor(/print\(6\*7\)\r\n42\r\n>>> $/)
        yield* pty.write("exit()\n")
        const resized = yield* pty.resize(120, 40)
        assert.deepStrictEqual([resized.cols, resized.rows, resized.active], [120, 40, true])
        yield* pty.write("stty size; echo $TERM\n")
        yield* view.waitFor(/40 120\r\nxterm-256color\r\n/)
        const listed = yield* sandbox.process.listPtySessions
        assert.deepStrictEqual(
          listed.map((session) => [session.id, session.cols, session.rows]),
          [["term", 120, 40]]
        )
        yield* pty.write("exit 3\n")
        const exit = yield* pty.exit
        assert.deepStrictEqual(exit, { exitCode: 3, exitReason: "non-zero exit" })
        assert.deepStrictEqual(yield* sandbox.process.listPtySessions, [])
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )

  it.live(
    "a disconnected terminal's `exit` fails with TransportError; connecting again replays the kept output; kill ends it with 137",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox({ isolation })
        const first = yield* sandbox.process.createPty({ id: "keep", envs: { GREETING: "hello" } })
        const view = yield* screen(first)
        yield* first.write("echo $GREETING-$((40+2))\n")
        yield* view.waitFor(/hello-42\r\n/)
        yield* first.disconnect
        const lost = yield* failureOf(first.exit)
        assert.strictEqual(lost._tag, "TransportError")
        assert.match(lost.message, /disconnected before its shell ended/)
        assert.strictEqual((yield* failureOf(first.write("x"))).reason, "Connection")

        const info = yield* sandbox.process.getPtySessionInfo("keep")
        assert.deepStrictEqual([info.id, info.active, info.envs?.["GREETING"]], ["keep", true, "hello"])
        const again = yield* sandbox.process.connectPty("keep")
        const replay = yield* screen(again)
        yield* replay.waitFor(/hello-42\r\n/)
        yield* again.write("sleep 300\n")
        yield* again.kill
        assert.deepStrictEqual(yield* again.exit, { exitCode: 137, exitReason: "SIGKILL" })
        const gone = yield* failureOf(sandbox.process.getPtySessionInfo("keep"))
        assert.strictEqual(gone._tag, "NotFoundError")
        const absent = yield* failureOf(sandbox.process.connectPty("keep"))
        assert.strictEqual(absent._tag, "NotFoundError")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )
})

describe("terminals through the SDK: bad input and scopes", () => {
  it.live(
    "a taken id is a ConflictError, a bad size a ValidationError before any request, a missing cwd a ValidationError",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        yield* sandbox.process.createPty({ id: "one", onScopeClose: "detach" })
        const taken = yield* failureOf(sandbox.process.createPty({ id: "one" }))
        assert.strictEqual(taken._tag, "ConflictError")
        const tooWide = yield* failureOf(sandbox.process.createPty({ cols: 1001 }))
        assert.strictEqual(tooWide._tag, "ValidationError")
        assert.match(tooWide.message, /cols - must be less than 1000/)
        const badResize = yield* failureOf(sandbox.process.resizePtySession("one", 0, 10))
        assert.strictEqual(badResize._tag, "ValidationError")
        const nowhere = yield* failureOf(sandbox.process.createPty({ cwd: "no/such/dir" }))
        assert.strictEqual(nowhere._tag, "ValidationError")
        const badEnv = yield* failureOf(sandbox.process.createPty({ envs: { "A-B": "1" } }))
        assert.strictEqual(badEnv._tag, "ValidationError")
        const unknownKill = yield* failureOf(sandbox.process.killPtySession("nope"))
        assert.strictEqual(unknownKill._tag, "NotFoundError")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )

  it.live(
    "closing the scope kills a created terminal, or leaves it running when asked to detach",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        yield* Effect.scoped(sandbox.process.createPty({ id: "killed" }))
        yield* Effect.scoped(sandbox.process.createPty({ id: "kept", onScopeClose: "detach" }))
        const ids = (yield* sandbox.process.listPtySessions).map((session) => session.id)
        assert.deepStrictEqual(ids, ["kept"])
        yield* Effect.scoped(sandbox.process.connectPty("kept", { onScopeClose: "kill" }))
        assert.deepStrictEqual(yield* sandbox.process.listPtySessions, [])
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )
})
