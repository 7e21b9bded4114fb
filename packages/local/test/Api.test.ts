import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import {
  asApiError,
  asList,
  asSandbox,
  asToolboxError,
  call,
  clientLayer,
  createStarted,
  raw,
  serve,
  tempDir
} from "./utils.js"

describe("api", () => {
  it.scoped("every route needs the bearer key; errors have Daytona's shapes", () =>
    Effect.gen(function* () {
      const { anonymous: noKey, client, server } = yield* serve(yield* tempDir)
      const anonymous = yield* raw(noKey, HttpClientRequest.get("/api/sandbox"))
      assert.deepStrictEqual([anonymous.status, asApiError(anonymous).message], [401, "Invalid credentials"])
      const wrong = yield* raw(noKey, HttpClientRequest.get("/api/sandbox").pipe(HttpClientRequest.bearerToken("nope")))
      assert.deepStrictEqual([wrong.status, asApiError(wrong).error], [401, "Unauthorized"])
      const toolbox = yield* raw(
        noKey,
        HttpClientRequest.get("/toolbox/x/version").pipe(HttpClientRequest.bearerToken("nope"))
      )
      assert.deepStrictEqual([toolbox.status, asToolboxError(toolbox).code], [401, "UNAUTHORIZED"])
      const unknownRoute = yield* call(client, "GET", "/api/nothing-here")
      assert.deepStrictEqual(
        [unknownRoute.status, asApiError(unknownRoute).message],
        [404, "Cannot GET /api/nothing-here"]
      )
      assert.strictEqual(server.apiUrl, `${server.url}/api`)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("bad JSON, wrong types and unknown ids are 4xx", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const badJson = yield* raw(
        client,
        HttpClientRequest.post("/api/sandbox").pipe(HttpClientRequest.bodyText("{oops", "application/json"))
      )
      assert.strictEqual(badJson.status, 400)
      assert.isString(asApiError(badJson).message)
      const wrongTypes = yield* call(client, "POST", "/api/sandbox", { cpu: "many", public: "yes", name: "<b>x</b>" })
      assert.deepStrictEqual(
        [wrongTypes.status, asApiError(wrongTypes).message],
        [
          400,
          "name must not contain HTML tags, URLs, or control characters, public must be a boolean value, cpu must be a number conforming to the specified constraints"
        ]
      )
      const resources = yield* call(client, "POST", "/api/sandbox", { cpu: 2 })
      assert.deepStrictEqual(
        [resources.status, asApiError(resources).message],
        [400, "Cannot specify Sandbox resources when using a snapshot"]
      )
      const snapshot = yield* call(client, "POST", "/api/sandbox", { snapshot: "nope" })
      assert.strictEqual(snapshot.status, 400)
      const negative = yield* call(client, "POST", "/api/sandbox", { autoStopInterval: -1 })
      assert.deepStrictEqual(
        [negative.status, asApiError(negative).message],
        [400, "Auto-stop interval must be non-negative"]
      )
      for (const [method, path] of [
        ["GET", "/api/sandbox/missing"],
        ["POST", "/api/sandbox/missing/start"],
        ["POST", "/api/sandbox/missing/stop"],
        ["DELETE", "/api/sandbox/missing"],
        ["PUT", "/api/sandbox/missing/labels"],
        ["GET", "/api/sandbox/missing/ports/3000/preview-url"]
      ] as const) {
        const answer = yield* call(client, method, path, method === "PUT" ? { labels: {} } : undefined)
        assert.deepStrictEqual(
          [path, answer.status, asApiError(answer).message],
          [path, 404, "Sandbox with ID or name missing not found"]
        )
      }
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("bodiless form-encoded POSTs are accepted", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      const stop = yield* raw(
        client,
        HttpClientRequest.post(`/api/sandbox/${sandbox.id}/stop?force=false`).pipe(
          HttpClientRequest.bodyText("", "application/x-www-form-urlencoded")
        )
      )
      assert.deepStrictEqual([stop.status, asSandbox(stop).state], [200, "stopping"])
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("intervals: 201, negative rejected, auto-archive 0 and large values become the maximum", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const { id } = yield* createStarted(client)
      const stop = yield* call(client, "POST", `/api/sandbox/${id}/autostop/30`)
      assert.deepStrictEqual([stop.status, asSandbox(stop).autoStopInterval], [201, 30])
      const negativeStop = yield* call(client, "POST", `/api/sandbox/${id}/autostop/-5`)
      assert.deepStrictEqual(
        [negativeStop.status, asApiError(negativeStop).message],
        [400, "Auto-stop interval must be non-negative"]
      )
      const negativeArchive = yield* call(client, "POST", `/api/sandbox/${id}/autoarchive/-1`)
      assert.deepStrictEqual(
        [negativeArchive.status, asApiError(negativeArchive).message],
        [400, "Auto-archive interval must be non-negative"]
      )
      const zero = yield* call(client, "POST", `/api/sandbox/${id}/autoarchive/0`)
      assert.strictEqual(asSandbox(zero).autoArchiveInterval, 43200)
      const large = yield* call(client, "POST", `/api/sandbox/${id}/autoarchive/99999`)
      assert.strictEqual(asSandbox(large).autoArchiveInterval, 43200)
      const del = yield* call(client, "POST", `/api/sandbox/${id}/autodelete/-1`)
      assert.deepStrictEqual([del.status, asSandbox(del).autoDeleteInterval], [201, -1])
      const notNumber = yield* call(client, "POST", `/api/sandbox/${id}/autostop/abc`)
      assert.strictEqual(notNumber.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("labels are replaced and the full sandbox is returned; list filters by labels and states", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const a = yield* createStarted(client, { labels: { team: "x", env: "dev" } })
      const b = yield* createStarted(client, { labels: { team: "x", env: "prod" } })
      const replaced = yield* call(client, "PUT", `/api/sandbox/${b.id}/labels`, { labels: { team: "y" } })
      assert.deepStrictEqual(asSandbox(replaced).labels, { team: "y" })
      const badLabels = yield* call(client, "PUT", `/api/sandbox/${b.id}/labels`, { labels: "x" })
      assert.strictEqual(badLabels.status, 400)
      const byLabels = asList(
        yield* call(
          client,
          "GET",
          `/api/sandbox?labels=${encodeURIComponent(JSON.stringify({ team: "x", env: "dev" }))}`
        )
      )
      assert.deepStrictEqual(
        byLabels.items.map((item) => item.id),
        [a.id]
      )
      const badJson = yield* call(client, "GET", "/api/sandbox?labels=%7Bnope")
      assert.deepStrictEqual([badJson.status, asApiError(badJson).message], [400, "Invalid labels JSON format"])
      yield* call(client, "POST", `/api/sandbox/${a.id}/stop`)
      const stopping = asList(yield* call(client, "GET", "/api/sandbox?states=stopping&states=stopped"))
      assert.deepStrictEqual(
        stopping.items.map((item) => item.id),
        [a.id]
      )
      const badCursor = yield* call(client, "GET", "/api/sandbox?cursor=zzz")
      assert.deepStrictEqual([badCursor.status, asApiError(badCursor).message], [400, "Invalid cursor provided"])
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("cursor and page pagination walk every sandbox once", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const ids = new Set<string>()
      for (let i = 0; i < 5; i++) ids.add(asSandbox(yield* call(client, "POST", "/api/sandbox", { name: `s${i}` })).id)
      const seen: Array<string> = []
      let cursor: string | null = null
      do {
        const page = asList(
          yield* call(
            client,
            "GET",
            `/api/sandbox?limit=2&sort=name&order=asc${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
          )
        )
        seen.push(...page.items.map((item) => item.name))
        cursor = page.nextCursor
      } while (cursor !== null)
      assert.deepStrictEqual(seen, ["s0", "s1", "s2", "s3", "s4"])
      const paginated = yield* call(client, "GET", "/api/sandbox/paginated?page=2&limit=2&sort=name&order=asc")
      assert.deepStrictEqual(paginated.status, 200)
      const body = paginated.body as { items: Array<{ name: string }>; total: number; totalPages: number; page: number }
      assert.deepStrictEqual(
        [body.items.map((item) => item.name), body.total, body.totalPages, body.page],
        [["s2", "s3"], 5, 3, 2]
      )
      const badLimit = yield* call(client, "GET", "/api/sandbox?limit=500")
      assert.strictEqual(badLimit.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("preview URLs, SSH access and the toolbox proxy URL", () =>
    Effect.gen(function* () {
      const { client, server } = yield* serve(yield* tempDir)
      const { id } = yield* createStarted(client)
      const preview = yield* call(client, "GET", `/api/sandbox/${id}/ports/3000/preview-url`)
      const previewBody = preview.body as { sandboxId: string; url: string; token: string }
      assert.strictEqual(previewBody.sandboxId, id)
      assert.strictEqual(previewBody.token.length, 32)
      const badPort = yield* call(client, "GET", `/api/sandbox/${id}/ports/70000/preview-url`)
      assert.deepStrictEqual([badPort.status, asApiError(badPort).message], [400, "Invalid port"])
      const signed = yield* call(client, "GET", `/api/sandbox/${id}/ports/3000/signed-preview-url?expiresInSeconds=120`)
      const signedBody = signed.body as { token: string; port: number }
      assert.deepStrictEqual([signed.status, signedBody.port, signedBody.token.length], [200, 3000, 16])
      const badExpiry = yield* call(
        client,
        "GET",
        `/api/sandbox/${id}/ports/3000/signed-preview-url?expiresInSeconds=0`
      )
      assert.strictEqual(badExpiry.status, 400)
      const expire = yield* call(
        client,
        "POST",
        `/api/sandbox/${id}/ports/3000/signed-preview-url/${signedBody.token}/expire`
      )
      assert.strictEqual(expire.status, 201)

      const ssh = yield* call(client, "POST", `/api/sandbox/${id}/ssh-access`)
      const sshBody = ssh.body as { token: string; sandboxId: string; sshCommand: string }
      assert.strictEqual(sshBody.sandboxId, id)
      const valid = yield* call(client, "GET", `/api/sandbox/ssh-access/validate?token=${sshBody.token}`)
      assert.deepStrictEqual(valid.body, { valid: true, sandboxId: id })
      const revoked = yield* call(client, "DELETE", `/api/sandbox/${id}/ssh-access?token=${sshBody.token}`)
      assert.strictEqual(asSandbox(revoked).id, id)
      const invalid = yield* call(client, "GET", `/api/sandbox/ssh-access/validate?token=${sshBody.token}`)
      assert.deepStrictEqual(invalid.body, { valid: false, sandboxId: null })

      const proxy = yield* call(client, "GET", `/api/sandbox/${id}/toolbox-proxy-url`)
      assert.deepStrictEqual(proxy.body, { url: `${server.url}/toolbox` })
      // Without isolation the local server cannot enforce allow lists: it refuses them rather than store and ignore them.
      const network = yield* call(client, "POST", `/api/sandbox/${id}/network-settings`, {
        networkAllowList: "10.0.0.0/8"
      })
      assert.strictEqual(network.status, 400)
      assert.include(asApiError(network).message, 'allow lists are not enforced with isolation "none"')
      const emptyNetwork = yield* call(client, "POST", `/api/sandbox/${id}/network-settings`, {})
      assert.strictEqual(emptyNetwork.status, 400)
      const badNetwork = yield* call(client, "POST", `/api/sandbox/${id}/network-settings`, {
        networkAllowList: "nope"
      })
      assert.strictEqual(badNetwork.status, 400)
      const resize = yield* call(client, "POST", `/api/sandbox/${id}/resize`, { cpu: 2 })
      assert.deepStrictEqual([asSandbox(resize).state, asSandbox(resize).cpu], ["resizing", 2])
      const badResize = yield* call(client, "POST", `/api/sandbox/${id}/resize`, { cpu: 0 })
      assert.deepStrictEqual([badResize.status, asApiError(badResize).message], [400, "cpu must not be less than 1"])
    }).pipe(Effect.provide(clientLayer))
  )
})
