import type { CreateSandbox } from "@effect-daytona/sdk/CreateSandbox"
import type { CreateWarmPool, WarmPoolEncoded } from "@effect-daytona/sdk/WarmPoolDto"
import { StringMap } from "@effect-daytona/sdk/WireSchema"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as NodeCrypto from "node:crypto"
import { type ControlPlaneError, badRequest, conflict, notFound } from "./controlPlaneError.js"
import type { SandboxRecord } from "./record.js"
import { errored, type SandboxCore } from "./sandboxCore.js"
import * as SandboxFiles from "./sandboxFiles.js"
import { randomToken } from "./secrets.js"
import type { SnapshotsService } from "./snapshots.js"
import * as Transitions from "./transitions.js"

/** What the server stores for a warm pool. Times are epoch milliseconds. */
const WarmPoolRecord = Schema.Struct({
  id: Schema.String,
  organizationId: Schema.String,
  /** The snapshot's name. */
  snapshot: Schema.String,
  target: Schema.String,
  pool: Schema.Number,
  cpu: Schema.Number,
  mem: Schema.Number,
  disk: Schema.Number,
  osUser: Schema.String,
  env: StringMap,
  errorReason: Schema.NullOr(Schema.String),
  createdAt: Schema.Number,
  updatedAt: Schema.Number
})

type WarmPoolRecord = typeof WarmPoolRecord.Type

const WarmPoolRecordJson = Schema.parseJson(WarmPoolRecord)
const decode = Schema.decodeUnknown(WarmPoolRecordJson)
const encode = Schema.encode(WarmPoolRecordJson)

/** The most sandboxes one pool keeps started on this machine. */
export const maxPoolSize = 10

/** The OS user of warm sandboxes, the only user a pool serves. */
const osUser = "daytona"

/** A create a pool may serve, with its settings resolved as a fresh sandbox would get them. */
export interface WarmRequest {
  readonly body: CreateSandbox
  readonly snapshot: string
  readonly autoStopInterval: number
  readonly autoArchiveInterval: number
  readonly autoPauseInterval: number
  readonly ttlMinutes: number
}

/**
 * Daytona's warm pools (`/warm-pools`): for a snapshot and region, `pool` sandboxes kept started and
 * unclaimed (hidden from lists unless `includeWarm`), one handed out by a create from that snapshot
 * whose request asks nothing a started sandbox cannot get (its own OS user, environment variables,
 * volumes, a network cut off, a build or a link), and the pool refilled in the background. Sizes
 * follow `update`; a deleted pool's unclaimed sandboxes are deleted.
 */
