import * as Schema from "effect/Schema"
import type { SandboxDto, SandboxListItem } from "@effect-daytona/sdk/SandboxDto"
import { SandboxVolume } from "@effect-daytona/sdk/SandboxDto"
import { StringMap } from "@effect-daytona/sdk/WireSchema"

const recordFields = {
  id: Schema.String,
  organizationId: Schema.String,
  name: Schema.String,
  snapshot: Schema.NullOr(Schema.String),
  user: Schema.String,
  env: StringMap,
  labels: StringMap,
  public: Schema.Boolean,
  target: Schema.String,
  cpu: Schema.Number,
  gpu: Schema.Number,
  memory: Schema.Number,
  disk: Schema.Number,
  /** The observed state. */
  state: Schema.String,
  desiredState: Schema.String,
  pending: Schema.Boolean,
  /** When the step of the transition in progress completes. */
  dueAt: Schema.NullOr(Schema.Number),
  errorReason: Schema.NullOr(Schema.String),
  recoverable: Schema.Boolean,
  backupState: Schema.String,
  autoStopInterval: Schema.Number,
  autoArchiveInterval: Schema.Number,
  autoDeleteInterval: Schema.Number,
  networkBlockAll: Schema.Boolean,
  networkAllowList: Schema.NullOr(Schema.String),
  domainAllowList: Schema.NullOr(Schema.String),
  volumes: Schema.Array(SandboxVolume),
  buildInfo: Schema.NullOr(
    Schema.Struct({
      dockerfileContent: Schema.String,
      contextHashes: Schema.Array(Schema.String),
      snapshotRef: Schema.String,
      createdAt: Schema.Number
    })
  ),
  authToken: Schema.String,
  createdAt: Schema.Number,
  updatedAt: Schema.Number,
  lastActivityAt: Schema.Number,
  destroyedAt: Schema.NullOr(Schema.Number),
  // --- secrets, environment, signed file URLs (issue 13); absent in rows written before. Plain
  // optional fields (read with `secretsOf` and `??`), not defaults: a default makes every
  // record's decoding a transformation, and records are decoded in bulk.
  /** The secrets mounted in the sandbox: the variable each is under, and the secret's id. */
  secrets: Schema.optional(Schema.Array(Schema.Struct({ env: Schema.String, secretId: Schema.String }))),
  /** The key that signs the sandbox's file URLs (created when first asked for, replaced by a rotation). */
  signingKey: Schema.optional(Schema.NullOr(Schema.String)),
  /**
   * The environment of processes started from now on, once `POST /env` or a change of secrets has
   * changed it in the running sandbox; `null` until then. Cleared when the sandbox starts.
   */
  processEnv: Schema.optional(Schema.NullOr(StringMap))
}

/**
 * The fields of Daytona 0.216's lifecycle; rows written before them lack them. They are optional in
 * the stored form and filled in code after decoding ({@link fromStored}): a schema default would make
 * every record's decoding a transformation, and records are decoded in bulk.
 */
const lifecycleFields = {
  /** Minutes of inactivity before auto-pause; 0 disables. */
  autoPauseInterval: Schema.Number,
  /** When the TTL destroys the sandbox, whatever its state. */
  autoDestroyAt: Schema.NullOr(Schema.Number),
  /** The sandbox this one was forked from. */
  parentId: Schema.NullOr(Schema.String),
  /** The warm pool this sandbox waits in, while no create has claimed it. */
  warmPoolId: Schema.NullOr(Schema.String)
}

/** What the server stores for a sandbox. Times are epoch milliseconds. */
export const SandboxRecord = Schema.Struct({ ...recordFields, ...lifecycleFields })

export type SandboxRecord = typeof SandboxRecord.Type

/** A sandbox row as stored, written by any earlier version of the server. */
const StoredSandboxRecord = Schema.Struct({
  ...recordFields,
  autoPauseInterval: Schema.optional(lifecycleFields.autoPauseInterval),
  autoDestroyAt: Schema.optional(lifecycleFields.autoDestroyAt),
  parentId: Schema.optional(lifecycleFields.parentId),
  warmPoolId: Schema.optional(lifecycleFields.warmPoolId)
})

