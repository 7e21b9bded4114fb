/**
 * A pool of warm sandboxes for backends: sandboxes created ahead of need, checked before each
 * lease, handed out for the length of a scope and returned (or deleted) when it closes, with creates
 * governed and every pooled sandbox deleted when the pool's layer is released.
 *
 * One Effect `Pool` per kind of sandbox (per distinct create options, its *spec*): `min` of each kept
 * warm, at most `max`, sandboxes above `min` deleted after `idleTimeToLive` unused, every sandbox
 * deleted `timeToLive` after its creation. A lease (`lease(spec)`, scoped) takes an idle sandbox,
 * checks it (state `started`, toolbox answering; an unhealthy one is deleted and replaced) and hands
 * it out; when the lease's scope closes the sandbox goes back to the pool, or is reset or deleted
 * when the lease failed or was interrupted. Creates run at most `maxConcurrentCreates` at a time
 * (and within `createRate` when given); Daytona refusing one for its quota or rate limit fails the
 * lease with `SandboxPoolQuotaError`. Deletes run in the background; releasing the layer deletes
 * every pooled sandbox and waits for the deletes (at most `shutdownTimeout`).
 *
 * Works with real Daytona and the local server. Pooled sandboxes carry the label
 * `effect-daytona.pool: <name>` and, unless their spec says otherwise, `autoDeleteInterval: 0`, so
 * that a process that died without releasing the pool leaves nothing once Daytona's auto-stop has
 * stopped them.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Pool from "effect/Pool"
import * as Predicate from "effect/Predicate"
import * as RateLimiter from "effect/RateLimiter"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Daytona from "./Daytona.js"
import { ValidationError } from "./DaytonaError.js"
import * as DaytonaMetrics from "./DaytonaMetrics.js"
import type * as Sandbox from "./Sandbox.js"
import * as Spans from "./internal/spans.js"

/**
 * The label every pooled sandbox carries, with the pool's name as its value.
 *
 * @since 0.1.0
 * @category constants
 */
export const poolLabel = "effect-daytona.pool"

/**
 * The create options of one kind of pooled sandbox. Sandboxes of equal specs share a pool; a spec
 * has no `name` (pooled sandboxes are interchangeable) and no `timeout` (see `createTimeout`).
 *
 * @since 0.1.0
 * @category models
 */
export type Spec = Omit<Daytona.CreateOptions, "name" | "timeout">

/**
 * How a pool behaves. Sizes are per spec.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The pool's name: the value of its sandboxes' `effect-daytona.pool` label and of its metrics' `pool` tag. Default `default`. */
  readonly name?: string | undefined
  /** Specs whose sandboxes are created as soon as the pool is built (others when first leased). */
  readonly warm?: ReadonlyArray<Spec> | undefined
  /** Idle sandboxes kept ready per spec. Default 1. */
  readonly min?: number | undefined
  /** Most sandboxes per spec, leased and idle. Default 10. */
  readonly max?: number | undefined
  /** A sandbox is deleted this long after its creation (after its lease, if leased then). Default 10 minutes, below Daytona's default auto-stop. */
  readonly timeToLive?: Duration.DurationInput | undefined
  /** Sandboxes above `min` that stay unused this long are deleted. Default 5 minutes. */
  readonly idleTimeToLive?: Duration.DurationInput | undefined
  /** Longest wait for a healthy sandbox, creates included: then `SandboxPoolTimeoutError`. Default 60 seconds. */
  readonly leaseTimeout?: Duration.DurationInput | undefined
  /** Deadline of one create, the wait for `started` included. Default `DaytonaConfig.operationTimeout`. */
  readonly createTimeout?: Duration.DurationInput | undefined
  /**
   * What is checked before a lease: `full` (default) reads the sandbox (state `started`) and asks its
   * toolbox for the home directory, concurrently; `none` checks nothing; a function checks what it
   * wants (a failure means unhealthy).
   */
  readonly healthCheck?: "full" | "none" | ((sandbox: Sandbox.Sandbox) => Effect.Effect<unknown, unknown>) | undefined
  /** Longest health check. Default 10 seconds. */
  readonly healthCheckTimeout?: Duration.DurationInput | undefined
  /** Whether a sandbox goes back to the pool after a successful lease (default true); false: each sandbox serves one lease. */
  readonly reuse?: boolean | undefined
  /**
   * Runs when a lease ends, before the sandbox goes back to the pool: after a failed or interrupted
   * lease too, which then keeps the sandbox when the reset succeeds. A failed reset deletes it.
   */
  readonly reset?: ((sandbox: Sandbox.Sandbox) => Effect.Effect<unknown, unknown>) | undefined
  /** Longest reset. Default 30 seconds. */
  readonly resetTimeout?: Duration.DurationInput | undefined
  /** Creates in flight at once, across specs. Default 4. */
  readonly maxConcurrentCreates?: number | undefined
  /** At most `limit` creates per `interval` (a token bucket), across specs. Default: no limit. */
  readonly createRate?: { readonly limit: number; readonly interval: Duration.DurationInput } | undefined
  /** Distinct specs the pool accepts. Default 16. */
  readonly maxSpecs?: number | undefined
  /** Longest wait, when the layer is released, for leases to end and pooled sandboxes to be deleted. Default 60 seconds. */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
}

