/**
 * The upload of an image's build context: the local paths that `Image.addLocalFile`, `addLocalDir`,
 * `pipInstallFromRequirements` and `COPY`/`ADD` lines copy from, each archived (tar) and put in the
 * organization's object storage, where Daytona's builder reads it.
 *
 * `Daytona.create({ image })` and `Snapshots.create({ image })` upload an `Image`'s context by
 * themselves; this module does it ahead of time, or for a Dockerfile of your own:
 *
 * ```ts
 * const contextHashes = yield* BuildContext.upload(image.context)
 * yield* daytona.create({ image: { dockerfile: image.dockerfile, contextHashes } })
 * ```
 *
 * As in Daytona's official SDK, each entry is named by an MD5 hash of its archive path and contents
 * (see {@link hash}), looked up under `<organizationId>/<hash>/` with the temporary credentials of
 * `GET /object-storage/push-access`, and put there as `context.tar` only when nothing is there yet.
 * Requests to the storage are signed with AWS Signature V4, bounded by the request timeout (at least
 * 30 minutes for an archive) and replayed on transient failures by the configured retry policy.
 * Files are read with the platform's `FileSystem` (e.g. `NodeFileSystem.layer`), and streamed: an
 * archive is never held in memory.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as DaytonaClient from "./DaytonaClient.js"
import type { ApiError, BuildContextError, ObjectStorageError, ValidationError } from "./DaytonaError.js"
import * as Image from "./Image.js"
import * as ContextUpload from "./internal/contextUpload.js"

/**
 * Errors of an upload.
 *
 * @since 0.1.0
 * @category models
 */
export type UploadError = ApiError | ValidationError | ObjectStorageError | BuildContextError

/**
 * The hash that names a context entry in object storage: MD5 over its `archivePath` as given, then
 * for a file its contents; for a directory, recursively, each file's path relative to the directory
 * and its contents, and the relative path of each directory holding no file and no directory.
 *
 * This is the official SDK's hash but for two points: a directory's entries are taken in code-unit
 * order of their names (the official SDK takes the order of `readdir`, which depends on the file
 * system), so the hash does not change from one machine to another; and a symbolic link (archived as
 * a link, never followed) adds its relative path and its target. A path that does not exist fails
 * with a `ValidationError`.
 *
 * @since 0.1.0
 * @category hashing
 */
export const hash = (
  entry: Image.ContextEntry
): Effect.Effect<string, ValidationError | BuildContextError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => ContextUpload.prepare(fs, entry)).pipe(
    Effect.map((prepared) => prepared.hash)
  )

/**
 * Uploads the entries of a build context that object storage does not hold yet, one after the
 * other, and answers their hashes in the context's order (the `contextHashes` of a build). Every
 * entry is read first: a path that does not exist fails with a `ValidationError` before any
 * request.
 *
 * @since 0.1.0
 * @category uploading
 */
export const upload = (
  context: ReadonlyArray<Image.ContextEntry>
): Effect.Effect<
  ReadonlyArray<string>,
  UploadError,
  DaytonaClient.DaytonaClient | HttpClient.HttpClient | FileSystem.FileSystem
> =>
  Effect.gen(function* () {
    const services: ContextUpload.Services = {
      client: yield* DaytonaClient.DaytonaClient,
      http: yield* HttpClient.HttpClient,
      fs: yield* FileSystem.FileSystem
    }
    return yield* ContextUpload.upload(services, context)
  })

/**
 * The `buildInfo` of an `Image` for `POST /sandbox` or `POST /snapshots`: its Dockerfile and, once
 * its context is uploaded, the context's hashes. An image with issues fails with a
 * `ValidationError` before any request.
 *
 * @since 0.1.0
 * @category uploading
 */
export const buildInfo = (
  image: Image.Image
): Effect.Effect<
  { readonly dockerfileContent: string; readonly contextHashes?: ReadonlyArray<string> },
  UploadError,
  DaytonaClient.DaytonaClient | HttpClient.HttpClient | FileSystem.FileSystem
> =>
  Effect.gen(function* () {
    yield* Image.toBuildInfo(image, [])
    return yield* Image.toBuildInfo(image, yield* upload(image.context))
  })
