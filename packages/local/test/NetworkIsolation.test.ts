import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodeHttp from "node:http"
import * as NodeOs from "node:os"
import type { LimitsReport } from "../src/SandboxEngine.js"
import * as UserNetwork from "../src/internal/userNetwork.js"
import {
  attackServer,
  bwrapRequired,
  getWithHost,
  hasBwrap,
  hostProcesses,
  hostServer,
  realSleep,
  sh
} from "./attackHarness.js"
import { settleTo } from "./lifecycleHarness.js"
import { call, clientLayer, createStarted } from "./utils.js"

/**
 * A sandbox without network rules, under bubblewrap with `slirp4netns` on the machine, has a
 * network of its own: it reaches what the machine reaches outside, but not the machine's loopback
 * services nor another sandbox's, and its previews still work. Each test fails if a sandbox
 * reaches what it should not. CI installs `slirp4netns`, so there the network must be private.
 */

const hasSlirp = UserNetwork.find() !== undefined
const privateRequired = bwrapRequired && process.env["CI"] === "true"
const networkTest = (hasBwrap || bwrapRequired) && (hasSlirp || privateRequired) ? it.scoped : undefined

/** An address of this machine other than its loopback, where a service on 0.0.0.0 is reached from outside. */
const outsideAddress = Object.values(NodeOs.networkInterfaces())
  .flat()
  .find((entry) => entry !== undefined && entry.family === "IPv4" && !entry.internal)?.address

