import { processEnvOf } from "./sandboxData.js"
import * as PtyDto from "@effect-daytona/sdk/PtyDto"
import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Socket from "@effect/platform/Socket"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Mailbox from "effect/Mailbox"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs/promises"
import { SandboxEngine } from "../SandboxEngine.js"
import type * as SandboxTerminal from "../SandboxTerminal.js"
import { badRequest, conflict, notFound } from "./daemonError.js"
import { json } from "./http.js"
import type { SandboxRecord } from "./record.js"
import { environmentProblem } from "./environment.js"
import * as SandboxRegistry from "./sandboxRegistry.js"
import { type EndpointHandler, resolveSandboxPath, serve, sessionIdProblem } from "./toolboxRoute.js"

/** How many sessions a sandbox may have at once (each is a shell and a relay in it). */
const maxSessions = 16

/** Clients attached to one session at once: each may hold up to `maxQueuedBytes` of its output. */
const maxClients = 8

/** What a terminal keeps of its latest output, replayed to a client that attaches (or comes back). */
const replayBytes = 64 * 1024

/** How much output a slow client may have waiting before it is dropped (the terminal never waits for it). */
const maxQueuedBytes = 8 * 1024 * 1024

/** One frame for a client: terminal bytes, a control message (JSON text), or the close frame. */
type Frame = Uint8Array | string | Socket.CloseEvent

interface Client {
  readonly exitControl: boolean
  readonly offer: (frame: Frame) => void
}

interface PtySession {
  readonly id: string
  readonly cwd: string
  readonly envs: Readonly<Record<string, string>>
  readonly createdAt: string
  readonly lazyStart: boolean
  cols: number
  rows: number
  terminal: SandboxTerminal.Terminal | undefined
  /** Set once the shell was asked to start (at create, or at the first connection of a lazy session). */
  starting: boolean
  ended: boolean
  readonly clients: Set<Client>
  /** The latest output, at most `replayBytes`. */
  recent: Buffer
}

const sessionsOf = SandboxRegistry.make(() => new Map<string, PtySession>())

const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Why a set of variables cannot be an environment (a name that is not one, a NUL byte in a value), if it cannot. */
export const envProblem = (envs: Readonly<Record<string, string>>): string | undefined => {
  const badName = Object.keys(envs).find((key) => !envKey.test(key))
  return badName === undefined ? environmentProblem(envs) : `invalid environment variable name: ${badName}`
}

const checkEnvs = (envs: Readonly<Record<string, string>>) => {
  const problem = envProblem(envs)
  return problem === undefined ? Effect.void : Effect.fail(badRequest(problem))
}

/**
 * The working directory as the sandbox sees it, checked to be a directory of the sandbox (the
 * sandbox's home when none is given).
 */
export const workingDirectory = (sandbox: SandboxRecord, cwd: string | undefined) =>
  Effect.gen(function* () {
    const engine = yield* SandboxEngine
    const inside = cwd === undefined || cwd === "" ? engine.paths(sandbox.id).homeInSandbox : cwd
    const missing = badRequest(`working directory ${inside} does not exist or is not a directory`)
    const host = yield* resolveSandboxPath(sandbox, inside, "read").pipe(Effect.mapError(() => missing))
    const isDirectory = yield* Effect.promise(() =>
      NodeFs.stat(host).then(
        (status) => status.isDirectory(),
        () => false
      )
    )
    if (!isDirectory) return yield* missing
    return inside
  })

const info = (session: PtySession): typeof PtyDto.PtySessionInfo.Encoded => ({
  id: session.id,
  cwd: session.cwd,
  envs: session.envs,
  cols: session.cols,
  rows: session.rows,
  createdAt: session.createdAt,
  active: session.terminal !== undefined && !session.ended,
  lazyStart: session.lazyStart
})

const control = (message: typeof PtyDto.PtyControlMessage.Encoded) => JSON.stringify(message)

const keepRecent = (session: PtySession, chunk: Uint8Array) => {
  const joined = Buffer.concat([session.recent, chunk])
  session.recent = joined.length > replayBytes ? joined.subarray(joined.length - replayBytes) : joined
}

