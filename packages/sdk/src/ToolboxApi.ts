/**
 * The toolbox daemon's endpoints the SDK calls and the local server serves, each declared once (see
 * `Endpoint`). Paths are relative to a sandbox's toolbox (`{toolboxProxyUrl}/{sandboxId}`); names are
 * the operation ids of Daytona's generated toolbox client, against whose snapshot the conformance test
 * checks every one.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as ComputerUseDto from "./ComputerUseDto.js"
import { CreateContextRequest, InterpreterContext, ListContextsResponse } from "./InterpreterDto.js"
import {
  PtyCreateRequest,
  PtyCreateResponse,
  PtyListResponse,
  PtyResizeRequest,
  PtySessionInfo,
  PtySideFromString
} from "./PtyDto.js"
import * as Endpoint from "./Endpoint.js"
import {
  CodeRunRequest,
  CodeRunResponse,
  Command,
  CompletionList,
  CreateSessionRequest,
  ExecuteRequest,
  ExecuteResponse,
  FileInfo,
  FilesDownloadRequest,
  GitAddRequest,
  GitBranchRequest,
  GitCheckoutRequest,
  GitCloneRequest,
  GitCommitInfo,
  GitCommitRequest,
  GitCommitResponse,
  GitStatus,
  IsPortInUseResponse,
  ListBranchResponse,
  LspCompletionParams,
  LspDocumentRequest,
  LspServerRequest,
  LspSymbol,
  Match,
  PortList,
  ReplaceRequest,
  ReplaceResult,
  SearchFilesResponse,
  Session,
  SessionCommandLogsResponse,
  SessionExecuteRequest,
  SessionExecuteResponse,
  SessionSendInputRequest
} from "./ToolboxDto.js"
import { SystemMetrics } from "./SandboxMetrics.js"
import {
  GitAddRemoteRequest,
  GitAuthenticateRequest,
  GitConfigResponse,
  GitConfigureUserRequest,
  GitInitRequest,
  GitPullRequest,
  GitPushRequest,
  GitResetRequest,
  GitRestoreRequest,
  GitSetConfigRequest,
  ListRemotesResponse,
  SingleFileUploaded,
  UpdateEnvRequest
} from "./ToolboxDto.js"
import * as WireSchema from "./WireSchema.js"

const endpoint = Endpoint.make("toolbox")

/** A query parameter the daemon requires: "`name` is required" when absent or empty. */
const Required = Schema.String.pipe(Schema.filter((value) => value !== "", { message: () => "$property is required" }))

const Path = Schema.Struct({ path: Required })
const SessionRef = Schema.Struct({ sessionId: Schema.String })
const CommandRef = Schema.Struct({ sessionId: Schema.String, commandId: Schema.String })
const Directory = Schema.Struct({ dir: Schema.String })

/** How many levels a listing descends (1: the directory's own entries). */
const Depth = Schema.NumberFromString.annotations({ message: () => "depth must be a positive integer" }).pipe(
  Schema.filter((n) => Number.isInteger(n) && n >= 1, { message: () => "depth must be a positive integer" })
)

// ---------------------------------------------------------------------------------------------
// info
// ---------------------------------------------------------------------------------------------

/**
 * `GET /version`: the daemon's version.
 *
 * @since 0.1.0
 * @category info
 */
export const getVersion = endpoint({
  name: "getVersion",
  method: "GET",
  path: "/version",
  success: Endpoint.json(Schema.Struct({ version: Schema.String }))
})

/**
 * `GET /user-home-dir`: the sandbox user's home directory.
 *
 * @since 0.1.0
 * @category info
 */
export const getUserHomeDir = endpoint({
  name: "getUserHomeDir",
  method: "GET",
  path: "/user-home-dir",
  success: Endpoint.json(Directory),
  errors: [404]
})

/**
 * `GET /work-dir`: the directory commands start in.
 *
 * @since 0.1.0
 * @category info
 */
export const getWorkDir = endpoint({
  name: "getWorkDir",
  method: "GET",
  path: "/work-dir",
  success: Endpoint.json(Directory),
  errors: [404]
})

/** A TCP port in a path: 1–65535. */
const PortNumber = Schema.Struct({
  port: Schema.NumberFromString.annotations({ message: () => "port must be a whole number from 1 to 65535" }).pipe(
    Schema.filter((port) => Number.isInteger(port) && port >= 1 && port <= 65535, {
      message: () => "port must be a whole number from 1 to 65535"
    })
  )
})

/**
 * `GET /port`: the TCP ports a process of the sandbox listens on.
 *
 * @since 0.1.0
 * @category info
 */
export const getPorts = endpoint({
  name: "getPorts",
  method: "GET",
  path: "/port",
  success: Endpoint.json(PortList),
  errors: [404]
})

/**
 * `GET /port/{port}/in-use`: whether a process of the sandbox listens on `port`.
 *
 * @since 0.1.0
 * @category info
 */
export const isPortInUse = endpoint({
  name: "isPortInUse",
  method: "GET",
  path: "/port/{port}/in-use",
  params: PortNumber,
  success: Endpoint.json(IsPortInUseResponse),
  errors: [400, 404]
})

// ---------------------------------------------------------------------------------------------
// files
// ---------------------------------------------------------------------------------------------

const fileErrors = [400, 404] as const

/**
 * `GET /files?path=&depth=`: the entries of a directory, and with `depth` above 1 those of its
 * subdirectories down to that depth (each entry then carries its `path`).
 *
 * @since 0.1.0
 * @category files
 */
export const listFiles = endpoint({
  name: "listFiles",
  method: "GET",
  path: "/files",
  query: Schema.Struct({ path: Schema.optional(Schema.String), depth: Schema.optional(Depth) }),
  success: Endpoint.json(Schema.Array(FileInfo)),
  errors: fileErrors
})

/**
 * `GET /files/info?path=`.
 *
 * @since 0.1.0
 * @category files
 */
export const getFileInfo = endpoint({
  name: "getFileInfo",
  method: "GET",
  path: "/files/info",
  query: Path,
  success: Endpoint.json(FileInfo),
  errors: fileErrors
})

/**
 * `POST /files/folder?path=&mode=`: creates a directory (and its parents).
 *
 * @since 0.1.0
 * @category files
 */
export const createFolder = endpoint({
  name: "createFolder",
  method: "POST",
  path: "/files/folder",
  query: Schema.Struct({ path: Required, mode: Schema.String }),
  status: 201,
  errors: [400, 404, 409],
  replay: "safe"
})

/**
 * `DELETE /files?path=&recursive=`.
 *
 * @since 0.1.0
 * @category files
 */
export const deleteFile = endpoint({
  name: "deleteFile",
  method: "DELETE",
  path: "/files",
  query: Schema.Struct({ path: Required, recursive: Schema.optional(WireSchema.BooleanFromString) }),
  status: 204,
  errors: fileErrors
})

/**
 * `POST /files/move?source=&destination=`.
 *
 * @since 0.1.0
 * @category files
 */
