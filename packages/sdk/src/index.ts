/**
 * `@effect-daytona/sdk`: an Effect-native client for Daytona sandboxes.
 *
 * @since 0.1.0
 */

/**
 * A command running in the background of a sandbox, with a session of its own.
 *
 * @since 0.1.0
 */
export * as BackgroundCommand from "./BackgroundCommand.js"

/**
 * The upload of an image's build context.
 *
 * @since 0.1.0
 */
export * as BuildContext from "./BuildContext.js"

/**
 * A stateful Python interpreter in a sandbox.
 *
 * @since 0.1.0
 */
export * as CodeInterpreter from "./CodeInterpreter.js"

/**
 * Computer use.
 *
 * @since 0.1.0
 */
export * as ComputerUse from "./ComputerUse.js"

/**
 * Schemas of the toolbox daemon's computer-use bodies and queries (the desktop, mouse, keyboard, screenshots, display, recordings and accessibility), defined once.
 *
 * @since 0.1.0
 */
export * as ComputerUseDto from "./ComputerUseDto.js"

/**
 * Every place where an endpoint declaration deliberately differs from the contract snapshot of Daytona's generated clients (`packages/sdk/contract/`), with what really happens and why.
 *
 * @since 0.1.0
 */
export * as ContractDeviations from "./ContractDeviations.js"

/**
 * The control plane's endpoints the SDK calls and the local server serves, each declared once (see `Endpoint`).
 *
 * @since 0.1.0
 */
export * as ControlPlaneApi from "./ControlPlaneApi.js"

/**
 * Schemas of the request bodies that create and reshape sandboxes, with Daytona's validation rules.
 *
 * @since 0.1.0
 */
export * as CreateSandbox from "./CreateSandbox.js"

/**
 * The Daytona service.
 *
 * @since 0.1.0
 */
export * as Daytona from "./Daytona.js"

/**
 * The control-plane client.
 *
 * @since 0.1.0
 */
export * as DaytonaClient from "./DaytonaClient.js"

/**
 * Where Daytona is, who the caller is, and the budgets every request runs under.
 *
 * @since 0.1.0
 */
export * as DaytonaConfig from "./DaytonaConfig.js"

/**
 * The typed error family of the SDK.
 *
 * @since 0.1.0
 */
export * as DaytonaError from "./DaytonaError.js"

/**
 * The SDK's metrics.
 *
 * @since 0.1.0
 */
export * as DaytonaMetrics from "./DaytonaMetrics.js"

/**
 * One declaration per endpoint of Daytona's wire contract.
 *
 * @since 0.1.0
 */
export * as Endpoint from "./Endpoint.js"

/**
 * Schemas of the error bodies Daytona's servers send.
 *
 * @since 0.1.0
 */
export * as ErrorBody from "./ErrorBody.js"

/**
 * Daytona's events.
 *
 * @since 0.1.0
 */
export * as Events from "./Events.js"

/**
 * Files inside a sandbox.
 *
 * @since 0.1.0
 */
export * as FileSystem from "./FileSystem.js"

/**
 * Git repositories inside a sandbox, driven by the toolbox daemon.
 *
 * @since 0.1.0
 */
export * as Git from "./Git.js"

/**
 * The GPU models a sandbox or snapshot can ask for.
 *
 * @since 0.1.0
 */
export * as GpuType from "./GpuType.js"

/**
 * A declarative image builder.
 *
 * @since 0.1.0
 */
export * as Image from "./Image.js"

/**
 * Schemas of the toolbox daemon's code-interpreter bodies (`/process/interpreter`) and of the messages its execute WebSocket carries, defined once.
 *
 * @since 0.1.0
 */
export * as InterpreterDto from "./InterpreterDto.js"

/**
 * A language server inside a sandbox (Python via pylsp, TypeScript and JavaScript via typescript-language-server), driven through the toolbox daemon.
 *
 * @since 0.1.0
 */
export * as LspServer from "./LspServer.js"

/**
 * The `multipart/form-data` framing of Daytona's bulk file transfers, one implementation for both sides.
 *
 * @since 0.1.0
 */
export * as MultipartCodec from "./MultipartCodec.js"

/**
 * Schemas of Daytona's object storage access.
 *
 * @since 0.1.0
 */
