/**
 * `@effect-daytona/sdk`: an Effect-native client for Daytona sandboxes.
 *
 * @since 0.1.0
 */

/**
 * The paths and schemas of every control-plane call, and the deviations from Daytona's spec.
 *
 * @since 0.1.0
 */
export * as ControlPlaneRoutes from "./ControlPlaneRoutes.js"

/**
 * Request bodies that create and reshape sandboxes.
 *
 * @since 0.1.0
 */
export * as CreateSandbox from "./CreateSandbox.js"

/**
 * The service that creates, finds, lists and deletes sandboxes.
 *
 * @since 0.1.0
 */
export * as Daytona from "./Daytona.js"

/**
 * The preconfigured control-plane client.
 *
 * @since 0.1.0
 */
export * as DaytonaClient from "./DaytonaClient.js"

/**
 * Configuration: endpoint, credentials, budgets and retry policy.
 *
 * @since 0.1.0
 */
export * as DaytonaConfig from "./DaytonaConfig.js"

/**
 * The typed error family.
 *
 * @since 0.1.0
 */
export * as DaytonaError from "./DaytonaError.js"

/**
 * Daytona's error bodies.
 *
 * @since 0.1.0
 */
export * as ErrorBody from "./ErrorBody.js"

/**
 * Files in a sandbox: listing, search, permissions, streaming upload and download.
 *
 * @since 0.1.0
 */
export * as FileSystem from "./FileSystem.js"

/**
 * Git in a sandbox.
 *
 * @since 0.1.0
 */
export * as Git from "./Git.js"

/**
 * The declarative image builder: an immutable, pipeable Dockerfile value for `Daytona.create`.
 *
 * @since 0.1.0
 */
export * as Image from "./Image.js"

/**
 * Language servers in a sandbox.
 *
 * @since 0.1.0
 */
export * as LspServer from "./LspServer.js"

/**
 * Preview link schemas.
 *
 * @since 0.1.0
 */
export * as PreviewUrl from "./PreviewUrl.js"

/**
 * Commands, code runs and sessions in a sandbox, with followed logs as a Stream.
 *
 * @since 0.1.0
 */
export * as Process from "./Process.js"

/**
 * Which failures are retried, and when.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * The sandbox handle and its operations.
 *
 * @since 0.1.0
 */
export * as Sandbox from "./Sandbox.js"

/**
 * Sandbox schemas as the control plane returns them.
 *
 * @since 0.1.0
 */
export * as SandboxDto from "./SandboxDto.js"

/**
 * Sandbox states and the other tolerant enumerations.
 *
 * @since 0.1.0
 */
export * as SandboxState from "./SandboxState.js"

/**
 * Snapshot and volume schemas as the control plane takes and returns them.
 *
 * @since 0.1.0
 */
export * as SnapshotDto from "./SnapshotDto.js"

/**
 * The service that lists, creates, deletes, activates and awaits snapshots and reads their build logs.
 *
 * @since 0.1.0
 */
export * as Snapshots from "./Snapshots.js"

/**
 * SSH access schemas.
 *
 * @since 0.1.0
 */
export * as SshAccess from "./SshAccess.js"

/**
 * The per-sandbox toolbox client.
 *
 * @since 0.1.0
 */
export * as ToolboxClient from "./ToolboxClient.js"

/**
 * Schemas of the toolbox daemon's requests and answers.
 *
 * @since 0.1.0
 */
export * as ToolboxDto from "./ToolboxDto.js"

/**
 * The service that lists, finds, creates, deletes and awaits volumes.
 *
 * @since 0.1.0
 */
export * as Volumes from "./Volumes.js"

/**
 * Polling and deadline combinators.
 *
 * @since 0.1.0
 */
export * as Wait from "./Wait.js"

/**
 * How the SDK opens WebSockets with headers (provide `ws`'s class on Node).
 *
 * @since 0.1.0
 */
export * as WebSocketConnector from "./WebSocketConnector.js"
