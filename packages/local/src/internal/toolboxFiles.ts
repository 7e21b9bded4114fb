import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Multipart from "@effect/platform/Multipart"
import { FilesDownloadRequest, ReplaceRequest, type FileInfo, type Match } from "@effect-daytona/sdk/ToolboxDto"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodeCrypto from "node:crypto"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as NodeReadline from "node:readline"
import { SandboxEngine } from "../SandboxEngine.js"
import { compileGlob } from "./glob.js"
import { json } from "./http.js"
import type { SandboxRecord } from "./record.js"
import { badRequest, conflict, ToolboxError, toolboxErrorBody } from "./toolboxError.js"
import { decodeBody, empty, io, ioError, query, requiredQuery, resolveSandboxPath, serve } from "./toolboxRoute.js"

const typeChar = (stat: NodeFsSync.Stats) =>
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
const modeString = (stat: NodeFsSync.Stats) => {
  const bits = "rwxrwxrwx"
  let perms = ""
  for (let i = 0; i < 9; i++) perms += stat.mode & (1 << (8 - i)) ? bits[i] : "-"
  const special = (stat.mode & 0o4000 ? "u" : "") + (stat.mode & 0o2000 ? "g" : "") + (stat.mode & 0o1000 ? "t" : "")
  const type = typeChar(stat)
  return `${type === "-" && special !== "" ? "" : type}${special}${perms}`
}

const fileInfo = (name: string, stat: NodeFsSync.Stats): FileInfo => ({
  name,
  isDir: stat.isDirectory(),
  size: stat.size,
  mode: modeString(stat),
  permissions: (stat.mode & 0o777).toString(8).padStart(4, "0"),
  owner: String(stat.uid),
  group: String(stat.gid),
  modTime: stat.mtime.toISOString(),
  modifiedAt: stat.mtime.toISOString()
})

const listFiles = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = (yield* query("path")) || "."
    const dir = yield* resolveSandboxPath(sandbox, path, "read")
    const entries = yield* io(path, () => NodeFs.readdir(dir))
    const infos = yield* Effect.promise(() =>
      Promise.all(
        entries.map((name) =>
          NodeFs.stat(NodePath.join(dir, name)).then(
            (stat) => fileInfo(name, stat),
            () => undefined
          )
        )
      )
    )
    return json(infos.filter((info) => info !== undefined))
  })

const getFileInfo = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* requiredQuery("path")
    const host = yield* resolveSandboxPath(sandbox, path, "read")
    const stat = yield* io(path, () => NodeFs.stat(host))
    return json(fileInfo(NodePath.basename(host), stat))
  })

const parseMode = (mode: string | undefined, fallback: number | undefined) => {
  if (mode === undefined || mode === "") return Effect.succeed(fallback)
  return /^[0-7]{1,4}$/.test(mode) ? Effect.succeed(parseInt(mode, 8)) : Effect.fail(badRequest("invalid mode format"))
}

const createFolder = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* requiredQuery("path")
    const mode = (yield* parseMode(yield* query("mode"), 0o755))!
    const host = yield* resolveSandboxPath(sandbox, path, "write")
    const existing = yield* Effect.promise(() => NodeFs.stat(host).catch(() => undefined))
    if (existing !== undefined && !existing.isDirectory())
      return yield* conflict(`${path}: a file with this name already exists`)
    yield* io(path, () => NodeFs.mkdir(host, { recursive: true, mode }))
    if (existing === undefined) yield* io(path, () => NodeFs.chmod(host, mode))
    return empty(201)
  })

const deleteFile = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* requiredQuery("path")
    const recursive = (yield* query("recursive")) === "true"
    const host = yield* resolveSandboxPath(sandbox, path, "write")
    const stat = yield* io(path, () => NodeFs.lstat(host))
    if (stat.isDirectory() && !recursive) return yield* badRequest("cannot delete directory without recursive flag")
    yield* io(path, () => (recursive ? NodeFs.rm(host, { recursive: true, force: true }) : NodeFs.unlink(host)))
    return empty(204)
  })