export const moveFile = endpoint({
  name: "moveFile",
  method: "POST",
  path: "/files/move",
  query: Schema.Struct({ source: Required, destination: Required }),
  errors: [400, 404, 409],
  replay: "unsafe"
})

/**
 * `GET /files/find?path=&pattern=`: lines of files under `path` that contain `pattern`.
 *
 * @since 0.1.0
 * @category files
 */
export const findInFiles = endpoint({
  name: "findInFiles",
  method: "GET",
  path: "/files/find",
  query: Schema.Struct({ path: Required, pattern: Required }),
  success: Endpoint.json(Schema.NullOr(Schema.Array(Match))),
  errors: fileErrors
})

/**
 * `GET /files/search?path=&pattern=`: files under `path` whose name matches a glob.
 *
 * @since 0.1.0
 * @category files
 */
export const searchFiles = endpoint({
  name: "searchFiles",
  method: "GET",
  path: "/files/search",
  query: Schema.Struct({ path: Required, pattern: Required }),
  success: Endpoint.json(SearchFilesResponse),
  errors: fileErrors
})

/**
 * `POST /files/replace`: replaces a text in files.
 *
 * @since 0.1.0
 * @category files
 */
export const replaceInFiles = endpoint({
  name: "replaceInFiles",
  method: "POST",
  path: "/files/replace",
  payload: Endpoint.json(ReplaceRequest),
  success: Endpoint.json(Schema.NullOr(Schema.Array(ReplaceResult))),
  errors: fileErrors,
  replay: "safe"
})

/**
 * `POST /files/permissions?path=&mode=&owner=&group=`.
 *
 * @since 0.1.0
 * @category files
 */
export const setFilePermissions = endpoint({
  name: "setFilePermissions",
  method: "POST",
  path: "/files/permissions",
  query: Schema.Struct({
    path: Required,
    mode: Schema.optional(Schema.String),
    owner: Schema.optional(Schema.String),
    group: Schema.optional(Schema.String)
  }),
  errors: fileErrors,
  replay: "safe"
})

/**
 * `POST /files/bulk-upload`: a multipart body of `files[i].path` and `files[i].file` parts, streamed.
 * The answer is read as text: the local server sends `UploadFilesResponse` (each file written, each
 * failure), Daytona's daemon may send nothing.
 *
 * @since 0.1.0
 * @category files
 */
export const uploadFiles = endpoint({
  name: "uploadFiles",
  method: "POST",
  path: "/files/bulk-upload",
  payload: Endpoint.multipart("files"),
  success: Endpoint.text,
  errors: [400, 409],
  replay: "safe"
})

/**
 * `POST /files/upload?path=`: the daemon's older single-file upload (the part `file`), kept for
 * clients of daemons before 0.216.
 *
 * @since 0.1.0
 * @category files
 */
export const uploadFileLegacy = endpoint({
  name: "uploadFileLegacy",
  method: "POST",
  path: "/files/upload",
  query: Path,
  payload: Endpoint.multipart("file"),
  errors: [400, 409],
  replay: "safe"
})

/**
 * `GET /files/download?path=`: one file's bytes.
 *
 * @since 0.1.0
 * @category files
 */
export const downloadFile = endpoint({
  name: "downloadFile",
  method: "GET",
  path: "/files/download",
  query: Path,
  success: Endpoint.binary,
  errors: fileErrors
})

/**
 * `POST /files/bulk-download`: a multipart answer with one part per requested path (or an error part).
 *
 * @since 0.1.0
 * @category files
 */
export const downloadFiles = endpoint({
  name: "downloadFiles",
  method: "POST",
  path: "/files/bulk-download",
  payload: Endpoint.json(FilesDownloadRequest),
  success: Endpoint.multipartAnswer,
  errors: [400],
  replay: "safe"
})

// ---------------------------------------------------------------------------------------------
// git
// ---------------------------------------------------------------------------------------------

const gitErrors = [400, 404, 409] as const

/**
 * `POST /git/clone`.
 *
 * @since 0.1.0
 * @category git
 */
export const cloneRepository = endpoint({
  name: "cloneRepository",
  method: "POST",
  path: "/git/clone",
  payload: Endpoint.json(GitCloneRequest),
  errors: gitErrors,
  replay: "unsafe"
})

/**
 * `GET /git/status?path=`.
 *
 * @since 0.1.0
 * @category git
 */
export const getStatus = endpoint({
  name: "getStatus",
  method: "GET",
  path: "/git/status",
  query: Path,
  success: Endpoint.json(GitStatus),
  errors: gitErrors
})

/**
 * `POST /git/add`.
 *
 * @since 0.1.0
 * @category git
 */
export const addFiles = endpoint({
  name: "addFiles",
  method: "POST",
  path: "/git/add",
  payload: Endpoint.json(GitAddRequest),
  errors: gitErrors,
  replay: "safe"
})

/**
 * `POST /git/commit`: answers the new commit's hash.
 *
 * @since 0.1.0
 * @category git
 */
export const commitChanges = endpoint({
  name: "commitChanges",
  method: "POST",
  path: "/git/commit",
  payload: Endpoint.json(GitCommitRequest),
  success: Endpoint.json(GitCommitResponse),
  errors: gitErrors,
  replay: "unsafe"
})

/**
 * `GET /git/branches?path=`.
 *
 * @since 0.1.0
 * @category git
 */
export const listBranches = endpoint({
  name: "listBranches",
  method: "GET",
  path: "/git/branches",
  query: Path,
  success: Endpoint.json(ListBranchResponse),
  errors: gitErrors
})

/**
 * `POST /git/branches`: creates a branch.
 *
 * @since 0.1.0
 * @category git
 */
export const createBranch = endpoint({
  name: "createBranch",
  method: "POST",
  path: "/git/branches",
  payload: Endpoint.json(GitBranchRequest),
  status: 201,
  errors: gitErrors,
  replay: "unsafe"
})

/**
 * `DELETE /git/branches` (the branch in the body).
 *
 * @since 0.1.0
 * @category git
 */
export const deleteBranch = endpoint({
  name: "deleteBranch",
  method: "DELETE",
  path: "/git/branches",
  payload: Endpoint.json(GitBranchRequest),
  status: 204,
  errors: gitErrors
})

/**
 * `POST /git/checkout`.
 *
 * @since 0.1.0
 * @category git
 */
export const checkoutBranch = endpoint({
  name: "checkoutBranch",
  method: "POST",
  path: "/git/checkout",
  payload: Endpoint.json(GitCheckoutRequest),
  errors: gitErrors,
  replay: "safe"
})

/**
 * `POST /git/push`.
 *
 * @since 0.1.0
 * @category git
 */
export const pushChanges = endpoint({
  name: "pushChanges",
  method: "POST",
  path: "/git/push",
  payload: Endpoint.json(GitPushRequest),
  errors: gitErrors,
  replay: "unsafe"
})

/**
 * `POST /git/pull`.
 *
 * @since 0.1.0
 * @category git
 */
