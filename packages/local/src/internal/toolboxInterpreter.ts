import { processEnvOf } from "./sandboxData.js"
import * as InterpreterDto from "@effect-daytona/sdk/InterpreterDto"
import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Socket from "@effect/platform/Socket"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as NodeCrypto from "node:crypto"
import { SandboxEngine } from "../SandboxEngine.js"
import type * as SandboxInterpreter from "../SandboxInterpreter.js"
import { badRequest, notFound } from "./daemonError.js"
import { json } from "./http.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxRegistry from "./sandboxRegistry.js"
import { envProblem, workingDirectory } from "./toolboxPty.js"
import { type EndpointHandler, serve } from "./toolboxRoute.js"

interface InterpreterContext {
  readonly id: string
  readonly cwd: string
  readonly createdAt: string
  interpreter: SandboxInterpreter.Interpreter | undefined
  deleted: boolean
  /** One run at a time, in the order they came. */
  readonly lock: Effect.Semaphore
}

const contextsOf = SandboxRegistry.make(() => new Map<string, InterpreterContext>())

/** How many contexts a sandbox may have besides the default one (each is a Python process in it). */
const maxContexts = 16

/** The daemon's default for a run that gives no timeout. */
const defaultTimeout = Duration.minutes(10)

/** How much of a run's output may wait for a slow client before it is dropped (the run goes on). */
const maxQueued = 8 * 1024 * 1024

/** How long an interrupted run has to end before its interpreter is killed (and its state lost). */
const interruptGrace = Duration.seconds(2)

const dto = (context: InterpreterContext, active: boolean): typeof InterpreterDto.InterpreterContext.Encoded => ({
  id: context.id,
  cwd: context.cwd,
  createdAt: context.createdAt,
  active,
  language: InterpreterDto.language
})

const isActive = (context: InterpreterContext) =>
  context.interpreter === undefined ? Effect.succeed(false) : context.interpreter.alive

const startInterpreter = (sandbox: SandboxRecord, context: InterpreterContext) =>
  Effect.gen(function* () {
    const engine = yield* SandboxEngine
    const interpreter = yield* engine
      .startInterpreter(sandbox.id, { cwd: context.cwd, env: processEnvOf(sandbox) })
      .pipe(
        Effect.mapError((error) =>
          error._tag === "SandboxNotRunning"
            ? badRequest(`sandbox ${sandbox.id} is not started`)
            : badRequest(`the interpreter could not start in the sandbox: ${error.message}`)
        )
      )
    context.interpreter = interpreter
    return interpreter
  })

const newContext = (sandbox: SandboxRecord, id: string, cwd: string | undefined) =>
  Effect.gen(function* () {
    return {
      id,
      cwd: yield* workingDirectory(sandbox, cwd),
      createdAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
      interpreter: undefined,
      deleted: false,
      lock: yield* Effect.makeSemaphore(1)
    } satisfies InterpreterContext
  })

const createContext: EndpointHandler<typeof ToolboxApi.createInterpreterContext> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const language = payload.language ?? InterpreterDto.language
    if (language !== InterpreterDto.language)
      return yield* badRequest(
        `unsupported language: ${language} (only '${InterpreterDto.language}' is supported currently)`
      )
    const contexts = yield* contextsOf(sandbox.id)
    const created = [...contexts.keys()].filter((id) => id !== InterpreterDto.defaultContextId).length
    // Contexts still starting count too: requests made at once would otherwise all pass the check.
    const starting = startingContexts.get(contexts) ?? 0
    if (created + starting >= maxContexts)
      return yield* badRequest(
        `too many interpreter contexts in this sandbox (at most ${maxContexts}): delete one first`
      )
    startingContexts.set(contexts, starting + 1)
    const context = yield* Effect.gen(function* () {
      const context = yield* newContext(sandbox, NodeCrypto.randomUUID(), payload.cwd)
      yield* startInterpreter(sandbox, context)
      return context
    }).pipe(
      Effect.ensuring(Effect.sync(() => startingContexts.set(contexts, (startingContexts.get(contexts) ?? 1) - 1)))
    )
    contexts.set(context.id, context)
    return dto(context, true)
  })

/** How many contexts of a sandbox (keyed by its map of contexts) are being created right now. */
const startingContexts = new WeakMap<object, number>()

const deleteContext: EndpointHandler<typeof ToolboxApi.deleteInterpreterContext> = (sandbox, { params }) =>
  Effect.gen(function* () {
    if (params.id === InterpreterDto.defaultContextId) return yield* badRequest("cannot delete default context")
    const contexts = yield* contextsOf(sandbox.id)
    const context = contexts.get(params.id)
    if (context === undefined) return yield* notFound(`context not found: ${params.id}`)
    contexts.delete(context.id)
    context.deleted = true
    if (context.interpreter !== undefined) yield* context.interpreter.kill
    return { message: "Context deleted successfully" }
  })

