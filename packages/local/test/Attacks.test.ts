import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { sandboxUid } from "../src/SandboxEngine.js"
import {
  attackServer,
  bulkUpload,
  bwrapRequired,
  getWithHost,
  hasBwrap,
  homeDataDir,
  hostProcesses,
  hostServer,
  query,
  sh,
  upload
} from "./attackHarness.js"
import { asToolboxError, call, clientLayer, createStarted, serve, tempDir } from "./utils.js"

/**
 * The attacks of issue 10, each against a fresh server with `--isolation bwrap` and its data
 * directory in the user's home (the default). Each test fails if its attack works again.
 */

/** A host directory outside every sandbox, with one file the attacks try to reach. */
const victimDir = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = await NodeFs.mkdtemp("/var/tmp/daytona-victim-")
    await NodeFs.writeFile(NodePath.join(dir, "keep.txt"), "host content", { mode: 0o644 })
    await NodeFs.chmod(NodePath.join(dir, "keep.txt"), 0o644)
    return dir
  }),
  (dir) => Effect.promise(() => NodeFs.rm(dir, { recursive: true, force: true }))
)

const listing = (dir: string) => Effect.promise(() => NodeFs.readdir(dir).then((names) => names.sort()))
const content = (path: string) => Effect.promise(() => NodeFs.readFile(path, "utf8"))
const modeOf = (path: string) => Effect.promise(() => NodeFs.stat(path).then((s) => s.mode & 0o7777))

const bwrapTest = hasBwrap || bwrapRequired ? it.scoped : undefined

