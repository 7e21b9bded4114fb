import * as MultipartCodec from "@effect-daytona/sdk/MultipartCodec"
import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Multipart from "@effect/platform/Multipart"
import type { FileInfo, Match } from "@effect-daytona/sdk/ToolboxDto"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { SandboxEngine, type SandboxView } from "../SandboxEngine.js"
import { compileGlob, maxGlobLength } from "./glob.js"
import { bodyEnded, json, multipartBoundary } from "./http.js"
import { drain, type PartSource, partSource } from "./partSource.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { failureOf, isFileSystemError, PathFailure, type Status } from "./sandboxPath.js"
import { badRequest, DaemonError, daemonErrorBody } from "./daemonError.js"
import { inSandbox, openForReading, viewOf } from "./toolboxFs.js"
import { empty, type EndpointHandler, serve } from "./toolboxRoute.js"

const typeChar = (stat: Status) =>
  stat.isDirectory()
    ? "d"
    : stat.isSymbolicLink()
      ? "L"
      : stat.isFIFO()
        ? "p"
        : stat.isSocket()
          ? "S"
          : stat.isCharacterDevice()
            ? "Dc"
            : stat.isBlockDevice()
              ? "D"
              : "-"

/** Go's `FileMode.String()`, e.g. `drwxr-xr-x`. */
const modeString = (stat: Status) => {
  const bits = "rwxrwxrwx"
  let perms = ""
  for (let i = 0; i < 9; i++) perms += stat.mode & (1 << (8 - i)) ? bits[i] : "-"
  const special = (stat.mode & 0o4000 ? "u" : "") + (stat.mode & 0o2000 ? "g" : "") + (stat.mode & 0o1000 ? "t" : "")
  const type = typeChar(stat)
  return `${type === "-" && special !== "" ? "" : type}${special}${perms}`
}

/** An owner id as the sandbox's processes see it: its root, or the overflow id for anyone else. */
const insideId = (id: number, own: number | undefined) => (own === undefined ? id : id === own ? 0 : 65534)

const fileInfo = (view: SandboxView, name: string, stat: Status): FileInfo => ({
  name,
  isDir: stat.isDirectory(),
  size: stat.size,
  mode: modeString(stat),
  permissions: (stat.mode & 0o7777).toString(8).padStart(4, "0"),
  owner: String(insideId(stat.uid, view.identity?.uid)),
  group: String(insideId(stat.gid, view.identity?.gid)),
  modTime: stat.mtime.toISOString(),
  modifiedAt: stat.mtime.toISOString()
})

/** The most entries a listing with `depth` answers, so that a deep tree cannot exhaust the server. */
const maxListed = 10_000

const listFiles: EndpointHandler<typeof ToolboxApi.listFiles> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = query.path || "."
    const depth = query.depth ?? 1
    const view = yield* viewOf(sandbox)
    const entries = yield* inSandbox(sandbox, path, (view) => SandboxFs.list(view, path))
    if (depth === 1) return json(entries.map((entry) => fileInfo(view, entry.name, entry.status)))
    // Breadth first, one directory at a time, each resolved inside the sandbox's view again:
    // links are listed as entries and never followed.
    const listed: Array<FileInfo> = []
    let level: Array<{ readonly dir: string; readonly entries: typeof entries }> = [{ dir: path, entries }]
    for (let d = 1; d <= depth && level.length > 0; d++) {
      const next: typeof level = []
      for (const { dir, entries } of level)
        for (const entry of entries) {
          if (listed.length >= maxListed)
            return yield* badRequest(`the listing exceeds ${maxListed} entries: ask for a smaller depth`)
          const entryPath = NodePath.posix.join(dir, entry.name)
          listed.push({ ...fileInfo(view, entry.name, entry.status), path: entryPath })
          if (d < depth && entry.status.isDirectory() && entry.link !== true)
            next.push({
              dir: entryPath,
              entries: yield* inSandbox(sandbox, entryPath, (view) => SandboxFs.list(view, entryPath))
            })
        }
      level = next
    }
    return json(listed)
  })

const getFileInfo: EndpointHandler<typeof ToolboxApi.getFileInfo> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = query.path
    const view = yield* viewOf(sandbox)
    const found = yield* inSandbox(sandbox, path, (view) => SandboxFs.stat(view, path))
    return json(fileInfo(view, NodePath.posix.basename(found.path) || "/", found.status))
  })

const parseMode = (mode: string | undefined, fallback: number | undefined) => {
  if (mode === undefined || mode === "") return Effect.succeed(fallback)
  return /^[0-7]{1,4}$/.test(mode) ? Effect.succeed(parseInt(mode, 8)) : Effect.fail(badRequest("invalid mode format"))
}

