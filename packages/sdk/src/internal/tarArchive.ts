/**
 * A tar archive (POSIX ustar, with pax extended headers where ustar falls short) written as a
 * stream from the platform's `FileSystem`, its exact length known before the first byte: regular
 * files, directories and symbolic links (as links), each with its mode and modification time, and
 * no owner (like `tar --portable`). Every file is read when the stream runs, so running the stream
 * again (a retried request) reads the files again.
 *
 * @internal
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { BuildContextError } from "../DaytonaError.js"

/** One member of an archive. `name` is its path inside the archive; a directory's ends with `/`. @internal */
export type Entry =
  | {
      readonly _tag: "File"
      readonly name: string
      /** Where the file is read from. */
      readonly path: string
      /** The bytes the archive holds: the file's size when it was listed. */
      readonly size: number
      readonly mode: number
      /** Seconds since the epoch. */
      readonly mtime: number
    }
  | { readonly _tag: "Directory"; readonly name: string; readonly mode: number; readonly mtime: number }
  | {
      readonly _tag: "SymbolicLink"
      readonly name: string
      readonly target: string
      readonly mode: number
      readonly mtime: number
    }

const block = 512
const encoder = new TextEncoder()
/** The largest value an 11-digit octal field holds. */
const maxOctal11 = 0o77777777777

const padded = (size: number) => Math.ceil(size / block) * block

const typeFlags = { File: "0", Directory: "5", SymbolicLink: "2" } as const

const isPortable = (text: string, bytes: Uint8Array) => bytes.length <= 100 && /^[\x20-\x7e]*$/.test(text)

/** A pax record: `<length> <key>=<value>\n`, the length counting its own digits. */
const paxRecord = (key: string, value: string): string => {
  const rest = ` ${key}=${value}\n`
  const restLength = encoder.encode(rest).length
  let length = restLength + String(restLength).length
  if (String(length).length > String(restLength).length) length += 1
  return `${length}${rest}`
}

const paxRecords = (entry: Entry): string => {
  const name = encoder.encode(entry.name)
  const target = entry._tag === "SymbolicLink" ? entry.target : ""
  return [
    isPortable(entry.name, name) ? "" : paxRecord("path", entry.name),
    entry._tag === "SymbolicLink" && !isPortable(target, encoder.encode(target)) ? paxRecord("linkpath", target) : "",
    entry._tag === "File" && entry.size > maxOctal11 ? paxRecord("size", String(entry.size)) : ""
  ].join("")
}

/** What a ustar field shows of a name that only the pax header carries whole: printable ASCII, cut to fit. */
const fallback = (text: string, limit: number): string => {
  const ascii = text.replace(/[^\x20-\x7e]/g, "_")
  return ascii.length <= limit ? ascii : ascii.slice(ascii.length - limit)
}

const writeText = (header: Uint8Array, offset: number, length: number, text: string) => {
  header.set(encoder.encode(text).subarray(0, length), offset)
}

const writeOctal = (header: Uint8Array, offset: number, length: number, value: number) => {
  writeText(
    header,
    offset,
    length - 1,
    Math.max(0, Math.floor(value))
      .toString(8)
      .padStart(length - 1, "0")
  )
}