/** A stored row with the lifecycle fields it may lack filled in. */
export const fromStored = (r: typeof StoredSandboxRecord.Type): SandboxRecord => ({
  ...r,
  autoPauseInterval: r.autoPauseInterval ?? 0,
  autoDestroyAt: r.autoDestroyAt ?? null,
  parentId: r.parentId ?? null,
  warmPoolId: r.warmPoolId ?? null
})

/** The secrets a sandbox mounts (none in rows written before secrets existed). */
export const secretsOf = (r: SandboxRecord): ReadonlyArray<{ readonly env: string; readonly secretId: string }> =>
  r.secrets ?? []

/** The JSON a sandbox row holds (see {@link fromStored} for what reading it needs). */
export const SandboxRecordJson = Schema.parseJson(StoredSandboxRecord)

/** The state the API reports, derived from the stored and the desired state (catalog §5.2). */
export const reportedState = (state: string, desired: string): string => {
  if (state === "started" && desired === "paused") return "pausing"
  if (state === "paused" && desired === "started") return "resuming"
  if (state === "paused" && desired === "stopped") return "stopping"
  if (state === "paused" && desired === "destroyed") return "destroying"
  if (state === "started" && desired === "stopped") return "stopping"
  if ((state === "started" || state === "stopped") && desired === "destroyed") return "destroying"
  if (state === "stopped" && desired === "started") return "starting"
  if (state === "stopped" && desired === "archived") return "archiving"
  if (state === "unknown" && desired === "started") return "creating"
  return state
}

const iso = (millis: number) => new Date(millis).toISOString()

const common = (record: SandboxRecord, toolboxProxyUrl: string) => ({
  id: record.id,
  organizationId: record.organizationId,
  name: record.name,
  ...(record.snapshot === null ? {} : { snapshot: record.snapshot }),
  user: record.user,
  labels: record.labels,
  public: record.public,
  target: record.target,
  cpu: record.cpu,
  gpu: record.gpu,
  memory: record.memory,
  disk: record.disk,
  state: reportedState(record.state, record.desiredState),
  desiredState: record.desiredState,
  ...(record.errorReason === null ? {} : { errorReason: record.errorReason }),
  recoverable: record.recoverable,
  backupState: record.backupState,
  autoStopInterval: record.autoStopInterval,
  autoArchiveInterval: record.autoArchiveInterval,
  autoDeleteInterval: record.autoDeleteInterval,
  createdAt: iso(record.createdAt),
  updatedAt: iso(record.updatedAt),
  lastActivityAt: iso(record.lastActivityAt),
  sandboxClass: "container",
  daemonVersion: daemonVersion,
  runnerId: "local",
  toolboxProxyUrl,
  autoPauseInterval: record.autoPauseInterval,
  ...(record.autoDestroyAt === null ? {} : { autoDestroyAt: iso(record.autoDestroyAt) }),
  spot: false,
  ...(record.warmPoolId === null ? {} : { warmPoolId: record.warmPoolId })
})

export const daemonVersion = "0.190.0"

export const toDto = (record: SandboxRecord, toolboxProxyUrl: string): SandboxDto => ({
  ...common(record, toolboxProxyUrl),
  env: record.env,
  networkBlockAll: record.networkBlockAll,
  ...(record.networkAllowList === null ? {} : { networkAllowList: record.networkAllowList }),
  ...(record.domainAllowList === null ? {} : { domainAllowList: record.domainAllowList }),
  volumes: record.volumes,
  ...(record.buildInfo === null
    ? {}
    : {
        buildInfo: {
          dockerfileContent: record.buildInfo.dockerfileContent,
          contextHashes: record.buildInfo.contextHashes,
          snapshotRef: record.buildInfo.snapshotRef,
          createdAt: iso(record.buildInfo.createdAt),
          updatedAt: iso(record.buildInfo.createdAt)
        }
      })
})

export const toListItem = (record: SandboxRecord, toolboxProxyUrl: string): SandboxListItem =>
  common(record, toolboxProxyUrl)
