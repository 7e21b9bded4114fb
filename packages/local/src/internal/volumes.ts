import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as NodeCrypto from "node:crypto"
import { LocalConfig } from "../LocalConfig.js"
import { SandboxEngine } from "../SandboxEngine.js"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { type ControlPlaneError, badRequest, conflict, notFound } from "./controlPlaneError.js"
import { EventBus, eventNames, stateAnnouncer } from "./events.js"
import { SandboxStore } from "./store.js"
import * as Transitions from "./transitions.js"
import * as TreeRemoval from "./treeRemoval.js"

/** What the server stores for a volume. Times are epoch milliseconds. */
const VolumeRecord = Schema.Struct({
  id: Schema.String,
  organizationId: Schema.String,
  name: Schema.String,
  state: Schema.String,
  /** When the current state's step ends. */
  dueAt: Schema.NullOr(Schema.Number),
  errorReason: Schema.NullOr(Schema.String),
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  lastUsedAt: Schema.NullOr(Schema.Number)
})

type VolumeRecord = typeof VolumeRecord.Type

const VolumeRecordJson = Schema.parseJson(VolumeRecord)
const decode = Schema.decodeUnknown(VolumeRecordJson)
const encode = Schema.encode(VolumeRecordJson)

/** The volume as `VolumeDto`, with the nullable fields sent as `null` as Daytona does. */
const toDto = (r: VolumeRecord) => ({
  id: r.id,
  name: r.name,
  organizationId: r.organizationId,
  state: r.state,
  createdAt: Transitions.iso(r.createdAt),
  updatedAt: Transitions.iso(r.updatedAt),
  lastUsedAt: Transitions.isoOrNull(r.lastUsedAt),
  errorReason: r.errorReason
})