const listContexts: EndpointHandler<typeof ToolboxApi.listInterpreterContexts> = (sandbox) =>
  Effect.gen(function* () {
    const contexts = [...(yield* contextsOf(sandbox.id)).values()].filter(
      (context) => context.id !== InterpreterDto.defaultContextId
    )
    return json({
      contexts: yield* Effect.forEach(contexts, (context) =>
        Effect.map(isActive(context), (active) => dto(context, active))
      )
    })
  })

/** A run's request that the daemon refuses: the close code and its reason. */
interface Refusal {
  readonly code: number
  readonly reason: string
}

const ExecuteRequestJson = Schema.parseJson(InterpreterDto.ExecuteRequest)

/** Reads the first message of a run: the code, its context, its environment and timeout. */
const parseRequest = (text: string): Either.Either<typeof InterpreterDto.ExecuteRequest.Type, Refusal> => {
  const decoded = Schema.decodeUnknownEither(ExecuteRequestJson)(text)
  if (Either.isLeft(decoded)) return Either.left({ code: 1002, reason: "invalid JSON payload" })
  const request = decoded.right
  if (request.code === "") return Either.left({ code: 1008, reason: "code is required" })
  if (request.timeout !== undefined && (!Number.isInteger(request.timeout) || request.timeout < 0))
    return Either.left({ code: 1008, reason: "timeout must be a whole number of seconds, at least 0" })
  const problem = envProblem(request.envs ?? {})
  if (problem !== undefined) return Either.left({ code: 1008, reason: problem })
  return Either.right(request)
}

/** The message a run's event becomes on the socket. */
const message = (event: Exclude<SandboxInterpreter.Event, { readonly _tag: "End" }>): string => {
  switch (event._tag) {
    case "Stdout":
      return JSON.stringify({ type: "stdout", text: event.text })
    case "Stderr":
      return JSON.stringify({ type: "stderr", text: event.text })
    case "Error":
      return JSON.stringify({ type: "error", name: event.name, value: event.value, traceback: event.traceback })
  }
}

/** How a run ended, for the socket: the last messages and the close frame. */
type Ending =
  | { readonly _tag: "Completed" }
  | { readonly _tag: "Lost" }
  | { readonly _tag: "Exited"; readonly exitCode: number }
  | { readonly _tag: "TimedOut"; readonly restarted: boolean; readonly timeout: Duration.Duration }

/**
 * Runs one piece of code in a context, in a fiber of its own so that a client that goes away does not
 * leave the interpreter half way through a run: the context is held until the run has ended. Events
 * go to `emit` as they come. A run that outlives `timeout` is interrupted (`SIGINT`); one that does not
 * end within the grace period after that has its interpreter killed, and the next run starts a new one.
 */
const execute = (
  sandbox: SandboxRecord,
  context: InterpreterContext,
  request: typeof InterpreterDto.ExecuteRequest.Type,
  emit: (text: string) => void
) =>
  context.lock.withPermits(1)(
    Effect.gen(function* () {
      const alive = context.interpreter === undefined ? false : yield* context.interpreter.alive
      if (context.interpreter !== undefined && !alive) {
        context.interpreter = undefined
        return { _tag: "Lost" } satisfies Ending
      }
      const interpreter = alive ? context.interpreter! : yield* startInterpreter(sandbox, context)
      const ended = yield* Deferred.make<SandboxInterpreter.Outcome>()
      const events = interpreter.run(request.code, request.envs ?? {}).pipe(
        Stream.runForEach((event) =>
          event._tag === "End" ? Deferred.succeed(ended, event.outcome) : Effect.sync(() => emit(message(event)))
        ),
        Effect.zipRight(Deferred.succeed(ended, { _tag: "Exited", exitCode: -1 }))
      )
      yield* Effect.forkDaemon(events)
      const seconds = request.timeout
      const timeout = seconds === undefined ? defaultTimeout : seconds === 0 ? undefined : Duration.seconds(seconds)
      const outcome =
        timeout === undefined
          ? Option.some(yield* Deferred.await(ended))
          : yield* Deferred.await(ended).pipe(Effect.timeoutOption(timeout))
      if (Option.isSome(outcome)) {
        const value = outcome.value
        if (value._tag !== "Exited") return { _tag: "Completed" } satisfies Ending
        context.interpreter = undefined
        return { _tag: "Exited", exitCode: value.exitCode } satisfies Ending
      }
      yield* interpreter.interrupt
      const afterInterrupt = yield* Deferred.await(ended).pipe(Effect.timeoutOption(interruptGrace))
      if (Option.isNone(afterInterrupt) || afterInterrupt.value._tag === "Exited") {
        yield* interpreter.kill
        yield* Deferred.await(ended).pipe(Effect.timeoutOption(interruptGrace))
        context.interpreter = undefined
        return { _tag: "TimedOut", restarted: true, timeout: timeout! } satisfies Ending
      }
      return { _tag: "TimedOut", restarted: false, timeout: timeout! } satisfies Ending
    })
  )

