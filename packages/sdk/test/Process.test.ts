import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import type { IncomingMessage } from "node:http"
import { createRequire } from "node:module"
import type { AddressInfo } from "node:net"
import * as Process from "../src/Process.js"
import * as WebSocketConnector from "../src/WebSocketConnector.js"
import { apiKey } from "./support/FakeHttp.js"
import { makeToolbox, target } from "./support/FakeToolbox.js"

// `ws` comes with @effect/platform-node; it is loaded from there so that the SDK needs no new dependency.
interface WsPeer {
  send(data: Uint8Array, options: { readonly binary: boolean }): void
  close(code?: number, reason?: string): void
}
interface WsServer {
  on(event: "connection", listener: (peer: WsPeer, request: IncomingMessage) => void): void
  on(event: "listening", listener: () => void): void
  address(): AddressInfo
  close(): void
}
const requireHere = createRequire(import.meta.url)
const ws = createRequire(requireHere.resolve("@effect/platform-node/NodeSocket"))("ws") as {
  readonly WebSocket: WebSocketConnector.HeaderCapableWebSocketClass
  readonly WebSocketServer: new (options: { readonly host: string; readonly port: number }) => WsServer
}

const OUT = [1, 1, 1]
const frame = (...parts: Array<ReadonlyArray<number> | string>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? [...new TextEncoder().encode(p)] : [...p])))

/** A WebSocket server on 127.0.0.1 that sends `frames`, then closes with `code`. */
const logServer = (frames: ReadonlyArray<Uint8Array>, code: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: WsServer; readonly seen: Array<IncomingMessage> }>((resume) => {
      const server = new ws.WebSocketServer({ host: "127.0.0.1", port: 0 })
      const seen: Array<IncomingMessage> = []
      server.on("connection", (peer, request) => {
        seen.push(request)
        for (const f of frames) peer.send(f, { binary: true })
        setTimeout(() => peer.close(code, code === 1000 ? "" : "read error"), 20)
      })
      server.on("listening", () => resume(Effect.succeed({ server, seen })))
    }),
    ({ server }) => Effect.sync(() => server.close())
  )

const sessionTarget = (port: number) => ({ ...target, toolboxProxyUrl: `http://127.0.0.1:${port}/toolbox` })

