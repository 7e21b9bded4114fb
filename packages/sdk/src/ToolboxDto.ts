/**
 * Schemas of the toolbox daemon's JSON bodies (files, git, processes, sessions, LSP), defined once:
 * the SDK decodes answers and the local server decodes requests with them. Names follow
 * `daytona-toolbox.openapi.yaml`; answers are decoded tolerantly (unknown enum values are kept,
 * `null` is accepted where the Go daemon may send it).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional
const StringMap = Schema.Record({ key: Schema.String, value: Schema.String })

// ---------------------------------------------------------------------------------------------
// files
// ---------------------------------------------------------------------------------------------

/**
 * A file or directory as the toolbox lists it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FileInfo = Schema.Struct({
  name: Schema.String,
  isDir: Schema.Boolean,
  size: Schema.Number,
  mode: Schema.String,
  permissions: Schema.String,
  owner: Schema.String,
  group: Schema.String,
  /** Go's `time.String()` layout; prefer `modifiedAt`. */
  modTime: Schema.String,
  /** RFC 3339 (missing on old daemons). */
  modifiedAt: optional(Schema.String),
  path: optional(Schema.String)
}).annotations({ identifier: "FileInfo" })

/**
 * @since 0.1.0
 * @category models
 */
export type FileInfo = typeof FileInfo.Type

/**
 * One line matched by a content search (`GET /files/find`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Match = Schema.Struct({
  file: Schema.String,
  line: Schema.Number,
  content: Schema.String
}).annotations({ identifier: "Match" })

/**
 * @since 0.1.0
 * @category models
 */
export type Match = typeof Match.Type

/**
 * The answer of a glob search on file names (`GET /files/search`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SearchFilesResponse = Schema.Struct({
  files: Schema.optionalWith(Schema.Array(Schema.String), { nullable: true, default: () => [] })
}).annotations({ identifier: "SearchFilesResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type SearchFilesResponse = typeof SearchFilesResponse.Type

/**
 * The body of `POST /files/replace`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReplaceRequest = Schema.Struct({
  files: Schema.Array(Schema.String),
  pattern: Schema.String,
  newValue: Schema.String
}).annotations({ identifier: "ReplaceRequest" })

/**
 * The outcome of a replacement in one file.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ReplaceResult = Schema.Struct({
  file: optional(Schema.String),
  success: optional(Schema.Boolean),
  error: optional(Schema.String)
}).annotations({ identifier: "ReplaceResult" })

/**
 * @since 0.1.0
 * @category models
 */
export type ReplaceResult = typeof ReplaceResult.Type

/**
 * The body of `POST /files/bulk-download`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FilesDownloadRequest = Schema.Struct({
  paths: Schema.Array(Schema.String)
}).annotations({ identifier: "FilesDownloadRequest" })

/**
 * One file written by a bulk upload.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadedFile = Schema.Struct({
  path: Schema.String,
  bytes: Schema.Number
}).annotations({ identifier: "UploadedFile" })

/**
 * @since 0.1.0
 * @category models
 */
export type UploadedFile = typeof UploadedFile.Type

/**
 * The answer of `POST /files/bulk-upload` (200 on success; 400 with `errors` on a partial failure).
 * It is not in the spec; the daemon's `upload_files.go` writes it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UploadFilesResponse = Schema.Struct({
  files: Schema.optionalWith(Schema.Array(UploadedFile), { nullable: true, default: () => [] }),
  errors: optional(Schema.Array(Schema.String))
}).annotations({ identifier: "UploadFilesResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type UploadFilesResponse = typeof UploadFilesResponse.Type

// ---------------------------------------------------------------------------------------------
// git
// ---------------------------------------------------------------------------------------------

/**
 * The git file statuses the daemon reports.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownGitFileStatuses = [
  "Unmodified",
  "Untracked",
  "Modified",
  "Added",
  "Deleted",
  "Renamed",
  "Copied",
  "Updated but unmerged"
] as const

/**
 * A git file status: one of {@link knownGitFileStatuses}, or any string a newer daemon sends.
 *
 * @since 0.1.0
 * @category models
 */
