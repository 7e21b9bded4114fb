/**
 * Pseudo-terminals in a sandbox: an interactive shell on a real terminal (line editing, `stty`,
 * full-screen programs), driven over a WebSocket.
 *
 * A terminal is a scoped resource: `createPty` and `connectPty` open the connection in the current
 * scope, and closing the scope kills the session or only disconnects from it, as asked. Its output is
 * a `Stream` of bytes, its input an `Effect` (or a `Sink`), and `exit` always completes: with the
 * shell's exit code, or with a `TransportError` when the connection ends without one (dropped, closed
 * by the caller, or a server that never said how the shell ended). A terminal does not reconnect by
 * itself; `connectPty` attaches again, and the daemon sends the latest output it kept first.
 *
 * The WebSocket needs a {@link WebSocketConnector} (on Node: `WebSocketConnector.layer(WebSocket)`
 * with `ws`'s class); it is pinged every `socketHeartbeat`, so a silent connection ends `exit` too.
 *
 * @since 0.1.0
 */
import * as Socket from "@effect/platform/Socket"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import type * as Stream from "effect/Stream"
import {
  type ApiError,
  type ConflictError,
  NotFoundError,
  RequestTimeoutError,
  TransportError,
  ValidationError
} from "./DaytonaError.js"
import * as SocketFailure from "./internal/socketFailure.js"
import * as WireSchema from "./WireSchema.js"
import * as PtyDto from "./PtyDto.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import type { WebSocketConnector } from "./WebSocketConnector.js"
import * as Spans from "./internal/spans.js"

/**
 * What a terminal operation can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type PtyError = ApiError | NotFoundError | ValidationError | ConflictError

/**
 * How a terminal's shell ended: its exit code (128 + n after signal n) and the daemon's words for it
 * (`SIGKILL`, `non-zero exit`, …; none for 0).
 *
 * @since 0.1.0
 * @category models
 */
export interface PtyExit {
  readonly exitCode: number
  readonly exitReason?: string | undefined
}

/**
 * What closing the scope of a terminal does: `kill` ends the session (its shell and everything it
 * started), `detach` only closes the connection and leaves it running for `connectPty`.
 *
 * @since 0.1.0
 * @category models
 */
export type OnScopeClose = "kill" | "detach"

/**
 * Options of {@link PtyOperations.createPty}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreatePtyOptions {
  /** The session's id, unique in the sandbox. Default: a random one. */
  readonly id?: string | undefined
  /** The shell's working directory. Default: the sandbox's working directory. */
  readonly cwd?: string | undefined
  /** Variables added to the shell's environment (`TERM` is `xterm-256color` unless given). */
  readonly envs?: Readonly<Record<string, string>> | undefined
  /** Columns, 1 to 1000. Default: 80. */
  readonly cols?: number | undefined
  /** Rows, 1 to 1000. Default: 24. */
  readonly rows?: number | undefined
  /** Default: `kill`. */
  readonly onScopeClose?: OnScopeClose | undefined
}

/**
 * Options of {@link PtyOperations.connectPty}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectPtyOptions {
  /** Default: `detach`. */
  readonly onScopeClose?: OnScopeClose | undefined
}

/**
 * A connected terminal.
 *
 * @since 0.1.0
 * @category models
 */
export interface PtyHandle {
  readonly sessionId: string
  /**
   * The terminal's output as it comes, from the connection on (after the latest output the daemon kept,
   * when attaching to a running session). It ends when the connection ends; run it once.
   */
  readonly output: Stream.Stream<Uint8Array>
  /** Types into the terminal (text is sent as UTF-8); fails with `TransportError` once disconnected. */
  readonly write: (data: string | Uint8Array) => Effect.Effect<void, TransportError>
  /** The input side as a sink: each element is typed in turn. */
  readonly input: Sink.Sink<void, string | Uint8Array, never, TransportError>
  /** Changes the window size (`POST /process/pty/{id}/resize`); the shell gets `SIGWINCH`. */
  readonly resize: (cols: number, rows: number) => Effect.Effect<PtyDto.PtySessionInfo, PtyError>
  /** Kills the session (`DELETE /process/pty/{id}`); `exit` then completes with 137. A session already gone is not an error. */
  readonly kill: Effect.Effect<void, PtyError>
  /**
   * How the shell ended. Always completes: with the exit code, or with `TransportError` when the
   * connection ended without one.
   */
  readonly exit: Effect.Effect<PtyExit, PtyError>
  /** Closes the connection and leaves the session running. */
  readonly disconnect: Effect.Effect<void>
  /** The session as the daemon describes it now (`GET /process/pty/{id}`). */
  readonly info: Effect.Effect<PtyDto.PtySessionInfo, PtyError>
}

