/**
 * The typed error family of the SDK.
 *
 * Every public operation fails only with members of this family, and its type lists exactly which
 * ones. A failure that the server reports by HTTP status is classified by that status; a failure
 * that never produced a response (connection refused, request timeout) has its own class; a wait
 * that ran out of time or ended in a failed sandbox has its own class too. No `HttpClientError`,
 * `ParseError` or defect escapes for anything a caller or a server can cause.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * What the server said, kept on every error that came from an HTTP response.
 *
 * The body excerpt is bounded and scrubbed of the API key; the path never includes the query
 * string, which can carry tokens.
 *
 * @since 0.1.0
 * @category models
 */
export const ResponseDetails = {
  /** HTTP status of the response. */
  status: Schema.Number,
  /** HTTP method of the request. */
  method: Schema.String,
  /** Request path, without the query string. */
  path: Schema.String,
  /** Daytona's machine code: the body's `code`, `error_code` or `error` field (the status text on the control plane). */
  errorCode: Schema.optional(Schema.String),
  /** Value of the response's `x-request-id` header, when the server sent one. */
  requestId: Schema.optional(Schema.String),
  /** The first bytes of the response body. */
  body: Schema.optional(Schema.String)
}

const responseFields = {
  message: Schema.String,
  ...ResponseDetails
}

/**
 * The resource does not exist, or is not visible to this organization (HTTP 404).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFoundError extends Schema.TaggedError<NotFoundError>("@effect-daytona/sdk/NotFoundError")(
  "NotFoundError",
  responseFields
) {}

/**
 * The credentials were missing, invalid or expired (HTTP 401).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>(
  "@effect-daytona/sdk/AuthenticationError"
)("AuthenticationError", responseFields) {}

/**
 * The credentials are valid but lack a permission, or the organization context is wrong (HTTP 403).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthorizationError extends Schema.TaggedError<AuthorizationError>(
  "@effect-daytona/sdk/AuthorizationError"
)("AuthorizationError", responseFields) {}

/**
 * The request clashes with the resource's current state: a transition in progress, a taken name
 * (HTTP 409).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConflictError extends Schema.TaggedError<ConflictError>("@effect-daytona/sdk/ConflictError")(
  "ConflictError",
  responseFields
) {}

/**
 * The input was rejected: by the SDK before any request was sent (no `status`), or by the server
 * (HTTP 400 and 422).
 *
 * @since 0.1.0
 * @category errors
 */
export class ValidationError extends Schema.TaggedError<ValidationError>("@effect-daytona/sdk/ValidationError")(
  "ValidationError",
  {
    message: Schema.String,
    /** The offending parameter, for errors raised by the SDK itself. */
    field: Schema.optional(Schema.String),
    status: Schema.optional(Schema.Number),
    method: Schema.optional(Schema.String),
    path: Schema.optional(Schema.String),
    errorCode: Schema.optional(Schema.String),
    requestId: Schema.optional(Schema.String),
    body: Schema.optional(Schema.String)
  }
) {}

/**
 * The server throttled the request (HTTP 429) and the retry policy gave up, or the server asked
 * for a longer pause than the configured maximum.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitedError extends Schema.TaggedError<RateLimitedError>("@effect-daytona/sdk/RateLimitedError")(
  "RateLimitedError",
  {
    ...responseFields,
    /** How long the server asked the client to wait (`Retry-After` or `Retry-After-<throttler>`). */
    retryAfter: Schema.optional(Schema.DurationFromSelf)
  }
) {}

/**
 * A command run in the sandbox exceeded its server-side timeout (toolbox HTTP 408).
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandTimeoutError extends Schema.TaggedError<CommandTimeoutError>(
  "@effect-daytona/sdk/CommandTimeoutError"
)("CommandTimeoutError", responseFields) {}

/**
 * No response arrived within the HTTP request timeout (`DaytonaConfig.requestTimeout` or the
 * operation's own request budget).
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeoutError extends Schema.TaggedError<RequestTimeoutError>(
  "@effect-daytona/sdk/RequestTimeoutError"
)("RequestTimeoutError", {
  method: Schema.String,
  path: Schema.String,
  timeout: Schema.DurationFromSelf,
  /**
   * Whether the request may have reached the server and run: set by the transport, `true` since the
   * request was sent and only its answer is missing. A replayable request has been replayed already;
   * for one that is not (a command, a commit) this says the work may have been done.
   */
  sent: Schema.optional(Schema.Boolean)
}) {
  /** @since 0.1.0 */
  get message(): string {
    return `${this.method} ${this.path}: no response within ${Duration.format(this.timeout)} (request timeout)`
  }
}

