import type { CreateSandbox, ResizeSandbox, UpdateSandboxNetworkSettings } from "@effect-daytona/sdk/CreateSandbox"
import type { PortPreviewUrl, SignedPortPreviewUrl } from "@effect-daytona/sdk/PreviewUrl"
import type { ListSandboxesResponse, PaginatedSandboxes, SandboxDto } from "@effect-daytona/sdk/SandboxDto"
import type { SshAccessDto, SshAccessValidationDto } from "@effect-daytona/sdk/SshAccess"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as NodeCrypto from "node:crypto"
import { LocalConfig } from "../LocalConfig.js"
import { SandboxEngine, securityNotice } from "../SandboxEngine.js"
import { type ApiError, badRequest, conflict, notFound, sandboxNotFound, stateChangeInProgress } from "./apiError.js"
import * as Listing from "./listing.js"
import type * as Preview from "./previewProxy.js"
import { daemonVersion, type SandboxRecord, toDto, toListItem } from "./record.js"
import { ServerUrl } from "./serverUrl.js"
import { defaultSnapshot, SnapshotsService } from "./snapshots.js"
import { SandboxStore } from "./store.js"
import * as ToolboxError from "./toolboxError.js"
import * as Validation from "./validation.js"

export { ServerUrl } from "./serverUrl.js"

export const maxAutoArchiveInterval = 43200

export { defaultSnapshot }
const limits = { cpu: 4, memory: 8, disk: 10 }

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
const randomToken = (length: number): string => {
  const bytes = NodeCrypto.randomBytes(length)
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")
}

/** Compares secrets in constant time. */
export const sameSecret = (given: string, expected: string): boolean =>
  NodeCrypto.timingSafeEqual(
    NodeCrypto.createHash("sha256").update(given).digest(),
    NodeCrypto.createHash("sha256").update(expected).digest()
  )

const errored = (r: SandboxRecord) => r.state === "error" || r.state === "build_failed"
/** Daytona forces `pending` off for errored sandboxes and while archiving. */
const inTransition = (r: SandboxRecord) => r.pending && !errored(r) && r.desiredState !== "archived"
const ephemeral = (r: SandboxRecord) => r.autoDeleteInterval === 0

