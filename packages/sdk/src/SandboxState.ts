/**
 * The enumerations of Daytona's control plane, decoded tolerantly: a value the server adds later
 * is kept as data, never a decoding failure.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * An enumeration whose known values are listed but which accepts any string.
 *
 * @since 0.1.0
 * @category models
 */
export type Tolerant<Known extends string> = Known | (string & {})

const tolerant = <const Known extends ReadonlyArray<string>>(
  identifier: string,
  known: Known
): Schema.Schema<Tolerant<Known[number]>, string> =>
  Schema.String.annotations({
    identifier,
    description: `One of ${known.join(", ")}; unknown values are kept as they are.`
  }) as Schema.Schema<Tolerant<Known[number]>, string>

/**
 * Every state the v0.190 API reports for a sandbox.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownSandboxStates = [
  "creating",
  "restoring",
  "destroyed",
  "destroying",
  "started",
  "stopped",
  "starting",
  "stopping",
  "error",
  "build_failed",
  "pending_build",
  "building_snapshot",
  "unknown",
  "pulling_snapshot",
  "archived",
  "archiving",
  "resizing",
  "snapshotting",
  "forking",
  "pausing",
  "paused",
  "resuming"
] as const

/**
 * The state of a sandbox as the API reports it (derived from the stored and the desired state).
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxState = Tolerant<(typeof knownSandboxStates)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const SandboxState = tolerant("SandboxState", knownSandboxStates)

/**
 * The states a sandbox can be asked to reach.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownDesiredStates = ["destroyed", "started", "stopped", "resized", "archived", "paused"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type SandboxDesiredState = Tolerant<(typeof knownDesiredStates)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const SandboxDesiredState = tolerant("SandboxDesiredState", knownDesiredStates)

/**
 * The states of a sandbox's backup.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownBackupStates = ["None", "Pending", "InProgress", "Completed", "Error"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type BackupState = Tolerant<(typeof knownBackupStates)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const BackupState = tolerant("SandboxBackupState", knownBackupStates)

/**
 * The kinds of machine a sandbox runs on.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownSandboxClasses = ["linux-vm", "container", "android", "windows"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type SandboxClass = Tolerant<(typeof knownSandboxClasses)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const SandboxClass = tolerant("SandboxClass", knownSandboxClasses)

/**
 * GPU models a sandbox can ask for.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownGpuTypes = ["H100", "RTX-PRO-6000"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type GpuType = Tolerant<(typeof knownGpuTypes)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const GpuType = tolerant("GpuType", knownGpuTypes)

/**
 * States from which a sandbox will not reach `started` without help.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isFailed = (state: SandboxState | undefined): boolean => state === "error" || state === "build_failed"

/**
 * Every state the v0.190 API reports for a snapshot.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownSnapshotStates = [
  "building",
  "pending",
  "pulling",
  "active",
  "inactive",
  "error",
  "build_failed",
  "removing"
] as const

/**
 * The state of a snapshot.
 *
 * @since 0.1.0
 * @category models
 */
export type SnapshotState = Tolerant<(typeof knownSnapshotStates)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const SnapshotState = tolerant("SnapshotState", knownSnapshotStates)

/**
 * Every state the v0.190 API reports for a volume.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownVolumeStates = [
  "creating",
  "ready",
  "pending_create",
  "pending_delete",
  "deleting",
  "deleted",
  "error"
] as const

/**
 * The state of a volume.
 *
 * @since 0.1.0
 * @category models
 */
export type VolumeState = Tolerant<(typeof knownVolumeStates)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const VolumeState = tolerant("VolumeState", knownVolumeStates)