/**
 * No healthy sandbox within the lease timeout: every sandbox is leased and none could be created in
 * time. `lastFailure` says why the last create failed, if one did.
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxPoolTimeoutError extends Schema.TaggedError<SandboxPoolTimeoutError>(
  "@effect-daytona/sdk/SandboxPoolTimeoutError"
)("SandboxPoolTimeoutError", {
  pool: Schema.String,
  language: Schema.String,
  timeout: Schema.DurationFromSelf
}) {
  /** @since 0.1.0 */
  get message(): string {
    return `pool ${this.pool} (${this.language}): no healthy sandbox within ${Duration.format(this.timeout)}`
  }
}

/**
 * Daytona refused to create a sandbox for the pool: the organization's quota is used up (`Quota`,
 * HTTP 403 "… limit exceeded") or its create rate limit was hit and retries gave up (`RateLimit`,
 * HTTP 429, with the pause the server asked for).
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxPoolQuotaError extends Schema.TaggedError<SandboxPoolQuotaError>(
  "@effect-daytona/sdk/SandboxPoolQuotaError"
)("SandboxPoolQuotaError", {
  pool: Schema.String,
  language: Schema.String,
  reason: Schema.Literal("Quota", "RateLimit"),
  retryAfter: Schema.optional(Schema.DurationFromSelf),
  message: Schema.String
}) {}

/**
 * Sandboxes kept failing their health check: `attempts` in a row were unhealthy (each was deleted).
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxPoolUnhealthyError extends Schema.TaggedError<SandboxPoolUnhealthyError>(
  "@effect-daytona/sdk/SandboxPoolUnhealthyError"
)("SandboxPoolUnhealthyError", {
  pool: Schema.String,
  language: Schema.String,
  attempts: Schema.Number,
  lastReason: Schema.String
}) {
  /** @since 0.1.0 */
  get message(): string {
    return `pool ${this.pool} (${this.language}): ${this.attempts} sandboxes in a row failed their health check (last: ${this.lastReason})`
  }
}

/**
 * The pool is shutting down: its layer is being released.
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxPoolClosedError extends Schema.TaggedError<SandboxPoolClosedError>(
  "@effect-daytona/sdk/SandboxPoolClosedError"
)("SandboxPoolClosedError", { pool: Schema.String }) {
  /** @since 0.1.0 */
  get message(): string {
    return `pool ${this.pool} is shutting down`
  }
}

/**
 * What a lease can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type LeaseError =
  | Daytona.CreateError
  | SandboxPoolTimeoutError
  | SandboxPoolQuotaError
  | SandboxPoolUnhealthyError
  | SandboxPoolClosedError

/**
 * What a pool holds of one spec.
 *
 * @since 0.1.0
 * @category models
 */
