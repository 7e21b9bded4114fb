/**
 * Files inside a sandbox: listing, searching, moving, permissions, and streaming transfers.
 *
 * Uploads take a string, bytes, a `Stream<Uint8Array>` or a local file ({@link localFile}) and
 * send one `multipart/form-data` request built as a stream, so only the current chunk is in
 * memory; a program that provides an `UploadBody` service (`NodeUploadBody.layer` on Node) has
 * uploads of bytes and local files sent through it instead. Downloads are streams parsed
 * incrementally from the daemon's multipart answer; a file that cannot be read is a value ({@link DownloadEvent} `FileError`, {@link DownloadResult}
 * `error`) in the multi-file operations, and the failure of a single-file download.
 *
 * Progress is Effect-native and callback-free: pass a `SubscriptionRef<TransferProgress>` as
 * `progress` and read `ref.changes` (a `Stream`) or `SubscriptionRef.get` from another fiber.
 *
 * Operations that touch local files need `@effect/platform`'s `FileSystem` (for example from
 * `NodeContext.layer`); the others need nothing.
 *
 * @since 0.1.0
 */
import * as PlatformFileSystem from "@effect/platform/FileSystem"
import * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import {
  type ApiError,
  type ConflictError,
  type NotFoundError,
  RequestTimeoutError,
  type StatusError,
  TransportError,
  UnexpectedResponseError,
  ValidationError
} from "./DaytonaError.js"
import * as ErrorBody from "./ErrorBody.js"
import { idleTimeout } from "./internal/idleTimeout.js"
import * as Multipart from "./MultipartCodec.js"
import * as Transport from "./internal/transport.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import { FileInfo, Match, ReplaceResult, type UploadedFile, UploadFilesResponse } from "./ToolboxDto.js"
import * as UploadBody from "./UploadBody.js"
import * as Spans from "./internal/spans.js"

/**
 * Errors of a file operation: the file is missing, or the daemon refused the path (a directory
 * where a file was expected, a non-empty directory without `recursive`…).
 *
 * @since 0.1.0
 * @category models
 */
export type FileError = ApiError | NotFoundError | ValidationError

/**
 * Why one file of a bulk download failed: `NotFoundError` (`FILE_NOT_FOUND`),
 * `AuthorizationError` (`FILE_ACCESS_DENIED`), `ValidationError` (`INVALID_FILE_PATH`, e.g. a
 * directory), or `UnexpectedResponseError` (`FILE_READ_FAILED`, or no part for the file).
 *
 * @since 0.1.0
 * @category models
 */
export type DownloadFileError = ApiError | StatusError

/**
 * A local file to upload from; it is streamed, never read whole, and may be re-read when a
 * request is retried.
 *
 * @since 0.1.0
 * @category models
 */
export interface LocalFile {
  readonly _tag: "LocalFile"
  readonly path: string
}

/**
 * Names a local file as an upload source.
 *
 * @since 0.1.0
 * @category constructors
 */
export const localFile = (path: string): LocalFile => ({ _tag: "LocalFile", path })

/**
 * What an upload sends: text (UTF-8), bytes, a stream of bytes (sent once, never retried) or a
 * local file.
 *
 * @since 0.1.0
 * @category models
 */
export type UploadSource = string | Uint8Array | Stream.Stream<Uint8Array, unknown> | LocalFile

/**
 * One file of {@link FileSystem.uploadFiles}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileUpload<S extends UploadSource = UploadSource> {
  readonly source: S
  /** Absolute path (or relative to the daemon's working directory) in the sandbox. */
  readonly destination: string
}

/**
 * The error a stream source adds to an upload.
 *
 * @since 0.1.0
 * @category models
 */
export type SourceError<S> = S extends Stream.Stream<Uint8Array, infer E, never> ? E : never

/**
 * The service a source needs: a local file needs `@effect/platform`'s `FileSystem`.
 *
 * @since 0.1.0
 * @category models
 */
export type SourceContext<S> = S extends LocalFile ? PlatformFileSystem.FileSystem : never

/**
 * Bytes moved so far and, when known, how many there are in all.
 *
 * @since 0.1.0
 * @category models
 */
export interface TransferProgress {
  readonly bytes: number
  readonly total: number | undefined
}

/**
 * Options of a transfer.
 *
 * @since 0.1.0
 * @category models
 */
export interface TransferOptions {
  /** The HTTP request timeout. Default: 30 minutes for uploads, `DaytonaConfig.requestTimeout` for downloads. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Receives the progress: file content bytes (not multipart framing) and the total when known. */
  readonly progress?: SubscriptionRef.SubscriptionRef<TransferProgress> | undefined
}

/**
 * One step of a streamed bulk download. For each requested path there is either `FileStart`,
 * `Chunk`s and `FileEnd`, or one `FileError`.
 *
 * @since 0.1.0
 * @category models
 */
export type DownloadEvent =
  | {
      readonly _tag: "FileStart"
      readonly path: string
      /** The part's `Content-Length`, when the daemon sent it. */
      readonly size: number | undefined
      readonly contentType: string | undefined
    }
  | { readonly _tag: "Chunk"; readonly path: string; readonly bytes: Uint8Array }
  | { readonly _tag: "FileEnd"; readonly path: string }
  | { readonly _tag: "FileError"; readonly path: string; readonly error: DownloadFileError }