describe("attacks on the isolation", () => {
  if (!hasBwrap && !bwrapRequired) {
    it.scoped("without bwrap the server refuses bwrap isolation instead of running unisolated", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(serve(yield* tempDir, { isolation: "bwrap" }))
        assert.include(String(error.message), "bwrap")
      }).pipe(Effect.provide(clientLayer))
    )
  }

  bwrapTest?.("links planted in a sandbox steer no toolbox operation to the host or to another sandbox", () =>
    Effect.gen(function* () {
      const { client, dir } = yield* attackServer()
      const victim = yield* victimDir
      const a = yield* createStarted(client)
      const b = yield* createStarted(client)
      const bHome = NodePath.join(dir, "sandboxes", b.id, "home")
      assert.strictEqual((yield* upload(client, b.id, "b.txt", "b's file")).status, 200)
      const bMode = yield* modeOf(NodePath.join(bHome, "b.txt"))
      yield* sh(
        client,
        a.id,
        `ln -s ${victim} vt && ln -s nope/../vt a && ln -s ${victim}/keep.txt k && ln -s ${bHome} bh && echo own > own.txt`
      )
      const attempts = [
        upload(client, a.id, "a/x.txt", "x"),
        upload(client, a.id, "vt/x.txt", "x"),
        upload(client, a.id, "bh/x.txt", "x"),
        upload(client, a.id, "k", "overwritten"),
        bulkUpload(client, a.id, "a/y.txt", "y"),
        bulkUpload(client, a.id, "vt/y.txt", "y"),
        bulkUpload(client, a.id, "bh/b.txt", "overwritten"),
        call(client, "POST", `/toolbox/${a.id}/files/folder?${query({ path: "vt/newdir", mode: "755" })}`),
        call(client, "POST", `/toolbox/${a.id}/files/folder?${query({ path: "a/newdir", mode: "755" })}`),
        call(client, "DELETE", `/toolbox/${a.id}/files?${query({ path: "vt/keep.txt" })}`),
        call(client, "DELETE", `/toolbox/${a.id}/files?${query({ path: "bh/b.txt" })}`),
        call(client, "DELETE", `/toolbox/${a.id}/files?${query({ path: "vt/", recursive: "true" })}`),
        call(client, "POST", `/toolbox/${a.id}/files/move?${query({ source: "k", destination: "stolen.txt" })}`),
        call(client, "POST", `/toolbox/${a.id}/files/move?${query({ source: "own.txt", destination: "vt/own.txt" })}`),
        call(client, "POST", `/toolbox/${a.id}/files/move?${query({ source: "bh/b.txt", destination: "mine.txt" })}`),
        call(client, "POST", `/toolbox/${a.id}/files/permissions?${query({ path: "k", mode: "777" })}`),
        call(client, "POST", `/toolbox/${a.id}/files/permissions?${query({ path: "bh/b.txt", mode: "777" })}`),
        call(client, "POST", `/toolbox/${a.id}/files/replace`, {
          files: ["k", "bh/b.txt"],
          pattern: "e",
          newValue: "E"
        })
      ]
      for (const attempt of attempts) yield* attempt
      for (const path of ["k", "vt/keep.txt", "bh/b.txt"]) {
        const read = yield* call(client, "GET", `/toolbox/${a.id}/files/download?${query({ path })}`)
        assert.notStrictEqual(read.status, 200, `download ${path}`)
      }
      const info = yield* call(client, "GET", `/toolbox/${a.id}/files/info?${query({ path: "k" })}`)
      assert.notStrictEqual(info.status, 200)

      assert.deepStrictEqual(yield* listing(victim), ["keep.txt"])
      assert.strictEqual(yield* content(NodePath.join(victim, "keep.txt")), "host content")
      assert.strictEqual(yield* modeOf(NodePath.join(victim, "keep.txt")), 0o644)
      assert.deepStrictEqual(yield* listing(bHome), ["b.txt"])
      assert.strictEqual(yield* content(NodePath.join(bHome, "b.txt")), "b's file")
      assert.strictEqual(yield* modeOf(NodePath.join(bHome, "b.txt")), bMode)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a directory swapped for a link while the toolbox writes into it never leads out", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const victim = yield* victimDir
      const a = yield* createStarted(client)
      const swapper = [
        "const fs = require('fs')",
        "const quiet = (f) => { try { f() } catch {} }",
        "for (;;) {",
        "  quiet(() => fs.rmSync('d', { recursive: true, force: true }))",
        "  quiet(() => fs.mkdirSync('d'))",
        "  quiet(() => fs.rmSync('d', { recursive: true, force: true }))",
        `  quiet(() => fs.symlinkSync(${JSON.stringify(victim)}, 'd'))`,
        "}"
      ].join("\n")
      assert.strictEqual((yield* upload(client, a.id, "swap.js", swapper)).status, 200)
      yield* sh(client, a.id, "nohup node swap.js >/dev/null 2>&1 &")
      for (let i = 0; i < 60; i++) {
        yield* upload(client, a.id, `d/x${i}.txt`, "x")
        yield* call(client, "POST", `/toolbox/${a.id}/files/folder?${query({ path: `d/dir${i}`, mode: "755" })}`)
      }
      assert.deepStrictEqual(yield* listing(victim), ["keep.txt"])
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.(
    "root inside has no capability and is an unprivileged uid outside; /proc and the host stay out of reach",
    () =>
      Effect.gen(function* () {
        const decoy = NodeChildProcess.spawn(
          process.execPath,
          ["-e", "setTimeout(() => {}, 120000)", "--api-key", "decoy-key-9d1e"],
          {
            stdio: "ignore"
          }
        )
        yield* Effect.addFinalizer(() => Effect.sync(() => decoy.kill("SIGKILL")))
        const { client } = yield* attackServer()
        const a = yield* createStarted(client)
        const caps = yield* sh(client, a.id, "id -u; grep CapEff /proc/self/status")
        assert.deepStrictEqual(caps, { exitCode: 0, result: "0\nCapEff:\t0000000000000000\n" })
        const escape = yield* sh(
          client,
          a.id,
          "mount -o remount,rw,bind / 2>&1; mount -o remount,rw,bind /usr 2>&1; touch /usr/daytona-escape 2>&1; umount -l /proc 2>&1; echo; cat /proc/*/cmdline 2>/dev/null | tr '\\000' ' '"
        )
        assert.notInclude(escape.result, "decoy-key-9d1e")
        assert.notInclude(escape.result, "vitest")
        const escaped = yield* Effect.promise(() =>
          NodeFs.stat("/usr/daytona-escape").then(
            () => true,
            () => false
          )
        )
        assert.isFalse(escaped)

        yield* sh(client, a.id, "nohup sleep 31337 >/dev/null 2>&1 &")
        const sleeping = yield* hostProcesses("sleep 31337")
        assert.isAbove(sleeping.length, 0)
        for (const found of sleeping) {
          assert.notStrictEqual(found.uid, 0)
          if (process.geteuid?.() === 0) assert.strictEqual(found.uid, sandboxUid(a.id))
        }
      }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("nothing of the data directory, other sandboxes or the server's own files is visible", () =>
    Effect.gen(function* () {
      const { client, dir } = yield* attackServer()
      const a = yield* createStarted(client)
      const b = yield* createStarted(client)
      yield* upload(client, b.id, "b.txt", "b's secret")
      const repository = NodePath.resolve(import.meta.dirname, "..", "..", "..")
      const seen = yield* sh(
        client,
        a.id,
        [
          `ls ${dir} 2>/dev/null && echo DATADIR`,
          `cat ${dir}/daytona.db >/dev/null 2>&1 && echo DATABASE`,
          `cat ${dir}/sandboxes/${b.id}/home/b.txt 2>/dev/null && echo OTHER`,
          `test -e ${repository}/package.json && echo REPOSITORY`,
          `test -e ${repository}/packages/local/src/LocalDaytona.ts && echo SOURCES`,
          "cat /etc/shadow >/dev/null 2>&1 && echo SHADOW",
          "ls /home"
        ].join("; ")
      )
      assert.deepStrictEqual(seen, { exitCode: 0, result: "daytona\n" })
      for (const path of [
        `${dir}/daytona.db`,
        `${dir}/sandboxes/${b.id}/home/b.txt`,
        "/etc/shadow",
        "/proc/1/environ"
      ]) {
        const read = yield* call(client, "GET", `/toolbox/${a.id}/files/download?${query({ path })}`)
        assert.include([403, 404], read.status, path)
      }
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("session logs are read from the sandbox without following the links it plants", () =>
    Effect.gen(function* () {
      const { client, dir } = yield* attackServer()
      const a = yield* createStarted(client)
      const b = yield* createStarted(client)
      yield* upload(client, b.id, "b.txt", "b's secret")
      assert.strictEqual(
        (yield* call(client, "POST", `/toolbox/${a.id}/process/session`, { sessionId: "s" })).status,
        201
      )
      const run = yield* call(client, "POST", `/toolbox/${a.id}/process/session/s/exec`, { command: "echo hello" })
      const { cmdId } = run.body as { cmdId: string }
      assert.include((run.body as { output: string }).output, "hello")
      const targets = ["/proc/self/cmdline", "/proc/self/environ", `${dir}/sandboxes/${b.id}/home/b.txt`]
      for (const target of targets) {
        yield* sh(
          client,
          a.id,
          `for f in /tmp/.daytona/sessions/*/${cmdId}; do ln -sf ${target} "$f/output.log"; ln -sf ${target} "$f/exit_code"; done`
        )
        const logs = yield* call(client, "GET", `/toolbox/${a.id}/process/session/s/command/${cmdId}/logs`)
        const text = JSON.stringify(logs.body)
        assert.notInclude(text, "vitest")
        assert.notInclude(text, "b's secret")
        assert.notInclude(text, "test-key")
        const command = yield* call(client, "GET", `/toolbox/${a.id}/process/session/s/command/${cmdId}`)
        assert.strictEqual((command.body as { exitCode: number }).exitCode, 0)
      }
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a preview port outside 1–65535 answers 400 and the server lives on", () =>
    Effect.gen(function* () {
      const { client, server } = yield* attackServer()
      const port = Number(new URL(server.url).port)
      const sandbox = yield* createStarted(client, { public: true })
      for (const bad of ["65536", "99999", "0"]) {
        const reply = yield* getWithHost(port, `${bad}-${sandbox.id}.localhost:${port}`, "/")
        assert.strictEqual(reply.status, 400, bad)
        assert.include(JSON.parse(reply.body), { statusCode: 400, code: "BAD_REQUEST" })
      }
      assert.strictEqual((yield* call(client, "GET", "/api/config")).status, 200)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a command printing 600 MB leaves the server alive and answers the last 10 MiB, saying so", () =>
    Effect.gen(function* () {
      const { client } = yield* attackServer()
      const a = yield* createStarted(client)
      const big = yield* sh(client, a.id, "head -c 629145600 /dev/zero | tr '\\000' a; echo; echo END")
      assert.strictEqual(big.exitCode, 0)
      assert.isAtMost(big.result.length, 10 * 1024 * 1024 + 200)
      assert.match(big.result, /^\[output cut by the local server: the first \d+ bytes were dropped/)
      assert.isTrue(big.result.endsWith("a\nEND\n"))
      assert.strictEqual((yield* call(client, "GET", "/api/config")).status, 200)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("a preview token reaches only the sandbox's own ports: never a host service, never the server", () =>
    Effect.gen(function* () {
      const { client, server } = yield* attackServer()
      const port = Number(new URL(server.url).port)
      const host = yield* hostServer
      const sandbox = yield* createStarted(client)
      const preview = (p: number) =>
        Effect.gen(function* () {
          const link = (yield* call(client, "GET", `/api/sandbox/${sandbox.id}/ports/${p}/preview-url`)).body as {
            url: string
            token: string
          }
          return yield* getWithHost(port, new URL(link.url).host, "/", { "X-Daytona-Preview-Token": link.token })
        })
      const toHost = yield* preview(host.port)
      assert.strictEqual(toHost.status, 502)
      assert.notInclude(toHost.body, "host service secret")
      const started = Date.now()
      const toServer = yield* preview(port)
      assert.strictEqual(toServer.status, 502)
      assert.isBelow(Date.now() - started, 5000)
      assert.strictEqual((yield* call(client, "GET", "/api/config")).status, 200)
    }).pipe(Effect.provide(clientLayer))
  )

  bwrapTest?.("descriptors the server inherited (a shell's, a CI runner's) never reach a sandbox", () =>
    Effect.gen(function* () {
      const dir = yield* homeDataDir
      const secret = NodePath.join(dir, "inherited.log")
      const fd = yield* Effect.acquireRelease(
        Effect.sync(() => NodeFsSync.openSync(secret, "a")),
        (fd) => Effect.sync(() => NodeFsSync.closeSync(fd))
      )
      const launcher = NodePath.join(import.meta.dirname, "..", "bin", "daytona-local.mjs")
      const child = NodeChildProcess.spawn(
        process.execPath,
        [
          launcher,
          "serve",
          "--port",
          "0",
          "--data-dir",
          NodePath.join(dir, "data"),
          "--api-key",
          "fd-key",
          "--isolation",
          "bwrap",
          "--transition-ms",
          "10"
        ],
        // at 100: Node marks what it inherits close-on-exec only up to the first gap above 15
        { stdio: ["ignore", "pipe", "inherit", ...Array.from({ length: 97 }, () => "ignore" as const), fd] }
      )
      yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGKILL")))
      const apiUrl = yield* Effect.async<string>((resume) => {
        let output = ""
        child.stdout!.on("data", (chunk: Buffer) => {
          output += chunk.toString("utf8")
          const match = /DAYTONA_API_URL=(\S+)/.exec(output)
          if (match !== null) resume(Effect.succeed(match[1]!))
        })
      })
      const request = (method: string, path: string, body?: unknown) =>
        Effect.promise(() =>
          fetch(`${apiUrl.replace(/\/api$/, "")}${path}`, {
            method,
            headers: { authorization: "Bearer fd-key", "content-type": "application/json" },
            ...(body === undefined ? {} : { body: JSON.stringify(body) })
          }).then((r) => r.json() as Promise<Record<string, unknown>>)
        )
      const sandbox = yield* request("POST", "/api/sandbox", {})
      assert.strictEqual(sandbox.state, "started")
      const probe = yield* request("POST", `/toolbox/${String(sandbox.id)}/process/execute`, {
        command: `node -e "try { require('fs').writeSync(100, 'escaped') } catch {}; for (const f of require('fs').readdirSync('/proc/self/fd')) try { console.log(require('fs').readlinkSync('/proc/self/fd/' + f)) } catch {}"`
      })
      assert.notInclude(String(probe.result), secret)
      assert.strictEqual(NodeFsSync.readFileSync(secret, "utf8"), "")
    })
  )

  it.scoped("bad input on the toolbox and the API is answered 4xx, never 500, never with a host path", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const a = yield* createStarted(client)
      const nul = "a\u0000b"
      for (const path of [
        `/toolbox/${a.id}/files/download?${query({ path: nul })}`,
        `/toolbox/${a.id}/files?${query({ path: nul })}`,
        `/toolbox/${a.id}/files/info?${query({ path: `/etc/${nul}` })}`
      ]) {
        const answer = yield* call(client, "GET", path)
        assert.strictEqual(answer.status, 400, path)
        assert.notInclude(JSON.stringify(answer.body), dir)
        asToolboxError(answer)
      }
      const nulUpload = yield* upload(client, a.id, nul, "x")
      assert.strictEqual(nulUpload.status, 400)
      assert.notInclude(JSON.stringify(nulUpload.body), dir)
      const ssh = yield* call(client, "POST", `/api/sandbox/${a.id}/ssh-access?expiresInMinutes=1e300`)
      assert.strictEqual(ssh.status, 400)
      const notMultipart = yield* call(client, "POST", `/toolbox/${a.id}/files/upload?${query({ path: "x.txt" })}`, {
        not: "multipart"
      })
      assert.strictEqual(notMultipart.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )
})
