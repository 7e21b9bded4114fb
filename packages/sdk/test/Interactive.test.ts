/**
 * Terminals and the code interpreter over scripted sockets: a terminal's `exit` always completes
 * (the exit code from the control message or the close frame, else a typed error whatever way the
 * socket ended), and an interpreter run that the daemon timed out is a `CommandTimeoutError` whether
 * the daemon says so with its close code or only with `interrupted` (the official SDK reports the
 * latter as a success). Sockets play on real timers; waits of the SDK on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as CodeInterpreter from "../src/CodeInterpreter.js"
import * as Pty from "../src/Pty.js"
import * as WebSocketConnector from "../src/WebSocketConnector.js"
import { makeToolbox, target } from "./support/FakeToolbox.js"

/** One thing the scripted daemon does: send a frame, or close (a code, with a reason) or drop the connection. */
type Step =
  | { readonly send: string | Uint8Array }
  | { readonly close: number; readonly reason?: string }
  | { readonly drop: true }

/** A socket in memory that plays a script from a real timer, and records what the client sent. */
class ScriptedSocket extends EventTarget {
  readyState = 1
  readonly sent: Array<string | Uint8Array> = []
  constructor(
    script: ReadonlyArray<Step>,
    readonly url: string,
    readonly protocols: ReadonlyArray<string>
  ) {
    super()
    setTimeout(() => {
      for (const step of script) {
        if ("send" in step) this.dispatchEvent(Object.assign(new Event("message"), { data: step.send }))
        else if ("close" in step) this.closeWith(step.close, step.reason ?? "")
        else this.closeWith(1006, "")
      }
    }, 1)
  }
  close(code = 1000, reason = "") {
    this.closeWith(code, reason)
  }
  send(data: string | Uint8Array) {
    this.sent.push(data)
  }
  private closeWith(code: number, reason: string) {
    if (this.readyState === 3) return
    this.readyState = 3
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason }))
  }
}

const connected = { send: JSON.stringify({ type: "control", status: "connected" }) }
const bytes = (text: string) => ({ send: new TextEncoder().encode(text) })

/** Runs `use` with a connector whose sockets play `script`; the sockets opened are returned too. */
const scripted = <A, E>(
  script: ReadonlyArray<Step>,
  use: (sockets: Array<ScriptedSocket>) => Effect.Effect<A, E, WebSocketConnector.WebSocketConnector>
) =>
  Effect.gen(function* () {
    const sockets: Array<ScriptedSocket> = []
    const connector = Layer.succeed(WebSocketConnector.WebSocketConnector, (url, options) => {
      const protocols = options.protocols === undefined ? [] : [options.protocols].flat()
      const socket = new ScriptedSocket(script, url, protocols)
      sockets.push(socket)
      return socket as unknown as globalThis.WebSocket
    })
    const fiber = yield* Effect.fork(Effect.either(Effect.provide(use(sockets), connector)))
    // The socket plays on real timers, the SDK's deadlines on the TestClock.
    for (let i = 0; i < 200 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1)))
      yield* TestClock.adjust("1 second")
    }
    const result = yield* Fiber.poll(fiber)
    if (Option.isNone(result)) return yield* Effect.die(new Error("the call did not end within 200 s of the TestClock"))
    return { result: yield* Fiber.join(fiber), sockets }
  })

const ptyOf = Effect.map(
  makeToolbox(() => ({ status: 200, json: {} })),
  (fake) => Pty.make(target, fake.toolbox)
)

/** Creates a terminal that detaches on scope close, collects its output, and awaits its exit. */
const session = (options: Pty.CreatePtyOptions = {}) =>
  Effect.gen(function* () {
    const pty = yield* (yield* ptyOf).createPty({ id: "t1", onScopeClose: "detach", ...options })
    const output = yield* Effect.fork(Stream.runCollect(Stream.decodeText(pty.output)))
    const exit = yield* Effect.either(pty.exit)
    const text = Chunk.join(yield* Fiber.join(output), "")
    return { exit, text }
  }).pipe(Effect.scoped)