/**
 * The request did not complete at the network level: connection refused or reset, DNS failure,
 * a body that could not be encoded or read.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@effect-daytona/sdk/TransportError")(
  "TransportError",
  {
    reason: Schema.Literal("Connection", "Encode", "InvalidUrl", "Body"),
    method: Schema.String,
    path: Schema.String,
    /**
     * Whether the request may have reached the server and run. `false` only when it provably did not
     * (the connection never opened), and no earlier attempt of the same call may have run either.
     */
    sent: Schema.Boolean,
    description: Schema.String,
    cause: Schema.optional(Schema.Defect)
  }
) {
  /** @since 0.1.0 */
  get message(): string {
    return `${this.method} ${this.path}: ${this.reason.toLowerCase()} failure: ${this.description}`
  }
}

/**
 * The server answered with a status the operation does not expect (5xx, 410, …) or with a body
 * that does not match Daytona's contract.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponseError extends Schema.TaggedError<UnexpectedResponseError>(
  "@effect-daytona/sdk/UnexpectedResponseError"
)("UnexpectedResponseError", {
  ...responseFields,
  reason: Schema.Literal("Status", "InvalidBody"),
  /**
   * Whether the request may have run: `true` for a 5xx or 408 (a gateway or an overloaded server
   * may have passed it on) and for an answer that broke the contract (the server did answer), `false`
   * for a 4xx (the server refused it). Absent when the error did not come from a request.
   */
  sent: Schema.optional(Schema.Boolean)
}) {}

/**
 * An operation's deadline passed while it waited for the sandbox (or another resource) to reach a
 * state. `lastState` is the last state the SDK saw, if it saw one.
 *
 * @since 0.1.0
 * @category errors
 */
export class WaitTimeoutError extends Schema.TaggedError<WaitTimeoutError>("@effect-daytona/sdk/WaitTimeoutError")(
  "WaitTimeoutError",
  {
    operation: Schema.String,
    resourceId: Schema.optional(Schema.String),
    timeout: Schema.DurationFromSelf,
    awaited: Schema.String,
    lastState: Schema.optional(Schema.String)
  }
) {
  /** @since 0.1.0 */
  get message(): string {
    const subject = this.resourceId === undefined ? "" : ` ${this.resourceId}`
    const seen = this.lastState === undefined ? "no state seen yet" : `last state seen: ${this.lastState}`
    return `${this.operation}${subject}: not ${this.awaited} within ${Duration.format(this.timeout)} (${seen})`
  }
}

/**
 * The sandbox reached a failure state (`error` or `build_failed`) while the SDK waited for it.
 *
 * @since 0.1.0
 * @category errors
 */
export class SandboxFailedError extends Schema.TaggedError<SandboxFailedError>(
  "@effect-daytona/sdk/SandboxFailedError"
)("SandboxFailedError", {
  sandboxId: Schema.String,
  state: Schema.String,
  errorReason: Schema.optional(Schema.String),
  recoverable: Schema.optional(Schema.Boolean)
}) {
  /** @since 0.1.0 */
  get message(): string {
    const reason = this.errorReason === undefined || this.errorReason === "" ? "no reason given" : this.errorReason
    const hint = this.recoverable === true ? " (recoverable: call recover)" : ""
    return `sandbox ${this.sandboxId} is ${this.state}: ${reason}${hint}`
  }
}

/**
 * The snapshot reached a failure state (`error`, `build_failed`, or `removing` while the SDK waited
 * for `active`).
 *
 * @since 0.1.0
 * @category errors
 */
export class SnapshotFailedError extends Schema.TaggedError<SnapshotFailedError>(
  "@effect-daytona/sdk/SnapshotFailedError"
)("SnapshotFailedError", {
  snapshotId: Schema.String,
  name: Schema.String,
  state: Schema.String,
  errorReason: Schema.optional(Schema.String)
}) {
  /** @since 0.1.0 */
  get message(): string {
    const reason = this.errorReason === undefined || this.errorReason === "" ? "no reason given" : this.errorReason
    return `snapshot ${this.name} (${this.snapshotId}) is ${this.state}: ${reason}`
  }
}

/**
 * The volume reached a state from which it will not become `ready` (`error`, or one of the deletion
 * states) while the SDK waited for it.
 *
 * @since 0.1.0
 * @category errors
 */