const moveFile = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const source = yield* requiredQuery("source")
    const destination = yield* requiredQuery("destination")
    const from = yield* resolveSandboxPath(sandbox, source, "write")
    const to = yield* resolveSandboxPath(sandbox, destination, "write")
    yield* io(source, () => NodeFs.lstat(from))
    const exists = yield* Effect.promise(() =>
      NodeFs.lstat(to).then(
        () => true,
        () => false
      )
    )
    if (exists) return yield* conflict(`destination ${destination} already exists`)
    yield* io(destination, () => NodeFs.mkdir(NodePath.dirname(to), { recursive: true }))
    yield* Effect.tryPromise({
      try: () => NodeFs.rename(from, to),
      catch: (cause) => cause
    }).pipe(
      Effect.catchAll((cause) =>
        (cause as { code?: unknown }).code === "EXDEV"
          ? io(source, async () => {
              await NodeFs.cp(from, to, { recursive: true, preserveTimestamps: true })
              await NodeFs.rm(from, { recursive: true, force: true })
            })
          : Effect.fail(ioError(source)(cause))
      )
    )
    return empty(200)
  })

/** Walks a tree like Go's `filepath.Walk`: symbolic links are not followed, unreadable parts skipped. */
async function* walk(
  host: string,
  shown: string
): AsyncGenerator<{ host: string; shown: string; stat: NodeFsSync.Stats }> {
  const stat = await NodeFs.lstat(host).catch(() => undefined)
  if (stat === undefined) return
  yield { host, shown, stat }
  if (!stat.isDirectory()) return
  const entries = await NodeFs.readdir(host).catch(() => [] as Array<string>)
  for (const name of entries.sort()) yield* walk(NodePath.join(host, name), NodePath.posix.join(shown, name))
}

const isText = async (path: string) => {
  const handle = await NodeFs.open(path, "r")
  try {
    const buffer = Buffer.alloc(512)
    const { bytesRead } = await handle.read(buffer, 0, 512, 0)
    return bytesRead > 0 && !buffer.subarray(0, bytesRead).includes(0)
  } finally {
    await handle.close()
  }
}

const findInFile = async (host: string, shown: string, pattern: string, matches: Array<Match>) => {
  if (!(await isText(host).catch(() => false))) return
  const lines = NodeReadline.createInterface({ input: NodeFsSync.createReadStream(host), crlfDelay: Infinity })
  let line = 0
  for await (const content of lines) {
    line++
    if (content.includes(pattern)) matches.push({ file: shown, line, content })
  }
}

const findInFiles = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* query("path")
    const pattern = yield* query("pattern")
    if (!path || !pattern) return yield* badRequest("path and pattern are required")
    const host = yield* resolveSandboxPath(sandbox, path, "read")
    yield* io(path, () => NodeFs.stat(host))
    const matches = yield* io(path, async () => {
      const found: Array<Match> = []
      for await (const entry of walk(host, path)) {
        if (entry.stat.isFile()) await findInFile(entry.host, entry.shown, pattern, found).catch(() => undefined)
      }
      return found
    })
    return json(matches)
  })

const searchFiles = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* query("path")
    const pattern = yield* query("pattern")
    if (!path || !pattern) return yield* badRequest("path and pattern are required")
    const glob = compileGlob(pattern)
    if (glob === undefined) return yield* badRequest(`invalid glob pattern: ${pattern}`)
    const host = yield* resolveSandboxPath(sandbox, path, "read")
    yield* io(path, () => NodeFs.stat(host))
    const files = yield* io(path, async () => {
      const found: Array<string> = []
      for await (const entry of walk(host, path)) {
        if (entry.stat.isDirectory()) continue
        if (glob.test(NodePath.relative(host, entry.host).split(NodePath.sep).join("/"))) found.push(entry.shown)
      }
      return found
    })
    return json({ files })
  })

const replaceInFiles = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const request = yield* decodeBody(ReplaceRequest)
    const results = []
    for (const file of request.files) {
      const outcome = yield* resolveSandboxPath(sandbox, file, "write").pipe(
        Effect.flatMap((host) =>
          io(file, async () => {
            const content = await NodeFs.readFile(host, "utf8")
            await NodeFs.writeFile(host, content.split(request.pattern).join(request.newValue))
          })
        ),
        Effect.match({
          onFailure: (error) => ({ file, success: false, error: error.message }),
          onSuccess: () => ({ file, success: true })
        })
      )
      results.push(outcome)
    }
    return json(results)
  })