const createFolder: EndpointHandler<typeof ToolboxApi.createFolder> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = query.path
    const mode = (yield* parseMode(query.mode, 0o755))!
    yield* inSandbox(sandbox, path, (view) => SandboxFs.makeDirectory(view, path, mode))
    return empty(201)
  })

const deleteFile: EndpointHandler<typeof ToolboxApi.deleteFile> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = query.path
    const recursive = query.recursive === true
    yield* inSandbox(sandbox, path, (view) => SandboxFs.remove(view, path, recursive))
    return empty(204)
  })

const moveFile: EndpointHandler<typeof ToolboxApi.moveFile> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const { destination, source } = query
    yield* inSandbox(sandbox, source, (view) => SandboxFs.move(view, source, destination))
    return empty(200)
  })

/** Go's `bufio.Scanner` gives up on longer lines; so does the search (the rest of that file is skipped). */
const maxLine = 64 * 1024
/** A search answers at most this many matches. */
const maxMatches = 100_000

/** Calls `onLine` for each line of a file, stopping at a line longer than `maxLine`. */
const eachLine = async (handle: NodeFs.FileHandle, onLine: (line: string, number: number) => boolean) => {
  const buffer = Buffer.alloc(256 * 1024)
  let carry: Buffer = Buffer.alloc(0)
  let number = 0
  let position = 0
  while (true) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position)
    if (bytesRead === 0) break
    position += bytesRead
    let chunk = Buffer.concat([carry, buffer.subarray(0, bytesRead)])
    let newline = chunk.indexOf(10)
    while (newline !== -1) {
      const line = chunk.subarray(0, newline)
      if (line.length > maxLine) return
      if (!onLine(line.toString("utf8").replace(/\r$/, ""), ++number)) return
      chunk = chunk.subarray(newline + 1)
      newline = chunk.indexOf(10)
    }
    if (chunk.length > maxLine) return
    carry = Buffer.from(chunk)
  }
  if (carry.length > 0) onLine(carry.toString("utf8").replace(/\r$/, ""), ++number)
}

const isText = async (handle: NodeFs.FileHandle) => {
  const buffer = Buffer.alloc(512)
  const { bytesRead } = await handle.read(buffer, 0, 512, 0)
  return bytesRead > 0 && !buffer.subarray(0, bytesRead).includes(0)
}

const findInFiles: EndpointHandler<typeof ToolboxApi.findInFiles> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const { path, pattern } = query
    const matches = yield* inSandbox(sandbox, path, async (view) => {
      const found: Array<Match> = []
      for await (const entry of SandboxFs.walk(view, path)) {
        if (found.length >= maxMatches) break
        const handle = await entry.open()
        if (handle === undefined) continue
        try {
          if (!(await isText(handle))) continue
          await eachLine(handle, (content, line) => {
            if (content.includes(pattern)) found.push({ file: entry.shown, line, content })
            return found.length < maxMatches
          })
        } catch {
          // unreadable: skipped, as the daemon does
        } finally {
          await handle.close()
        }
      }
      return found
    })
    return json(matches)
  })

const searchFiles: EndpointHandler<typeof ToolboxApi.searchFiles> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const { path, pattern } = query
    if (pattern.length > maxGlobLength) {
      return yield* badRequest(`glob pattern too long: ${pattern.length} characters, at most ${maxGlobLength}`)
    }
    const glob = compileGlob(pattern)
    if (glob === undefined) return yield* badRequest(`invalid glob pattern: ${pattern}`)
    const files = yield* inSandbox(sandbox, path, async (view) => {
      const found: Array<string> = []
      for await (const entry of SandboxFs.walk(view, path)) {
        if (entry.status.isDirectory() || entry.relative === "") continue
        if (glob.test(entry.relative)) found.push(entry.shown)
        if (found.length >= maxMatches) break
      }
      return found
    })
    return json({ files })
  })

/** Files larger than this are refused by replace (it rewrites them from memory). */
const maxReplace = 64 * 1024 * 1024

const replaceInFiles: EndpointHandler<typeof ToolboxApi.replaceInFiles> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const results = []
    for (const file of request.files) {
      const outcome = yield* inSandbox(sandbox, file, async (view) => {
        const content = await SandboxFs.readText(view, file, maxReplace)
        await SandboxFs.rewriteFile(view, file, Buffer.from(content.split(request.pattern).join(request.newValue)))
      }).pipe(
        Effect.match({
          onFailure: (error) => ({ file, success: false, error: error.message }),
          onSuccess: () => ({ file, success: true })
        })
      )
      results.push(outcome)
    }
    return json(results)
  })

