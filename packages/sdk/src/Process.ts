/**
 * Processes inside a sandbox: one-shot commands, code runs in the sandbox's language, and
 * sessions (persistent shells) whose commands can run in the background and whose logs can be
 * followed live.
 *
 * Three budgets stay apart: the server-side command `timeout` (the daemon kills the command and
 * answers 408, a `CommandTimeoutError`), the HTTP `requestTimeout` (no answer in time, a
 * `RequestTimeoutError`; by default the command timeout plus a margin), and the caller's own
 * deadline, if any, applied with `Effect.timeout`.
 *
 * Followed logs are a `Stream` over a WebSocket and need a {@link WebSocketConnector} (on Node:
 * `WebSocketConnector.layer(WebSocket)` with `ws`'s class); nothing else in this module does.
 *
 * @since 0.1.0
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Socket from "@effect/platform/Socket"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import {
  type ApiError,
  type CommandTimeoutError,
  type ConflictError,
  type NotFoundError,
  RequestTimeoutError,
  TransportError,
  ValidationError
} from "./DaytonaError.js"
import * as BackgroundCommand from "./BackgroundCommand.js"
import * as LogDemux from "./internal/logDemux.js"
import * as Transport from "./internal/transport.js"
import * as Pty from "./Pty.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import { Chart, type Command, type Session, SessionCommandLogsResponse } from "./ToolboxDto.js"
import type { WebSocketConnector } from "./WebSocketConnector.js"
import * as Spans from "./internal/spans.js"

/**
 * The label that carries a sandbox's code-run language.
 *
 * @since 0.1.0
 * @category constants
 */
export const languageLabel = "code-toolbox-language"

/**
 * The languages `codeRun` supports.
 *
 * @since 0.1.0
 * @category constants
 */
export const codeRunLanguages = ["python", "typescript", "javascript"] as const

/**
 * The sandbox a process operation goes to; `labels` gives `codeRun` its language. A sandbox DTO
 * fits as it is.
 *
 * @since 0.1.0
 * @category models
 */
export interface Target extends ToolboxClient.Target {
  readonly labels?: Readonly<Record<string, string>> | undefined
}

/**
 * The outcome of a command: its exit code and its output (stdout and stderr combined).
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecuteResult {
  readonly exitCode: number
  readonly result: string
  readonly artifacts: {
    /** The same text as `result`. */
    readonly stdout: string
    /** Charts a code run produced (matplotlib), when there are any. */
    readonly charts?: ReadonlyArray<Chart> | undefined
  }
}

/**
 * Options of {@link Process.executeCommand}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecuteOptions {
  readonly cwd?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Server-side timeout: the daemon kills the command (whole seconds, rounded up). Default: none. */
  readonly timeout?: Duration.DurationInput | undefined
  /** HTTP request timeout. Default: `timeout` + 30 s, else `DaytonaConfig.requestTimeout`. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * Options of {@link Process.codeRun}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodeRunOptions {
  readonly argv?: ReadonlyArray<string> | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Server-side timeout (whole seconds, rounded up). Default: none. */
  readonly timeout?: Duration.DurationInput | undefined
  /** HTTP request timeout. Default: `timeout` + 30 s, else `DaytonaConfig.requestTimeout`. */
  readonly requestTimeout?: Duration.DurationInput | undefined
}

/**
 * A command to run in a session.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionExecuteRequest {
  readonly command: string
  /** Answer at once with the command id (202) and keep stdin open for `sendSessionCommandInput`. */
  readonly runAsync?: boolean | undefined
  readonly suppressInputEcho?: boolean | undefined
}

/**
 * The answer of a session command: `cmdId` always; the output and exit code when it ran
 * synchronously.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionExecuteResult {
  readonly cmdId: string
  /** The raw log, stream markers included. */
  readonly output?: string | undefined
  readonly stdout: string
  readonly stderr: string
  readonly exitCode?: number | undefined
}

/**
 * The logs of a session command read at once.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionCommandLogs {
  /** The raw log, stream markers included. */
  readonly output: string
  readonly stdout: string
  readonly stderr: string
}

