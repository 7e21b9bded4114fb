import type { ListSandboxesPaginatedQuery, ListSandboxesQuery } from "@effect-daytona/sdk/ControlPlaneApi"
import type { CreateSandbox, ResizeSandbox, UpdateSandboxNetworkSettings } from "@effect-daytona/sdk/CreateSandbox"
import type { ListSandboxesResponse, PaginatedSandboxes, SandboxDto } from "@effect-daytona/sdk/SandboxDto"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as NodeCrypto from "node:crypto"
import { type ControlPlaneError, badRequest, conflict, stateChangeInProgress } from "./controlPlaneError.js"
import { environmentProblem } from "./environment.js"
import * as Listing from "./listing.js"
import { type SandboxRecord, toListItem } from "./record.js"
import { errored, ephemeral, inTransition, type SandboxCore } from "./sandboxCore.js"
import * as SandboxFiles from "./sandboxFiles.js"
import { randomToken } from "./secrets.js"
import type { ObjectStorage } from "./objectStorage.js"
import { defaultSnapshot, type SnapshotsService } from "./snapshots.js"
import * as VolumeMounts from "./volumeMounts.js"
import type { VolumesService } from "./volumes.js"
import type { WarmRequest } from "./warmPools.js"

/**
 * How a create may be served by a warm pool: the sandbox it claimed (already started), or nothing
 * when no pool matches the request.
 */
export type ClaimWarm = (request: WarmRequest) => Effect.Effect<Option.Option<SandboxRecord>, ControlPlaneError>

/** The longest TTL, in minutes. */
export const maxTtlMinutes = 2 ** 31 - 1

/** The longest auto-archive interval, in minutes (30 days). */
export const maxAutoArchiveInterval = 43200

/** The most a sandbox built from an image may ask for (Daytona's default per-sandbox quota). */
const limits = { cpu: 4, memory: 8, disk: 10 }

/**
 * The lifecycle of sandboxes: create, start, stop, archive, delete, recover, resize, and their
 * settings (labels, intervals, network), each a change of the state machine under its lock.
 */