/** An id from a name in the sandbox's own `/etc/passwd` or `/etc/group` (or a number). */
const idOf = async (view: SandboxView, name: string, database: "/etc/passwd" | "/etc/group") => {
  if (/^\d+$/.test(name)) return Number(name)
  const text = await SandboxFs.readText(view, database, 4 * 1024 * 1024).catch(() => "")
  const entry = text
    .split("\n")
    .map((line) => line.split(":"))
    .find((fields) => fields[0] === name)
  return entry?.[2] === undefined ? undefined : Number(entry[2])
}

const setFilePermissions: EndpointHandler<typeof ToolboxApi.setFilePermissions> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = query.path
    const mode = yield* parseMode(query.mode, undefined)
    const owner = query.owner ?? ""
    const group = query.group ?? ""
    const view = yield* viewOf(sandbox)
    const uid = owner === "" ? -1 : yield* Effect.promise(() => idOf(view, owner, "/etc/passwd"))
    if (uid === undefined || uid > 0xfffffffe) return yield* badRequest("user not found")
    const gid = group === "" ? -1 : yield* Effect.promise(() => idOf(view, group, "/etc/group"))
    if (gid === undefined || gid > 0xfffffffe) return yield* badRequest("group not found")
    yield* inSandbox(sandbox, path, (view) => SandboxFs.setPermissions(view, path, { mode, uid, gid }))
    return empty(200)
  })

// ---------------------------------------------------------------------------------------------
// bulk upload
// ---------------------------------------------------------------------------------------------

/**
 * Replaces every byte above 0x7f in the header blocks of a multipart body by `_`, leaving part
 * contents untouched. The multipart parser gives up on a `Content-Disposition` holding a character
 * above U+00FF and the part then loses its name, so it would be dropped silently; Go's reader (the
 * daemon's) takes such headers. The official SDK writes the destination's basename raw as UTF-8 in
 * `filename`, which is never used here: the destination is the `files[i].path` field, a part body.
 */
export const asciiPartHeaders =
  (boundary: string) =>
  <E, R>(body: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E, R> =>
    Stream.suspend(() => {
      const delimiter = Buffer.from(`\r\n--${boundary}`)
      const blankLine = Buffer.from("\r\n\r\n")
      // the body starts with a delimiter that lacks its CR LF: two bytes added here, never sent on
      let synthetic = 2
      let held: Buffer = Buffer.from("\r\n")
      let inHeaders = false
      const emit = (out: Array<Uint8Array>, part: Uint8Array) => {
        const dropped = Math.min(synthetic, part.length)
        synthetic -= dropped
        if (part.length > dropped) out.push(dropped === 0 ? part : part.subarray(dropped))
      }
      const ascii = (bytes: Uint8Array) => {
        const copy = Buffer.from(bytes)
        for (let i = 0; i < copy.length; i++) if (copy[i]! > 0x7f) copy[i] = 0x5f
        return copy
      }
      /** The length of the longest end of `buffer` (after `from`) that could begin a delimiter. */
      const partialDelimiter = (buffer: Buffer, from: number) => {
        for (let start = Math.max(from, buffer.length - (delimiter.length - 1)); start < buffer.length; start++) {
          if (buffer[start] !== delimiter[0]) continue
          if (buffer.subarray(start).equals(delimiter.subarray(0, buffer.length - start))) return buffer.length - start
        }
        return 0
      }
      // Only what could be the start of a delimiter is held back for the next chunk (almost always
      // nothing in a file's content), so a chunk is read in place rather than copied behind it.
      const transform = (chunk: Uint8Array) => {
        const out: Array<Uint8Array> = []
        const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
        const buffer = held.length === 0 ? view : Buffer.concat([held, view])
        let position = 0
        while (true) {
          if (!inHeaders) {
            const found = buffer.indexOf(delimiter, position)
            if (found === -1) {
              const keep = partialDelimiter(buffer, position)
              emit(out, buffer.subarray(position, buffer.length - keep))
              held = Buffer.from(buffer.subarray(buffer.length - keep))
              return out
            }
            emit(out, buffer.subarray(position, found + delimiter.length))
            position = found + delimiter.length
            inHeaders = true
          } else {
            const found = buffer.indexOf(blankLine, position)
            const end =
              found === -1 ? Math.max(position, buffer.length - (blankLine.length - 1)) : found + blankLine.length
            emit(out, ascii(buffer.subarray(position, end)))
            position = end
            if (found === -1) {
              held = Buffer.from(buffer.subarray(position))
              return out
            }
            inHeaders = false
          }
        }
      }
      return body.pipe(
        Stream.mapConcat(transform),
        Stream.concat(
          Stream.suspend(() => {
            const out: Array<Uint8Array> = []
            emit(out, inHeaders ? ascii(held) : held)
            return Stream.fromIterable(out)
          })
        )
      )
    })

const partIndex = (name: string, suffix: string) =>
  name.startsWith("files[") && name.endsWith(`]${suffix}`) ? name.slice(6, -suffix.length - 1) : undefined

const smallFile = 256 * 1024
const uploadConcurrency = 16

type PartIterator = PartSource

/** Reads a part until it ends or exceeds `smallFile` bytes; `rest` is set when more is to come. */
const readHead = async (source: PartIterator) => {
  const chunks: Array<Uint8Array> = []
  let size = 0
  while (size <= smallFile) {
    const next = await source.next()
    if (next.done === true) return { chunks, size, rest: undefined }
    chunks.push(next.value)
    size += next.value.length
  }
  return { chunks, size, rest: source }
}

/** A part's bytes: the head already read, then the rest streamed from the request. */
async function* partChunks(head: ReadonlyArray<Uint8Array>, rest: PartIterator | undefined) {
  yield* head
  if (rest === undefined) return
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) yield next.value
}

