/**
 * The upload of an image's build context, as Daytona's official SDK does it: each local path is
 * named by an MD5 hash of its archive path and contents, looked up under
 * `<organizationId>/<hash>/` in the organization's object storage, and put there as
 * `context.tar` when it is not there yet. The create or snapshot build then names the hashes.
 *
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as PlatformError from "@effect/platform/Error"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as ControlPlaneApi from "../ControlPlaneApi.js"
import type * as DaytonaClient from "../DaytonaClient.js"
import { type ApiError, BuildContextError, type ObjectStorageError, ValidationError } from "../DaytonaError.js"
import * as Image from "../Image.js"
import * as Md5 from "./md5.js"
import * as ObjectStorage from "./objectStorage.js"
import * as Spans from "./spans.js"
import * as TarArchive from "./tarArchive.js"

/** A context entry read from disk: its hash and the members of its archive. @internal */
export interface Prepared {
  readonly entry: Image.ContextEntry
  readonly hash: string
  readonly members: ReadonlyArray<TarArchive.Entry>
}

/** @internal */
export type UploadError = ApiError | ValidationError | ObjectStorageError | BuildContextError

const readFailed = (path: string, error: PlatformError.PlatformError) =>
  new BuildContextError({ reason: "ReadFailed", path, message: `could not read ${path}: ${error.message}` })

/**
 * The name of an archive path inside the archive: `/`-separated (as the official SDK's `pathe`
 * makes it), without a leading `/` (as `tar` strips it) or `.` segments; `.` for the context root.
 * A path that climbs above the context root (`../x`) has none. @internal
 */
export const archiveName = (archivePath: string): string | undefined => {
  const parts: Array<string> = []
  for (const segment of archivePath.replace(/\\/g, "/").split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment === "..") {
      if (parts.length === 0) return undefined
      parts.pop()
    } else parts.push(segment)
  }
  return parts.length === 0 ? "." : parts.join("/")
}

type Kind =
  | { readonly _tag: "SymbolicLink"; readonly target: string }
  | { readonly _tag: "Other"; readonly info: FileSystem.File.Info }

const seconds = (info: FileSystem.File.Info) =>
  Option.match(info.mtime, { onNone: () => 0, onSome: (date) => Math.floor(date.getTime() / 1000) })

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const joinPath = (dir: string, name: string) => (dir.endsWith("/") ? `${dir}${name}` : `${dir}/${name}`)

/**
 * Reads one context entry: every member of its archive, and its hash. `FileSystem` has no `lstat`:
 * a symbolic link is told apart by `readLink`, archived as a link and never followed (as `tar`
 * does), with its directory's modification time.
 *
 * The hash is the official SDK's: MD5 over the archive path as given, then for a file its
 * contents; for a directory, recursively, each file's path relative to the directory and its
 * contents, and the relative path of each directory holding no file and no directory. Two
 * differences: a directory's entries are taken in code-unit order of their names (the official SDK
 * takes `readdir`'s order, which depends on the file system), so the hash is the same on every
 * machine; and a symbolic link adds its relative path and its target (the official SDK leaves links
 * out, so that a changed link would not change the hash). @internal
 */
export const prepare = (
  fs: FileSystem.FileSystem,
  entry: Image.ContextEntry
): Effect.Effect<Prepared, ValidationError | BuildContextError> =>
  Effect.gen(function* () {
    const root = archiveName(entry.archivePath)
    if (root === undefined) {
      return yield* new ValidationError({
        field: "image",
        message: `the build context path ${entry.archivePath} is outside the build context`
      })
    }
    const md5 = Md5.make()
    md5.updateString(entry.archivePath)
    const members: Array<TarArchive.Entry> = []

    const kindOf = (path: string): Effect.Effect<Kind, PlatformError.PlatformError> =>
      fs.readLink(path).pipe(
        Effect.map((target): Kind => ({ _tag: "SymbolicLink", target })),
        Effect.orElse(() => Effect.map(fs.stat(path), (info): Kind => ({ _tag: "Other", info })))
      )

    const hashFile = (path: string): Effect.Effect<void, BuildContextError> =>
      Stream.runForEach(fs.stream(path), (chunk) => Effect.sync(() => md5.update(chunk))).pipe(
        Effect.mapError((error) => readFailed(path, error))
      )

    const nameOf = (relative: string, directory: boolean) => {
      const name = relative === "" ? root : root === "." ? `./${relative}` : `${root}/${relative}`
      return directory ? `${name}/` : name
    }

    const addFile = (path: string, relative: string, info: FileSystem.File.Info) =>
      Effect.map(hashFile(path), () => {
        members.push({
          _tag: "File",
          name: nameOf(relative, false),
          path,
          size: Number(info.size),
          mode: info.mode,
          mtime: seconds(info)
        })
      })

    const addDirectory = (
      path: string,
      relative: string,
      info: FileSystem.File.Info
    ): Effect.Effect<void, BuildContextError> =>
      Effect.gen(function* () {
        members.push({ _tag: "Directory", name: nameOf(relative, true), mode: info.mode, mtime: seconds(info) })
        const names = yield* fs.readDirectory(path).pipe(Effect.mapError((error) => readFailed(path, error)))
        const children = yield* Effect.forEach([...names].sort(byCodeUnit), (name) =>
          kindOf(joinPath(path, name)).pipe(
            Effect.map((kind) => ({ name, kind })),
            Effect.mapError((error) => readFailed(joinPath(path, name), error))
          )
        )
        const holdsFiles = children.some(
          ({ kind }) => kind._tag === "Other" && (kind.info.type === "File" || kind.info.type === "Directory")
        )
        if (!holdsFiles) md5.updateString(relative)
        for (const { kind, name } of children) {
          const childPath = joinPath(path, name)
          const childRelative = relative === "" ? name : `${relative}/${name}`
          if (kind._tag === "SymbolicLink") {
            md5.updateString(childRelative)
            md5.updateString(kind.target)
            members.push({
              _tag: "SymbolicLink",
              name: nameOf(childRelative, false),
              target: kind.target,
              mode: 0o777,
              mtime: seconds(info)
            })
          } else if (kind.info.type === "Directory") {
            yield* addDirectory(childPath, childRelative, kind.info)
          } else if (kind.info.type === "File") {
            md5.updateString(childRelative)
            yield* addFile(childPath, childRelative, kind.info)
          }
        }
      })

    const missing = new ValidationError({
      field: "image",
      message: `the build context path ${entry.sourcePath} does not exist`
    })
    const rootKind = yield* kindOf(entry.sourcePath).pipe(
      Effect.mapError((error) =>
        error._tag === "SystemError" && error.reason === "NotFound" ? missing : readFailed(entry.sourcePath, error)
      )
    )
    if (rootKind._tag === "SymbolicLink") {
      md5.updateString(rootKind.target)
      members.push({ _tag: "SymbolicLink", name: root, target: rootKind.target, mode: 0o777, mtime: 0 })
    } else if (rootKind.info.type === "Directory") {
      yield* addDirectory(entry.sourcePath, "", rootKind.info)
    } else if (rootKind.info.type === "File") {
      yield* addFile(entry.sourcePath, "", rootKind.info)
    } else {
      return yield* new ValidationError({
        field: "image",
        message: `the build context path ${entry.sourcePath} is neither a file nor a directory`
      })
    }
    return { entry, hash: md5.digestHex(), members }
  })

