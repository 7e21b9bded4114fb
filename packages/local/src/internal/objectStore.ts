import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs"
import * as NodeFsP from "node:fs/promises"
import * as NodePath from "node:path"
import * as NodeStream from "node:stream/promises"
import { S3Error } from "./s3Xml.js"
import type { JsonTable } from "./store.js"

/**
 * The objects of the local object storage and the multipart uploads in progress, in the data
 * directory. A key is never a path: each object's bytes are a file named by a fresh UUID
 * (`objects/<uuid>`), and its key, size and ETag are a row of the SQLite store. A body is written
 * under `tmp/` and renamed into `objects/` once whole, then its row committed, so that a cut
 * upload never appears. Parts of multipart uploads are `uploads/<upload id>/<part number>`; they
 * go when their upload completes, is aborted or expires, and all of them at a restart.
 */

/** The largest object (and so the largest part): 1 GiB (S3 allows 5 TiB in parts of 5 GiB). */
export const maxObjectSize = 1024 ** 3
/** S3's smallest part, but for the last. */
export const minPartSize = 5 * 1024 ** 2
/** S3's most parts of an upload, and its part numbers' range. */
export const maxParts = 10_000
/** How many multipart uploads may be in progress at once. */
export const maxUploads = 1000

/**
 * The least a body or a kept part is charged against the bytes in flight: a file and its entry
 * cost the same whatever the size, so 10,000 empty parts of 1,000 uploads (10 million files) are
 * not free. Real parts are 5 MiB or more but the last.
 */
export const minimumCharge = 64 * 1024

/** Bodies received at once: each holds a connection and an open file until it ends or is cut. */
export const maxReceiving = 64
/** Bytes held at once by bodies being received and by parts of uploads in progress: 4 GiB. */
export const maxPendingBytes = 4 * 1024 ** 3
/** How long a multipart upload may stay incomplete before its parts are dropped. */
export const uploadLifetimeMillis = 24 * 60 * 60 * 1000
/** The longest key, in UTF-8 bytes (S3's). */
export const maxKeyBytes = 1024

const ObjectRow = Schema.Struct({
  key: Schema.String,
  file: Schema.String,
  size: Schema.Number,
  etag: Schema.String,
  contentType: Schema.String,
  lastModified: Schema.Number
})

/** What the store knows of an object. `etag` is quoted, as sent in headers. */
export type ObjectMeta = typeof ObjectRow.Type

const ObjectRowJson = Schema.parseJson(ObjectRow)
const decodeRow = Schema.decodeUnknownOption(ObjectRowJson)
const encodeRow = Schema.encodeSync(ObjectRowJson)

interface Part {
  readonly file: string
  readonly size: number
  readonly etag: string
  readonly md5: Buffer
}

interface Upload {
  readonly id: string
  readonly key: string
  readonly contentType: string
  readonly initiated: number
  readonly parts: Map<number, Part>
  completing: boolean
}

/** What a received body gave: where its bytes are, how many, and their MD5. */
export interface Received {
  readonly file: string
  readonly size: number
  readonly md5: Buffer
}

const removeQuietly = (path: string) => NodeFsP.rm(path, { recursive: true, force: true }).catch(() => undefined)

const noSuchUpload = () =>
  new S3Error(
    404,
    "NoSuchUpload",
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
  )