export const pullChanges = endpoint({
  name: "pullChanges",
  method: "POST",
  path: "/git/pull",
  payload: Endpoint.json(GitPullRequest),
  errors: gitErrors,
  replay: "unsafe"
})

/**
 * `GET /git/history?path=`.
 *
 * @since 0.1.0
 * @category git
 */
export const getCommitHistory = endpoint({
  name: "getCommitHistory",
  method: "GET",
  path: "/git/history",
  query: Path,
  success: Endpoint.json(Schema.NullOr(Schema.Array(GitCommitInfo))),
  errors: gitErrors
})

// ---------------------------------------------------------------------------------------------
// git: repositories, remotes, configuration, credentials (issue 13)
// ---------------------------------------------------------------------------------------------

/**
 * `POST /git/init`: a new repository (run again on one, git reinitializes it harmlessly).
 *
 * @since 0.1.0
 * @category git
 */
export const initRepository = endpoint({
  name: "initRepository",
  method: "POST",
  path: "/git/init",
  payload: Endpoint.json(GitInitRequest),
  status: 201,
  errors: gitErrors,
  replay: "safe"
})

/**
 * `POST /git/reset`: moves HEAD (a second reset to a relative target would move it again).
 *
 * @since 0.1.0
 * @category git
 */
export const resetChanges = endpoint({
  name: "resetChanges",
  method: "POST",
  path: "/git/reset",
  payload: Endpoint.json(GitResetRequest),
  errors: gitErrors,
  replay: "unsafe"
})

/**
 * `POST /git/restore`: restores files of the working tree or the index.
 *
 * @since 0.1.0
 * @category git
 */
export const restoreFiles = endpoint({
  name: "restoreFiles",
  method: "POST",
  path: "/git/restore",
  payload: Endpoint.json(GitRestoreRequest),
  errors: gitErrors,
  replay: "safe"
})

/**
 * `POST /git/remotes`: adds (or, with `overwrite`, replaces) a remote.
 *
 * @since 0.1.0
 * @category git
 */
export const addRemote = endpoint({
  name: "addRemote",
  method: "POST",
  path: "/git/remotes",
  payload: Endpoint.json(GitAddRemoteRequest),
  status: 201,
  errors: gitErrors,
  replay: "unsafe"
})

/**
 * `GET /git/remotes?path=`: the repository's remotes.
 *
 * @since 0.1.0
 * @category git
 */
export const listRemotes = endpoint({
  name: "listRemotes",
  method: "GET",
  path: "/git/remotes",
  query: Path,
  success: Endpoint.json(ListRemotesResponse),
  errors: gitErrors
})

/**
 * `GET /git/config?key=&scope=&path=`: one configuration value.
 *
 * @since 0.1.0
 * @category git
 */
export const getGitConfig = endpoint({
  name: "getGitConfig",
  method: "GET",
  path: "/git/config",
  query: Schema.Struct({ key: Required, scope: Schema.optional(Schema.String), path: Schema.optional(Schema.String) }),
  success: Endpoint.json(GitConfigResponse),
  errors: gitErrors
})

/**
 * `POST /git/config`: sets one configuration value.
 *
 * @since 0.1.0
 * @category git
 */
export const setGitConfig = endpoint({
  name: "setGitConfig",
  method: "POST",
  path: "/git/config",
  payload: Endpoint.json(GitSetConfigRequest),
  errors: gitErrors,
  replay: "safe"
})

/**
 * `POST /git/config/user`: sets `user.name` and `user.email`.
 *
 * @since 0.1.0
 * @category git
 */
export const configureUser = endpoint({
  name: "configureUser",
  method: "POST",
  path: "/git/config/user",
  payload: Endpoint.json(GitConfigureUserRequest),
  errors: gitErrors,
  replay: "safe"
})

/**
 * `POST /git/credentials`: stores credentials in git's credential store inside the sandbox.
 *
 * @since 0.1.0
 * @category git
 */
export const authenticate = endpoint({
  name: "authenticate",
  method: "POST",
  path: "/git/credentials",
  payload: Endpoint.json(GitAuthenticateRequest),
  errors: gitErrors,
  replay: "safe"
})

// ---------------------------------------------------------------------------------------------
// environment and signed single-file uploads (issue 13)
// ---------------------------------------------------------------------------------------------

/**
 * `POST /env`: changes the environment that processes, sessions and terminals started from now on
 * get; answers the resulting environment.
 *
 * @since 0.1.0
 * @category process
 */
export const updateEnv = endpoint({
  name: "updateEnv",
  method: "POST",
  path: "/env",
  payload: Endpoint.json(UpdateEnvRequest),
  success: Endpoint.json(Schema.Record({ key: Schema.String, value: Schema.String })),
  errors: [400],
  replay: "safe"
})

/**
 * `POST /files/upload-v2?path=`: one file (the part `file`), where a signed upload URL points.
 *
 * @since 0.1.0
 * @category files
 */
export const uploadFile = endpoint({
  name: "uploadFile",
  method: "POST",
  path: "/files/upload-v2",
  query: Path,
  payload: Endpoint.multipart("file"),
  success: Endpoint.json(SingleFileUploaded),
  errors: [400, 409],
  replay: "safe"
})

// ---------------------------------------------------------------------------------------------
// process
// ---------------------------------------------------------------------------------------------

/**
 * `POST /process/execute`: runs a command and answers its exit code and output.
 *
 * @since 0.1.0
 * @category process
 */
export const executeCommand = endpoint({
  name: "executeCommand",
  method: "POST",
  path: "/process/execute",
  payload: Endpoint.json(ExecuteRequest),
  success: Endpoint.json(ExecuteResponse),
  errors: [400, 404, 408],
  replay: "unsafe"
})

/**
 * `POST /process/code-run`: runs code in a language the daemon knows.
 *
 * @since 0.1.0
 * @category process
 */
export const codeRun = endpoint({
  name: "codeRun",
  method: "POST",
  path: "/process/code-run",
  payload: Endpoint.json(CodeRunRequest),
  success: Endpoint.json(CodeRunResponse),
  errors: [400, 404, 408],
  replay: "unsafe"
})

/**
 * `POST /process/session`: opens a session (a persistent shell) under the id the caller chose. A
 * replay is harmless: when the lost first attempt opened it, the replay's 409 says so.
 *
 * @since 0.1.0
 * @category sessions
 */
export const createSession = endpoint({
  name: "createSession",
  method: "POST",
  path: "/process/session",
  payload: Endpoint.json(CreateSessionRequest),
  status: 201,
  errors: [400, 404, 409],
  replay: "safe",
  alreadyDone: 409
})

/**
 * `GET /process/session`.
 *
 * @since 0.1.0
 * @category sessions
 */
export const listSessions = endpoint({
  name: "listSessions",
  method: "GET",
  path: "/process/session",
  success: Endpoint.json(Schema.NullOr(Schema.Array(Session))),
  errors: [400, 404]
})

/**
 * `GET /process/session/entrypoint`: the session running the sandbox's entrypoint.
 *
 * @since 0.1.0
 * @category sessions
 */
