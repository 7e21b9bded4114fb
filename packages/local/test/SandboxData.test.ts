import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeCrypto from "node:crypto"
import { multipart, sh } from "./attackHarness.js"
import { advance, asToolboxError, call, type Client, clientLayer, createStarted, raw, serve, tempDir } from "./utils.js"

/** Daytona's file URL signature, computed here from its definition (not with the server's code). */
const signingKey = (client: Client, id: string) =>
  Effect.map(textOf(client, `/api/sandbox/${id}/signing-key`), (answer) => {
    assert.strictEqual(answer.status, 200)
    return answer.text
  })

const sign = (key: string, method: string, path: string, expires: number) =>
  `v1_${NodeCrypto.createHmac("sha256", key).update(`v1:files:${method}:${path}:${expires}`).digest("base64url")}`

const textOf = (client: Client, url: string, method: "GET" | "POST" = "GET") =>
  client.execute(HttpClientRequest.make(method)(url)).pipe(
    Effect.flatMap((response) => Effect.map(response.text, (text) => ({ status: response.status, text }))),
    Effect.scoped,
    Effect.orDie
  )

describe("signed file URLs", () => {
  it.scoped("a signed download works without the key, until it expires or the key rotates", () =>
    Effect.gen(function* () {
      const { client, anonymous } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      yield* sh(client, sandbox.id, "printf 'report body' > report.txt")
      const text = yield* textOf(client, `/api/sandbox/${sandbox.id}/signing-key`)
      // The key is plain text, and the same on every read until it rotates.
      const key = yield* signingKey(client, sandbox.id)
      assert.match(text.text, /^[A-Za-z0-9_-]{20,}$/)
      assert.strictEqual(yield* signingKey(client, sandbox.id), key)
      const expires = 60
      const url = (path: string, k = key, e = expires, method = "GET") =>
        `/toolbox/${sandbox.id}/files/download?${new URLSearchParams({ path, expires: String(e), signature: sign(k, method, path, e) })}`

      const ok = yield* textOf(anonymous, url("report.txt"))
      assert.deepStrictEqual(ok, { status: 200, text: "report body" })

      // Another path, another sandbox, another method, a changed expiry, no signature: refused.
      const other = yield* createStarted(client)
      yield* sh(client, other.id, "printf 'other body' > report.txt")
      const refused = [
        `/toolbox/${sandbox.id}/files/download?${new URLSearchParams({ path: "other.txt", expires: "60", signature: sign(key, "GET", "report.txt", 60) })}`,
        url("report.txt").replace(sandbox.id, other.id),
        url("report.txt", key, 60, "POST"),
        url("report.txt").replace("expires=60", "expires=6000"),
        url("report.txt").replace(/signature=[^&]+/, ""),
        `/toolbox/${sandbox.id}/files/download?path=report.txt&path=report.txt&expires=60&signature=${sign(key, "GET", "report.txt", 60)}`,
        `/toolbox/${sandbox.id}/files?${new URLSearchParams({ path: "report.txt", expires: "60", signature: sign(key, "GET", "report.txt", 60) })}`,
        `/api/sandbox/${sandbox.id}?${new URLSearchParams({ path: "report.txt", expires: "60", signature: sign(key, "GET", "report.txt", 60) })}`
      ]
      for (const attempt of refused) {
        const answer = yield* textOf(anonymous, attempt)
        assert.strictEqual(answer.status, 401, attempt)
        assert.notInclude(answer.text, "body")
      }

      yield* advance("61 seconds")
      assert.strictEqual((yield* textOf(anonymous, url("report.txt"))).status, 401)

      const forever = url("report.txt", key, 0)
      assert.strictEqual((yield* textOf(anonymous, forever)).status, 200)
      const rotated = yield* textOf(client, `/api/sandbox/${sandbox.id}/signing-key/rotate`, "POST")
      assert.strictEqual(rotated.status, 201)
      const newKey = rotated.text
      assert.notStrictEqual(newKey, key)
      assert.strictEqual((yield* textOf(anonymous, forever)).status, 401)
      assert.strictEqual((yield* textOf(anonymous, url("report.txt", newKey, 0))).status, 200)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a signed upload writes one file at its path and nowhere else", () =>
    Effect.gen(function* () {
      const { client, anonymous } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      const key = yield* signingKey(client, sandbox.id)
      const post = (path: string, signedPath: string) => {
        const { body, contentType } = multipart("uploaded body")
        const query = new URLSearchParams({ path, expires: "0", signature: sign(key, "POST", signedPath, 0) })
        return raw(
          anonymous,
          HttpClientRequest.post(`/toolbox/${sandbox.id}/files/upload-v2?${query}`).pipe(
            HttpClientRequest.bodyUint8Array(body, contentType)
          )
        )
      }
      const uploaded = yield* post("in/data.bin", "in/data.bin")
      assert.strictEqual(uploaded.status, 200, JSON.stringify(uploaded.body))
      assert.deepStrictEqual(uploaded.body, { name: "data.bin", path: "in/data.bin", type: "file" })
      assert.strictEqual((yield* sh(client, sandbox.id, "cat in/data.bin")).result, "uploaded body")
      const elsewhere = yield* post("in/other.bin", "in/data.bin")
      assert.strictEqual(elsewhere.status, 401)
      assert.strictEqual(asToolboxError(elsewhere).statusCode, 401)
      assert.notStrictEqual((yield* sh(client, sandbox.id, "test -e in/other.bin")).exitCode, 0)
      // A signed upload cannot be replayed on the legacy route or on a bulk upload.
      const { body, contentType } = multipart("x")
      const legacy = yield* raw(
        anonymous,
        HttpClientRequest.post(
          `/toolbox/${sandbox.id}/files/upload?${new URLSearchParams({ path: "in/data.bin", expires: "0", signature: sign(key, "POST", "in/data.bin", 0) })}`
        ).pipe(HttpClientRequest.bodyUint8Array(body, contentType))
      )
      assert.strictEqual(legacy.status, 401)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("signing keys of unknown sandboxes are 404", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      assert.strictEqual((yield* call(client, "GET", "/api/sandbox/nope/signing-key")).status, 404)
      assert.strictEqual((yield* call(client, "POST", "/api/sandbox/nope/signing-key/rotate")).status, 404)
    }).pipe(Effect.provide(clientLayer))
  )
})

describe("updateEnv", () => {
  it.scoped("sets and unsets variables for new processes; a restart goes back to the creation env", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client, { env: { KEEP: "k", DROP: "d" } })
      const answer = yield* call(client, "POST", `/toolbox/${sandbox.id}/env`, {
        set: { ADDED: "a b" },
        unset: ["DROP"]
      })
      assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      assert.deepStrictEqual(answer.body, { KEEP: "k", ADDED: "a b" })
      const seen = yield* sh(client, sandbox.id, 'printf %s "$KEEP|${DROP-unset}|$ADDED"')
      assert.strictEqual(seen.result, "k|unset|a b")
      const bad = yield* call(client, "POST", `/toolbox/${sandbox.id}/env`, { set: { "1X": "v" } })
      assert.strictEqual(bad.status, 400)
      const badUnset = yield* call(client, "POST", `/toolbox/${sandbox.id}/env`, { unset: ["A=B"] })
      assert.strictEqual(badUnset.status, 400)
      yield* call(client, "POST", `/api/sandbox/${sandbox.id}/stop`)
      yield* advance("1 second")
      yield* call(client, "POST", `/api/sandbox/${sandbox.id}/start`)
      yield* advance("1 second")
      const restarted = yield* sh(client, sandbox.id, 'printf %s "$KEEP|$DROP|${ADDED-unset}"')
      assert.strictEqual(restarted.result, "k|d|unset")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a session started before the update keeps its environment; one started after sees it", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      assert.strictEqual(
        (yield* call(client, "POST", `/toolbox/${sandbox.id}/process/session`, { sessionId: "before" })).status,
        201
      )
      yield* call(client, "POST", `/toolbox/${sandbox.id}/env`, { set: { LATE: "yes" } })
      assert.strictEqual(
        (yield* call(client, "POST", `/toolbox/${sandbox.id}/process/session`, { sessionId: "after" })).status,
        201
      )
      const run = (session: string) =>
        Effect.map(
          call(client, "POST", `/toolbox/${sandbox.id}/process/session/${session}/exec`, {
            command: 'printf %s "${LATE-unset}"',
            runAsync: false
          }),
          (answer) => ((answer.body as { readonly stdout?: string }).stdout ?? "").trim()
        )
      assert.strictEqual(yield* run("before"), "unset")
      assert.strictEqual(yield* run("after"), "yes")
    }).pipe(Effect.provide(clientLayer))
  )
})

