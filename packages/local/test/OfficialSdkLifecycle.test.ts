import { Daytona } from "@daytona/sdk"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import type { AddressInfo } from "node:net"
import * as LocalDaytona from "../src/LocalDaytona.js"
import { tempDir } from "./utils.js"

/** The official SDK runs on real time: every step has a deadline so it can never hang. */
const step = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new Error(`${name} failed: ${String(cause)}`, { cause }) }).pipe(
    Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error(`${name} did not finish within 20 s`) })
  )

/**
 * A reverse proxy in front of the server that records every request line (`METHOD /path`) and
 * every upgrade with the status the server answered it with, so that a test sees what a client sent.
 */
const recordingProxy = (target: URL) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly lines: Array<string>; readonly server: NodeHttp.Server }>(
      (resume) => {
        const lines: Array<string> = []
        const server = NodeHttp.createServer((request, response) => {
          lines.push(`${request.method} ${new URL(request.url ?? "/", "http://x").pathname}`)
          const forwarded = NodeHttp.request(
            {
              host: target.hostname,
              port: target.port,
              method: request.method,
              path: request.url,
              headers: request.headers
            },
            (answer) => {
              response.writeHead(answer.statusCode ?? 502, answer.headers)
              answer.pipe(response)
            }
          )
          forwarded.on("error", () => response.destroy())
          request.pipe(forwarded)
        })
        server.on("upgrade", (request: NodeHttp.IncomingMessage, socket: NodeNet.Socket, head: Buffer) => {
          const upstream = NodeNet.connect(Number(target.port), target.hostname, () => {
            const headers = Object.entries(request.headers).map(
              ([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : v}`
            )
            upstream.write(`${request.method} ${request.url} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`)
            upstream.write(head)
            upstream.once("data", (first: Buffer) => {
              lines.push(
                `UPGRADE ${new URL(request.url ?? "/", "http://x").pathname} ${first.toString("latin1").split(" ")[1]}`
              )
              socket.write(first)
              upstream.pipe(socket)
              socket.pipe(upstream)
            })
          })
          upstream.on("error", () => socket.destroy())
          socket.on("error", () => upstream.destroy())
        })
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines, server }))
        )
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

describe("official SDK 0.216: lifecycle against the local server, in its default (event) mode", () => {
  it.live(
    "pause, fork, createSnapshot, metrics and warm pools wait on events: the gateway upgrades, no polling",
    () =>
      Effect.gen(function* () {
        const server = yield* LocalDaytona.make({
          dataDir: yield* tempDir,
          apiKey: "official-sdk-key",
          isolation: "none",
          timings: {
            create: "150 millis",
            start: "150 millis",
            stop: "150 millis",
            archive: "150 millis",
            destroy: "150 millis"
          },
          lifecycleInterval: "200 millis"
        })
        const proxy = yield* recordingProxy(new URL(server.url))
        const daytona = new Daytona({
          apiKey: Redacted.value(server.apiKey),
          apiUrl: `${proxy.url}/api`,
          target: "local"
        })
        yield* Effect.addFinalizer(() => Effect.promise(() => daytona[Symbol.asyncDispose]?.() ?? Promise.resolve()))

        const sandbox = yield* step("create", () => daytona.create({ language: "python" }, { timeout: 20 }))
        assert.strictEqual(sandbox.state, "started")
        yield* step("upload", () => sandbox.fs.uploadFile(Buffer.from("parent file"), "note.txt"))

        /**
         * Runs one step that waits, and answers the reads of a sandbox it sent and how long it took.
         * The official SDK reads the sandbox once when a wait begins (`pause` and `stop` once more
         * right after their request), then in its event mode only every second as a safety net
         * (every 100 ms when it polls): a wait with no more reads than that ended on an event.
         */
        const readsDuring = <A>(name: string, run: () => Promise<A>) =>
          Effect.gen(function* () {
            const mark = proxy.lines.length
            const started = Date.now()
            const result = yield* step(name, run)
            const millis = Date.now() - started
            const reads = proxy.lines.slice(mark).filter((line) => /^GET \/api\/sandbox\/[^/]+$/.test(line))
            const fixed = name === "pause" || name === "stop the fork" ? 2 : 1
            return { name, result, reads, allowed: fixed + Math.floor(millis / 1000), millis }
          })
        const waits: Array<{
          readonly name: string
          readonly reads: ReadonlyArray<string>
          readonly allowed: number
          readonly millis: number
        }> = [
          yield* readsDuring("pause", () => sandbox.pause(20)),
          yield* readsDuring("start", () => sandbox.start(20))
        ]
        assert.strictEqual(sandbox.state, "started")
        const forked = yield* readsDuring("fork", () => sandbox.fork({ name: "official-fork" }, 20))
        const fork = forked.result
        assert.strictEqual(fork.state, "started")
        waits.push(forked)
        const copied = yield* step("download from the fork", () => fork.fs.downloadFile("note.txt"))
        assert.strictEqual(copied.toString(), "parent file")
        waits.push(yield* readsDuring("createSnapshot", () => sandbox.createSnapshot("official-capture", 20)))
        waits.push(yield* readsDuring("stop the fork", () => fork.stop(20)))
        assert.strictEqual(fork.state, "stopped")
        for (const wait of waits)
          assert.isAtMost(wait.reads.length, wait.allowed, `${wait.name} (${wait.millis} ms): ${wait.reads.join(", ")}`)
        assert.include(proxy.lines, "UPGRADE /api/socket.io/ 101")
        assert.isFalse(proxy.lines.some((line) => line.startsWith("UPGRADE") && !line.endsWith(" 101")))

        const snapshot = yield* step("snapshot.get", () => daytona.snapshot.get("official-capture"))
        assert.strictEqual(snapshot.state, "active")
        const fromSnapshot = yield* step("create from the snapshot", () =>
          daytona.create({ snapshot: "official-capture" }, { timeout: 20 })
        )
        const restored = yield* step("download from the copy", () => fromSnapshot.fs.downloadFile("note.txt"))
        assert.strictEqual(restored.toString(), "parent file")

        const latest = yield* step("getMetricsLatest", () => fromSnapshot.getMetricsLatest())
        assert.strictEqual(latest.cpuCount, fromSnapshot.cpu)
        yield* Effect.sleep("700 millis")
        const samples = yield* step("getMetrics", () => fromSnapshot.getMetrics())
        assert.isAbove(samples.length, 0)
        const root = yield* step("getUserRootDir", () => fromSnapshot.getUserRootDir())
        assert.strictEqual(root, yield* step("getUserHomeDir", () => fromSnapshot.getUserHomeDir()))

        const pool = yield* step("warmPool.create", () =>
          daytona.warmPool.create({ snapshot: "official-capture", pool: 1 })
        )
        assert.strictEqual(pool.pool, 1)
        let current = 0
        for (let i = 0; i < 100 && current < 1; i++) {
          yield* Effect.sleep("100 millis")
          current =
            (yield* step("warmPool.list", () => daytona.warmPool.list())).find((p) => p.id === pool.id)?.currentSize ??
            0
        }
        assert.strictEqual(current, 1)
        const resized = yield* step("warmPool.update", () => daytona.warmPool.update(pool.id, { pool: 0 }))
        assert.strictEqual(resized.pool, 0)
        yield* step("warmPool.delete", () => daytona.warmPool.delete(pool.id))
        assert.deepStrictEqual(yield* step("warmPool.list", () => daytona.warmPool.list()), [])
      }).pipe(Effect.scoped),
    60_000
  )
})