/** Ends a session whose shell exited: every client gets the exit code, then the close frame carrying it. */
const finish = (sessions: Map<string, PtySession>, session: PtySession, exitCode: number) => {
  session.ended = true
  if (sessions.get(session.id) === session) sessions.delete(session.id)
  const exitReason = PtyDto.exitReason(exitCode)
  const reason = JSON.stringify({ exitCode, ...(exitReason === undefined ? {} : { exitReason }) })
  for (const client of session.clients) {
    if (client.exitControl)
      client.offer(
        control({ type: "control", status: "exited", exitCode, ...(exitReason === undefined ? {} : { exitReason }) })
      )
    client.offer(new Socket.CloseEvent(exitCode === 0 ? 1000 : 1011, reason))
  }
  session.clients.clear()
}

/** Starts a session's shell and the fiber that hands its output to the clients. */
const start = (sandbox: SandboxRecord, sessions: Map<string, PtySession>, session: PtySession) =>
  Effect.gen(function* () {
    session.starting = true
    const engine = yield* SandboxEngine
    const terminal = yield* engine
      .openTerminal(sandbox.id, {
        cwd: session.cwd,
        env: { ...processEnvOf(sandbox), ...session.envs },
        cols: session.cols,
        rows: session.rows
      })
      .pipe(
        Effect.tapError(() =>
          Effect.sync(() => {
            session.ended = true
            if (sessions.get(session.id) === session) sessions.delete(session.id)
          })
        ),
        Effect.mapError((error) =>
          error._tag === "SandboxNotRunning"
            ? badRequest(`sandbox ${sandbox.id} is not started`)
            : badRequest(`the PTY session could not start in the sandbox: ${error.message}`)
        )
      )
    session.terminal = terminal
    const relay = terminal.output.pipe(
      Stream.runForEach((chunk) =>
        Effect.sync(() => {
          keepRecent(session, chunk)
          for (const client of session.clients) client.offer(chunk)
        })
      ),
      Effect.zipRight(terminal.exitCode),
      Effect.flatMap((exitCode) => Effect.sync(() => finish(sessions, session, exitCode)))
    )
    yield* Effect.forkDaemon(relay)
  })

/** The subprotocols a WebSocket request offers. */
const offeredProtocols = Effect.map(HttpServerRequest.HttpServerRequest, (request) =>
  (request.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== "")
)

const isUpgrade = Effect.map(
  HttpServerRequest.HttpServerRequest,
  (request) => (request.headers["upgrade"] ?? "").toLowerCase() === "websocket"
)

const EnvsJson = Schema.parseJson(Schema.Record({ key: Schema.String, value: Schema.String }))

/** The environment a `create-connect` request carries in its `X-Daytona-Pty-Envs~` subprotocol. */
const envsFromProtocols = (protocols: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const token = protocols.find((protocol) => protocol.startsWith(PtyDto.envsProtocolPrefix))
    if (token === undefined) return {}
    const encoded = token.slice(PtyDto.envsProtocolPrefix.length)
    const decoded = Schema.decodeUnknownEither(EnvsJson)(Buffer.from(encoded, "base64url").toString("utf8"))
    if (Either.isLeft(decoded) || !/^[A-Za-z0-9_-]*$/.test(encoded))
      return yield* badRequest("invalid envs subprotocol: expected the base64url JSON object of the variables")
    yield* checkEnvs(decoded.right)
    return decoded.right
  })

/**
 * Serves one client of a session's terminal over an upgraded request: `connected`, the latest output,
 * then the output as it comes; what the client sends is typed into the terminal. Ends when the client
 * goes, or when the session ends (after the exit code and the close frame).
 */
