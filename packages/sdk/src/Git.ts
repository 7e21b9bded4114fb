/**
 * Git repositories inside a sandbox, driven by the toolbox daemon. Credentials travel only in
 * JSON bodies, as the daemon expects, never in URLs, span attributes or error messages.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { type ApiError, type ConflictError, type NotFoundError, ValidationError } from "./DaytonaError.js"
import type * as Endpoint from "./Endpoint.js"
import type * as EndpointCall from "./internal/endpointCall.js"
import { scrubbed } from "./internal/scrubbed.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import type {
  GitCommitInfo as GitCommitInfoType,
  GitRemote as GitRemoteType,
  GitStatus as GitStatusType
} from "./ToolboxDto.js"
import { gitConfigScopes, gitResetModes } from "./ToolboxDto.js"
import * as Spans from "./internal/spans.js"

/**
 * Errors of a git operation: a missing repository or path (`NotFoundError`), a refused request or
 * a failing git command (`ValidationError`, `ConflictError`), or an API error.
 *
 * @since 0.1.0
 * @category models
 */
export type GitError = ApiError | NotFoundError | ValidationError | ConflictError

/**
 * Credentials for a remote; the password (or token) may be `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly username?: string | undefined
  readonly password?: string | Redacted.Redacted<string> | undefined
}

/**
 * Options of {@link Git.clone}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CloneOptions extends Credentials {
  readonly branch?: string | undefined
  readonly commitId?: string | undefined
  /** Skip TLS verification; only for trusted servers with private certificates. */
  readonly insecureSkipTls?: boolean | undefined
  /** A shallow clone with this many commits of history (a positive integer). */
  readonly depth?: number | undefined
}

/**
 * Options of {@link Git.push}: the remote (default `origin`), the branch (default the current
 * one) and whether to record it as the upstream.
 *
 * @since 0.1.0
 * @category models
 */
export interface PushOptions extends Credentials {
  readonly branch?: string | undefined
  readonly remote?: string | undefined
  readonly setUpstream?: boolean | undefined
}

/**
 * Options of {@link Git.pull}: the remote and branch to pull (default the upstream).
 *
 * @since 0.1.0
 * @category models
 */
export interface PullOptions extends Credentials {
  readonly branch?: string | undefined
  readonly remote?: string | undefined
}

/**
 * A mode of `git reset`.
 *
 * @since 0.1.0
 * @category models
 */
export type ResetMode = (typeof gitResetModes)[number]

/**
 * A scope of git's configuration: `global` (the sandbox user's), `local` (one repository's: give
 * its `path`) or `system`.
 *
 * @since 0.1.0
 * @category models
 */
export type ConfigScope = (typeof gitConfigScopes)[number]

/**
 * Where a configuration value is read or written.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  /** Default `global`. */
  readonly scope?: ConfigScope | undefined
  /** The repository, required with the `local` scope. */
  readonly path?: string | undefined
}