/**
 * The outcome of one file of a bulk download: `content` (in memory) or `destination` (on disk)
 * on success, `error` otherwise.
 *
 * @since 0.1.0
 * @category models
 */
export interface DownloadResult {
  readonly source: string
  readonly destination?: string | undefined
  readonly content?: Uint8Array | undefined
  readonly error?: DownloadFileError | undefined
}

/**
 * Errors of a download as a whole: the request was refused (empty path list), the connection
 * failed, or the multipart body was malformed or truncated (`UnexpectedResponseError`,
 * `InvalidBody`).
 *
 * @since 0.1.0
 * @category models
 */
export type DownloadError = ApiError | ValidationError

/**
 * The files of one sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileSystem {
  /**
   * The entries of a directory (`GET /files?path=`); with `depth` above 1, also those of its
   * subdirectories down to that many levels, each with its `path`. `depth` must be a positive
   * integer.
   */
  readonly listFiles: (
    path: string,
    options?: { readonly depth?: number | undefined }
  ) => Effect.Effect<ReadonlyArray<FileInfo>, FileError>
  /** One file's details (`GET /files/info?path=`). */
  readonly getFileDetails: (path: string) => Effect.Effect<FileInfo, FileError>
  /** Creates a directory with an octal mode such as `"755"` (`POST /files/folder`). */
  readonly createFolder: (path: string, mode: string) => Effect.Effect<void, FileError | ConflictError>
  /** Deletes a file, or a directory with `recursive` (`DELETE /files`). */
  readonly deleteFile: (
    path: string,
    options?: { readonly recursive?: boolean | undefined }
  ) => Effect.Effect<void, FileError>
  /** Moves or renames; fails with `ConflictError` when the destination exists (`POST /files/move`). */
  readonly moveFiles: (source: string, destination: string) => Effect.Effect<void, FileError | ConflictError>
  /** Searches file contents under a directory, like grep (`GET /files/find`). */
  readonly findFiles: (path: string, pattern: string) => Effect.Effect<ReadonlyArray<Match>, FileError>
  /** Searches file names under a directory by glob (`GET /files/search`). */
  readonly searchFiles: (path: string, pattern: string) => Effect.Effect<ReadonlyArray<string>, FileError>
  /** Replaces a pattern in files; a file that fails is reported in its result (`POST /files/replace`). */
  readonly replaceInFiles: (
    files: ReadonlyArray<string>,
    pattern: string,
    newValue: string
  ) => Effect.Effect<ReadonlyArray<ReplaceResult>, FileError>
  /** Sets mode (octal string), owner or group (`POST /files/permissions`). */
  readonly setFilePermissions: (
    path: string,
    permissions: {
      readonly mode?: string | undefined
      readonly owner?: string | undefined
      readonly group?: string | undefined
    }
  ) => Effect.Effect<void, FileError>
  /** Uploads one file; parent directories are created and an existing file is overwritten. */
  readonly uploadFile: <S extends UploadSource>(
    destination: string,
    source: S,
    options?: TransferOptions
  ) => Effect.Effect<void, FileError | SourceError<S>, SourceContext<S>>
  /**
   * Uploads files in one request (`POST /files/bulk-upload`) and returns what the daemon wrote. A
   * partial failure is a `ValidationError` listing the daemon's errors.
   */
  readonly uploadFiles: <const Files extends ReadonlyArray<FileUpload>>(
    files: Files,
    options?: TransferOptions
  ) => Effect.Effect<
    ReadonlyArray<UploadedFile>,
    FileError | SourceError<Files[number]["source"]>,
    SourceContext<Files[number]["source"]>
  >
  /** One file's bytes as a stream; a file that cannot be read fails the stream. */
  readonly downloadFile: (
    path: string,
    options?: TransferOptions
  ) => Stream.Stream<Uint8Array, DownloadError | DownloadFileError>
  /** Streams one file to a local path (parent directories created; removed again on failure). */
  readonly downloadFileTo: (
    path: string,
    localPath: string,
    options?: TransferOptions
  ) => Effect.Effect<void, DownloadError | DownloadFileError, PlatformFileSystem.FileSystem>
  /**
   * Several files in one request as a stream of events; per-file errors are events. A body cut off
   * on the way is resumed: the files not yet complete are asked for again and the bytes already
   * delivered are skipped, so every event and byte arrives once (every download of this module
   * reads through it).
   */
  readonly downloadFilesStream: (
    paths: ReadonlyArray<string>,
    options?: TransferOptions
  ) => Stream.Stream<DownloadEvent, DownloadError>
  /** Several files into memory; per-file errors are values. */
  readonly downloadFiles: (
    paths: ReadonlyArray<string>,
    options?: TransferOptions
  ) => Effect.Effect<ReadonlyArray<DownloadResult>, DownloadError>
  /** Several files streamed to local paths; per-file errors are values. */
  readonly downloadFilesTo: (
    files: ReadonlyArray<{ readonly source: string; readonly destination: string }>,
    options?: TransferOptions
  ) => Effect.Effect<ReadonlyArray<DownloadResult>, DownloadError, PlatformFileSystem.FileSystem>
}

