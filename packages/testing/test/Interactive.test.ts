/**
 * Terminals and the code interpreter through the real SDK over the in-memory server and its
 * in-memory WebSockets: scripted terminal output, scripted interpreter events, timeouts on the
 * TestClock, and the SDK's typed errors for what the server answers.
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import { assert, describe, it } from "@effect/vitest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { DaytonaTest } from "../src/index.js"

const sandbox = Effect.flatMap(Daytona.Daytona, (daytona) => daytona.create())

/** Lets the in-memory sockets' microtasks and the server's fibers run, without moving the clock. */
const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))

/** Runs `effect` to its end, settling real tasks and moving the TestClock `step` at a time. */
const drive = <A, E, R>(effect: Effect.Effect<A, E, R>, step: Duration.DurationInput = "100 millis") =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 200 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
      yield* settle
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

describe("terminals in the testing kit", () => {
  it.scoped("a scripted shell: output, resize seen by the script, exit code; `exit` completes", () =>
    Effect.gen(function* () {
      yield* DaytonaTest.scriptTerminal((input, session) =>
        input === "stty size\n"
          ? { output: `${session.rows} ${session.cols}\r\n` }
          : input.startsWith("exit ")
            ? { exitCode: Number(input.slice(5)) }
            : input === "slow\n"
              ? { output: "done\r\n", delay: "5 seconds" }
              : undefined
      )
      const box = yield* sandbox
      const pty = yield* box.process.createPty({ id: "t", cols: 80, rows: 24 })
      let text = ""
      yield* pty.output.pipe(
        Stream.decodeText(),
        Stream.runForEach((chunk) => Effect.sync(() => (text += chunk))),
        Effect.forkScoped
      )
      yield* pty.write("stty size\n")
      yield* settle
      assert.strictEqual(text, "24 80\r\n")
      yield* pty.resize(120, 40)
      yield* pty.write("stty size\n")
      yield* pty.write("slow\n")
      yield* settle
      assert.strictEqual(text, "24 80\r\n40 120\r\n")
      yield* TestClock.adjust("5 seconds")
      yield* settle
      assert.strictEqual(text, "24 80\r\n40 120\r\ndone\r\n")
      assert.deepStrictEqual(
        (yield* box.process.listPtySessions).map((session) => [session.id, session.cols, session.rows]),
        [["t", 120, 40]]
      )
      yield* pty.write("exit 3\n")
      assert.deepStrictEqual(yield* drive(pty.exit), { exitCode: 3, exitReason: "non-zero exit" })
      assert.deepStrictEqual(yield* box.process.listPtySessions, [])
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.scoped(
    "unscripted terminals echo; kill ends them with 137; stopping the sandbox ends them; a taken id is a ConflictError",
    () =>
      Effect.gen(function* () {
        const box = yield* sandbox
        const pty = yield* box.process.createPty({ id: "echo", onScopeClose: "detach" })
        let text = ""
        yield* pty.output.pipe(
          Stream.decodeText(),
          Stream.runForEach((chunk) => Effect.sync(() => (text += chunk))),
          Effect.forkScoped
        )
        yield* pty.write("hello\n")
        yield* settle
        assert.strictEqual(text, "hello\r\n")
        const taken = yield* Effect.flip(box.process.createPty({ id: "echo" }))
        assert.strictEqual(taken._tag, "ConflictError")
        yield* pty.kill
        assert.deepStrictEqual(yield* drive(pty.exit), { exitCode: 137, exitReason: "SIGKILL" })

        const other = yield* box.process.createPty({ id: "stopped", onScopeClose: "detach" })
        yield* box.stop()
        assert.strictEqual((yield* drive(other.exit)).exitCode, 137)
      }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("the code interpreter in the testing kit", () => {
  it.effect(
    "scripted events per context; a run slower than its timeout is a CommandTimeoutError on the TestClock",
    () =>
      Effect.gen(function* () {
        const values = new Map<number, string>()
        yield* DaytonaTest.scriptCode("x = 41", (run) => {
          values.set(run.interpreter, "41")
          return {}
        })
        yield* DaytonaTest.scriptCode("print(x + 1)", (run) =>
          values.has(run.interpreter)
            ? { stdout: "42\n" }
            : { error: { name: "NameError", value: "name 'x' is not defined", traceback: "..." } }
        )
        yield* DaytonaTest.scriptCode("while True: pass", { delay: "1 hour" })
        const box = yield* sandbox
        const interpreter = box.codeInterpreter
        const context = yield* interpreter.createContext()
        yield* drive(interpreter.runCode("x = 41", { context }))
        assert.strictEqual((yield* drive(interpreter.runCode("print(x + 1)", { context }))).stdout, "42\n")
        const other = yield* interpreter.createContext()
        const missing = yield* drive(interpreter.runCode("print(x + 1)", { context: other }))
        assert.deepStrictEqual([missing.error?.name, missing.error?.value], ["NameError", "name 'x' is not defined"])

        const timedOut = yield* drive(
          Effect.flip(interpreter.runCode("while True: pass", { context, timeout: "1 second" })),
          "250 millis"
        )
        assert.strictEqual(timedOut._tag, "CommandTimeoutError")
        assert.strictEqual((yield* drive(interpreter.runCode("print(x + 1)", { context }))).stdout, "42\n")

        const unscripted = yield* drive(interpreter.runCode("import antigravity"))
        assert.strictEqual(unscripted.error?.name, "NotScripted")
        assert.deepStrictEqual(
          (yield* DaytonaTest.codeRuns).map((run) => run.code),
          ["x = 41", "print(x + 1)", "print(x + 1)", "while True: pass", "print(x + 1)", "import antigravity"]
        )
        const javascript = yield* Effect.flip(interpreter.createContext({ language: "javascript" }))
        assert.strictEqual(javascript._tag, "ValidationError")
      }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})
