import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as NodeCrypto from "node:crypto"
import * as Secrets from "../src/Secrets.js"
import {
  assertRequest,
  errorBody,
  handleOver,
  layerWith,
  makeFake,
  sandboxDto,
  standardHeaders,
  toolboxProxyUrl
} from "./support/FakeHttp.js"

const secretDto = (overrides: Record<string, unknown> = {}) => ({
  id: "sec-1",
  name: "API_KEY",
  placeholder: "dtn_secret_sec-1",
  hosts: ["api.example.com"],
  createdAt: "2026-11-29T12:00:00.000Z",
  updatedAt: "2026-11-29T12:00:00.000Z",
  ...overrides
})

const value = "the-secret-value-7f3a"

describe("Secrets", () => {
  it.effect("create sends the value once, in the body; a server error quoting it comes back redacted", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        index === 0
          ? { status: 200, body: secretDto() }
          : { status: 400, body: errorBody(400, "Bad Request", `value ${value} is weird`, request.path) }
      )
      const secrets = yield* Effect.provide(Secrets.Secrets, layerWith(fake.client))
      const created = yield* secrets.create({
        name: "API_KEY",
        value: Redacted.make(value),
        hosts: ["api.example.com"]
      })
      assert.strictEqual(created.placeholder, "dtn_secret_sec-1")
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: "/api/secret",
        body: { name: "API_KEY", value, hosts: ["api.example.com"] },
        headers: standardHeaders
      })
      const failed = yield* Effect.flip(secrets.create({ name: "OTHER", value }))
      assert.strictEqual(failed._tag, "ValidationError")
      assert.notInclude(failed.message, value)
      assert.notInclude(JSON.stringify(failed), value)
    })
  )

  it.effect("list follows the cursor pages; get, update and delete address the secret", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => {
        if (request.path === "/api/secret/paginated")
          return {
            status: 200,
            body:
              request.url.searchParams.get("cursor") === null
                ? { items: [secretDto()], total: 2, nextCursor: "c2" }
                : {
                    items: [secretDto({ id: "sec-2", name: "B", placeholder: "dtn_secret_sec-2" })],
                    total: 2,
                    nextCursor: null
                  }
          }
        if (request.method === "DELETE") return { status: 200 }
        return { status: 200, body: secretDto({ description: "d" }) }
      })
      const secrets = yield* Effect.provide(Secrets.Secrets, layerWith(fake.client))
      const all = Chunk.toReadonlyArray(yield* Stream.runCollect(secrets.list({ sort: "name", order: "asc" })))
      assert.deepStrictEqual(
        all.map((s) => s.id),
        ["sec-1", "sec-2"]
      )
      yield* secrets.get("sec-1")
      yield* secrets.update("sec-1", { value: Redacted.make("new"), description: "d" })
      yield* secrets.delete("sec-1")
      const requests = yield* fake.requests
      assertRequest(requests[0], {
        method: "GET",
        path: "/api/secret/paginated",
        query: [
          ["sort", "name"],
          ["order", "asc"]
        ]
      })
      assertRequest(requests[1], {
        method: "GET",
        path: "/api/secret/paginated",
        query: [
          ["cursor", "c2"],
          ["sort", "name"],
          ["order", "asc"]
        ]
      })
      assertRequest(requests[2], { method: "GET", path: "/api/secret/sec-1" })
      assertRequest(requests[3], {
        method: "PATCH",
        path: "/api/secret/sec-1",
        body: { value: "new", description: "d" }
      })
      assertRequest(requests[4], { method: "DELETE", path: "/api/secret/sec-1" })
      const empty = yield* Effect.flip(secrets.get(" "))
      assert.strictEqual(empty._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 5)
    })
  )
})