export type GitFileStatus = (typeof knownGitFileStatuses)[number] | (string & {})

/**
 * @since 0.1.0
 * @category schemas
 */
export const GitFileStatus: Schema.Schema<GitFileStatus, string> = Schema.String.annotations({
  identifier: "Status",
  description: `One of ${knownGitFileStatuses.join(", ")}; unknown values are kept as they are.`
}) as Schema.Schema<GitFileStatus, string>

/**
 * The status of one file in the index and the work tree.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FileStatus = Schema.Struct({
  name: Schema.String,
  staging: GitFileStatus,
  worktree: GitFileStatus,
  extra: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" })
}).annotations({ identifier: "FileStatus" })

/**
 * @since 0.1.0
 * @category models
 */
export type FileStatus = typeof FileStatus.Type

/**
 * The status of a repository (`GET /git/status`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitStatus = Schema.Struct({
  currentBranch: Schema.String,
  fileStatus: Schema.optionalWith(Schema.Array(FileStatus), { nullable: true, default: () => [] }),
  ahead: optional(Schema.Number),
  behind: optional(Schema.Number),
  branchPublished: optional(Schema.Boolean)
}).annotations({ identifier: "GitStatus" })

/**
 * @since 0.1.0
 * @category models
 */
export type GitStatus = typeof GitStatus.Type

/**
 * The body of `POST /git/clone` (snake_case keys, as the daemon reads them).
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitCloneRequest = Schema.Struct({
  url: Schema.String,
  path: Schema.String,
  branch: Schema.optional(Schema.String),
  commit_id: Schema.optional(Schema.String),
  username: Schema.optional(Schema.String),
  password: Schema.optional(Schema.String),
  insecure_skip_tls: Schema.optional(Schema.Boolean),
  depth: Schema.optional(
    Schema.Number.pipe(
      Schema.filter((n) => Number.isInteger(n) && n >= 1, { message: () => "depth must be a positive integer" })
    )
  )
}).annotations({ identifier: "GitCloneRequest" })

/**
 * The body of `POST /git/commit`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitCommitRequest = Schema.Struct({
  path: Schema.String,
  message: Schema.String,
  author: Schema.String,
  email: Schema.String,
  allow_empty: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "GitCommitRequest" })

/**
 * The answer of `POST /git/commit`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitCommitResponse = Schema.Struct({ hash: Schema.String }).annotations({
  identifier: "GitCommitResponse"
})

/**
 * One commit of `GET /git/history`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitCommitInfo = Schema.Struct({
  hash: Schema.String,
  author: Schema.String,
  email: Schema.String,
  message: Schema.String,
  timestamp: Schema.String
}).annotations({ identifier: "GitCommitInfo" })

/**
 * @since 0.1.0
 * @category models
 */
export type GitCommitInfo = typeof GitCommitInfo.Type

/**
 * The answer of `GET /git/branches`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListBranchResponse = Schema.Struct({
  branches: Schema.optionalWith(Schema.Array(Schema.String), { nullable: true, default: () => [] })
}).annotations({ identifier: "ListBranchResponse" })

/**
 * The body of `POST /git/add`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitAddRequest = Schema.Struct({
  path: Schema.String,
  files: Schema.Array(Schema.String)
}).annotations({ identifier: "GitAddRequest" })

/**
 * The body of `POST /git/branches` and `DELETE /git/branches`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitBranchRequest = Schema.Struct({
  path: Schema.String,
  name: Schema.String
}).annotations({ identifier: "GitBranchRequest" })

/**
 * The body of `POST /git/checkout`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitCheckoutRequest = Schema.Struct({
  path: Schema.String,
  branch: Schema.String
}).annotations({ identifier: "GitCheckoutRequest" })

/**
 * The body of `POST /git/push` and `POST /git/pull`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitRepoRequest = Schema.Struct({
  path: Schema.String,
  username: Schema.optional(Schema.String),
  password: Schema.optional(Schema.String)
}).annotations({ identifier: "GitRepoRequest" })

/**
 * The body of `POST /git/push`: the remote (default `origin`) and branch (default the current one)
 * to push, and whether to set the upstream.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitPushRequest = Schema.Struct({
  path: Schema.String,
  username: Schema.optional(Schema.String),
  password: Schema.optional(Schema.String),
  branch: Schema.optional(Schema.String),
  remote: Schema.optional(Schema.String),
  set_upstream: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "GitPushRequest" })

/**
 * The body of `POST /git/pull`: the remote and branch to pull (default: the upstream).
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitPullRequest = Schema.Struct({
  path: Schema.String,
  username: Schema.optional(Schema.String),
  password: Schema.optional(Schema.String),
  branch: Schema.optional(Schema.String),
  remote: Schema.optional(Schema.String)
}).annotations({ identifier: "GitPullRequest" })

/**
 * The body of `POST /git/init`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitInitRequest = Schema.Struct({
  path: Schema.String,
  bare: Schema.optional(Schema.Boolean),
  initial_branch: Schema.optional(Schema.String)
}).annotations({ identifier: "GitInitRequest" })

/**
 * The modes of `git reset`.
 *
 * @since 0.1.0
 * @category constants
 */