const errorText = (cause: unknown) =>
  cause instanceof PathFailure
    ? cause.reason
    : cause instanceof DaemonError
      ? cause.message
      : isFileSystemError(cause)
        ? failureOf("", cause).reason
        : String(cause)

/**
 * `POST /files/bulk-upload`: each `files[i].file` part goes to the destination named by the
 * `files[i].path` part before it. Small files are written concurrently from memory; a large part
 * is streamed to disk before the next part is read, so memory stays flat.
 */
const bulkUpload = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const contentType = request.headers["content-type"] ?? ""
    const boundary = multipartBoundary(contentType)
    if (boundary === undefined) return json({ errors: ["invalid multipart form"] }, 400)
    const destinations = new Map<string, string>()
    const errors: Array<string> = []
    const written: Array<{ order: number; path: string; bytes: number }> = []
    const permits = yield* Effect.makeSemaphore(uploadConcurrency)
    const scope = yield* Scope.make()
    const writers: Array<Fiber.RuntimeFiber<void>> = []
    let order = 0
    const view = yield* viewOf(sandbox)
    const store = (destination: string, head: ReadonlyArray<Uint8Array>, rest: PartIterator | undefined) => {
      const position = order++
      return Effect.tryPromise({
        try: (signal) => SandboxFs.writeFile(view, destination, partChunks(head, rest), signal),
        catch: (cause) => cause
      }).pipe(
        Effect.matchEffect({
          onFailure: (error) =>
            Effect.promise(() => drain(rest)).pipe(
              Effect.map(() => {
                errors.push(`${destination}: ${errorText(error)}`)
              })
            ),
          onSuccess: (bytes) =>
            Effect.sync(() => {
              written.push({ order: position, path: destination, bytes })
            })
        })
      )
    }
    const ended = bodyEnded(request)
    const parsed = yield* request.stream.pipe(
      asciiPartHeaders(boundary),
      Stream.pipeThroughChannel(Multipart.makeChannel(request.headers)),
      Stream.runForEach((part) =>
        Effect.gen(function* () {
          if (Multipart.isField(part)) {
            const index = partIndex(part.key, ".path")
            if (index === undefined) return
            const destination = part.value.trim()
            if (destination === "") errors.push(`path[${index}]: empty path`)
            else destinations.set(index, destination)
            return
          }
          const source = partSource((yield* Stream.toAsyncIterableEffect(part.content))[Symbol.asyncIterator](), ended)
          const index = partIndex(part.key, ".file")
          const destination = index === undefined ? undefined : destinations.get(index)
          if (destination === undefined) {
            if (index !== undefined) errors.push(`file[${index}]: missing .path metadata`)
            return yield* Effect.promise(() => drain(source))
          }
          const head = yield* Effect.tryPromise({ try: () => readHead(source), catch: (e) => e })
          if (head.rest !== undefined) return yield* store(destination, head.chunks, head.rest)
          yield* permits.take(1)
          writers.push(
            yield* Effect.forkIn(
              store(destination, head.chunks, undefined).pipe(Effect.ensuring(permits.release(1))),
              scope
            )
          )
        })
      ),
      Effect.either,
      Effect.zipLeft(Effect.suspend(() => Fiber.joinAll(writers))),
      Effect.ensuring(Scope.close(scope, Exit.void))
    )
    if (parsed._tag === "Left")
      errors.push(
        order === 0 && errors.length === 0 ? "invalid multipart form" : `reading part: ${String(parsed.left)}`
      )
    const files = written.sort((a, b) => a.order - b.order).map(({ bytes, path }) => ({ path, bytes }))
    return errors.length > 0 ? json({ errors, files }, 400) : json({ files })
  })

