import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodePath from "node:path"
import {
  advance,
  asExecute,
  asToolboxError,
  call,
  clientLayer,
  createStarted,
  driveUntilDone,
  fileWritten,
  serve,
  tempDir
} from "./utils.js"

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Lets the event loop reap exited children; no timers involved. */
const settleProcesses = Effect.promise(async () => {
  for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve))
})

describe("toolbox", () => {
  it.scoped("home and work directories, version", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const { id } = yield* createStarted(client)
      const home = yield* call(client, "GET", `/toolbox/${id}/user-home-dir`)
      assert.deepStrictEqual(home.body, { dir: NodePath.join(dir, "sandboxes", id, "home") })
      const work = yield* call(client, "GET", `/toolbox/${id}/work-dir`)
      assert.deepStrictEqual(work.body, home.body)
      const version = yield* call(client, "GET", `/toolbox/${id}/version`)
      assert.deepStrictEqual(version.body, { version: "0.190.0" })
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped(
    "the daemon endpoints it does not serve answer 501 NOT_IMPLEMENTED; a known path with another method 405",
    () =>
      Effect.gen(function* () {
        const { client } = yield* serve(yield* tempDir)
        const { id } = yield* createStarted(client)
        for (const [method, path] of [
          ["GET", "/port"],
          ["GET", "/port/3000/in-use"],
          ["POST", "/init"]
        ] as const) {
          const answer = yield* call(client, method, `/toolbox/${id}${path}`, method === "POST" ? {} : undefined)
          assert.strictEqual(answer.status, 501, path)
          assert.strictEqual(asToolboxError(answer).code, "NOT_IMPLEMENTED", path)
        }
        const wrongMethod = yield* call(client, "DELETE", `/toolbox/${id}/version`)
        assert.strictEqual(wrongMethod.status, 405)
      }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("execute runs without a shell, merges stdout and stderr, honours cwd and envs", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const { id } = yield* createStarted(client, { env: { FROM_SANDBOX: "s" } })
      const echo = asExecute(
        yield* call(client, "POST", `/toolbox/${id}/process/execute`, { command: "echo 'a  b' $HOME" })
      )
      assert.deepStrictEqual(echo, { exitCode: 0, result: "a  b $HOME\n" })
      const merged = asExecute(
        yield* call(client, "POST", `/toolbox/${id}/process/execute`, {
          command: `sh -c "echo out; echo err >&2; echo $FROM_SANDBOX $X; exit 3"`,
          envs: { X: "x" }
        })
      )
      assert.deepStrictEqual(merged, { exitCode: 3, result: "out\nerr\ns x\n" })
      yield* call(client, "POST", `/toolbox/${id}/process/execute`, { command: "mkdir sub" })
      const pwd = asExecute(
        yield* call(client, "POST", `/toolbox/${id}/process/execute`, { command: "pwd", cwd: "sub" })
      )
      assert.isTrue(pwd.result.trim().endsWith(`${id}/home/sub`))
      const badEnv = yield* call(client, "POST", `/toolbox/${id}/process/execute`, {
        command: "true",
        envs: { "1X": "y" }
      })
      assert.deepStrictEqual([badEnv.status, asToolboxError(badEnv).code], [400, "BAD_REQUEST"])
      const noCommand = yield* call(client, "POST", `/toolbox/${id}/process/execute`, { cmd: "true" })
      assert.strictEqual(noCommand.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a command that outlives its timeout answers 408 and is killed", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const { id } = yield* createStarted(client)
      const fiber = yield* Effect.fork(
        call(client, "POST", `/toolbox/${id}/process/execute`, {
          command: `sh -c "echo $$ > pid; sleep 30"`,
          timeout: 2
        })
      )
      // The command must have started before the clock runs past its timeout; on a loaded machine it
      // can take longer than the two seconds of TestClock the first steps advance.
      const pid = Number(yield* fileWritten(NodePath.join(dir, "sandboxes", id, "home", "pid")))
      const answer = yield* driveUntilDone(fiber, "500 millis")
      const error = asToolboxError(answer)
      assert.deepStrictEqual([answer.status, error.code, error.method], [408, "REQUEST_TIMEOUT", "POST"])
      assert.strictEqual(error.path, `/toolbox/${id}/process/execute`)
      yield* settleProcesses
      assert.isFalse(alive(pid))
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("code-run for python, javascript and typescript", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const { id } = yield* createStarted(client)
      const python = asExecute(
        yield* call(client, "POST", `/toolbox/${id}/process/code-run`, { code: "print(6 * 7)", language: "python" })
      )
      assert.deepStrictEqual(python, { exitCode: 0, result: "42\n" })
      const js = asExecute(
        yield* call(client, "POST", `/toolbox/${id}/process/code-run`, {
          code: "console.log(process.env.Y, process.argv.slice(1).join(','))",
          language: "javascript",
          argv: ["a", "b"],
          envs: { Y: "y" }
        })
      )
      assert.deepStrictEqual(js, { exitCode: 0, result: "y a,b\n" })
      const ts = asExecute(
        yield* call(client, "POST", `/toolbox/${id}/process/code-run`, {
          code: "const n: number = 2\nconsole.log(n * 21)",
          language: "typescript"
        })
      )
      assert.deepStrictEqual(ts, { exitCode: 0, result: "42\n" })
      const unknown = yield* call(client, "POST", `/toolbox/${id}/process/code-run`, { code: "x", language: "cobol" })
      assert.strictEqual(unknown.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a stopped or unknown sandbox has no toolbox; stopping kills its processes", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const { id } = yield* createStarted(client)
      const fiber = yield* Effect.fork(
        call(client, "POST", `/toolbox/${id}/process/execute`, { command: `sh -c "echo $$ > pid; exec sleep 30"` })
      )
      yield* fileWritten(NodePath.join(dir, "sandboxes", id, "home", "pid"))
      yield* call(client, "POST", `/api/sandbox/${id}/stop`)
      yield* advance("1 second")
      const killed = yield* driveUntilDone(fiber, "1 second")
      assert.strictEqual(killed.status, 200)
      assert.notStrictEqual(asExecute(killed).exitCode, 0)
      const stopped = yield* call(client, "GET", `/toolbox/${id}/user-home-dir`)
      const error = asToolboxError(stopped)
      assert.deepStrictEqual([stopped.status, error.code], [400, "BAD_REQUEST"])
      assert.include(error.message, "Is the Sandbox started?")
      const unknown = yield* call(client, "POST", `/toolbox/nope/process/execute`, { command: "true" })
      assert.deepStrictEqual([unknown.status, asToolboxError(unknown).code], [404, "NOT_FOUND"])
      const desktop = yield* call(client, "GET", `/toolbox/${id}/computeruse/status`)
      assert.deepStrictEqual([desktop.status, asToolboxError(desktop).code], [400, "BAD_REQUEST"])
      assert.include(asToolboxError(desktop).message, "Is the Sandbox started?")
    }).pipe(Effect.provide(clientLayer))
  )
})
