/**
 * The states of a sandbox, its backup and its class, decoded tolerantly: a value the server adds
 * later is kept as data, never a decoding failure.
 *
 * @since 0.1.0
 */
import { type Tolerant, tolerant } from "./WireSchema.js"

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
 * States from which a sandbox will not reach `started` without help.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isFailed = (state: SandboxState | undefined): boolean => state === "error" || state === "build_failed"