export const getEntrypointSession = endpoint({
  name: "getEntrypointSession",
  method: "GET",
  path: "/process/session/entrypoint",
  success: Endpoint.json(Session),
  errors: [400, 404]
})

/**
 * `GET /process/session/entrypoint/logs`: the entrypoint's output (upgraded to a WebSocket with `follow`).
 *
 * @since 0.1.0
 * @category sessions
 */
export const getEntrypointLogs = endpoint({
  name: "getEntrypointLogs",
  method: "GET",
  path: "/process/session/entrypoint/logs",
  query: Schema.Struct({ follow: Schema.optional(WireSchema.BooleanFromString) }),
  success: Endpoint.json(SessionCommandLogsResponse),
  errors: [400, 404]
})

/**
 * `GET /process/session/{sessionId}`.
 *
 * @since 0.1.0
 * @category sessions
 */
export const getSession = endpoint({
  name: "getSession",
  method: "GET",
  path: "/process/session/{sessionId}",
  params: SessionRef,
  success: Endpoint.json(Session),
  errors: [400, 404]
})

/**
 * `DELETE /process/session/{sessionId}`: ends the session and its commands.
 *
 * @since 0.1.0
 * @category sessions
 */
export const deleteSession = endpoint({
  name: "deleteSession",
  method: "DELETE",
  path: "/process/session/{sessionId}",
  params: SessionRef,
  status: 204,
  errors: [400, 404]
})

/**
 * `POST /process/session/{sessionId}/exec`: runs a command in the session, waiting for it (200 with
 * its output) or not (`runAsync`: 202 with its id).
 *
 * @since 0.1.0
 * @category sessions
 */
export const sessionExecuteCommand = endpoint({
  name: "sessionExecuteCommand",
  method: "POST",
  path: "/process/session/{sessionId}/exec",
  params: SessionRef,
  payload: Endpoint.json(SessionExecuteRequest),
  success: Endpoint.json(SessionExecuteResponse),
  errors: [400, 404],
  replay: "unsafe"
})

/**
 * `GET /process/session/{sessionId}/command/{commandId}`.
 *
 * @since 0.1.0
 * @category sessions
 */
export const getSessionCommand = endpoint({
  name: "getSessionCommand",
  method: "GET",
  path: "/process/session/{sessionId}/command/{commandId}",
  params: CommandRef,
  success: Endpoint.json(Command),
  errors: [400, 404]
})

/**
 * `GET /process/session/{sessionId}/command/{commandId}/logs`: the command's output so far (JSON), or
 * with `follow` a WebSocket that streams it until the command ends.
 *
 * @since 0.1.0
 * @category sessions
 */
export const getSessionCommandLogs = endpoint({
  name: "getSessionCommandLogs",
  method: "GET",
  path: "/process/session/{sessionId}/command/{commandId}/logs",
  params: CommandRef,
  query: Schema.Struct({ follow: Schema.optional(WireSchema.BooleanFromString) }),
  success: Endpoint.json(SessionCommandLogsResponse),
  errors: [400, 404]
})

/**
 * `POST /process/session/{sessionId}/command/{commandId}/input`: writes to a running command's stdin.
 *
 * @since 0.1.0
 * @category sessions
 */
export const sendInput = endpoint({
  name: "sendInput",
  method: "POST",
  path: "/process/session/{sessionId}/command/{commandId}/input",
  params: CommandRef,
  payload: Endpoint.json(SessionSendInputRequest),
  status: 204,
  errors: [400, 404],
  replay: "unsafe"
})

// ---------------------------------------------------------------------------------------------
// lsp
// ---------------------------------------------------------------------------------------------

const lspErrors = [400, 404] as const

/**
 * `POST /lsp/start`: starts a language server for a project.
 *
 * @since 0.1.0
 * @category lsp
 */
export const lspStart = endpoint({
  name: "start",
  method: "POST",
  path: "/lsp/start",
  payload: Endpoint.json(LspServerRequest),
  errors: lspErrors,
  replay: "safe"
})

/**
 * `POST /lsp/stop`.
 *
 * @since 0.1.0
 * @category lsp
 */
export const lspStop = endpoint({
  name: "stop",
  method: "POST",
  path: "/lsp/stop",
  payload: Endpoint.json(LspServerRequest),
  errors: lspErrors,
  replay: "safe"
})

/**
 * `POST /lsp/did-open`.
 *
 * @since 0.1.0
 * @category lsp
 */
export const lspDidOpen = endpoint({
  name: "didOpen",
  method: "POST",
  path: "/lsp/did-open",
  payload: Endpoint.json(LspDocumentRequest),
  errors: lspErrors,
  replay: "safe"
})

/**
 * `POST /lsp/did-close`.
 *
 * @since 0.1.0
 * @category lsp
 */
export const lspDidClose = endpoint({
  name: "didClose",
  method: "POST",
  path: "/lsp/did-close",
  payload: Endpoint.json(LspDocumentRequest),
  errors: lspErrors,
  replay: "safe"
})

/**
 * `POST /lsp/completions`.
 *
 * @since 0.1.0
 * @category lsp
 */
export const lspCompletions = endpoint({
  name: "completions",
  method: "POST",
  path: "/lsp/completions",
  payload: Endpoint.json(LspCompletionParams),
  success: Endpoint.json(CompletionList),
  errors: lspErrors,
  replay: "safe"
})

const lspProject = { languageId: Required, pathToProject: Required }

/**
 * `GET /lsp/document-symbols?languageId=&pathToProject=&uri=`.
 *
 * @since 0.1.0
 * @category lsp
 */
export const lspDocumentSymbols = endpoint({
  name: "documentSymbols",
  method: "GET",
  path: "/lsp/document-symbols",
  query: Schema.Struct({ ...lspProject, uri: Schema.String }),
  success: Endpoint.json(Schema.NullOr(Schema.Array(LspSymbol))),
  errors: lspErrors
})

/**
 * `GET /lsp/workspacesymbols?languageId=&pathToProject=&query=`.
 *
 * @since 0.1.0
 * @category lsp
 */
export const lspWorkspaceSymbols = endpoint({
  name: "workspaceSymbols",
  method: "GET",
  path: "/lsp/workspacesymbols",
  query: Schema.Struct({ ...lspProject, query: Schema.String }),
  success: Endpoint.json(Schema.NullOr(Schema.Array(LspSymbol))),
  errors: lspErrors
})

// ---------------------------------------------------------------------------------------------
// Lifecycle of Daytona 0.216: the latest usage sample
// ---------------------------------------------------------------------------------------------

/**
 * `GET /system/metrics`: the sandbox's latest CPU, memory and disk sample (bytes; CPU as a
 * percentage of its limit over the last window).
 *
 * @since 0.1.0
 * @category metrics
 */
export const getSystemMetrics = endpoint({
  name: "getSystemMetrics",
  method: "GET",
  path: "/system/metrics",
  success: Endpoint.json(SystemMetrics),
  errors: [404]
})