const ustarHeader = (options: {
  readonly name: string
  readonly mode: number
  readonly size: number
  readonly mtime: number
  readonly typeFlag: string
  readonly linkName: string
}): Uint8Array => {
  const header = new Uint8Array(block)
  writeText(header, 0, 100, options.name)
  writeOctal(header, 100, 8, options.mode & 0o7777)
  writeOctal(header, 108, 8, 0)
  writeOctal(header, 116, 8, 0)
  writeOctal(header, 124, 12, options.size > maxOctal11 ? 0 : options.size)
  writeOctal(header, 136, 12, Math.min(options.mtime, maxOctal11))
  writeText(header, 148, 8, "        ")
  writeText(header, 156, 1, options.typeFlag)
  writeText(header, 157, 100, options.linkName)
  writeText(header, 257, 6, "ustar\0")
  writeText(header, 263, 2, "00")
  writeOctal(header, 329, 8, 0)
  writeOctal(header, 337, 8, 0)
  const checksum = header.reduce((sum, byte) => sum + byte, 0)
  writeText(header, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `)
  return header
}

/** The header blocks of an entry: a pax header and its records when ustar cannot hold it, then the ustar header. @internal */
export const header = (entry: Entry): Uint8Array => {
  const records = paxRecords(entry)
  const ustar = ustarHeader({
    name: fallback(entry.name, 100),
    mode: entry.mode,
    size: entry._tag === "File" ? entry.size : 0,
    mtime: entry.mtime,
    typeFlag: typeFlags[entry._tag],
    linkName: entry._tag === "SymbolicLink" ? fallback(entry.target, 100) : ""
  })
  if (records === "") return ustar
  const data = encoder.encode(records)
  const pax = ustarHeader({
    name: fallback(`PaxHeader/${entry.name.replace(/\/$/, "").split("/").pop() ?? ""}`, 100),
    mode: 0o644,
    size: data.length,
    mtime: entry.mtime,
    typeFlag: "x",
    linkName: ""
  })
  const bytes = new Uint8Array(block + padded(data.length) + block)
  bytes.set(pax, 0)
  bytes.set(data, block)
  bytes.set(ustar, block + padded(data.length))
  return bytes
}

/** The bytes an entry takes in the archive. @internal */
export const entryLength = (entry: Entry): number =>
  header(entry).length + (entry._tag === "File" ? padded(entry.size) : 0)

/** The end of an archive: two zero blocks. */
const trailerLength = 2 * block

/** The exact length of the archive of `entries`. @internal */
export const length = (entries: ReadonlyArray<Entry>): number =>
  entries.reduce((total, entry) => total + entryLength(entry), trailerLength)

const readFailed = (path: string, error: unknown) =>
  new BuildContextError({
    reason: "ReadFailed",
    path,
    message: `could not read ${path}: ${error instanceof Error ? error.message : String(error)}`
  })

/** Exactly `size` bytes of a file: more are not read, fewer fail with `FileChanged`. */
const contents = (
  fs: FileSystem.FileSystem,
  path: string,
  size: number
): Stream.Stream<Uint8Array, BuildContextError> =>
  size === 0
    ? Stream.empty
    : Stream.suspend(() => {
        let read = 0
        return fs.stream(path, { bytesToRead: size }).pipe(
          Stream.mapError((error) => readFailed(path, error)),
          Stream.tap((chunk) => Effect.sync(() => (read += chunk.length))),
          Stream.concat(
            Stream.suspend(() =>
              read < size
                ? Stream.fail(
                    new BuildContextError({
                      reason: "FileChanged",
                      path,
                      message: `${path} changed while it was archived: ${read} of ${size} bytes could be read`
                    })
                  )
                : Stream.empty
            )
          )
        )
      })

/**
 * The archive of `entries`, in their order, followed by the two zero blocks that end it; as many
 * bytes as `length(entries)`. @internal
 */
export const stream = (
  fs: FileSystem.FileSystem,
  entries: ReadonlyArray<Entry>
): Stream.Stream<Uint8Array, BuildContextError> =>
  Stream.fromIterable(entries).pipe(
    Stream.flatMap((entry) => {
      const head = Stream.succeed(header(entry))
      if (entry._tag !== "File") return head
      const rest = padded(entry.size) - entry.size
      return head.pipe(
        Stream.concat(contents(fs, entry.path, entry.size)),
        Stream.concat(rest === 0 ? Stream.empty : Stream.succeed(new Uint8Array(rest)))
      )
    }),
    Stream.concat(Stream.sync(() => new Uint8Array(trailerLength)))
  )
