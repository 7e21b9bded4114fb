import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import type { LimitsReport } from "../src/SandboxEngine.js"
import {
  attackServer,
  bwrapRequired,
  destroy,
  getWithHost,
  hasBwrap,
  multipart,
  query,
  realSleep,
  sh,
  stopSandbox,
  timedOut,
  untilGone,
  upload
} from "./attackHarness.js"
import {
  advance,
  asApiError,
  asSandbox,
  asToolboxError,
  call,
  clientLayer,
  createStarted,
  raw,
  serve,
  tempDir
} from "./utils.js"

/**
 * Resource limits, the network cut-off, every process of a sandbox killed with it, and bounded
 * request bodies: enforced where this machine allows, and reported by `GET /api/config`.
 */

const bwrapTest = hasBwrap || bwrapRequired ? it.scoped : undefined

const limitsOf = (body: unknown) => (body as { resourceLimits: LimitsReport }).resourceLimits

describe("resource limits", () => {
  bwrapTest?.("memory, processes and file size hold for a sandbox's processes; /api/config says how", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const limits = limitsOf((yield* call(client, "GET", "/api/config")).body)
      assert.isTrue(limits.memory.enforced)
      assert.isTrue(limits.fileSize.enforced)
      const a = yield* createStarted(client)
      assert.deepStrictEqual([a.cpu, a.memory, a.disk], [1, 1, 3])

      const memory = yield* sh(
        client,
        a.id,
        "node -e 'Buffer.alloc(1536 * 1024 * 1024).fill(1); console.log(\"allocated\")'"
      )
      assert.notStrictEqual(memory.exitCode, 0)
      assert.notInclude(memory.result, "allocated")

      const fileSize = yield* sh(
        client,
        a.id,
        "truncate -s 4G big.bin; echo $?; stat -c %s big.bin 2>/dev/null || echo none"
      )
      assert.notStrictEqual(fileSize.result.split("\n")[0], "0")
      assert.notStrictEqual(fileSize.result.split("\n")[1], String(4 * 1024 ** 3))

      if (limits.processes.enforced) {
        const forks = yield* sh(
          client,
          a.id,
          "for i in $(seq 200); do sleep 60 >/dev/null 2>&1 & done 2>/dev/null; ls /proc | grep -c '^[0-9]'"
        )
        assert.isBelow(Number(forks.result.trim().split("\n").pop()), 200)
      }
      yield* stopSandbox(client, a.id)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("toolbox writes past the sandbox's disk are refused; cpu and memory follow a resize", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const created = asSandbox(
        yield* call(client, "POST", "/api/sandbox", { buildInfo: { dockerfileContent: "FROM scratch\n" }, disk: 1 })
      )
      for (let step = 0; step < 6; step++) {
        yield* advance("1 second")
        yield* call(client, "GET", `/api/sandbox/${created.id}`)
      }
      const sandbox = asSandbox(yield* call(client, "GET", `/api/sandbox/${created.id}`))
      assert.deepStrictEqual([sandbox.state, sandbox.disk], ["started", 1])
      const fill = yield* sh(client, sandbox.id, "fallocate -l 1000M filler && echo filled")
      assert.include(fill.result, "filled")
      const refused = yield* upload(client, sandbox.id, "more.bin", "x".repeat(40 * 1024 * 1024))
      assert.strictEqual(refused.status, 400)
      assert.include(String((refused.body as { message: string }).message), "disk")
      const left = yield* sh(client, sandbox.id, "ls")
      assert.deepStrictEqual(left.result, "filler\n")
      yield* sh(client, sandbox.id, "rm filler")
      const resized = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/resize`, { cpu: 2, memory: 2 })
      assert.strictEqual(resized.status, 200)
    }).pipe(Effect.provide(clientLayer))
  )
})

describe("network", () => {
  bwrapTest?.("networkBlockAll gives the sandbox a network of its own: nothing outside, previews still reach it", () =>
    Effect.gen(function* () {
      // Shared, so that the sandbox without rules reaches the server's loopback port for contrast.
      const { client, server } = yield* attackServer({ sandboxNetwork: "shared" })
      const port = Number(new URL(server.url).port)
      const probe = `node -e 'const s = require("net").connect(${port}, "127.0.0.1"); s.on("connect", () => { console.log("reached"); process.exit(0) }); s.on("error", (e) => { console.log(e.code); process.exit(0) })'`
      const open = yield* createStarted(client)
      assert.include((yield* sh(client, open.id, probe)).result, "reached")
      const blocked = yield* createStarted(client, { networkBlockAll: true })
      assert.strictEqual(blocked.networkBlockAll, true)
      const answer = yield* sh(client, blocked.id, probe)
      assert.notInclude(answer.result, "reached")
      const interfaces = yield* sh(client, blocked.id, "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '")
      assert.deepStrictEqual(interfaces.result, "lo\n")

      yield* sh(
        client,
        blocked.id,
        "echo inside > index.html; nohup python3 -m http.server 8123 --bind 127.0.0.1 >/dev/null 2>&1 &"
      )
      const link = (yield* call(client, "GET", `/api/sandbox/${blocked.id}/ports/8123/preview-url`)).body as {
        url: string
        token: string
      }
      let reply = { status: 0, body: "" }
      for (let i = 0; i < 100 && reply.status !== 200; i++) {
        reply = yield* getWithHost(port, new URL(link.url).host, "/index.html", {
          "X-Daytona-Preview-Token": link.token
        })
        if (reply.status !== 200) yield* realSleep(100)
      }
      assert.deepStrictEqual(reply, { status: 200, body: "inside\n" })

      const change = yield* call(client, "POST", `/api/sandbox/${open.id}/network-settings`, { networkBlockAll: true })
      assert.strictEqual(change.status, 400)
      assert.include(asApiError(change).message, "stop the sandbox")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("without isolation, allow lists and networkBlockAll are refused with 400 (not enforced)", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const allow = yield* call(client, "POST", "/api/sandbox", { networkAllowList: "10.0.0.0/8" })
      assert.strictEqual(allow.status, 400)
      assert.include(asApiError(allow).message, 'allow lists are not enforced with isolation "none"')
      const block = yield* call(client, "POST", "/api/sandbox", { networkBlockAll: true })
      assert.strictEqual(block.status, 400)
      assert.include(asApiError(block).message, 'networkBlockAll is not enforced with isolation "none"')
      const config = (yield* call(client, "GET", "/api/config")).body as {
        securityBoundary: boolean
        resourceLimits: LimitsReport
      }
      assert.isFalse(config.securityBoundary)
      assert.isFalse(config.resourceLimits.networkBlockAll.enforced)
      assert.isFalse(config.resourceLimits.networkAllowList.enforced)
    }).pipe(Effect.provide(clientLayer))
  )
})

const isolations = [
  ...(hasBwrap || bwrapRequired ? [{ name: "bwrap", options: { isolation: "bwrap" } as const }] : []),
  { name: "none with control groups where possible", options: { isolation: "none" } as const },
  { name: "none with rlimits only", options: { isolation: "none", resourceLimits: "rlimits" } as const }
]

describe("every process of a sandbox ends with it", () => {
  for (const { name, options } of isolations) {
    it.scoped(`setsid children die on stop, delete, a timed-out command and server exit (${name})`, () =>
      Effect.gen(function* () {
        const tag = Math.floor(Math.random() * 1e6)
        const { client } = yield* attackServer(options)
        const detach = (n: number) => `setsid sleep ${tag}${n} >/dev/null 2>&1 < /dev/null &`

        const a = yield* createStarted(client)
        yield* sh(client, a.id, detach(1))
        assert.isFalse(yield* untilGone(`sleep ${tag}1`, 300))
        yield* stopSandbox(client, a.id)
        assert.isTrue(yield* untilGone(`sleep ${tag}1`), "stop")

        const b = yield* createStarted(client)
        yield* sh(client, b.id, detach(2))
        yield* destroy(client, b.id)
        assert.isTrue(yield* untilGone(`sleep ${tag}2`), "delete")

        const c = yield* createStarted(client)
        // The foreground command is tagged too: the machine's process list is shared with every test
        // running beside this one, and a bare "sleep 30" also matches their "sleep 300".
        const timeout = yield* timedOut(client, c.id, `${detach(3)} sleep 30.${tag}`)
        assert.strictEqual(timeout.status, 408)
        assert.isTrue(yield* untilGone(`sleep ${tag}3`), "timeout")
        assert.isTrue(yield* untilGone(`sleep 30.${tag}`), "timeout")

        yield* Effect.scoped(
          Effect.gen(function* () {
            const inner = yield* attackServer(options)
            const d = yield* createStarted(inner.client)
            yield* sh(inner.client, d.id, detach(4))
            assert.isFalse(yield* untilGone(`sleep ${tag}4`, 300))
          })
        )
        assert.isTrue(yield* untilGone(`sleep ${tag}4`), "server exit")
      }).pipe(Effect.provide(clientLayer))
    )
  }
})

/** A raw request with a chunked body of `size` bytes and no Content-Length. */
const chunked = (url: string, path: string, size: number) =>
  Effect.async<number>((resume) => {
    const request = NodeHttp.request(
      `${url}${path}`,
      { method: "POST", headers: { authorization: "Bearer test-key", "content-type": "application/json" } },
      (response) => {
        response.resume()
        resume(Effect.succeed(response.statusCode ?? 0))
      }
    )
    request.on("error", () => resume(Effect.succeed(-1)))
    const piece = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const pump = () => {
      while (sent < size) {
        sent += piece.length
        if (!request.write(piece)) return void request.once("drain", pump)
      }
      request.end()
    }
    pump()
    return Effect.sync(() => request.destroy())
  })

describe("request bodies", () => {
  it.scoped("bodies above the limits are answered 413 in Daytona's shapes, declared or chunked", () =>
    Effect.gen(function* () {
      const { client, server } = yield* serve(yield* tempDir)
      const label = "x".repeat(50 * 1024 * 1024)
      const create = yield* call(client, "POST", "/api/sandbox", { labels: { big: label } })
      assert.strictEqual(create.status, 413)
      assert.deepInclude(asApiError(create), { statusCode: 413, error: "Payload Too Large" })
      assert.strictEqual(yield* chunked(server.url, "/api/sandbox", 2 * 1024 * 1024), 413)
      const a = yield* createStarted(client)
      const command = yield* call(client, "POST", `/toolbox/${a.id}/process/execute`, {
        command: `echo ${"y".repeat(20 * 1024 * 1024)}`
      })
      assert.strictEqual(command.status, 413)
      assert.strictEqual(asToolboxError(command).code, "REQUEST_ENTITY_TOO_LARGE")
      const listed = yield* call(client, "GET", "/api/sandbox")
      assert.strictEqual(listed.status, 200)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("an upload cut off midway leaves nothing under its final name", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client, server } = yield* serve(dir)
      const a = yield* createStarted(client)
      const home = NodePath.join(dir, "sandboxes", a.id, "home")
      const form = multipart(Buffer.alloc(8 * 1024 * 1024, 0x61))
      yield* Effect.async<void>((resume) => {
        const socket = NodeNet.connect(Number(new URL(server.url).port), "127.0.0.1", () => {
          socket.write(
            `POST /toolbox/${a.id}/files/upload?${query({ path: "partial.bin" })} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\nContent-Type: ${form.contentType}\r\nContent-Length: ${form.body.length}\r\n\r\n`
          )
          socket.write(form.body.subarray(0, 4 * 1024 * 1024), () => setTimeout(() => socket.destroy(), 200))
        })
        socket.on("close", () => resume(Effect.void))
        socket.on("error", () => undefined)
      })
      yield* realSleep(300)
      const names = yield* Effect.promise(() => NodeFs.readdir(home))
      assert.deepStrictEqual(names, [])
      const whole = yield* raw(
        client,
        HttpClientRequest.post(`/toolbox/${a.id}/files/upload`).pipe(
          HttpClientRequest.setUrlParam("path", "whole.bin"),
          HttpClientRequest.bodyUint8Array(form.body, form.contentType)
        )
      )
      assert.strictEqual(whole.status, 200)
      assert.deepStrictEqual(yield* Effect.promise(() => NodeFs.readdir(home)), ["whole.bin"])
    }).pipe(Effect.provide(clientLayer))
  )
})