export interface SpecStats {
  readonly spec: Spec
  readonly language: string
  /** Sandboxes held, leased or idle. */
  readonly sandboxes: number
  readonly leased: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly name: string
  /**
   * A healthy sandbox of `spec` (default `{}`: Daytona's default snapshot, language `python`) for
   * the length of the current scope. When the scope closes the sandbox goes back to the pool; after
   * a failure or an interruption it is reset (with `reset`) or deleted.
   */
  readonly lease: (spec?: Spec) => Effect.Effect<Sandbox.Sandbox, LeaseError | ValidationError, Scope.Scope>
  /** Marks a leased sandbox to be deleted when its lease ends, whatever the lease's outcome. */
  readonly discard: (sandbox: Sandbox.Sandbox) => Effect.Effect<void>
  /** What the pool holds now, per spec. */
  readonly stats: Effect.Effect<ReadonlyArray<SpecStats>>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class SandboxPool extends Context.Tag("@effect-daytona/sdk/SandboxPool")<SandboxPool, Service>() {}

/** One pooled sandbox; its identity is what `Pool.invalidate` matches. */
interface Pooled {
  readonly sandbox: Sandbox.Sandbox
  readonly createdAt: number
}

interface Entry {
  readonly spec: Spec
  readonly language: string
  readonly pool: Pool.Pool<Pooled, Daytona.CreateError | SandboxPoolQuotaError>
  readonly scope: Scope.CloseableScope
  sandboxes: number
  leased: number
}

/** A stable text of a spec: keys sorted at every depth; an `Image` as its Dockerfile and context. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    Predicate.isRecord(v) && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .filter((k) => v[k] !== undefined)
            .sort()
            .map((k) => [k, v[k]])
        )
      : v
  )

const isQuotaMessage = (message: string) => /limit exceeded|exceeds maximum allowed|quota/i.test(message)

const positiveInteger = (field: string, value: number, min: number) =>
  Number.isInteger(value) && value >= min
    ? Effect.void
    : Effect.fail(
        new ValidationError({ field, message: `${field} must be an integer of at least ${min}, got ${value}` })
      )

const duration = (field: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) =>
  Effect.suspend(() => {
    if (input === undefined) return Effect.succeed(fallback)
    const decoded = Duration.decodeUnknown(input)
    return Option.isSome(decoded) && Duration.greaterThan(decoded.value, Duration.zero)
      ? Effect.succeed(decoded.value)
      : Effect.fail(new ValidationError({ field, message: `${field} must be a positive duration` }))
  })

/**
 * Builds a pool in the current scope; closing the scope shuts the pool down (see the module's
 * documentation). Fails with a `ValidationError` for options that cannot work.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Service, ValidationError, Daytona.Daytona | Scope.Scope> =>
  Effect.gen(function* () {
    const daytona = yield* Daytona.Daytona
    const name = options.name ?? "default"
    const min = options.min ?? 1
    const max = options.max ?? 10
    yield* positiveInteger("min", min, 0)
    yield* positiveInteger("max", max, 1)
    if (min > max) return yield* new ValidationError({ field: "min", message: `min (${min}) is above max (${max})` })
    const maxConcurrentCreates = options.maxConcurrentCreates ?? 4
    yield* positiveInteger("maxConcurrentCreates", maxConcurrentCreates, 1)
    const maxSpecs = options.maxSpecs ?? 16
    yield* positiveInteger("maxSpecs", maxSpecs, 1)
    const timeToLive = yield* duration("timeToLive", options.timeToLive, Duration.minutes(10))
    const idleTimeToLive = yield* duration("idleTimeToLive", options.idleTimeToLive, Duration.minutes(5))
    const leaseTimeout = yield* duration("leaseTimeout", options.leaseTimeout, Duration.seconds(60))
    const healthCheckTimeout = yield* duration("healthCheckTimeout", options.healthCheckTimeout, Duration.seconds(10))
    const resetTimeout = yield* duration("resetTimeout", options.resetTimeout, Duration.seconds(30))
    const shutdownTimeout = yield* duration("shutdownTimeout", options.shutdownTimeout, Duration.seconds(60))
    const createTimeout =
      options.createTimeout === undefined
        ? undefined
        : yield* duration("createTimeout", options.createTimeout, Duration.zero)
    const reuse = options.reuse ?? true
    const createPermits = yield* Effect.makeSemaphore(maxConcurrentCreates)
    let rateLimit: RateLimiter.RateLimiter = (effect) => effect
    if (options.createRate !== undefined) {
      yield* positiveInteger("createRate.limit", options.createRate.limit, 1)
      const interval = yield* duration("createRate.interval", options.createRate.interval, Duration.zero)
      rateLimit = yield* RateLimiter.make({ limit: options.createRate.limit, interval })
    }

    const entries = new Map<string, Entry>()
    /** How to mark each leased sandbox for deletion at the end of its lease. */
    const leasedBy = new WeakMap<Sandbox.Sandbox, () => void>()
    const entryLock = yield* Effect.makeSemaphore(1)
    let closing = false

