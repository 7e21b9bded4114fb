/**
 * The official SDK's terminals (`process.createPty`, `connectPty`, its `PtyHandle`) and code
 * interpreter (`codeInterpreter`) against the local server over real HTTP and WebSocket, unchanged.
 * The SDK uses `Date` and `setTimeout`, so these tests run on real time; every step has a deadline so
 * none can hang.
 */
import { Daytona, DaytonaTimeoutError, type Sandbox } from "@daytona/sdk"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as LocalDaytona from "../src/LocalDaytona.js"
import { bwrapRequired, hasBwrap } from "./attackHarness.js"
import { tempDir } from "./utils.js"

const step = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new Error(`${name} failed: ${String(cause)}`, { cause }) }).pipe(
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`${name} did not finish within 10 s`) })
  )

/** The rejection of an SDK call that must fail (the test fails if it succeeds). */
const rejection = (name: string, run: () => Promise<unknown>) =>
  step(name, () =>
    run().then(
      () => {
        throw new Error(`${name} succeeded but should have failed`)
      },
      (error: unknown) => error
    )
  )

/** A local server, the official client pointed at it, and one started sandbox. */
const officialSandbox = (isolation: "none" | "bwrap") =>
  Effect.gen(function* () {
    const dataDir = yield* tempDir
    const server = yield* LocalDaytona.make({
      dataDir,
      apiKey: "official-sdk-key",
      isolation,
      timings: { create: "50 millis", start: "50 millis", stop: "50 millis", destroy: "50 millis" }
    })
    const daytona = new Daytona({ apiKey: Redacted.value(server.apiKey), apiUrl: server.apiUrl, target: "local" })
    const sandbox: Sandbox = yield* step("create", () => daytona.create({ language: "python" }, { timeout: 10 }))
    return sandbox
  })

/** Collects a terminal's output as text; `waitFor` waits (real time, at most 10 s) for a pattern in it. */
const screen = () => {
  let text = ""
  const decoder = new TextDecoder()
  return {
    onData: (data: Uint8Array) => {
      text += decoder.decode(data, { stream: true })
    },
    waitFor: (pattern: RegExp) =>
      Effect.gen(function* () {
        const deadline = Date.now() + 10_000
        while (!pattern.test(text)) {
          if (Date.now() > deadline) return yield* Effect.die(new Error(`no ${pattern} in ${JSON.stringify(text)}`))
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
        }
      })
  }
}

const isolations = hasBwrap || bwrapRequired ? (["none", "bwrap"] as const) : (["none"] as const)