/**
 * The terminal operations of one sandbox (part of its `process`).
 *
 * @since 0.1.0
 * @category models
 */
export interface PtyOperations {
  /**
   * Creates a session and connects to it in one WebSocket upgrade
   * (`GET /process/pty/create-connect`); the shell starts then. `ConflictError` when the id is taken.
   */
  readonly createPty: (
    options?: CreatePtyOptions
  ) => Effect.Effect<PtyHandle, PtyError, Scope.Scope | WebSocketConnector>
  /** Connects to a running session (`GET /process/pty/{id}/connect`); `NotFoundError` when there is none. */
  readonly connectPty: (
    sessionId: string,
    options?: ConnectPtyOptions
  ) => Effect.Effect<PtyHandle, PtyError, Scope.Scope | WebSocketConnector>
  /** Every session whose shell runs (`GET /process/pty`). */
  readonly listPtySessions: Effect.Effect<ReadonlyArray<PtyDto.PtySessionInfo>, PtyError>
  /** One session (`GET /process/pty/{id}`). */
  readonly getPtySessionInfo: (sessionId: string) => Effect.Effect<PtyDto.PtySessionInfo, PtyError>
  /** Changes a session's window size (`POST /process/pty/{id}/resize`). */
  readonly resizePtySession: (
    sessionId: string,
    cols: number,
    rows: number
  ) => Effect.Effect<PtyDto.PtySessionInfo, PtyError>
  /** Kills a session (`DELETE /process/pty/{id}`). */
  readonly killPtySession: (sessionId: string) => Effect.Effect<void, PtyError>
}

const seg = encodeURIComponent
const encoder = new TextEncoder()

const validEnvKey = /^[A-Za-z_][A-Za-z0-9_]*$/

const checkSize = (cols: number, rows: number) =>
  Schema.decodeUnknown(PtyDto.PtyResizeRequest)({ cols, rows }).pipe(
    Effect.mapError(
      (error) =>
        new ValidationError({
          message: WireSchema.messages(error).join(", "),
          ...(WireSchema.firstField(error) === undefined ? {} : { field: WireSchema.firstField(error)! })
        })
    )
  )

const checkCreate = (options: CreatePtyOptions) =>
  Effect.gen(function* () {
    if (options.id !== undefined && options.id === "")
      return yield* new ValidationError({ field: "id", message: "the session id must not be empty" })
    const bad = Object.keys(options.envs ?? {}).find((key) => !validEnvKey.test(key))
    if (bad !== undefined)
      return yield* new ValidationError({
        field: "envs",
        message: `environment variable names must match ${validEnvKey.source}, got ${JSON.stringify(bad)}`
      })
    const nul = Object.entries(options.envs ?? {}).find(([, value]) => value.includes("\u0000"))
    if (nul !== undefined)
      return yield* new ValidationError({
        field: "envs",
        message: `the value of environment variable ${nul[0]} contains a NUL byte`
      })
    yield* checkSize(options.cols ?? 80, options.rows ?? 24)
  })

const ControlJson = Schema.parseJson(PtyDto.PtyControlMessage)
const CloseReasonJson = Schema.parseJson(PtyDto.PtyCloseReason)

/** The exit a close frame's reason carries, or why the session could not be attached. */
const closeReason = (reason: string | undefined) =>
  reason === undefined || reason === ""
    ? undefined
    : Option.getOrUndefined(Schema.decodeUnknownOption(CloseReasonJson)(reason))

/** Base64url without padding, as the daemon decodes the environment's subprotocol. */
const base64Url = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

const bytesOf = (data: string | Uint8Array | ArrayBuffer): Uint8Array =>
  typeof data === "string" ? encoder.encode(data) : data instanceof Uint8Array ? data : new Uint8Array(data)