// ---------------------------------------------------------------------------------------------
// computer use
// ---------------------------------------------------------------------------------------------

/**
 * `POST /computeruse/start`: starts the desktop's processes (a virtual display, and what else the
 * server runs with it) and answers their status.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseStart = endpoint({
  name: "startComputerUse",
  method: "POST",
  path: "/computeruse/start",
  success: Endpoint.json(ComputerUseDto.ComputerUseProcessesResponse),
  errors: [400],
  replay: "safe"
})

/**
 * `POST /computeruse/stop`: stops the desktop's processes and answers their status.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseStop = endpoint({
  name: "stopComputerUse",
  method: "POST",
  path: "/computeruse/stop",
  success: Endpoint.json(ComputerUseDto.ComputerUseProcessesResponse),
  errors: [400],
  replay: "safe"
})

/**
 * `GET /computeruse/process-status`: whether the desktop's processes run (`active`, `partial`,
 * `inactive`).
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseProcessesStatus = endpoint({
  name: "getComputerUseStatus",
  method: "GET",
  path: "/computeruse/process-status",
  success: Endpoint.json(ComputerUseDto.ComputerUseStatusResponse),
  errors: [400]
})

/**
 * `GET /computeruse/status`: the state of the computer-use system.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseSystemStatus = endpoint({
  name: "getComputerUseSystemStatus",
  method: "GET",
  path: "/computeruse/status",
  success: Endpoint.json(ComputerUseDto.ComputerUseStatusResponse),
  errors: [400]
})

/**
 * `GET /computeruse/process/{processName}/status`.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseProcessStatus = endpoint({
  name: "getProcessStatus",
  method: "GET",
  path: "/computeruse/process/{processName}/status",
  params: ComputerUseDto.ProcessRef,
  success: Endpoint.json(ComputerUseDto.ProcessStatusResponse),
  errors: [400, 404]
})

/**
 * `POST /computeruse/process/{processName}/restart`.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseRestartProcess = endpoint({
  name: "restartProcess",
  method: "POST",
  path: "/computeruse/process/{processName}/restart",
  params: ComputerUseDto.ProcessRef,
  success: Endpoint.json(ComputerUseDto.ProcessRestartResponse),
  errors: [400, 404],
  replay: "unsafe"
})

/**
 * `GET /computeruse/process/{processName}/logs`: what the process wrote on stdout.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseProcessLogs = endpoint({
  name: "getProcessLogs",
  method: "GET",
  path: "/computeruse/process/{processName}/logs",
  params: ComputerUseDto.ProcessRef,
  success: Endpoint.json(ComputerUseDto.ProcessLogsResponse),
  errors: [400, 404]
})

/**
 * `GET /computeruse/process/{processName}/errors`: what the process wrote on stderr.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseProcessErrors = endpoint({
  name: "getProcessErrors",
  method: "GET",
  path: "/computeruse/process/{processName}/errors",
  params: ComputerUseDto.ProcessRef,
  success: Endpoint.json(ComputerUseDto.ProcessErrorsResponse),
  errors: [400, 404]
})

/**
 * `GET /computeruse/mouse/position`.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseMousePosition = endpoint({
  name: "getMousePosition",
  method: "GET",
  path: "/computeruse/mouse/position",
  success: Endpoint.json(ComputerUseDto.MousePositionResponse),
  errors: [400]
})

/**
 * `POST /computeruse/mouse/move`: answers where the pointer is after the move.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseMouseMove = endpoint({
  name: "moveMouse",
  method: "POST",
  path: "/computeruse/mouse/move",
  payload: Endpoint.json(ComputerUseDto.MouseMoveRequest),
  success: Endpoint.json(ComputerUseDto.MousePositionResponse),
  errors: [400],
  replay: "safe"
})

/**
 * `POST /computeruse/mouse/click`: moves the pointer and clicks (twice with `double`).
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseMouseClick = endpoint({
  name: "click",
  method: "POST",
  path: "/computeruse/mouse/click",
  payload: Endpoint.json(ComputerUseDto.MouseClickRequest),
  success: Endpoint.json(ComputerUseDto.MouseClickResponse),
  errors: [400],
  replay: "unsafe"
})

/**
 * `POST /computeruse/mouse/drag`: presses a button at the start, moves to the end and releases it.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseMouseDrag = endpoint({
  name: "drag",
  method: "POST",
  path: "/computeruse/mouse/drag",
  payload: Endpoint.json(ComputerUseDto.MouseDragRequest),
  success: Endpoint.json(ComputerUseDto.MouseDragResponse),
  errors: [400],
  replay: "unsafe"
})

/**
 * `POST /computeruse/mouse/scroll`: turns the wheel at a position.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseMouseScroll = endpoint({
  name: "scroll",
  method: "POST",
  path: "/computeruse/mouse/scroll",
  payload: Endpoint.json(ComputerUseDto.MouseScrollRequest),
  success: Endpoint.json(ComputerUseDto.ScrollResponse),
  errors: [400],
  replay: "unsafe"
})

/**
 * `POST /computeruse/keyboard/type`: types a text.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseTypeText = endpoint({
  name: "typeText",
  method: "POST",
  path: "/computeruse/keyboard/type",
  payload: Endpoint.json(ComputerUseDto.KeyboardTypeRequest),
  success: Endpoint.json(ComputerUseDto.EmptyResponse),
  errors: [400, 408],
  replay: "unsafe"
})

/**
 * `POST /computeruse/keyboard/key`: presses a key with modifiers.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUsePressKey = endpoint({
  name: "pressKey",
  method: "POST",
  path: "/computeruse/keyboard/key",
  payload: Endpoint.json(ComputerUseDto.KeyboardPressRequest),
  success: Endpoint.json(ComputerUseDto.EmptyResponse),
  errors: [400],
  replay: "unsafe"
})

/**
 * `POST /computeruse/keyboard/hotkey`: presses one chord (`ctrl+c`).
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUsePressHotkey = endpoint({
  name: "pressHotkey",
  method: "POST",
  path: "/computeruse/keyboard/hotkey",
  payload: Endpoint.json(ComputerUseDto.KeyboardHotkeyRequest),
  success: Endpoint.json(ComputerUseDto.EmptyResponse),
  errors: [400],
  replay: "unsafe"
})

/**
 * `GET /computeruse/screenshot?showCursor=`: the whole screen as PNG.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseScreenshot = endpoint({
  name: "takeScreenshot",
  method: "GET",
  path: "/computeruse/screenshot",
  query: ComputerUseDto.ScreenshotQuery,
  success: Endpoint.json(ComputerUseDto.ScreenshotResponse),
  errors: [400]
})

/**
 * `GET /computeruse/screenshot/region?x=&y=&width=&height=&showCursor=`: a region as PNG.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseRegionScreenshot = endpoint({
  name: "takeRegionScreenshot",
  method: "GET",
  path: "/computeruse/screenshot/region",
  query: ComputerUseDto.RegionScreenshotQuery,
  success: Endpoint.json(ComputerUseDto.ScreenshotResponse),
  errors: [400]
})

/**
 * `GET /computeruse/screenshot/compressed?showCursor=&format=&quality=&scale=`.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseCompressedScreenshot = endpoint({
  name: "takeCompressedScreenshot",
  method: "GET",
  path: "/computeruse/screenshot/compressed",
  query: ComputerUseDto.CompressedScreenshotQuery,
  success: Endpoint.json(ComputerUseDto.ScreenshotResponse),
  errors: [400]
})

/**
 * `GET /computeruse/screenshot/region/compressed?x=&y=&width=&height=&showCursor=&format=&quality=&scale=`.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseCompressedRegionScreenshot = endpoint({
  name: "takeCompressedRegionScreenshot",
  method: "GET",
  path: "/computeruse/screenshot/region/compressed",
  query: ComputerUseDto.CompressedRegionScreenshotQuery,
  success: Endpoint.json(ComputerUseDto.ScreenshotResponse),
  errors: [400]
})

/**
 * `GET /computeruse/display/info`: the displays and their geometry.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseDisplayInfo = endpoint({
  name: "getDisplayInfo",
  method: "GET",
  path: "/computeruse/display/info",
  success: Endpoint.json(ComputerUseDto.DisplayInfoResponse),
  errors: [400]
})

/**
 * `GET /computeruse/display/windows`: the open windows, their titles and geometry.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseWindows = endpoint({
  name: "getWindows",
  method: "GET",
  path: "/computeruse/display/windows",
  success: Endpoint.json(ComputerUseDto.WindowsResponse),
  errors: [400]
})

/**
 * `POST /computeruse/recordings/start`: starts recording the screen into an MP4 file in the
 * sandbox (201).
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseStartRecording = endpoint({
  name: "startRecording",
  method: "POST",
  path: "/computeruse/recordings/start",
  payload: Endpoint.json(ComputerUseDto.StartRecordingRequest),
  success: Endpoint.json(ComputerUseDto.Recording),
  status: 201,
  errors: [400],
  replay: "unsafe"
})

/**
 * `POST /computeruse/recordings/stop`: stops a recording and answers it completed (a recording
 * already stopped is answered as it is).
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseStopRecording = endpoint({
  name: "stopRecording",
  method: "POST",
  path: "/computeruse/recordings/stop",
  payload: Endpoint.json(ComputerUseDto.StopRecordingRequest),
  success: Endpoint.json(ComputerUseDto.Recording),
  errors: [400, 404],
  replay: "safe"
})

/**
 * `GET /computeruse/recordings`: every recording, active and completed.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseListRecordings = endpoint({
  name: "listRecordings",
  method: "GET",
  path: "/computeruse/recordings",
  success: Endpoint.json(ComputerUseDto.ListRecordingsResponse),
  errors: [400]
})

/**
 * `GET /computeruse/recordings/{id}`.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseGetRecording = endpoint({
  name: "getRecording",
  method: "GET",
  path: "/computeruse/recordings/{id}",
  params: ComputerUseDto.RecordingRef,
  success: Endpoint.json(ComputerUseDto.Recording),
  errors: [400, 404]
})

/**
 * `DELETE /computeruse/recordings/{id}`: removes a recording's file (409 while it records).
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseDeleteRecording = endpoint({
  name: "deleteRecording",
  method: "DELETE",
  path: "/computeruse/recordings/{id}",
  params: ComputerUseDto.RecordingRef,
  status: 204,
  errors: [400, 404, 409]
})

/**
 * `GET /computeruse/recordings/{id}/download`: the recording's bytes.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseDownloadRecording = endpoint({
  name: "downloadRecording",
  method: "GET",
  path: "/computeruse/recordings/{id}/download",
  params: ComputerUseDto.RecordingRef,
  success: Endpoint.binary,
  errors: [400, 404, 409]
})

/**
 * `GET /computeruse/a11y/tree?scope=&pid=&maxDepth=`: the AT-SPI accessibility tree.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseAccessibilityTree = endpoint({
  name: "getAccessibilityTree",
  method: "GET",
  path: "/computeruse/a11y/tree",
  query: ComputerUseDto.AccessibilityTreeQuery,
  success: Endpoint.json(ComputerUseDto.AccessibilityTreeResponse),
  errors: [400, 404]
})

/**
 * `POST /computeruse/a11y/find`: the nodes that match a filter, as a flat list.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseFindAccessibilityNodes = endpoint({
  name: "findAccessibilityNodes",
  method: "POST",
  path: "/computeruse/a11y/find",
  payload: Endpoint.json(ComputerUseDto.FindAccessibilityNodesRequest),
  success: Endpoint.json(ComputerUseDto.AccessibilityNodesResponse),
  errors: [400, 404],
  replay: "safe"
})

/**
 * `POST /computeruse/a11y/node/focus`.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseFocusAccessibilityNode = endpoint({
  name: "focusAccessibilityNode",
  method: "POST",
  path: "/computeruse/a11y/node/focus",
  payload: Endpoint.json(ComputerUseDto.AccessibilityNodeRequest),
  success: Endpoint.json(ComputerUseDto.EmptyResponse),
  errors: [400, 404],
  replay: "safe"
})

/**
 * `POST /computeruse/a11y/node/invoke`: runs one of a node's actions (its first by default).
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseInvokeAccessibilityNode = endpoint({
  name: "invokeAccessibilityNode",
  method: "POST",
  path: "/computeruse/a11y/node/invoke",
  payload: Endpoint.json(ComputerUseDto.AccessibilityInvokeRequest),
  success: Endpoint.json(ComputerUseDto.EmptyResponse),
  errors: [400, 404],
  replay: "unsafe"
})

/**
 * `POST /computeruse/a11y/node/value`: sets a node's text or value.
 *
 * @since 0.1.0
 * @category computer use
 */