/**
 * The git operations of one sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export interface Git {
  /** Clones `url` into `path` (`POST /git/clone`). */
  readonly clone: (url: string, path: string, options?: CloneOptions) => Effect.Effect<void, GitError>
  /** The repository's branch, file statuses and tracking information (`GET /git/status`). */
  readonly status: (path: string) => Effect.Effect<GitStatusType, GitError>
  /** Stages files (`"."` for all) (`POST /git/add`). */
  readonly add: (path: string, files: ReadonlyArray<string>) => Effect.Effect<void, GitError>
  /** Commits the staged changes and returns the new commit's hash (`POST /git/commit`). */
  readonly commit: (
    path: string,
    message: string,
    author: string,
    email: string,
    options?: { readonly allowEmpty?: boolean | undefined }
  ) => Effect.Effect<{ readonly sha: string }, GitError>
  /** The local branches (`GET /git/branches`). */
  readonly branches: (path: string) => Effect.Effect<ReadonlyArray<string>, GitError>
  /** Creates a branch (`POST /git/branches`). */
  readonly createBranch: (path: string, name: string) => Effect.Effect<void, GitError>
  /** Deletes a branch (`DELETE /git/branches` with a JSON body). */
  readonly deleteBranch: (path: string, name: string) => Effect.Effect<void, GitError>
  /** Checks out a branch (`POST /git/checkout`). */
  readonly checkoutBranch: (path: string, branch: string) => Effect.Effect<void, GitError>
  /** Pushes the current branch, or `branch`, to `origin` or `remote` (`POST /git/push`). */
  readonly push: (path: string, options?: PushOptions) => Effect.Effect<void, GitError>
  /** Pulls into the current branch, from its upstream or `remote`/`branch` (`POST /git/pull`). */
  readonly pull: (path: string, options?: PullOptions) => Effect.Effect<void, GitError>
  /** The commit log, newest first (`GET /git/history`). */
  readonly history: (path: string) => Effect.Effect<ReadonlyArray<GitCommitInfoType>, GitError>
  /** Creates a repository, bare or with a working tree, on `initialBranch` (`POST /git/init`). */
  readonly init: (
    path: string,
    options?: { readonly bare?: boolean | undefined; readonly initialBranch?: string | undefined }
  ) => Effect.Effect<void, GitError>
  /** Resets HEAD (`mixed` to `HEAD` by default), or only `files` (`POST /git/reset`). */
  readonly reset: (
    path: string,
    options?: {
      readonly mode?: ResetMode | undefined
      readonly target?: string | undefined
      readonly files?: ReadonlyArray<string> | undefined
    }
  ) => Effect.Effect<void, GitError>
  /**
   * Restores files of the working tree (the default) and/or the index (`staged`), from `source` or
   * the index (`POST /git/restore`).
   */
  readonly restore: (
    path: string,
    files: ReadonlyArray<string>,
    options?: {
      readonly staged?: boolean | undefined
      readonly worktree?: boolean | undefined
      readonly source?: string | undefined
    }
  ) => Effect.Effect<void, GitError>
  /** The repository's remotes (`GET /git/remotes`). */
  readonly remotes: (path: string) => Effect.Effect<ReadonlyArray<GitRemoteType>, GitError>
  /** Adds a remote; `overwrite` replaces one of that name, `fetch` fetches it (`POST /git/remotes`). */
  readonly remoteAdd: (
    path: string,
    name: string,
    url: string,
    options?: { readonly fetch?: boolean | undefined; readonly overwrite?: boolean | undefined }
  ) => Effect.Effect<void, GitError>
  /** The URL of one remote, or none (read from `GET /git/remotes`). */
  readonly remoteGet: (path: string, name: string) => Effect.Effect<Option.Option<string>, GitError>
  /** Sets a configuration value (`POST /git/config`). */
  readonly setConfig: (key: string, value: string, options?: ConfigOptions) => Effect.Effect<void, GitError>
  /** A configuration value, or none when it is not set (`GET /git/config`). */
  readonly getConfig: (key: string, options?: ConfigOptions) => Effect.Effect<Option.Option<string>, GitError>
  /** Sets `user.name` and `user.email` (`POST /git/config/user`). */
  readonly configureUser: (name: string, email: string, options?: ConfigOptions) => Effect.Effect<void, GitError>
  /**
   * Stores credentials for `host` (default `github.com`) and `protocol` (default `https`) in git's
   * credential store inside the sandbox, in plain text in the sandbox user's home, so that later
   * operations against that host use them (`POST /git/credentials`).
   */
  readonly dangerouslyAuthenticate: (
    username: string,
    password: string | Redacted.Redacted<string>,
    options?: { readonly host?: string | undefined; readonly protocol?: string | undefined }
  ) => Effect.Effect<void, GitError>
}

const credentialsBody = (credentials: Credentials | undefined) => ({
  ...(credentials?.username === undefined ? {} : { username: credentials.username }),
  ...(credentials?.password === undefined
    ? {}
    : {
        password: Redacted.isRedacted(credentials.password)
          ? Redacted.value(credentials.password)
          : credentials.password
      })
})

const passwordOf = (credentials: Credentials | undefined): ReadonlyArray<string> =>
  credentials?.password === undefined
    ? []
    : [Redacted.isRedacted(credentials.password) ? Redacted.value(credentials.password) : credentials.password]