/**
 * Builds the terminal operations of one sandbox.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (target: ToolboxClient.Target, toolbox: ToolboxClient.Service): PtyOperations => {
  const toolboxTarget: ToolboxClient.Target = { id: target.id, toolboxProxyUrl: target.toolboxProxyUrl }
  const span = (name: string, sessionId: string) =>
    Spans.withSpan(`Process.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id, "daytona.pty.id": sessionId }
    })

  const getPtySessionInfo: PtyOperations["getPtySessionInfo"] = (sessionId) =>
    toolbox
      .call(toolboxTarget, ToolboxApi.getPtySession, { params: { sessionId } })
      .pipe(span("getPtySessionInfo", sessionId))

  const resizePtySession: PtyOperations["resizePtySession"] = (sessionId, cols, rows) =>
    checkSize(cols, rows).pipe(
      Effect.zipRight(
        toolbox.call(toolboxTarget, ToolboxApi.resizePtySession, { params: { sessionId }, payload: { cols, rows } })
      ),
      span("resizePtySession", sessionId)
    )

  const killPtySession: PtyOperations["killPtySession"] = (sessionId) =>
    toolbox
      .call(toolboxTarget, ToolboxApi.deletePtySession, { params: { sessionId } })
      .pipe(Effect.asVoid, span("killPtySession", sessionId))

  /**
   * Opens the terminal's socket in the current scope and waits for the daemon's `connected`. Every
   * close is read as an error here, so that its code and reason are seen: the reason carries the exit
   * code when the shell ended.
   */
  const open = (path: string, protocols: ReadonlyArray<string>, sessionId: string, onScopeClose: OnScopeClose) =>
    Effect.gen(function* () {
      const route = path.split("?")[0]!
      const openTimeout = toolbox.config.requestTimeout
      const socket = yield* toolbox.socket(toolboxTarget, path, {
        protocols,
        openTimeout,
        closeCodeIsError: () => true
      })
      const write = yield* socket.writer
      const output = yield* Mailbox.make<Uint8Array>()
      const connected = yield* Deferred.make<void, PtyError>()
      const exit = yield* Deferred.make<PtyExit, PtyError>()
      const closed = yield* Deferred.make<void>()
      let exited: PtyExit | undefined
      let refusal: string | undefined
      let detached = false
      let isClosed = false

      const onText = (text: string) => {
        const message = Schema.decodeUnknownOption(ControlJson)(text)
        if (Option.isNone(message)) {
          output.unsafeOffer(encoder.encode(text))
          return
        }
        const control = message.value
        switch (control.status) {
          case "connected":
            Deferred.unsafeDone(connected, Effect.void)
            return
          case "exited":
            exited = { exitCode: control.exitCode ?? 0, exitReason: control.exitReason ?? undefined }
            Deferred.unsafeDone(connected, Effect.void)
            return
          case "error":
            refusal = control.error ?? "the daemon refused the connection"
            return
        }
      }

      const ended = (failure: Socket.SocketError): Effect.Effect<void> =>
        Effect.gen(function* () {
          const reason = failure.reason === "Close" ? closeReason(failure.closeReason) : undefined
          if (exited === undefined && reason?.exitCode !== undefined && reason.exitCode !== null)
            exited = { exitCode: reason.exitCode, exitReason: reason.exitReason ?? undefined }
          const why = refusal ?? reason?.error ?? undefined
          const error: PtyError =
            why !== undefined
              ? /not found/i.test(why)
                ? new NotFoundError({ message: why, status: 404, method: "GET", path: route })
                : new TransportError({ reason: "Connection", method: "GET", path: route, sent: true, description: why })
              : failure.reason !== "Close"
                ? SocketFailure.fromSocketError(failure, route, openTimeout, "the terminal's connection")
                : new TransportError({
                    reason: "Connection",
                    method: "GET",
                    path: route,
                    sent: true,
                    description: detached
                      ? "the terminal was disconnected before its shell ended, so its exit code is unknown"
                      : `the terminal's connection closed (code ${failure.code}) before its shell ended, so its exit code is unknown`
                  })
          yield* Deferred.fail(connected, error)
          if (exited !== undefined) yield* Deferred.succeed(exit, exited)
          else yield* Deferred.fail(exit, error)
          yield* output.end
          isClosed = true
          yield* Deferred.succeed(closed, undefined)
        })

      yield* socket
        .runRaw((data) => {
          if (typeof data === "string") onText(data)
          else output.unsafeOffer(bytesOf(data))
        })
        .pipe(
          Effect.either,
          Effect.flatMap((outcome) =>
            ended(
              Either.isLeft(outcome)
                ? outcome.left
                : new Socket.SocketCloseError({ reason: "Close", code: 1000, closeReason: undefined })
            )
          ),
          // The scope closed first: `exit` still completes.
          Effect.onInterrupt(() =>
            Effect.suspend(() => {
              detached = true
              return ended(new Socket.SocketCloseError({ reason: "Close", code: 1000, closeReason: undefined }))
            })
          ),
          Effect.interruptible,
          Effect.forkScoped
        )

      yield* Effect.addFinalizer(() =>
        onScopeClose === "kill" && exited === undefined
          ? killPtySession(sessionId).pipe(Effect.timeout(openTimeout), Effect.ignore)
          : Effect.void
      )

      yield* Deferred.await(connected).pipe(
        Effect.timeoutFail({
          duration: openTimeout,
          onTimeout: () => new RequestTimeoutError({ method: "GET", path: route, timeout: openTimeout, sent: true })
        })
      )

      const notConnected = new TransportError({
        reason: "Connection",
        method: "GET",
        path: route,
        sent: false,
        description: "the terminal is not connected"
      })
      const type = (data: string | Uint8Array) =>
        Effect.suspend(() =>
          isClosed
            ? Effect.fail(notConnected)
            : write(typeof data === "string" ? encoder.encode(data) : data).pipe(
                Effect.mapError(
                  (error) =>
                    new TransportError({
                      reason: "Connection",
                      method: "GET",
                      path: route,
                      sent: false,
                      description: `cannot type into the terminal: ${error.message}`
                    })
                ),
                Effect.raceFirst(Effect.zipRight(Deferred.await(closed), Effect.fail(notConnected)))
              )
        )

      const handle: PtyHandle = {
        sessionId,
        output: Mailbox.toStream(output),
        write: type,
        input: Sink.forEach(type),
        resize: (cols, rows) => resizePtySession(sessionId, cols, rows),
        kill: Effect.suspend(() =>
          exited !== undefined
            ? Effect.void
            : killPtySession(sessionId).pipe(Effect.catchTag("NotFoundError", () => Effect.void))
        ),
        exit: Deferred.await(exit),
        disconnect: Effect.suspend(() => {
          detached = true
          return write(new Socket.CloseEvent(1000)).pipe(
            Effect.raceFirst(Deferred.await(closed)),
            Effect.zipRight(Deferred.await(closed)),
            Effect.timeout(Duration.seconds(10)),
            Effect.ignore
          )
        }),
        info: getPtySessionInfo(sessionId)
      }
      return handle
    })

  const createPty: PtyOperations["createPty"] = (options = {}) =>
    Effect.gen(function* () {
      yield* checkCreate(options)
      const id = options.id ?? `pty-${crypto.randomUUID()}`
      const query = new URLSearchParams({ id, cols: String(options.cols ?? 80), rows: String(options.rows ?? 24) })
      if (options.cwd !== undefined && options.cwd !== "") query.set("cwd", options.cwd)
      const protocols = [PtyDto.exitControlProtocol]
      if (options.envs !== undefined && Object.keys(options.envs).length > 0)
        protocols.push(`${PtyDto.envsProtocolPrefix}${base64Url(encoder.encode(JSON.stringify(options.envs)))}`)
      return yield* open(
        `${ToolboxApi.createAndConnectPtySession.path}?${query.toString()}`,
        protocols,
        id,
        options.onScopeClose ?? "kill"
      )
    }).pipe(span("createPty", options.id ?? ""))

  return {
    createPty,
    connectPty: (sessionId, options = {}) =>
      open(
        `/process/pty/${seg(sessionId)}/connect`,
        [PtyDto.exitControlProtocol],
        sessionId,
        options.onScopeClose ?? "detach"
      ).pipe(span("connectPty", sessionId)),
    listPtySessions: toolbox.call(toolboxTarget, ToolboxApi.listPtySessions, {}).pipe(
      Effect.map((answer) => answer.sessions),
      Spans.withSpan("Process.listPtySessions", {
        captureStackTrace: false,
        attributes: { "daytona.sandbox.id": target.id }
      })
    ),
    getPtySessionInfo,
    resizePtySession,
    killPtySession
  }
}