export const computerUseSetAccessibilityNodeValue = endpoint({
  name: "setAccessibilityNodeValue",
  method: "POST",
  path: "/computeruse/a11y/node/value",
  payload: Endpoint.json(ComputerUseDto.AccessibilitySetValueRequest),
  success: Endpoint.json(ComputerUseDto.EmptyResponse),
  errors: [400, 404],
  replay: "safe"
})

// ---------------------------------------------------------------------------------------------
// pty
// ---------------------------------------------------------------------------------------------

const PtyRef = Schema.Struct({ sessionId: Schema.String })

/**
 * `POST /process/pty`: opens a pseudo-terminal session (a shell) under the id the caller chose. A
 * replay is harmless: when the lost first attempt opened it, the replay's 409 says so.
 *
 * @since 0.1.0
 * @category pty
 */
export const createPtySession = endpoint({
  name: "createPtySession",
  method: "POST",
  path: "/process/pty",
  payload: Endpoint.json(PtyCreateRequest),
  success: Endpoint.json(PtyCreateResponse),
  status: 201,
  errors: [400, 409],
  replay: "safe",
  alreadyDone: 409
})

/**
 * `GET /process/pty`: every PTY session whose shell runs (or has not started yet).
 *
 * @since 0.1.0
 * @category pty
 */