// ---------------------------------------------------------------------------------------------
// bulk download
// ---------------------------------------------------------------------------------------------

const boundary = "DAYTONA-FILE-BOUNDARY"
const encoder = new TextEncoder()

const contentTypes: Record<string, string> = {
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".pdf": "application/pdf",
  ".zip": "application/zip",
  ".gz": "application/gzip",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
  ".webp": "image/webp"
}

const partHead = (first: boolean, headers: ReadonlyArray<string>) =>
  encoder.encode(`${first ? "" : "\r\n"}--${boundary}\r\n${headers.join("\r\n")}\r\n\r\n`)

/** A file that could not be sent: a part named `error` holding the daemon's error body for it. */
const errorPart = (first: boolean, path: string, error: DaemonError, timestamp: string) => {
  const body = JSON.stringify(daemonErrorBody(error, { path, method: "POST", timestamp }))
  return Stream.make(
    partHead(first, [
      `Content-Disposition: ${MultipartCodec.formDataDisposition("error", path)}`,
      "Content-Type: application/json; charset=utf-8"
    ]),
    encoder.encode(body)
  )
}

const downloadError = (error: DaemonError): DaemonError =>
  error.code === "FILE_NOT_FOUND" || error.code === "FILE_ACCESS_DENIED"
    ? error
    : error.status === 400
      ? new DaemonError({ status: 400, code: "INVALID_FILE_PATH", message: error.message })
      : new DaemonError({ status: 500, code: "FILE_READ_FAILED", message: error.message })

const filePart = (sandbox: SandboxRecord, path: string, first: boolean) =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      // The handle lives as long as the part's stream: a body abandoned before or while this part is
      // read closes it when the stream's scope closes.
      const { handle, status: stat } = yield* Effect.acquireRelease(openForReading(sandbox, path), (opened) =>
        Effect.promise(() => opened.handle.close().catch(() => undefined))
      )
      const type = contentTypes[NodePath.extname(path).toLowerCase()] ?? "application/octet-stream"
      const head = partHead(first, [
        `Content-Disposition: ${MultipartCodec.formDataDisposition("file", path)}`,
        `Content-Type: ${type}`,
        `Content-Length: ${stat.size}`
      ])
      const content = Stream.fromAsyncIterable(
        handle.createReadStream({
          autoClose: false,
          highWaterMark: 256 * 1024,
          start: 0,
          end: Math.max(0, stat.size - 1)
        }) as AsyncIterable<Uint8Array>,
        (cause) => cause
      )
      return Stream.concat(Stream.make(head), content)
    }).pipe(
      Effect.catchAll((error) =>
        Effect.map(Clock.currentTimeMillis, (now) =>
          errorPart(first, path, downloadError(error), new Date(now).toISOString())
        )
      )
    )
  )

const bulkDownload: EndpointHandler<typeof ToolboxApi.downloadFiles> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    if (request.paths.length === 0) return json({ error: 'request body must be {"paths": [ ... ]} and non-empty' }, 400)
    const engine = yield* SandboxEngine
    const parts = request.paths.map((path, i) => filePart(sandbox, path, i === 0))
    const body = Stream.concatAll(Chunk.fromIterable(parts)).pipe(
      Stream.concat(Stream.make(encoder.encode(`\r\n--${boundary}--\r\n`))),
      Stream.provideService(SandboxEngine, engine)
    )
    return HttpServerResponse.stream(body, { contentType: `multipart/form-data; boundary=${boundary}` })
  })

/** The daemon's file routes. */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.listFiles, listFiles),
  serve(ToolboxApi.deleteFile, deleteFile),
  serve(ToolboxApi.getFileInfo, getFileInfo),
  serve(ToolboxApi.createFolder, createFolder),
  serve(ToolboxApi.moveFile, moveFile),
  serve(ToolboxApi.findInFiles, findInFiles),
  serve(ToolboxApi.searchFiles, searchFiles),
  serve(ToolboxApi.replaceInFiles, replaceInFiles),
  serve(ToolboxApi.setFilePermissions, setFilePermissions),
  serve(ToolboxApi.uploadFiles, bulkUpload),
  serve(ToolboxApi.downloadFiles, bulkDownload)
)
