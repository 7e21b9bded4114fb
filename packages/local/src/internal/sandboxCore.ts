import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as NodePath from "node:path"
import { LocalConfig } from "../LocalConfig.js"
import { SandboxEngine } from "../SandboxEngine.js"
import { type ControlPlaneError, sandboxNotFound } from "./controlPlaneError.js"
import { EgressService } from "./egress.js"
import { EventBus, eventNames } from "./events.js"
import { parseDomains, parseNetworks, type EgressPolicy } from "./networkRules.js"
import { reportedState, type SandboxRecord, secretsOf, toDto } from "./record.js"
import { SecretVaultService } from "./secretVault.js"
import { ServerUrl } from "./serverUrl.js"
import { SandboxStore, type Store } from "./store.js"
import * as Transitions from "./transitions.js"
import * as SandboxRegistry from "./sandboxRegistry.js"

/** A sandbox that reached a failure state. */
export const errored = (r: SandboxRecord) => r.state === "error" || r.state === "build_failed"

/** Daytona forces `pending` off for errored sandboxes and while archiving. */
export const inTransition = (r: SandboxRecord) => r.pending && !errored(r) && r.desiredState !== "archived"

/** Deleted as soon as it stops. */
export const ephemeral = (r: SandboxRecord) => r.autoDeleteInterval === 0

/** Whether the API still shows the sandbox (destroyed ones, and failed ones being deleted, are gone). */
export const visible = (r: SandboxRecord) => r.state !== "destroyed" && !(errored(r) && r.desiredState === "destroyed")

/**
 * The store as the sandbox service writes it: every write of a sandbox that changes the state or
 * the desired state the API reports is announced as Daytona's gateway does (`sandbox.created`,
 * `sandbox.state.updated`, `sandbox.desired-state.updated`, with the sandbox as it now is).
 */
const announcing = (
  store: Store,
  publish: (event: { name: string; organizationId: string; payload: unknown }) => Effect.Effect<void>,
  toolboxProxyUrl: string
): Store => ({
  ...store,
  put: (record) =>
    Effect.gen(function* () {
      const before = Option.getOrUndefined(yield* store.get(record.id))
      yield* store.put(record)
      const sandbox = () => toDto(record, toolboxProxyUrl)
      const organizationId = record.organizationId
      if (before === undefined) {
        yield* publish({ name: eventNames.sandboxCreated, organizationId, payload: sandbox() })
        return
      }
      const [oldState, newState] = [
        reportedState(before.state, before.desiredState),
        reportedState(record.state, record.desiredState)
      ]
      if (oldState !== newState)
        yield* publish({
          name: eventNames.sandboxStateUpdated,
          organizationId,
          payload: { sandbox: sandbox(), oldState, newState }
        })
      if (before.desiredState !== record.desiredState)
        yield* publish({
          name: eventNames.sandboxDesiredStateUpdated,
          organizationId,
          payload: { sandbox: sandbox(), oldDesiredState: before.desiredState, newDesiredState: record.desiredState }
        })
    })
})

/**
 * The sandbox state machine every other part builds on: one lock over every read-modify-write, the
 * steps of each transition applied at their due times with their effect on the engine (through the
 * shared `Transitions` mechanism, driven in the background so that a start really starts on time),
 * and the lookups Daytona does (by id, then by name).
 */