export const listPtySessions = endpoint({
  name: "listPtySessions",
  method: "GET",
  path: "/process/pty",
  success: Endpoint.json(PtyListResponse),
  errors: [400]
})

/**
 * `GET /process/pty/{sessionId}`.
 *
 * @since 0.1.0
 * @category pty
 */
export const getPtySession = endpoint({
  name: "getPtySession",
  method: "GET",
  path: "/process/pty/{sessionId}",
  params: PtyRef,
  success: Endpoint.json(PtySessionInfo),
  errors: [400, 404]
})

/**
 * `DELETE /process/pty/{sessionId}`: kills the session's shell and everything it started.
 *
 * @since 0.1.0
 * @category pty
 */
export const deletePtySession = endpoint({
  name: "deletePtySession",
  method: "DELETE",
  path: "/process/pty/{sessionId}",
  params: PtyRef,
  success: Endpoint.json(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  errors: [400, 404]
})

/**
 * `POST /process/pty/{sessionId}/resize`: sets the window size (the shell gets `SIGWINCH`); 410 when
 * the session is gone or its shell has ended.
 *
 * @since 0.1.0
 * @category pty
 */
export const resizePtySession = endpoint({
  name: "resizePtySession",
  method: "POST",
  path: "/process/pty/{sessionId}/resize",
  params: PtyRef,
  payload: Endpoint.json(PtyResizeRequest),
  success: Endpoint.json(PtySessionInfo),
  errors: [400, 404, 410],
  replay: "safe"
})

/**
 * `GET /process/pty/{sessionId}/connect`: a WebSocket to a session's terminal (see `PtyDto`).
 *
 * @since 0.1.0
 * @category pty
 */
export const connectPtySession = endpoint({
  name: "connectPtySession",
  method: "GET",
  path: "/process/pty/{sessionId}/connect",
  params: PtyRef,
  success: Endpoint.webSocket,
  errors: [400, 404]
})

/**
 * `GET /process/pty/create-connect?id=&cols=&rows=&cwd=`: creates a session and connects to it in one
 * WebSocket upgrade, its environment in a subprotocol (see `PtyDto.envsProtocolPrefix`). Daytona's
 * daemon serves it and the official SDK's `createPty` opens it, but the 0.216 generated client does
 * not list it (see `ContractDeviations`).
 *
 * @since 0.1.0
 * @category pty
 */
export const createAndConnectPtySession = endpoint({
  name: "createAndConnectPtySession",
  method: "GET",
  path: "/process/pty/create-connect",
  query: Schema.Struct({
    id: Required,
    cwd: Schema.optional(Schema.String),
    cols: Schema.optional(PtySideFromString("cols")),
    rows: Schema.optional(PtySideFromString("rows"))
  }),
  success: Endpoint.webSocket,
  errors: [400, 409],
  replay: "unsafe"
})

// ---------------------------------------------------------------------------------------------
// interpreter
// ---------------------------------------------------------------------------------------------

/**
 * `POST /process/interpreter/context`: starts a new interpreter context (a Python process of its own);
 * any language but `python` is refused with 400.
 *
 * @since 0.1.0
 * @category interpreter
 */
export const createInterpreterContext = endpoint({
  name: "createInterpreterContext",
  method: "POST",
  path: "/process/interpreter/context",
  payload: Endpoint.json(CreateContextRequest),
  success: Endpoint.json(InterpreterContext),
  errors: [400],
  replay: "unsafe"
})

/**
 * `GET /process/interpreter/context`: the contexts the caller created (not the default one).
 *
 * @since 0.1.0
 * @category interpreter
 */
export const listInterpreterContexts = endpoint({
  name: "listInterpreterContexts",
  method: "GET",
  path: "/process/interpreter/context",
  success: Endpoint.json(ListContextsResponse),
  errors: [400]
})

/**
 * `DELETE /process/interpreter/context/{id}`: ends a context's interpreter; the default context
 * cannot be deleted (400).
 *
 * @since 0.1.0
 * @category interpreter
 */
export const deleteInterpreterContext = endpoint({
  name: "deleteInterpreterContext",
  method: "DELETE",
  path: "/process/interpreter/context/{id}",
  params: Schema.Struct({ id: Schema.String }),
  success: Endpoint.json(Schema.Record({ key: Schema.String, value: Schema.String })),
  errors: [400, 404]
})

/**
 * `GET /process/interpreter/execute`: a WebSocket that runs one piece of code and streams what it
 * prints (see `InterpreterDto`).
 *
 * @since 0.1.0
 * @category interpreter
 */
export const executeInterpreterCode = endpoint({
  name: "executeInterpreterCode",
  method: "GET",
  path: "/process/interpreter/execute",
  success: Endpoint.webSocket,
  errors: [400],
  replay: "unsafe"
})

/**
 * Every toolbox endpoint, by the name its module exports it under.
 *
 * @since 0.1.0
 * @category endpoints
 */
export const endpoints: {
  readonly getVersion: typeof getVersion
  readonly getUserHomeDir: typeof getUserHomeDir
  readonly getWorkDir: typeof getWorkDir
  readonly getPorts: typeof getPorts
  readonly isPortInUse: typeof isPortInUse
  readonly listFiles: typeof listFiles
  readonly getFileInfo: typeof getFileInfo
  readonly createFolder: typeof createFolder
  readonly deleteFile: typeof deleteFile
  readonly moveFile: typeof moveFile
  readonly findInFiles: typeof findInFiles
  readonly searchFiles: typeof searchFiles
  readonly replaceInFiles: typeof replaceInFiles
  readonly setFilePermissions: typeof setFilePermissions
  readonly uploadFiles: typeof uploadFiles
  readonly uploadFileLegacy: typeof uploadFileLegacy
  readonly downloadFile: typeof downloadFile
  readonly downloadFiles: typeof downloadFiles
  readonly cloneRepository: typeof cloneRepository
  readonly getStatus: typeof getStatus
  readonly addFiles: typeof addFiles
  readonly commitChanges: typeof commitChanges
  readonly listBranches: typeof listBranches
  readonly createBranch: typeof createBranch
  readonly deleteBranch: typeof deleteBranch
  readonly checkoutBranch: typeof checkoutBranch
  readonly pushChanges: typeof pushChanges
  readonly pullChanges: typeof pullChanges
  readonly getCommitHistory: typeof getCommitHistory
  readonly executeCommand: typeof executeCommand
  readonly codeRun: typeof codeRun
  readonly createSession: typeof createSession
  readonly listSessions: typeof listSessions
  readonly getEntrypointSession: typeof getEntrypointSession
  readonly getEntrypointLogs: typeof getEntrypointLogs
  readonly getSession: typeof getSession
  readonly deleteSession: typeof deleteSession
  readonly sessionExecuteCommand: typeof sessionExecuteCommand
  readonly getSessionCommand: typeof getSessionCommand
  readonly getSessionCommandLogs: typeof getSessionCommandLogs
  readonly sendInput: typeof sendInput
  readonly lspStart: typeof lspStart
  readonly lspStop: typeof lspStop
  readonly lspDidOpen: typeof lspDidOpen
  readonly lspDidClose: typeof lspDidClose
  readonly lspCompletions: typeof lspCompletions
  readonly lspDocumentSymbols: typeof lspDocumentSymbols
  readonly lspWorkspaceSymbols: typeof lspWorkspaceSymbols
  // Lifecycle of Daytona 0.216
  readonly getSystemMetrics: typeof getSystemMetrics
  readonly computerUseStart: typeof computerUseStart
  readonly computerUseStop: typeof computerUseStop
  readonly computerUseProcessesStatus: typeof computerUseProcessesStatus
  readonly computerUseSystemStatus: typeof computerUseSystemStatus
  readonly computerUseProcessStatus: typeof computerUseProcessStatus
  readonly computerUseRestartProcess: typeof computerUseRestartProcess
  readonly computerUseProcessLogs: typeof computerUseProcessLogs
  readonly computerUseProcessErrors: typeof computerUseProcessErrors
  readonly computerUseMousePosition: typeof computerUseMousePosition
  readonly computerUseMouseMove: typeof computerUseMouseMove
  readonly computerUseMouseClick: typeof computerUseMouseClick
  readonly computerUseMouseDrag: typeof computerUseMouseDrag
  readonly computerUseMouseScroll: typeof computerUseMouseScroll
  readonly computerUseTypeText: typeof computerUseTypeText
  readonly computerUsePressKey: typeof computerUsePressKey
  readonly computerUsePressHotkey: typeof computerUsePressHotkey
  readonly computerUseScreenshot: typeof computerUseScreenshot
  readonly computerUseRegionScreenshot: typeof computerUseRegionScreenshot
  readonly computerUseCompressedScreenshot: typeof computerUseCompressedScreenshot
  readonly computerUseCompressedRegionScreenshot: typeof computerUseCompressedRegionScreenshot
  readonly computerUseDisplayInfo: typeof computerUseDisplayInfo
  readonly computerUseWindows: typeof computerUseWindows
  readonly computerUseStartRecording: typeof computerUseStartRecording
  readonly computerUseStopRecording: typeof computerUseStopRecording
  readonly computerUseListRecordings: typeof computerUseListRecordings
  readonly computerUseGetRecording: typeof computerUseGetRecording
  readonly computerUseDeleteRecording: typeof computerUseDeleteRecording
  readonly computerUseDownloadRecording: typeof computerUseDownloadRecording
  readonly computerUseAccessibilityTree: typeof computerUseAccessibilityTree
  readonly computerUseFindAccessibilityNodes: typeof computerUseFindAccessibilityNodes
  readonly computerUseFocusAccessibilityNode: typeof computerUseFocusAccessibilityNode
  readonly computerUseInvokeAccessibilityNode: typeof computerUseInvokeAccessibilityNode
  readonly computerUseSetAccessibilityNodeValue: typeof computerUseSetAccessibilityNodeValue
  readonly createPtySession: typeof createPtySession
  readonly listPtySessions: typeof listPtySessions
  readonly getPtySession: typeof getPtySession
  readonly deletePtySession: typeof deletePtySession
  readonly resizePtySession: typeof resizePtySession
  readonly connectPtySession: typeof connectPtySession
  readonly createAndConnectPtySession: typeof createAndConnectPtySession
  readonly createInterpreterContext: typeof createInterpreterContext
  readonly listInterpreterContexts: typeof listInterpreterContexts
  readonly deleteInterpreterContext: typeof deleteInterpreterContext
  readonly executeInterpreterCode: typeof executeInterpreterCode
  readonly initRepository: typeof initRepository
  readonly resetChanges: typeof resetChanges
  readonly restoreFiles: typeof restoreFiles
  readonly addRemote: typeof addRemote
  readonly listRemotes: typeof listRemotes
  readonly getGitConfig: typeof getGitConfig
  readonly setGitConfig: typeof setGitConfig
  readonly configureUser: typeof configureUser
  readonly authenticate: typeof authenticate
  readonly updateEnv: typeof updateEnv
  readonly uploadFile: typeof uploadFile
} = {
  getVersion,
  getUserHomeDir,
  getWorkDir,
  getPorts,
  isPortInUse,
  listFiles,
  getFileInfo,
  createFolder,
  deleteFile,
  moveFile,
  findInFiles,
  searchFiles,
  replaceInFiles,
  setFilePermissions,
  uploadFiles,
  uploadFileLegacy,
  downloadFile,
  downloadFiles,
  cloneRepository,
  getStatus,
  addFiles,
  commitChanges,
  listBranches,
  createBranch,
  deleteBranch,
  checkoutBranch,
  pushChanges,
  pullChanges,
  getCommitHistory,
  executeCommand,
  codeRun,
  createSession,
  listSessions,
  getEntrypointSession,
  getEntrypointLogs,
  getSession,
  deleteSession,
  sessionExecuteCommand,
  getSessionCommand,
  getSessionCommandLogs,
  sendInput,
  lspStart,
  lspStop,
  lspDidOpen,
  lspDidClose,
  lspCompletions,
  lspDocumentSymbols,
  lspWorkspaceSymbols,
  computerUseStart,
  computerUseStop,
  computerUseProcessesStatus,
  computerUseSystemStatus,
  computerUseProcessStatus,
  computerUseRestartProcess,
  computerUseProcessLogs,
  computerUseProcessErrors,
  computerUseMousePosition,
  computerUseMouseMove,
  computerUseMouseClick,
  computerUseMouseDrag,
  computerUseMouseScroll,
  computerUseTypeText,
  computerUsePressKey,
  computerUsePressHotkey,
  computerUseScreenshot,
  computerUseRegionScreenshot,
  computerUseCompressedScreenshot,
  computerUseCompressedRegionScreenshot,
  computerUseDisplayInfo,
  computerUseWindows,
  computerUseStartRecording,
  computerUseStopRecording,
  computerUseListRecordings,
  computerUseGetRecording,
  computerUseDeleteRecording,
  computerUseDownloadRecording,
  computerUseAccessibilityTree,
  computerUseFindAccessibilityNodes,
  computerUseFocusAccessibilityNode,
  computerUseInvokeAccessibilityNode,
  computerUseSetAccessibilityNodeValue,
  createPtySession,
  listPtySessions,
  getPtySession,
  deletePtySession,
  resizePtySession,
  connectPtySession,
  createAndConnectPtySession,
  createInterpreterContext,
  listInterpreterContexts,
  deleteInterpreterContext,
  executeInterpreterCode,
  initRepository,
  resetChanges,
  restoreFiles,
  addRemote,
  listRemotes,
  getGitConfig,
  setGitConfig,
  configureUser,
  authenticate,
  updateEnv,
  uploadFile,
  // Lifecycle of Daytona 0.216
  getSystemMetrics
}
