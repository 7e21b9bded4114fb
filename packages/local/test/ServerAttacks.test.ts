import { assert, describe, it } from "@effect/vitest"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import { maxGlobLength } from "../src/internal/glob.js"
import { maxWalkDepth } from "../src/internal/sandboxFs.js"
import * as NodeNet from "node:net"
import {
  attackServer,
  bwrapRequired,
  getWithHost,
  hasBwrap,
  hostProcesses,
  hostServer,
  query,
  sh,
  upload
} from "./attackHarness.js"
import { settleTo } from "./lifecycleHarness.js"
import { advance, asSandbox, asToolboxError, call, clientLayer, createStarted } from "./utils.js"

/**
 * Attacks on the server itself rather than on another sandbox's files: one sandbox trying to stall
 * the server for every other (its threads, its only JavaScript thread, its descriptors), and input
 * that must be refused before it reaches a process. Each test fails if its attack works again.
 */

const bwrapTest = hasBwrap || bwrapRequired ? it.scoped : undefined

/** Fails a request that has not answered within `seconds` of real time (the tests run under `TestClock`). */
const within =
  (seconds: number) =>
  <A, E, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(Effect.timeout(Duration.seconds(seconds)), Effect.withClock(Clock.make()))

/** Whether this machine has an IPv6 loopback to listen on. */
const ipv6Loopback = Effect.async<boolean>((resume) => {
  const probe = NodeNet.createServer()
  probe.once("error", () => resume(Effect.succeed(false)))
  probe.listen(0, "::1", () => probe.close(() => resume(Effect.succeed(true))))
})

/** How many descriptors this process (which runs the server under test) holds open. */
const openDescriptors = Effect.promise(() => NodeFs.readdir("/proc/self/fd").then((names) => names.length))

