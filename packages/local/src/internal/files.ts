import type * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Multipart from "@effect/platform/Multipart"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as NodePath from "node:path"
import { bodyEnded, multipartBoundary } from "./http.js"
import { drain, partSource } from "./partSource.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { badRequest, type DaemonError } from "./daemonError.js"
import { attachment, fileResponse, inSandbox, transferError } from "./toolboxFs.js"
import type { EndpointHandler } from "./toolboxRoute.js"

/**
 * `POST /files/upload?path=`: the multipart part `file` becomes the file at `path`, parents
 * created. It is written under a temporary name and renamed when complete.
 */
export const upload: EndpointHandler<typeof ToolboxApi.uploadFileLegacy> = (sandbox, { query }) =>
  uploadTo(sandbox, query.path)

/** Streams the form's `file` part to `path` inside the sandbox. */
const uploadTo = (sandbox: SandboxRecord, path: string) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (multipartBoundary(request.headers["content-type"] ?? "") === undefined)
      return yield* badRequest("invalid multipart form: the content type must be multipart/form-data with a boundary")
    let written = false
    let failure: DaemonError | undefined
    const ended = bodyEnded(request)
    yield* request.multipartStream.pipe(
      Stream.mapError(() => badRequest("invalid multipart form")),
      Stream.runForEach((part) => {
        if (!Multipart.isFile(part) || part.key !== "file" || written) return Effect.void
        written = true
        return Effect.gen(function* () {
          const content = part.content.pipe(Stream.mapError(() => badRequest("invalid multipart form")))
          const source = partSource((yield* Stream.toAsyncIterableEffect(content))[Symbol.asyncIterator](), ended)
          const outcome = yield* inSandbox(
            sandbox,
            path,
            (view, signal) => SandboxFs.writeFile(view, path, source, signal),
            transferError
          ).pipe(Effect.either)
          // A refused file is read to its end, so that the connection stays usable for the next request.
          if (outcome._tag === "Left") {
            failure = outcome.left
            yield* Effect.promise(() => drain(source))
          }
        })
      })
    )
    if (failure !== undefined) return yield* failure
    if (!written) return yield* badRequest("the form has no file part")
    return HttpServerResponse.empty({ status: 200 })
  })

/** `POST /files/upload-v2?path=` (what signed upload URLs address): one file, answered with where it went. */
export const uploadSingle: EndpointHandler<typeof ToolboxApi.uploadFile> = (sandbox, input) =>
  Effect.map(uploadTo(sandbox, input.query.path), () => ({
    name: NodePath.posix.basename(input.query.path) || input.query.path,
    path: input.query.path,
    type: "file"
  }))

/** `GET /files/download?path=`: the file's bytes, streamed. */
export const download: EndpointHandler<typeof ToolboxApi.downloadFile> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = query.path
    const name = NodePath.basename(path)
    return yield* fileResponse(sandbox, path, {
      toError: transferError,
      readFailed: `${path}: read failed`,
      contentType: "application/octet-stream",
      headers: {
        "content-disposition": attachment(name)
      }
    })
  })
