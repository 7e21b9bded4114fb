/**
 * Sessions of the example backend: multi-step work in one leased sandbox. A session holds a lease
 * from the pool for as long as it is open, and a Daytona process session in that sandbox, so the
 * working directory, files and environment persist from one command to the next. A session's
 * sandbox is never given back to the pool (it holds what the commands left): it is deleted when the
 * session closes, is idle past `idleTimeout`, or the service shuts down.
 */
import type { SessionLogEvent } from "@effect-daytona/sdk/Process"
import type * as Sandbox from "@effect-daytona/sdk/Sandbox"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import type { WebSocketConnector } from "@effect-daytona/sdk/WebSocketConnector"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { defaultTimeout, type RunError, toRunError } from "./CodeRunner.js"
import {
  type ExecRequest,
  type Language,
  RunResult,
  SandboxFailure,
  SessionInfo,
  SessionNotFound,
  Unavailable
} from "./RunApi.js"

/** The Daytona process session every example session runs its commands in. */
const processSession = "work"

/** What a followed command emits: its text as it is written, then its exit code, or `Timeout` past its deadline. */
export type StreamEvent = SessionLogEvent | { readonly _tag: "Timeout" }

/** Options of {@link layer}. */
export interface Options {
  /** A session unused this long is closed. Default 5 minutes. */
  readonly idleTimeout?: Duration.DurationInput | undefined
  /** Sessions open at once; one more is refused with `Unavailable`. Default 20. */
  readonly maxSessions?: number | undefined
}

/** The service behind `/sessions`. */
export interface Service {
  readonly open: (language: Language) => Effect.Effect<SessionInfo, Unavailable | SandboxFailure>
  readonly exec: (sessionId: string, request: ExecRequest) => Effect.Effect<RunResult, SessionNotFound | RunError>
  /** Starts the command and follows its log: text as it is written, then its exit code. */
  readonly stream: (
    sessionId: string,
    request: ExecRequest
  ) => Effect.Effect<Stream.Stream<StreamEvent, SandboxFailure, WebSocketConnector>, SessionNotFound | RunError>
  readonly close: (sessionId: string) => Effect.Effect<void, SessionNotFound>
  /** Sessions open now. */
  readonly size: Effect.Effect<number>
}

/** The sessions service's tag. */
export class Sessions extends Context.Tag("@effect-daytona/examples/Sessions")<Sessions, Service>() {}

interface OpenSession {
  readonly sandbox: Sandbox.Sandbox
  readonly language: Language
  readonly scope: Scope.CloseableScope
  /** One command at a time: a process session is one shell. */
  readonly lock: Effect.Semaphore
  lastUsed: number
  busy: number
}