export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  const bus = yield* EventBus
  const engine = yield* SandboxEngine
  const serverUrl = yield* ServerUrl
  const egress = yield* EgressService
  const vault = yield* SecretVaultService
  const toolboxProxyUrl = `${serverUrl}/toolbox`
  const store = announcing(yield* SandboxStore, (event) => bus.publish(event), toolboxProxyUrl)
  const locked = (yield* Effect.makeSemaphore(1)).withPermits(1)
  /** Sandboxes whose pending stop was asked with `force`. */
  const forceStop = new Set<string>()
  const t = config.timings
  const ms = (d: Duration.Duration) => Duration.toMillis(d)

  const dto = (r: SandboxRecord) => toDto(r, toolboxProxyUrl)

  /** The rules of a sandbox's egress proxy as its record holds them now (a deleted sandbox: nothing goes out). */
  const policyOf = (id: string): Effect.Effect<EgressPolicy> =>
    Effect.gen(function* () {
      const r = yield* store.get(id)
      if (Option.isNone(r)) return { blockAll: true, networks: [], domains: [], secrets: [] }
      const record = r.value
      return {
        blockAll: record.networkBlockAll,
        networks: parseNetworks(record.networkAllowList),
        domains: parseDomains(record.domainAllowList),
        secrets: yield* vault.reveal(secretsOf(record).map((mount) => mount.secretId))
      }
    })

  /** Where a volume's files are (the volume service's `directoryOf`). */
  const volumesRoot = (volumeId: string) => NodePath.join(config.dataDir, "volumes", volumeId)

  /** A sandbox goes out through the egress proxy when it mounts secrets or has an allow list. */
  const needsEgress = (r: SandboxRecord) =>
    secretsOf(r).length > 0 || r.networkAllowList !== null || r.domainAllowList !== null

  /** Completes the step of a transition whose time has come, with its effect on the machine. */
  const step = (r: Transitions.Due<SandboxRecord>): Effect.Effect<SandboxRecord> =>
    Effect.gen(function* () {
      const at = r.dueAt
      const done = (state: string): SandboxRecord => ({
        ...r,
        state,
        pending: state !== r.desiredState,
        dueAt: null,
        updatedAt: at,
        lastActivityAt: at
      })
      const next = (state: string, after: Duration.Duration): SandboxRecord => ({
        ...r,
        state,
        dueAt: at + ms(after),
        updatedAt: at,
        lastActivityAt: at
      })
      if (r.state === "resizing") {
        yield* engine.resize(r.id, { cpu: r.cpu, memory: r.memory, disk: r.disk })
        return done(r.desiredState)
      }
      switch (r.desiredState) {
        case "started": {
          if (r.state === "pending_build") return next("building_snapshot", t.build)
          if (r.state === "archived") return next("restoring", t.restore)
          if (r.state === "paused") {
            const resumed = yield* Effect.either(engine.resume(r.id))
            if (resumed._tag === "Left")
              return { ...done("error"), pending: false, errorReason: resumed.left.message, recoverable: false }
            return done("started")
          }
          const started = yield* Effect.either(
            Effect.gen(function* () {
              const proxy = needsEgress(r)
                ? yield* egress
                    .optionsFor(() => Effect.runPromise(policyOf(r.id)))
                    .pipe(Effect.mapError((error) => ({ message: error.message })))
                : undefined
              yield* engine.start(r.id, {
                resources: { cpu: r.cpu, memory: r.memory, disk: r.disk },
                network: {
                  blockAll: r.networkBlockAll,
                  allowList: r.networkAllowList,
                  domainAllowList: r.domainAllowList
                },
                egress: proxy,
                volumes: r.volumes.map((v) => ({
                  root: volumesRoot(v.volumeId),
                  subpath: v.subpath ?? undefined,
                  mountPath: v.mountPath
                }))
              })
            })
          )
          if (started._tag === "Left")
            return { ...done("error"), pending: false, errorReason: started.left.message, recoverable: true }
          return { ...done("started"), processEnv: null }
        }
        case "stopped": {
          yield* engine.stop(r.id, { force: forceStop.delete(r.id) })
          return done("stopped")
        }
        case "paused": {
          const paused = yield* Effect.either(engine.pause(r.id))
          // As Daytona rolls back a pause its runner refused: started again, with why.
          if (paused._tag === "Left")
            return { ...done("started"), desiredState: "started", pending: false, errorReason: paused.left.message }
          return done("paused")
        }
        case "archived": {
          yield* engine.stop(r.id, { force: true })
          return done("archived")
        }
        case "destroyed": {
          // Its processes are ended first; files that cannot be removed are left and logged, so that
          // one bad tree never stops the server from listing or restarting.
          yield* engine
            .destroy(r.id)
            .pipe(
              Effect.catchAllCause((cause) =>
                Effect.logWarning(`sandbox ${r.id}: its files could not all be removed`, cause)
              )
            )
          SandboxRegistry.forget(engine, r.id)
          yield* store.revokeSshAccess(r.id)
          return { ...done("destroyed"), destroyedAt: at, backupState: "None" }
        }
        default:
          return done(r.desiredState)
      }
    })

  /** Brings a record up to date with the clock: every step whose time has passed is applied and stored. */
  const settle = (r: SandboxRecord): Effect.Effect<SandboxRecord> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => Transitions.settle(r, now, step, store.put))

  /** A sandbox by id, settled; callers hold the lock. */
  const load = (id: string) =>
    store
      .get(id)
      .pipe(Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: (r) => Effect.asSome(settle(r)) })))

  /** Looks a sandbox up by id, then by name, as Daytona does; destroyed ones are not found. Callers hold the lock. */
  const find = (idOrName: string): Effect.Effect<SandboxRecord, ControlPlaneError> =>
    Effect.gen(function* () {
      const byId = yield* load(idOrName)
      if (Option.isSome(byId) && visible(byId.value)) return byId.value
      const all = yield* store.all
      const byName = all.find((r) => r.name === idOrName && r.state !== "destroyed")
      if (byName === undefined) return yield* sandboxNotFound(idOrName)
      const settled = yield* settle(byName)
      if (!visible(settled)) return yield* sandboxNotFound(idOrName)
      return settled
    })

  /**
   * `find` under the lock. Reading a sandbox settles its due transitions and stores the result, so
   * an unlocked read could overwrite a change made meanwhile (a delete racing the end of a stop).
   */
  const findLocked = (idOrName: string) => locked(find(idOrName))

  const driver = yield* Transitions.driver(
    (id) =>
      Effect.map(store.get(id), Option.match({ onNone: () => null, onSome: (r) => (r.pending ? r.dueAt : null) })),
    (id) => Effect.asVoid(locked(load(id)))
  )

  /** Applies a change under the lock, stores it and (re)schedules its transition. */
  const update = <E>(
    idOrName: string,
    f: (r: SandboxRecord, now: number) => Effect.Effect<SandboxRecord, E>
  ): Effect.Effect<SandboxRecord, E | ControlPlaneError> =>
    locked(
      Effect.gen(function* () {
        const r = yield* find(idOrName)
        const now = yield* Clock.currentTimeMillis
        const updated = yield* f(r, now)
        if (updated === r) return r
        const stored = { ...updated, updatedAt: now }
        yield* store.put(stored)
        return stored
      })
    ).pipe(Effect.tap((r) => (r.pending ? driver.schedule(r.id) : Effect.void)))

  /** The record with a transition towards `desiredState` begun, its first step due `after` from now. */
  const begin = (r: SandboxRecord, now: number, desiredState: string, after: Duration.Duration, state = r.state) => ({
    ...r,
    state,
    desiredState,
    pending: true,
    dueAt: now + ms(after),
    lastActivityAt: now
  })

  /** Deletion as Daytona does it: the name is freed at once, the sandbox goes on to `destroyed`. */
  const softDelete = (r: SandboxRecord, now: number): SandboxRecord => ({
    ...begin(r, now, "destroyed", t.destroy),
    name: `DESTROYED_${r.name}_${now}`,
    backupState: "None"
  })

  /** Waits, within `startWait`, until the sandbox has started or cannot start. */
  const awaitStarted = (id: string): Effect.Effect<SandboxRecord> =>
    Effect.gen(function* () {
      const deadline = (yield* Clock.currentTimeMillis) + ms(config.startWait)
      while (true) {
        const r = yield* locked(load(id))
        if (Option.isNone(r)) return yield* Effect.dieMessage(`sandbox ${id} vanished`)
        const now = yield* Clock.currentTimeMillis
        const s = r.value
        if (s.desiredState !== "started" || !s.pending || errored(s) || s.dueAt === null || now >= deadline) return s
        yield* Effect.sleep(Duration.millis(Math.max(0, Math.min(s.dueAt, deadline) - now)))
      }
    })

  /**
   * Every sandbox, settled; read under the lock so that settling never writes back a stale copy.
   * Only those with a step due are settled (the others are already up to date): a list of thousands
   * of idle sandboxes then costs no effect per sandbox.
   */
  const settledAll = locked(
    Effect.gen(function* () {
      const all = yield* store.all
      const now = yield* Clock.currentTimeMillis
      const due = (r: SandboxRecord) => r.dueAt !== null && r.dueAt <= now
      if (!all.some(due)) return all
      return yield* Effect.forEach(all, (r) => (due(r) ? settle(r) : Effect.succeed(r)))
    })
  )

  return {
    config,
    store,
    engine,
    serverUrl,
    toolboxProxyUrl,
    timings: t,
    forceStop,
    locked,
    dto,
    load,
    find,
    findLocked,
    update,
    schedule: driver.schedule,
    begin,
    softDelete,
    awaitStarted,
    settledAll
  }
})

/** The sandbox state machine, as the other parts of the sandbox service use it. */
export interface SandboxCore extends Effect.Effect.Success<typeof make> {}

/** What building the core needs. */
export type Requirements = Effect.Effect.Context<typeof make> | Scope.Scope
