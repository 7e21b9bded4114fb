import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Socket from "@effect/platform/Socket"
import type { Command, Session } from "@effect-daytona/sdk/ToolboxDto"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as NodeCrypto from "node:crypto"
import type * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { type Plumbing, SandboxEngine, type SandboxView } from "../SandboxEngine.js"
import * as SandboxRegistry from "./sandboxRegistry.js"
import { json } from "./http.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { cutNotice, maxOutput } from "./spawn.js"
import { badRequest, conflict, internal, notFound, sandboxNotStarted } from "./daemonError.js"
import { viewOf } from "./toolboxFs.js"
import {
  empty,
  type EndpointHandler,
  noProcessesLeft,
  outOfProcesses,
  pause,
  runInSandbox,
  sandboxTmp,
  serve,
  sessionIdProblem
} from "./toolboxRoute.js"

/**
 * Where a session's files live: the sandbox's `/tmp/.daytona/sessions`, written by the session's
 * shell inside the sandbox. The server only reads them, through the sandbox's view and without
 * following a final link, so whatever the sandbox puts there it reads only the sandbox's own files.
 */
interface CommandState {
  readonly id: string
  readonly command: string
  /** The command's directory, as the sandbox sees it. */
  readonly dir: string
  exitCode: number | undefined
  input: NodeFs.FileHandle | undefined
}

interface SessionState {
  readonly id: string
  readonly view: SandboxView
  readonly dirInside: string
  readonly writer: NodeFs.FileHandle
  readonly write: Effect.Semaphore
  readonly commands: Map<string, CommandState>
  shell: Fiber.RuntimeFiber<unknown, unknown> | undefined
  alive: boolean
  shellExit: number | undefined
}

/** Sessions of every sandbox. */
const sessionRegistry = SandboxRegistry.make(() => new Map<string, SessionState>())

const sessionsOf = (sandbox: SandboxRecord) => sessionRegistry(sandbox.id)