/**
 * A piece of followed output.
 *
 * @since 0.1.0
 * @category models
 */
export type LogChunk = LogDemux.LogChunk

/**
 * What a followed command log emits: stdout and stderr text as it arrives, then, last, the
 * command's exit code, once. A socket that drops, or closes before the command has an exit code, is
 * opened again and the follow resumes where it was (each byte of the log is emitted once); when the
 * retry policy gives up on it, the stream fails with `TransportError` rather than end as if the log
 * were complete.
 *
 * @since 0.1.0
 * @category models
 */
export type SessionLogEvent = LogChunk | { readonly _tag: "Exit"; readonly exitCode: number }

/**
 * Errors of a toolbox process call.
 *
 * @since 0.1.0
 * @category models
 */
export type ProcessError = ApiError | NotFoundError | ValidationError

/**
 * The process operations of one sandbox (terminals included, see `Pty`).
 *
 * @since 0.1.0
 * @category models
 */
export interface Process extends Pty.PtyOperations {
  /**
   * Runs a command (not through a shell: wrap pipes and `&&` in `bash -c '…'`) and waits for it
   * (`POST /process/execute`).
   */
  readonly executeCommand: (
    command: string,
    options?: ExecuteOptions
  ) => Effect.Effect<ExecuteResult, ProcessError | CommandTimeoutError>
  /**
   * Runs code in the sandbox's language (its `code-toolbox-language` label); a sandbox without a
   * supported label fails with `ValidationError` before any request (`POST /process/code-run`).
   */
  readonly codeRun: (
    code: string,
    options?: CodeRunOptions
  ) => Effect.Effect<ExecuteResult, ProcessError | CommandTimeoutError>
  /** Creates a session (`POST /process/session`); `ConflictError` when the id is taken. */
  readonly createSession: (sessionId: string) => Effect.Effect<void, ProcessError | ConflictError>
  /** A session and its commands (`GET /process/session/{id}`). */
  readonly getSession: (sessionId: string) => Effect.Effect<Session, ProcessError>
  /** Every session (`GET /process/session`). */
  readonly listSessions: Effect.Effect<ReadonlyArray<Session>, ProcessError>
  /** Deletes a session and kills its shell (`DELETE /process/session/{id}`). */
  readonly deleteSession: (sessionId: string) => Effect.Effect<void, ProcessError>
  /** The session that runs the sandbox's entrypoint (`GET /process/session/entrypoint`). */
  readonly getEntrypointSession: Effect.Effect<Session, ProcessError>
  /**
   * Runs a command in a session (`POST /process/session/{id}/exec`). Synchronously by default
   * (the answer has the output); with `runAsync` the answer is only the command id.
   */
  readonly executeSessionCommand: (
    sessionId: string,
    request: SessionExecuteRequest,
    options?: { readonly requestTimeout?: Duration.DurationInput | undefined }
  ) => Effect.Effect<SessionExecuteResult, ProcessError>
  /** A session command, with its exit code once it ended. */
  readonly getSessionCommand: (sessionId: string, commandId: string) => Effect.Effect<Command, ProcessError>
  /** Writes to the stdin of a command started with `runAsync`. */
  readonly sendSessionCommandInput: (
    sessionId: string,
    commandId: string,
    data: string
  ) => Effect.Effect<void, ProcessError>
  /** A command's logs so far, split into stdout and stderr. */
  readonly getSessionCommandLogs: (
    sessionId: string,
    commandId: string
  ) => Effect.Effect<SessionCommandLogs, ProcessError>
  /**
   * A command's logs as they are written, split into stdout and stderr, ending with its exit
   * code; resumed after a dropped socket with no duplicate and no gap (see {@link SessionLogEvent}).
   * Needs a {@link WebSocketConnector}.
   */
  readonly followSessionCommandLogs: (
    sessionId: string,
    commandId: string
  ) => Stream.Stream<SessionLogEvent, ProcessError, WebSocketConnector>
  /** The entrypoint's logs so far. */
  readonly getEntrypointLogs: Effect.Effect<SessionCommandLogs, ProcessError>
  /** The entrypoint's logs as they are written, until the entrypoint session ends; resumed like a command's. */
  readonly followEntrypointLogs: Stream.Stream<LogChunk, ProcessError, WebSocketConnector>
  /**
   * Starts `command` (through the session's shell) in a session made for it alone and answers at
   * once with its handle: output followed or read, stdin, the exit code awaited under a deadline,
   * `kill`. When the scope closes the session is deleted, which ends the command if it still runs.
   */
  readonly runInBackground: (
    command: string
  ) => Effect.Effect<BackgroundCommand.BackgroundCommand, ProcessError | ConflictError, Scope.Scope>
}

