/**
 * A stateful Python interpreter in a sandbox: code runs in a context (one long-lived interpreter
 * whose variables, imports and functions survive between runs), its output streamed as it is
 * printed, its exceptions reported with name, value and traceback.
 *
 * `runCode` collects a run into an {@link ExecutionResult}; `runCodeStream` hands over its events as
 * they come. A run that outlives its `timeout` fails with `CommandTimeoutError`, never as a success:
 * the daemon interrupts the code (`SIGINT`), and the context stays usable. An exception raised by the
 * code is not a failure of the call: it is the result's `error`. Only Python is served; the daemon
 * refuses a context of any other language (`ValidationError`).
 *
 * Runs go over a WebSocket and need a {@link WebSocketConnector} (on Node:
 * `WebSocketConnector.layer(WebSocket)` with `ws`'s class). Contexts are plain values: delete them
 * with `deleteContext`, or create them with `createContextScoped` to have them deleted when the scope
 * closes.
 *
 * @since 0.1.0
 */
import * as Socket from "@effect/platform/Socket"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { type ApiError, CommandTimeoutError, NotFoundError, TransportError, ValidationError } from "./DaytonaError.js"
import * as SocketFailure from "./internal/socketFailure.js"
import * as InterpreterDto from "./InterpreterDto.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import type { WebSocketConnector } from "./WebSocketConnector.js"
import * as Spans from "./internal/spans.js"

/**
 * What an interpreter operation can fail with; `CommandTimeoutError` only comes from a run.
 *
 * @since 0.1.0
 * @category models
 */
export type InterpreterError = ApiError | NotFoundError | ValidationError | CommandTimeoutError

/**
 * An exception the code raised.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecutionError {
  /** The exception's class, e.g. `NameError`. */
  readonly name: string
  /** Its message, e.g. `name 'x' is not defined`. */
  readonly value: string
  /** The traceback, as Python prints it (the code's own frames). */
  readonly traceback: string
}

/**
 * What a run printed, and the exception it raised, if any.
 *
 * @since 0.1.0
 * @category models
 */
export interface ExecutionResult {
  readonly stdout: string
  readonly stderr: string
  readonly error?: ExecutionError | undefined
}

/**
 * One event of a run, in the order they happened: text printed to stdout or stderr, or the exception
 * that ended it.
 *
 * @since 0.1.0
 * @category models
 */
export type RunEvent =
  | { readonly _tag: "Stdout"; readonly text: string }
  | { readonly _tag: "Stderr"; readonly text: string }
  | ({ readonly _tag: "Error" } & ExecutionError)

/**
 * Options of a run.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunCodeOptions {
  /** The context (or its id) to run in. Default: the sandbox's default context. */
  readonly context?: InterpreterDto.InterpreterContext | string | undefined
  /** Variables set in the interpreter's environment for this run only. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /**
   * How long the code may run before it is interrupted (whole seconds, rounded up);
   * `Duration.infinity` for no limit. Default: the daemon's (10 minutes).
   */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Options of a new context.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateContextOptions {
  /** The interpreter's working directory. Default: the sandbox's working directory. */
  readonly cwd?: string | undefined
  /** Default (and the only one served): `python`. */
  readonly language?: string | undefined
}

/**
 * The code interpreter of one sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export interface CodeInterpreter {
  /** Runs code and collects what it printed and the exception it raised, if any. */
  readonly runCode: (
    code: string,
    options?: RunCodeOptions
  ) => Effect.Effect<ExecutionResult, InterpreterError, WebSocketConnector>
  /** Runs code and streams its events as they happen; the stream ends when the run has completed. */
  readonly runCodeStream: (
    code: string,
    options?: RunCodeOptions
  ) => Stream.Stream<RunEvent, InterpreterError, WebSocketConnector>
  /** Starts a new context (`POST /process/interpreter/context`). */
  readonly createContext: (
    options?: CreateContextOptions
  ) => Effect.Effect<InterpreterDto.InterpreterContext, InterpreterError>
  /** Starts a new context, deleted when the scope closes. */
  readonly createContextScoped: (
    options?: CreateContextOptions
  ) => Effect.Effect<InterpreterDto.InterpreterContext, InterpreterError, Scope.Scope>
  /** The contexts created so far, the default one excepted (`GET /process/interpreter/context`). */
  readonly listContexts: Effect.Effect<ReadonlyArray<InterpreterDto.InterpreterContext>, InterpreterError>
  /** Ends a context's interpreter (`DELETE /process/interpreter/context/{id}`). */
  readonly deleteContext: (context: InterpreterDto.InterpreterContext | string) => Effect.Effect<void, InterpreterError>
}