const entrypoint = "entrypoint"
const stdoutPrefix = "\\001\\001\\001"
const stderrPrefix = "\\002\\002\\002"

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`

/** Creates a directory and its pipes inside the sandbox, as the sandbox's own user. */
const prepare = (sandbox: SandboxRecord, what: string, plumbing: Plumbing) =>
  Effect.flatMap(SandboxEngine, (engine) => engine.prepare(sandbox.id, plumbing)).pipe(
    Effect.catchTags({
      ProcessTimeout: () => Effect.fail(internal(`cannot create ${what}: it took too long`)),
      SandboxNotRunning: () => Effect.fail(sandboxNotStarted(sandbox.id)),
      EngineError: (error) =>
        Effect.fail(
          outOfProcesses(error.message) ? noProcessesLeft(what) : internal(`cannot create ${what}: ${error.message}`)
        )
    })
  )

/** Sessions one sandbox may hold at once: each keeps a shell and two descriptors of the server. */
const maxSessions = 32

const fsCall = <A>(what: string, f: () => Promise<A>) =>
  Effect.tryPromise({
    try: f,
    catch: (cause) => internal(`${what}: ${cause instanceof Error ? cause.message : "failed"}`)
  })

const exists = (view: SandboxView, path: string) => Effect.promise(() => SandboxFs.exists(view, path))

/** Splits a log in the daemon's format (`01 01 01` before stdout lines, `02 02 02` before stderr). */
const demux = (log: Buffer) => {
  const out: Array<Buffer> = []
  const err: Array<Buffer> = []
  let current: Array<Buffer> | undefined
  let start = 0
  let i = 0
  while (i <= log.length - 3) {
    const byte = log[i]
    if ((byte === 1 || byte === 2) && log[i + 1] === byte && log[i + 2] === byte) {
      if (current !== undefined && i > start) current.push(log.subarray(start, i))
      current = byte === 1 ? out : err
      i += 3
      start = i
    } else i++
  }
  if (current !== undefined && log.length > start) current.push(log.subarray(start))
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }
}

const readExitCode = (session: SessionState, command: CommandState) =>
  Effect.gen(function* () {
    if (command.exitCode !== undefined) return command.exitCode
    const text = yield* Effect.promise(() =>
      SandboxFs.readTail(session.view, NodePath.posix.join(command.dir, "exit_code"), 64).then(
        (tail) => (tail.cut === 0 ? tail.bytes.toString("utf8") : ""),
        () => ""
      )
    )
    const code = /^-?\d+/.exec(text.trim())
    if (code !== null) command.exitCode = Number(code[0])
    return command.exitCode
  })

const closeInput = (command: CommandState) =>
  Effect.promise(async () => {
    const input = command.input
    command.input = undefined
    await input?.close().catch(() => undefined)
  })

/** Whether a command has ended and its log is complete (or its session is gone). */
const finished = (session: SessionState, command: CommandState) =>
  Effect.gen(function* () {
    if (!session.alive) return true
    if ((yield* readExitCode(session, command)) === undefined) return false
    return yield* exists(session.view, NodePath.posix.join(command.dir, "done"))
  })

const shellEnded = (sessions: Map<string, SessionState>, session: SessionState, exitCode: number) =>
  Effect.gen(function* () {
    session.alive = false
    session.shellExit = exitCode
    if (sessions.get(session.id) === session) sessions.delete(session.id)
    for (const command of session.commands.values()) {
      if ((yield* readExitCode(session, command)) === undefined) command.exitCode = exitCode
      yield* closeInput(command)
    }
    yield* Effect.promise(() => session.writer.close().catch(() => undefined))
  })

const createSession: EndpointHandler<typeof ToolboxApi.createSession> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const { sessionId } = payload
    if (sessionId === "") return yield* badRequest("sessionId is required")
    if (sessionId === entrypoint) return yield* badRequest(`session id ${entrypoint} is reserved`)
    const idProblem = sessionIdProblem(sessionId)
    if (idProblem !== undefined) return yield* badRequest(idProblem)
    const sessions = yield* sessionsOf(sandbox)
    if (sessions.has(sessionId)) return yield* conflict("session already exists")
    if (sessions.size >= maxSessions)
      return yield* badRequest(`too many sessions in this sandbox (at most ${maxSessions}): delete one first`)
    const tmp = yield* sandboxTmp(sandbox)
    const view = yield* viewOf(sandbox)
    const dirInside = NodePath.posix.join(tmp.inside, ".daytona", "sessions", NodeCrypto.randomUUID())
    yield* prepare(sandbox, "the session's directory", {
      directory: dirInside,
      parents: true,
      files: [],
      fifos: ["shell.pipe"]
    })
    // The shell's pipe is closed when its shell ends: from the open to the shell's fork, nothing may
    // interrupt and leave the handle behind (all of it is quick).
    yield* Effect.uninterruptible(
      Effect.gen(function* () {
        const writer = yield* fsCall("cannot open the session's shell", () =>
          SandboxFs.openPipe(view, NodePath.posix.join(dirInside, "shell.pipe"))
        )
        const session: SessionState = {
          id: sessionId,
          view,
          dirInside,
          writer,
          write: yield* Effect.makeSemaphore(1),
          commands: new Map(),
          shell: undefined,
          alive: true,
          shellExit: undefined
        }
        sessions.set(sessionId, session)
        const shell = runInSandbox(sandbox, [
          "/bin/sh",
          "-c",
          'if command -v bash >/dev/null 2>&1; then exec bash --noprofile --norc -s < "$0"; else exec /bin/sh -s < "$0"; fi',
          NodePath.posix.join(dirInside, "shell.pipe")
        ]).pipe(
          Effect.matchEffect({
            onFailure: () => shellEnded(sessions, session, 1),
            onSuccess: (result) => shellEnded(sessions, session, result.exitCode)
          })
        )
        // A fork inherits the region's uninterruptibility: the shell must stay interruptible.
        session.shell = yield* Effect.forkDaemon(Effect.interruptible(shell))
      })
    )
    return empty(201)
  })

const sessionOf = (sandbox: SandboxRecord, id: string) =>
  Effect.flatMap(sessionsOf(sandbox), (sessions) => {
    const session = sessions.get(id)
    return session === undefined ? Effect.fail(notFound("session not found")) : Effect.succeed(session)
  })

const commandOf = (session: SessionState, id: string) => {
  const command = session.commands.get(id)
  return command === undefined ? Effect.fail(notFound("command not found")) : Effect.succeed(command)
}

const commandDto = (session: SessionState, command: CommandState) =>
  Effect.map(
    readExitCode(session, command),
    (exitCode): Command => ({
      id: command.id,
      command: command.command,
      ...(exitCode === undefined ? {} : { exitCode })
    })
  )

const sessionDto = (session: SessionState) =>
  Effect.map(
    Effect.forEach(session.commands.values(), (command) => commandDto(session, command)),
    (commands): Session => ({ sessionId: session.id, commands })
  )

/** The shell text that runs one command: its output lines prefixed into the log, then its exit code. */
const wrapper = (dirInside: string, command: string) => `{
__daytona_d=${quote(dirInside)}
( while IFS= read -r __daytona_l || [ -n "$__daytona_l" ]; do printf '${stdoutPrefix}%s\\n' "$__daytona_l"; done < "$__daytona_d/stdout.pipe" >> "$__daytona_d/output.log" ) &
__daytona_o=$!
( while IFS= read -r __daytona_l || [ -n "$__daytona_l" ]; do printf '${stderrPrefix}%s\\n' "$__daytona_l"; done < "$__daytona_d/stderr.pipe" >> "$__daytona_d/output.log" ) &
__daytona_e=$!
{
${command}
} < "$__daytona_d/stdin.pipe" > "$__daytona_d/stdout.pipe" 2> "$__daytona_d/stderr.pipe"
echo "$?" > "$__daytona_d/exit_code.tmp"; mv "$__daytona_d/exit_code.tmp" "$__daytona_d/exit_code"
wait "$__daytona_o" "$__daytona_e"
: > "$__daytona_d/done"
}
`

/** Waits (in real time) until a command has finished; a log held open by a background child ends the wait 2 s after the exit code. */
const awaitFinished = (session: SessionState, command: CommandState) =>
  Effect.gen(function* () {
    let sinceExit = 0
    while (!(yield* finished(session, command))) {
      if (command.exitCode !== undefined && (sinceExit += 20) > 2000) return
      yield* pause(20)
    }
  })

/** The command's log: its last `maxOutput` bytes, and how many bytes before them were cut. */
const readLog = (session: SessionState, command: CommandState) =>
  Effect.promise(() =>
    SandboxFs.readTail(session.view, NodePath.posix.join(command.dir, "output.log"), maxOutput).catch(() => ({
      bytes: Buffer.alloc(0),
      cut: 0
    }))
  )

/** The log as the daemon answers it: the whole output and each stream, after a line saying what was cut. */
const logBody = (log: { readonly bytes: Buffer; readonly cut: number }) => {
  const notice = log.cut === 0 ? "" : cutNotice(log.cut, log.bytes.length)
  const streams = demux(log.bytes)
  return { output: notice + log.bytes.toString("utf8"), stdout: notice + streams.stdout, stderr: streams.stderr }
}

const execute: EndpointHandler<typeof ToolboxApi.sessionExecuteCommand> = (sandbox, { params, payload: request }) =>
  Effect.gen(function* () {
    const sessionId = params.sessionId
    if (sessionId === entrypoint) return yield* badRequest("cannot execute commands in the entrypoint session")
    const session = yield* sessionOf(sandbox, sessionId)
    if (request.command.trim() === "") return yield* badRequest("command is required")
    const id = NodeCrypto.randomUUID()
    const dir = NodePath.posix.join(session.dirInside, id)
    yield* prepare(sandbox, "the command's directory", {
      directory: dir,
      parents: false,
      files: ["output.log"],
      fifos: ["stdout.pipe", "stderr.pipe", "stdin.pipe"]
    })
    const text = Buffer.from(wrapper(dir, request.command))
    // From the input's open to the daemon that closes it, nothing may leave the handle behind: the
    // open is not interrupted, and a send that fails or is interrupted closes the input itself.
    const command = yield* Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const input = yield* fsCall("cannot open the command's input", () =>
          SandboxFs.openPipe(session.view, NodePath.posix.join(dir, "stdin.pipe"))
        )
        const command: CommandState = { id, command: request.command, dir, exitCode: undefined, input }
        session.commands.set(id, command)
        yield* restore(
          session.write.withPermits(1)(
            fsCall("cannot send the command to the session's shell", () => session.writer.write(text))
          )
        ).pipe(Effect.onError(() => closeInput(command)))
        yield* Effect.forkDaemon(
          Effect.interruptible(awaitFinished(session, command).pipe(Effect.zipRight(closeInput(command))))
        )
        return command
      })
    )
    if (request.runAsync === true || request.async === true) return json({ cmdId: id }, 202)
    yield* awaitFinished(session, command)
    const log = yield* readLog(session, command)
    const exitCode = yield* readExitCode(session, command)
    return json({
      cmdId: id,
      ...logBody(log),
      ...(exitCode === undefined ? {} : { exitCode })
    })
  })

const maxFrame = 1024

/** Sends a command's log as binary frames of at most 1 KiB, then closes with 1000 once the command has finished. */
const followLog = (session: SessionState | undefined, command: CommandState | undefined) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const socket = yield* request.upgrade
    const reader = yield* Effect.fork(socket.runRaw(() => {}))
    const write = yield* socket.writer
    const handle =
      command === undefined
        ? undefined
        : yield* Effect.promise(() =>
            SandboxFs.openOwnFile(session!.view, NodePath.posix.join(command.dir, "output.log")).catch(() => undefined)
          )
    const buffer = Buffer.alloc(maxFrame)
    const pump = Effect.gen(function* () {
      let offset = 0
      while (handle !== undefined && session !== undefined && command !== undefined) {
        const { bytesRead } = yield* Effect.tryPromise(() => handle.read(buffer, 0, maxFrame, offset))
        if (bytesRead > 0) {
          offset += bytesRead
          yield* write(new Uint8Array(buffer.subarray(0, bytesRead)))
          continue
        }
        if ((yield* Fiber.poll(reader))._tag === "Some") return
        if (yield* finished(session, command)) {
          const rest = yield* Effect.tryPromise(() => handle.read(buffer, 0, 1, offset))
          if (rest.bytesRead === 0) return
          continue
        }
        yield* pause(20)
      }
    })
    const outcome = yield* pump.pipe(
      Effect.either,
      Effect.ensuring(Effect.promise(async () => handle?.close().catch(() => undefined)))
    )
    const code = outcome._tag === "Right" ? 1000 : 1011
    yield* write(new Socket.CloseEvent(code)).pipe(Effect.ignore)
    yield* Fiber.join(reader).pipe(Effect.timeout("2 seconds"), Effect.ignore)
    return HttpServerResponse.empty()
  }).pipe(
    Effect.scoped,
    Effect.catchAll(() => Effect.succeed(HttpServerResponse.empty()))
  )

const wantsFollow = (follow: boolean | undefined) =>
  Effect.map(
    HttpServerRequest.HttpServerRequest,
    (request) => follow === true && (request.headers["upgrade"] ?? "").toLowerCase() === "websocket"
  )

const commandLogs: EndpointHandler<typeof ToolboxApi.getSessionCommandLogs> = (sandbox, { params, query }) =>
  Effect.gen(function* () {
    const session = yield* sessionOf(sandbox, params.sessionId)
    const command = yield* commandOf(session, params.commandId)
    if (yield* wantsFollow(query.follow)) return yield* followLog(session, command)
    return json(logBody(yield* readLog(session, command)))
  })

const entrypointLogs: EndpointHandler<typeof ToolboxApi.getEntrypointLogs> = (_, { query }) =>
  Effect.gen(function* () {
    if (yield* wantsFollow(query.follow)) return yield* followLog(undefined, undefined)
    return json({ output: "", stdout: "", stderr: "" })
  })

const sendInput: EndpointHandler<typeof ToolboxApi.sendInput> = (sandbox, { params, payload }) =>
  Effect.gen(function* () {
    const session = yield* sessionOf(sandbox, params.sessionId)
    const command = yield* commandOf(session, params.commandId)
    const { data } = payload
    const input = command.input
    if (input === undefined || (yield* readExitCode(session, command)) !== undefined)
      return yield* badRequest("command is not running")
    yield* fsCall("cannot write to the command's input", () => input.write(data))
    return empty(204)
  })

const deleteSession: EndpointHandler<typeof ToolboxApi.deleteSession> = (sandbox, { params }) =>
  Effect.gen(function* () {
    const session = yield* sessionOf(sandbox, params.sessionId)
    const sessions = yield* sessionsOf(sandbox)
    sessions.delete(session.id)
    if (session.shell !== undefined) yield* Fiber.interrupt(session.shell)
    yield* shellEnded(sessions, session, 137)
    yield* Effect.promise(() => SandboxFs.remove(session.view, session.dirInside, true).catch(() => undefined))
    return empty(204)
  })

/** The daemon's session routes (persistent shells, their commands and logs). */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.createSession, createSession),
  serve(ToolboxApi.listSessions, (sandbox) =>
    Effect.flatMap(sessionsOf(sandbox), (sessions) => Effect.forEach(sessions.values(), sessionDto)).pipe(
      Effect.map((list) => json(list))
    )
  ),
  serve(ToolboxApi.getEntrypointSession, () => Effect.succeed(json({ sessionId: entrypoint, commands: [] }))),
  serve(ToolboxApi.getEntrypointLogs, entrypointLogs),
  serve(ToolboxApi.getSession, (sandbox, { params }) =>
    sessionOf(sandbox, params.sessionId).pipe(
      Effect.flatMap(sessionDto),
      Effect.map((dto) => json(dto))
    )
  ),
  serve(ToolboxApi.deleteSession, deleteSession),
  serve(ToolboxApi.sessionExecuteCommand, execute),
  serve(ToolboxApi.getSessionCommand, (sandbox, { params }) =>
    Effect.gen(function* () {
      const session = yield* sessionOf(sandbox, params.sessionId)
      const command = yield* commandOf(session, params.commandId)
      return json(yield* commandDto(session, command))
    })
  ),
  serve(ToolboxApi.getSessionCommandLogs, commandLogs),
  serve(ToolboxApi.sendInput, sendInput)
)