/** The services an upload needs. @internal */
export interface Services {
  readonly client: DaytonaClient.Service
  readonly http: HttpClient.HttpClient
  readonly fs: FileSystem.FileSystem
}

/**
 * Uploads every entry that object storage does not hold yet, one after the other, and answers
 * their hashes in the context's order. Every entry is read (and a missing path refused) before the
 * first request. @internal
 */
export const upload = (
  services: Services,
  context: ReadonlyArray<Image.ContextEntry>
): Effect.Effect<ReadonlyArray<string>, UploadError> =>
  Effect.gen(function* () {
    if (context.length === 0) return []
    const prepared = yield* Effect.forEach(context, (entry) => prepare(services.fs, entry))
    const access = yield* services.client.call(ControlPlaneApi.getPushAccess, {})
    const storage = yield* ObjectStorage.make(services.http, services.client.config, access)
    const seen = new Set<string>()
    for (const { hash, members } of prepared) {
      if (seen.has(hash)) continue
      seen.add(hash)
      const prefix = `${access.organizationId}/${hash}/`
      if (yield* storage.exists(prefix)) continue
      yield* storage.put(`${prefix}context.tar`, {
        length: TarArchive.length(members),
        stream: TarArchive.stream(services.fs, members),
        contentType: "application/x-tar"
      })
    }
    return prepared.map((item) => item.hash)
  }).pipe(Spans.withSpan("BuildContext.upload", { captureStackTrace: false }))

const missingService = (service: string) =>
  new BuildContextError({
    reason: "MissingService",
    message:
      service === "FileSystem"
        ? "provide a FileSystem layer, e.g. NodeFileSystem.layer, to upload an image's build context"
        : "provide an HttpClient layer, e.g. NodeHttpClient.layerUndici, to upload an image's build context"
  })

/**
 * The `HttpClient` and `FileSystem` of an upload: those the service was built with, else those of
 * the caller's context. Neither is a requirement of `create`: only an image with a build context
 * needs them. @internal
 */
export const servicesFrom = (
  client: DaytonaClient.Service,
  built: { readonly http: Option.Option<HttpClient.HttpClient>; readonly fs: Option.Option<FileSystem.FileSystem> }
): Effect.Effect<Services, BuildContextError> =>
  Effect.gen(function* () {
    const http = Option.isSome(built.http) ? built.http : yield* Effect.serviceOption(HttpClient.HttpClient)
    const fs = Option.isSome(built.fs) ? built.fs : yield* Effect.serviceOption(FileSystem.FileSystem)
    if (Option.isNone(fs)) return yield* missingService("FileSystem")
    if (Option.isNone(http)) return yield* missingService("HttpClient")
    return { client, http: http.value, fs: fs.value }
  })

/** What `create` captures when its service is built, for `servicesFrom`. @internal */
export const captured = Effect.all({
  http: Effect.serviceOption(HttpClient.HttpClient),
  fs: Effect.serviceOption(FileSystem.FileSystem)
})

/** The parts of a create body an upload completes. @internal */
export interface WithBuildInfo {
  readonly buildInfo?:
    | { readonly dockerfileContent: string; readonly contextHashes?: ReadonlyArray<string> | undefined }
    | undefined
}

/**
 * A create body whose `buildInfo` names the uploaded context of `image`, once it is uploaded; the
 * body as it is when `image` is not an `Image` with a build context. @internal
 */
export const withUploadedContext = <B extends WithBuildInfo>(
  client: DaytonaClient.Service,
  built: Effect.Effect.Success<typeof captured>,
  image: unknown,
  body: B
): Effect.Effect<B, UploadError> => {
  const buildInfo = body.buildInfo
  if (!Image.isImage(image) || image.context.length === 0 || buildInfo === undefined) return Effect.succeed(body)
  return servicesFrom(client, built).pipe(
    Effect.flatMap((services) => upload(services, image.context)),
    Effect.map((contextHashes) => ({ ...body, buildInfo: { ...buildInfo, contextHashes } }))
  )
}
