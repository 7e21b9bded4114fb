import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpServer from "@effect/platform/HttpServer"
import * as LocalDaytona from "@effect-daytona/local/LocalDaytona"
import * as LocalDaytonaConfig from "@effect-daytona/local/LocalDaytonaConfig"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import * as NodeFs from "node:fs"
import { createServer } from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import WebSocket from "ws"
import * as RunApiLive from "../src/backend/RunApiLive.js"

/** The local server in this process, over real HTTP, with a data directory removed afterwards. */
const daytona = Daytona.layerWithoutConfig.pipe(
  Layer.provideMerge(
    Layer.unwrapScoped(
      Effect.acquireRelease(
        Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "run-service-test-"))),
        (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
      ).pipe(Effect.map((dataDir) => LocalDaytonaConfig.layer({ dataDir, startWait: "10 seconds" })))
    )
  ),
  Layer.provide(NodeHttpClient.layerUndici)
)

const pool: SandboxPool.Options = { ...RunApiLive.defaultPool, name: "run-service-test", min: 1, max: 4 }

/** Sandboxes of the test's pool still on the server. */
const pooledSandboxes = Effect.flatMap(Daytona.Daytona, (service) =>
  Effect.map(service.listPage({ labels: { [SandboxPool.poolLabel]: "run-service-test" } }), (page) => page.items)
)

/** The service on a free port of 127.0.0.1, in a scope of its own; its base URL. */
const startService = (scope: Scope.Scope) =>
  Effect.gen(function* () {
    const context = yield* Layer.buildWithScope(
      RunApiLive.layer({ pool }).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provide(WebSocketConnector.layer(WebSocket))
      ),
      scope
    )
    const address = Context.get(context, HttpServer.HttpServer).address
    if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("expected a TCP address")
    return `http://127.0.0.1:${address.port}`
  })

const post = (url: string, body: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    const text = await response.text()
    return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>) }
  })