const requestMargin = Duration.seconds(30)
const socketOpenTimeout = Duration.seconds(30)

const seg = encodeURIComponent

const decodeDuration = (field: string, input: Duration.DurationInput | undefined) => {
  if (input === undefined) return Effect.succeed(undefined)
  const duration = Duration.decodeUnknown(input)
  return Option.isSome(duration) && Duration.greaterThan(duration.value, Duration.zero)
    ? Effect.succeed<Duration.Duration | undefined>(duration.value)
    : Effect.fail(new ValidationError({ field, message: `${field} must be a positive duration` }))
}

const budgets = (options: {
  readonly timeout?: Duration.DurationInput | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
}) =>
  Effect.gen(function* () {
    const server = yield* decodeDuration("timeout", options.timeout)
    const request = yield* decodeDuration("requestTimeout", options.requestTimeout)
    const seconds =
      server === undefined || !Duration.isFinite(server)
        ? undefined
        : Math.max(1, Math.ceil(Duration.toMillis(server) / 1000))
    const requestTimeout =
      request ?? (seconds === undefined ? undefined : Duration.sum(Duration.seconds(seconds), requestMargin))
    return { seconds, requestTimeout }
  })

const validEnvKey = /^[A-Za-z_][A-Za-z0-9_]*$/

const checkEnv = (env: Readonly<Record<string, string>> | undefined) => {
  const bad = env === undefined ? undefined : Object.keys(env).find((key) => !validEnvKey.test(key))
  return bad === undefined
    ? Effect.void
    : Effect.fail(
        new ValidationError({
          field: "env",
          message: `environment variable names must match ${validEnvKey.source}, got ${JSON.stringify(bad)}`
        })
      )
}

const decodeCharts = (charts: ReadonlyArray<unknown> | undefined): ReadonlyArray<Chart> | undefined => {
  if (charts === undefined) return undefined
  const decode = Schema.decodeUnknownOption(Chart)
  return charts.flatMap((chart) => Option.toArray(decode(chart)))
}

const socketFailure = (error: Socket.SocketError, path: string, timeout: Duration.Duration): ProcessError => {
  if (error.reason === "OpenTimeout") return new RequestTimeoutError({ method: "GET", path, timeout })
  if (error.reason === "Close") {
    return new TransportError({
      reason: "Connection",
      method: "GET",
      path,
      sent: true,
      description: `the log stream closed with code ${error.code}${error.closeReason ? `: ${error.closeReason}` : ""}`
    })
  }
  const cause = error.cause
  const text =
    cause instanceof Error
      ? cause.message
      : Predicate.hasProperty(cause, "message") && typeof cause.message === "string"
        ? cause.message
        : Predicate.hasProperty(cause, "error") && cause.error instanceof Error
          ? cause.error.message
          : String(cause)
  const status = /Unexpected server response: (\d{3})/.exec(text)
  if (error.reason === "Open" && status !== null) {
    const mapped = Transport.errorFromResponse({
      side: "toolbox",
      status: Number(status[1]),
      method: "GET",
      path,
      headers: {},
      bodyText: "",
      retryAfter: undefined,
      secrets: []
    })
    if (mapped._tag === "NotFoundError" || mapped._tag === "ValidationError") return mapped
    if (
      mapped._tag === "AuthenticationError" ||
      mapped._tag === "AuthorizationError" ||
      mapped._tag === "RateLimitedError" ||
      mapped._tag === "UnexpectedResponseError"
    ) {
      return mapped
    }
  }
  return new TransportError({
    reason: "Connection",
    method: "GET",
    path,
    sent: error.reason !== "Open",
    description: `log stream ${error.reason.toLowerCase()} failure: ${text}`,
    cause
  })
}

