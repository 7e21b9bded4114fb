/**
 * The toolbox daemon's endpoints the SDK calls and the local server serves, each declared once (see
 * `Endpoint`). Paths are relative to a sandbox's toolbox (`{toolboxProxyUrl}/{sandboxId}`); names are
 * the operation ids of Daytona's generated toolbox client, against whose snapshot the conformance test
 * checks every one.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
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
  GitRepoRequest,
  GitStatus,
  ListBranchResponse,
  LspCompletionParams,
  LspDocumentRequest,
  LspServerRequest,
  LspSymbol,
  Match,
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
import * as WireSchema from "./WireSchema.js"

const endpoint = Endpoint.make("toolbox")

/** A query parameter the daemon requires: "`name` is required" when absent or empty. */
const Required = Schema.String.pipe(Schema.filter((value) => value !== "", { message: () => "$property is required" }))

const Path = Schema.Struct({ path: Required })
const SessionRef = Schema.Struct({ sessionId: Schema.String })
const CommandRef = Schema.Struct({ sessionId: Schema.String, commandId: Schema.String })
const Directory = Schema.Struct({ dir: Schema.String })

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

// ---------------------------------------------------------------------------------------------
// files
// ---------------------------------------------------------------------------------------------

const fileErrors = [400, 404] as const

/**
 * `GET /files?path=`: the entries of a directory.
 *
 * @since 0.1.0
 * @category files
 */
export const listFiles = endpoint({
  name: "listFiles",
  method: "GET",
  path: "/files",
  query: Schema.Struct({ path: Schema.optional(Schema.String) }),
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
  payload: Endpoint.json(GitRepoRequest),
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
  payload: Endpoint.json(GitRepoRequest),
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
} = {
  getVersion,
  getUserHomeDir,
  getWorkDir,
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
  // Lifecycle of Daytona 0.216
  getSystemMetrics
}