export const gitResetModes = ["soft", "mixed", "hard", "merge", "keep"] as const

/**
 * The body of `POST /git/reset`: `mode` one of {@link gitResetModes} (default `mixed`), `target` a
 * revision (default `HEAD`), `files` to limit the reset to paths.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitResetRequest = Schema.Struct({
  path: Schema.String,
  mode: Schema.optional(Schema.String),
  target: Schema.optional(Schema.String),
  files: Schema.optional(Schema.Array(Schema.String))
}).annotations({ identifier: "GitResetRequest" })

/**
 * The body of `POST /git/restore`: restores the working tree (the default) and/or the index of
 * `files`, from `source` (a revision) or the index.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitRestoreRequest = Schema.Struct({
  path: Schema.String,
  files: Schema.Array(Schema.String),
  staged: Schema.optional(Schema.Boolean),
  worktree: Schema.optional(Schema.Boolean),
  source: Schema.optional(Schema.String)
}).annotations({ identifier: "GitRestoreRequest" })

/**
 * The body of `POST /git/remotes`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitAddRemoteRequest = Schema.Struct({
  path: Schema.String,
  name: Schema.String,
  url: Schema.String,
  fetch: Schema.optional(Schema.Boolean),
  overwrite: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "GitAddRemoteRequest" })

/**
 * A remote of a repository.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitRemote = Schema.Struct({ name: Schema.String, url: Schema.String }).annotations({
  identifier: "GitRemote"
})

/**
 * @since 0.1.0
 * @category models
 */
export type GitRemote = typeof GitRemote.Type

/**
 * The answer of `GET /git/remotes`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListRemotesResponse = Schema.Struct({
  remotes: Schema.optionalWith(Schema.Array(GitRemote), { nullable: true, default: () => [] })
}).annotations({ identifier: "ListRemotesResponse" })

/**
 * The scopes of git's configuration: `global` (the sandbox user's), `local` (one repository's,
 * which needs its path) and `system` (read-only in a local sandbox).
 *
 * @since 0.1.0
 * @category constants
 */
export const gitConfigScopes = ["global", "local", "system"] as const

/**
 * The answer of `GET /git/config`: the value, absent when the key is not set.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitConfigResponse = Schema.Struct({ value: optional(Schema.String) }).annotations({
  identifier: "GitConfigResponse"
})

/**
 * The body of `POST /git/config`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitSetConfigRequest = Schema.Struct({
  key: Schema.String,
  value: Schema.String,
  scope: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String)
}).annotations({ identifier: "GitSetConfigRequest" })

/**
 * The body of `POST /git/config/user`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitConfigureUserRequest = Schema.Struct({
  name: Schema.String,
  email: Schema.String,
  scope: Schema.optional(Schema.String),
  path: Schema.optional(Schema.String)
}).annotations({ identifier: "GitConfigureUserRequest" })

/**
 * The body of `POST /git/credentials`: credentials git keeps in its credential store (in plain text,
 * in the sandbox user's home).
 *
 * @since 0.1.0
 * @category schemas
 */