const defaultUploadTimeout = Duration.minutes(30)
/**
 * A local file is read in chunks this large, one read ahead while the previous one is sent: few
 * enough that the stream's per-chunk work does not show, small enough that memory stays flat.
 */
const uploadChunkBytes = 1024 * 1024
const maxErrorPartBytes = 64 * 1024
const encoder = new TextEncoder()

/** What an upload's body reports into: the caller's progress, and which source failed. */
interface UploadContext {
  readonly boundary: string
  readonly progress: SubscriptionRef.SubscriptionRef<TransferProgress> | undefined
  readonly total: number | undefined
  readonly sourceFailure: Ref.Ref<Option.Option<{ readonly local: boolean; readonly error: unknown }>>
}

/** One file of an upload: where it goes, and what it holds (a stream source stays a stream). */
interface Entry {
  readonly destination: string
  readonly content: UploadBody.UploadContent | Stream.Stream<Uint8Array, unknown>
}

const withoutStreams = (entries: ReadonlyArray<Entry>): entries is ReadonlyArray<UploadBody.UploadEntry> =>
  entries.every((entry) => !isStream(entry.content))

const dirname = (path: string): string => {
  const index = path.replace(/\/+$/, "").lastIndexOf("/")
  return index <= 0 ? (index === 0 ? "/" : ".") : path.slice(0, index)
}

const isStream = (u: unknown): u is Stream.Stream<Uint8Array, unknown> => Predicate.hasProperty(u, Stream.StreamTypeId)

const pathOf = (response: HttpClientResponse.HttpClientResponse) => {
  try {
    return new URL(response.request.url).pathname
  } catch {
    return response.request.url
  }
}

const validateTimeout = (input: Duration.DurationInput | undefined, fallback: Duration.Duration | undefined) => {
  if (input === undefined) return Effect.succeed(fallback)
  const duration = Duration.decodeUnknown(input)
  return Option.isSome(duration) && Duration.greaterThan(duration.value, Duration.zero)
    ? Effect.succeed<Duration.Duration | undefined>(duration.value)
    : Effect.fail(new ValidationError({ field: "timeout", message: `timeout must be a positive duration` }))
}

const nonEmpty = (field: string, value: string) =>
  value === "" ? Effect.fail(new ValidationError({ field, message: `${field} must not be empty` })) : Effect.void