export const make = (
  core: SandboxCore,
  snapshotsService: SnapshotsService["Type"],
  volumesService: VolumesService["Type"],
  /** The secrets of a create request as mounts (400 for an unknown name). */
  resolveMounts: (
    secrets: NonNullable<CreateSandbox["secrets"]>
  ) => Effect.Effect<ReadonlyArray<{ readonly env: string; readonly secretId: string }>, ControlPlaneError>,
  claimWarm: ClaimWarm,
  storage: ObjectStorage
) => {
  const { config, store, engine, locked, dto, findLocked, update, schedule, begin, softDelete, awaitStarted } = core
  const { settledAll, toolboxProxyUrl } = core
  const { forceStop, timings: t } = core
  const ms = (d: Duration.Duration) => Duration.toMillis(d)

  const failedToStart = (r: SandboxRecord) =>
    errored(r)
      ? Effect.fail(badRequest(`Sandbox failed to start: ${r.errorReason ?? "unknown error"}`))
      : Effect.succeed(r)

  const create = (body: CreateSandbox): Effect.Effect<SandboxDto, ControlPlaneError> =>
    Effect.gen(function* () {
      const fromBuild = body.buildInfo !== undefined
      if (fromBuild && body.snapshot !== undefined)
        return yield* badRequest("Cannot specify both snapshot and buildInfo")
      let resources: { cpu: number; memory: number; disk: number; gpu: number }
      let snapshot: string | null = null
      let image: string | null = null
      if (!fromBuild) {
        if (body.cpu || body.gpu || body.memory || body.disk || body.gpuType !== undefined)
          return yield* badRequest("Cannot specify Sandbox resources when using a snapshot")
        const known = yield* snapshotsService.forSandbox(body.snapshot ?? defaultSnapshot)
        snapshot = known.name
        image = known.image
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
      const missing = storage.missingContexts(body.buildInfo?.contextHashes ?? [])
      if (missing !== undefined) return yield* badRequest(missing)
      const volumes = yield* mountable(body.volumes ?? [])
      yield* engine
        .checkNetwork(undefined, {
          blockAll: body.networkBlockAll ?? false,
          allowList: body.networkAllowList,
          domainAllowList: body.domainAllowList
        })
        .pipe(Effect.mapError((error) => badRequest(error.message)))
      const envProblem = environmentProblem(body.env ?? {})
      if (envProblem !== undefined) return yield* badRequest(envProblem)
      const secrets = yield* resolveMounts(body.secrets ?? [])
      const autoPauseInterval = body.autoPauseInterval ?? 0
      if (autoPauseInterval < 0) return yield* badRequest("Auto-pause interval must be non-negative")
      // Auto-pause replaces the default auto-stop; both set is refused, as Daytona does.
      const autoStopInterval = body.autoStopInterval ?? (autoPauseInterval > 0 ? 0 : 15)
      if (autoStopInterval < 0) return yield* badRequest("Auto-stop interval must be non-negative")
      if (autoStopInterval > 0 && autoPauseInterval > 0)
        return yield* badRequest("At most one of autoStopInterval and autoPauseInterval may be non-zero")
      if (autoPauseInterval > 0 && body.autoDeleteInterval === 0)
        return yield* badRequest("Ephemeral sandboxes cannot have auto-pause enabled")
      const autoArchiveInterval = yield* resolveAutoArchive(body.autoArchiveInterval ?? 10080)
      const ttlMinutes = yield* resolveTtl(body.ttlMinutes ?? 0)
      if (body.spot === true)
        return yield* badRequest("Spot is only for GPU sandboxes, and the local server runs no GPU sandboxes")

      if (!fromBuild && snapshot !== null) {
        const claimed = yield* claimWarm({
          body,
          snapshot,
          autoStopInterval,
          autoArchiveInterval,
          autoPauseInterval,
          ttlMinutes
        })
        if (Option.isSome(claimed)) return dto(claimed.value)
      }

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
            // A sandbox filled from a snapshot's files starts once they are in place.
            dueAt: image !== null ? null : now + ms(fromBuild ? t.build : t.create),
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
            volumes,
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
            destroyedAt: null,
            secrets,
            signingKey: null,
            processEnv: null,
            autoPauseInterval,
            autoDestroyAt: ttlMinutes > 0 ? now + ttlMinutes * 60_000 : null,
            parentId: null,
            warmPoolId: null
          }
          yield* store.put(record)
          return record
        })
      )
      if (image !== null) yield* SandboxFiles.fillFromImage(core, id, image, resources.disk)
      else yield* schedule(id)
      const result = fromBuild ? record : yield* awaitStarted(id).pipe(Effect.flatMap(failedToStart))
      return dto(result)
    })

  /** The volumes of a create request, checked: each ready, its mount path and subpath acceptable, none nested. */
  const mountable = (requested: NonNullable<CreateSandbox["volumes"]>) =>
    Effect.gen(function* () {
      if (requested.length === 0) return []
      if (engine.isolation === "none")
        return yield* badRequest(
          'Volumes are not mounted with isolation "none": the local server mounts volumes only under bubblewrap isolation'
        )
      const overlap = VolumeMounts.overlapProblem(requested.map((v) => v.mountPath))
      if (overlap !== undefined) return yield* badRequest(overlap)
      return yield* Effect.forEach(requested, (v) =>
        Effect.gen(function* () {
          const pathProblem = VolumeMounts.mountPathProblem(v.mountPath)
          if (pathProblem !== undefined) return yield* badRequest(pathProblem)
          const parts = VolumeMounts.subpathComponents(v.subpath)
          if (typeof parts === "string") return yield* badRequest(parts)
          const volume = yield* volumesService.forSandbox(v.volumeId)
          return {
            volumeId: volume.id,
            mountPath: v.mountPath,
            ...(parts.length === 0 ? {} : { subpath: parts.join("/") })
          }
        })
      )
    })

  // Bounded as a 32-bit integer, so that the deadline it makes is always a valid date.
  const resolveTtl = (minutes: number): Effect.Effect<number, ControlPlaneError> =>
    Number.isInteger(minutes) && minutes >= 0 && minutes <= maxTtlMinutes
      ? Effect.succeed(minutes)
      : Effect.fail(badRequest(`TTL must be an integer number of minutes from 0 to ${maxTtlMinutes}`))

  const resolveAutoArchive = (interval: number): Effect.Effect<number, ControlPlaneError> =>
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
        if (!["stopped", "archived", "archiving", "paused"].includes(r.state))
          return Effect.fail(badRequest("Sandbox is not in valid state"))
        if (r.pending && !archivingOrStopped) return Effect.fail(stateChangeInProgress())
        // Resuming thaws the processes that were frozen: they keep their preview token.
        if (r.state === "paused") return Effect.succeed(begin(r, now, "started", t.start))
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
      if (r.state !== "started" && r.state !== "paused")
        return Effect.fail(badRequest("Sandbox is not in a stoppable state"))
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
    update(idOrName, (r, now) =>
      Effect.gen(function* () {
        if (inTransition(r) && r.state !== "pending_build") return yield* stateChangeInProgress()
        const children = (yield* store.all).filter(
          (child) => child.parentId === r.id && child.desiredState !== "destroyed" && child.state !== "destroyed"
        )
        if (children.length > 0)
          return yield* badRequest(
            "Cannot delete sandbox which has active fork children. The forks must be deleted first."
          )
        return softDelete(r, now)
      })
    ).pipe(Effect.map(dto))

  /** Freezes a started sandbox's processes: `pausing`, then `paused`; `start` resumes it. */
  const pause = (idOrName: string) =>
    update(idOrName, (r, now) => {
      if (r.state !== "started") return Effect.fail(badRequest("Sandbox must be in started state to pause"))
      if (r.pending) return Effect.fail(stateChangeInProgress())
      return Effect.succeed(begin(r, now, "paused", t.stop))
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
      : update(idOrName, (r) =>
          interval > 0 && r.autoPauseInterval > 0
            ? Effect.fail(badRequest("At most one of autoStopInterval and autoPauseInterval may be non-zero"))
            : Effect.succeed({ ...r, autoStopInterval: interval })
        ).pipe(Effect.map(dto))

  const setAutoPause = (idOrName: string, interval: number) =>
    interval < 0
      ? Effect.fail(badRequest("Auto-pause interval must be non-negative"))
      : update(idOrName, (r) => {
          if (interval > 0 && r.autoStopInterval > 0)
            return Effect.fail(
              badRequest(
                "At most one of autoStopInterval and autoPauseInterval may be non-zero: disable auto-stop first"
              )
            )
          if (interval > 0 && ephemeral(r))
            return Effect.fail(badRequest("Ephemeral sandboxes cannot have auto-pause enabled"))
          return Effect.succeed({ ...r, autoPauseInterval: interval })
        }).pipe(Effect.map(dto))

  /** The TTL, counted from now: the sandbox is destroyed then, whatever its state (0 disables). */
  const setTtl = (idOrName: string, minutes: number) =>
    resolveTtl(minutes).pipe(
      Effect.flatMap((ttl) =>
        update(idOrName, (r, now) => Effect.succeed({ ...r, autoDestroyAt: ttl > 0 ? now + ttl * 60_000 : null }))
      ),
      Effect.map(dto)
    )

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

  const list = (query: typeof ListSandboxesQuery.Type): Effect.Effect<ListSandboxesResponse, ControlPlaneError> =>
    Effect.gen(function* () {
      const all = yield* settledAll
      const page = yield* Listing.cursorPage(all, query)
      return { items: page.items.map((r) => toListItem(r, toolboxProxyUrl)), nextCursor: page.nextCursor }
    })

  const listPaginated = (
    query: typeof ListSandboxesPaginatedQuery.Type
  ): Effect.Effect<PaginatedSandboxes, ControlPlaneError> =>
    Effect.gen(function* () {
      const all = yield* settledAll
      const page = Listing.numberedPage(all, query)
      return { ...page, items: page.items.map(dto) }
    })

  return {
    create,
    get: (idOrName: string) => findLocked(idOrName).pipe(Effect.map(dto)),
    list,
    listPaginated,
    remove,
    start,
    stop,
    archive,
    recover,
    pause,
    setAutoPause,
    setTtl,
    replaceLabels: (idOrName: string, labels: Readonly<Record<string, string>>) => set(idOrName, () => ({ labels })),
    setAutostop,
    setAutoArchive,
    setAutoDelete,
    touch,
    networkSettings,
    resize,
    forceState
  }
}