export const GitAuthenticateRequest = Schema.Struct({
  username: Schema.String,
  password: Schema.String,
  host: Schema.optional(Schema.String),
  protocol: Schema.optional(Schema.String)
}).annotations({ identifier: "GitAuthenticateRequest" })

// ---------------------------------------------------------------------------------------------
// environment and single-file uploads
// ---------------------------------------------------------------------------------------------

/**
 * The body of `POST /env`: variables to set, names to remove, and a value prefix whose variables
 * are removed (applied before `set`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateEnvRequest = Schema.Struct({
  set: Schema.optional(StringMap),
  unset: Schema.optional(Schema.Array(Schema.String)),
  unsetValuePrefix: Schema.optional(Schema.String)
}).annotations({ identifier: "UpdateEnvRequest" })

/**
 * The answer of `POST /files/upload-v2`: the file's name, its absolute path and its type.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SingleFileUploaded = Schema.Struct({
  name: Schema.String,
  path: Schema.String,
  type: Schema.String
}).annotations({ identifier: "SingleFileUploaded" })

// ---------------------------------------------------------------------------------------------
// process
// ---------------------------------------------------------------------------------------------

/**
 * The body of `POST /process/execute`; `timeout` is in seconds (absent or 0: none).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExecuteRequest = Schema.Struct({
  command: Schema.String,
  cwd: Schema.optional(Schema.String),
  envs: Schema.optional(StringMap),
  timeout: Schema.optional(Schema.Number)
}).annotations({ identifier: "ExecuteRequest" })

/**
 * The answer of `POST /process/execute`: stdout and stderr combined in `result`. Old daemons
 * named the exit code `code`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ExecuteResponse = Schema.Struct({
  result: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" }),
  exitCode: optional(Schema.Number),
  code: optional(Schema.Number)
}).annotations({ identifier: "ExecuteResponse" })

/**
 * One element of a chart (a line, a bar, a slice, a box…). Keys are the daemon's snake_case.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChartElement = Schema.Struct({
  type: optional(Schema.String),
  label: optional(Schema.String),
  title: optional(Schema.String),
  group: optional(Schema.String),
  value: optional(Schema.Union(Schema.String, Schema.Number)),
  angle: optional(Schema.Number),
  radius: optional(Schema.Number),
  points: optional(Schema.Array(Schema.Array(Schema.Union(Schema.Number, Schema.String)))),
  min: optional(Schema.Number),
  first_quartile: optional(Schema.Number),
  median: optional(Schema.Number),
  third_quartile: optional(Schema.Number),
  max: optional(Schema.Number),
  outliers: optional(Schema.Array(Schema.Number)),
  x_label: optional(Schema.String),
  y_label: optional(Schema.String),
  png: optional(Schema.String)
}).annotations({ identifier: "ChartElement" })

/**
 * @since 0.1.0
 * @category models
 */
export interface Chart {
  readonly type?: string | undefined
  readonly title?: string | undefined
  readonly png?: string | undefined
  readonly x_label?: string | undefined
  readonly y_label?: string | undefined
  readonly x_scale?: string | undefined
  readonly y_scale?: string | undefined
  readonly x_ticks?: ReadonlyArray<number | string> | undefined
  readonly y_ticks?: ReadonlyArray<number | string> | undefined
  readonly x_tick_labels?: ReadonlyArray<string> | undefined
  readonly y_tick_labels?: ReadonlyArray<string> | undefined
  /** Data of the chart; a composite chart's elements are charts themselves. */
  readonly elements?: ReadonlyArray<typeof ChartElement.Type | Chart> | undefined
}

/**
 * The wire form of a {@link Chart} (the daemon may send `null` for absent fields).
 *
 * @since 0.1.0
 * @category models
 */