/**
 * Builds the process operations of one sandbox. `target.labels` is read once, here: a later
 * `setLabels` does not change this value's `codeRun` language.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (target: Target, toolbox: ToolboxClient.Service): Process => {
  const span = (name: string, attributes: Record<string, unknown> = {}) =>
    Spans.withSpan(`Process.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id, ...attributes }
    })
  const language = target.labels?.[languageLabel]
  const toolboxTarget: ToolboxClient.Target = { id: target.id, toolboxProxyUrl: target.toolboxProxyUrl }

  const toResult = (answer: {
    readonly result: string
    readonly exitCode?: number | undefined
    readonly code?: number | undefined
  }): ExecuteResult => ({
    exitCode: answer.exitCode ?? answer.code ?? 0,
    result: answer.result,
    artifacts: { stdout: answer.result }
  })

  const executeCommand: Process["executeCommand"] = (command, options = {}) =>
    Effect.gen(function* () {
      yield* checkEnv(options.env)
      const { seconds, requestTimeout } = yield* budgets(options)
      const body = {
        command,
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
        ...(options.env === undefined ? {} : { envs: options.env }),
        ...(seconds === undefined ? {} : { timeout: seconds })
      }
      const answer = yield* toolbox.call(
        toolboxTarget,
        ToolboxApi.executeCommand,
        { payload: body },
        requestTimeout === undefined ? {} : { timeout: requestTimeout }
      )
      return toResult(answer)
    }).pipe(span("executeCommand"))

  const codeRun: Process["codeRun"] = (code, options = {}) =>
    Effect.gen(function* () {
      if (language === undefined || !(codeRunLanguages as ReadonlyArray<string>).includes(language)) {
        return yield* new ValidationError({
          field: "language",
          message:
            language === undefined
              ? `the sandbox has no ${languageLabel} label, so codeRun does not know its language`
              : `the sandbox's ${languageLabel} label is ${JSON.stringify(language)}; codeRun supports ${codeRunLanguages.join(", ")}`
        })
      }
      yield* checkEnv(options.env)
      const { seconds, requestTimeout } = yield* budgets(options)
      const body = {
        code,
        language,
        ...(options.argv === undefined ? {} : { argv: options.argv }),
        ...(options.env === undefined ? {} : { envs: options.env }),
        ...(seconds === undefined ? {} : { timeout: seconds })
      }
      const answer = yield* toolbox.call(
        toolboxTarget,
        ToolboxApi.codeRun,
        { payload: body },
        requestTimeout === undefined ? {} : { timeout: requestTimeout }
      )
      const base = toResult(answer)
      const charts = decodeCharts(answer.artifacts?.charts)
      return charts === undefined ? base : { ...base, artifacts: { ...base.artifacts, charts } }
    }).pipe(span("codeRun", { "daytona.language": language ?? "" }))

  const getSession: Process["getSession"] = (sessionId) =>
    toolbox
      .call(toolboxTarget, ToolboxApi.getSession, { params: { sessionId } })
      .pipe(span("getSession", { "daytona.session.id": sessionId }))

  const getSessionCommand: Process["getSessionCommand"] = (sessionId, commandId) =>
    toolbox
      .call(toolboxTarget, ToolboxApi.getSessionCommand, { params: { sessionId, commandId } })
      .pipe(span("getSessionCommand"))

  const readLogs = (
    response: Effect.Effect<
      HttpClientResponse.HttpClientResponse,
      ToolboxClient.CallError<typeof ToolboxApi.getSessionCommandLogs>
    >
  ) =>
    Effect.gen(function* () {
      const answer = yield* response
      const isJson = (answer.headers["content-type"] ?? "").includes("json")
      if (isJson) return yield* Transport.decodeJson(SessionCommandLogsResponse)(answer)
      const text = yield* answer.text.pipe(Effect.orElseSucceed(() => ""))
      const chunks = LogDemux.demuxAll([new TextEncoder().encode(text)])
      const hasMarkers = chunks.length > 0
      return {
        output: text,
        stdout: hasMarkers
          ? chunks
              .filter((c) => c._tag === "Stdout")
              .map((c) => c.text)
              .join("")
          : text,
        stderr: chunks
          .filter((c) => c._tag === "Stderr")
          .map((c) => c.text)
          .join("")
      }
    })

  /**
   * A followed log's bytes over the daemon's WebSocket, which sends the whole log from its start on
   * every connection and closes (1000) once the log is complete. A connection that drops, or closes
   * while `complete` says the log is not, is opened again (paced by the retry policy, whose count
   * starts over whenever new bytes arrived) and the bytes already delivered are skipped: each byte of
   * the log reaches the stream once, in order. A failure that is not transient (401, 403, 404) ends it.
   */
  const resumable = (
    route: string,
    complete: Effect.Effect<boolean, ProcessError>
  ): Effect.Effect<Stream.Stream<Uint8Array, ProcessError>, never, Scope.Scope | WebSocketConnector> =>
    Effect.gen(function* () {
      const path = route.split("?")[0]!
      const mailbox = yield* Mailbox.make<Uint8Array, ProcessError>()
      const earlyClose = new TransportError({
        reason: "Connection",
        method: "GET",
        path,
        sent: true,
        description: "the log stream closed before the command ended, so the log may be incomplete"
      })
      let delivered = 0
      const connection = Effect.scoped(
        Effect.gen(function* () {
          let seen = 0
          const socket = yield* toolbox.socket(toolboxTarget, route, { openTimeout: socketOpenTimeout })
          yield* socket.run((bytes) => {
            const fresh = Math.max(0, delivered - seen)
            seen += bytes.length
            if (fresh < bytes.length) {
              delivered += bytes.length - fresh
              mailbox.unsafeOffer(fresh === 0 ? bytes : bytes.subarray(fresh))
            }
          })
        })
      ).pipe(
        Effect.mapError((error) => socketFailure(error, path, socketOpenTimeout)),
        Effect.zipRight(Effect.flatMap(complete, (done) => (done ? Effect.void : Effect.fail(earlyClose))))
      )
      const loop = Effect.gen(function* () {
        let driver = yield* Schedule.driver(toolbox.config.retryPolicy)
        for (let attempt = 1; ; attempt++) {
          const before = delivered
          const outcome = yield* Effect.either(connection)
          if (Either.isRight(outcome)) return
          const failure = outcome.left
          if (!Transport.isTransient(failure)) return yield* Effect.fail(failure)
          if (delivered > before) {
            driver = yield* Schedule.driver(toolbox.config.retryPolicy)
            attempt = 1
          }
          const next = yield* Effect.either(driver.next({ error: failure as ApiError, attempt, retryAfter: undefined }))
          if (Either.isLeft(next)) return yield* Effect.fail(failure)
        }
      })
      yield* loop.pipe(Mailbox.into(mailbox), Effect.forkScoped, Effect.interruptible)
      return Mailbox.toStream(mailbox)
    })

  const operations: Omit<Process, "runInBackground"> = {
    ...Pty.make(toolboxTarget, toolbox),
    executeCommand,
    codeRun,
    createSession: (sessionId) =>
      toolbox
        .call(toolboxTarget, ToolboxApi.createSession, { payload: { sessionId } })
        .pipe(span("createSession", { "daytona.session.id": sessionId })),
    getSession,
    listSessions: toolbox.call(toolboxTarget, ToolboxApi.listSessions, {}).pipe(
      Effect.map((sessions) => sessions ?? []),
      span("listSessions")
    ),
    deleteSession: (sessionId) =>
      toolbox
        .call(toolboxTarget, ToolboxApi.deleteSession, { params: { sessionId } })
        .pipe(span("deleteSession", { "daytona.session.id": sessionId })),
    getEntrypointSession: toolbox
      .call(toolboxTarget, ToolboxApi.getEntrypointSession, {})
      .pipe(span("getEntrypointSession")),
    executeSessionCommand: (sessionId, request, options = {}) =>
      Effect.gen(function* () {
        const requestTimeout = yield* decodeDuration("requestTimeout", options.requestTimeout)
        const body = {
          command: request.command,
          ...(request.runAsync === undefined ? {} : { runAsync: request.runAsync }),
          ...(request.suppressInputEcho === undefined ? {} : { suppressInputEcho: request.suppressInputEcho })
        }
        const answer = yield* toolbox.call(
          toolboxTarget,
          ToolboxApi.sessionExecuteCommand,
          { params: { sessionId }, payload: body },
          requestTimeout === undefined ? {} : { timeout: requestTimeout }
        )
        return {
          cmdId: answer.cmdId,
          stdout: answer.stdout ?? "",
          stderr: answer.stderr ?? "",
          ...(answer.output === undefined ? {} : { output: answer.output }),
          ...(answer.exitCode === undefined ? {} : { exitCode: answer.exitCode })
        } satisfies SessionExecuteResult
      }).pipe(span("executeSessionCommand", { "daytona.session.id": sessionId })),
    getSessionCommand,
    sendSessionCommandInput: (sessionId, commandId, data) =>
      toolbox
        .call(toolboxTarget, ToolboxApi.sendInput, { params: { sessionId, commandId }, payload: { data } })
        .pipe(span("sendSessionCommandInput")),
    getSessionCommandLogs: (sessionId, commandId) =>
      readLogs(
        toolbox.execute(toolboxTarget, ToolboxApi.getSessionCommandLogs, { params: { sessionId, commandId } })
      ).pipe(span("getSessionCommandLogs")),
    followSessionCommandLogs: (sessionId, commandId) =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          let exitCode: number | undefined
          // The daemon closes a followed log once the command's exit code exists: without one, the
          // socket was closed early and the follow goes on.
          const ended = Effect.map(getSessionCommand(sessionId, commandId), (command) => {
            exitCode = command.exitCode
            return exitCode !== undefined
          })
          const bytes = yield* resumable(
            `/process/session/${seg(sessionId)}/command/${seg(commandId)}/logs?follow=true`,
            ended
          )
          return bytes.pipe(
            LogDemux.demux,
            Stream.map((chunk): SessionLogEvent => chunk),
            Stream.concat(Stream.sync((): SessionLogEvent => ({ _tag: "Exit", exitCode: exitCode ?? 0 })))
          )
        })
      ).pipe(
        Spans.withStreamSpan("Process.followSessionCommandLogs", {
          captureStackTrace: false,
          attributes: { "daytona.sandbox.id": target.id, "daytona.session.id": sessionId }
        })
      ),
    getEntrypointLogs: readLogs(toolbox.execute(toolboxTarget, ToolboxApi.getEntrypointLogs, {})).pipe(
      span("getEntrypointLogs")
    ),
    followEntrypointLogs: Stream.unwrapScoped(
      resumable("/process/session/entrypoint/logs?follow=true", Effect.succeed(true))
    ).pipe(
      LogDemux.demux,
      Spans.withStreamSpan("Process.followEntrypointLogs", {
        captureStackTrace: false,
        attributes: { "daytona.sandbox.id": target.id }
      })
    )
  }

  const runInBackground: Process["runInBackground"] = (command) =>
    Effect.gen(function* () {
      const sessionId = `background-${crypto.randomUUID()}`
      yield* Effect.acquireRelease(operations.createSession(sessionId), () =>
        Effect.ignore(operations.deleteSession(sessionId))
      )
      const started = yield* operations.executeSessionCommand(sessionId, { command, runAsync: true })
      return BackgroundCommand.make(operations, { sandboxId: target.id, sessionId, commandId: started.cmdId })
    }).pipe(span("runInBackground"))

  return { ...operations, runInBackground }
}