describe("attacks on the server", () => {
  bwrapTest?.("a file swapped for a named pipe while the toolbox rewrites it holds none of the server's threads", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      const b = yield* createStarted(client)
      assert.strictEqual((yield* upload(client, b.id, "b.txt", "b's file")).status, 200)
      // A hard link keeps one pipe to swap in again and again; a rename puts a file or the pipe at
      // `f`, each for about as long, so that the server may look at a file and open the pipe.
      const swapper = [
        "const fs = require('fs')",
        "const { execFileSync } = require('child_process')",
        "const quiet = (f) => { try { f() } catch {} }",
        "const hold = (micros) => { const until = process.hrtime.bigint() + BigInt(micros) * 1000n; while (process.hrtime.bigint() < until) {} }",
        "execFileSync('mkfifo', ['pipe'])",
        "const end = Date.now() + 60000",
        "while (Date.now() < end) {",
        "  quiet(() => fs.writeFileSync('r.tmp', 'eeee'))",
        "  quiet(() => fs.renameSync('r.tmp', 'f'))",
        "  hold(200)",
        "  quiet(() => fs.linkSync('pipe', 'p.tmp'))",
        "  quiet(() => fs.renameSync('p.tmp', 'f'))",
        "  hold(200)",
        "}"
      ].join("\n")
      assert.strictEqual((yield* upload(client, a.id, "swap.js", swapper)).status, 200)
      yield* sh(client, a.id, "nohup node swap.js >/dev/null 2>&1 &")
      const statuses = new Set<number>()
      for (let i = 0; i < 300; i++) {
        const answer = yield* call(client, "POST", `/toolbox/${a.id}/files/replace`, {
          files: ["f"],
          pattern: "e",
          newValue: "E"
        }).pipe(within(10))
        statuses.add(answer.status)
      }
      assert.deepStrictEqual([...statuses], [200])
      // Every file operation of the server still runs: another sandbox's file is looked at.
      const info = yield* call(client, "GET", `/toolbox/${b.id}/files/info?${query({ path: "b.txt" })}`).pipe(
        within(10)
      )
      assert.strictEqual(info.status, 200)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a glob of many stars against a long file name answers at once", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      yield* sh(client, a.id, `touch ${"a".repeat(250)}`)
      // A backtracking regular expression would take longer than the machine lasts for this one.
      const pattern = `${"*a".repeat(12)}*b`
      const search = yield* call(client, "GET", `/toolbox/${a.id}/files/search?${query({ path: ".", pattern })}`).pipe(
        within(10)
      )
      assert.strictEqual(search.status, 200)
      assert.deepStrictEqual(search.body, { files: [] })
      const found = yield* call(
        client,
        "GET",
        `/toolbox/${a.id}/files/search?${query({ path: ".", pattern: `${"*a".repeat(12)}*` })}`
      )
      assert.deepStrictEqual(found.body, { files: ["a".repeat(250)] })
      const tooLong = yield* call(
        client,
        "GET",
        `/toolbox/${a.id}/files/search?${query({ path: ".", pattern: "*".repeat(maxGlobLength + 1) })}`
      )
      assert.strictEqual(tooLong.status, 400)
      assert.include(asToolboxError(tooLong).message, "too long")
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("links that walk a deep tree again and again hold few descriptors and are refused", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      const deep = "a/".repeat(1990)
      const made = yield* sh(
        client,
        a.id,
        `mkdir -p ${deep} && ln -s "$HOME/${deep}loop" ${deep}loop && ln -s "$HOME/${deep}loop" loop && echo made`
      )
      assert.strictEqual(made.result.trim(), "made")
      const before = yield* openDescriptors
      const info = yield* call(client, "GET", `/toolbox/${a.id}/files/info?${query({ path: "loop/x" })}`)
      assert.strictEqual(info.status, 400)
      assert.include(asToolboxError(info).message, "too many path components")
      // The deep directory itself is still reachable in one walk.
      const direct = yield* call(
        client,
        "POST",
        `/toolbox/${a.id}/files/folder?${query({ path: `${deep}b`, mode: "755" })}`
      )
      assert.strictEqual(direct.status, 201)
      assert.isAtMost((yield* openDescriptors) - before, 16)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.(
    "a sandbox listening on ::1 where the host listens on 127.0.0.1 gets its own previews, not the host's",
    () =>
      Effect.gen(function* () {
        const { client, server } = yield* attackServer()
        const serverPort = Number(new URL(server.url).port)
        const host = yield* hostServer
        const a = yield* createStarted(client)
        const listener = `require('http').createServer((q, r) => r.end('sandbox')).listen(${host.port}, '::1')`
        assert.strictEqual((yield* upload(client, a.id, "listen.js", listener)).status, 200)
        yield* sh(client, a.id, "nohup node listen.js > listen.log 2>&1 &")
        const link = (yield* call(client, "GET", `/api/sandbox/${a.id}/ports/${host.port}/preview-url`)).body as {
          readonly url: string
          readonly token: string
        }
        const headers = { "X-Daytona-Preview-Token": link.token }
        const expected = (yield* ipv6Loopback) ? "sandbox" : undefined
        let reply = { status: 0, body: "" }
        for (let attempt = 0; attempt < 50; attempt++) {
          reply = yield* getWithHost(serverPort, new URL(link.url).host, "/", headers)
          if (reply.status === 200 || expected === undefined) break
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 100)))
        }
        assert.notInclude(reply.body, "host service secret")
        if (expected === undefined) assert.strictEqual(reply.status, 502)
        else assert.deepStrictEqual(reply, { status: 200, body: expected })
      }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a link planted on a volume's mount path fails the next start instead of steering the bind", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const created = yield* call(client, "POST", "/api/volumes", { name: "planted" })
      assert.strictEqual(created.status, 200, JSON.stringify(created.body))
      yield* advance("2 seconds")
      const volumeId = (created.body as { readonly id: string }).id
      const a = yield* createStarted(client, { volumes: [{ volumeId, mountPath: "/home/daytona/a/vol" }] })
      assert.strictEqual(a.state, "started", a.errorReason ?? "")
      const planted = yield* sh(
        client,
        a.id,
        "mv /home/daytona/a /home/daytona/b && ln -s /oldroot/proc/self/cwd /home/daytona/a && echo planted"
      )
      assert.strictEqual(planted.result.trim(), "planted")
      assert.strictEqual((yield* call(client, "POST", `/api/sandbox/${a.id}/stop`)).status, 200)
      yield* advance("2 seconds")
      yield* call(client, "POST", `/api/sandbox/${a.id}/start`)
      yield* advance("2 seconds")
      const after = asSandbox(yield* call(client, "GET", `/api/sandbox/${a.id}`))
      assert.notStrictEqual(after.state, "started")
      assert.include(after.errorReason ?? "", "is a link or not a directory")
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("sessions are bounded per sandbox, and their ids are URL segments of sane length", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      for (const sessionId of ["../../tmp/x", "a/b", "a\\b", "x\u0000y", "t\u001b[2J", "s".repeat(257)]) {
        const session = yield* call(client, "POST", `/toolbox/${a.id}/process/session`, { sessionId })
        assert.strictEqual(session.status, 400, JSON.stringify(sessionId))
        const pty = yield* call(client, "POST", `/toolbox/${a.id}/process/pty`, { id: sessionId, lazyStart: true })
        assert.strictEqual(pty.status, 400, JSON.stringify(sessionId))
      }
      for (let i = 0; i < 32; i++) {
        const created = yield* call(client, "POST", `/toolbox/${a.id}/process/session`, { sessionId: `s${i}` })
        assert.strictEqual(created.status, 201, `session ${i}: ${JSON.stringify(created.body)}`)
      }
      const refused = yield* call(client, "POST", `/toolbox/${a.id}/process/session`, { sessionId: "one-more" })
      assert.strictEqual(refused.status, 400)
      assert.include(asToolboxError(refused).message, "too many sessions")
      assert.strictEqual((yield* call(client, "DELETE", `/toolbox/${a.id}/process/session/s0`)).status, 204)
      const again = yield* call(client, "POST", `/toolbox/${a.id}/process/session`, { sessionId: "one-more" })
      assert.strictEqual(again.status, 201)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a sandbox that used up its processes is told so with 400, and another sandbox is not affected", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const config = (yield* call(client, "GET", "/api/config")).body as {
        resourceLimits: { processes: { enforced: boolean } }
      }
      // Without a limit of the sandbox's own, the loop below would use up the machine's.
      if (!config.resourceLimits.processes.enforced) return
      const a = yield* createStarted(client)
      const b = yield* createStarted(client)
      // The shell ends at the first fork refused (dash's "Cannot fork" is fatal); its sleeps stay.
      yield* sh(client, a.id, "for i in $(seq 400); do sleep 600 >/dev/null 2>&1 & done 2>/dev/null", 30)
      const session = yield* call(client, "POST", `/toolbox/${a.id}/process/session`, { sessionId: "late" })
      assert.strictEqual(session.status, 400, JSON.stringify(session.body))
      assert.include(asToolboxError(session).message, "no processes left")
      const command = yield* call(client, "POST", `/toolbox/${a.id}/process/execute`, { command: "echo hi" })
      assert.isBelow(command.status, 500, JSON.stringify(command.body))
      const other = yield* sh(client, b.id, "echo fine")
      assert.strictEqual(other.result.trim(), "fine")
      // Stopping ends every process of the sandbox; it starts again with all of its processes.
      assert.strictEqual((yield* call(client, "POST", `/api/sandbox/${a.id}/stop`)).status, 200)
      assert.strictEqual(yield* settleTo(client, a.id, "stopped"), "stopped")
      assert.strictEqual((yield* call(client, "POST", `/api/sandbox/${a.id}/start`)).status, 200)
      assert.strictEqual(yield* settleTo(client, a.id, "started"), "started")
      const after = yield* call(client, "POST", `/toolbox/${a.id}/process/session`, { sessionId: "late" })
      assert.strictEqual(after.status, 201, JSON.stringify(after.body))
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a command's PATH never picks the programs that enter the sandbox: they stay on the server's", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      const escaped = `/tmp/daytona-escape-${a.id}`
      yield* Effect.addFinalizer(() => Effect.promise(() => NodeFs.rm(escaped, { force: true })))
      // Stand-ins for the helpers, in the sandbox's home: each leaves a mark where it runs (the
      // machine's /tmp when it runs there) and goes on to the real one, so that nothing else fails.
      const helpers = ["nsenter", "setpriv", "prlimit", "env", "sh"]
      const planted = yield* sh(
        client,
        a.id,
        [
          ...helpers.map(
            (name) =>
              `printf '#!/bin/sh\\necho "$(id -u) $0" >> ${escaped}\\nexec /usr/bin/${name} "$@"\\n' > "$HOME/${name}" && chmod 755 "$HOME/${name}"`
          ),
          "(nohup sleep 3434 >/dev/null 2>&1 &)",
          "echo planted"
        ].join(" && ")
      )
      assert.include(planted.result, "planted")
      // The host's path of the sandbox's home, as a process of it shows it (/proc/<pid>/cwd).
      let pid: number | undefined
      for (let attempt = 0; attempt < 50 && pid === undefined; attempt++) {
        pid = (yield* hostProcesses("sleep 3434")).find((found) => found.cmdline.startsWith("sleep"))?.pid
        if (pid === undefined) yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      }
      assert.isDefined(pid)
      const path = `/proc/${pid}/cwd:/usr/bin:/bin`
      const ran = yield* call(client, "POST", `/toolbox/${a.id}/process/execute`, {
        command: "echo inside-ok",
        envs: { PATH: path }
      })
      assert.strictEqual(ran.status, 200, JSON.stringify(ran.body))
      assert.include(JSON.stringify(ran.body), "inside-ok")
      const marks = yield* Effect.promise(() => NodeFs.readFile(escaped, "utf8").catch(() => ""))
      assert.strictEqual(marks, "", "a helper of the sandbox's ran on the machine")

      // A sandbox whose PATH names none of the helpers still runs its commands.
      const b = yield* createStarted(client, { env: { PATH: "/home/daytona/bin" } })
      const own = yield* call(client, "POST", `/toolbox/${b.id}/process/execute`, { command: "/bin/echo fine" })
      assert.strictEqual(own.status, 200)
      assert.strictEqual((own.body as { result: string }).result.trim(), "fine", JSON.stringify(own.body))
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("an environment no process can have is refused when it is given, not by every later command", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      for (const env of [{ "A\u0000B": "c" }, { A: "x\u0000y" }, { "A=B": "c" }, { "": "c" }]) {
        const created = yield* call(client, "POST", "/api/sandbox", { env })
        assert.strictEqual(created.status, 400, JSON.stringify(env))
      }
      const a = yield* createStarted(client, { env: { GOOD: "1" } })
      const update = yield* call(client, "POST", `/toolbox/${a.id}/env`, { set: { B: "x\u0000y" } })
      assert.strictEqual(update.status, 400)
      assert.strictEqual((yield* sh(client, a.id, 'echo "$GOOD"')).result.trim(), "1")
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("file names a sandbox makes reach a download's content-disposition escaped", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      const names = {
        quote: "11111111-2222-3333-4444-888888888888_a\"; filename*=UTF-8''evil.sh; x=\".mp4",
        lineBreak: "11111111-2222-3333-4444-555555555555_a\r\nSet-Cookie: pwn=1.mp4",
        wide: "11111111-2222-3333-4444-999999999999_\u65e5\u672c.mp4"
      }
      const planter = [
        "const fs = require('fs')",
        "const dir = require('os').homedir() + '/.daytona/recordings'",
        "fs.mkdirSync(dir, { recursive: true })",
        `for (const name of ${JSON.stringify(Object.values(names))}) fs.writeFileSync(dir + '/' + name, 'x')`
      ].join("\n")
      assert.strictEqual((yield* upload(client, a.id, "plant.js", planter)).status, 200)
      assert.strictEqual((yield* sh(client, a.id, "node plant.js")).exitCode, 0)
      for (const [what, name] of Object.entries(names)) {
        const id = name.slice(0, 36)
        const answer = yield* client
          .execute(HttpClientRequest.get(`/toolbox/${a.id}/computeruse/recordings/${id}/download`))
          .pipe(
            Effect.map((response) => ({
              status: response.status,
              disposition: response.headers["content-disposition"] ?? "",
              cookie: response.headers["set-cookie"]
            })),
            Effect.scoped
          )
        assert.strictEqual(answer.status, 200, what)
        assert.isUndefined(answer.cookie, what)
        assert.match(
          answer.disposition,
          /^attachment; filename="[\x20\x21\x23-\x7e]*"; filename\*=utf-8''[A-Za-z0-9%._~-]*$/,
          what
        )
      }
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a NUL character in a command, its directory or its environment is refused with 400", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      for (const body of [
        { command: "true", cwd: "a\u0000b" },
        { command: "echo a\u0000b" },
        { command: "true", envs: { A: "x\u0000y" } }
      ]) {
        const answer = yield* call(client, "POST", `/toolbox/${a.id}/process/execute`, body)
        assert.strictEqual(answer.status, 400, JSON.stringify(body))
        const error = asToolboxError(answer)
        assert.include(error.message, "NUL")
        assert.notInclude(error.message, "args[")
      }
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.(
    "a tree deeper than a path can name: searches stop at 256 levels, and its sandbox's delete removes it",
    () =>
      Effect.gen(function* () {
        const { client, dir } = yield* attackServer()
        const { id } = yield* createStarted(client)
        const deep = yield* sh(
          client,
          id,
          `printf 'import os\\nfor i in range(2100):\\n    os.mkdir("d"); os.chdir("d")\\nprint("deep")\\n' > /tmp/deep.py && python3 /tmp/deep.py`
        )
        assert.strictEqual(deep.result, "deep\n")
        // Every level holds a file f holding x: a content search finds those of the first 256 levels.
        yield* sh(
          client,
          id,
          `printf 'import os\\nfor i in range(2100):\\n    open("f", "w").write("x"); os.chdir("d")\\n' > /tmp/files.py && python3 /tmp/files.py`
        )
        for (const route of ["search", "find"] as const) {
          const found = yield* call(
            client,
            "GET",
            `/toolbox/${id}/files/${route}?${query(route === "search" ? { path: ".", pattern: "f" } : { path: ".", pattern: "x" })}`
          ).pipe(within(30))
          assert.strictEqual(found.status, 200, `${route}: ${JSON.stringify(found.body).slice(0, 300)}`)
          if (route === "find") assert.strictEqual((found.body as Array<unknown>).length, maxWalkDepth)
        }
        assert.strictEqual((yield* call(client, "DELETE", `/api/sandbox/${id}`)).status, 200)
        assert.strictEqual(yield* settleTo(client, id, "destroyed"), "destroyed")
        const listed = yield* call(client, "GET", "/api/sandbox")
        assert.strictEqual(listed.status, 200, JSON.stringify(listed.body))
        const left = yield* Effect.promise(() => NodeFs.readdir(`${dir}/sandboxes`).catch(() => [] as Array<string>))
        assert.notInclude(left, id)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )
})