    // Deletes run in the background (a lease's end never waits for one), tracked so that shutdown can await them.
    const deleting = new Set<Fiber.RuntimeFiber<void>>()
    const inBackground = (cleanup: Effect.Effect<void>) =>
      Effect.map(
        Effect.forkDaemon(
          cleanup.pipe(Effect.catchAllCause((cause) => Effect.logWarning(`pool ${name}: a cleanup failed`, cause)))
        ),
        (fiber) => {
          deleting.add(fiber)
          fiber.addObserver(() => deleting.delete(fiber))
        }
      )
    const drainDeletes: Effect.Effect<void> = Effect.suspend(() =>
      deleting.size === 0 ? Effect.void : Effect.zipRight(Fiber.awaitAll([...deleting]), drainDeletes)
    )

    const tags = (entry: { readonly language: string }) => ({ pool: name, language: entry.language }) as const
    const gauge = (metric: Metric.Metric.Gauge<number>, entry: Entry, value: number) =>
      metric.pipe(Metric.tagged("pool", name), Metric.tagged("language", entry.language)).unsafeUpdate(value, [])
    const count = (
      metric: Metric.Metric.Counter<number>,
      entry: { readonly language: string },
      extra: Record<string, string> = {}
    ) => {
      let tagged = metric.pipe(Metric.tagged("pool", name), Metric.tagged("language", entry.language))
      for (const [key, value] of Object.entries(extra)) tagged = Metric.tagged(tagged, key, value)
      tagged.unsafeUpdate(1, [])
    }

    const createOptions = (spec: Spec): Daytona.CreateOptions => ({
      ...spec,
      labels: { ...spec.labels, [poolLabel]: name },
      ...(spec.ephemeral === undefined && spec.autoDeleteInterval === undefined ? { autoDeleteInterval: 0 } : {}),
      ...(createTimeout === undefined ? {} : { timeout: createTimeout })
    })