/**
 * Builds the git operations of one sandbox.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (target: ToolboxClient.Target, toolbox: ToolboxClient.Service): Git => {
  const span = (name: string, path: string) =>
    Spans.withSpan(`Git.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id, "daytona.path": path }
    })

  // Git's endpoints are safe or unsafe, never convergent: their calls take no reconciliation.
  const call = <T extends Endpoint.Any>(endpoint: T, input: Endpoint.Input<T>, secrets: ReadonlyArray<string> = []) =>
    toolbox.call(target, endpoint, input, ...([] as unknown as EndpointCall.CallOptionsArgs<T>)).pipe(scrubbed(secrets))

  const remotes = (path: string) =>
    call(ToolboxApi.listRemotes, { query: { path } }).pipe(
      Effect.map((answer) => answer.remotes),
      span("remotes", path)
    )

  return {
    clone: (url, path, options) =>
      call(
        ToolboxApi.cloneRepository,
        {
          payload: {
            url,
            path,
            ...(options?.branch === undefined ? {} : { branch: options.branch }),
            ...(options?.commitId === undefined ? {} : { commit_id: options.commitId }),
            ...credentialsBody(options),
            ...(options?.insecureSkipTls === undefined ? {} : { insecure_skip_tls: options.insecureSkipTls }),
            ...(options?.depth === undefined ? {} : { depth: options.depth })
          }
        },
        passwordOf(options)
      ).pipe(span("clone", path)),
    status: (path) => call(ToolboxApi.getStatus, { query: { path } }).pipe(span("status", path)),
    add: (path, files) => call(ToolboxApi.addFiles, { payload: { path, files } }).pipe(span("add", path)),
    commit: (path, message, author, email, options) =>
      call(ToolboxApi.commitChanges, {
        payload: {
          path,
          message,
          author,
          email,
          ...(options?.allowEmpty === undefined ? {} : { allow_empty: options.allowEmpty })
        }
      }).pipe(
        Effect.map((answer) => ({ sha: answer.hash })),
        span("commit", path)
      ),
    branches: (path) =>
      call(ToolboxApi.listBranches, { query: { path } }).pipe(
        Effect.map((answer) => answer.branches),
        span("branches", path)
      ),
    createBranch: (path, name) =>
      call(ToolboxApi.createBranch, { payload: { path, name } }).pipe(span("createBranch", path)),
    deleteBranch: (path, name) =>
      call(ToolboxApi.deleteBranch, { payload: { path, name } }).pipe(span("deleteBranch", path)),
    checkoutBranch: (path, branch) =>
      call(ToolboxApi.checkoutBranch, { payload: { path, branch } }).pipe(span("checkoutBranch", path)),
    push: (path, options) =>
      call(
        ToolboxApi.pushChanges,
        {
          payload: {
            path,
            ...credentialsBody(options),
            ...(options?.branch === undefined ? {} : { branch: options.branch }),
            ...(options?.remote === undefined ? {} : { remote: options.remote }),
            ...(options?.setUpstream === undefined ? {} : { set_upstream: options.setUpstream })
          }
        },
        passwordOf(options)
      ).pipe(span("push", path)),
    pull: (path, options) =>
      call(
        ToolboxApi.pullChanges,
        {
          payload: {
            path,
            ...credentialsBody(options),
            ...(options?.branch === undefined ? {} : { branch: options.branch }),
            ...(options?.remote === undefined ? {} : { remote: options.remote })
          }
        },
        passwordOf(options)
      ).pipe(span("pull", path)),
    history: (path) =>
      call(ToolboxApi.getCommitHistory, { query: { path } }).pipe(
        Effect.map((commits) => commits ?? []),
        span("history", path)
      ),
    init: (path, options) =>
      call(ToolboxApi.initRepository, {
        payload: {
          path,
          ...(options?.bare === undefined ? {} : { bare: options.bare }),
          ...(options?.initialBranch === undefined ? {} : { initial_branch: options.initialBranch })
        }
      }).pipe(span("init", path)),
    reset: (path, options) =>
      oneOf("mode", options?.mode, gitResetModes).pipe(
        Effect.zipRight(
          call(ToolboxApi.resetChanges, {
            payload: {
              path,
              ...(options?.mode === undefined ? {} : { mode: options.mode }),
              ...(options?.target === undefined ? {} : { target: options.target }),
              ...(options?.files === undefined ? {} : { files: options.files })
            }
          })
        ),
        span("reset", path)
      ),
    restore: (path, files, options) =>
      (files.length === 0
        ? Effect.fail(new ValidationError({ field: "files", message: "at least one file to restore is required" }))
        : Effect.void
      ).pipe(
        Effect.zipRight(
          call(ToolboxApi.restoreFiles, {
            payload: {
              path,
              files,
              ...(options?.staged === undefined ? {} : { staged: options.staged }),
              ...(options?.worktree === undefined ? {} : { worktree: options.worktree }),
              ...(options?.source === undefined ? {} : { source: options.source })
            }
          })
        ),
        span("restore", path)
      ),
    remotes,
    remoteAdd: (path, name, url, options) =>
      call(ToolboxApi.addRemote, {
        payload: {
          path,
          name,
          url,
          ...(options?.fetch === undefined ? {} : { fetch: options.fetch }),
          ...(options?.overwrite === undefined ? {} : { overwrite: options.overwrite })
        }
      }).pipe(span("remoteAdd", path)),
    remoteGet: (path, name) =>
      remotes(path).pipe(
        Effect.map((list) =>
          Option.map(Option.fromNullable(list.find((remote) => remote.name === name)), (r) => r.url)
        ),
        span("remoteGet", path)
      ),
    setConfig: (key, value, options) =>
      configTarget(options).pipe(
        Effect.zipRight(call(ToolboxApi.setGitConfig, { payload: { key, value, ...configFields(options) } })),
        span("setConfig", options?.path ?? "")
      ),
    getConfig: (key, options) =>
      configTarget(options).pipe(
        Effect.zipRight(call(ToolboxApi.getGitConfig, { query: { key, ...configFields(options) } })),
        Effect.map((answer) => Option.fromNullable(answer.value)),
        span("getConfig", options?.path ?? "")
      ),
    configureUser: (name, email, options) =>
      configTarget(options).pipe(
        Effect.zipRight(call(ToolboxApi.configureUser, { payload: { name, email, ...configFields(options) } })),
        span("configureUser", options?.path ?? "")
      ),
    dangerouslyAuthenticate: (username, password, options) => {
      const secret = Redacted.isRedacted(password) ? Redacted.value(password) : password
      const fields = [username, secret, options?.host ?? "", options?.protocol ?? ""]
      return (
        fields.some((field) => /[\r\n\u0000]/.test(field))
          ? Effect.fail(
              new ValidationError({
                field: "credentials",
                message: "credential fields must not contain newline or NUL characters"
              })
            )
          : Effect.void
      ).pipe(
        Effect.zipRight(
          call(
            ToolboxApi.authenticate,
            {
              payload: {
                username,
                password: secret,
                ...(options?.host === undefined ? {} : { host: options.host }),
                ...(options?.protocol === undefined ? {} : { protocol: options.protocol })
              }
            },
            [secret]
          )
        ),
        span("dangerouslyAuthenticate", "")
      )
    }
  }
}

const oneOf = (field: string, value: string | undefined, allowed: ReadonlyArray<string>) =>
  value === undefined || allowed.includes(value)
    ? Effect.void
    : Effect.fail(
        new ValidationError({ field, message: `${field} must be one of ${allowed.join(", ")}, got ${value}` })
      )

/** A configuration scope must be known, and `local` needs the repository's path. */
const configTarget = (options: ConfigOptions | undefined) =>
  oneOf("scope", options?.scope, gitConfigScopes).pipe(
    Effect.zipRight(
      options?.scope === "local" && (options.path === undefined || options.path === "")
        ? Effect.fail(new ValidationError({ field: "path", message: "path is required when scope is local" }))
        : Effect.void
    )
  )

const configFields = (options: ConfigOptions | undefined) => ({
  scope: options?.scope ?? "global",
  ...(options?.path === undefined ? {} : { path: options.path })
})
