import type { ListSnapshotsQuery } from "@effect-daytona/sdk/ControlPlaneApi"
import type { CreateSnapshot } from "@effect-daytona/sdk/SnapshotDto"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as NodeCrypto from "node:crypto"
import { LocalConfig } from "../LocalConfig.js"
import * as NodePath from "node:path"
import { type ControlPlaneError, badRequest, conflict, forbidden, notFound } from "./controlPlaneError.js"
import { EventBus, eventNames, stateAnnouncer } from "./events.js"
import { ObjectStorageService } from "./objectStorage.js"
import { ServerUrl } from "./serverUrl.js"
import { SandboxStore } from "./store.js"
import * as Transitions from "./transitions.js"
import * as TreeRemoval from "./treeRemoval.js"

const SnapshotRecord = Schema.Struct({
  id: Schema.String,
  organizationId: Schema.String,
  general: Schema.Boolean,
  name: Schema.String,
  imageName: Schema.NullOr(Schema.String),
  state: Schema.String,
  dueAt: Schema.NullOr(Schema.Number),
  entrypoint: Schema.NullOr(Schema.Array(Schema.String)),
  cpu: Schema.Number,
  gpu: Schema.Number,
  gpuType: Schema.NullOr(Schema.String),
  mem: Schema.Number,
  disk: Schema.Number,
  errorReason: Schema.NullOr(Schema.String),
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  lastUsedAt: Schema.NullOr(Schema.Number),
  buildInfo: Schema.NullOr(
    Schema.Struct({
      dockerfileContent: Schema.String,
      contextHashes: Schema.Array(Schema.String),
      snapshotRef: Schema.String,
      createdAt: Schema.Number
    })
  ),
  ref: Schema.NullOr(Schema.String),
  regionIds: Schema.Array(Schema.String),
  // Snapshots of a sandbox (defaults let rows written before them decode)
  /** The sandbox whose files the snapshot holds. */
  sourceSandboxId: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** Its size in GB, once captured. */
  size: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null })
})

type SnapshotRecord = typeof SnapshotRecord.Type

const SnapshotRecordJson = Schema.parseJson(SnapshotRecord)
const decode = Schema.decodeUnknown(SnapshotRecordJson)
const encode = Schema.encode(SnapshotRecordJson)

/** The pre-built snapshots every organization may use (Daytona's sizes). */
export const generalSnapshots: ReadonlyArray<{ name: string; cpu: number; mem: number; disk: number }> = [
  { name: "daytona-small", cpu: 1, mem: 1, disk: 3 },
  { name: "daytona-medium", cpu: 2, mem: 4, disk: 8 },
  { name: "daytona-large", cpu: 4, mem: 8, disk: 10 }
]

/** The snapshot a sandbox gets when it names none. */
export const defaultSnapshot = "daytona-small"