const attach = (sandbox: SandboxRecord, sessions: Map<string, PtySession>, session: PtySession) =>
  Effect.gen(function* () {
    const exitControl = (yield* offeredProtocols).includes(PtyDto.exitControlProtocol)
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = yield* request.upgrade
    const write = yield* socket.writer
    const outgoing = yield* Mailbox.make<Frame>()
    let queued = 0
    let dropped = false
    const client: Client = {
      exitControl,
      offer: (frame) => {
        if (dropped) return
        if (frame instanceof Uint8Array) {
          if (queued + frame.length > maxQueuedBytes) {
            dropped = true
            session.clients.delete(client)
            outgoing.unsafeOffer(new Socket.CloseEvent(1008, "slow consumer"))
            return
          }
          queued += frame.length
        }
        outgoing.unsafeOffer(frame)
      }
    }
    const sender = yield* Mailbox.toStream(outgoing).pipe(
      Stream.runForEach((frame) =>
        Effect.zipRight(
          write(frame),
          Effect.sync(() => {
            if (frame instanceof Uint8Array) queued -= frame.length
          })
        )
      ),
      Effect.fork
    )
    if (!session.starting) {
      session.starting = true
      const started = yield* Effect.either(start(sandbox, sessions, session))
      if (Either.isLeft(started)) {
        client.offer(control({ type: "control", status: "error", error: started.left.message }))
        client.offer(new Socket.CloseEvent(1011, JSON.stringify({ error: started.left.message })))
      }
    }
    if (!session.ended && session.clients.size >= maxClients) {
      client.offer(
        new Socket.CloseEvent(1008, `too many clients on this PTY session (at most ${maxClients}): close one first`)
      )
      dropped = true
    } else if (!session.ended) {
      client.offer(control({ type: "control", status: "connected" }))
      if (session.recent.length > 0) client.offer(new Uint8Array(session.recent))
      session.clients.add(client)
    }
    const reader = socket.runRaw((data) => {
      const terminal = session.terminal
      if (terminal === undefined || session.ended || dropped) return
      const bytes =
        typeof data === "string" ? Buffer.from(data, "utf8") : data instanceof Uint8Array ? data : new Uint8Array(data)
      return Effect.flatMap(terminal.write(bytes), (accepted) =>
        accepted || session.ended
          ? Effect.void
          : Effect.sync(() => {
              dropped = true
              session.clients.delete(client)
              outgoing.unsafeOffer(new Socket.CloseEvent(1008, "the terminal is not reading its input"))
            })
      )
    })
    yield* reader.pipe(Effect.ignore)
    session.clients.delete(client)
    yield* Fiber.interrupt(sender)
    return HttpServerResponse.empty()
  }).pipe(
    Effect.scoped,
    Effect.catchAll(() => Effect.succeed(HttpServerResponse.empty()))
  )

/** A client that asked for a session that cannot be attached: the daemon upgrades, says why and closes. */
const refuse = (message: string) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = yield* request.upgrade
    const write = yield* socket.writer
    const reader = yield* Effect.fork(socket.runRaw(() => {}))
    yield* write(control({ type: "control", status: "error", error: message }))
    yield* write(new Socket.CloseEvent(1008, JSON.stringify({ error: message })))
    yield* Fiber.join(reader).pipe(Effect.timeout("2 seconds"), Effect.ignore)
    return HttpServerResponse.empty()
  }).pipe(
    Effect.scoped,
    Effect.catchAll(() => Effect.succeed(HttpServerResponse.empty()))
  )

const newSession = (
  sandbox: SandboxRecord,
  options: {
    readonly id: string
    readonly cwd: string | undefined
    readonly envs: Readonly<Record<string, string>>
    readonly cols: number
    readonly rows: number
    readonly lazyStart: boolean
  }
) =>
  Effect.gen(function* () {
    if (options.id === "") return yield* badRequest("session ID is required")
    const idProblem = sessionIdProblem(options.id)
    if (idProblem !== undefined) return yield* badRequest(idProblem)
    const sessions = yield* sessionsOf(sandbox.id)
    if (sessions.has(options.id)) return yield* conflict(`PTY session with ID '${options.id}' already exists`)
    if (sessions.size >= maxSessions)
      return yield* badRequest(`too many PTY sessions in this sandbox (at most ${maxSessions}): kill one first`)
    yield* checkEnvs(options.envs)
    const cwd = yield* workingDirectory(sandbox, options.cwd)
    const session: PtySession = {
      id: options.id,
      cwd,
      envs: { TERM: "xterm-256color", ...options.envs },
      createdAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
      lazyStart: options.lazyStart,
      cols: options.cols,
      rows: options.rows,
      terminal: undefined,
      starting: false,
      ended: false,
      clients: new Set(),
      recent: Buffer.alloc(0)
    }
    // Checked again after the wait for the working directory: requests made at once all passed the first check.
    if (sessions.has(options.id)) return yield* conflict(`PTY session with ID '${options.id}' already exists`)
    if (sessions.size >= maxSessions)
      return yield* badRequest(`too many PTY sessions in this sandbox (at most ${maxSessions}): kill one first`)
    sessions.set(session.id, session)
    return { sessions, session }
  })