/** A service of the machine on every interface: what a sandbox may reach through its way out. */
const openService = Effect.acquireRelease(
  Effect.async<NodeHttp.Server & { port: number }>((resume) => {
    const server = NodeHttp.createServer((_request, response) => response.end("machine service"))
    server.listen(0, "0.0.0.0", () =>
      resume(Effect.succeed(Object.assign(server, { port: (server.address() as { port: number }).port })))
    )
  }),
  (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

/** `curl` from inside a sandbox: the body, or the reason it got none. */
const fetchFrom = (client: Parameters<typeof sh>[0], id: string, url: string) =>
  Effect.map(sh(client, id, `curl -sS --noproxy '*' --max-time 5 ${url} 2>&1 || echo " failed"`), (answer) =>
    answer.result.trim()
  )

describe("a network of its own", () => {
  networkTest?.("reaches the outside, never the machine's loopback or another sandbox's services", () =>
    Effect.gen(function* () {
      const { client, server } = yield* attackServer()
      const config = (yield* call(client, "GET", "/api/config")).body as { resourceLimits: LimitsReport }
      assert.isTrue(config.resourceLimits.networkIsolation.enforced, config.resourceLimits.networkIsolation.how)
      const host = yield* hostServer
      const serverPort = Number(new URL(server.url).port)
      const a = yield* createStarted(client)
      const b = yield* createStarted(client)

      const resolver = yield* sh(client, a.id, "cat /etc/resolv.conf")
      assert.strictEqual(resolver.result, UserNetwork.resolvConf)
      const interfaces = yield* sh(client, a.id, "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort")
      assert.deepStrictEqual(interfaces.result, "lo\ntap0\n")

      // The machine's loopback: its services, the server itself, through 10.0.2.2 as well.
      for (const url of [
        `http://127.0.0.1:${host.port}/`,
        `http://10.0.2.2:${host.port}/`,
        `http://127.0.0.1:${serverPort}/api/config`,
        `http://10.0.2.2:${serverPort}/api/config`
      ]) {
        const got = yield* fetchFrom(client, a.id, url)
        assert.include(got, "failed", `${url}: ${got}`)
        assert.notInclude(got, "host service secret")
      }

      // Another sandbox's service on its own 127.0.0.1 is not B's 127.0.0.1.
      yield* sh(
        client,
        a.id,
        "echo from-a > index.html; nohup python3 -m http.server 8124 --bind 127.0.0.1 >/dev/null 2>&1 &"
      )
      let own = ""
      for (let i = 0; i < 50 && !own.includes("from-a"); i++) {
        own = yield* fetchFrom(client, a.id, "http://127.0.0.1:8124/index.html")
        if (!own.includes("from-a")) yield* realSleep(100)
      }
      assert.strictEqual(own, "from-a")
      const fromB = yield* fetchFrom(client, b.id, "http://127.0.0.1:8124/index.html")
      assert.include(fromB, "failed")
      assert.notInclude(fromB, "from-a")

      // Its preview link reaches it (through a relay in its namespace).
      const link = (yield* call(client, "GET", `/api/sandbox/${a.id}/ports/8124/preview-url`)).body as {
        url: string
        token: string
      }
      const preview = yield* getWithHost(serverPort, new URL(link.url).host, "/index.html", {
        "X-Daytona-Preview-Token": link.token
      })
      assert.deepStrictEqual(preview, { status: 200, body: "from-a\n" })

      // The way out: a service of the machine on every interface, by the machine's outside address.
      if (outsideAddress !== undefined) {
        const open = yield* openService
        assert.strictEqual(yield* fetchFrom(client, a.id, `http://${outsideAddress}:${open.port}/`), "machine service")
      }
    }).pipe(Effect.provide(clientLayer))
  )

  networkTest?.(
    "slirp4netns runs without privileges in the sandbox's control group, comes back when it dies, and ends with its sandbox",
    () =>
      Effect.gen(function* () {
        const { client } = yield* attackServer()
        const a = yield* createStarted(client)
        yield* sh(client, a.id, "(nohup sleep 3535 >/dev/null 2>&1 &)")
        let sleeper: number | undefined
        for (let i = 0; i < 50 && sleeper === undefined; i++) {
          sleeper = (yield* hostProcesses("sleep 3535")).find((p) => p.cmdline.startsWith("sleep"))?.pid
          if (sleeper === undefined) yield* realSleep(50)
        }
        assert.isDefined(sleeper)
        const namespace = yield* Effect.promise(() => NodeFs.readlink(`/proc/${sleeper}/ns/net`))
        /** The `slirp4netns` processes that serve the sandbox's namespace. */
        const slirpOf = Effect.gen(function* () {
          const ours: Array<number> = []
          for (const candidate of yield* hostProcesses("slirp4netns")) {
            if (!candidate.cmdline.startsWith("slirp4netns") && !candidate.cmdline.includes("/slirp4netns ")) continue
            const target = /(\d+) tap0$/.exec(candidate.cmdline.trim())?.[1]
            if (target === undefined) continue
            const net = yield* Effect.promise(() => NodeFs.readlink(`/proc/${target}/ns/net`).catch(() => ""))
            const comm = yield* Effect.promise(() =>
              NodeFs.readFile(`/proc/${candidate.pid}/comm`, "utf8").catch(() => "")
            )
            if (net === namespace && comm.trim() === "slirp4netns") ours.push(candidate.pid)
          }
          return ours
        })
        const ours = yield* slirpOf
        assert.strictEqual(ours.length, 1, "one slirp4netns for the sandbox")
        const groupOf = (pid: number) =>
          Effect.promise(() => NodeFs.readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => "gone"))
        const cgroups = (yield* groupOf(sleeper!)).split("\n").filter((line) => /memory|pids|^0::/.test(line))
        const slirpGroups = yield* groupOf(ours[0]!)
        for (const line of cgroups) assert.include(slirpGroups, line, "in the sandbox's control group")
        const limits = yield* Effect.promise(() => NodeFs.readFile(`/proc/${ours[0]}/limits`, "utf8"))
        assert.match(
          limits,
          new RegExp(`^Max open files\\s+${UserNetwork.maxDescriptors}\\s+${UserNetwork.maxDescriptors}`, "m")
        )
        const status = yield* Effect.promise(() => NodeFs.readFile(`/proc/${ours[0]}/status`, "utf8"))
        const effective = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? "ffffffffffffffff"}`)
        // CAP_NET_BIND_SERVICE (bit 10) at most
        assert.strictEqual(effective & ~(1n << 10n), 0n, `capabilities left: ${effective.toString(16)}`)
        assert.match(status, /^Seccomp:\s+2$/m)

        // Killed (as a crash would end it), it is started again and the sandbox has its interface back.
        process.kill(ours[0]!, "SIGKILL")
        let again: Array<number> = []
        for (let i = 0; i < 100 && (again.length !== 1 || again[0] === ours[0]); i++) {
          yield* realSleep(50)
          again = yield* slirpOf
        }
        assert.strictEqual(again.length, 1)
        assert.notStrictEqual(again[0], ours[0])
        let interfaces = ""
        for (let i = 0; i < 50 && !interfaces.includes("tap0"); i++) {
          interfaces = (yield* sh(client, a.id, "cat /proc/net/dev")).result
          if (!interfaces.includes("tap0")) yield* realSleep(50)
        }
        assert.include(interfaces, "tap0")
        ours[0] = again[0]!

        assert.strictEqual((yield* call(client, "POST", `/api/sandbox/${a.id}/stop`)).status, 200)
        assert.strictEqual(yield* settleTo(client, a.id, "stopped"), "stopped")
        let alive = true
        for (let i = 0; i < 50 && alive; i++) {
          alive = yield* Effect.promise(() =>
            NodeFs.access(`/proc/${ours[0]}`).then(
              () => true,
              () => false
            )
          )
          if (alive) yield* realSleep(50)
        }
        assert.isFalse(alive, "slirp4netns ended with the sandbox")
      }).pipe(Effect.provide(clientLayer))
  )

  networkTest?.("each sandbox's GET /port lists its own listeners only, in its own namespace", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      const b = yield* createStarted(client)
      // The same port in both: each namespace has its own, and each sandbox sees only its own.
      yield* sh(client, a.id, "python3 -m http.server 8000 --bind 127.0.0.1 > /dev/null 2>&1 & echo")
      yield* sh(client, b.id, "python3 -m http.server 8000 --bind 0.0.0.0 > /dev/null 2>&1 & echo")
      yield* sh(client, b.id, "python3 -m http.server 9000 --bind ::1 > /dev/null 2>&1 & echo")
      const ports = (id: string) =>
        Effect.map(
          call(client, "GET", `/toolbox/${id}/port`),
          (answer) => (answer.body as { ports: Array<number> }).ports
        )
      let seen = { a: yield* ports(a.id), b: yield* ports(b.id) }
      for (let waited = 0; waited < 15_000 && (seen.a.length < 1 || seen.b.length < 2); waited += 100) {
        yield* realSleep(100)
        seen = { a: yield* ports(a.id), b: yield* ports(b.id) }
      }
      assert.deepStrictEqual(seen, { a: [8000], b: [8000, 9000] })
      const inUse = yield* call(client, "GET", `/toolbox/${a.id}/port/9000/in-use`)
      assert.deepStrictEqual(inUse.body, { isInUse: false })
    }).pipe(Effect.provide(clientLayer))
  )
})