describe("listFiles depth", () => {
  it.scoped("depth 2 lists one level of subdirectories with paths; links are not followed; bad depth is 400", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      yield* sh(client, sandbox.id, "mkdir -p t/a/b && touch t/top t/a/mid t/a/b/deep && ln -s /etc t/link")
      const one = yield* call(client, "GET", `/toolbox/${sandbox.id}/files?path=t`)
      assert.deepStrictEqual((one.body as ReadonlyArray<{ name: string }>).map((e) => e.name).sort(), [
        "a",
        "link",
        "top"
      ])
      const two = yield* call(client, "GET", `/toolbox/${sandbox.id}/files?path=t&depth=2`)
      assert.deepStrictEqual((two.body as ReadonlyArray<{ path: string }>).map((e) => e.path).sort(), [
        "t/a",
        "t/a/b",
        "t/a/mid",
        "t/link",
        "t/top"
      ])
      const three = yield* call(client, "GET", `/toolbox/${sandbox.id}/files?path=t&depth=3`)
      assert.include(
        (three.body as ReadonlyArray<{ path: string }>).map((e) => e.path),
        "t/a/b/deep"
      )
      for (const depth of ["0", "-1", "1.5", "x"]) {
        const bad = yield* call(client, "GET", `/toolbox/${sandbox.id}/files?path=t&depth=${depth}`)
        assert.strictEqual(bad.status, 400, depth)
      }
    }).pipe(Effect.provide(clientLayer))
  )
})