export * as ObjectStorageDto from "./ObjectStorageDto.js"

/**
 * Schemas of preview links.
 *
 * @since 0.1.0
 */
export * as PreviewUrl from "./PreviewUrl.js"

/**
 * Processes inside a sandbox.
 *
 * @since 0.1.0
 */
export * as Process from "./Process.js"

/**
 * Pseudo-terminals in a sandbox.
 *
 * @since 0.1.0
 */
export * as Pty from "./Pty.js"

/**
 * Schemas of the toolbox daemon's pseudo-terminal bodies (`/process/pty`) and of the messages its PTY WebSocket carries, defined once.
 *
 * @since 0.1.0
 */
export * as PtyDto from "./PtyDto.js"

/**
 * The retry policy.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * The sandbox handle.
 *
 * @since 0.1.0
 */
export * as Sandbox from "./Sandbox.js"

/**
 * Schemas of the sandbox objects the control plane returns.
 *
 * @since 0.1.0
 */
export * as SandboxDto from "./SandboxDto.js"

/**
 * A sandbox's resource usage.
 *
 * @since 0.1.0
 */
export * as SandboxMetrics from "./SandboxMetrics.js"

/**
 * A pool of warm sandboxes for backends.
 *
 * @since 0.1.0
 */
export * as SandboxPool from "./SandboxPool.js"

/**
 * The states of a sandbox, its backup and its class, decoded tolerantly.
 *
 * @since 0.1.0
 */
export * as SandboxState from "./SandboxState.js"

/**
 * Schemas of Daytona's organization secrets (`/secret`).
 *
 * @since 0.1.0
 */
export * as SecretDto from "./SecretDto.js"

/**
 * The Secrets service.
 *
 * @since 0.1.0
 */
export * as Secrets from "./Secrets.js"

/**
 * Schemas of the snapshots the control plane takes and returns, and their states.
 *
 * @since 0.1.0
 */
export * as SnapshotDto from "./SnapshotDto.js"

/**
 * The Snapshots service.
 *
 * @since 0.1.0
 */
export * as Snapshots from "./Snapshots.js"

/**
 * Schemas of SSH access tokens.
 *
 * @since 0.1.0
 */
export * as SshAccess from "./SshAccess.js"

/**
 * The toolbox daemon's endpoints the SDK calls and the local server serves, each declared once (see `Endpoint`).
 *
 * @since 0.1.0
 */
export * as ToolboxApi from "./ToolboxApi.js"

/**
 * The toolbox client.
 *
 * @since 0.1.0
 */
export * as ToolboxClient from "./ToolboxClient.js"

/**
 * Schemas of the toolbox daemon's JSON bodies (files, git, processes, sessions, LSP), defined once.
 *
 * @since 0.1.0
 */
export * as ToolboxDto from "./ToolboxDto.js"

/**
 * How an upload's body reaches the `HttpClient`, as a service a program may provide.
 *
 * @since 0.1.0
 */
export * as UploadBody from "./UploadBody.js"

/**
 * Schemas of the volumes the control plane takes and returns, and their states.
 *
 * @since 0.1.0
 */
export * as VolumeDto from "./VolumeDto.js"

/**
 * The Volumes service.
 *
 * @since 0.1.0
 */
export * as Volumes from "./Volumes.js"

/**
 * Waiting as composable combinators.
 *
 * @since 0.1.0
 */
export * as Wait from "./Wait.js"

/**
 * Schemas of Daytona's warm pools (`/warm-pools`).
 *
 * @since 0.1.0
 */
export * as WarmPoolDto from "./WarmPoolDto.js"

/**
 * The WarmPools service.
 *
 * @since 0.1.0
 */
export * as WarmPools from "./WarmPools.js"

/**
 * How the SDK opens WebSockets to a sandbox's toolbox (followed session logs).
 *
 * @since 0.1.0
 */
export * as WebSocketConnector from "./WebSocketConnector.js"

/**
 * Schemas of the values on Daytona's wire, each annotated with the message Daytona's servers answer when a request carries a wrong one (class-validator's wording, `$property` standing for the field's dotted path), and the one function that turns a failed decode into those messages.
 *
 * @since 0.1.0
 */
export * as WireSchema from "./WireSchema.js"