/** A followed command's server-sent events, each as its name and its decoded data. */
const followed = (base: string, sessionId: string, body: Record<string, unknown>) =>
  Effect.promise(async () => {
    const response = await fetch(`${base}/sessions/${sessionId}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    })
    const text = await response.text()
    const events = text
      .split("\n\n")
      .filter((block) => block !== "")
      .map((block) => {
        const [event, data] = block.split("\n")
        return [event!.slice("event: ".length), JSON.parse(data!.slice("data: ".length)) as unknown] as const
      })
    return { type: response.headers.get("content-type"), events }
  })

describe("the example backend over real HTTP on the local server", () => {
  it.live(
    "runs Python and TypeScript, sessions with a followed log, deadlines, health; leaves no sandbox after shutdown",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const base = yield* startService(scope)

        const python = yield* post(`${base}/run`, { language: "python", code: "print(6 * 7)" })
        assert.strictEqual(python.status, 200)
        assert.strictEqual(python.body!["output"], "42\n")
        assert.strictEqual(python.body!["exitCode"], 0)
        const typescript = yield* post(`${base}/run`, {
          language: "typescript",
          code: "const n: number = 41\nconsole.log(n + 1)\nprocess.exit(3)"
        })
        assert.strictEqual(typescript.status, 200)
        assert.strictEqual(typescript.body!["output"], "42\n")
        assert.strictEqual(typescript.body!["exitCode"], 3)

        const bad = yield* post(`${base}/run`, { language: "cobol", code: "x" })
        assert.strictEqual(bad.status, 400)

        const late = yield* post(`${base}/run`, {
          language: "python",
          code: "import time\ntime.sleep(30)",
          timeoutSeconds: 1
        })
        assert.strictEqual(late.status, 408)
        assert.strictEqual(late.body!["_tag"], "RunTimeout")

        // A burst beyond the pool's size: every request is served, none fails.
        const burst = yield* Effect.all(
          Array.from({ length: 12 }, (_, i) => post(`${base}/run`, { language: "python", code: `print(${i})` })),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          burst.map((answer) => [answer.status, answer.body!["output"]]),
          Array.from({ length: 12 }, (_, i) => [200, `${i}\n`])
        )

        const session = yield* post(`${base}/sessions`, { language: "python" })
        assert.strictEqual(session.status, 201)
        const id = session.body!["sessionId"] as string
        const write = yield* post(`${base}/sessions/${id}/exec`, { command: "echo kept > notes.txt" })
        assert.strictEqual(write.status, 200)
        const read = yield* post(`${base}/sessions/${id}/exec`, { command: "cat notes.txt" })
        assert.strictEqual(read.body!["output"], "kept\n")

        const events = yield* followed(base, id, {
          command: "for i in 1 2 3; do echo $i; sleep 0.1; done; echo oops >&2; (exit 4)"
        })
        assert.strictEqual(events.type, "text/event-stream")
        const parsed = events.events
        const stdout = parsed
          .filter(([event]) => event === "stdout")
          .map(([, data]) => data)
          .join("")
        assert.strictEqual(stdout, "1\n2\n3\n")
        assert.deepStrictEqual(
          parsed.filter(([event]) => event === "stderr").map(([, data]) => data),
          ["oops\n"]
        )
        assert.deepStrictEqual(parsed.at(-1), ["exit", { exitCode: 4 }])

        // Past its deadline a followed command ends with a `timeout` event, and its session is closed.
        const slow = yield* post(`${base}/sessions`, { language: "python" })
        const slowId = slow.body!["sessionId"] as string
        const timedOut = yield* followed(base, slowId, { command: "echo started; sleep 30", timeoutSeconds: 1 })
        assert.deepStrictEqual(timedOut.events[0], ["stdout", "started\n"])
        assert.deepStrictEqual(timedOut.events.at(-1), [
          "timeout",
          { message: "the command did not end within its deadline; the session is closed" }
        ])
        const afterTimeout = yield* post(`${base}/sessions/${slowId}/exec`, { command: "true" }).pipe(
          Effect.delay("50 millis"),
          Effect.repeat({ until: (answer) => answer.status === 404 }),
          Effect.timeout("10 seconds")
        )
        assert.strictEqual(afterTimeout.status, 404)

        const closed = yield* Effect.promise(() => fetch(`${base}/sessions/${id}`, { method: "DELETE" }))
        assert.strictEqual(closed.status, 204)
        const gone = yield* post(`${base}/sessions/${id}/exec`, { command: "true" })
        assert.strictEqual(gone.status, 404)

        const health = yield* Effect.promise(() =>
          fetch(`${base}/health`).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown }))
        )
        assert.deepStrictEqual(health, { status: 200, body: { status: "ok" } })
        const openapi = yield* Effect.promise(() => fetch(`${base}/openapi.json`).then((r) => r.json()))
        assert.includeMembers(Object.keys((openapi as { paths: object }).paths), [
          "/run",
          "/sessions",
          "/sessions/{sessionId}/exec",
          "/sessions/{sessionId}/stream"
        ])
        const metrics = yield* Effect.promise(() => fetch(`${base}/metrics`).then((r) => r.text()))
        assert.match(metrics, /^daytona_requests_total\{operation="codeRun",api="toolbox",status="200"\} \d+$/m)
        assert.match(
          metrics,
          /^daytona_pool_leases_total\{pool="run-service-test",language="python",outcome="discarded"\} \d+$/m
        )

        assert.isAbove((yield* pooledSandboxes).length, 0)
        yield* Scope.close(scope, Exit.void)
        // Shutdown ends when the server accepted every delete: what is still listed is being destroyed.
        for (const item of yield* pooledSandboxes) assert.strictEqual(item.state, "destroying")
        const left = yield* pooledSandboxes.pipe(
          Effect.delay("50 millis"),
          Effect.repeat({ until: (items) => items.length === 0 }),
          Effect.timeout("30 seconds")
        )
        assert.deepStrictEqual(left, [])
      }).pipe(Effect.provide(daytona)),
    180_000
  )
  it.live(
    "the started service (pnpm start) deletes every pooled sandbox on SIGTERM before it exits",
    () =>
      Effect.gen(function* () {
        const local = yield* LocalDaytona.LocalDaytona
        const child = spawn(process.execPath, ["--import", "tsx", "src/backend/main.ts"], {
          cwd: new URL("..", import.meta.url).pathname,
          env: {
            ...process.env,
            DAYTONA_API_URL: local.apiUrl,
            DAYTONA_API_KEY: Redacted.value(local.apiKey),
            PORT: "0",
            POOL_MIN: "2",
            POOL_MAX: "4"
          },
          stdio: ["ignore", "pipe", "pipe"]
        })
        const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
        yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
        const port = yield* Effect.promise(
          () =>
            new Promise<string>((resolve) => {
              let out = ""
              child.stdout.on("data", (chunk: Buffer) => {
                out += chunk.toString()
                const found = /Listening on http:\/\/[^:]+:(\d+)/.exec(out)
                if (found !== null) resolve(found[1]!)
              })
            })
        ).pipe(Effect.timeout("60 seconds"))
        const answer = yield* post(`http://127.0.0.1:${port}/run`, { language: "python", code: "print('up')" })
        assert.strictEqual(answer.body!["output"], "up\n")
        const service = yield* Daytona.Daytona
        const ofService = Effect.map(
          service.listPage({ labels: { [SandboxPool.poolLabel]: "run-service" } }),
          (page) => page.items
        )
        assert.isAbove((yield* ofService).length, 0)

        child.kill("SIGTERM")
        const code = yield* Effect.promise(() => exited).pipe(Effect.timeout("60 seconds"))
        assert.strictEqual(code, 0)
        for (const item of yield* ofService) assert.strictEqual(item.state, "destroying")
        const left = yield* ofService.pipe(
          Effect.delay("50 millis"),
          Effect.repeat({ until: (items) => items.length === 0 }),
          Effect.timeout("30 seconds")
        )
        assert.deepStrictEqual(left, [])
      }).pipe(Effect.scoped, Effect.provide(daytona)),
    180_000
  )
})