describe.each(isolations)("the official SDK's terminals and interpreter (isolation %s)", (isolation) => {
  it.live(
    "PtyHandle: python3 prints 42, resize changes `stty size`, `exit 3` ends wait() with 3; connectPty replays; kill",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* officialSandbox(isolation)
        const view = screen()
        const pty = yield* step("createPty", () =>
          sandbox.process.createPty({
            id: "official",
            cols: 80,
            rows: 24,
            envs: { GREETING: "hi" },
            onData: view.onData
          })
        )
        assert.isTrue(pty.isConnected())
        yield* step("sendInput", () => pty.sendInput("python3\n"))
        yield* view.waitFor(/>>> $/)
        yield* step("sendInput", () => pty.sendInput("print(6*7)\n"))
        yield* view.waitFor(/print\(6\*7\)\r\n42\r\n>>> $/)
        yield* step("sendInput", () => pty.sendInput("exit()\n"))
        const resized = yield* step("resize", () => pty.resize(120, 40))
        assert.deepStrictEqual([resized.cols, resized.rows, resized.active], [120, 40, true])
        yield* step("sendInput", () => pty.sendInput("stty size; echo $TERM $GREETING\n"))
        yield* view.waitFor(/40 120\r\nxterm-256color hi\r\n/)
        const listed = yield* step("listPtySessions", () => sandbox.process.listPtySessions())
        assert.deepStrictEqual(
          listed.map((session) => [session.id, session.cols, session.rows, session.active]),
          [["official", 120, 40, true]]
        )
        const info = yield* step("getPtySessionInfo", () => sandbox.process.getPtySessionInfo("official"))
        assert.strictEqual(info.envs?.["GREETING"], "hi")

        yield* step("disconnect", () => pty.disconnect())
        const again = screen()
        const attached = yield* step("connectPty", () =>
          sandbox.process.connectPty("official", { onData: again.onData })
        )
        yield* again.waitFor(/xterm-256color hi\r\n/)
        yield* step("sendInput", () => attached.sendInput("exit 3\n"))
        const exit = yield* step("wait", () => attached.wait())
        assert.deepStrictEqual(exit, { exitCode: 3, error: "non-zero exit" })
        assert.deepStrictEqual(yield* step("listPtySessions", () => sandbox.process.listPtySessions()), [])

        const doomed = yield* step("createPty", () =>
          sandbox.process.createPty({ id: "doomed", onData: () => undefined })
        )
        yield* step("sendInput", () => doomed.sendInput("sleep 300\n"))
        yield* step("kill", () => doomed.kill())
        const killed = yield* step("wait", () => doomed.wait())
        assert.deepStrictEqual(killed, { exitCode: 137, error: "SIGKILL" })
        const gone = yield* rejection("connectPty to a killed session", () =>
          sandbox.process.connectPty("doomed", { onData: () => undefined })
        )
        assert.match(String(gone), /not found/)
      }).pipe(Effect.scoped),
    40_000
  )

  it.live(
    "codeInterpreter: state per context, a NameError elsewhere, a timeout is DaytonaTimeoutError and the context still answers",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* officialSandbox(isolation)
        const interpreter = sandbox.codeInterpreter
        const context = yield* step("createContext", () => interpreter.createContext())
        assert.strictEqual(context.language, "python")
        yield* step("runCode", () => interpreter.runCode("x = 41", { context }))
        const printed: Array<string> = []
        const read = yield* step("runCode", () =>
          interpreter.runCode("print(x + 1)", { context, onStdout: (message) => void printed.push(message.output) })
        )
        assert.deepStrictEqual([read.stdout, read.stderr, read.error], ["42\n", "", undefined])
        assert.deepStrictEqual(printed, ["42\n"])

        const other = yield* step("createContext", () => interpreter.createContext())
        const missing = yield* step("runCode", () => interpreter.runCode("print(x)", { context: other }))
        assert.deepStrictEqual([missing.error?.name, missing.error?.value], ["NameError", "name 'x' is not defined"])

        const started = Date.now()
        const timedOut = yield* rejection("runCode with a timeout", () =>
          interpreter.runCode("while True: pass", { context, timeout: 1 })
        )
        assert.instanceOf(timedOut, DaytonaTimeoutError)
        assert.isBelow(Date.now() - started, 4000)
        const after = yield* step("runCode", () => interpreter.runCode("print(x + 1)", { context }))
        assert.strictEqual(after.stdout, "42\n")

        const defaultRun = yield* step("runCode", () =>
          interpreter.runCode("import os\nprint(os.environ['A'])", { envs: { A: "b" } })
        )
        assert.strictEqual(defaultRun.stdout, "b\n")
        const ids = (yield* step("listContexts", () => interpreter.listContexts())).map((listed) => listed.id).sort()
        assert.deepStrictEqual(ids, [context.id, other.id].sort())
        yield* step("deleteContext", () => interpreter.deleteContext(other))
        const deleted = yield* rejection("runCode in a deleted context", () =>
          interpreter.runCode("print(1)", { context: other })
        )
        assert.match(String(deleted), /context not found/)
        assert.deepStrictEqual(
          (yield* step("listContexts", () => interpreter.listContexts())).map((listed) => listed.id),
          [context.id]
        )
      }).pipe(Effect.scoped),
    40_000
  )
})