/** Opens the store under `root`, whose rows are in `table`. */
export const make = (root: string, table: JsonTable) =>
  Effect.gen(function* () {
    const objectsDir = NodePath.join(root, "objects")
    const tmpDir = NodePath.join(root, "tmp")
    const uploadsDir = NodePath.join(root, "uploads")
    const index = new Map<string, ObjectMeta>()
    const uploads = new Map<string, Upload>()
    let pending = 0
    const lock = (yield* Effect.makeSemaphore(1)).withPermits(1)

    yield* Effect.promise(async () => {
      await Promise.all([removeQuietly(tmpDir), removeQuietly(uploadsDir)])
      for (const dir of [objectsDir, tmpDir, uploadsDir]) await NodeFsP.mkdir(dir, { recursive: true, mode: 0o700 })
    })
    const files = new Set(yield* Effect.promise(() => NodeFsP.readdir(objectsDir)))
    for (const data of yield* table.all) {
      const row = Option.getOrUndefined(decodeRow(data))
      if (row === undefined) continue
      if (files.has(row.file)) index.set(row.key, row)
      else yield* table.remove(row.key)
    }
    // A file renamed in whose row was never committed (the server stopped in between).
    const referenced = new Set(Array.from(index.values(), (row) => row.file))
    yield* Effect.promise(() =>
      Promise.all(
        Array.from(files)
          .filter((file) => !referenced.has(file))
          .map((file) => removeQuietly(NodePath.join(objectsDir, file)))
      )
    )

    /** A fresh file name under `tmp/` for a body being received. */
    const tmpFile = () => NodePath.join(tmpDir, NodeCrypto.randomUUID())

    /** Holds `size` bytes (at least `minimumCharge`) of the pending budget, or fails when it is spent. */
    const reserve = (size: number) =>
      Effect.suspend(() => {
        const bytes = Math.max(size, minimumCharge)
        if (pending + bytes > maxPendingBytes)
          return Effect.fail(
            new S3Error(
              400,
              "EntityTooLarge",
              `The local object storage holds ${maxPendingBytes} bytes of uploads in progress at most; try again later`
            )
          )
        pending += bytes
        return Effect.void
      })

    let receiving = 0

    /** Counts one more body being received, or fails (503 `SlowDown`) when `maxReceiving` are. */
    const admit = Effect.suspend(() => {
      if (receiving >= maxReceiving)
        return Effect.fail(
          new S3Error(
            503,
            "SlowDown",
            `The local object storage receives ${maxReceiving} bodies at once at most; try again later`
          )
        )
      receiving++
      return Effect.void
    })

    /** One body fewer being received. */
    const leave = Effect.sync(() => {
      receiving = Math.max(0, receiving - 1)
    })

    const release = (size: number) =>
      Effect.sync(() => {
        pending = Math.max(0, pending - Math.max(size, minimumCharge))
      })

    const pathOf = (meta: ObjectMeta) => NodePath.join(objectsDir, meta.file)

    /** Makes the body at `received.file` the object `key`, replacing any older one. */
    const commit = (key: string, received: Received, etag: string, contentType: string) =>
      lock(
        Effect.gen(function* () {
          const file = NodeCrypto.randomUUID()
          yield* Effect.promise(() => NodeFsP.rename(received.file, NodePath.join(objectsDir, file)))
          const meta: ObjectMeta = {
            key,
            file,
            size: received.size,
            etag,
            contentType,
            lastModified: yield* Clock.currentTimeMillis
          }
          yield* table.put(key, encodeRow(meta))
          const old = index.get(key)
          index.set(key, meta)
          if (old !== undefined) yield* Effect.promise(() => removeQuietly(pathOf(old)))
          return meta
        })
      )

    const head = (key: string): ObjectMeta | undefined => index.get(key)

    const remove = (key: string) =>
      lock(
        Effect.gen(function* () {
          const old = index.get(key)
          if (old === undefined) return
          yield* table.remove(key)
          index.delete(key)
          yield* Effect.promise(() => removeQuietly(pathOf(old)))
        })
      )

    /** Keys after `after` starting with `prefix`, in UTF-8 byte order as S3 lists them, grouped by `delimiter`. */
    const list = (prefix: string, after: string, max: number, delimiter: string) => {
      // S3 orders keys by their UTF-8 bytes; each key is encoded once, not once per comparison.
      const from = Buffer.from(after)
      const matching: Array<{ readonly key: string; readonly bytes: Uint8Array }> = []
      for (const key of index.keys()) {
        if (!key.startsWith(prefix)) continue
        const bytes = Buffer.from(key)
        if (Buffer.compare(bytes, from) > 0) matching.push({ key, bytes })
      }
      const keys = matching.sort((x, y) => Buffer.compare(x.bytes, y.bytes)).map((entry) => entry.key)
      const contents: Array<ObjectMeta> = []
      const prefixes: Array<string> = []
      let last: string | undefined
      let truncated = false
      for (const key of keys) {
        let common: string | undefined
        if (delimiter !== "") {
          const at = key.indexOf(delimiter, prefix.length)
          if (at >= 0) common = key.slice(0, at + delimiter.length)
        }
        if (common !== undefined && common === prefixes[prefixes.length - 1]) continue
        if (contents.length + prefixes.length >= max) {
          truncated = true
          break
        }
        if (common !== undefined) {
          prefixes.push(common)
          // Skips every key of the group on the next page too.
          last = `${common}\u{10FFFF}`
        } else {
          contents.push(index.get(key)!)
          last = key
        }
      }
      return { contents, prefixes, truncated, last }
    }

    /** Drops uploads older than their lifetime, with their parts. */
    const expire = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      for (const upload of Array.from(uploads.values()))
        if (!upload.completing && now - upload.initiated > uploadLifetimeMillis) yield* drop(upload)
    })

    const drop = (upload: Upload) =>
      Effect.gen(function* () {
        uploads.delete(upload.id)
        yield* release(Array.from(upload.parts.values()).reduce((sum, part) => sum + part.size, 0))
        yield* Effect.promise(() => removeQuietly(NodePath.join(uploadsDir, upload.id)))
      })

    const initiate = (key: string, contentType: string) =>
      lock(
        Effect.gen(function* () {
          yield* expire
          if (uploads.size >= maxUploads)
            return yield* Effect.fail(
              new S3Error(400, "InvalidRequest", `At most ${maxUploads} multipart uploads may be in progress at once`)
            )
          const id = NodeCrypto.randomBytes(24).toString("base64url")
          yield* Effect.promise(() => NodeFsP.mkdir(NodePath.join(uploadsDir, id), { mode: 0o700 }))
          uploads.set(id, {
            id,
            key,
            contentType,
            initiated: yield* Clock.currentTimeMillis,
            parts: new Map(),
            completing: false
          })
          return id
        })
      )

    /** The upload `id` of object `key`, still open. */
    const openUpload = (id: string, key: string) =>
      Effect.suspend(() => {
        const upload = uploads.get(id)
        return upload === undefined || upload.key !== key || upload.completing
          ? Effect.fail(noSuchUpload())
          : Effect.succeed(upload)
      })

    /** Keeps a received part (its bytes stay reserved until the upload ends). */
    const putPart = (id: string, key: string, number: number, received: Received) =>
      lock(
        Effect.gen(function* () {
          const upload = yield* openUpload(id, key)
          const others = Array.from(upload.parts.entries())
            .filter(([n]) => n !== number)
            .reduce((sum, [, part]) => sum + part.size, 0)
          if (others + received.size > maxObjectSize)
            return yield* Effect.fail(
              new S3Error(
                400,
                "EntityTooLarge",
                `An object of the local object storage is ${maxObjectSize} bytes at most`
              )
            )
          const file = NodePath.join(uploadsDir, id, String(number))
          const old = upload.parts.get(number)
          yield* Effect.promise(() => NodeFsP.rename(received.file, file))
          if (old !== undefined) yield* release(old.size)
          const etag = `"${received.md5.toString("hex")}"`
          upload.parts.set(number, { file, size: received.size, etag, md5: received.md5 })
          return etag
        })
      ).pipe(Effect.tapError(() => release(received.size)))

    const abort = (id: string, key: string) => lock(Effect.flatMap(openUpload(id, key), drop))

    /** Joins the named parts into the object; the parts must exist, ascend, and all but the last be 5 MiB or more. */
    const complete = (id: string, key: string, named: ReadonlyArray<{ partNumber: number; etag: string }>) =>
      Effect.gen(function* () {
        const upload = yield* lock(
          Effect.gen(function* () {
            const upload = yield* openUpload(id, key)
            upload.completing = true
            return upload
          })
        )
        const reopen = Effect.sync(() => {
          upload.completing = false
        })
        const chosen = yield* Effect.suspend(() => {
          if (named.length === 0)
            return Effect.fail(
              new S3Error(400, "MalformedXML", "The XML you provided was not well-formed or did not validate")
            )
          if (named.some((entry, i) => i > 0 && entry.partNumber <= named[i - 1]!.partNumber))
            return Effect.fail(new S3Error(400, "InvalidPartOrder", "The list of parts was not in ascending order."))
          const chosen: Array<Part> = []
          for (const [i, entry] of named.entries()) {
            const part = upload.parts.get(entry.partNumber)
            if (part === undefined || part.etag.replace(/"/g, "") !== entry.etag.replace(/"/g, ""))
              return Effect.fail(
                new S3Error(
                  400,
                  "InvalidPart",
                  "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
                )
              )
            if (i < named.length - 1 && part.size < minPartSize)
              return Effect.fail(
                new S3Error(
                  400,
                  "EntityTooSmall",
                  "Your proposed upload is smaller than the minimum allowed object size."
                )
              )
            chosen.push(part)
          }
          return Effect.succeed(chosen)
        }).pipe(Effect.tapError(() => reopen))
        const target = tmpFile()
        const size = chosen.reduce((sum, part) => sum + part.size, 0)
        yield* Effect.tryPromise({
          try: async () => {
            const out = NodeFs.createWriteStream(target, { flags: "wx", mode: 0o600 })
            for (const part of chosen)
              await NodeStream.pipeline(NodeFs.createReadStream(part.file), out, { end: false })
            await new Promise<void>((resolve, reject) =>
              out.end((error?: Error | null) => (error ? reject(error) : resolve()))
            )
          },
          catch: () => new S3Error(400, "InvalidRequest", "The parts could not be joined")
        }).pipe(Effect.tapError(() => Effect.promise(() => removeQuietly(target)).pipe(Effect.zipRight(reopen))))
        const digest = NodeCrypto.createHash("md5")
        for (const part of chosen) digest.update(part.md5)
        const etag = `"${digest.digest("hex")}-${chosen.length}"`
        const meta = yield* commit(key, { file: target, size, md5: Buffer.alloc(0) }, etag, upload.contentType)
        yield* lock(drop(upload))
        return meta
      })

    return {
      objectsDir,
      tmpFile,
      reserve,
      admit,
      leave,
      release,
      pathOf,
      commit,
      head,
      remove,
      list,
      initiate,
      putPart,
      abort,
      complete,
      /** Drops the multipart uploads older than `uploadLifetimeMillis`, with their parts. */
      sweep: lock(expire),
      /** Fails with `NoSuchUpload` unless the upload `id` of `key` is in progress. */
      requireUpload: (id: string, key: string) => Effect.asVoid(openUpload(id, key)),
      removeQuietly,
      /** How many multipart uploads are in progress (for tests and the README's bounds). */
      uploadsInProgress: () => uploads.size,
      /** How many bytes are held by bodies being received and parts of uploads in progress. */
      pendingBytes: () => pending
    }
  })

/** The object store of a data directory. */
export interface ObjectStore extends Effect.Effect.Success<ReturnType<typeof make>> {}