/**
 * Builds the file operations of one sandbox.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (target: ToolboxClient.Target, toolbox: ToolboxClient.Service): FileSystem => {
  const span = (name: string, attributes: Record<string, unknown> = {}) =>
    Spans.withSpan(`FileSystem.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id, ...attributes }
    })
  const streamSpan = (name: string) =>
    Spans.withStreamSpan(`FileSystem.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id }
    })

  const listFiles: FileSystem["listFiles"] = (path, options) =>
    toolbox
      .call(target, ToolboxApi.listFiles, {
        query: { path, ...(options?.depth === undefined ? {} : { depth: options.depth }) }
      })
      .pipe(span("listFiles", { "daytona.path": path }))

  const getFileDetails: FileSystem["getFileDetails"] = (path) =>
    toolbox
      .call(target, ToolboxApi.getFileInfo, { query: { path } })
      .pipe(span("getFileDetails", { "daytona.path": path }))

  const createFolder: FileSystem["createFolder"] = (path, mode) =>
    toolbox
      .call(target, ToolboxApi.createFolder, { query: { path, mode } })
      .pipe(span("createFolder", { "daytona.path": path }))

  const deleteFile: FileSystem["deleteFile"] = (path, options) =>
    toolbox
      .call(target, ToolboxApi.deleteFile, {
        query: { path, ...(options?.recursive === undefined ? {} : { recursive: options.recursive }) }
      })
      .pipe(span("deleteFile", { "daytona.path": path }))

  const moveFiles: FileSystem["moveFiles"] = (source, destination) =>
    toolbox.call(target, ToolboxApi.moveFile, { query: { source, destination } }).pipe(span("moveFiles"))

  const findFiles: FileSystem["findFiles"] = (path, pattern) =>
    toolbox.call(target, ToolboxApi.findInFiles, { query: { path, pattern } }).pipe(
      Effect.map((matches) => matches ?? []),
      span("findFiles")
    )

  const searchFiles: FileSystem["searchFiles"] = (path, pattern) =>
    toolbox.call(target, ToolboxApi.searchFiles, { query: { path, pattern } }).pipe(
      Effect.map((answer) => answer.files),
      span("searchFiles")
    )

  const replaceInFiles: FileSystem["replaceInFiles"] = (files, pattern, newValue) =>
    toolbox.call(target, ToolboxApi.replaceInFiles, { payload: { files, pattern, newValue } }).pipe(
      Effect.map((results) => results ?? []),
      span("replaceInFiles")
    )

  const setFilePermissions: FileSystem["setFilePermissions"] = (path, permissions) =>
    toolbox
      .call(target, ToolboxApi.setFilePermissions, {
        query: {
          path,
          ...(permissions.owner === undefined ? {} : { owner: permissions.owner }),
          ...(permissions.group === undefined ? {} : { group: permissions.group }),
          ...(permissions.mode === undefined ? {} : { mode: permissions.mode })
        }
      })
      .pipe(span("setFilePermissions", { "daytona.path": path }))

  // ------------------------------------------------------------------------------------------
  // upload
  // ------------------------------------------------------------------------------------------

  const countInto =
    (progress: SubscriptionRef.SubscriptionRef<TransferProgress> | undefined) =>
    <E>(stream: Stream.Stream<Uint8Array, E>): Stream.Stream<Uint8Array, E> =>
      progress === undefined
        ? stream
        : Stream.tap(stream, (bytes) =>
            SubscriptionRef.update(progress, (p) => ({ bytes: p.bytes + bytes.length, total: p.total }))
          )

  const uploadFilesImpl = (
    files: ReadonlyArray<FileUpload>,
    options: TransferOptions | undefined
  ): Effect.Effect<ReadonlyArray<UploadedFile>, unknown, PlatformFileSystem.FileSystem> =>
    Effect.gen(function* () {
      if (files.length === 0) {
        return yield* new ValidationError({ field: "files", message: "files must not be empty" })
      }
      for (const file of files) yield* nonEmpty("destination", file.destination)
      const timeout = yield* validateTimeout(options?.timeout, defaultUploadTimeout)
      const sourceFailure = yield* Ref.make<Option.Option<{ readonly local: boolean; readonly error: unknown }>>(
        Option.none()
      )
      let total: number | undefined = 0
      // Each file's destination and content: its bytes, its local file (size read now) or the caller's stream.
      const entries: Array<Entry> = []
      for (const file of files) {
        const source = file.source
        if (typeof source === "string" || source instanceof Uint8Array) {
          const bytes = typeof source === "string" ? encoder.encode(source) : source
          if (total !== undefined) total += bytes.length
          entries.push({ destination: file.destination, content: { _tag: "Bytes", bytes } })
        } else if (isStream(source)) {
          total = undefined
          entries.push({ destination: file.destination, content: source })
        } else {
          const fs = yield* PlatformFileSystem.FileSystem
          const info = yield* fs.stat(source.path).pipe(
            Effect.mapError(
              (error) =>
                new ValidationError({
                  field: "source",
                  message: `cannot read the local file ${source.path}: ${error.message}`
                })
            )
          )
          if (info.type !== "File") {
            return yield* new ValidationError({ field: "source", message: `${source.path} is not a regular file` })
          }
          if (total !== undefined) total += Number(info.size)
          entries.push({
            destination: file.destination,
            content: { _tag: "LocalFile", path: source.path, size: Number(info.size) }
          })
        }
      }
      const replayable = withoutStreams(entries)
      const boundary = Multipart.makeBoundary()
      const progress = options?.progress
      const uploadBody = yield* Effect.serviceOption(UploadBody.UploadBody)
      const context: UploadContext = { boundary, progress, total, sourceFailure }
      const body =
        replayable && Option.isSome(uploadBody)
          ? yield* serviceBody(uploadBody.value, entries, context)
          : yield* streamBody(entries, context)
      const response = yield* toolbox
        .execute(
          target,
          ToolboxApi.uploadFiles,
          {},
          { body, retry: replayable, ...(timeout === undefined ? {} : { timeout }) }
        )
        .pipe(
          Effect.catchAll((error) =>
            Effect.flatMap(Ref.get(sourceFailure), (failure) =>
              Option.match(failure, {
                onNone: () => Effect.fail(uploadError(error)),
                onSome: ({ error: cause, local }) =>
                  local
                    ? Effect.fail(
                        new TransportError({
                          reason: "Encode",
                          method: "POST",
                          path: "/files/bulk-upload",
                          sent: true,
                          description: "could not read a local file being uploaded",
                          cause
                        })
                      )
                    : Effect.fail(cause)
              })
            )
          )
        )
      const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
      if (text.trim() === "") return []
      const decoded = Schema.decodeUnknownOption(Schema.parseJson(UploadFilesResponse))(text)
      return Option.match(decoded, { onNone: () => [], onSome: (answer) => answer.files })
    })

  /** The portable body: one `Stream` of the multipart framing and every file's bytes. */
  const streamBody = (
    entries: ReadonlyArray<Entry>,
    context: UploadContext
  ): Effect.Effect<HttpBody.HttpBody, never, PlatformFileSystem.FileSystem> =>
    Effect.gen(function* () {
      const failed = (local: boolean) => (error: unknown) =>
        Ref.set(context.sourceFailure, Option.some({ local, error }))
      const parts: Array<Multipart.UploadPart<unknown>> = []
      for (const { content, destination } of entries) {
        const stream = isStream(content)
          ? Stream.tapError(content, failed(false))
          : content._tag === "Bytes"
            ? Stream.make(content.bytes)
            : (yield* PlatformFileSystem.FileSystem)
                .stream(content.path, { chunkSize: uploadChunkBytes, bufferSize: 1 })
                .pipe(Stream.tapError(failed(true)))
        parts.push({ destination, content: countInto(context.progress)(stream) })
      }
      const reset =
        context.progress === undefined
          ? Stream.empty
          : Stream.drain(Stream.fromEffect(SubscriptionRef.set(context.progress, { bytes: 0, total: context.total })))
      return HttpBody.stream(
        Stream.concat(reset, Multipart.uploadBody(parts, context.boundary)),
        `multipart/form-data; boundary=${context.boundary}`
      )
    })

  /** The body of the program's `UploadBody` service, its callbacks run on the caller's runtime. */
  const serviceBody = (
    service: UploadBody.Service,
    entries: ReadonlyArray<UploadBody.UploadEntry>,
    context: UploadContext
  ): Effect.Effect<HttpBody.HttpBody> =>
    Effect.map(Effect.runtime<never>(), (runtime) => {
      // A fork runs each progress change at once when nothing else holds the ref, and otherwise queues
      // it behind the holder, in order (the ref's changes go one at a time, first come first served).
      const run = Runtime.runFork(runtime)
      const progress = context.progress
      return service.multipart(entries, context.boundary, {
        started: () => {
          if (progress !== undefined) run(SubscriptionRef.set(progress, { bytes: 0, total: context.total }))
        },
        sent: (bytes) => {
          if (progress !== undefined) {
            run(SubscriptionRef.update(progress, (p) => ({ bytes: p.bytes + bytes, total: p.total })))
          }
        },
        // Synchronous, so that the failure is recorded before the request's own failure is mapped.
        sourceFailed: (error) =>
          Runtime.runSync(runtime)(Ref.set(context.sourceFailure, Option.some({ local: true, error })))
      })
    })

  const uploadError = (error: ApiError | StatusError): FileError | ConflictError | UnexpectedResponseError => {
    if (error._tag === "ValidationError" && error.body !== undefined) {
      const decoded = Schema.decodeUnknownOption(Schema.parseJson(UploadFilesResponse))(error.body)
      if (Option.isSome(decoded) && decoded.value.errors !== undefined && decoded.value.errors.length > 0) {
        return new ValidationError({
          ...error,
          message: `${error.method ?? "POST"} ${error.path ?? "/files/bulk-upload"} → 400: ${decoded.value.errors.join("; ")}`
        })
      }
    }
    if (error._tag === "CommandTimeoutError" || error._tag === "ConflictError") {
      return new UnexpectedResponseError({ ...error, reason: "Status" })
    }
    return error
  }

  const uploadFiles = ((files: ReadonlyArray<FileUpload>, options?: TransferOptions) =>
    uploadFilesImpl(files, options).pipe(
      span("uploadFiles", { "daytona.files": files.length })
    )) as FileSystem["uploadFiles"]

  const uploadFile = ((destination: string, source: UploadSource, options?: TransferOptions) =>
    uploadFilesImpl([{ destination, source }], options).pipe(
      Effect.asVoid,
      span("uploadFile", { "daytona.path": destination })
    )) as FileSystem["uploadFile"]

  // ------------------------------------------------------------------------------------------
  // download
  // ------------------------------------------------------------------------------------------

  const downloadOnce = (
    paths: ReadonlyArray<string>,
    options: { readonly timeout?: Duration.DurationInput | undefined } | undefined
  ): Stream.Stream<DownloadEvent, DownloadError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        if (paths.length === 0) {
          return yield* new ValidationError({ field: "paths", message: "paths must not be empty" })
        }
        const timeout = yield* validateTimeout(options?.timeout, undefined)
        const response = yield* toolbox.execute(
          target,
          ToolboxApi.downloadFiles,
          { payload: { paths } },
          {
            headers: { accept: "multipart/form-data" },
            stream: true,
            ...(timeout === undefined ? {} : { timeout })
          }
        )
        const method = "POST"
        const path = pathOf(response)
        const boundary = Multipart.boundaryOf(response.headers["content-type"])
        if (boundary === undefined) {
          yield* Transport.discardBody(response)
          return yield* new UnexpectedResponseError({
            reason: "InvalidBody",
            status: response.status,
            method,
            path,
            message: `${method} ${path} → ${response.status}: expected a multipart answer, got ${response.headers["content-type"] ?? "no content type"}`
          })
        }
        // A body that stops flowing fails after the request timeout instead of waiting forever.
        const idle = timeout ?? toolbox.config.requestTimeout
        const body = response.stream.pipe(
          Stream.mapError(
            (error) =>
              new TransportError({
                reason: "Body",
                method,
                path,
                sent: true,
                description: error.description ?? "could not read the download",
                cause: error.cause
              })
          ),
          (stream) => idleTimeout(stream, idle, () => new RequestTimeoutError({ method, path, timeout: idle }))
        )
        return parseDownload(body, paths, boundary, { method, path, status: response.status })
      })
    )

  /**
   * A bulk download that outlives a body cut off on the way: the files not yet complete are asked for
   * again (paced by the retry policy, whose count starts over whenever bytes arrived), the file under
   * way is resumed past the bytes already delivered, and nothing is delivered twice. A file whose size
   * changed in between fails the download rather than be spliced from two versions.
   */
  const downloadFilesStream: FileSystem["downloadFilesStream"] = (paths, options) =>
    Stream.unwrap(
      Effect.gen(function* () {
        const policy = toolbox.config.retryPolicy
        let driver = yield* Schedule.driver(policy)
        let attempt = 0
        const finished = new Set<string>()
        let current: { readonly path: string; readonly size: number | undefined; delivered: number } | undefined
        let skip = 0
        let progressed = false
        const pass = (event: DownloadEvent): ReadonlyArray<DownloadEvent> => {
          switch (event._tag) {
            case "FileStart":
              if (current !== undefined && current.path === event.path) {
                if (current.size !== event.size) throw changedWhileResumed(event.path)
                return []
              }
              current = { path: event.path, size: event.size, delivered: 0 }
              progressed = true
              return [event]
            case "Chunk": {
              // Only the file under way when the body was cut has bytes to skip.
              const skipping = current?.path === event.path ? skip : 0
              if (skipping >= event.bytes.length) {
                skip -= event.bytes.length
                return []
              }
              const bytes = skipping === 0 ? event.bytes : event.bytes.subarray(skipping)
              skip = 0
              if (current !== undefined) current.delivered += bytes.length
              progressed = true
              return [{ ...event, bytes }]
            }
            case "FileEnd":
            case "FileError":
              finished.add(event.path)
              if (current?.path === event.path) current = undefined
              progressed = true
              return [event]
          }
        }
        const run = (): Stream.Stream<DownloadEvent, DownloadError> =>
          Stream.suspend(() => {
            const remaining = paths.filter((path) => !finished.has(path))
            if (remaining.length === 0 && paths.length > 0) return Stream.empty
            skip = current?.delivered ?? 0
            progressed = false
            return downloadOnce(remaining, options).pipe(
              Stream.mapChunksEffect((events) =>
                Effect.try({
                  try: () => Chunk.fromIterable(Chunk.toReadonlyArray(events).flatMap(pass)),
                  catch: (error) => error as UnexpectedResponseError
                })
              ),
              Stream.catchAll((error) =>
                Stream.unwrap(
                  Effect.gen(function* () {
                    if (!Transport.isTransient(error)) return Stream.fail(error)
                    if (progressed) {
                      driver = yield* Schedule.driver(policy)
                      attempt = 0
                    }
                    attempt++
                    const next = yield* Effect.either(
                      driver.next({ error: error as ApiError, attempt, retryAfter: undefined })
                    )
                    return Either.isLeft(next) ? Stream.fail(error) : run()
                  })
                )
              )
            )
          })
        return run()
      })
    ).pipe(streamSpan("downloadFilesStream"))

  const changedWhileResumed = (path: string) =>
    new UnexpectedResponseError({
      reason: "InvalidBody",
      sent: true,
      status: 200,
      method: "POST",
      path: "/files/bulk-download",
      message: `POST /files/bulk-download: ${path} changed size while its download was resumed after a cut`
    })

  const downloadFile: FileSystem["downloadFile"] = (path, options) =>
    downloadFilesStream([path], { ...(options?.timeout === undefined ? {} : { timeout: options.timeout }) }).pipe(
      Stream.mapEffect((event): Effect.Effect<Option.Option<Uint8Array>, DownloadFileError> => {
        switch (event._tag) {
          case "FileError":
            return Effect.fail(event.error)
          case "Chunk":
            return options?.progress === undefined
              ? Effect.succeed(Option.some(event.bytes))
              : Effect.as(
                  SubscriptionRef.update(options.progress, (p) => ({
                    bytes: p.bytes + event.bytes.length,
                    total: p.total
                  })),
                  Option.some(event.bytes)
                )
          case "FileStart":
            return options?.progress === undefined
              ? Effect.succeed(Option.none())
              : Effect.as(SubscriptionRef.set(options.progress, { bytes: 0, total: event.size }), Option.none())
          case "FileEnd":
            return Effect.succeed(Option.none())
        }
      }),
      Stream.filterMap((bytes) => bytes),
      streamSpan("downloadFile")
    )

  const writeError = (localPath: string, cause: unknown) =>
    new TransportError({
      reason: "Body",
      method: "POST",
      path: "/files/bulk-download",
      sent: true,
      description: `could not write the local file ${localPath}`,
      cause
    })

  const openLocal = (fs: PlatformFileSystem.FileSystem, localPath: string, scope: Scope.Scope) =>
    fs.makeDirectory(dirname(localPath), { recursive: true }).pipe(
      Effect.zipRight(fs.open(localPath, { flag: "w" })),
      Scope.extend(scope),
      Effect.mapError(
        (error) =>
          new ValidationError({
            field: "destination",
            message: `cannot write the local file ${localPath}: ${error.message}`
          })
      )
    )

  const downloadFileTo: FileSystem["downloadFileTo"] = (path, localPath, options) =>
    Effect.gen(function* () {
      const fs = yield* PlatformFileSystem.FileSystem
      const results = yield* downloadToDisk(fs, [{ source: path, destination: localPath }], options)
      const error = results[0]?.error
      if (error !== undefined) return yield* Effect.fail(error)
    }).pipe(span("downloadFileTo", { "daytona.path": path }))

  const downloadToDisk = (
    fs: PlatformFileSystem.FileSystem,
    files: ReadonlyArray<{ readonly source: string; readonly destination: string }>,
    options: TransferOptions | undefined
  ): Effect.Effect<ReadonlyArray<DownloadResult>, DownloadError> =>
    Effect.gen(function* () {
      const destinations = new Map(files.map((file) => [file.source, file.destination]))
      const results = new Map<string, DownloadResult>()
      let current:
        | { readonly scope: Scope.CloseableScope; readonly file: PlatformFileSystem.File; readonly path: string }
        | undefined
      const closeCurrent = (exit: Exit.Exit<unknown, unknown>) =>
        current === undefined
          ? Effect.void
          : Effect.suspend(() => {
              const scope = current!.scope
              current = undefined
              return Scope.close(scope, exit)
            })
      // Reused for every batch: each write completes before the next batch is copied in.
      let scratch = new Uint8Array(0)
      const write = (chunks: ReadonlyArray<Uint8Array>) =>
        Effect.suspend(() => {
          if (current === undefined) return Effect.void
          const destination = destinations.get(current.path) ?? current.path
          let bytes = chunks[0]!
          if (chunks.length > 1) {
            const size = chunks.reduce((n, c) => n + c.length, 0)
            if (scratch.length < size) scratch = new Uint8Array(Math.max(size, 2 * scratch.length))
            let offset = 0
            for (const chunk of chunks) {
              scratch.set(chunk, offset)
              offset += chunk.length
            }
            bytes = scratch.subarray(0, size)
          }
          return current.file.writeAll(bytes).pipe(
            Effect.mapError((e) => writeError(destination, e)),
            Effect.zipRight(
              options?.progress === undefined
                ? Effect.void
                : SubscriptionRef.update(options.progress, (p) => ({ bytes: p.bytes + bytes.length, total: p.total }))
            )
          )
        })
      const run = downloadFilesStream(
        files.map((file) => file.source),
        options
      ).pipe(
        // The bytes of consecutive `Chunk` events go to disk in one write.
        Stream.runForEachChunk((events) =>
          Effect.gen(function* () {
            let batch: Array<Uint8Array> = []
            for (const event of events) {
              if (event._tag === "Chunk") {
                batch.push(event.bytes)
                continue
              }
              if (batch.length > 0) yield* write(batch)
              batch = []
              const destination = destinations.get(event.path) ?? event.path
              switch (event._tag) {
                case "FileStart": {
                  const scope = yield* Scope.make()
                  const file = yield* openLocal(fs, destination, scope).pipe(
                    Effect.tapError(() => Scope.close(scope, Exit.void))
                  )
                  current = { scope, file, path: event.path }
                  if (options?.progress !== undefined) {
                    yield* SubscriptionRef.update(options.progress, (p) => ({
                      bytes: p.bytes,
                      total: files.length === 1 ? event.size : undefined
                    }))
                  }
                  break
                }
                case "FileEnd":
                  yield* closeCurrent(Exit.void)
                  results.set(event.path, { source: event.path, destination })
                  break
                case "FileError":
                  results.set(event.path, { source: event.path, destination, error: event.error })
                  break
              }
            }
            if (batch.length > 0) yield* write(batch)
          })
        ),
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? closeCurrent(exit)
            : Effect.gen(function* () {
                const partial = current?.path
                yield* closeCurrent(exit)
                const destination = partial === undefined ? undefined : destinations.get(partial)
                if (destination !== undefined) yield* Effect.ignore(fs.remove(destination))
              })
        )
      )
      if (options?.progress !== undefined) yield* SubscriptionRef.set(options.progress, { bytes: 0, total: undefined })
      yield* run
      return files.map((file) => results.get(file.source) ?? { source: file.source, destination: file.destination })
    })

  const downloadFilesTo: FileSystem["downloadFilesTo"] = (files, options) =>
    Effect.flatMap(PlatformFileSystem.FileSystem, (fs) => downloadToDisk(fs, files, options)).pipe(
      span("downloadFilesTo", { "daytona.files": files.length })
    )

  const downloadFiles: FileSystem["downloadFiles"] = (paths, options) =>
    Effect.gen(function* () {
      const contents = new Map<string, Array<Uint8Array>>()
      const results = new Map<string, DownloadResult>()
      if (options?.progress !== undefined) yield* SubscriptionRef.set(options.progress, { bytes: 0, total: undefined })
      yield* downloadFilesStream(paths, options).pipe(
        Stream.runForEach((event) => {
          switch (event._tag) {
            case "FileStart":
              contents.set(event.path, [])
              return Effect.void
            case "Chunk":
              contents.get(event.path)?.push(event.bytes)
              return options?.progress === undefined
                ? Effect.void
                : SubscriptionRef.update(options.progress, (p) => ({
                    bytes: p.bytes + event.bytes.length,
                    total: p.total
                  }))
            case "FileEnd":
              results.set(event.path, { source: event.path, content: owned(concatAll(contents.get(event.path) ?? [])) })
              contents.delete(event.path)
              return Effect.void
            case "FileError":
              results.set(event.path, { source: event.path, error: event.error })
              return Effect.void
          }
        })
      )
      return paths.map((path) => results.get(path) ?? { source: path })
    }).pipe(span("downloadFiles", { "daytona.files": paths.length }))

  return {
    listFiles,
    getFileDetails,
    createFolder,
    deleteFile,
    moveFiles,
    findFiles,
    searchFiles,
    replaceInFiles,
    setFilePermissions,
    uploadFile,
    uploadFiles,
    downloadFile,
    downloadFileTo,
    downloadFilesStream,
    downloadFiles,
    downloadFilesTo
  }
}