describe("Sandbox secrets, env, signed URLs, build logs", () => {
  it.effect("updateSecrets and updateEnv send Daytona's bodies", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/env") ? { status: 200, body: { A: "1" } } : { status: 200, body: sandboxDto() }
      )
      const sandbox = yield* handleOver(fake.client)
      yield* sandbox.updateSecrets({ API: "API_KEY", DB: "DB_PASSWORD" })
      yield* sandbox.updateEnv({ A: "1" }, { unset: ["B"] })
      const requests = yield* fake.requests
      assertRequest(requests[0], {
        method: "PUT",
        path: "/api/sandbox/sb-1/secrets",
        body: { secrets: [{ API: "API_KEY" }, { DB: "DB_PASSWORD" }] }
      })
      assertRequest(requests[1], {
        method: "POST",
        path: `${toolboxProxyUrl}/sb-1/env`,
        body: { set: { A: "1" }, unset: ["B"] }
      })
    })
  )

  it.effect(
    "downloadUrl and uploadUrl sign Daytona's canonical text with the sandbox's key; rotate asks for a new key",
    () =>
      Effect.gen(function* () {
        const key = "signing-key-0123"
        const fake = yield* makeFake((request) =>
          request.path.endsWith("/rotate")
            ? { status: 201, body: "new-key", headers: { "content-type": "text/plain" } }
            : { status: 200, body: key, headers: { "content-type": "text/plain" } }
        )
        const sandbox = yield* handleOver(fake.client)
        const download = new URL(yield* sandbox.downloadUrl("/home/daytona/report.pdf", { expiresIn: "10 minutes" }))
        const upload = new URL(yield* sandbox.uploadUrl("data.bin", { expiresIn: "1 minute" }))
        yield* sandbox.rotateSigningKey
        const expected = (method: string, path: string, expires: number) =>
          `v1_${NodeCrypto.createHmac("sha256", key).update(`v1:files:${method}:${path}:${expires}`).digest("base64url")}`
        assert.strictEqual(`${download.origin}${download.pathname}`, `${toolboxProxyUrl}/sb-1/files/download`)
        assert.strictEqual(download.searchParams.get("path"), "/home/daytona/report.pdf")
        assert.strictEqual(download.searchParams.get("expires"), "600")
        assert.strictEqual(download.searchParams.get("signature"), expected("GET", "/home/daytona/report.pdf", 600))
        assert.strictEqual(`${upload.origin}${upload.pathname}`, `${toolboxProxyUrl}/sb-1/files/upload-v2`)
        assert.strictEqual(upload.searchParams.get("signature"), expected("POST", "data.bin", 60))
        const requests = yield* fake.requests
        assertRequest(requests[0], { method: "GET", path: "/api/sandbox/sb-1/signing-key" })
        assertRequest(requests[2], { method: "POST", path: "/api/sandbox/sb-1/signing-key/rotate" })
        const bad = yield* Effect.flip(sandbox.downloadUrl("x", { expiresIn: "1.5 seconds" }))
        assert.strictEqual(bad._tag, "ValidationError")
        const noPath = yield* Effect.flip(sandbox.uploadUrl(""))
        assert.strictEqual(noPath._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 3)
      })
  )

  it.effect("buildLogs reads the build-logs URL with follow=true, line by line, to the end of the answer", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.path.endsWith("/build-logs-url")
          ? { status: 200, body: { url: "https://proxy.daytona.test/sandboxes/sb-1/build-logs" } }
          : {
              status: 200,
              body: "Step 1/2 : FROM x\nStep 2/2 : RUN y\ndone\n",
              headers: { "content-type": "text/plain" }
            }
      )
      const sandbox = yield* handleOver(fake.client)
      const lines = Chunk.toReadonlyArray(yield* Stream.runCollect(sandbox.buildLogs))
      assert.deepStrictEqual(lines, ["Step 1/2 : FROM x", "Step 2/2 : RUN y", "done"])
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "GET", path: "/api/sandbox/sb-1/build-logs-url" })
      assertRequest(requests[1], {
        method: "GET",
        path: "https://proxy.daytona.test/sandboxes/sb-1/build-logs",
        query: [["follow", "true"]],
        headers: { authorization: standardHeaders["authorization"] }
      })
    })
  )
})
