import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as DaytonaTest from "../src/DaytonaTest.js"

/** Lets forked fibers (the pool's creates and background deletes) run, without moving the clock. */
const settle = TestClock.adjust(Duration.zero)

const requestsOf = (operation: string) =>
  Effect.map(DaytonaTest.requests, (all) => all.filter((request) => request.operation === operation))

/** Sandboxes of the pool that still exist on the server. */
const pooledOnServer = Effect.gen(function* () {
  const daytona = yield* Daytona.Daytona
  const page = yield* daytona.listPage({ labels: { [SandboxPool.poolLabel]: "default" } })
  return page.items.map((item) => item.id).sort()
})

const deletedIds = Effect.map(requestsOf("deleteSandbox"), (requests) =>
  requests.filter((request) => request.status === 200).map((request) => request.path.split("/").pop() ?? "")
)

const withPool = (options: SandboxPool.Options, test: DaytonaTest.Options = {}) =>
  Layer.provideMerge(SandboxPool.layer(options), DaytonaTest.layer(test))

const lease = (spec?: SandboxPool.Spec) => Effect.flatMap(SandboxPool.SandboxPool, (pool) => pool.lease(spec))

describe("SandboxPool", () => {
  it.effect("keeps min sandboxes warm: leases take them without creating, and give them back", () =>
    Effect.gen(function* () {
      yield* settle
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 2)
      const warm = yield* pooledOnServer
      const leased: Array<string> = []
      for (let i = 0; i < 4; i++) {
        leased.push(yield* Effect.scoped(Effect.map(lease({ language: "python" }), (sandbox) => sandbox.id)))
      }
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 2)
      assert.deepStrictEqual([...new Set(leased)].sort(), warm)
      // The health check read the sandbox and asked its toolbox before each lease.
      assert.strictEqual((yield* requestsOf("getUserHomeDir")).length, 4)
      const pool = yield* SandboxPool.SandboxPool
      assert.deepStrictEqual(
        (yield* pool.stats).map((s) => [s.language, s.sandboxes, s.leased]),
        [["python", 2, 0]]
      )
    }).pipe(Effect.provide(withPool({ min: 2, max: 4, warm: [{ language: "python" }] })))
  )

  it.effect("health check before a lease: a sandbox that failed is deleted and another one leased", () =>
    Effect.gen(function* () {
      yield* settle
      const [broken] = yield* pooledOnServer
      yield* DaytonaTest.setSandboxState(broken!, "error", { errorReason: "runner lost" })
      const leased = yield* Effect.scoped(Effect.map(lease(), (sandbox) => sandbox.id))
      assert.notStrictEqual(leased, broken)
      yield* settle
      assert.include(yield* deletedIds, broken!)
      assert.deepStrictEqual(yield* pooledOnServer, [leased])
    }).pipe(Effect.provide(withPool({ min: 1, max: 2, warm: [{}] })))
  )

  it.effect("a toolbox that does not answer fails the health check too", () =>
    Effect.gen(function* () {
      yield* settle
      const [first] = yield* pooledOnServer
      yield* DaytonaTest.failNext({ operation: "getUserHomeDir" }, { status: 404 })
      const leased = yield* Effect.scoped(Effect.map(lease(), (sandbox) => sandbox.id))
      assert.notStrictEqual(leased, first)
      yield* settle
      assert.include(yield* deletedIds, first!)
    }).pipe(Effect.provide(withPool({ min: 1, max: 2, warm: [{}] })))
  )

  it.effect("a failed lease deletes its sandbox and the pool creates a replacement", () =>
    Effect.gen(function* () {
      yield* settle
      const [first] = yield* pooledOnServer
      const failed = yield* Effect.scoped(Effect.zipRight(lease(), Effect.fail("handler failed"))).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(failed))
      yield* settle
      assert.include(yield* deletedIds, first!)
      const now = yield* pooledOnServer
      assert.strictEqual(now.length, 1)
      assert.notStrictEqual(now[0], first)
    }).pipe(Effect.provide(withPool({ min: 1, max: 2, warm: [{}] })))
  )

  it.effect("an interrupted lease deletes its sandbox", () =>
    Effect.gen(function* () {
      yield* settle
      const [first] = yield* pooledOnServer
      const holder = yield* Effect.fork(Effect.scoped(Effect.zipRight(lease(), Effect.never)))
      yield* settle
      const pool = yield* SandboxPool.SandboxPool
      assert.strictEqual((yield* pool.stats)[0]!.leased, 1)
      yield* Fiber.interrupt(holder)
      yield* settle
      assert.include(yield* deletedIds, first!)
      assert.strictEqual((yield* pool.stats)[0]!.leased, 0)
    }).pipe(Effect.provide(withPool({ min: 1, max: 2, warm: [{}] })))
  )

  it.effect("a successful lease can still discard its sandbox", () =>
    Effect.gen(function* () {
      yield* settle
      const pool = yield* SandboxPool.SandboxPool
      const id = yield* Effect.scoped(
        Effect.flatMap(pool.lease(), (sandbox) => Effect.as(pool.discard(sandbox), sandbox.id))
      )
      yield* settle
      assert.include(yield* deletedIds, id)
    }).pipe(Effect.provide(withPool({ min: 1, max: 2, warm: [{}] })))
  )

  it.effect("reset: a failed lease whose reset succeeds keeps its sandbox; reuse: false never does", () =>
    Effect.gen(function* () {
      yield* settle
      const [first] = yield* pooledOnServer
      const resets: Array<string> = []
      const pool = yield* SandboxPool.make({
        name: "resetting",
        min: 1,
        warm: [{}],
        reset: (sandbox) => Effect.sync(() => resets.push(sandbox.id))
      })
      yield* settle
      const id = yield* Effect.scoped(Effect.map(pool.lease(), (s) => s.id))
      yield* Effect.scoped(Effect.zipRight(pool.lease(), Effect.fail("oops"))).pipe(Effect.exit)
      assert.deepStrictEqual(resets, [id, id])
      assert.strictEqual(yield* Effect.scoped(Effect.map(pool.lease(), (s) => s.id)), id)
      // The default pool (reuse: false) never hands out the same sandbox twice.
      const single = yield* SandboxPool.SandboxPool
      const a = yield* Effect.scoped(Effect.map(single.lease(), (s) => s.id))
      yield* settle
      const b = yield* Effect.scoped(Effect.map(single.lease(), (s) => s.id))
      assert.strictEqual(a, first)
      assert.notStrictEqual(a, b)
      assert.include(yield* deletedIds, a)
    }).pipe(Effect.scoped, Effect.provide(withPool({ min: 1, max: 2, warm: [{}], reuse: false })))
  )

  it.effect("timeToLive: a sandbox is deleted that long after its creation and replaced", () =>
    Effect.gen(function* () {
      yield* settle
      const [first] = yield* pooledOnServer
      yield* TestClock.adjust("9 minutes")
      assert.deepStrictEqual(yield* pooledOnServer, [first])
      yield* TestClock.adjust("1 minute")
      yield* settle
      const now = yield* pooledOnServer
      assert.strictEqual(now.length, 1)
      assert.notStrictEqual(now[0], first)
      assert.include(yield* deletedIds, first!)
    }).pipe(Effect.provide(withPool({ min: 1, max: 2, warm: [{}], timeToLive: "10 minutes" })))
  )

  it.effect("a sandbox leased past its time to live is deleted when its lease ends", () =>
    Effect.gen(function* () {
      yield* settle
      const [first] = yield* pooledOnServer
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* lease()
          yield* TestClock.adjust("2 minutes")
          assert.deepStrictEqual(yield* pooledOnServer, [first])
        })
      )
      yield* settle
      assert.include(yield* deletedIds, first!)
    }).pipe(Effect.provide(withPool({ min: 1, max: 2, warm: [{}], timeToLive: "1 minute" })))
  )

  it.effect("idle sandboxes above min are deleted after idleTimeToLive", () =>
    Effect.gen(function* () {
      yield* settle
      // Three leases at once grow the pool to three sandboxes.
      yield* Effect.scoped(Effect.all([lease(), lease(), lease()], { concurrency: "unbounded" }))
      assert.strictEqual((yield* pooledOnServer).length, 3)
      yield* TestClock.adjust("5 minutes")
      yield* settle
      assert.strictEqual((yield* pooledOnServer).length, 1)
    }).pipe(Effect.provide(withPool({ min: 1, max: 3, warm: [{}], idleTimeToLive: "2 minutes" })))
  )

  it.effect("a quota refusal (403 ... limit exceeded) fails the lease with SandboxPoolQuotaError", () =>
    Effect.gen(function* () {
      yield* DaytonaTest.failNext(
        { operation: "createSandbox" },
        {
          status: 403,
          body: { statusCode: 403, message: "Total CPU limit exceeded. Maximum allowed: 10.", error: "Forbidden" }
        }
      )
      const error = yield* Effect.scoped(Effect.flip(lease({ language: "typescript" })))
      assert.strictEqual(error._tag, "SandboxPoolQuotaError")
      if (error._tag === "SandboxPoolQuotaError") {
        assert.strictEqual(error.reason, "Quota")
        assert.strictEqual(error.language, "typescript")
      }
      // The next lease creates again, and succeeds.
      const sandbox = yield* Effect.scoped(lease({ language: "typescript" }))
      assert.strictEqual(sandbox.labels["code-toolbox-language"], "typescript")
      // The refused create's cleanup looks for a sandbox it might have made, for a few seconds.
      yield* TestClock.adjust("5 seconds")
    }).pipe(Effect.provide(withPool({ min: 0, max: 2 })))
  )

  it.effect("a create rate limit beyond maxRetryAfter fails the lease with SandboxPoolQuotaError(RateLimit)", () =>
    Effect.gen(function* () {
      yield* DaytonaTest.failNext(
        { operation: "createSandbox" },
        { status: 429, headers: { "retry-after-sandbox-create": "600" } }
      )
      const error = yield* Effect.scoped(Effect.flip(lease()))
      assert.strictEqual(error._tag, "SandboxPoolQuotaError")
      if (error._tag === "SandboxPoolQuotaError") {
        assert.strictEqual(error.reason, "RateLimit")
        assert.deepStrictEqual(error.retryAfter, Duration.seconds(600))
      }
      yield* TestClock.adjust("5 seconds")
    }).pipe(Effect.provide(withPool({ min: 0, max: 2 })))
  )

  it.effect("every sandbox leased and none can be created: SandboxPoolTimeoutError after leaseTimeout", () =>
    Effect.gen(function* () {
      yield* settle
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* lease()
          const waiting = yield* Effect.fork(Effect.scoped(Effect.flip(lease())))
          yield* TestClock.adjust("5 seconds")
          const error = yield* Fiber.join(waiting)
          assert.strictEqual(error._tag, "SandboxPoolTimeoutError")
        })
      )
    }).pipe(Effect.provide(withPool({ min: 1, max: 1, warm: [{}], leaseTimeout: "5 seconds" })))
  )

  it.effect("a lease waiting for a busy sandbox gets it when it is returned", () =>
    Effect.gen(function* () {
      yield* settle
      const holder = yield* Effect.fork(
        Effect.scoped(
          Effect.zipLeft(
            Effect.map(lease(), (s) => s.id),
            Effect.sleep("3 seconds")
          )
        )
      )
      yield* settle
      const waiting = yield* Effect.fork(Effect.scoped(Effect.map(lease(), (s) => s.id)))
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual(yield* Fiber.join(waiting), yield* Fiber.join(holder))
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 1)
    }).pipe(Effect.provide(withPool({ min: 1, max: 1, warm: [{}], leaseTimeout: "10 seconds" })))
  )

  it.effect("creates are governed: at most maxConcurrentCreates in flight", () =>
    Effect.gen(function* () {
      const leases = yield* Effect.fork(
        Effect.scoped(Effect.all([lease(), lease(), lease()], { concurrency: "unbounded" }))
      )
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 1)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 2)
      yield* TestClock.adjust("20 seconds")
      yield* Fiber.join(leases)
      const sent = (yield* requestsOf("createSandbox")).map((request) => request.sentAt)
      assert.deepStrictEqual(sent, [0, 10_000, 20_000])
    }).pipe(
      Effect.provide(withPool({ min: 0, max: 3, maxConcurrentCreates: 1 }, { timings: { create: "10 seconds" } }))
    )
  )

  it.effect("createRate: a token bucket of limit creates per interval, across the pool", () =>
    Effect.gen(function* () {
      const leases = yield* Effect.fork(
        Effect.scoped(Effect.all([lease(), lease(), lease({ language: "typescript" })], { concurrency: "unbounded" }))
      )
      yield* settle
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 2)
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 2)
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(leases)
      const sent = (yield* requestsOf("createSandbox")).map((request) => request.sentAt)
      assert.deepStrictEqual(sent, [0, 0, 30_000])
    }).pipe(Effect.provide(withPool({ min: 0, max: 3, createRate: { limit: 2, interval: "1 minute" } })))
  )

  it.effect("shutdown waits for leases to end, then deletes every pooled sandbox", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const pool = yield* SandboxPool.make({ min: 2, max: 4, warm: [{}, { language: "typescript" }] }).pipe(
        Scope.extend(scope)
      )
      yield* settle
      assert.strictEqual((yield* pooledOnServer).length, 4)
      const release = yield* Effect.makeLatch(false)
      const holder = yield* Effect.fork(Effect.scoped(Effect.zipRight(pool.lease(), release.await)))
      yield* settle
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* settle
      assert.isTrue(Option.isNone(yield* Fiber.poll(closing)), "shutdown waits for the lease")
      const refused = yield* Effect.scoped(Effect.flip(pool.lease()))
      assert.strictEqual(refused._tag, "SandboxPoolClosedError")
      yield* release.open
      yield* Fiber.join(holder)
      yield* Fiber.join(closing)
      assert.deepStrictEqual(yield* pooledOnServer, [])
      assert.strictEqual((yield* deletedIds).length, 4)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("shutdown while creates are under way deletes what they made", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      yield* SandboxPool.make({ min: 3, max: 3, warm: [{}], maxConcurrentCreates: 3 }).pipe(Scope.extend(scope))
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 3)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      for (let i = 0; i < 12; i++) yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(closing)
      assert.deepStrictEqual(yield* pooledOnServer, [])
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { create: "10 seconds" } })))
  )

  it.effect("bad options and specs are refused with a ValidationError", () =>
    Effect.gen(function* () {
      const tooSmall = yield* Effect.flip(Effect.scoped(SandboxPool.make({ min: 3, max: 2 })))
      assert.strictEqual(tooSmall.field, "min")
      const pool = yield* SandboxPool.make({ min: 0, maxSpecs: 1 })
      const named = yield* Effect.scoped(Effect.flip(pool.lease({ name: "fixed" } as SandboxPool.Spec)))
      assert.strictEqual(named._tag, "ValidationError")
      yield* Effect.scoped(pool.lease({ language: "python" }))
      const more = yield* Effect.scoped(Effect.flip(pool.lease({ language: "javascript" })))
      assert.strictEqual(more._tag, "ValidationError")
    }).pipe(Effect.scoped, Effect.provide(DaytonaTest.layer()))
  )
})