const generalOrganization = "daytona"
const limits = { cpu: 4, memory: 8, disk: 10 }
const imageNamePattern = /^[a-zA-Z0-9_.\-:]+(\/[a-zA-Z0-9_.\-:]+)*(@sha256:[a-f0-9]{64})?$/
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A stable id for a general snapshot, so that it keeps its id across data directories. */
const stableId = (name: string) => {
  const hex = NodeCrypto.createHash("sha256").update(`general-snapshot:${name}`).digest("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** Daytona's `validateImageName`. */
const imageNameError = (name: string): string | undefined => {
  if (name.includes("@sha256:")) {
    const [image, digest] = name.split("@sha256:")
    return !image || !digest || !/^[a-f0-9]{64}$/.test(digest)
      ? "Invalid digest format. Must be image@sha256:64_hex_characters"
      : undefined
  }
  if (!name.includes(":") || /:\s*$/.test(name))
    return "Image name must include a tag (e.g., ubuntu:22.04) or digest (@sha256:...)"
  if (name.endsWith(":latest")) return 'Images with tag ":latest" are not allowed'
  if (!imageNamePattern.test(name))
    return "Invalid image name format. Must be lowercase, may contain digits, dots, dashes, and single slashes between components"
  return undefined
}

/** Daytona's `getEntrypointFromDockerfile`: the ENTRYPOINT line, else `sleep infinity`. */
const entrypointOf = (dockerfile: string): ReadonlyArray<string> => {
  const match = /ENTRYPOINT\s+(.*)/.exec(dockerfile)
  if (match === null) return ["sleep", "infinity"]
  const raw = match[1]!.trim()
  try {
    const parsed: unknown = JSON.parse(raw)
    if (Array.isArray(parsed) && parsed.every((part) => typeof part === "string")) return parsed
  } catch {
    return [raw.replace(/["']/g, "")]
  }
  return ["sleep", "infinity"]
}

const sortFields = ["name", "state", "lastUsedAt", "createdAt"] as const
type SortField = (typeof sortFields)[number]

/** Snapshots (`/snapshots`): stored in SQLite, their states moving on at due times read from the Clock. */
export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  const store = yield* SandboxStore
  const serverUrl = yield* ServerUrl
  const storage = yield* ObjectStorageService
  const locked = (yield* Effect.makeSemaphore(1)).withPermits(1)
  const t = config.timings

  /** Removed snapshots pass through `removed`, which is never shown and whose row is dropped. */
  const next = (r: SnapshotRecord): Transitions.Next | undefined => {
    switch (r.state) {
      case "pending":
        return r.buildInfo === null ? { state: "pulling", after: t.create } : { state: "building", after: t.build }
      case "pulling":
      case "building":
        return { state: "active", after: null }
      case "removing":
        return { state: "removed", after: null }
      default:
        return undefined
    }
  }

  const step = Transitions.tableStep(next)
  const bus = yield* EventBus

  /** Where the files of snapshots of sandboxes are kept, one directory per snapshot. */
  const imagesDir = NodePath.join(config.dataDir, "images")
  const imageOf = (id: string) => NodePath.join(imagesDir, id)

  const announcer = stateAnnouncer<SnapshotRecord>(bus, {
    created: eventNames.snapshotCreated,
    stateUpdated: eventNames.snapshotStateUpdated,
    key: "snapshot",
    organizationId: (r) => r.organizationId,
    dto: (r) => toDto(r)
  })

  const put = (r: SnapshotRecord) =>
    encode(r).pipe(
      Effect.orDie,
      Effect.flatMap((data) => store.snapshots.put(r.id, data)),
      Effect.zipRight(r.state === "removed" ? Effect.void : announcer.written(r))
    )

  /** A removed snapshot's row and files go, and Daytona's `snapshot.removed` is sent. */
  const drop = (r: SnapshotRecord) =>
    Effect.gen(function* () {
      yield* store.snapshots.remove(r.id)
      yield* Effect.promise(() => TreeRemoval.removeTree(imageOf(r.id)))
      announcer.forget(r.id)
      yield* bus.publish({ name: eventNames.snapshotRemoved, organizationId: r.organizationId, payload: r.id })
    })

  /** Every snapshot with its due steps applied and stored; callers hold the lock. */
  const settled = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const rows = yield* store.snapshots.all
    const all = yield* Effect.forEach(rows, (row) =>
      Effect.gen(function* () {
        const r = yield* Effect.orDie(decode(row))
        announcer.seen(r)
        const s = yield* Transitions.settle(r, now, step, put)
        if (s.state === "removed") yield* drop(s)
        return s
      })
    )
    return all.filter((r) => r.state !== "removed")
  })

  /** Steps happen at their due times, not only when read, so that their events come on time. */
  const driver = yield* Transitions.driver(
    (id) => Effect.map(settled, (all) => all.find((r) => r.id === id)?.dueAt ?? null).pipe(locked),
    () => Effect.asVoid(locked(settled))
  )

  const toDto = (r: SnapshotRecord) => ({
    id: r.id,
    organizationId: r.organizationId,
    general: r.general,
    name: r.name,
    ...(r.imageName === null ? {} : { imageName: r.imageName }),
    state: r.state,
    size: r.size,
    sourceSandboxId: r.sourceSandboxId,
    entrypoint: r.entrypoint,
    cpu: r.cpu,
    gpu: r.gpu,
    ...(r.gpuType === null ? {} : { gpuType: r.gpuType }),
    mem: r.mem,
    disk: r.disk,
    errorReason: r.errorReason,
    createdAt: Transitions.iso(r.createdAt),
    updatedAt: Transitions.iso(r.updatedAt),
    lastUsedAt: Transitions.isoOrNull(r.lastUsedAt),
    ...(r.buildInfo === null
      ? {}
      : {
          buildInfo: {
            dockerfileContent: r.buildInfo.dockerfileContent,
            contextHashes: r.buildInfo.contextHashes,
            snapshotRef: r.buildInfo.snapshotRef,
            createdAt: Transitions.iso(r.buildInfo.createdAt),
            updatedAt: Transitions.iso(r.buildInfo.createdAt)
          }
        }),
    regionIds: r.regionIds,
    ...(r.ref === null ? {} : { ref: r.ref }),
    sandboxClass: "container"
  })

  /** By id, then by the organization's name, then by a general snapshot's name. */
  const lookup = (all: ReadonlyArray<SnapshotRecord>, idOrName: string) =>
    all.find((r) => r.id === idOrName) ??
    all.find((r) => !r.general && r.name === idOrName) ??
    all.find((r) => r.general && r.name === idOrName)

  /** Daytona's `SnapshotAccessGuard`: an id or name that matches nothing is a 404. */
  const find = (
    all: ReadonlyArray<SnapshotRecord>,
    idOrName: string
  ): Effect.Effect<SnapshotRecord, ControlPlaneError> => {
    const found = lookup(all, idOrName)
    return found === undefined
      ? Effect.fail(notFound(`Snapshot with ID or name ${idOrName} not found`))
      : Effect.succeed(found)
  }

  /** Routes behind `ParseUUIDPipe` answer 400 for anything but a UUID (after the guard found it). */
  const requireUuid = (id: string) =>
    uuidPattern.test(id) ? Effect.void : Effect.fail(badRequest("Validation failed (uuid is expected)"))

  /** The general snapshots are Daytona's, not the organization's: they cannot be changed. */
  const ownOnly = (r: SnapshotRecord, action: string) =>
    r.general ? Effect.fail(forbidden(`You cannot ${action} a general snapshot`)) : Effect.void

  const seed = locked(
    Effect.gen(function* () {
      const all = yield* settled
      const now = yield* Clock.currentTimeMillis
      for (const general of generalSnapshots) {
        if (all.some((r) => r.general && r.name === general.name)) continue
        yield* put({
          id: stableId(general.name),
          organizationId: generalOrganization,
          general: true,
          name: general.name,
          imageName: `daytonaio/sandbox:${general.name}`,
          state: "active",
          dueAt: null,
          entrypoint: ["sleep", "infinity"],
          cpu: general.cpu,
          gpu: 0,
          gpuType: null,
          mem: general.mem,
          disk: general.disk,
          errorReason: null,
          createdAt: now,
          updatedAt: now,
          lastUsedAt: null,
          buildInfo: null,
          ref: `daytonaio/sandbox:${general.name}`,
          regionIds: [config.region],
          sourceSandboxId: null,
          size: null
        })
      }
    })
  )
  yield* seed

  /** A capture a restart interrupted can never complete: the snapshot failed. */
  yield* locked(
    Effect.gen(function* () {
      for (const r of yield* settled) {
        if (r.state === "snapshotting")
          yield* put({
            ...r,
            state: "error",
            errorReason: "the local server restarted while the sandbox's files were being captured"
          })
        else if (r.dueAt !== null) yield* driver.schedule(r.id)
      }
    })
  )

  const list = (query: typeof ListSnapshotsQuery.Type) =>
    Effect.gen(function* () {
      const page = query.page ?? 1
      const limit = query.limit ?? 100
      const order = query.order ?? "desc"
      const name = query.name?.toLowerCase()
      const all = yield* locked(settled)
      const field: SortField = query.sort ?? "lastUsedAt"
      const direction = order === "asc" ? 1 : -1
      const value = (r: SnapshotRecord): string | number | null =>
        field === "name" ? r.name : field === "state" ? r.state : field === "createdAt" ? r.createdAt : r.lastUsedAt
      const items = all
        .filter((r) => name === undefined || name === "" || r.name.toLowerCase().includes(name))
        .sort((a, b) => {
          if (a.general !== b.general) return a.general ? 1 : -1
          const x = value(a)
          const y = value(b)
          if (x !== y) {
            if (x === null) return 1
            if (y === null) return -1
            return (x < y ? -1 : 1) * direction
          }
          return field === "createdAt" ? 0 : b.createdAt - a.createdAt
        })
      return {
        items: items.slice((page - 1) * limit, page * limit).map(toDto),
        total: items.length,
        page,
        totalPages: Math.ceil(items.length / limit)
      }
    })

  const get = (idOrName: string) =>
    locked(Effect.flatMap(settled, (all) => find(all, idOrName))).pipe(Effect.map(toDto))

  const create = (body: CreateSnapshot) =>
    Effect.gen(function* () {
      const build = body.buildInfo
      if (build === undefined && (body.imageName === undefined || body.imageName === ""))
        return yield* badRequest("Must specify an image name")
      if (!imageNamePattern.test(body.name))
        return yield* badRequest("Invalid snapshot name format. May contain letters, digits, dots, colons, and dashes")
      if (build === undefined) {
        const error = imageNameError(body.imageName!)
        if (error !== undefined) return yield* badRequest(error)
      }
      if (body.regionId !== undefined && body.regionId !== config.region) return yield* notFound("Region not found")
      if (body.sandboxClass !== undefined && body.sandboxClass !== "container")
        return yield* badRequest(`Snapshots of class ${body.sandboxClass} are not supported by the local server`)
      if (body.cpu && body.cpu > limits.cpu)
        return yield* badRequest(`CPU request ${body.cpu} exceeds maximum allowed per sandbox (${limits.cpu})`)
      if (body.memory && body.memory > limits.memory)
        return yield* badRequest(
          `Memory request ${body.memory}GB exceeds maximum allowed per sandbox (${limits.memory}GB)`
        )
      if (body.disk && body.disk > limits.disk)
        return yield* badRequest(`Disk request ${body.disk}GB exceeds maximum allowed per sandbox (${limits.disk}GB)`)
      if (body.gpu) return yield* badRequest("GPU snapshots are not supported by the local server")
      const missing = storage.missingContexts(build?.contextHashes ?? [])
      if (missing !== undefined) return yield* badRequest(missing)
      const entrypoint = (build === undefined ? (body.entrypoint ?? []) : entrypointOf(build.dockerfileContent)).filter(
        (part) => part.trim() !== ""
      )
      return yield* locked(
        Effect.gen(function* () {
          const all = yield* settled
          if (all.some((r) => !r.general && r.name === body.name))
            return yield* conflict(`Snapshot with name "${body.name}" already exists for this organization`)
          const now = yield* Clock.currentTimeMillis
          const snapshotRef =
            build === undefined
              ? null
              : `local/build:${NodeCrypto.createHash("sha256")
                  .update(build.dockerfileContent)
                  .update((build.contextHashes ?? []).join(","))
                  .digest("hex")
                  .slice(0, 16)}`
          const record: SnapshotRecord = {
            id: NodeCrypto.randomUUID(),
            organizationId: config.organizationId,
            general: false,
            name: body.name,
            imageName: build === undefined ? body.imageName! : null,
            state: "pending",
            dueAt: now + Duration.toMillis(t.create),
            entrypoint: entrypoint.length === 0 ? null : entrypoint,
            cpu: body.cpu ?? 1,
            gpu: 0,
            gpuType: body.gpuType?.[0] ?? null,
            mem: body.memory ?? 1,
            disk: body.disk ?? 3,
            errorReason: null,
            createdAt: now,
            updatedAt: now,
            lastUsedAt: null,
            buildInfo:
              build === undefined || snapshotRef === null
                ? null
                : {
                    dockerfileContent: build.dockerfileContent,
                    contextHashes: build.contextHashes ?? [],
                    snapshotRef,
                    createdAt: now
                  },
            ref: snapshotRef ?? body.imageName ?? null,
            regionIds: [config.region],
            sourceSandboxId: null,
            size: null
          }
          yield* put(record)
          return toDto(record)
        })
      ).pipe(Effect.tap((dto) => driver.schedule(dto.id)))
    })

  /** Applies a change to one snapshot under the lock. */
  const change = (
    id: string,
    f: (r: SnapshotRecord, now: number) => Effect.Effect<SnapshotRecord | undefined, ControlPlaneError>
  ) =>
    locked(
      Effect.gen(function* () {
        const r = yield* find(yield* settled, id)
        const now = yield* Clock.currentTimeMillis
        const updated = yield* f(r, now)
        if (updated !== undefined && updated !== r) yield* put({ ...updated, updatedAt: now })
        return updated ?? r
      })
    )

  const remove = (id: string) =>
    change(id, (r, now) =>
      requireUuid(id).pipe(
        Effect.zipRight(ownOnly(r, "delete")),
        Effect.as({ ...r, state: "removing", dueAt: now + Duration.toMillis(t.destroy) })
      )
    ).pipe(
      Effect.tap((r) => driver.schedule(r.id)),
      Effect.asVoid
    )

  const activate = (id: string) =>
    change(id, (r, now) =>
      Effect.gen(function* () {
        yield* ownOnly(r, "activate")
        if (r.id !== id) return yield* notFound(`Snapshot ${id} not found`)
        if (r.state === "active") return yield* badRequest(`Snapshot ${id} is already active`)
        if (r.state !== "inactive")
          return yield* badRequest(`Snapshot ${id} cannot be activated - it is in ${r.state} state`)
        return { ...r, state: "active", dueAt: null, lastUsedAt: now }
      })
    ).pipe(Effect.map(toDto))

  const deactivate = (id: string) =>
    change(id, (r) =>
      requireUuid(id).pipe(
        Effect.zipRight(ownOnly(r, "deactivate")),
        Effect.as(r.state === "inactive" ? undefined : { ...r, state: "inactive", dueAt: null })
      )
    ).pipe(Effect.asVoid)

  const buildLogsUrl = (idOrName: string) =>
    locked(Effect.flatMap(settled, (all) => find(all, idOrName))).pipe(
      Effect.flatMap((r) =>
        r.buildInfo === null
          ? Effect.fail(notFound(`Snapshot ${idOrName} has no build info`))
          : Effect.succeed({ url: `${serverUrl}/snapshots/${r.id}/build-logs` })
      )
    )

  /**
   * The build log of a snapshot built from a Dockerfile. No Dockerfile is run here: the log
   * lists its instructions and says so.
   */
  const buildLogs = (id: string) =>
    Effect.map(buildLogState(id), (state) => state.lines.map((line) => `${line}\n`).join(""))

  /** The build log's lines so far, and whether the build has ended (nothing more will be written). */
  const buildLogState = (id: string) =>
    locked(Effect.flatMap(settled, (all) => find(all, id))).pipe(
      Effect.flatMap((r) => {
        if (r.buildInfo === null) return Effect.fail(notFound(`Snapshot ${id} has no build info`))
        if (r.state === "pending") return Effect.succeed({ lines: [], done: false })
        const steps = r.buildInfo.dockerfileContent
          .split("\n")
          .map((line) => line.trim())
          .filter((line) => line !== "" && !line.startsWith("#"))
        const building = r.state === "building"
        return Effect.map(storage.describeContexts(r.buildInfo.contextHashes), (contexts) => ({
          lines: [
            `Building snapshot ${r.name} (${r.buildInfo!.snapshotRef})`,
            ...contexts,
            ...steps.map((line, i) => `Step ${i + 1}/${steps.length} : ${line}`),
            ...(building ? [] : [`Snapshot ${r.name} is ready (the local server runs no Dockerfile)`])
          ],
          done: !building
        }))
      })
    )

  /**
   * The snapshot a new sandbox is created from: it must exist (among the organization's and the
   * general ones) and be `active`. Its last use is recorded.
   */
  const forSandbox = (idOrName: string) =>
    locked(
      Effect.gen(function* () {
        const r = lookup(yield* settled, idOrName)
        if (r === undefined)
          return yield* badRequest(`Snapshot ${idOrName} not found. Did you add it through the Daytona Dashboard?`)
        if (r.state !== "active") return yield* badRequest(`Snapshot ${idOrName} is ${r.state}`)
        const now = yield* Clock.currentTimeMillis
        yield* put({ ...r, lastUsedAt: now })
        return {
          name: r.name,
          cpu: r.cpu,
          memory: r.mem,
          disk: r.disk,
          /** The directory of the sandbox files it starts from, for a snapshot of a sandbox. */
          image: r.sourceSandboxId === null ? null : imageOf(r.id)
        }
      })
    )

  /**
   * The record of a snapshot of a sandbox, `snapshotting` while its files are captured (into
   * `image`): the name must be free and valid. The capture is the caller's; it ends with
   * `captured` or `captureFailed`.
   */
  const beginCapture = (
    name: string,
    source: { readonly id: string; readonly cpu: number; readonly memory: number; readonly disk: number }
  ) =>
    locked(
      Effect.gen(function* () {
        if (!imageNamePattern.test(name))
          return yield* badRequest(
            "Invalid snapshot name format. May contain letters, digits, dots, colons, and dashes"
          )
        const all = yield* settled
        if (all.some((r) => !r.general && r.name === name))
          return yield* conflict(`Snapshot with name "${name}" already exists for this organization`)
        const now = yield* Clock.currentTimeMillis
        const id = NodeCrypto.randomUUID()
        const record: SnapshotRecord = {
          id,
          organizationId: config.organizationId,
          general: false,
          name,
          imageName: null,
          state: "snapshotting",
          dueAt: null,
          entrypoint: null,
          cpu: source.cpu,
          gpu: 0,
          gpuType: null,
          mem: source.memory,
          disk: source.disk,
          errorReason: null,
          createdAt: now,
          updatedAt: now,
          lastUsedAt: null,
          buildInfo: null,
          ref: `local/sandbox:${source.id}`,
          regionIds: [config.region],
          sourceSandboxId: source.id,
          size: null
        }
        yield* put(record)
        return { id, image: imageOf(id) }
      })
    )

  /** Ends a capture: the snapshot is `active`, `bytes` big. */
  const captured = (id: string, bytes: number) =>
    locked(
      Effect.gen(function* () {
        const r = (yield* settled).find((r) => r.id === id)
        // Deleted while its files were copied: they are not kept.
        if (r === undefined || r.state === "removing")
          return yield* Effect.promise(() => TreeRemoval.removeTree(imageOf(id)))
        if (r.state !== "snapshotting") return
        const now = yield* Clock.currentTimeMillis
        yield* put({ ...r, state: "active", size: bytes / 1024 ** 3, updatedAt: now })
      })
    )

  /** Ends a capture that failed: the snapshot is in `error`, with why. */
  const captureFailed = (id: string, reason: string) =>
    locked(
      Effect.gen(function* () {
        const r = (yield* settled).find((r) => r.id === id)
        if (r === undefined || r.state !== "snapshotting") return
        const now = yield* Clock.currentTimeMillis
        yield* put({ ...r, state: "error", errorReason: reason, updatedAt: now })
        yield* Effect.promise(() => TreeRemoval.removeTree(imageOf(id)))
      })
    )

  /** Forgets a capture that never began (the sandbox could not be frozen in time): its row goes. */
  const abandonCapture = (id: string) =>
    locked(
      Effect.gen(function* () {
        const r = (yield* settled).find((r) => r.id === id)
        if (r !== undefined && r.state === "snapshotting") yield* drop(r)
      })
    )

  return {
    list,
    get,
    create,
    remove,
    activate,
    deactivate,
    buildLogsUrl,
    buildLogs,
    buildLogState,
    forSandbox,
    // Snapshots of a sandbox
    beginCapture,
    captured,
    captureFailed,
    abandonCapture
  }
})

export interface Snapshots extends Effect.Effect.Success<typeof make> {}

export class SnapshotsService extends Context.Tag("@effect-daytona/local/internal/Snapshots")<
  SnapshotsService,
  Snapshots
>() {}

export const layer = Layer.scoped(SnapshotsService, make)
