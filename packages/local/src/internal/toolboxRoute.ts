import type * as Endpoint from "@effect-daytona/sdk/Endpoint"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { SandboxEngine } from "../SandboxEngine.js"
import { desktopEnv } from "./desktopState.js"
import * as EndpointRoute from "./endpointRoute.js"
import type { SandboxRecord } from "./record.js"
import { processEnvOf } from "./sandboxData.js"
import { SandboxesService } from "./sandboxes.js"
import {
  badRequest,
  fileAccessDenied,
  internal,
  requestTimeout,
  sandboxNotStarted,
  type DaemonError,
  daemonErrorResponse
} from "./daemonError.js"

/** What a toolbox route handler may use. */
export type RouteRequirements =
  | SandboxesService
  | SandboxEngine
  | HttpServerRequest.HttpServerRequest
  | HttpServerRequest.ParsedSearchParams
  | HttpRouter.RouteContext

/**
 * The handler of a declared toolbox endpoint: the started sandbox the request addresses and the
 * request's parts decoded by the declaration in; a response, or the declared answer, out.
 */
export type EndpointHandler<T extends Endpoint.Any> = (
  sandbox: SandboxRecord,
  input: EndpointRoute.Input<T>
) => Effect.Effect<HttpServerResponse.HttpServerResponse | Endpoint.EncodedSuccessOf<T>, DaemonError, RouteRequirements>

/** A request that does not fit its declaration, in the daemon's words. */
const rejected = (rejection: EndpointRoute.Rejection) =>
  badRequest(
    rejection.malformed !== undefined ? `invalid request body: ${rejection.malformed}` : rejection.messages.join(", ")
  )

/**
 * Serves a declared toolbox endpoint under `/{sandboxId}`: the sandbox must be started (answered as
 * the runner does otherwise), then the request must fit the declaration, then the handler answers;
 * failures get the daemon's error body.
 */
export const serve = <T extends Endpoint.Any>(endpoint: T, handler: EndpointHandler<T>) =>
  HttpRouter.route(endpoint.method)(
    `/:sandboxId${EndpointRoute.routerPath(endpoint)}` as HttpRouter.PathInput,
    Effect.gen(function* () {
      const params = yield* HttpRouter.params
      const sandbox = yield* Effect.flatMap(SandboxesService, (service) => service.running(params.sandboxId ?? ""))
      const input = yield* EndpointRoute.decodeInput(endpoint).pipe(Effect.mapError(rejected))
      return EndpointRoute.respond(endpoint, yield* handler(sandbox, input))
    }).pipe(Effect.catchTag("DaemonError", daemonErrorResponse))
  )

/** An answer with no body. */
export const empty = (status: number) => HttpServerResponse.empty({ status })

/**
 * The one place where a path as the sandbox's processes see it becomes a host path: relative paths
 * start at the sandbox's home, and a path the sandbox could not use that way is refused.
 */
export const resolveSandboxPath = (sandbox: SandboxRecord, path: string, access: "read" | "write") =>
  Effect.flatMap(SandboxEngine, (engine) => engine.resolvePath(sandbox.id, path, access)).pipe(
    Effect.catchTag("PathNotAccessible", (error) => Effect.fail(fileAccessDenied(error.message)))
  )

/** The sandbox's temporary directory, on the host and as its processes see it. */
export const sandboxTmp = (sandbox: SandboxRecord) =>
  Effect.map(SandboxEngine, (engine) => {
    const host = engine.paths(sandbox.id).tmp
    return { host, inside: engine.isolation === "bwrap" ? "/tmp" : host }
  })

/**
 * Runs a process in the sandbox (isolation applies), with the sandbox's own environment plus
 * `env` (and `DISPLAY` while its desktop runs), failing with the daemon's answers: a timeout, a sandbox that is not started, an engine
 * failure.
 */
export const runInSandbox = (
  sandbox: SandboxRecord,
  argv: ReadonlyArray<string>,
  options: {
    readonly cwd?: string | undefined
    readonly env?: Readonly<Record<string, string>> | undefined
    readonly timeout?: Duration.Duration | undefined
  } = {}
) =>
  refuseNul(argv, options.cwd, options.env).pipe(
    Effect.zipRight(Effect.zip(SandboxEngine, desktopEnv(sandbox.id))),
    Effect.flatMap(([engine, display]) =>
      engine.run(sandbox.id, {
        argv,
        cwd: options.cwd,
        env: { ...display, ...processEnvOf(sandbox), ...options.env },
        timeout: options.timeout
      })
    ),
    Effect.catchTags({
      ProcessTimeout: () => Effect.fail(requestTimeout("command execution timeout")),
      SandboxNotRunning: () => Effect.fail(sandboxNotStarted(sandbox.id)),
      EngineError: (error) => Effect.fail(internal(error.message))
    })
  )

/**
 * Refuses, with the daemon's 400, what a process is to be started with (its arguments, directory and
 * environment) when a string of it holds a NUL character: no process can be given one, and the
 * spawn's own complaint would show the server's argument layout.
 */
export const refuseNul = (
  argv: ReadonlyArray<string>,
  cwd: string | undefined,
  env: Readonly<Record<string, string>> | undefined
): Effect.Effect<void, DaemonError> => {
  const holdsNul = (value: string) => value.includes("\u0000")
  if (argv.some(holdsNul)) return Effect.fail(badRequest("the command must not contain a NUL character"))
  if (cwd !== undefined && holdsNul(cwd)) return Effect.fail(badRequest("cwd must not contain a NUL character"))
  if (env !== undefined && Object.entries(env).some(([name, value]) => holdsNul(name) || holdsNul(value))) {
    return Effect.fail(badRequest("environment variables must not contain a NUL character"))
  }
  return Effect.void
}

/** A real-time pause (not the Effect `Clock`): polling files for another process's progress. */
export const pause = (millis: number) =>
  Effect.async<void>((resume) => {
    const timer = setTimeout(() => resume(Effect.void), millis)
    return Effect.sync(() => clearTimeout(timer))
  })

/** Whether a process could not be started because the sandbox has none left (its process limit). */
export const outOfProcesses = (text: string): boolean =>
  /cannot fork|resource temporarily unavailable|\bEAGAIN\b/i.test(text)

/** The daemon's 400 for what the sandbox's process limit refused. */
export const noProcessesLeft = (what: string) =>
  badRequest(`cannot create ${what}: the sandbox has no processes left (its process limit); end some first`)

/**
 * Why a session's id (process sessions, PTY sessions) is not acceptable, or `undefined`: it is a
 * segment of the routes' URLs, so it holds no slash and no control character, and is short.
 */
export const sessionIdProblem = (id: string): string | undefined => {
  if (id.length > maxSessionIdLength) return `session ID too long (at most ${maxSessionIdLength} characters)`
  if (/[/\\\u0000-\u001f\u007f]/.test(id))
    return "session ID must not contain a slash, a backslash or a control character"
  return undefined
}

const maxSessionIdLength = 256