const createSession: EndpointHandler<typeof ToolboxApi.createPtySession> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const { sessions, session } = yield* newSession(sandbox, {
      id: payload.id ?? "",
      cwd: payload.cwd,
      envs: payload.envs ?? {},
      cols: payload.cols ?? 80,
      rows: payload.rows ?? 24,
      lazyStart: payload.lazyStart === true
    })
    if (!session.lazyStart) yield* start(sandbox, sessions, session)
    return { sessionId: session.id }
  })

const createAndConnect: EndpointHandler<typeof ToolboxApi.createAndConnectPtySession> = (sandbox, { query }) =>
  Effect.gen(function* () {
    if (!(yield* isUpgrade)) return yield* badRequest("a WebSocket upgrade is required")
    const envs = yield* envsFromProtocols(yield* offeredProtocols)
    const { sessions, session } = yield* newSession(sandbox, {
      id: query.id,
      cwd: query.cwd,
      envs,
      cols: query.cols ?? 80,
      rows: query.rows ?? 24,
      lazyStart: false
    })
    return yield* attach(sandbox, sessions, session)
  })

const connect: EndpointHandler<typeof ToolboxApi.connectPtySession> = (sandbox, { params }) =>
  Effect.gen(function* () {
    const sessions = yield* sessionsOf(sandbox.id)
    const session = sessions.get(params.sessionId)
    if (!(yield* isUpgrade)) {
      if (session === undefined) return yield* notFound("PTY session not found")
      return yield* badRequest("a WebSocket upgrade is required")
    }
    if (session === undefined || session.ended)
      return yield* refuse(`Failed to connect to PTY session: PTY session ${params.sessionId} not found`)
    return yield* attach(sandbox, sessions, session)
  })

const sessionOf = (sandbox: SandboxRecord, id: string) =>
  Effect.flatMap(sessionsOf(sandbox.id), (sessions) => {
    const session = sessions.get(id)
    return session === undefined || session.ended
      ? Effect.fail(notFound("PTY session not found"))
      : Effect.succeed(session)
  })

const resize: EndpointHandler<typeof ToolboxApi.resizePtySession> = (sandbox, { params, payload }) =>
  Effect.gen(function* () {
    const session = yield* sessionOf(sandbox, params.sessionId)
    session.cols = payload.cols
    session.rows = payload.rows
    if (session.terminal !== undefined) yield* session.terminal.resize(payload.cols, payload.rows)
    return info(session)
  })

const kill: EndpointHandler<typeof ToolboxApi.deletePtySession> = (sandbox, { params }) =>
  Effect.gen(function* () {
    const session = yield* sessionOf(sandbox, params.sessionId)
    const sessions = yield* sessionsOf(sandbox.id)
    sessions.delete(session.id)
    if (session.terminal === undefined) finish(sessions, session, 137)
    else yield* session.terminal.kill
    return { message: "PTY session deleted" }
  })

/** The daemon's pseudo-terminal routes. */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.createPtySession, createSession),
  serve(ToolboxApi.listPtySessions, (sandbox) =>
    Effect.map(sessionsOf(sandbox.id), (sessions) => json({ sessions: [...sessions.values()].map(info) }))
  ),
  serve(ToolboxApi.getPtySession, (sandbox, { params }) => Effect.map(sessionOf(sandbox, params.sessionId), info)),
  serve(ToolboxApi.deletePtySession, kill),
  serve(ToolboxApi.resizePtySession, resize),
  serve(ToolboxApi.connectPtySession, connect),
  serve(ToolboxApi.createAndConnectPtySession, createAndConnect)
)