export interface ChartEncoded {
  readonly type?: string | null | undefined
  readonly title?: string | null | undefined
  readonly png?: string | null | undefined
  readonly x_label?: string | null | undefined
  readonly y_label?: string | null | undefined
  readonly x_scale?: string | null | undefined
  readonly y_scale?: string | null | undefined
  readonly x_ticks?: ReadonlyArray<number | string> | null | undefined
  readonly y_ticks?: ReadonlyArray<number | string> | null | undefined
  readonly x_tick_labels?: ReadonlyArray<string> | null | undefined
  readonly y_tick_labels?: ReadonlyArray<string> | null | undefined
  readonly elements?: ReadonlyArray<typeof ChartElement.Encoded | ChartEncoded> | null | undefined
}

/**
 * A matplotlib chart produced by `codeRun` (`artifacts.charts`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Chart: Schema.Schema<Chart, ChartEncoded> = Schema.Struct({
  type: optional(Schema.String),
  title: optional(Schema.String),
  png: optional(Schema.String),
  x_label: optional(Schema.String),
  y_label: optional(Schema.String),
  x_scale: optional(Schema.String),
  y_scale: optional(Schema.String),
  x_ticks: optional(Schema.Array(Schema.Union(Schema.Number, Schema.String))),
  y_ticks: optional(Schema.Array(Schema.Union(Schema.Number, Schema.String))),
  x_tick_labels: optional(Schema.Array(Schema.String)),
  y_tick_labels: optional(Schema.Array(Schema.String)),
  elements: optional(
    Schema.Array(
      Schema.Union(
        Schema.suspend((): Schema.Schema<Chart, ChartEncoded> => Chart).pipe(
          Schema.filter((c) => c.elements !== undefined)
        ),
        ChartElement
      )
    )
  )
}).annotations({ identifier: "Chart" })

/**
 * The body of `POST /process/code-run`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CodeRunRequest = Schema.Struct({
  code: Schema.String,
  language: Schema.String,
  argv: Schema.optional(Schema.Array(Schema.String)),
  envs: Schema.optional(StringMap),
  timeout: Schema.optional(Schema.Number)
}).annotations({ identifier: "CodeRunRequest" })

/**
 * The answer of `POST /process/code-run`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CodeRunResponse = Schema.Struct({
  result: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" }),
  exitCode: optional(Schema.Number),
  code: optional(Schema.Number),
  artifacts: optional(
    Schema.Struct({
      charts: optional(Schema.Array(Schema.Unknown))
    })
  )
}).annotations({ identifier: "CodeRunResponse" })

/**
 * A command run in a session.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Command = Schema.Struct({
  id: Schema.String,
  command: Schema.String,
  exitCode: optional(Schema.Number)
}).annotations({ identifier: "Command" })

/**
 * @since 0.1.0
 * @category models
 */
export type Command = typeof Command.Type

/**
 * A session: a persistent shell and the commands run in it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Session = Schema.Struct({
  sessionId: Schema.String,
  commands: Schema.optionalWith(Schema.Array(Command), { nullable: true, default: () => [] })
}).annotations({ identifier: "Session" })

/**
 * @since 0.1.0
 * @category models
 */
export type Session = typeof Session.Type

/**
 * The body of `POST /process/session`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSessionRequest = Schema.Struct({ sessionId: Schema.String }).annotations({
  identifier: "CreateSessionRequest"
})

/**
 * The body of `POST /process/session/{sessionId}/exec`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionExecuteRequest = Schema.Struct({
  command: Schema.String,
  runAsync: Schema.optional(Schema.Boolean),
  async: Schema.optional(Schema.Boolean),
  suppressInputEcho: Schema.optional(Schema.Boolean)
}).annotations({ identifier: "SessionExecuteRequest" })

/**
 * The answer of a session exec: 200 with the output when run synchronously, 202 with only
 * `cmdId` when run asynchronously.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionExecuteResponse = Schema.Struct({
  cmdId: Schema.String,
  output: optional(Schema.String),
  stdout: optional(Schema.String),
  stderr: optional(Schema.String),
  exitCode: optional(Schema.Number)
}).annotations({ identifier: "SessionExecuteResponse" })

/**
 * The answer of `GET …/logs` without `follow` (JSON for protocol versions ≥ 0.167.0). `output`
 * is the raw log, markers included.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionCommandLogsResponse = Schema.Struct({
  output: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" }),
  stdout: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" }),
  stderr: Schema.optionalWith(Schema.String, { nullable: true, default: () => "" })
}).annotations({ identifier: "SessionCommandLogsResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type SessionCommandLogsResponse = typeof SessionCommandLogsResponse.Type

/**
 * The body of `POST …/command/{commandId}/input`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionSendInputRequest = Schema.Struct({ data: Schema.String }).annotations({
  identifier: "SessionSendInputRequest"
})

// ---------------------------------------------------------------------------------------------
// lsp
// ---------------------------------------------------------------------------------------------

/**
 * A zero-based position in a document.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LspPosition = Schema.Struct({
  line: Schema.Number,
  character: Schema.Number
}).annotations({ identifier: "LspPosition" })

/**
 * @since 0.1.0
 * @category models
 */