/** {@link Sessions} over the pool in context; closing the layer closes every session. */
export const layer = (options: Options = {}): Layer.Layer<Sessions, never, SandboxPool.SandboxPool> =>
  Layer.scoped(
    Sessions,
    Effect.gen(function* () {
      const pool = yield* SandboxPool.SandboxPool
      const idleTimeout = Duration.decode(options.idleTimeout ?? "5 minutes")
      const maxSessions = options.maxSessions ?? 20
      const sessions = new Map<string, OpenSession>()
      let opening = 0

      const closeSession = (id: string, session: OpenSession) =>
        Effect.suspend(() => {
          sessions.delete(id)
          return Scope.close(session.scope, Exit.void)
        })

      const find = (sessionId: string) =>
        Effect.suspend(() => {
          const session = sessions.get(sessionId)
          return session === undefined ? Effect.fail(new SessionNotFound({ sessionId })) : Effect.succeed(session)
        })

      /** Runs `effect` as the session's one command, keeping the session from being closed for idleness. */
      const using = <A, E, R>(session: OpenSession, effect: Effect.Effect<A, E, R>) =>
        session.lock.withPermits(1)(
          Effect.acquireUseRelease(
            Effect.sync(() => {
              session.busy += 1
            }),
            () => effect,
            () =>
              Effect.flatMap(Clock.currentTimeMillis, (now) =>
                Effect.sync(() => {
                  session.busy -= 1
                  session.lastUsed = now
                })
              )
          )
        )

      const open: Service["open"] = (language) =>
        Effect.acquireUseRelease(
          Effect.suspend(() => {
            if (sessions.size + opening >= maxSessions) {
              return Effect.fail(new Unavailable({ message: `at most ${maxSessions} sessions are open at once` }))
            }
            opening += 1
            return Effect.void
          }),
          () =>
            Effect.gen(function* () {
              const scope = yield* Scope.make()
              const sandbox = yield* Effect.gen(function* () {
                const leased = yield* pool.lease({ language }).pipe(Scope.extend(scope))
                yield* pool.discard(leased)
                yield* leased.process.createSession(processSession)
                return leased
              }).pipe(
                Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause))),
                Effect.mapError(toRunError),
                Effect.catchTag("RunTimeout", (error) => Effect.fail(new Unavailable({ message: error.message })))
              )
              const sessionId = crypto.randomUUID()
              sessions.set(sessionId, {
                sandbox,
                language,
                scope,
                lock: yield* Effect.makeSemaphore(1),
                lastUsed: yield* Clock.currentTimeMillis,
                busy: 0
              })
              return new SessionInfo({ sessionId, language, idleTimeoutSeconds: Duration.toSeconds(idleTimeout) })
            }),
          () =>
            Effect.sync(() => {
              opening -= 1
            })
        ).pipe(Effect.withSpan("Sessions.open", { attributes: { "run.language": language } }))

      const exec: Service["exec"] = (sessionId, request) =>
        Effect.gen(function* () {
          const session = yield* find(sessionId)
          const start = yield* Clock.currentTimeMillis
          const timeout =
            request.timeoutSeconds === undefined ? defaultTimeout : Duration.seconds(request.timeoutSeconds)
          const result = yield* using(
            session,
            session.sandbox.process.executeSessionCommand(
              processSession,
              { command: request.command },
              { requestTimeout: timeout }
            )
          ).pipe(
            Effect.mapError(toRunError),
            Effect.catchTag("RunTimeout", (error) =>
              // The shell still runs the command: the session cannot take another one.
              Effect.zipRight(closeSession(sessionId, session), Effect.fail(error))
            )
          )
          const end = yield* Clock.currentTimeMillis
          return new RunResult({
            output: result.stdout + result.stderr,
            exitCode: result.exitCode ?? -1,
            durationMs: end - start
          })
        }).pipe(Effect.withSpan("Sessions.exec"))

      const stream: Service["stream"] = (sessionId, request) =>
        Effect.gen(function* () {
          const session = yield* find(sessionId)
          const timeout =
            request.timeoutSeconds === undefined ? defaultTimeout : Duration.seconds(request.timeoutSeconds)
          // The session is held from the start of the command to the end of its followed log.
          const held = yield* Scope.make()
          yield* Effect.acquireRelease(
            Effect.zipRight(
              session.lock.take(1),
              Effect.sync(() => {
                session.busy += 1
              })
            ),
            () =>
              Effect.flatMap(Clock.currentTimeMillis, (now) =>
                Effect.zipRight(
                  Effect.sync(() => {
                    session.busy -= 1
                    session.lastUsed = now
                  }),
                  session.lock.release(1)
                )
              )
          ).pipe(Scope.extend(held))
          const command = yield* session.sandbox.process
            .executeSessionCommand(processSession, { command: request.command, runAsync: true })
            .pipe(
              Effect.mapError(toRunError),
              Effect.onError((cause) => Scope.close(held, Exit.failCause(cause)))
            )
          const deadline: Stream.Stream<StreamEvent> = Stream.fromEffect(
            Effect.as(Effect.sleep(timeout), { _tag: "Timeout" as const })
          )
          return session.sandbox.process.followSessionCommandLogs(processSession, command.cmdId).pipe(
            Stream.mapError((error) => new SandboxFailure({ message: `${error._tag}: ${error.message}` })),
            Stream.merge(deadline, { haltStrategy: "either" }),
            Stream.takeUntil((event) => event._tag === "Exit" || event._tag === "Timeout"),
            Stream.ensuring(Scope.close(held, Exit.void)),
            Stream.tap((event) =>
              // The shell still runs the command: the session cannot take another one.
              event._tag === "Timeout" ? Effect.forkDaemon(closeSession(sessionId, session)) : Effect.void
            )
          )
        }).pipe(Effect.withSpan("Sessions.stream"))

      const close: Service["close"] = (sessionId) =>
        Effect.flatMap(find(sessionId), (session) => closeSession(sessionId, session))

      const closeIdle = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        for (const [id, session] of sessions) {
          if (session.busy === 0 && now - session.lastUsed >= Duration.toMillis(idleTimeout)) {
            yield* closeSession(id, session)
          }
        }
      })
      yield* Effect.forkScoped(
        Effect.repeat(closeIdle, Schedule.spaced(Duration.min(idleTimeout, Duration.seconds(10))))
      )
      yield* Effect.addFinalizer(() =>
        Effect.forEach([...sessions], ([id, session]) => closeSession(id, session), {
          concurrency: "unbounded",
          discard: true
        })
      )

      return { open, exec, stream, close, size: Effect.sync(() => sessions.size) }
    })
  )
