import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import {
  advance,
  asExecute,
  asToolboxError,
  call,
  type Client,
  clientLayer,
  createStarted,
  raw,
  serve,
  tempDir
} from "./utils.js"

const hasBwrap =
  NodeChildProcess.spawnSync("bwrap", ["--ro-bind", "/", "/", "--unshare-pid", "true"], { timeout: 5000 }).status === 0

/** Every process the sandbox can see, as `argv|argv|…`. */
const processes = `sh -c 'for p in /proc/[0-9]*; do tr "\\000" " " < $p/cmdline; printf "|"; done'`

const exec = (client: Client, id: string, command: string) =>
  Effect.map(call(client, "POST", `/toolbox/${id}/process/execute`, { command }), asExecute)

const upload = (client: Client, id: string, path: string, content: string) => {
  const boundary = "local-test-boundary"
  const body = [
    `--${boundary}\r\n`,
    `Content-Disposition: form-data; name="file"; filename="${NodePath.basename(path)}"\r\n`,
    "Content-Type: application/octet-stream\r\n\r\n",
    content,
    `\r\n--${boundary}--\r\n`
  ].join("")
  return raw(
    client,
    HttpClientRequest.post(`/toolbox/${id}/files/upload`).pipe(
      HttpClientRequest.setUrlParam("path", path),
      HttpClientRequest.bodyText(body, `multipart/form-data; boundary=${boundary}`)
    )
  )
}

/** CI installs bubblewrap, so there a missing bwrap must fail the bwrap test rather than switch it. */
const bwrapRequired = process.env["CI"] === "true"

describe("isolation", () => {
  if (!hasBwrap && !bwrapRequired) {
    it.scoped("without a usable bwrap, asking for bwrap isolation fails at start with a clear error", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(serve(yield* tempDir, { isolation: "bwrap" }))
        assert.include(String(error.message), "bwrap")
      }).pipe(Effect.provide(clientLayer))
    )
  }

  const bwrapTest = hasBwrap || bwrapRequired ? it.scoped : undefined
  bwrapTest?.(
    "bwrap: Daytona's layout, own /tmp and PID namespace, file routes resolve paths as the sandbox sees them",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const { client } = yield* serve(dir, { isolation: "bwrap" })
        const config = yield* call(client, "GET", "/api/config")
        assert.deepInclude(config.body, { isolation: "bwrap", securityBoundary: true })
        const a = yield* createStarted(client)
        const b = yield* createStarted(client)

        assert.deepStrictEqual(yield* exec(client, a.id, `sh -c "echo $HOME; pwd; whoami >/dev/null; ls /home"`), {
          exitCode: 0,
          result: "/home/daytona\n/home/daytona\ndaytona\n"
        })
        assert.strictEqual((yield* upload(client, a.id, "/tmp/x", "only in a")).status, 200)
        assert.deepStrictEqual(yield* exec(client, a.id, "cat /tmp/x"), { exitCode: 0, result: "only in a" })
        assert.notStrictEqual((yield* exec(client, b.id, "cat /tmp/x")).exitCode, 0)
        assert.strictEqual((yield* upload(client, a.id, "notes/today.txt", "relative")).status, 200)
        assert.deepStrictEqual(yield* exec(client, a.id, "cat /home/daytona/notes/today.txt"), {
          exitCode: 0,
          result: "relative"
        })
        const hostCopy = NodePath.join(dir, "sandboxes", a.id, "home", "notes", "today.txt")
        assert.strictEqual(yield* Effect.promise(() => NodeFs.readFile(hostCopy, "utf8")), "relative")
        yield* exec(client, a.id, `sh -c "echo from-process > /tmp/y"`)
        const download = yield* Effect.scoped(
          Effect.flatMap(client.get(`/toolbox/${a.id}/files/download?path=/tmp/y`), (response) => response.text)
        ).pipe(Effect.orDie)
        assert.strictEqual(download, "from-process\n")

        const readOnly = yield* exec(client, a.id, "touch /etc/daytona-local-test")
        assert.notStrictEqual(readOnly.exitCode, 0)
        assert.include(readOnly.result, "Read-only file system")
        for (const path of ["/etc/daytona-local-test", "/home/other/x", "escape/x"]) {
          if (path === "escape/x") yield* exec(client, a.id, "ln -s /etc /home/daytona/escape")
          const denied = yield* upload(client, a.id, path, "nope")
          const error = asToolboxError(denied)
          assert.deepStrictEqual([path, denied.status, error.code, error.method], [path, 403, "FORBIDDEN", "POST"])
        }
        const missing = yield* call(client, "GET", `/toolbox/${a.id}/files/download?path=/tmp/none`)
        assert.deepStrictEqual([missing.status, asToolboxError(missing).code], [404, "NOT_FOUND"])

        yield* exec(client, a.id, `sh -c "sleep 300 >/dev/null 2>&1 &"`)
        const ps = yield* exec(client, a.id, processes)
        assert.include(ps.result, "sleep 300")
        assert.isBelow(ps.result.split("|").length, 10)
        assert.notInclude((yield* exec(client, b.id, processes)).result, "sleep 300")

        yield* call(client, "POST", `/api/sandbox/${a.id}/stop`)
        yield* advance("1 second")
        yield* call(client, "GET", `/api/sandbox/${a.id}`)
        yield* call(client, "POST", `/api/sandbox/${a.id}/start`)
        yield* advance("1 second")
        yield* call(client, "GET", `/api/sandbox/${a.id}`)
        assert.notInclude((yield* exec(client, a.id, processes)).result, "sleep 300")
        assert.deepStrictEqual(yield* exec(client, a.id, "cat /tmp/x"), { exitCode: 0, result: "only in a" })
      }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("none: home is the sandbox's directory, absolute paths are the machine's, and the server says so", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const config = yield* call(client, "GET", "/api/config")
      const body = config.body as {
        isolation: string
        securityBoundary: boolean
        warning: string
        proxyToolboxUrl: string
      }
      assert.deepStrictEqual([body.isolation, body.securityBoundary], ["none", false])
      assert.include(body.warning, "not a security boundary")
      assert.isTrue(body.proxyToolboxUrl.endsWith("/toolbox"))
      const { id } = yield* createStarted(client)
      assert.strictEqual((yield* upload(client, id, "a.txt", "home")).status, 200)
      const home = NodePath.join(dir, "sandboxes", id, "home")
      assert.strictEqual(yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, "a.txt"), "utf8")), "home")
      const absolute = NodePath.join(dir, "outside.txt")
      assert.strictEqual((yield* upload(client, id, absolute, "machine")).status, 200)
      assert.deepStrictEqual(yield* exec(client, id, `cat ${absolute}`), { exitCode: 0, result: "machine" })
    }).pipe(Effect.provide(clientLayer))
  )
})