export type LspPosition = typeof LspPosition.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const LspRange = Schema.Struct({ start: LspPosition, end: LspPosition }).annotations({
  identifier: "LspRange"
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const LspLocation = Schema.Struct({ uri: Schema.String, range: LspRange }).annotations({
  identifier: "LspLocation"
})

/**
 * A symbol found by the language server.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LspSymbol = Schema.Struct({
  name: Schema.String,
  kind: Schema.Number,
  location: LspLocation
}).annotations({ identifier: "LspSymbol" })

/**
 * @since 0.1.0
 * @category models
 */
export type LspSymbol = typeof LspSymbol.Type

/**
 * One completion proposal.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionItem = Schema.Struct({
  label: Schema.String,
  kind: optional(Schema.Number),
  detail: optional(Schema.String),
  documentation: optional(Schema.Unknown),
  sortText: optional(Schema.String),
  filterText: optional(Schema.String),
  insertText: optional(Schema.String)
}).annotations({ identifier: "CompletionItem" })

/**
 * The answer of `POST /lsp/completions`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CompletionList = Schema.Struct({
  isIncomplete: Schema.Boolean,
  items: Schema.optionalWith(Schema.Array(CompletionItem), { nullable: true, default: () => [] })
}).annotations({ identifier: "CompletionList" })

/**
 * @since 0.1.0
 * @category models
 */
export type CompletionList = typeof CompletionList.Type

/**
 * The body of `POST /lsp/start` and `POST /lsp/stop`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LspServerRequest = Schema.Struct({
  languageId: Schema.String,
  pathToProject: Schema.String
}).annotations({ identifier: "LspServerRequest" })

/**
 * The body of `POST /lsp/did-open` and `POST /lsp/did-close`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LspDocumentRequest = Schema.Struct({
  languageId: Schema.String,
  pathToProject: Schema.String,
  uri: Schema.String
}).annotations({ identifier: "LspDocumentRequest" })

/**
 * The body of `POST /lsp/completions`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LspCompletionParams = Schema.Struct({
  languageId: Schema.String,
  pathToProject: Schema.String,
  uri: Schema.String,
  position: LspPosition,
  context: Schema.optional(
    Schema.Struct({ triggerKind: Schema.Number, triggerCharacter: Schema.optional(Schema.String) })
  )
}).annotations({ identifier: "LspCompletionParams" })

// ---------------------------------------------------------------------------------------------
// ports
// ---------------------------------------------------------------------------------------------

/**
 * The TCP ports a process of the sandbox listens on (`GET /port`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PortList = Schema.Struct({
  ports: optional(Schema.Array(Schema.Number))
}).annotations({ identifier: "PortList" })

/**
 * @since 0.1.0
 * @category models
 */
export type PortList = typeof PortList.Type

/**
 * Whether a process of the sandbox listens on one TCP port (`GET /port/{port}/in-use`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const IsPortInUseResponse = Schema.Struct({
  isInUse: optional(Schema.Boolean)
}).annotations({ identifier: "IsPortInUseResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type IsPortInUseResponse = typeof IsPortInUseResponse.Type
