import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { SandboxEngine, type SandboxView } from "../SandboxEngine.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { failureOf, type PathFailure } from "./sandboxPath.js"
import {
  badRequest,
  conflict,
  fileAccessDenied,
  fileNotFound,
  forbidden,
  notFound,
  unavailable,
  DaemonError
} from "./daemonError.js"

/** The daemon's answer for a failed file operation of the file routes (`FILE_NOT_FOUND`, `FILE_ACCESS_DENIED`, …). */
export const fileRouteError = (failure: PathFailure): DaemonError => {
  switch (failure.code) {
    case "ENOENT":
      return fileNotFound(failure.message)
    case "EACCES":
    case "EROFS":
    case "EPRIVATE":
      return fileAccessDenied(failure.message)
    case "EEXIST":
      return conflict(failure.message)
    case "EMFILE":
      return unavailable(failure.message)
    case "EIO":
      return new DaemonError({ status: 500, code: "INTERNAL_SERVER_ERROR", message: failure.message })
    default:
      return badRequest(failure.message)
  }
}

/** The daemon's answer for a failed `files/upload` or `files/download` (generic codes). */
export const transferError = (failure: PathFailure): DaemonError => {
  switch (failure.code) {
    case "ENOENT":
      return notFound(failure.message)
    case "EACCES":
    case "EROFS":
    case "EPRIVATE":
      return forbidden(failure.message)
    case "EMFILE":
      return unavailable(failure.message)
    case "EIO":
      return new DaemonError({ status: 500, code: "INTERNAL_SERVER_ERROR", message: failure.message })
    default:
      return badRequest(failure.message)
  }
}

/** How the sandbox sees the file system. */
export const viewOf = (sandbox: SandboxRecord): Effect.Effect<SandboxView, never, SandboxEngine> =>
  Effect.map(SandboxEngine, (engine) => engine.view(sandbox.id))

/**
 * Runs a file operation on the sandbox's view, answering its failure (named by `path`, the path as
 * the client gave it) the way `toError` says.
 */
export const inSandbox = <A>(
  sandbox: SandboxRecord,
  path: string,
  operation: (view: SandboxView, signal: AbortSignal) => Promise<A>,
  toError: (failure: PathFailure) => DaemonError = fileRouteError
): Effect.Effect<A, DaemonError, SandboxEngine> =>
  Effect.flatMap(viewOf(sandbox), (view) =>
    Effect.tryPromise({
      try: (signal) => operation(view, signal),
      catch: (cause) => (cause instanceof DaemonError ? cause : toError(failureOf(path, cause)))
    })
  )

/**
 * Opens a regular file of the sandbox for reading, with its status. Not interrupted while it opens:
 * the handle of a request cancelled meanwhile would be left to the garbage collector.
 */
export const openForReading = (
  sandbox: SandboxRecord,
  path: string,
  toError: (failure: PathFailure) => DaemonError = fileRouteError
) => Effect.uninterruptible(inSandbox(sandbox, path, (view) => SandboxFs.openRead(view, path), toError))

/**
 * A `content-disposition` naming a download: the name as plain ASCII (every other character, and
 * `"`, as `_`) and in full as RFC 5987's `filename*`. The name may come from the sandbox (a file it
 * made), so nothing of it reaches the header unescaped: no quote ends the parameter, no line break
 * starts another header.
 */
export const attachment = (name: string): string =>
  `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, "_")}"; filename*=utf-8''${encodeURIComponent(
    name
  ).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`

/** A regular file of the sandbox as a streamed answer, the size it had when it was opened. */
export const fileResponse = (
  sandbox: SandboxRecord,
  path: string,
  options: {
    readonly toError: (failure: PathFailure) => DaemonError
    readonly readFailed: string
    readonly contentType: string
    readonly headers: Record<string, string>
  }
): Effect.Effect<HttpServerResponse.HttpServerResponse, DaemonError, SandboxEngine> =>
  Effect.gen(function* () {
    const { handle, status } = yield* openForReading(sandbox, path, options.toError)
    if (status.size === 0) yield* Effect.promise(() => handle.close())
    return HttpServerResponse.stream(
      status.size === 0
        ? Stream.empty
        : Stream.fromAsyncIterable(
            handle.createReadStream({ start: 0, end: status.size - 1 }) as AsyncIterable<Uint8Array>,
            () => badRequest(options.readFailed)
          ),
      { contentType: options.contentType, contentLength: status.size, headers: options.headers }
    )
  })