export const make = (
  core: SandboxCore,
  snapshots: SnapshotsService["Type"],
  background: FiberSet.FiberSet<unknown, unknown>
) =>
  Effect.gen(function* () {
    const { config, store, timings: t } = core
    const locked = (yield* Effect.makeSemaphore(1)).withPermits(1)

    const pools = Effect.flatMap(store.warmPools.all, (rows) =>
      Effect.forEach(rows, (row) => Effect.orDie(decode(row)))
    )
    const put = (pool: WarmPoolRecord) =>
      encode(pool).pipe(
        Effect.orDie,
        Effect.flatMap((data) => store.warmPools.put(pool.id, data))
      )

    const isMember = (pool: WarmPoolRecord) => (r: SandboxRecord) =>
      r.warmPoolId === pool.id && r.state !== "destroyed" && r.desiredState !== "destroyed"
    const ready = (r: SandboxRecord) => r.state === "started" && r.desiredState === "started" && !r.pending

    const toDto = (pool: WarmPoolRecord, sandboxes: ReadonlyArray<SandboxRecord>): WarmPoolEncoded => ({
      id: pool.id,
      organizationId: pool.organizationId,
      snapshot: pool.snapshot,
      target: pool.target,
      pool: pool.pool,
      currentSize: sandboxes.filter(isMember(pool)).filter(ready).length,
      cpu: pool.cpu,
      mem: pool.mem,
      disk: pool.disk,
      osUser: pool.osUser,
      env: pool.env,
      errorReason: pool.errorReason,
      createdAt: Transitions.iso(pool.createdAt),
      updatedAt: Transitions.iso(pool.updatedAt)
    })

    const byId = (all: ReadonlyArray<WarmPoolRecord>, id: string): Effect.Effect<WarmPoolRecord, ControlPlaneError> => {
      const found = all.find((pool) => pool.id === id)
      return found === undefined ? Effect.fail(notFound(`Warm pool ${id} not found`)) : Effect.succeed(found)
    }

    const checkSize = (size: number) =>
      size > maxPoolSize
        ? Effect.fail(badRequest(`pool must not be greater than ${maxPoolSize} on the local server`))
        : Effect.void

    /** Deletes a member (not by a user: no transition or fork check applies). */
    const discard = (id: string) =>
      core.update(id, (r, now) => Effect.succeed(core.softDelete(r, now))).pipe(Effect.ignore)

    /** A new member of the pool, `creating`, filled from its snapshot's files when it has them. */
    const addMember = (pool: WarmPoolRecord) =>
      Effect.gen(function* () {
        const known = yield* snapshots.forSandbox(pool.snapshot)
        const id = NodeCrypto.randomUUID()
        yield* core.engine.provision(id).pipe(Effect.orDie)
        const now = yield* Clock.currentTimeMillis
        const record: SandboxRecord = {
          id,
          organizationId: pool.organizationId,
          name: id,
          snapshot: known.name,
          user: pool.osUser,
          env: pool.env,
          labels: {},
          public: false,
          target: pool.target,
          cpu: known.cpu,
          gpu: 0,
          memory: known.memory,
          disk: known.disk,
          state: "unknown",
          desiredState: "started",
          pending: true,
          dueAt: known.image === null ? now + Duration.toMillis(t.create) : null,
          errorReason: null,
          recoverable: false,
          backupState: "None",
          autoStopInterval: 0,
          autoArchiveInterval: 0,
          autoDeleteInterval: -1,
          networkBlockAll: false,
          networkAllowList: null,
          domainAllowList: null,
          volumes: [],
          buildInfo: null,
          authToken: randomToken(32),
          createdAt: now,
          updatedAt: now,
          lastActivityAt: now,
          destroyedAt: null,
          autoPauseInterval: 0,
          autoDestroyAt: null,
          parentId: null,
          warmPoolId: pool.id
        }
        yield* core.locked(store.put(record))
        if (known.image !== null) yield* SandboxFiles.fillFromImage(core, id, known.image, known.disk)
        else yield* core.schedule(id)
      })

    /**
     * Brings a pool to its size: members that failed go, stopped ones (after a restart) start again,
     * missing ones are created, extra ones are deleted (those not started first). Why it cannot be
     * filled is kept as its `errorReason`.
     */
    const refill = (poolId: string): Effect.Effect<void> =>
      locked(
        Effect.gen(function* () {
          const pool = (yield* pools).find((p) => p.id === poolId)
          if (pool === undefined) return
          const members = (yield* core.settledAll).filter(isMember(pool))
          for (const failed of members.filter(errored)) yield* discard(failed.id)
          const live = members.filter((r) => !errored(r))
          for (const stopped of live.filter((r) => r.state === "stopped" && !r.pending))
            yield* core
              .update(stopped.id, (r, now) => Effect.succeed(core.begin(r, now, "started", t.start)))
              .pipe(Effect.ignore)
          const extra = live.length - pool.pool
          if (extra > 0) {
            const order = [...live].sort((a, b) => Number(ready(a)) - Number(ready(b)))
            for (const r of order.slice(0, extra)) yield* discard(r.id)
          }
          const missing = pool.pool - live.length
          let problem: string | null = null
          for (let i = 0; i < missing && problem === null; i++) {
            const added = yield* Effect.either(addMember(pool))
            if (added._tag === "Left") problem = added.left.message
          }
          if (problem !== pool.errorReason) {
            const now = yield* Clock.currentTimeMillis
            yield* put({ ...pool, errorReason: problem, updatedAt: now })
          }
        })
      )

    const refillLater = (poolId: string) => FiberSet.run(background, refill(poolId)).pipe(Effect.asVoid)

    const list = Effect.gen(function* () {
      const all = yield* pools
      const sandboxes = yield* core.settledAll
      return all.sort((a, b) => a.createdAt - b.createdAt).map((pool) => toDto(pool, sandboxes))
    })

    const create = (body: CreateWarmPool) =>
      Effect.gen(function* () {
        yield* checkSize(body.pool)
        const target = body.target ?? config.region
        if (target !== config.region) return yield* notFound("Region not found")
        const snapshot = yield* snapshots.get(body.snapshot).pipe(
          Effect.catchIf(
            (error) => error.status === 404,
            () => Effect.fail(badRequest(`Snapshot ${body.snapshot} not found`))
          )
        )
        if (snapshot.state !== "active")
          return yield* badRequest(`Snapshot ${body.snapshot} is ${snapshot.state}, not active`)
        const pool = yield* locked(
          Effect.gen(function* () {
            if ((yield* pools).some((p) => p.snapshot === snapshot.name && p.target === target))
              return yield* conflict(`A warm pool for snapshot ${snapshot.name} in region ${target} already exists`)
            const now = yield* Clock.currentTimeMillis
            const pool: WarmPoolRecord = {
              id: NodeCrypto.randomUUID(),
              organizationId: config.organizationId,
              snapshot: snapshot.name,
              target,
              pool: body.pool,
              cpu: snapshot.cpu,
              mem: snapshot.mem,
              disk: snapshot.disk,
              osUser,
              env: {},
              errorReason: null,
              createdAt: now,
              updatedAt: now
            }
            yield* put(pool)
            return pool
          })
        )
        yield* refillLater(pool.id)
        return toDto(pool, yield* core.settledAll)
      })

    const update = (id: string, size: number) =>
      Effect.gen(function* () {
        yield* checkSize(size)
        const pool = yield* locked(
          Effect.gen(function* () {
            const pool = yield* byId(yield* pools, id)
            const now = yield* Clock.currentTimeMillis
            const resized = { ...pool, pool: size, updatedAt: now }
            yield* put(resized)
            return resized
          })
        )
        yield* refillLater(pool.id)
        return toDto(pool, yield* core.settledAll)
      })

    const remove = (id: string) =>
      locked(
        Effect.gen(function* () {
          const pool = yield* byId(yield* pools, id)
          yield* store.warmPools.remove(pool.id)
          for (const member of (yield* core.settledAll).filter(isMember(pool))) yield* discard(member.id)
        })
      )

    /** Whether a create asks nothing a started member of a pool of its snapshot cannot give. */
    const servable = (body: CreateSandbox) =>
      (body.user === undefined || body.user === osUser) &&
      Object.keys(body.env ?? {}).length === 0 &&
      (body.volumes ?? []).length === 0 &&
      (body.secrets ?? []).length === 0 &&
      body.buildInfo === undefined &&
      body.linkedSandbox === undefined &&
      body.networkBlockAll !== true &&
      (body.networkAllowList ?? "") === "" &&
      (body.domainAllowList ?? "") === ""

    /** Hands a started member of a matching pool to a create, if there is one; the pool refills. */
    const claim = (request: WarmRequest): Effect.Effect<Option.Option<SandboxRecord>, ControlPlaneError> =>
      Effect.gen(function* () {
        const body = request.body
        if (!servable(body)) return Option.none()
        const target = body.target ?? config.region
        const pool = (yield* pools).find((p) => p.snapshot === request.snapshot && p.target === target)
        if (pool === undefined) return Option.none()
        const candidate = (yield* core.settledAll).find((r) => isMember(pool)(r) && ready(r))
        if (candidate === undefined) return Option.none()
        const claimed = yield* core.update(candidate.id, (r, now) =>
          Effect.gen(function* () {
            if (r.warmPoolId !== pool.id || !ready(r)) return r
            const name = body.name ?? r.name
            if (body.name !== undefined && (yield* store.all).some((o) => o.name === name && o.state !== "destroyed"))
              return yield* conflict(`Sandbox with name ${name} already exists`)
            return {
              ...r,
              name,
              labels: body.labels ?? {},
              public: body.public ?? false,
              autoStopInterval: request.autoStopInterval,
              autoArchiveInterval: request.autoArchiveInterval,
              autoDeleteInterval: body.autoDeleteInterval ?? -1,
              autoPauseInterval: request.autoPauseInterval,
              autoDestroyAt: request.ttlMinutes > 0 ? now + request.ttlMinutes * 60_000 : null,
              authToken: randomToken(32),
              createdAt: now,
              lastActivityAt: now,
              warmPoolId: null
            }
          })
        )
        if (claimed.warmPoolId !== null) return Option.none()
        yield* refillLater(pool.id)
        return Option.some(claimed)
      })

    /** Refills every pool (at start, and on the lifecycle clock). */
    const refillAll = Effect.flatMap(pools, (all) => Effect.forEach(all, (pool) => refill(pool.id), { discard: true }))

    return { list, create, update, remove, claim, refillAll }
  })