const concatAll = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.length
  }
  return out
}

/** The bytes in an array of their own: a chunk may be a view into a larger read buffer. */
const owned = (bytes: Uint8Array): Uint8Array =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes)

interface ResponseInfo {
  readonly method: string
  readonly path: string
  readonly status: number
}

/**
 * Turns the daemon's multipart answer into download events, matching parts to requested paths by
 * their filename (`filename*` first), else by request order.
 *
 * @internal
 */
export const parseDownload = <E>(
  body: Stream.Stream<Uint8Array, E>,
  paths: ReadonlyArray<string>,
  boundary: string,
  info: ResponseInfo
): Stream.Stream<DownloadEvent, E | UnexpectedResponseError | TransportError> =>
  Stream.suspend(() => {
    const parser = Multipart.makeParser(boundary)
    const unanswered = [...new Set(paths)]
    let part:
      | { readonly kind: "file" | "error"; readonly path: string; errorBytes: Array<Uint8Array>; size: number }
      | undefined
    const invalid = (detail: string) =>
      new UnexpectedResponseError({
        reason: "InvalidBody",
        status: info.status,
        method: info.method,
        path: info.path,
        message: `${info.method} ${info.path} → ${info.status}: ${detail}`
      })
    const claim = (filename: string | undefined): string | undefined => {
      const byName = filename === undefined ? -1 : unanswered.indexOf(filename)
      const index = byName === -1 ? 0 : byName
      const [path] = unanswered.splice(index, 1)
      return path
    }
    const handle = (event: Multipart.PartEvent): ReadonlyArray<DownloadEvent> => {
      switch (event._tag) {
        case "Headers": {
          const disposition = event.headers["content-disposition"]
          const name = disposition === undefined ? undefined : Multipart.headerParams(disposition)["name"]
          const path = claim(Multipart.filenameOf(disposition))
          if (path === undefined) throw invalid("more parts than requested files")
          const kind = name === "error" ? "error" : "file"
          part = { kind, path, errorBytes: [], size: 0 }
          if (kind === "error") return []
          const length = event.headers["content-length"]
          const size = length === undefined || !/^\d+$/.test(length) ? undefined : Number(length)
          return [{ _tag: "FileStart", path, size, contentType: event.headers["content-type"] }]
        }
        case "Data": {
          if (part === undefined) return []
          if (part.kind === "file") return [{ _tag: "Chunk", path: part.path, bytes: event.bytes }]
          if (part.size + event.bytes.length <= maxErrorPartBytes) part.errorBytes.push(event.bytes)
          part.size += event.bytes.length
          return []
        }
        case "End": {
          const done = part
          part = undefined
          if (done === undefined) return []
          if (done.kind === "file") return [{ _tag: "FileEnd", path: done.path }]
          return [{ _tag: "FileError", path: done.path, error: errorPart(done.errorBytes, info) }]
        }
      }
    }
    const parse = (chunk: Chunk.Chunk<Uint8Array>) =>
      Effect.try({
        try: () =>
          Chunk.fromIterable(Chunk.toReadonlyArray(chunk).flatMap((bytes) => parser.push(bytes).flatMap(handle))),
        catch: (error) =>
          error instanceof UnexpectedResponseError
            ? error
            : invalid(error instanceof Error ? error.message : "malformed multipart body")
      })
    const finish = Effect.suspend(() => {
      if (!parser.complete()) {
        return Effect.fail(
          new TransportError({
            reason: "Body",
            method: info.method,
            path: info.path,
            sent: true,
            description: "the multipart body ended before its closing boundary (truncated download)"
          })
        )
      }
      return Effect.succeed(
        unanswered.map(
          (path): DownloadEvent => ({
            _tag: "FileError",
            path,
            error: new UnexpectedResponseError({
              reason: "InvalidBody",
              status: info.status,
              method: info.method,
              path: info.path,
              message: `${info.method} ${info.path} → ${info.status}: no data received for ${path}`
            })
          })
        )
      )
    })
    return body.pipe(
      Stream.mapChunksEffect(parse),
      Stream.concat(Stream.flatMap(Stream.fromEffect(finish), Stream.fromIterable))
    )
  })

const errorPart = (chunks: ReadonlyArray<Uint8Array>, info: ResponseInfo): DownloadFileError => {
  const text = new TextDecoder().decode(concatAll(chunks))
  const summary = ErrorBody.summarize(text)
  const status = summary.statusCode ?? (summary.errorCode === undefined ? 500 : statusOfCode(summary.errorCode))
  const error = Transport.errorFromResponse({
    side: "toolbox",
    status,
    method: info.method,
    path: info.path,
    headers: {},
    bodyText: text,
    retryAfter: undefined,
    secrets: []
  })
  return error._tag === "CommandTimeoutError" || error._tag === "ConflictError" || error._tag === "RateLimitedError"
    ? new UnexpectedResponseError({ ...error, reason: "Status" })
    : error
}

const statusOfCode = (code: string) =>
  code === "FILE_NOT_FOUND" ? 404 : code === "FILE_ACCESS_DENIED" ? 403 : code === "INVALID_FILE_PATH" ? 400 : 500