const closing = (ending: Ending): ReadonlyArray<string | Socket.CloseEvent> => {
  switch (ending._tag) {
    case "Completed":
      return [JSON.stringify({ type: "control", text: "completed" }), new Socket.CloseEvent(1000)]
    case "Exited":
      return [
        JSON.stringify({
          type: "error",
          name: "InterpreterExited",
          value: `the interpreter process ended (exit code ${ending.exitCode}): the context's state is lost, the next run starts a new interpreter`,
          traceback: ""
        }),
        JSON.stringify({ type: "control", text: "completed" }),
        new Socket.CloseEvent(1000)
      ]
    case "Lost":
      return [
        JSON.stringify({
          type: "error",
          name: "InterpreterExited",
          value:
            "the interpreter process ended since the last run (its sandbox was stopped, or it was killed): the context's state is lost and this code did not run; the next run starts a new interpreter",
          traceback: ""
        }),
        JSON.stringify({ type: "control", text: "completed" }),
        new Socket.CloseEvent(1000)
      ]
    case "TimedOut":
      return [
        new Socket.CloseEvent(
          InterpreterDto.timeoutCloseCode,
          ending.restarted
            ? `execution timed out after ${Duration.format(ending.timeout)}; interpreter restarted, state lost`
            : `execution timed out after ${Duration.format(ending.timeout)}`
        )
      ]
  }
}

/**
 * `GET /process/interpreter/execute`: upgrades, reads the run's request, runs it in its context (the
 * default one, started on first use, when none is named) and streams what it prints; the socket
 * closes with 1000 when the run completed, with 4008 when it timed out, with 1002 or 1008 and the
 * reason when the request is refused.
 */
const executeCode: EndpointHandler<typeof ToolboxApi.executeInterpreterCode> = (sandbox) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if ((request.headers["upgrade"] ?? "").toLowerCase() !== "websocket")
      return yield* badRequest("a WebSocket upgrade is required")
    return yield* Effect.gen(function* () {
      const socket = yield* request.upgrade
      const write = yield* socket.writer
      const outgoing = yield* Mailbox.make<string | Socket.CloseEvent>()
      let queued = 0
      let listening = true
      const send = (frame: string | Socket.CloseEvent) => {
        if (!listening) return
        if (typeof frame === "string") {
          if (queued + frame.length > maxQueued) {
            listening = false
            outgoing.unsafeOffer(new Socket.CloseEvent(1011, "slow consumer: the client did not read the run's output"))
            return
          }
          queued += frame.length
        }
        outgoing.unsafeOffer(frame)
      }
      const sender = yield* Mailbox.toStream(outgoing).pipe(
        Stream.runForEach((frame) =>
          Effect.zipRight(
            write(frame),
            Effect.sync(() => {
              if (typeof frame === "string") queued -= frame.length
            })
          )
        ),
        Effect.fork
      )
      const first = yield* Deferred.make<string>()
      const reader = yield* socket
        .runRaw((data) => {
          Deferred.unsafeDone(
            first,
            Effect.succeed(typeof data === "string" ? data : Buffer.from(data as Uint8Array).toString("utf8"))
          )
        })
        .pipe(Effect.ignore, Effect.ensuring(Effect.sync(() => (listening = false))), Effect.fork)
      const text = yield* Deferred.await(first).pipe(Effect.raceFirst(Effect.as(Fiber.join(reader), undefined)))
      if (text !== undefined) {
        const parsed = parseRequest(text)
        const refused = (code: number, reason: string) => send(new Socket.CloseEvent(code, reason))
        if (Either.isLeft(parsed)) refused(parsed.left.code, parsed.left.reason)
        else {
          const contexts = yield* contextsOf(sandbox.id)
          const id = parsed.right.contextId ?? InterpreterDto.defaultContextId
          let context = contexts.get(id)
          if (context === undefined && id === InterpreterDto.defaultContextId) {
            context = yield* newContext(sandbox, id, undefined)
            contexts.set(id, context)
          }
          if (context === undefined || context.deleted) refused(1008, `context not found: ${id}`)
          else {
            const run = yield* Effect.forkDaemon(execute(sandbox, context, parsed.right, send))
            const ending = yield* Fiber.join(run).pipe(Effect.either)
            if (Either.isLeft(ending)) refused(1011, ending.left.message)
            else for (const frame of closing(ending.right)) send(frame)
          }
        }
      }
      yield* Fiber.join(reader).pipe(Effect.timeout("5 seconds"), Effect.ignore)
      yield* Fiber.interrupt(sender)
      return HttpServerResponse.empty()
    }).pipe(
      Effect.scoped,
      Effect.catchAll(() => Effect.succeed(HttpServerResponse.empty()))
    )
  })

/** The daemon's code-interpreter routes. */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.createInterpreterContext, createContext),
  serve(ToolboxApi.listInterpreterContexts, listContexts),
  serve(ToolboxApi.deleteInterpreterContext, deleteContext),
  serve(ToolboxApi.executeInterpreterCode, executeCode)
)