/** Volumes (`/volumes`): stored in SQLite, their states moving on at due times read from the Clock. */
export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  const store = yield* SandboxStore
  const engine = yield* SandboxEngine
  const locked = (yield* Effect.makeSemaphore(1)).withPermits(1)
  const t = config.timings

  const next = (r: VolumeRecord): Transitions.Next | undefined => {
    switch (r.state) {
      case "pending_create":
        return { state: "creating", after: t.create }
      case "creating":
        return { state: "ready", after: null }
      case "pending_delete":
        return { state: "deleting", after: t.destroy }
      case "deleting":
        return { state: "deleted", after: null }
      default:
        return undefined
    }
  }

  const step = Transitions.tableStep(next)

  const announcer = stateAnnouncer<VolumeRecord>(yield* EventBus, {
    created: eventNames.volumeCreated,
    stateUpdated: eventNames.volumeStateUpdated,
    key: "volume",
    organizationId: (r) => r.organizationId,
    dto: toDto
  })

  const put = (r: VolumeRecord) =>
    encode(r).pipe(
      Effect.orDie,
      Effect.flatMap((data) => store.volumes.put(r.id, data)),
      Effect.zipRight(announcer.written(r))
    )

  /** Every volume with its due steps applied and stored; callers hold the lock. */
  const settled = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const rows = yield* store.volumes.all
    return yield* Effect.forEach(rows, (row) =>
      Effect.gen(function* () {
        const r = yield* Effect.orDie(decode(row))
        announcer.seen(r)
        return yield* Transitions.settle(r, now, step, put)
      })
    )
  })

  /** Steps happen at their due times, not only when read, so that their events come on time. */
  const driver = yield* Transitions.driver(
    (id) => Effect.map(settled, (all) => all.find((r) => r.id === id)?.dueAt ?? null).pipe(locked),
    () => Effect.asVoid(locked(settled))
  )
  for (const r of yield* locked(settled)) if (r.dueAt !== null) yield* driver.schedule(r.id)

  const byId = (all: ReadonlyArray<VolumeRecord>, volumeId: string): Effect.Effect<VolumeRecord, ControlPlaneError> => {
    const found = all.find((r) => r.id === volumeId)
    return found === undefined ? Effect.fail(notFound(`Volume with ID ${volumeId} not found`)) : Effect.succeed(found)
  }

  const list = (includeDeleted: boolean) =>
    locked(settled).pipe(
      Effect.map((all) =>
        all
          .filter((r) => includeDeleted || r.state !== "deleted")
          .sort(
            (a, b) =>
              (b.lastUsedAt ?? -Infinity) - (a.lastUsedAt ?? -Infinity) ||
              b.createdAt - a.createdAt ||
              all.indexOf(b) - all.indexOf(a)
          )
          .map(toDto)
      )
    )

  const get = (volumeId: string) =>
    locked(Effect.flatMap(settled, (all) => byId(all, volumeId))).pipe(Effect.map(toDto))

  const getByName = (name: string) =>
    locked(settled).pipe(
      Effect.flatMap((all) => {
        const found = all.find((r) => r.name === name && r.state !== "deleted")
        return found === undefined
          ? Effect.fail(notFound(`Volume with name ${name} not found`))
          : Effect.succeed(toDto(found))
      })
    )

  const create = (requested: string | undefined) =>
    locked(
      Effect.gen(function* () {
        const all = yield* settled
        const id = NodeCrypto.randomUUID()
        const name = requested === undefined || requested === "" ? id : requested
        if (all.some((r) => r.name === name && r.state !== "deleted"))
          return yield* badRequest(`Volume with name ${name} already exists`)
        const now = yield* Clock.currentTimeMillis
        const record: VolumeRecord = {
          id,
          organizationId: config.organizationId,
          name,
          state: "pending_create",
          dueAt: now + Duration.toMillis(t.create),
          errorReason: null,
          createdAt: now,
          updatedAt: now,
          lastUsedAt: null
        }
        yield* put(record)
        return toDto(record)
      })
    ).pipe(Effect.tap((dto) => driver.schedule(dto.id)))

  /**
   * The sandboxes that mount a volume: every one not being deleted, and a deleted one until the
   * engine has ended its processes, which may still be changing the volume's files meanwhile.
   */
  const users = (volumeId: string) =>
    Effect.flatMap(store.all, (sandboxes) =>
      Effect.filter(
        sandboxes.filter((s) => s.state !== "destroyed" && s.volumes.some((v) => v.volumeId === volumeId)),
        (s) => (s.desiredState === "destroyed" ? engine.isRunning(s.id) : Effect.succeed(true))
      )
    )

  /**
   * Marks a volume for deletion, refused with 409 while a sandbox (in any state but destroyed)
   * mounts it; its files are removed with it.
   */
  const remove = (volumeId: string) =>
    locked(
      Effect.gen(function* () {
        const r = yield* byId(yield* settled, volumeId)
        if (r.state !== "ready" && r.state !== "error")
          return yield* badRequest("Volume must be in 'ready' or 'error' state in order to be deleted")
        const using = yield* users(r.id)
        if (using.length > 0)
          return yield* conflict(
            `Volume ${r.name} is in use by ${using.length} sandbox${using.length === 1 ? "" : "es"}: ${using.map((s) => s.id).join(", ")}`
          )
        const now = yield* Clock.currentTimeMillis
        yield* put({ ...r, state: "pending_delete", dueAt: now + Duration.toMillis(t.destroy), updatedAt: now })
        yield* Effect.promise(() => TreeRemoval.removeTree(directoryOf(r.id)))
      })
    ).pipe(Effect.zipRight(driver.schedule(volumeId)))

  /** A volume's files, in the data directory (never visible to a sandbox except where it is mounted). */
  const directoryOf = (volumeId: string) => NodePath.join(config.dataDir, "volumes", volumeId)

  /**
   * The directory of a volume a new sandbox mounts: it must exist and be `ready` (400 otherwise, as
   * Daytona answers). Made at first use, writable by every sandbox that mounts it; its last use is
   * recorded.
   */
  const forSandbox = (volumeId: string) =>
    locked(
      Effect.gen(function* () {
        const r = (yield* settled).find((v) => v.id === volumeId || (v.name === volumeId && v.state !== "deleted"))
        if (r === undefined || r.state === "deleted") return yield* badRequest(`Volume ${volumeId} not found`)
        if (r.state !== "ready") return yield* badRequest(`Volume ${r.name} is not ready (${r.state})`)
        const dir = directoryOf(r.id)
        yield* Effect.promise(async () => {
          await NodeFs.mkdir(dir, { recursive: true, mode: 0o700 })
          await NodeFs.chmod(dir, 0o777)
        })
        const now = yield* Clock.currentTimeMillis
        yield* put({ ...r, lastUsedAt: now })
        return { id: r.id, root: dir }
      })
    )

  return { list, get, getByName, create, remove, forSandbox, directoryOf }
})

export interface Volumes extends Effect.Effect.Success<typeof make> {}

export class VolumesService extends Context.Tag("@effect-daytona/local/internal/Volumes")<VolumesService, Volumes>() {}

export const layer = Layer.scoped(VolumesService, make)