export class VolumeFailedError extends Schema.TaggedError<VolumeFailedError>("@effect-daytona/sdk/VolumeFailedError")(
  "VolumeFailedError",
  {
    volumeId: Schema.String,
    name: Schema.String,
    state: Schema.String,
    errorReason: Schema.optional(Schema.String)
  }
) {
  /** @since 0.1.0 */
  get message(): string {
    const reason = this.errorReason === undefined || this.errorReason === "" ? "no reason given" : this.errorReason
    return `volume ${this.name} (${this.volumeId}) is ${this.state}: ${reason}`
  }
}

/**
 * Credentials are missing from the configuration. `variable` names the environment variable (or
 * option) to set.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingCredentialsError extends Schema.TaggedError<MissingCredentialsError>(
  "@effect-daytona/sdk/MissingCredentialsError"
)("MissingCredentialsError", {
  variable: Schema.String,
  message: Schema.String
}) {}

/**
 * A feature that this version of the SDK or the server it talks to does not provide.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedError extends Schema.TaggedError<UnsupportedError>("@effect-daytona/sdk/UnsupportedError")(
  "UnsupportedError",
  {
    feature: Schema.String,
    message: Schema.String
  }
) {}

/**
 * S3-compatible object storage refused a request of a build-context upload: `GET` of the bucket's
 * listing under `key` (a prefix), or `PUT` of the archive at `key`. `errorCode` and `errorMessage`
 * are the `Code` and `Message` of S3's XML error body, when it sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class ObjectStorageError extends Schema.TaggedError<ObjectStorageError>(
  "@effect-daytona/sdk/ObjectStorageError"
)("ObjectStorageError", {
  message: Schema.String,
  status: Schema.Number,
  method: Schema.String,
  bucket: Schema.String,
  key: Schema.String,
  errorCode: Schema.optional(Schema.String),
  errorMessage: Schema.optional(Schema.String),
  requestId: Schema.optional(Schema.String)
}) {}

/**
 * The local side of a build-context upload failed: no `FileSystem` (or `HttpClient`) service to read
 * the files with (or to send them with) (`MissingService`), a file or directory that could not be read (`ReadFailed`), or a file that
 * shrank between the moment its size was read and the moment it was sent (`FileChanged`).
 *
 * @since 0.1.0
 * @category errors
 */
export class BuildContextError extends Schema.TaggedError<BuildContextError>("@effect-daytona/sdk/BuildContextError")(
  "BuildContextError",
  {
    reason: Schema.Literal("MissingService", "ReadFailed", "FileChanged"),
    path: Schema.optional(Schema.String),
    message: Schema.String
  }
) {}

/**
 * Errors any call to Daytona can fail with, whatever the operation.
 *
 * @since 0.1.0
 * @category models
 */
export type ApiError =
  | AuthenticationError
  | AuthorizationError
  | RateLimitedError
  | RequestTimeoutError
  | TransportError
  | UnexpectedResponseError

/**
 * Errors that a response status maps to and that an operation may declare as expected. Statuses an
 * operation does not expect become {@link UnexpectedResponseError}.
 *
 * @since 0.1.0
 * @category models
 */
export type StatusError = NotFoundError | ConflictError | ValidationError | CommandTimeoutError

/**
 * Every member of the family.
 *
 * @since 0.1.0
 * @category models
 */
export type DaytonaError =
  | ApiError
  | StatusError
  | WaitTimeoutError
  | SandboxFailedError
  | SnapshotFailedError
  | VolumeFailedError
  | MissingCredentialsError
  | UnsupportedError
  | ObjectStorageError
  | BuildContextError

const tags: ReadonlySet<string> = new Set([
  "NotFoundError",
  "AuthenticationError",
  "AuthorizationError",
  "ConflictError",
  "ValidationError",
  "RateLimitedError",
  "CommandTimeoutError",
  "RequestTimeoutError",
  "TransportError",
  "UnexpectedResponseError",
  "WaitTimeoutError",
  "SandboxFailedError",
  "SnapshotFailedError",
  "VolumeFailedError",
  "MissingCredentialsError",
  "UnsupportedError",
  "ObjectStorageError",
  "BuildContextError"
])

/**
 * Tells whether a value is a member of the family.
 *
 * @since 0.1.0
 * @category guards
 */
export const isDaytonaError = (u: unknown): u is DaytonaError =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag) && u instanceof Error
