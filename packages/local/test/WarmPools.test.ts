import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { realSleep, sh } from "./attackHarness.js"
import { snapshotSettleTo } from "./lifecycleHarness.js"
import {
  advance,
  asList,
  asSandbox,
  call,
  type Client,
  clientLayer,
  createStarted,
  raw,
  serve,
  tempDir
} from "./utils.js"

interface Pool {
  readonly id: string
  readonly snapshot: string
  readonly pool: number
  readonly currentSize: number
  readonly errorReason?: string | null
}

const pools = (client: Client) => Effect.map(call(client, "GET", "/api/warm-pools"), (a) => a.body as Array<Pool>)

/** Advances (with real time for background fills) until the pool reports `size` started members. */
const filledTo = (client: Client, id: string, size: number) =>
  Effect.gen(function* () {
    let seen: Pool | undefined
    for (let i = 0; i < 60; i++) {
      seen = (yield* pools(client)).find((p) => p.id === id)
      if (seen?.currentSize === size) return size
      yield* realSleep(30)
      yield* advance("1 second")
    }
    return seen?.currentSize
  })

const resize = (client: Client, id: string, pool: number) =>
  raw(client, HttpClientRequest.patch(`/api/warm-pools/${id}`).pipe(HttpClientRequest.bodyUnsafeJson({ pool })))

describe("warm pools", () => {
  it.scoped("keep sandboxes started, hand one to a matching create at once, refill, resize and drain", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const created = yield* call(client, "POST", "/api/warm-pools", { snapshot: "daytona-small", pool: 2 })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      const pool = created.body as Pool
      assert.strictEqual(yield* filledTo(client, pool.id, 2), 2)

      // Members are not listed unless asked for.
      assert.strictEqual(asList(yield* call(client, "GET", "/api/sandbox?limit=50")).items.length, 0)
      const warm = asList(yield* call(client, "GET", "/api/sandbox?limit=50&includeWarm=true")).items
      assert.strictEqual(warm.length, 2)
      assert.isTrue(warm.every((s) => s.warmPoolId === pool.id))

      // A create from that snapshot is served by a started member, with its own name and labels.
      const served = asSandbox(
        yield* call(client, "POST", "/api/sandbox", { snapshot: "daytona-small", name: "claimed", labels: { a: "b" } })
      )
      assert.strictEqual(served.state, "started")
      assert.include(
        warm.map((s) => s.id),
        served.id
      )
      assert.strictEqual(served.name, "claimed")
      assert.deepStrictEqual(served.labels, { a: "b" })
      assert.isUndefined(served.warmPoolId)
      assert.strictEqual((yield* sh(client, served.id, "echo ok")).result.trim(), "ok")
      // A create the pool cannot serve (its own environment) is a fresh sandbox.
      const fresh = asSandbox(
        yield* call(client, "POST", "/api/sandbox", { snapshot: "daytona-small", env: { A: "1" } })
      )
      assert.strictEqual(fresh.state, "creating")
      assert.strictEqual(yield* filledTo(client, pool.id, 2), 2)

      const shrunk = yield* resize(client, pool.id, 0)
      assert.strictEqual(shrunk.status, 200, JSON.stringify(shrunk.body))
      assert.strictEqual(yield* filledTo(client, pool.id, 0), 0)
      yield* advance("2 seconds")
      const left = asList(yield* call(client, "GET", "/api/sandbox?limit=50&includeWarm=true")).items
      assert.deepStrictEqual(left.map((s) => s.id).sort(), [served.id, fresh.id].sort())

      const removed = yield* call(client, "DELETE", `/api/warm-pools/${pool.id}`)
      assert.strictEqual(removed.status, 200)
      assert.deepStrictEqual(yield* pools(client), [])
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a pool of a snapshot of a sandbox starts its members from that sandbox's files", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const source = yield* createStarted(client)
      yield* sh(client, source.id, `echo from-source > "$HOME/seed"`)
      yield* call(client, "POST", `/api/sandbox/${source.id}/snapshot`, { name: "seeded" })
      assert.strictEqual(yield* snapshotSettleTo(client, "seeded", "active"), "active")
      const pool = (yield* call(client, "POST", "/api/warm-pools", { snapshot: "seeded", pool: 1 })).body as Pool
      assert.strictEqual(yield* filledTo(client, pool.id, 1), 1)
      const served = asSandbox(yield* call(client, "POST", "/api/sandbox", { snapshot: "seeded" }))
      assert.strictEqual(served.state, "started")
      assert.strictEqual((yield* sh(client, served.id, `cat "$HOME/seed"`)).result.trim(), "from-source")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("bad requests are refused with Daytona's statuses", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const cases: Array<[unknown, number]> = [
        [{ snapshot: "daytona-small", pool: 11 }, 400],
        [{ snapshot: "daytona-small", pool: -1 }, 400],
        [{ snapshot: "daytona-small", pool: 1.5 }, 400],
        [{ snapshot: "daytona-small" }, 400],
        [{ pool: 1 }, 400],
        [{ snapshot: "no-such-snapshot", pool: 1 }, 400],
        [{ snapshot: "daytona-small", pool: 1, target: "mars" }, 404]
      ]
      for (const [body, status] of cases) {
        const answer = yield* call(client, "POST", "/api/warm-pools", body)
        assert.strictEqual(answer.status, status, JSON.stringify(body))
      }
      assert.strictEqual(
        (yield* call(client, "POST", "/api/warm-pools", { snapshot: "daytona-small", pool: 0 })).status,
        201
      )
      assert.strictEqual(
        (yield* call(client, "POST", "/api/warm-pools", { snapshot: "daytona-small", pool: 0 })).status,
        409
      )
      assert.strictEqual((yield* resize(client, "nope", 1)).status, 404)
      assert.strictEqual((yield* call(client, "DELETE", "/api/warm-pools/nope")).status, 404)
    }).pipe(Effect.provide(clientLayer))
  )
})