describe("Process", () => {
  describe("executeCommand", () => {
    it.effect("sends {command, cwd, envs, timeout} and decodes the result", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, json: { exitCode: 3, result: "hi\n" } }))
        const result = yield* Process.make(target, fake.toolbox).executeCommand("echo hi", {
          cwd: "/tmp",
          env: { A: "1" },
          timeout: "4.2 seconds"
        })
        assert.deepStrictEqual(result, { exitCode: 3, result: "hi\n", artifacts: { stdout: "hi\n" } })
        const [req] = yield* fake.requests
        assert.strictEqual(req!.method, "POST")
        assert.strictEqual(req!.route, "/process/execute")
        assert.deepStrictEqual(req!.json, { command: "echo hi", cwd: "/tmp", envs: { A: "1" }, timeout: 5 })
      })
    )

    it.effect("an absent exit code is 0 and the legacy `code` field is read", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox((_, i) => ({
          status: 200,
          json: i === 0 ? { result: "" } : { code: 7, result: "x" }
        }))
        const process = Process.make(target, fake.toolbox)
        assert.strictEqual((yield* process.executeCommand("true")).exitCode, 0)
        assert.strictEqual((yield* process.executeCommand("false")).exitCode, 7)
        assert.deepStrictEqual((yield* fake.requests)[0]!.json, { command: "true" })
      })
    )

    it.effect("a 408 from the daemon is a CommandTimeoutError", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({
          status: 408,
          json: { statusCode: 408, message: "request timeout: command timed out", code: "REQUEST_TIMEOUT" }
        }))
        const error = yield* Process.make(target, fake.toolbox)
          .executeCommand("sleep 100", { timeout: "1 second" })
          .pipe(Effect.flip)
        assert.strictEqual(error._tag, "CommandTimeoutError")
      })
    )

    it.effect("the request timeout is the command timeout plus a margin", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, hang: true }))
        const fiber = yield* Effect.fork(
          Process.make(target, fake.toolbox).executeCommand("sleep 100", { timeout: "5 seconds" })
        )
        yield* TestClock.adjust("34 seconds")
        assert.isNull(fiber.unsafePoll())
        yield* TestClock.adjust("2 seconds")
        const error = yield* Fiber.join(fiber).pipe(Effect.flip)
        assert.strictEqual(error._tag, "RequestTimeoutError")
        if (error._tag === "RequestTimeoutError") assert.strictEqual(Duration.toSeconds(error.timeout), 35)
      })
    )

    it.effect("invalid env names and timeouts are rejected before any request", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, json: { result: "" } }))
        const process = Process.make(target, fake.toolbox)
        const env = yield* process.executeCommand("x", { env: { "BAD-NAME": "1" } }).pipe(Effect.flip)
        const timeout = yield* process.executeCommand("x", { timeout: -1 }).pipe(Effect.flip)
        assert.strictEqual(env._tag, "ValidationError")
        assert.strictEqual(timeout._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  })

  describe("codeRun", () => {
    it.effect("takes the language from the code-toolbox-language label and decodes charts", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({
          status: 200,
          json: {
            exitCode: 0,
            result: "2\n",
            artifacts: {
              charts: [
                {
                  type: "line",
                  title: "t",
                  png: "iVBOR",
                  x_label: "x",
                  elements: [{ label: "l", points: [[0, 1]] }]
                }
              ]
            }
          }
        }))
        const process = Process.make({ ...target, labels: { "code-toolbox-language": "python" } }, fake.toolbox)
        const result = yield* process.codeRun("print(1+1)", { argv: ["-v"], env: { K: "v" }, timeout: "10 seconds" })
        assert.strictEqual(result.result, "2\n")
        assert.strictEqual(result.artifacts.charts?.[0]?.type, "line")
        assert.strictEqual(result.artifacts.charts?.[0]?.x_label, "x")
        const [req] = yield* fake.requests
        assert.strictEqual(req!.route, "/process/code-run")
        assert.deepStrictEqual(req!.json, {
          code: "print(1+1)",
          language: "python",
          argv: ["-v"],
          envs: { K: "v" },
          timeout: 10
        })
      })
    )

    it.effect("a missing or unknown language label is a ValidationError and sends nothing", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 200, json: { result: "" } }))
        const missing = yield* Process.make(target, fake.toolbox).codeRun("1").pipe(Effect.flip)
        const unknown = yield* Process.make({ ...target, labels: { "code-toolbox-language": "cobol" } }, fake.toolbox)
          .codeRun("1")
          .pipe(Effect.flip)
        assert.strictEqual(missing._tag, "ValidationError")
        assert.strictEqual(unknown._tag, "ValidationError")
        assert.include(unknown.message, "cobol")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  })

  describe("sessions", () => {
    it.effect("create, get, list, delete, entrypoint, input", () =>
      Effect.gen(function* () {
        const session = { sessionId: "s1", commands: [{ id: "c1", command: "ls", exitCode: 0 }] }
        const fake = yield* makeToolbox((req) =>
          req.method === "POST" && req.route === "/process/session"
            ? { status: 201 }
            : req.method === "DELETE" || req.route.endsWith("/input")
              ? { status: 204 }
              : req.route === "/process/session"
                ? { status: 200, json: [session, { sessionId: "s2", commands: null }] }
                : req.route === "/process/session/entrypoint"
                  ? { status: 200, json: { sessionId: "entrypoint", commands: [] } }
                  : { status: 200, json: session }
        )
        const process = Process.make(target, fake.toolbox)
        yield* process.createSession("s1")
        const got = yield* process.getSession("s1")
        const all = yield* process.listSessions
        const entry = yield* process.getEntrypointSession
        yield* process.sendSessionCommandInput("s1", "c1", "yes\n")
        yield* process.deleteSession("s1")
        assert.deepStrictEqual(got, session)
        assert.deepStrictEqual(
          all.map((s) => s.commands.length),
          [1, 0]
        )
        assert.strictEqual(entry.sessionId, "entrypoint")
        const reqs = yield* fake.requests
        assert.deepStrictEqual(
          reqs.map((r) => [r.method, r.route, r.json]),
          [
            ["POST", "/process/session", { sessionId: "s1" }],
            ["GET", "/process/session/s1", undefined],
            ["GET", "/process/session", undefined],
            ["GET", "/process/session/entrypoint", undefined],
            ["POST", "/process/session/s1/command/c1/input", { data: "yes\n" }],
            ["DELETE", "/process/session/s1", undefined]
          ]
        )
      })
    )

    it.effect("a taken session id is a ConflictError", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox(() => ({ status: 409, json: { statusCode: 409, message: "conflict: exists" } }))
        const error = yield* Process.make(target, fake.toolbox).createSession("s1").pipe(Effect.flip)
        assert.strictEqual(error._tag, "ConflictError")
      })
    )

    it.effect("executeSessionCommand: sync answer with output, async 202 with only cmdId", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox((req) =>
          (req.json as { runAsync?: boolean }).runAsync === true
            ? { status: 202, json: { cmdId: "c2" } }
            : {
                status: 200,
                json: { cmdId: "c1", output: "\u0001\u0001\u0001hi\n", stdout: "hi\n", stderr: "", exitCode: 0 }
              }
        )
        const process = Process.make(target, fake.toolbox)
        const sync = yield* process.executeSessionCommand("s 1", { command: "echo hi" })
        const async = yield* process.executeSessionCommand("s 1", { command: "sleep 5", runAsync: true })
        assert.deepStrictEqual(sync, {
          cmdId: "c1",
          output: "\u0001\u0001\u0001hi\n",
          stdout: "hi\n",
          stderr: "",
          exitCode: 0
        })
        assert.deepStrictEqual(async, { cmdId: "c2", stdout: "", stderr: "" })
        const reqs = yield* fake.requests
        assert.strictEqual(reqs[0]!.path.endsWith("/process/session/s%201/exec"), true)
        assert.deepStrictEqual(reqs[0]!.json, { command: "echo hi" })
        assert.deepStrictEqual(reqs[1]!.json, { command: "sleep 5", runAsync: true })
      })
    )

    it.effect("getSessionCommand and non-follow logs (JSON, and plain text from old daemons)", () =>
      Effect.gen(function* () {
        const fake = yield* makeToolbox((req, i) =>
          req.route.endsWith("/logs")
            ? i === 1
              ? { status: 200, json: { output: "raw", stdout: "o\n", stderr: "e\n" } }
              : {
                  status: 200,
                  text: "\u0001\u0001\u0001o\n\u0002\u0002\u0002e\n",
                  headers: { "content-type": "text/plain; charset=utf-8" }
                }
            : { status: 200, json: { id: "c1", command: "ls", exitCode: 2 } }
        )
        const process = Process.make(target, fake.toolbox)
        const command = yield* process.getSessionCommand("s1", "c1")
        const json = yield* process.getSessionCommandLogs("s1", "c1")
        const plain = yield* process.getSessionCommandLogs("s1", "c1")
        assert.strictEqual(command.exitCode, 2)
        assert.deepStrictEqual(json, { output: "raw", stdout: "o\n", stderr: "e\n" })
        assert.deepStrictEqual([plain.stdout, plain.stderr], ["o\n", "e\n"])
        const reqs = yield* fake.requests
        assert.deepStrictEqual(
          reqs.map((r) => [r.method, r.route, r.query]),
          [
            ["GET", "/process/session/s1/command/c1", {}],
            ["GET", "/process/session/s1/command/c1/logs", {}],
            ["GET", "/process/session/s1/command/c1/logs", {}]
          ]
        )
      })
    )
  })

  describe("followSessionCommandLogs", () => {
    it.live("streams demultiplexed output over a WebSocket with the HTTP headers, then the exit code", () =>
      Effect.gen(function* () {
        const frames = [
          frame("junk", OUT, "line 1\n", [2]),
          frame([2, 2], "warn ", [0xe2, 0x82]),
          frame([0xac], "\n", OUT, "line 2\n", [1, 1]),
          frame([1], "end\n")
        ]
        const { server, seen } = yield* logServer(frames, 1000)
        const fake = yield* makeToolbox(() => ({ status: 200, json: { id: "c1", command: "x", exitCode: 4 } }))
        const events = yield* Process.make(sessionTarget(server.address().port), fake.toolbox)
          .followSessionCommandLogs("s1", "c1")
          .pipe(Stream.runCollect, Effect.provide(WebSocketConnector.layer(ws.WebSocket)))
        const list = Chunk.toReadonlyArray(events)
        const text = (tag: string) =>
          list
            .filter((e) => e._tag === tag)
            .map((e) => ("text" in e ? e.text : ""))
            .join("")
        assert.strictEqual(text("Stdout"), "line 1\nline 2\nend\n")
        assert.strictEqual(text("Stderr"), "warn €\n")
        assert.deepStrictEqual(list[list.length - 1], { _tag: "Exit", exitCode: 4 })
        const upgrade = seen[0]!
        assert.strictEqual(upgrade.url, "/toolbox/sb-1/process/session/s1/command/c1/logs?follow=true")
        assert.strictEqual(upgrade.headers["authorization"], `Bearer ${apiKey}`)
        assert.strictEqual(upgrade.headers["x-daytona-sdk-version"], "0.190.0")
        assert.strictEqual(upgrade.headers["x-daytona-source"], "effect-daytona")
        const [req] = yield* fake.requests
        assert.strictEqual(req!.route, "/process/session/s1/command/c1")
      }).pipe(Effect.scoped)
    )

    it.live("a close other than 1000 fails the stream with a TransportError", () =>
      Effect.gen(function* () {
        const { server } = yield* logServer([frame(OUT, "partial\n")], 1011)
        const fake = yield* makeToolbox(() => ({ status: 200, json: { id: "c1", command: "x", exitCode: 0 } }))
        const error = yield* Process.make(sessionTarget(server.address().port), fake.toolbox)
          .followSessionCommandLogs("s1", "c1")
          .pipe(Stream.runDrain, Effect.flip, Effect.provide(WebSocketConnector.layer(ws.WebSocket)))
        assert.strictEqual(error._tag, "TransportError")
        assert.include(error.message, "1011")
        assert.strictEqual((yield* fake.requests).length, 0)
      }).pipe(Effect.scoped)
    )

    it.live("a refused upgrade maps its HTTP status", () =>
      Effect.gen(function* () {
        const http = yield* Effect.promise(() => import("node:http"))
        const server = http.createServer((_, res) => {
          res.statusCode = 401
          res.end()
        })
        yield* Effect.acquireRelease(
          Effect.async<void>((resume) => {
            server.listen(0, "127.0.0.1", () => resume(Effect.void))
          }),
          () => Effect.sync(() => server.close())
        )
        const port = (server.address() as AddressInfo).port
        const fake = yield* makeToolbox(() => ({ status: 200, json: {} }))
        const error = yield* Process.make(sessionTarget(port), fake.toolbox)
          .followSessionCommandLogs("s1", "c1")
          .pipe(Stream.runDrain, Effect.flip, Effect.provide(WebSocketConnector.layer(ws.WebSocket)))
        assert.strictEqual(error._tag, "AuthenticationError")
      }).pipe(Effect.scoped)
    )
  })
})