const idOf = async (name: string, database: "/etc/passwd" | "/etc/group") => {
  if (/^\d+$/.test(name)) return Number(name)
  const text = await NodeFs.readFile(database, "utf8").catch(() => "")
  const entry = text
    .split("\n")
    .map((line) => line.split(":"))
    .find((fields) => fields[0] === name)
  return entry?.[2] === undefined ? undefined : Number(entry[2])
}

const setFilePermissions = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const path = yield* requiredQuery("path")
    const mode = yield* parseMode(yield* query("mode"), undefined)
    const owner = (yield* query("owner")) ?? ""
    const group = (yield* query("group")) ?? ""
    const host = yield* resolveSandboxPath(sandbox, path, "write")
    yield* io(path, () => NodeFs.stat(host))
    if (mode !== undefined) yield* io(path, () => NodeFs.chmod(host, mode))
    if (owner !== "" || group !== "") {
      const uid = owner === "" ? -1 : yield* Effect.promise(() => idOf(owner, "/etc/passwd"))
      if (uid === undefined) return yield* badRequest("user not found")
      const gid = group === "" ? -1 : yield* Effect.promise(() => idOf(group, "/etc/group"))
      if (gid === undefined) return yield* badRequest("group not found")
      yield* io(path, () => NodeFs.chown(host, uid, gid))
    }
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
      const transform = (chunk: Uint8Array) => {
        const buffer =
          held.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length) : Buffer.concat([held, chunk])
        const out: Array<Uint8Array> = []
        let position = 0
        while (true) {
          if (!inHeaders) {
            const found = buffer.indexOf(delimiter, position)
            if (found === -1) {
              const keep = Math.min(delimiter.length - 1, buffer.length - position)
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

const multipartBoundary = (contentType: string) => {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return match?.[1] ?? match?.[2]
}

const partIndex = (name: string, suffix: string) =>
  name.startsWith("files[") && name.endsWith(`]${suffix}`) ? name.slice(6, -suffix.length - 1) : undefined

const smallFile = 256 * 1024
const uploadConcurrency = 16

type PartIterator = AsyncIterator<Uint8Array>

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

/**
 * Writes a file through a temporary file next to `host`, renamed over the destination when
 * complete. The rest of a large part is streamed from the request, one chunk at a time.
 */
const writeFile = async (
  host: string,
  head: ReadonlyArray<Uint8Array>,
  rest: PartIterator | undefined,
  directories: Set<string>
) => {
  const dir = NodePath.dirname(host)
  if (!directories.has(dir)) {
    await NodeFs.mkdir(dir, { recursive: true, mode: 0o755 })
    directories.add(dir)
  }
  const temp = NodePath.join(dir, `.daytona-upload-${NodeCrypto.randomUUID()}`)
  let bytes = 0
  const handle = await NodeFs.open(temp, "w", 0o644)
  try {
    for (const chunk of head) bytes += (await handle.write(chunk)).bytesWritten
    if (rest !== undefined) {
      for (let next = await rest.next(); next.done !== true; next = await rest.next())
        bytes += (await handle.write(next.value)).bytesWritten
    }
    await handle.close()
    await NodeFs.rename(temp, host)
    return bytes
  } catch (error) {
    await handle.close().catch(() => undefined)
    await NodeFs.rm(temp, { force: true })
    throw error
  }
}

const drain = async (source: PartIterator | undefined) => {
  if (source === undefined) return
  while ((await source.next()).done !== true) {
    // discarded
  }
}

const errorText = (cause: unknown) => {
  if (cause instanceof ToolboxError) return cause.message
  const code = (cause as { code?: unknown } | null)?.code
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return "permission denied"
  if (code === "ENOTDIR") return "not a directory"
  if (code === "EISDIR") return "is a directory"
  return cause instanceof Error ? cause.message : String(cause)
}

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
    if (!/^multipart\/form-data/i.test(contentType) || boundary === undefined)
      return json({ errors: ["invalid multipart form"] }, 400)
    const destinations = new Map<string, string>()
    const errors: Array<string> = []
    const written: Array<{ order: number; path: string; bytes: number }> = []
    const directories = new Set<string>()
    const permits = yield* Effect.makeSemaphore(uploadConcurrency)
    const scope = yield* Scope.make()
    const writers: Array<Fiber.RuntimeFiber<void>> = []
    let order = 0
    const parents = new Map<string, string>()
    const resolve = (destination: string) =>
      Effect.gen(function* () {
        const parent = NodePath.posix.dirname(destination)
        const name = NodePath.posix.basename(destination)
        if (name === "." || name === ".." || name === "")
          return yield* resolveSandboxPath(sandbox, destination, "write")
        let dir = parents.get(parent)
        if (dir === undefined) {
          dir = yield* resolveSandboxPath(sandbox, parent, "write")
          parents.set(parent, dir)
        }
        const host = NodePath.join(dir, name)
        const leaf = yield* Effect.promise(() => NodeFs.lstat(host).catch(() => undefined))
        return leaf?.isSymbolicLink() === true ? yield* resolveSandboxPath(sandbox, destination, "write") : host
      })
    const store = (destination: string, head: ReadonlyArray<Uint8Array>, rest: PartIterator | undefined) => {
      const position = order++
      return resolve(destination).pipe(
        Effect.flatMap((host) =>
          Effect.tryPromise({ try: () => writeFile(host, head, rest, directories), catch: (e) => e })
        ),
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
          const source: PartIterator = (yield* Stream.toAsyncIterableEffect(part.content))[Symbol.asyncIterator]()
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

const rfc5987 = (text: string) =>
  encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** `form-data; name=…; filename=…`: printable ASCII as is, else an ASCII fallback plus the exact `filename*`. */
const disposition = (name: string, filename: string) => {
  const plain = /^[\x20-\x7e]*$/.test(filename)
  const fallback = filename.replace(/[^\x20-\x7e]/g, "_").replace(/(["\\])/g, "\\$1")
  return `form-data; name="${name}"; filename="${fallback}"${plain ? "" : `; filename*=utf-8''${rfc5987(filename)}`}`
}

const partHead = (first: boolean, headers: ReadonlyArray<string>) =>
  encoder.encode(`${first ? "" : "\r\n"}--${boundary}\r\n${headers.join("\r\n")}\r\n\r\n`)

/** A file that could not be sent: a part named `error` holding the daemon's error body for it. */
const errorPart = (first: boolean, path: string, error: ToolboxError, timestamp: string) => {
  const body = JSON.stringify(toolboxErrorBody(error, { path, method: "POST", timestamp }))
  return Stream.make(
    partHead(first, [
      `Content-Disposition: ${disposition("error", path)}`,
      "Content-Type: application/json; charset=utf-8"
    ]),
    encoder.encode(body)
  )
}

const downloadError = (error: ToolboxError): ToolboxError =>
  error.code === "FILE_NOT_FOUND" || error.code === "FILE_ACCESS_DENIED"
    ? error
    : error.status === 400
      ? new ToolboxError({ status: 400, code: "INVALID_FILE_PATH", message: error.message })
      : new ToolboxError({ status: 500, code: "FILE_READ_FAILED", message: error.message })

const filePart = (sandbox: SandboxRecord, path: string, first: boolean) =>
  Stream.unwrap(
    Effect.gen(function* () {
      const host = yield* resolveSandboxPath(sandbox, path, "read")
      const stat = yield* io(path, () => NodeFs.stat(host))
      if (stat.isDirectory()) return yield* badRequest(`${path}: is a directory`)
      const handle = yield* io(path, () => NodeFs.open(host, "r"))
      const type = contentTypes[NodePath.extname(path).toLowerCase()] ?? "application/octet-stream"
      const head = partHead(first, [
        `Content-Disposition: ${disposition("file", path)}`,
        `Content-Type: ${type}`,
        `Content-Length: ${stat.size}`
      ])
      const content = Stream.fromAsyncIterable(
        handle.createReadStream({ highWaterMark: 256 * 1024 }) as AsyncIterable<Uint8Array>,
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

const bulkDownload = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const request = yield* decodeBody(FilesDownloadRequest).pipe(
      Effect.catchAll(() => Effect.succeed({ paths: [] as ReadonlyArray<string> }))
    )
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
