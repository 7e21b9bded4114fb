import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Multipart from "@effect/platform/Multipart"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { SandboxEngine } from "../SandboxEngine.js"
import type { SandboxRecord } from "./record.js"
import { badRequest, forbidden, internal, notFound } from "./toolboxError.js"
import { requiredQuery } from "./toolboxRoute.js"

/** The host path for a sandbox path, answering like the daemon when the sandbox could not use it. */
export const hostPath = (sandbox: SandboxRecord, path: string, access: "read" | "write") =>
  Effect.flatMap(SandboxEngine, (engine) => engine.resolvePath(sandbox.id, path, access)).pipe(
    Effect.catchTag("PathNotAccessible", (error) => Effect.fail(forbidden(error.message)))
  )

const ioError = (path: string) => (cause: unknown) => {
  const code = (cause as { code?: unknown } | null)?.code
  if (code === "ENOENT") return notFound(`${path}: no such file or directory`)
  if (code === "EISDIR") return badRequest(`${path} is a directory`)
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return forbidden(`${path}: permission denied`)
  return internal(`${path}: ${String(cause)}`)
}

/** `POST /files/upload?path=`: the multipart part `file` becomes the file at `path`, parents created. */
export const upload = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* requiredQuery("path")
    const target = yield* hostPath(sandbox, path, "write")
    const request = yield* HttpServerRequest.HttpServerRequest
    let written = false
    yield* request.multipartStream.pipe(
      Stream.mapError(() => badRequest("invalid multipart form")),
      Stream.runForEach((part) => {
        if (!Multipart.isFile(part) || part.key !== "file" || written) return Effect.void
        written = true
        return Effect.acquireUseRelease(
          Effect.tryPromise({
            try: async () => {
              await NodeFs.mkdir(NodePath.dirname(target), { recursive: true })
              return NodeFs.open(target, "w")
            },
            catch: ioError(path)
          }),
          (handle) =>
            part.content.pipe(
              Stream.mapError(() => badRequest("invalid multipart form")),
              Stream.runForEach((chunk) => Effect.tryPromise({ try: () => handle.write(chunk), catch: ioError(path) }))
            ),
          (handle) => Effect.promise(() => handle.close())
        )
      })
    )
    if (!written) return yield* badRequest("the form has no file part")
    return HttpServerResponse.empty({ status: 200 })
  })

/** `GET /files/download?path=`: the file's bytes, streamed. */
export const download = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* requiredQuery("path")
    const source = yield* hostPath(sandbox, path, "read")
    const stat = yield* Effect.tryPromise({ try: () => NodeFs.stat(source), catch: ioError(path) })
    if (stat.isDirectory()) return yield* badRequest(`${path} is a directory`)
    const name = NodePath.basename(path)
    return HttpServerResponse.stream(Stream.fromAsyncIterable(NodeFsSync.createReadStream(source), ioError(path)), {
      contentType: "application/octet-stream",
      contentLength: stat.size,
      headers: {
        "content-disposition": `attachment; filename="${name.replace(/[^\x20-\x7e]|"/g, "_")}"; filename*=utf-8''${encodeURIComponent(name)}`
      }
    })
  })