export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  const store = yield* SandboxStore
  const engine = yield* SandboxEngine
  const serverUrl = yield* ServerUrl
  const snapshotsService = yield* SnapshotsService
  const toolboxProxyUrl = `${serverUrl}/toolbox`
  const previewHost = (() => {
    const url = new URL(serverUrl)
    return { protocol: url.protocol, port: url.port === "" ? "" : `:${url.port}` }
  })()
  const lock = yield* Effect.makeSemaphore(1)
  const locked = lock.withPermits(1)
  const transitions = yield* FiberMap.make<string>()
  const forceStop = new Set<string>()
  const t = config.timings
  const ms = (d: Duration.Duration) => Duration.toMillis(d)

  const dto = (r: SandboxRecord) => toDto(r, toolboxProxyUrl)

  /** Completes one step of a transition whose time has come, with its effect on the machine. */
  const step = (r: SandboxRecord): Effect.Effect<SandboxRecord> =>
    Effect.gen(function* () {
      const at = r.dueAt ?? (yield* Clock.currentTimeMillis)
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
          const started = yield* Effect.either(
            engine.start(r.id, {
              resources: { cpu: r.cpu, memory: r.memory, disk: r.disk },
              network: {
                blockAll: r.networkBlockAll,
                allowList: r.networkAllowList,
                domainAllowList: r.domainAllowList
              }
            })
          )
          if (started._tag === "Left")
            return { ...done("error"), pending: false, errorReason: started.left.message, recoverable: true }
          return done("started")
        }
        case "stopped": {
          yield* engine.stop(r.id, { force: forceStop.delete(r.id) })
          return done("stopped")
        }
        case "archived": {
          yield* engine.stop(r.id, { force: true })
          return done("archived")
        }
        case "destroyed": {
          yield* engine.destroy(r.id).pipe(Effect.orDie)
          yield* store.revokeSshAccess(r.id)
          return { ...done("destroyed"), destroyedAt: at, backupState: "None" }
        }
        default:
          return done(r.desiredState)
      }
    })

  /** Brings a record up to date with the clock: every step whose time has passed is applied. */
  const settle = (r: SandboxRecord): Effect.Effect<SandboxRecord> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      let current = r
      while (current.pending && current.dueAt !== null && current.dueAt <= now) {
        current = yield* step(current)
        yield* store.put(current)
      }
      return current
    }).pipe(Effect.uninterruptible)

  const load = (id: string) =>
    store
      .get(id)
      .pipe(Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: (r) => Effect.asSome(settle(r)) })))

  const visible = (r: SandboxRecord) => r.state !== "destroyed" && !(errored(r) && r.desiredState === "destroyed")

  /** Looks a sandbox up by id, then by name, as Daytona does; destroyed ones are not found. */
  const find = (idOrName: string): Effect.Effect<SandboxRecord, ApiError> =>
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

  /** Runs the transition's steps in the background at their due times. */
  const drive = (id: string): Effect.Effect<void> =>
    Effect.gen(function* () {
      while (true) {
        const r = yield* store.get(id)
        if (Option.isNone(r) || !r.value.pending || r.value.dueAt === null) return
        const now = yield* Clock.currentTimeMillis
        yield* Effect.sleep(Duration.millis(Math.max(0, r.value.dueAt - now)))
        yield* locked(load(id))
      }
    })

  const schedule = (id: string) => FiberMap.run(transitions, id, drive(id)).pipe(Effect.asVoid)

  /** Applies a change under the lock, stores it and (re)schedules its transition. */
  const update = <E>(
    idOrName: string,
    f: (r: SandboxRecord, now: number) => Effect.Effect<SandboxRecord, E>
  ): Effect.Effect<SandboxRecord, E | ApiError> =>
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
    ).pipe(Effect.tap((r) => (r.pending ? schedule(r.id) : Effect.void)))

  const begin = (r: SandboxRecord, now: number, desiredState: string, after: Duration.Duration, state = r.state) => ({
    ...r,
    state,
    desiredState,
    pending: true,
    dueAt: now + ms(after),
    lastActivityAt: now
  })

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

  const failedToStart = (r: SandboxRecord) =>
    errored(r)
      ? Effect.fail(badRequest(`Sandbox failed to start: ${r.errorReason ?? "unknown error"}`))
      : Effect.succeed(r)

  const create = (body: CreateSandbox): Effect.Effect<SandboxDto, ApiError> =>
    Effect.gen(function* () {
      const fromBuild = body.buildInfo !== undefined
      if (fromBuild && body.snapshot !== undefined)
        return yield* badRequest("Cannot specify both snapshot and buildInfo")
      let resources: { cpu: number; memory: number; disk: number; gpu: number }
      let snapshot: string | null = null
      if (!fromBuild) {
        if (body.cpu || body.gpu || body.memory || body.disk || body.gpuType !== undefined)
          return yield* badRequest("Cannot specify Sandbox resources when using a snapshot")
        const known = yield* snapshotsService.forSandbox(body.snapshot ?? defaultSnapshot)
        snapshot = known.name
        resources = { cpu: known.cpu, memory: known.memory, disk: known.disk, gpu: 0 }
      } else {
        resources = { cpu: body.cpu || 1, memory: body.memory || 1, disk: body.disk || 3, gpu: body.gpu ?? 0 }
        if (resources.gpu > 0) return yield* badRequest("GPU sandboxes are not supported by the local server")
        if (resources.cpu > limits.cpu)
          return yield* badRequest(`CPU request ${resources.cpu} exceeds maximum allowed per sandbox (${limits.cpu})`)
        if (resources.memory > limits.memory)
          return yield* badRequest(
            `Memory request ${resources.memory}GB exceeds maximum allowed per sandbox (${limits.memory}GB)`
          )
        if (resources.disk > limits.disk)
          return yield* badRequest(
            `Disk request ${resources.disk}GB exceeds maximum allowed per sandbox (${limits.disk}GB)`
          )
      }
      if (body.linkedSandbox !== undefined)
        return yield* badRequest("Linked sandboxes are not supported by the local server")
      const volume = body.volumes?.[0]
      if (volume !== undefined) return yield* badRequest(`Volume ${volume.volumeId} not found`)
      if (body.networkAllowList !== undefined) yield* Validation.networkAllowList(body.networkAllowList)
      if (body.domainAllowList !== undefined) yield* Validation.domainAllowList(body.domainAllowList)
      yield* engine
        .checkNetwork(undefined, {
          blockAll: body.networkBlockAll ?? false,
          allowList: body.networkAllowList,
          domainAllowList: body.domainAllowList
        })
        .pipe(Effect.mapError((error) => badRequest(error.message)))
      const autoStopInterval = body.autoStopInterval ?? 15
      if (autoStopInterval < 0) return yield* badRequest("Auto-stop interval must be non-negative")
      const autoArchiveInterval = yield* resolveAutoArchive(body.autoArchiveInterval ?? 10080)

      const id = NodeCrypto.randomUUID()
      const name = body.name ?? id
      const record = yield* locked(
        Effect.gen(function* () {
          const all = yield* store.all
          if (all.some((r) => r.name === name && r.state !== "destroyed"))
            return yield* conflict(`Sandbox with name ${name} already exists`)
          yield* engine.provision(id).pipe(Effect.orDie)
          const now = yield* Clock.currentTimeMillis
          const allowList =
            body.networkAllowList === undefined || body.networkAllowList === "" ? null : body.networkAllowList
          const record: SandboxRecord = {
            id,
            organizationId: config.organizationId,
            name,
            snapshot,
            user: body.user ?? "daytona",
            env: body.env ?? {},
            labels: body.labels ?? {},
            public: body.public ?? false,
            target: body.target ?? config.region,
            ...resources,
            state: fromBuild ? "pending_build" : "unknown",
            desiredState: "started",
            pending: true,
            dueAt: now + ms(fromBuild ? t.build : t.create),
            errorReason: null,
            recoverable: false,
            backupState: "None",
            autoStopInterval,
            autoArchiveInterval,
            autoDeleteInterval: body.autoDeleteInterval ?? -1,
            networkBlockAll: allowList === null ? (body.networkBlockAll ?? false) : false,
            networkAllowList: allowList,
            domainAllowList:
              body.domainAllowList === undefined || body.domainAllowList === "" ? null : body.domainAllowList,
            volumes: [],
            buildInfo:
              body.buildInfo === undefined
                ? null
                : {
                    dockerfileContent: body.buildInfo.dockerfileContent,
                    contextHashes: body.buildInfo.contextHashes ?? [],
                    snapshotRef: `local/build:${NodeCrypto.createHash("sha256").update(body.buildInfo.dockerfileContent).digest("hex").slice(0, 16)}`,
                    createdAt: now
                  },
            authToken: randomToken(32),
            createdAt: now,
            updatedAt: now,
            lastActivityAt: now,
            destroyedAt: null
          }
          yield* store.put(record)
          return record
        })
      )
      yield* schedule(id)
      const result = fromBuild ? record : yield* awaitStarted(id).pipe(Effect.flatMap(failedToStart))
      return dto(result)
    })

  const resolveAutoArchive = (interval: number): Effect.Effect<number, ApiError> =>
    interval < 0
      ? Effect.fail(badRequest("Auto-archive interval must be non-negative"))
      : Effect.succeed(interval === 0 ? maxAutoArchiveInterval : Math.min(interval, maxAutoArchiveInterval))

  const start = (idOrName: string) =>
    Effect.gen(function* () {
      const r = yield* update(idOrName, (r, now) => {
        if (r.state === "started" && r.desiredState === "started") return Effect.succeed(r)
        if (errored(r)) return Effect.fail(badRequest("Sandbox is in an errored state"))
        const archivingOrStopped = r.desiredState === "archived" && (r.state === "stopped" || r.state === "archiving")
        if (r.state !== r.desiredState && !archivingOrStopped) return Effect.fail(stateChangeInProgress())
        if (!["stopped", "archived", "archiving"].includes(r.state))
          return Effect.fail(badRequest("Sandbox is not in valid state"))
        if (r.pending && !archivingOrStopped) return Effect.fail(stateChangeInProgress())
        const after = r.state === "archived" ? Duration.zero : t.start
        return Effect.succeed({ ...begin(r, now, "started", after), authToken: randomToken(32) })
      })
      const result = r.state === "archived" ? r : yield* awaitStarted(r.id).pipe(Effect.flatMap(failedToStart))
      return dto(result)
    })

  const stop = (idOrName: string, force: boolean) =>
    update(idOrName, (r, now) => {
      if (errored(r)) return Effect.fail(badRequest("Sandbox is in an errored state"))
      if (r.state !== r.desiredState) return Effect.fail(stateChangeInProgress())
      if (r.state !== "started") return Effect.fail(badRequest("Sandbox is not in a stoppable state"))
      if (r.pending) return Effect.fail(stateChangeInProgress())
      if (force) forceStop.add(r.id)
      return Effect.succeed(ephemeral(r) ? softDelete(r, now) : begin(r, now, "stopped", t.stop))
    }).pipe(Effect.map(dto))

  const archive = (idOrName: string) =>
    update(idOrName, (r, now) => {
      if (errored(r)) return Effect.fail(badRequest("Sandbox is in an errored state"))
      if (r.state !== r.desiredState) return Effect.fail(stateChangeInProgress())
      if (r.state !== "stopped") return Effect.fail(badRequest("Sandbox is not stopped"))
      if (r.pending) return Effect.fail(stateChangeInProgress())
      if (ephemeral(r)) return Effect.fail(badRequest("Ephemeral sandboxes cannot be archived"))
      return Effect.succeed(begin(r, now, "archived", t.archive, "archiving"))
    }).pipe(Effect.map(dto))

  const remove = (idOrName: string) =>
    update(idOrName, (r, now) => {
      if (inTransition(r) && r.state !== "pending_build") return Effect.fail(stateChangeInProgress())
      return Effect.succeed(softDelete(r, now))
    }).pipe(Effect.map(dto))

  /** In-place recovery (Daytona's case b): the errored sandbox becomes stopped and is started again. */
  const recover = (idOrName: string) =>
    Effect.gen(function* () {
      const r = yield* update(idOrName, (r, now) => {
        if (!r.recoverable) return Effect.fail(badRequest("Sandbox is not recoverable"))
        if (r.state !== "error") return Effect.fail(badRequest("Sandbox is not in an errored state"))
        const stopped = { ...r, state: "stopped", errorReason: null, recoverable: false }
        return Effect.succeed(begin(stopped, now, "started", t.start))
      })
      return dto(yield* awaitStarted(r.id).pipe(Effect.flatMap(failedToStart)))
    })

  /** Test support: the sandbox fails as if its runner had reported it; its transition ends. */
  const forceState = (
    idOrName: string,
    state: "error" | "build_failed",
    options: { readonly errorReason?: string | undefined; readonly recoverable?: boolean | undefined }
  ) =>
    update(idOrName, (r) =>
      Effect.as(engine.stop(r.id, { force: true }), {
        ...r,
        state,
        pending: false,
        dueAt: null,
        errorReason: options.errorReason ?? null,
        recoverable: options.recoverable ?? false
      })
    ).pipe(Effect.map(dto))

  const set = (idOrName: string, f: (r: SandboxRecord) => Partial<SandboxRecord>) =>
    update(idOrName, (r) => Effect.succeed({ ...r, ...f(r) })).pipe(Effect.map(dto))

  const setAutostop = (idOrName: string, interval: number) =>
    interval < 0
      ? Effect.fail(badRequest("Auto-stop interval must be non-negative"))
      : set(idOrName, () => ({ autoStopInterval: interval }))

  const setAutoArchive = (idOrName: string, interval: number) =>
    resolveAutoArchive(interval).pipe(Effect.flatMap((value) => set(idOrName, () => ({ autoArchiveInterval: value }))))

  const setAutoDelete = (idOrName: string, interval: number) => set(idOrName, () => ({ autoDeleteInterval: interval }))

  const touch = (idOrName: string) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* update(idOrName, (r) => Effect.succeed({ ...r, lastActivityAt: now }))
    })

  const networkSettings = (idOrName: string, body: UpdateSandboxNetworkSettings) =>
    Effect.gen(function* () {
      if (
        body.networkBlockAll === undefined &&
        body.networkAllowList === undefined &&
        body.domainAllowList === undefined
      )
        return yield* badRequest("At least one network setting must be provided")
      if (body.networkAllowList !== undefined) yield* Validation.networkAllowList(body.networkAllowList)
      if (body.domainAllowList !== undefined) yield* Validation.domainAllowList(body.domainAllowList)
      const current = yield* findLocked(idOrName)
      yield* engine
        .checkNetwork(current.id, {
          blockAll:
            body.networkAllowList !== undefined && body.networkAllowList !== ""
              ? false
              : (body.networkBlockAll ?? current.networkBlockAll),
          allowList: body.networkAllowList === undefined ? current.networkAllowList : body.networkAllowList,
          domainAllowList: body.domainAllowList === undefined ? current.domainAllowList : body.domainAllowList
        })
        .pipe(Effect.mapError((error) => badRequest(error.message)))
      return yield* set(idOrName, (r) => {
        const networkAllowList =
          body.networkAllowList === undefined
            ? r.networkAllowList
            : body.networkAllowList === ""
              ? null
              : body.networkAllowList
        return {
          networkAllowList,
          domainAllowList:
            body.domainAllowList === undefined
              ? r.domainAllowList
              : body.domainAllowList === ""
                ? null
                : body.domainAllowList,
          networkBlockAll:
            body.networkAllowList !== undefined && networkAllowList !== null
              ? false
              : (body.networkBlockAll ?? r.networkBlockAll)
        }
      })
    })

  const resize = (idOrName: string, body: ResizeSandbox) =>
    update(idOrName, (r, now) => {
      if (r.state !== "started" && r.state !== "stopped")
        return Effect.fail(badRequest("Sandbox must be started or stopped to be resized"))
      if (r.pending) return Effect.fail(stateChangeInProgress())
      const cpu = body.cpu ?? r.cpu
      const memory = body.memory ?? r.memory
      const disk = body.disk ?? r.disk
      if (cpu === r.cpu && memory === r.memory && disk === r.disk)
        return Effect.fail(badRequest("No resource changes specified"))
      if (disk < r.disk) return Effect.fail(badRequest("Disk size cannot be decreased"))
      if (r.state === "started" && disk !== r.disk)
        return Effect.fail(badRequest("Disk can only be resized while the sandbox is stopped"))
      if (r.state === "started" && (cpu < r.cpu || memory < r.memory))
        return Effect.fail(badRequest("CPU and memory can only be decreased while the sandbox is stopped"))
      if (cpu > limits.cpu)
        return Effect.fail(badRequest(`CPU request ${cpu} exceeds maximum allowed per sandbox (${limits.cpu})`))
      if (memory > limits.memory)
        return Effect.fail(
          badRequest(`Memory request ${memory}GB exceeds maximum allowed per sandbox (${limits.memory}GB)`)
        )
      if (disk > limits.disk)
        return Effect.fail(badRequest(`Disk request ${disk}GB exceeds maximum allowed per sandbox (${limits.disk}GB)`))
      return Effect.succeed({ ...begin(r, now, r.state, t.resize, "resizing"), cpu, memory, disk })
    }).pipe(Effect.map(dto))

  const port = (raw: string) => {
    const value = Number(raw)
    return Number.isInteger(value) && value >= 1 && value <= 65535
      ? Effect.succeed(value)
      : Effect.fail(badRequest("Invalid port"))
  }

  const previewUrl = (idOrName: string, rawPort: string): Effect.Effect<PortPreviewUrl, ApiError> =>
    Effect.gen(function* () {
      const p = yield* port(rawPort)
      const r = yield* findLocked(idOrName)
      return {
        sandboxId: r.id,
        url: `${previewHost.protocol}//${p}-${r.id}.localhost${previewHost.port}`,
        token: r.authToken
      }
    })

  const signedPreviewUrl = (
    idOrName: string,
    rawPort: string,
    rawExpires: string | undefined
  ): Effect.Effect<SignedPortPreviewUrl, ApiError> =>
    Effect.gen(function* () {
      const p = yield* port(rawPort)
      const expires = rawExpires === undefined ? 60 : Number(rawExpires)
      if (!Number.isInteger(expires) || expires < 1 || expires > 86400)
        return yield* badRequest("expiresInSeconds must be between 1 and 86400 seconds")
      const r = yield* findLocked(idOrName)
      const token = randomToken(16)
      const now = yield* Clock.currentTimeMillis
      yield* store.putSignedPreview(token, p, r.id, now + expires * 1000)
      return {
        sandboxId: r.id,
        port: p,
        token,
        url: `${previewHost.protocol}//${p}-${token}.localhost${previewHost.port}`
      }
    })

  const expireSignedPreviewUrl = (idOrName: string, rawPort: string, token: string) =>
    Effect.gen(function* () {
      const p = yield* port(rawPort)
      const r = yield* findLocked(idOrName)
      yield* store.expireSignedPreview(r.id, p, token)
    })

  const sshHost = new URL(serverUrl).hostname
  const createSshAccess = (idOrName: string, rawMinutes: string | undefined): Effect.Effect<SshAccessDto, ApiError> =>
    Effect.gen(function* () {
      const minutes = rawMinutes === undefined ? 60 : Number(rawMinutes)
      if (!Number.isFinite(minutes)) return yield* badRequest("expiresInMinutes must be a number")
      if (Math.abs(minutes) > 52_560_000) return yield* badRequest("expiresInMinutes is out of range")
      const r = yield* findLocked(idOrName)
      const now = yield* Clock.currentTimeMillis
      yield* store.revokeSshAccess(r.id)
      const row = {
        id: NodeCrypto.randomUUID(),
        token: randomToken(32),
        sandboxId: r.id,
        expiresAt: now + minutes * 60_000,
        createdAt: now
      }
      yield* store.putSshAccess(row)
      const created = new Date(now).toISOString()
      return {
        id: row.id,
        sandboxId: r.id,
        token: row.token,
        expiresAt: new Date(row.expiresAt).toISOString(),
        createdAt: created,
        updatedAt: created,
        sshCommand: `ssh -p 2222 ${row.token}@${sshHost}`
      }
    })

  const revokeSshAccess = (idOrName: string, token: string | undefined) =>
    Effect.gen(function* () {
      const r = yield* findLocked(idOrName)
      yield* store.revokeSshAccess(r.id, token)
      return dto(r)
    })

  const validateSshAccess = (token: string): Effect.Effect<SshAccessValidationDto> =>
    Effect.gen(function* () {
      const row = yield* store.sshAccessByToken(token)
      const now = yield* Clock.currentTimeMillis
      if (Option.isNone(row) || row.value.expiresAt <= now) return { valid: false, sandboxId: null }
      const r = yield* locked(load(row.value.sandboxId))
      return Option.isSome(r) && visible(r.value)
        ? { valid: true, sandboxId: r.value.id }
        : { valid: false, sandboxId: null }
    })

  /** Every sandbox, settled; read under the lock so that settling never writes back a stale copy. */
  const settledAll = locked(Effect.flatMap(store.all, (all) => Effect.forEach(all, settle)))

  const list = (query: Listing.Query): Effect.Effect<ListSandboxesResponse, ApiError> =>
    Effect.gen(function* () {
      const all = yield* settledAll
      const page = yield* Listing.cursorPage(all, query)
      return { items: page.items.map((r) => toListItem(r, toolboxProxyUrl)), nextCursor: page.nextCursor }
    })

  const listPaginated = (query: Listing.Query): Effect.Effect<PaginatedSandboxes, ApiError> =>
    Effect.gen(function* () {
      const all = yield* settledAll
      const page = yield* Listing.numberedPage(all, query)
      return { ...page, items: page.items.map(dto) }
    })

  /**
   * Moves a sandbox's last activity to `now`, reading and writing under one lock so that a change
   * made since the caller read the sandbox (a delete, a stop) is kept.
   */
  const recordActivity = (id: string, now: number) =>
    locked(
      Effect.flatMap(
        load(id),
        Option.match({
          onNone: () => Effect.void,
          onSome: (current) => (visible(current) ? store.put({ ...current, lastActivityAt: now }) : Effect.void)
        })
      )
    )

  /** The sandbox a toolbox request addresses, which must be started (answers like the runner). */
  const running = (id: string): Effect.Effect<SandboxRecord, ToolboxError.ToolboxError> =>
    Effect.gen(function* () {
      const r = yield* locked(load(id))
      if (Option.isNone(r) || !visible(r.value)) return yield* ToolboxError.notFound("sandbox container not found")
      const isRunning = yield* engine.isRunning(id)
      if (r.value.state !== "started" || !isRunning) return yield* ToolboxError.sandboxNotStarted(id)
      const now = yield* Clock.currentTimeMillis
      yield* recordActivity(id, now)
      return { ...r.value, lastActivityAt: now }
    })

  const reservedPorts = new Set([2280, 22222, 33333])

  /**
   * Whether a preview request may reach a sandbox's port (catalog §3.2): a public sandbox (except
   * on reserved ports), the API key, the sandbox's preview token in the header or the query, or a
   * host label that is an unexpired signed token for that port. The sandbox must be started.
   */
  const previewAccess = (
    label: string,
    port: number,
    credentials: Preview.Credentials
  ): Effect.Effect<Preview.Decision> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const signed = yield* store.signedPreview(label, port)
      const signedValid = Option.isSome(signed) && signed.value.expiresAt > now
      const id = signedValid ? signed.value.sandboxId : label
      const found = yield* locked(load(id))
      if (Option.isNone(found) || !visible(found.value))
        return { _tag: "Deny", error: ToolboxError.notFound(`sandbox ${id} not found`) } as const
      const r = found.value
      const bearer = credentials.bearer !== undefined && sameSecret(credentials.bearer, Redacted.value(config.apiKey))
      const token = [credentials.previewToken, credentials.queryToken].some(
        (given) => given !== undefined && sameSecret(given, r.authToken)
      )
      const open = r.public && !reservedPorts.has(port)
      if (!(signedValid || open || bearer || token))
        return {
          _tag: "Deny",
          error: ToolboxError.unauthorized("authentication failed: a preview token is required for a private sandbox")
        } as const
      if (r.state !== "started" || !(yield* engine.isRunning(r.id)))
        return { _tag: "Deny", error: ToolboxError.sandboxNotStarted(r.id) } as const
      yield* recordActivity(r.id, now)
      return { _tag: "Allow", sandboxId: r.id, port, stripAuthorization: bearer } as const
    })

  /** Enforces auto-stop, auto-archive and auto-delete, and purges long-destroyed rows. */
  const enforceLifecycle = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const all = yield* settledAll
    for (const r of all) {
      if (r.state === "destroyed") {
        if (r.destroyedAt !== null && now - r.destroyedAt >= 24 * 3600_000) yield* store.remove(r.id)
        continue
      }
      if (r.pending || errored(r)) continue
      const idle = now - r.lastActivityAt
      const due = (minutes: number) => minutes > 0 && idle >= minutes * 60_000
      const apply = (f: (r: SandboxRecord, now: number) => SandboxRecord) =>
        update(r.id, (current, now) =>
          current.pending || current.lastActivityAt !== r.lastActivityAt
            ? Effect.succeed(current)
            : Effect.succeed(f(current, now))
        ).pipe(Effect.ignore)
      if (r.state === "started" && due(r.autoStopInterval)) {
        yield* apply((c, now) => (ephemeral(c) ? softDelete(c, now) : begin(c, now, "stopped", t.stop)))
      } else if (r.state === "stopped" && r.desiredState === "stopped") {
        if (due(r.autoDeleteInterval)) yield* apply(softDelete)
        else if (!ephemeral(r) && due(r.autoArchiveInterval))
          yield* apply((c, now) => begin(c, now, "archived", t.archive, "archiving"))
      }
    }
  })

  /**
   * After a restart nothing runs: running sandboxes come back stopped, transitions are completed,
   * failed sandboxes keep their error.
   */
  const recoverAfterRestart = Effect.gen(function* () {
    const all = yield* store.all
    const now = yield* Clock.currentTimeMillis
    for (const r of all) {
      if (r.state === "destroyed") continue
      if (errored(r) && r.desiredState !== "destroyed") continue
      let next: SandboxRecord
      if (r.desiredState === "destroyed") {
        yield* engine.destroy(r.id).pipe(Effect.orDie)
        next = { ...r, state: "destroyed", pending: false, dueAt: null, destroyedAt: now }
      } else if (r.desiredState === "archived") {
        next = { ...r, state: "archived", pending: false, dueAt: null }
      } else if (r.state === "archived" && r.desiredState === "started") {
        next = { ...r, state: "archived", desiredState: "archived", pending: false, dueAt: null }
      } else if (r.state !== "stopped" || r.desiredState !== "stopped" || r.pending) {
        next = { ...r, state: "stopped", desiredState: "stopped", pending: false, dueAt: null }
      } else continue
      yield* store.put({ ...next, updatedAt: now, lastActivityAt: now })
    }
  })

  yield* recoverAfterRestart
  yield* enforceLifecycle.pipe(
    Effect.catchAllCause((cause) => Effect.logWarning("lifecycle check failed", cause)),
    Effect.repeat(Schedule.spaced(config.lifecycleInterval)),
    Effect.delay(config.lifecycleInterval),
    Effect.forkScoped
  )

  /** Daytona's `DaytonaConfiguration` where its fields apply, plus how sandboxes are isolated. */
  const configuration = {
    version: daemonVersion,
    environment: "local",
    dashboardUrl: serverUrl,
    proxyToolboxUrl: toolboxProxyUrl,
    proxyTemplateUrl: `${previewHost.protocol}//{{PORT}}-{{sandboxId}}.localhost${previewHost.port}`,
    defaultSnapshot,
    maxAutoArchiveInterval,
    maintananceMode: false,
    linkedAccountsEnabled: false,
    announcements: {},
    oidc: { issuer: "", clientId: "", audience: "" },
    sshGatewayCommand: `ssh -p 2222 {{TOKEN}}@${new URL(serverUrl).hostname}`,
    isolation: engine.isolation,
    ...securityNotice(engine.isolation),
    resourceLimits: engine.limits
  }

  return {
    toolboxProxyUrl,
    configuration,
    create,
    get: (idOrName: string) => findLocked(idOrName).pipe(Effect.map(dto)),
    list,
    listPaginated,
    remove,
    start,
    stop,
    archive,
    recover,
    replaceLabels: (idOrName: string, labels: Readonly<Record<string, string>>) => set(idOrName, () => ({ labels })),
    setAutostop,
    setAutoArchive,
    setAutoDelete,
    touch,
    networkSettings,
    resize,
    previewUrl,
    signedPreviewUrl,
    expireSignedPreviewUrl,
    createSshAccess,
    revokeSshAccess,
    previewAccess,
    validateSshAccess,
    running,
    forceState,
    notFound: (message: string) => notFound(message)
  }
})

export interface Sandboxes extends Effect.Effect.Success<typeof make> {}

export class SandboxesService extends Context.Tag("@effect-daytona/local/internal/Sandboxes")<
  SandboxesService,
  Sandboxes
>() {}

export const layer = Layer.scoped(SandboxesService, make)