    /** A create for the pool: governed, its refusals for quota made typed, its cleanup in the background. */
    const acquire = (entry: { readonly spec: Spec; readonly language: string }, self: Deferred.Deferred<Entry>) =>
      Effect.gen(function* () {
        const createScope = yield* Scope.make()
        let counted: Entry | undefined
        // Registered before the create starts: the pool closes an item's scope whether its acquire
        // failed, was interrupted (shutdown) or the item is released, so no sandbox escapes deletion.
        yield* Effect.addFinalizer(() =>
          Effect.suspend(() => {
            if (counted !== undefined) {
              counted.sandboxes -= 1
              gauge(DaytonaMetrics.poolSandboxes, counted, counted.sandboxes)
            }
            return inBackground(Scope.close(createScope, Exit.void))
          })
        )
        const sandbox = yield* daytona.createScoped(createOptions(entry.spec)).pipe(
          Scope.extend(createScope),
          rateLimit,
          createPermits.withPermits(1),
          Effect.catchTags({
            AuthorizationError: (error) =>
              isQuotaMessage(error.message)
                ? Effect.fail(new SandboxPoolQuotaError({ ...tags(entry), reason: "Quota", message: error.message }))
                : Effect.fail(error),
            RateLimitedError: (error) =>
              Effect.fail(
                new SandboxPoolQuotaError({
                  ...tags(entry),
                  reason: "RateLimit",
                  message: error.message,
                  ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter })
                })
              )
          }),
          Effect.tapBoth({
            onFailure: (error) =>
              Effect.sync(() =>
                count(DaytonaMetrics.poolCreates, entry, {
                  outcome: error._tag === "SandboxPoolQuotaError" ? "quota" : "failed"
                })
              ),
            onSuccess: () => Effect.sync(() => count(DaytonaMetrics.poolCreates, entry, { outcome: "ok" }))
          }),
          Spans.withSpan("SandboxPool.create", {
            captureStackTrace: false,
            attributes: { "daytona.pool": name, "daytona.language": entry.language }
          })
        )
        const pooled: Pooled = { sandbox, createdAt: yield* Clock.currentTimeMillis }
        const full = yield* Deferred.await(self)
        full.sandboxes += 1
        counted = full
        gauge(DaytonaMetrics.poolSandboxes, full, full.sandboxes)
        // Past its time to live a sandbox is deleted: at once when idle, at the end of its lease otherwise.
        if (Duration.isFinite(timeToLive)) {
          yield* Effect.forkScoped(Effect.delay(full.pool.invalidate(pooled), timeToLive))
        }
        return pooled
      })

    const makeEntry = (key: string, spec: Spec) =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const self = yield* Deferred.make<Entry>()
        const partial = { spec, language: spec.language ?? "python" }
        const pool = yield* Pool.makeWithTTL({
          acquire: acquire(partial, self),
          min,
          max,
          timeToLive: idleTimeToLive,
          timeToLiveStrategy: "usage"
        }).pipe(Scope.extend(scope))
        const entry: Entry = { ...partial, pool, scope, sandboxes: 0, leased: 0 }
        yield* Deferred.succeed(self, entry)
        entries.set(key, entry)
        return entry
      })

    const entryFor = (spec: Spec): Effect.Effect<Entry, ValidationError | SandboxPoolClosedError> =>
      Effect.suspend((): Effect.Effect<Entry, ValidationError | SandboxPoolClosedError> => {
        if (closing) return Effect.fail(new SandboxPoolClosedError({ pool: name }))
        for (const field of ["name", "timeout"] as const) {
          if (Predicate.hasProperty(spec, field) && spec[field] !== undefined) {
            return Effect.fail(
              new ValidationError({
                field,
                message: `a pooled sandbox's spec has no ${field}: pooled sandboxes are interchangeable`
              })
            )
          }
        }
        const key = canonical(spec)
        const found = entries.get(key)
        if (found !== undefined) return Effect.succeed(found)
        return entryLock.withPermits(1)(
          Effect.suspend(() => {
            const again = entries.get(key)
            if (again !== undefined) return Effect.succeed(again)
            if (entries.size >= maxSpecs) {
              return Effect.fail(
                new ValidationError({
                  field: "spec",
                  message: `pool ${name} holds at most ${maxSpecs} kinds of sandbox (maxSpecs); this spec would be one more`
                })
              )
            }
            return makeEntry(key, spec)
          })
        )
      })

    const check = (sandbox: Sandbox.Sandbox): Effect.Effect<void, string> => {
      const health = options.healthCheck ?? "full"
      if (health === "none") return Effect.void
      const probe: Effect.Effect<unknown, unknown> =
        health === "full"
          ? Effect.flatMap(Effect.all([sandbox.refreshData, sandbox.getUserHomeDir], { concurrency: 2 }), ([fresh]) =>
              fresh.state === "started" ? Effect.void : Effect.fail(`state ${fresh.state ?? "unknown"}`)
            )
          : health(sandbox)
      return probe.pipe(
        Effect.timeoutFail({
          duration: healthCheckTimeout,
          onTimeout: () => "no answer within the health check timeout"
        }),
        Effect.mapError((error) =>
          typeof error === "string" ? error : Predicate.hasProperty(error, "_tag") ? String(error._tag) : String(error)
        ),
        Effect.asVoid
      )
    }

    /** Ends a lease: back to the pool, or reset, or deleted (invalidated: the pool deletes and replaces it). */
    const release = (entry: Entry, pooled: Pooled, exit: Exit.Exit<unknown, unknown>, discarded: () => boolean) =>
      Effect.gen(function* () {
        entry.leased -= 1
        gauge(DaytonaMetrics.poolLeased, entry, entry.leased)
        leasedBy.delete(pooled.sandbox)
        const failed = Exit.isFailure(exit)
        let outcome: string
        if (!reuse || discarded()) outcome = "discarded"
        else if (options.reset !== undefined) {
          const reset = yield* Effect.interruptible(options.reset(pooled.sandbox)).pipe(
            Effect.timeout(resetTimeout),
            Effect.exit
          )
          outcome = Exit.isFailure(reset) ? "discarded" : failed ? "reset" : "returned"
        } else outcome = !failed ? "returned" : Cause.isInterruptedOnly(exit.cause) ? "interrupted" : "failed"
        if (outcome !== "returned" && outcome !== "reset") yield* entry.pool.invalidate(pooled)
        count(DaytonaMetrics.poolLeases, entry, { outcome })
      })

    /** One try: a sandbox from the pool, checked; `None` when it was unhealthy (it is deleted). */
    const tryLease = (entry: Entry, owner: Scope.Scope) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const leaseScope = yield* Scope.fork(owner, ExecutionStrategy.sequential)
          const got = yield* Effect.exit(restore(Scope.extend(entry.pool.get, leaseScope)))
          if (Exit.isFailure(got)) {
            yield* Scope.close(leaseScope, Exit.void)
            return yield* Effect.failCause(got.cause)
          }
          const pooled = got.value
          const health = yield* Effect.exit(restore(check(pooled.sandbox)))
          if (Exit.isFailure(health)) {
            if (Cause.isInterruptedOnly(health.cause)) {
              yield* Scope.close(leaseScope, Exit.void)
              return yield* Effect.interrupt
            }
            count(DaytonaMetrics.poolHealthCheckFailures, entry)
            yield* entry.pool.invalidate(pooled)
            yield* Scope.close(leaseScope, Exit.void)
            return Either.left(Option.getOrElse(Cause.failureOption(health.cause), () => "unhealthy"))
          }
          entry.leased += 1
          gauge(DaytonaMetrics.poolLeased, entry, entry.leased)
          let discarded = false
          leasedBy.set(pooled.sandbox, () => {
            discarded = true
          })
          yield* Scope.addFinalizerExit(leaseScope, (exit) => release(entry, pooled, exit, () => discarded))
          return Either.right(pooled)
        })
      )

    const lease: Service["lease"] = (spec = {}) =>
      Effect.gen(function* () {
        const entry = yield* entryFor(spec)
        const owner = yield* Effect.scope
        const start = yield* Clock.currentTimeMillis
        const healthy = Effect.gen(function* () {
          let lastReason = ""
          for (let attempt = 1; attempt <= max + 1; attempt++) {
            const result = yield* tryLease(entry, owner)
            if (Either.isRight(result)) return result.right
            lastReason = result.left
          }
          return yield* new SandboxPoolUnhealthyError({ ...tags(entry), attempts: max + 1, lastReason })
        })
        const pooled = yield* healthy.pipe(
          Effect.timeoutFail({
            duration: leaseTimeout,
            onTimeout: () => new SandboxPoolTimeoutError({ ...tags(entry), timeout: leaseTimeout })
          })
        )
        const end = yield* Clock.currentTimeMillis
        DaytonaMetrics.poolLeaseWait
          .pipe(Metric.tagged("pool", name), Metric.tagged("language", entry.language))
          .unsafeUpdate(Math.max(0, end - start) / 1000, [])
        yield* Effect.annotateCurrentSpan("daytona.sandbox.id", pooled.sandbox.id)
        return pooled.sandbox
      }).pipe(
        Spans.withSpan("SandboxPool.lease", {
          captureStackTrace: false,
          attributes: { "daytona.pool": name, "daytona.language": spec.language ?? "python" }
        })
      )

    for (const spec of options.warm ?? []) {
      yield* entryFor(spec).pipe(Effect.catchTag("SandboxPoolClosedError", (error) => Effect.die(error)))
    }

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        closing = true
        const pools = Effect.forEach(entries.values(), (entry) => Scope.close(entry.scope, Exit.void), {
          concurrency: "unbounded",
          discard: true
        })
        const finished = yield* Effect.zipRight(pools, drainDeletes).pipe(Effect.timeout(shutdownTimeout), Effect.exit)
        if (Exit.isFailure(finished)) {
          yield* Effect.logWarning(
            `pool ${name}: leases or deletes still running after ${Duration.format(shutdownTimeout)}; some sandboxes may be left (label ${poolLabel}=${name})`
          )
        }
      })
    )

    return {
      name,
      lease,
      discard: (sandbox) => Effect.sync(() => leasedBy.get(sandbox)?.()),
      stats: Effect.sync(() =>
        Array.from(entries.values(), (entry) => ({
          spec: entry.spec,
          language: entry.language,
          sandboxes: entry.sandboxes,
          leased: entry.leased
        }))
      )
    }
  })

/**
 * The pool as a layer: built with the layer, shut down (every pooled sandbox deleted) when the
 * layer is released.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<SandboxPool, ValidationError, Daytona.Daytona> =>
  Layer.scoped(SandboxPool, make(options))