describe("a terminal's exit always completes", () => {
  it.effect("with the exit code of the `exited` control message", () =>
    Effect.gen(function* () {
      const { result, sockets } = yield* scripted(
        [
          connected,
          bytes("hello\r\n"),
          { send: JSON.stringify({ type: "control", status: "exited", exitCode: 3, exitReason: "non-zero exit" }) },
          { close: 1011, reason: JSON.stringify({ exitCode: 3, exitReason: "non-zero exit" }) }
        ],
        () => session({ envs: { A: "b" }, cols: 100, rows: 30 })
      )
      const { exit, text } = Either.getOrThrow(result)
      assert.deepStrictEqual(exit, Either.right({ exitCode: 3, exitReason: "non-zero exit" }))
      assert.strictEqual(text, "hello\r\n")
      const url = new URL(sockets[0]!.url)
      assert.strictEqual(url.pathname.endsWith("/process/pty/create-connect"), true)
      assert.deepStrictEqual(Object.fromEntries(url.searchParams), { id: "t1", cols: "100", rows: "30" })
      assert.deepStrictEqual(sockets[0]!.protocols, [
        "X-Daytona-Pty-Exit-Control",
        `X-Daytona-Pty-Envs~${Buffer.from(JSON.stringify({ A: "b" })).toString("base64url")}`
      ])
    })
  )

  it.effect("with the exit code of the close frame when no control message came", () =>
    Effect.gen(function* () {
      const { result } = yield* scripted([connected, { close: 1000, reason: JSON.stringify({ exitCode: 0 }) }], () =>
        session()
      )
      assert.deepStrictEqual(Either.getOrThrow(result).exit, Either.right({ exitCode: 0, exitReason: undefined }))
    })
  )

  it.effect("with a TransportError when the connection drops, or closes without an exit code", () =>
    Effect.gen(function* () {
      for (const end of [{ drop: true } as const, { close: 1000 }, { close: 1001 }, { close: 1011, reason: "x" }]) {
        const { result } = yield* scripted([connected, bytes("partial"), end], () => session())
        const { exit, text } = Either.getOrThrow(result)
        assert.strictEqual(text, "partial", JSON.stringify(end))
        assert.isTrue(Either.isLeft(exit), JSON.stringify(end))
        if (Either.isLeft(exit)) {
          assert.strictEqual(exit.left._tag, "TransportError", JSON.stringify(end))
          assert.match(exit.left.message, /exit code is unknown|connection/)
        }
      }
    })
  )

  it.effect("a daemon that never says `connected` fails the open with RequestTimeoutError; a refusal is typed", () =>
    Effect.gen(function* () {
      const silent = yield* scripted([bytes("noise")], () => session())
      assert.isTrue(Either.isLeft(silent.result))
      if (Either.isLeft(silent.result)) assert.strictEqual(silent.result.left._tag, "RequestTimeoutError")

      const refused = yield* scripted(
        [
          { send: JSON.stringify({ type: "control", status: "error", error: "PTY session t1 not found" }) },
          { close: 1008, reason: JSON.stringify({ error: "PTY session t1 not found" }) }
        ],
        () => session()
      )
      assert.isTrue(Either.isLeft(refused.result))
      if (Either.isLeft(refused.result)) assert.strictEqual(refused.result.left._tag, "NotFoundError")
    })
  )
})

const interpreterOf = Effect.map(
  makeToolbox(() => ({ status: 200, json: {} })),
  (fake) => CodeInterpreter.make(target, fake.toolbox)
)

const run = (code: string, options?: CodeInterpreter.RunCodeOptions) =>
  Effect.flatMap(interpreterOf, (interpreter) => interpreter.runCode(code, options))

const message = (body: Record<string, string>) => ({ send: JSON.stringify(body) })

describe("an interpreter run", () => {
  it.effect("collects stdout, stderr and the error, and sends the request with its context, env and timeout", () =>
    Effect.gen(function* () {
      const { result, sockets } = yield* scripted(
        [
          message({ type: "stdout", text: "a\n" }),
          message({ type: "stderr", text: "w\n" }),
          message({ type: "error", name: "ValueError", value: "b", traceback: "tb" }),
          message({ type: "control", text: "completed" }),
          { close: 1000 }
        ],
        () => run("print('a')", { context: "ctx-1", env: { K: "v" }, timeout: "1500 millis" })
      )
      assert.deepStrictEqual(
        result,
        Either.right({ stdout: "a\n", stderr: "w\n", error: { name: "ValueError", value: "b", traceback: "tb" } })
      )
      assert.deepStrictEqual(JSON.parse(String(sockets[0]!.sent[0])), {
        code: "print('a')",
        contextId: "ctx-1",
        envs: { K: "v" },
        timeout: 2
      })
    })
  )

  it.effect(
    "that timed out is a CommandTimeoutError: by the close code, or by `interrupted` before a normal close",
    () =>
      Effect.gen(function* () {
        const byCode = yield* scripted(
          [message({ type: "stdout", text: "partial" }), { close: 4008, reason: "execution timed out" }],
          () => run("while True: pass", { timeout: "1 second" })
        )
        assert.isTrue(Either.isLeft(byCode.result) && byCode.result.left._tag === "CommandTimeoutError")
        const byControl = yield* scripted([message({ type: "control", text: "interrupted" }), { close: 1000 }], () =>
          run("while True: pass", { timeout: "1 second" })
        )
        assert.isTrue(Either.isLeft(byControl.result) && byControl.result.left._tag === "CommandTimeoutError")
      })
  )

  it.effect("refused or cut off is typed: 1008 not found, 1008 otherwise, a dropped connection", () =>
    Effect.gen(function* () {
      const cases = [
        [{ close: 1008, reason: "context not found: x" }, "NotFoundError"],
        [{ close: 1008, reason: "code is required" }, "ValidationError"],
        [{ drop: true }, "TransportError"],
        [{ close: 1011, reason: "boom" }, "TransportError"]
      ] as const
      for (const [end, tag] of cases) {
        const { result } = yield* scripted([end], () => run("1"))
        assert.isTrue(Either.isLeft(result), tag)
        if (Either.isLeft(result)) assert.strictEqual(result.left._tag, tag)
      }
    })
  )

  it.effect("bad input fails before any connection", () =>
    Effect.gen(function* () {
      for (const [code, options] of [
        ["  ", {}],
        ["1", { env: { "A-B": "x" } }],
        ["1", { timeout: "0 millis" }]
      ] as const) {
        const { result, sockets } = yield* scripted([], () => run(code, options))
        assert.isTrue(Either.isLeft(result) && result.left._tag === "ValidationError")
        assert.strictEqual(sockets.length, 0)
      }
    })
  )
})
