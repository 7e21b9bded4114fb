/**
 * The code interpreter through our SDK against the local server over real HTTP and WebSocket: state
 * kept per context, structured exceptions, output streamed as printed, timeouts that interrupt the
 * code and fail the call without losing the context, contexts listed, scoped and deleted.
 */
import { assert, describe, it } from "@effect/vitest"
import type { RunEvent } from "@effect-daytona/sdk/CodeInterpreter"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import WebSocket from "ws"
import { bwrapRequired, hasBwrap } from "./attackHarness.js"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const connector = WebSocketConnector.layer(WebSocket)

const isolations = hasBwrap || bwrapRequired ? (["none", "bwrap"] as const) : (["none"] as const)

describe.each(isolations)("the code interpreter through the SDK (isolation %s)", (isolation) => {
  it.live(
    "a context keeps its state, another one does not; a 1 s timeout fails with CommandTimeoutError and the context still answers",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox({ isolation })
        const interpreter = sandbox.codeInterpreter
        const context = yield* interpreter.createContext()
        assert.deepStrictEqual([context.language, context.active], ["python", true])
        const set = yield* interpreter.runCode("x = 41", { context })
        assert.deepStrictEqual(set, { stdout: "", stderr: "", error: undefined })
        const read = yield* interpreter.runCode("print(x + 1)", { context })
        assert.strictEqual(read.stdout, "42\n")

        const other = yield* interpreter.createContext()
        const missing = yield* interpreter.runCode("print(x)", { context: other })
        assert.strictEqual(missing.error?.name, "NameError")
        assert.strictEqual(missing.error?.value, "name 'x' is not defined")
        assert.match(missing.error?.traceback ?? "", /line 1, in <module>\n\s+print\(x\)/)

        const started = Date.now()
        const timedOut = yield* failureOf(interpreter.runCode("while True: pass", { context, timeout: "1 second" }))
        const elapsed = Date.now() - started
        assert.strictEqual(timedOut._tag, "CommandTimeoutError")
        assert.isAtLeast(elapsed, 900)
        assert.isBelow(elapsed, 4000)
        const after = yield* interpreter.runCode("print(x + 1)", { context })
        assert.strictEqual(after.stdout, "42\n")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )
})

describe("the code interpreter through the SDK", () => {
  it.live(
    "output is streamed as it is printed; stderr, subprocesses and per-run variables are captured",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        const interpreter = sandbox.codeInterpreter
        const timed: Array<readonly [number, RunEvent]> = []
        const started = Date.now()
        yield* interpreter
          .runCodeStream("import time\nprint('first', flush=True)\ntime.sleep(1)\nprint('second')")
          .pipe(Stream.runForEach((event) => Effect.sync(() => timed.push([Date.now() - started, event]))))
        const done = Date.now() - started
        const first = timed.find(([, event]) => event._tag === "Stdout" && event.text.includes("first"))
        assert.isDefined(first)
        assert.isBelow(first![0], done - 700)
        const text = timed.map(([, event]) => (event._tag === "Stdout" ? event.text : "")).join("")
        assert.strictEqual(text, "first\nsecond\n")

        const mixed = yield* interpreter.runCode(
          "import os, sys\nprint(os.environ['ANSWER'])\nsys.stderr.write('warn\\n')\nos.system('echo from-a-subprocess')",
          { env: { ANSWER: "42" } }
        )
        assert.strictEqual(mixed.stdout, "42\nfrom-a-subprocess\n")
        assert.strictEqual(mixed.stderr, "warn\n")
        const unset = yield* interpreter.runCode("import os\nprint(os.environ.get('ANSWER'))")
        assert.strictEqual(unset.stdout, "None\n")

        const raised = yield* interpreter.runCode("def f():\n    return 1 / 0\n\nprint('before')\nf()")
        assert.strictEqual(raised.stdout, "before\n")
        assert.deepStrictEqual([raised.error?.name, raised.error?.value], ["ZeroDivisionError", "division by zero"])
        assert.match(raised.error?.traceback ?? "", /line 5, in <module>[\s\S]*line 2, in f\n\s+return 1 \/ 0/)
        const syntax = yield* interpreter.runCode("if True print(1)")
        assert.strictEqual(syntax.error?.name, "SyntaxError")
        const events = yield* Stream.runCollect(interpreter.runCodeStream("print('a')\nraise ValueError('b')"))
        assert.deepStrictEqual(
          Chunk.toReadonlyArray(events).map((event) => event._tag),
          ["Stdout", "Error"]
        )
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )

  it.live(
    "the default context, listing, scoped and deleted contexts, refused languages and bad input",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        const interpreter = sandbox.codeInterpreter
        yield* interpreter.runCode("y = 5")
        assert.strictEqual((yield* interpreter.runCode("print(y * 2)")).stdout, "10\n")
        assert.deepStrictEqual(yield* interpreter.listContexts, [])

        const scoped = yield* Effect.scoped(
          Effect.gen(function* () {
            const context = yield* interpreter.createContextScoped({ cwd: "/tmp" })
            assert.strictEqual(context.cwd, "/tmp")
            assert.strictEqual(
              (yield* interpreter.runCode("import os\nprint(os.getcwd())", { context })).stdout,
              "/tmp\n"
            )
            assert.deepStrictEqual(
              (yield* interpreter.listContexts).map((listed) => listed.id),
              [context.id]
            )
            return context
          })
        )
        assert.deepStrictEqual(yield* interpreter.listContexts, [])
        const deleted = yield* failureOf(interpreter.runCode("print(1)", { context: scoped }))
        assert.strictEqual(deleted._tag, "NotFoundError")
        assert.strictEqual((yield* failureOf(interpreter.deleteContext(scoped)))._tag, "NotFoundError")
        assert.strictEqual((yield* failureOf(interpreter.deleteContext("default")))._tag, "ValidationError")

        const javascript = yield* failureOf(interpreter.createContext({ language: "javascript" }))
        assert.strictEqual(javascript._tag, "ValidationError")
        assert.match(javascript.message, /unsupported language: javascript \(only 'python' is supported currently\)/)
        assert.strictEqual(
          (yield* failureOf(interpreter.createContext({ cwd: "no/such/dir" })))._tag,
          "ValidationError"
        )
        assert.strictEqual((yield* failureOf(interpreter.runCode("   ")))._tag, "ValidationError")
        assert.strictEqual(
          (yield* failureOf(interpreter.runCode("1", { env: { "A B": "x" } })))._tag,
          "ValidationError"
        )
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )

  it.live(
    "code that ignores the interrupt is killed after a grace period: the call fails with CommandTimeoutError and the context starts afresh",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        const interpreter = sandbox.codeInterpreter
        const context = yield* interpreter.createContext()
        yield* interpreter.runCode("z = 1", { context })
        const stubborn = yield* failureOf(
          interpreter.runCode("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass", {
            context,
            timeout: "1 second"
          })
        )
        assert.strictEqual(stubborn._tag, "CommandTimeoutError")
        assert.match(stubborn.message, /interpreter restarted, state lost/)
        const fresh = yield* interpreter.runCode("print('z' in globals())", { context })
        assert.strictEqual(fresh.stdout, "False\n")
        const exited = yield* interpreter.runCode("import os\nos._exit(3)", { context })
        assert.strictEqual(exited.error?.name, "InterpreterExited")
        assert.strictEqual((yield* interpreter.runCode("print(1)", { context })).stdout, "1\n")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    30_000
  )
})
