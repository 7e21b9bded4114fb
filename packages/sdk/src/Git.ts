/**
 * Git repositories inside a sandbox, driven by the toolbox daemon. Credentials travel only in
 * JSON bodies, as the daemon expects, never in URLs, span attributes or error messages.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { ApiError, ConflictError, NotFoundError, ValidationError } from "./DaytonaError.js"
import type * as Endpoint from "./Endpoint.js"
import type * as EndpointCall from "./internal/endpointCall.js"
import * as Transport from "./internal/transport.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import type { GitCommitInfo as GitCommitInfoType, GitStatus as GitStatusType } from "./ToolboxDto.js"

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
  /** Pushes the current branch (`POST /git/push`). */
  readonly push: (path: string, credentials?: Credentials) => Effect.Effect<void, GitError>
  /** Pulls into the current branch (`POST /git/pull`). */
  readonly pull: (path: string, credentials?: Credentials) => Effect.Effect<void, GitError>
  /** The commit log, newest first (`GET /git/history`). */
  readonly history: (path: string) => Effect.Effect<ReadonlyArray<GitCommitInfoType>, GitError>
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
    Effect.withSpan(`Git.${name}`, { attributes: { "daytona.sandbox.id": target.id, "daytona.path": path } })

  const scrubbed =
    (secrets: ReadonlyArray<string>) =>
    <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
      secrets.length === 0
        ? self
        : Effect.mapError(self, (error) => {
            if (typeof error !== "object" || error === null) return error
            const fields = error as unknown as Record<string, unknown>
            const clean: Record<string, unknown> = {}
            let changed = false
            for (const key of ["message", "body"]) {
              const value = fields[key]
              if (typeof value === "string") {
                const next = Transport.scrub(value, secrets)
                if (next !== value) changed = true
                clean[key] = next
              }
            }
            if (!changed) return error
            const Ctor = (error as { constructor: new (fields: Record<string, unknown>) => E }).constructor
            return new Ctor({ ...fields, ...clean })
          })

  // Git's endpoints are safe or unsafe, never convergent: their calls take no reconciliation.
  const call = <T extends Endpoint.Any>(endpoint: T, input: Endpoint.Input<T>, secrets: ReadonlyArray<string> = []) =>
    toolbox.call(target, endpoint, input, ...([] as unknown as EndpointCall.CallOptionsArgs<T>)).pipe(scrubbed(secrets))

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
            ...(options?.insecureSkipTls === undefined ? {} : { insecure_skip_tls: options.insecureSkipTls })
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
    push: (path, credentials) =>
      call(
        ToolboxApi.pushChanges,
        { payload: { path, ...credentialsBody(credentials) } },
        passwordOf(credentials)
      ).pipe(span("push", path)),
    pull: (path, credentials) =>
      call(
        ToolboxApi.pullChanges,
        { payload: { path, ...credentialsBody(credentials) } },
        passwordOf(credentials)
      ).pipe(span("pull", path)),
    history: (path) =>
      call(ToolboxApi.getCommitHistory, { query: { path } }).pipe(
        Effect.map((commits) => commits ?? []),
        span("history", path)
      )
  }
}