const validEnvKey = /^[A-Za-z_][A-Za-z0-9_]*$/

const OutputJson = Schema.parseJson(InterpreterDto.OutputMessage)

const contextId = (context: InterpreterDto.InterpreterContext | string) =>
  typeof context === "string" ? context : context.id

/** The request's timeout in whole seconds: absent for the daemon's default, 0 for none. */
const timeoutSeconds = (input: Duration.DurationInput | undefined) => {
  if (input === undefined) return Effect.succeed(undefined)
  const duration = Duration.decodeUnknown(input)
  if (Option.isNone(duration) || !Duration.greaterThan(duration.value, Duration.zero))
    return Effect.fail(new ValidationError({ field: "timeout", message: "timeout must be a positive duration" }))
  return Effect.succeed(
    Duration.isFinite(duration.value) ? Math.max(1, Math.ceil(Duration.toMillis(duration.value) / 1000)) : 0
  )
}

const executePath = ToolboxApi.executeInterpreterCode.path

/**
 * Builds the code interpreter of one sandbox.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (target: ToolboxClient.Target, toolbox: ToolboxClient.Service): CodeInterpreter => {
  const toolboxTarget: ToolboxClient.Target = { id: target.id, toolboxProxyUrl: target.toolboxProxyUrl }
  const span = (name: string) =>
    Spans.withSpan(`CodeInterpreter.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id }
    })

  /** The error a close frame stands for, or none when the run completed. */
  const closed = (failure: Socket.SocketError, interrupted: boolean): InterpreterError | undefined => {
    const openTimeout = toolbox.config.requestTimeout
    if (failure.reason !== "Close")
      return SocketFailure.fromSocketError(failure, executePath, openTimeout, "the interpreter's connection") as
        | ApiError
        | NotFoundError
        | ValidationError
    const reason = failure.closeReason ?? ""
    // Daytona's daemon says `interrupted` before closing a run it timed out; the close code says it too.
    if (failure.code === InterpreterDto.timeoutCloseCode || interrupted)
      return new CommandTimeoutError({
        message: reason === "" ? "the code ran out of time and was interrupted" : reason,
        status: 408,
        method: "GET",
        path: executePath,
        errorCode: String(InterpreterDto.timeoutCloseCode)
      })
    if (failure.code === 1000 || failure.code === 1001) return undefined
    if (failure.code === 1002 || failure.code === 1008) {
      const message = reason === "" ? `the daemon refused the run (close code ${failure.code})` : reason
      return /not found/i.test(message)
        ? new NotFoundError({ message, status: 404, method: "GET", path: executePath })
        : new ValidationError({ message, status: 400, method: "GET", path: executePath })
    }
    return new TransportError({
      reason: "Connection",
      method: "GET",
      path: executePath,
      sent: true,
      description: `the run's connection closed with code ${failure.code}${reason === "" ? "" : `: ${reason}`} before it completed`
    })
  }

  const runCodeStream: CodeInterpreter["runCodeStream"] = (code, options = {}) =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        if (code.trim() === "") return yield* new ValidationError({ field: "code", message: "code is required" })
        const bad = Object.keys(options.env ?? {}).find((key) => !validEnvKey.test(key))
        if (bad !== undefined)
          return yield* new ValidationError({
            field: "env",
            message: `environment variable names must match ${validEnvKey.source}, got ${JSON.stringify(bad)}`
          })
        const nul = Object.entries(options.env ?? {}).find(([, value]) => value.includes("\u0000"))
        if (nul !== undefined)
          return yield* new ValidationError({
            field: "env",
            message: `the value of environment variable ${nul[0]} contains a NUL byte`
          })
        const timeout = yield* timeoutSeconds(options.timeout)
        const request: typeof InterpreterDto.ExecuteRequest.Encoded = {
          code,
          ...(options.context === undefined ? {} : { contextId: contextId(options.context) }),
          ...(options.env === undefined ? {} : { envs: options.env }),
          ...(timeout === undefined ? {} : { timeout })
        }
        const socket = yield* toolbox.socket(toolboxTarget, executePath, {
          openTimeout: toolbox.config.requestTimeout,
          closeCodeIsError: () => true
        })
        const write = yield* socket.writer
        const events = yield* Mailbox.make<RunEvent, InterpreterError>()
        let interrupted = false
        const onMessage = (data: string | Uint8Array) => {
          const text = typeof data === "string" ? data : new TextDecoder().decode(data)
          const message = Schema.decodeUnknownOption(OutputJson)(text)
          if (Option.isNone(message)) return
          const { type, text: body, name, value, traceback } = message.value
          if (type === "stdout") events.unsafeOffer({ _tag: "Stdout", text: body ?? "" })
          else if (type === "stderr") events.unsafeOffer({ _tag: "Stderr", text: body ?? "" })
          else if (type === "error")
            events.unsafeOffer({ _tag: "Error", name: name ?? "", value: value ?? "", traceback: traceback ?? "" })
          else if (type === "control" && body === "interrupted") interrupted = true
        }
        yield* socket
          .runRaw(
            (data) => onMessage(typeof data === "string" || data instanceof Uint8Array ? data : new Uint8Array(data)),
            {
              onOpen: write(JSON.stringify(request)).pipe(Effect.orDie)
            }
          )
          .pipe(
            Effect.either,
            Effect.flatMap((outcome) => {
              const error = Either.isLeft(outcome) ? closed(outcome.left, interrupted) : undefined
              return error === undefined ? events.end : events.fail(error)
            }),
            Effect.interruptible,
            Effect.forkScoped
          )
        return Mailbox.toStream(events)
      })
    ).pipe(
      Spans.withStreamSpan("CodeInterpreter.runCodeStream", {
        captureStackTrace: false,
        attributes: { "daytona.sandbox.id": target.id }
      })
    )

  const runCode: CodeInterpreter["runCode"] = (code, options) =>
    runCodeStream(code, options).pipe(
      Stream.runFold({ stdout: "", stderr: "", error: undefined } as ExecutionResult, (result, event) => {
        switch (event._tag) {
          case "Stdout":
            return { ...result, stdout: result.stdout + event.text }
          case "Stderr":
            return { ...result, stderr: result.stderr + event.text }
          case "Error":
            return { ...result, error: { name: event.name, value: event.value, traceback: event.traceback } }
        }
      }),
      span("runCode")
    )

  const createContext: CodeInterpreter["createContext"] = (options = {}) =>
    toolbox
      .call(toolboxTarget, ToolboxApi.createInterpreterContext, {
        payload: {
          ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
          ...(options.language === undefined ? {} : { language: options.language })
        }
      })
      .pipe(span("createContext"))

  const deleteContext: CodeInterpreter["deleteContext"] = (context) =>
    toolbox
      .call(toolboxTarget, ToolboxApi.deleteInterpreterContext, { params: { id: contextId(context) } })
      .pipe(Effect.asVoid, span("deleteContext"))

  return {
    runCode,
    runCodeStream,
    createContext,
    createContextScoped: (options) =>
      Effect.acquireRelease(createContext(options), (context) =>
        deleteContext(context).pipe(Effect.timeout(toolbox.config.requestTimeout), Effect.ignore)
      ),
    listContexts: toolbox.call(toolboxTarget, ToolboxApi.listInterpreterContexts, {}).pipe(
      Effect.map((answer) => answer.contexts),
      span("listContexts")
    ),
    deleteContext
  }
}
