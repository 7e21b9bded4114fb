import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import { hasBwrap } from "./attackHarness.js"
import { tempDir } from "./utils.js"

const launcher = NodePath.join(import.meta.dirname, "..", "bin", "daytona-local.mjs")

const freePort = Effect.async<number>((resume) => {
  const server = NodeNet.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as NodeNet.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** What became of one request: refused (nobody listening yet), answered, or accepted and left unanswered. */
type Outcome =
  | { readonly _tag: "Refused" }
  | { readonly _tag: "Answered"; readonly status: number }
  | { readonly _tag: "Dropped"; readonly reason: string }

const probe = (port: number) =>
  new Promise<Outcome>((resolve) => {
    let connected = false
    const request = NodeHttp.request({ host: "127.0.0.1", port, path: "/api/config", agent: false, timeout: 10_000 })
    request.on("socket", (socket) => socket.on("connect", () => (connected = true)))
    request.on("response", (response) => {
      response.resume()
      response.on("end", () => resolve({ _tag: "Answered", status: response.statusCode ?? 0 }))
    })
    request.on("timeout", () => request.destroy(new Error("no answer within 10 s")))
    request.on("error", (error) =>
      resolve(connected ? { _tag: "Dropped", reason: error.message } : { _tag: "Refused" })
    )
    request.end()
  })

/**
 * Starts `daytona-local serve` and requests every 20 ms from the moment it is spawned until it has
 * answered a few requests with the application (401 without a key): every request the server
 * accepts must be answered (503 while it starts), none left hanging.
 */
const startAndProbe = (isolation: string) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const port = yield* freePort
    const child = NodeChildProcess.spawn(
      process.execPath,
      [
        launcher,
        "serve",
        "--port",
        String(port),
        "--data-dir",
        dir,
        "--api-key",
        "startup-key",
        "--isolation",
        isolation
      ],
      { stdio: "ignore" }
    )
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
    )
    return yield* Effect.promise(async () => {
      const pending: Array<Promise<Outcome>> = []
      const deadline = Date.now() + 60_000
      let ready = 0
      while (ready < 5 && Date.now() < deadline) {
        const outcome = probe(port)
        pending.push(outcome)
        void outcome.then((o) => {
          if (o._tag === "Answered" && o.status === 401) ready++
        })
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return Promise.all(pending)
    })
  })

describe("start-up", () => {
  for (const isolation of hasBwrap ? ["auto", "none"] : ["none"]) {
    it.scoped(`a request at any moment of start-up is answered (isolation ${isolation})`, () =>
      Effect.gen(function* () {
        const outcomes = yield* startAndProbe(isolation)
        const dropped = outcomes.filter((o) => o._tag === "Dropped")
        assert.deepStrictEqual(dropped, [])
        const statuses = new Set(outcomes.flatMap((o) => (o._tag === "Answered" ? [o.status] : [])))
        assert.isTrue(statuses.has(401), "the application answered")
        // it listens before its services are built, so requests do arrive in that window
        assert.isTrue(statuses.has(503), "answered while starting")
        for (const status of statuses) assert.include([401, 503], status)
      })
    )
  }
})
