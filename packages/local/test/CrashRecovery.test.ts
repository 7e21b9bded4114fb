import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as NodeChildProcess from "node:child_process"
import * as NodePath from "node:path"
import { bwrapRequired, hasBwrap, hostProcesses, realSleep } from "./attackHarness.js"
import { tempDir } from "./utils.js"

const launcher = NodePath.join(import.meta.dirname, "..", "bin", "daytona-local.mjs")
const apiKey = "crash-test-key"

interface Cli {
  readonly child: NodeChildProcess.ChildProcess
  readonly apiUrl: string
}

/** Starts `daytona-local serve` as a real child process and waits (at most 60 s) for its address. */
const startCli = (dataDir: string, isolation: "none" | "bwrap" = "none") =>
  Effect.acquireRelease(
    Effect.async<Cli, Error>((resume) => {
      const child = NodeChildProcess.spawn(
        process.execPath,
        [
          launcher,
          "serve",
          "--port",
          "0",
          "--data-dir",
          dataDir,
          "--api-key",
          apiKey,
          "--isolation",
          isolation,
          "--transition-ms",
          "800"
        ],
        { stdio: ["ignore", "pipe", "pipe"] }
      )
      let output = ""
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        resume(Effect.fail(new Error(`the CLI did not start within 60 s:\n${output}`)))
      }, 60_000)
      const onData = (chunk: Buffer) => {
        output += chunk.toString("utf8")
        const match = /DAYTONA_API_URL=(\S+)/.exec(output)
        if (match !== null) {
          clearTimeout(timer)
          child.stdout?.off("data", onData)
          resume(Effect.succeed({ child, apiUrl: match[1]! }))
        }
      }
      child.stdout?.on("data", onData)
      child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
      child.once("exit", (code) => {
        clearTimeout(timer)
        resume(Effect.fail(new Error(`the CLI exited with ${code}:\n${output}`)))
      })
    }),
    (cli) => kill(cli)
  )

const kill = (cli: Cli) =>
  Effect.async<void>((resume) => {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) return resume(Effect.void)
    cli.child.once("exit", () => resume(Effect.void))
    cli.child.kill("SIGKILL")
  })

interface Reply {
  readonly status: number
  readonly body: { readonly [key: string]: unknown }
}

const request = (cli: Cli, method: string, path: string, body?: unknown) =>
  Effect.tryPromise(async (): Promise<Reply> => {
    const response = await fetch(`${cli.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(20_000)
    })
    const text = await response.text()
    return { status: response.status, body: text === "" ? {} : JSON.parse(text) }
  })

describe("crash recovery", () => {
  it.live(
    "SIGKILL during a create loses nothing acknowledged; running sandboxes come back stopped and start",
    () =>
      Effect.gen(function* () {
        const dataDir = yield* tempDir
        const first = yield* startCli(dataDir)
        const acknowledged: Array<string> = []
        for (const name of ["a", "b", "c"]) {
          const created = yield* request(first, "POST", "/sandbox", { name, labels: { crash: "test" } })
          assert.deepStrictEqual([created.status, created.body.state], [200, "started"])
          acknowledged.push(created.body.id as string)
        }
        const stopping = yield* request(first, "POST", `/sandbox/${acknowledged[1]}/stop`)
        assert.strictEqual(stopping.body.state, "stopping")
        const labelled = yield* request(first, "PUT", `/sandbox/${acknowledged[2]}/labels`, { labels: { kept: "yes" } })
        assert.strictEqual(labelled.status, 200)

        const inFlight = yield* Effect.fork(Effect.either(request(first, "POST", "/sandbox", { name: "in-flight" })))
        yield* Effect.sleep("300 millis")
        yield* kill(first)
        const unanswered = yield* Fiber.join(inFlight)
        if (unanswered._tag === "Right" && unanswered.right.status === 200)
          acknowledged.push(unanswered.right.body.id as string)

        const second = yield* startCli(dataDir)
        const list = yield* request(second, "GET", "/sandbox")
        const items = list.body.items as ReadonlyArray<{ id: string; name: string; state: string }>
        for (const id of acknowledged) {
          const item = items.find((i) => i.id === id)
          assert.strictEqual(item?.state, "stopped", `sandbox ${id} after the crash`)
        }
        for (const item of items) assert.strictEqual(item.state, "stopped", `sandbox ${item.name} after the crash`)
        const c = yield* request(second, "GET", `/sandbox/${acknowledged[2]}`)
        assert.deepStrictEqual(c.body.labels, { kept: "yes" })

        for (const id of acknowledged) {
          const started = yield* request(second, "POST", `/sandbox/${id}/start`)
          assert.deepStrictEqual([id, started.status, started.body.state], [id, 200, "started"])
        }
        const toolbox = `${second.apiUrl.replace(/\/api$/, "")}/toolbox/${acknowledged[0]}/process/execute`
        const echo = yield* Effect.tryPromise(() =>
          fetch(toolbox, {
            method: "POST",
            headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
            body: JSON.stringify({ command: "echo back" }),
            signal: AbortSignal.timeout(20_000)
          }).then((response) => response.json())
        )
        assert.deepStrictEqual(echo, { exitCode: 0, result: "back\n" })
      }).pipe(Effect.scoped),
    120_000
  )

  for (const isolation of ["none", "bwrap"] as const) {
    const runs = isolation === "none" || hasBwrap || bwrapRequired ? it.live : undefined
    runs?.(
      `a server killed with SIGKILL takes its sandboxes' processes with it (isolation ${isolation})`,
      () =>
        Effect.gen(function* () {
          const dataDir = yield* tempDir
          const cli = yield* startCli(dataDir, isolation)
          const config = yield* request(cli, "GET", "/config")
          const mechanism = (config.body.resourceLimits as { mechanism: string }).mechanism
          // Only a control group holds every process of a sandbox, whoever their parent is; CI has them.
          if (mechanism === "rlimits" && !bwrapRequired) return
          const marker = `${3000 + Math.floor(Math.random() * 5000)}.${process.pid}`
          const created = yield* request(cli, "POST", "/sandbox", {})
          assert.strictEqual(created.body.state, "started")
          const toolbox = `${cli.apiUrl.replace(/\/api$/, "")}/toolbox/${created.body.id as string}/process/execute`
          const detached = yield* Effect.tryPromise(() =>
            fetch(toolbox, {
              method: "POST",
              headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
              body: JSON.stringify({
                command: `sh -c "setsid sleep ${marker} > /dev/null 2>&1 < /dev/null & echo started"`
              }),
              signal: AbortSignal.timeout(20_000)
            }).then((response) => response.json())
          )
          assert.deepStrictEqual(detached, { exitCode: 0, result: "started\n" })
          assert.isAbove((yield* hostProcesses(`sleep ${marker}`)).length, 0)

          yield* kill(cli)
          let left = yield* hostProcesses(`sleep ${marker}`)
          for (let waited = 0; waited < 10_000 && left.length > 0; waited += 100) {
            yield* realSleep(100)
            left = yield* hostProcesses(`sleep ${marker}`)
          }
          assert.deepStrictEqual(left, [], "the sandbox's process outlived its server by 10 s")
        }).pipe(Effect.scoped),
      60_000
    )
  }
})
