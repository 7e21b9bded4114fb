/**
 * The example backend's HTTP API, declared once with `@effect/platform`'s `HttpApi`: the server is
 * built from it (`RunApiLive.ts`), and so are its OpenAPI document (`GET /openapi.json`) and any
 * typed client (`HttpApiClient.make(RunApi)`).
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"

/** The languages code can be run in (each is a `code-toolbox-language` of Daytona's sandboxes). */
export const Language = Schema.Literal("python", "typescript", "javascript")

/** A language of {@link Language}. */
export type Language = typeof Language.Type

const TimeoutSeconds = Schema.Int.pipe(Schema.between(1, 300))

/** `POST /run`: code to run once in a fresh sandbox from the pool. */
export class RunRequest extends Schema.Class<RunRequest>("RunRequest")({
  language: Language,
  code: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100_000)),
  /** The run's deadline, sandbox lease included; default 30 seconds. */
  timeoutSeconds: Schema.optional(TimeoutSeconds)
}) {}

/** What a run or a session command printed (stdout and stderr together) and how it ended. */
export class RunResult extends Schema.Class<RunResult>("RunResult")({
  output: Schema.String,
  exitCode: Schema.Int,
  /** From the request's arrival to the end of the command, lease included. */
  durationMs: Schema.Number
}) {}

/** `POST /sessions`: a sandbox leased for multi-step work. */
export class SessionRequest extends Schema.Class<SessionRequest>("SessionRequest")({
  language: Schema.optionalWith(Language, { default: () => "python" as const })
}) {}

/** A session: its id, and how long it may stay unused before it is closed. */
export class SessionInfo extends Schema.Class<SessionInfo>("SessionInfo")({
  sessionId: Schema.String,
  language: Language,
  idleTimeoutSeconds: Schema.Number
}) {}

/** A shell command to run in a session (state such as files and the working directory persists). */
export class ExecRequest extends Schema.Class<ExecRequest>("ExecRequest")({
  command: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100_000)),
  timeoutSeconds: Schema.optional(TimeoutSeconds)
}) {}

/** The run or command did not finish within its deadline (its sandbox is deleted). */
export class RunTimeout extends Schema.TaggedError<RunTimeout>()(
  "RunTimeout",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 408 })
) {}

/** No sandbox could be had in time: the pool is exhausted, Daytona's quota is used up, or shutdown began. */
export class Unavailable extends Schema.TaggedError<Unavailable>()(
  "Unavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** Daytona failed the call (the sandbox broke, or the API answered with an error). */
export class SandboxFailure extends Schema.TaggedError<SandboxFailure>()(
  "SandboxFailure",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 502 })
) {}

/** No open session has this id (it may have been closed for being idle). */
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()(
  "SessionNotFound",
  { sessionId: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

const sessionPath = Schema.Struct({ sessionId: Schema.String })

/** Server-sent events: `stdout` and `stderr` events carry text, the last event `exit` the exit code. */
const EventStream = Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/event-stream" }))

/** Running code and sessions. */
export class RunGroup extends HttpApiGroup.make("run")
  .add(
    HttpApiEndpoint.post("run", "/run")
      .setPayload(RunRequest)
      .addSuccess(RunResult)
      .addError(RunTimeout)
      .addError(Unavailable)
      .addError(SandboxFailure)
      .annotate(OpenApi.Summary, "Run code once in a pooled sandbox")
  )
  .add(
    HttpApiEndpoint.post("createSession", "/sessions")
      .setPayload(SessionRequest)
      .addSuccess(SessionInfo, { status: 201 })
      .addError(Unavailable)
      .addError(SandboxFailure)
      .annotate(OpenApi.Summary, "Lease a sandbox for multi-step work")
  )
  .add(
    HttpApiEndpoint.post("exec", "/sessions/:sessionId/exec")
      .setPath(sessionPath)
      .setPayload(ExecRequest)
      .addSuccess(RunResult)
      .addError(SessionNotFound)
      .addError(RunTimeout)
      .addError(Unavailable)
      .addError(SandboxFailure)
      .annotate(OpenApi.Summary, "Run a shell command in a session and wait for it")
  )
  .add(
    HttpApiEndpoint.post("stream", "/sessions/:sessionId/stream")
      .setPath(sessionPath)
      .setPayload(ExecRequest)
      .addSuccess(EventStream)
      .addError(SessionNotFound)
      .addError(RunTimeout)
      .addError(Unavailable)
      .addError(SandboxFailure)
      .annotate(OpenApi.Summary, "Run a shell command in a session, its output followed as server-sent events")
  )
  .add(
    HttpApiEndpoint.del("closeSession", "/sessions/:sessionId")
      .setPath(sessionPath)
      .addSuccess(HttpApiSchema.NoContent)
      .addError(SessionNotFound)
      .annotate(OpenApi.Summary, "Close a session (its sandbox is deleted)")
  ) {}

/** Health and metrics. */
export class OpsGroup extends HttpApiGroup.make("ops")
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Schema.Struct({ status: Schema.Literal("ok") })))
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain" })))
      .annotate(OpenApi.Summary, "The SDK's and the pool's metrics in Prometheus' text format")
  ) {}

/** The whole API. */
export class RunApi extends HttpApi.make("run-service")
  .add(RunGroup)
  .add(OpsGroup)
  .annotate(OpenApi.Title, "effect-daytona example backend")
  .annotate(OpenApi.Description, "Runs untrusted code in Daytona sandboxes served from a warm pool") {}
