import * as NodeFs from "node:fs/promises"

/**
 * The entry names of a tar archive (ustar, with PAX `path` records and GNU long names), read from
 * its headers alone: data blocks are skipped, never read. At most `maxHeaders` headers are read.
 */

/** What the headers of an archive say. */
export interface TarListing {
  /** Entry names in archive order (directories end with `/`), at most `limit`. */
  readonly names: ReadonlyArray<string>
  /** How many entries were seen (more than `names` when the listing was cut). */
  readonly count: number
  /** Whether reading stopped before the archive's end (too many headers). */
  readonly cut: boolean
  /** Why the archive could not be read to its end, if it could not. */
  readonly problem: string | undefined
}

const block = 512
const maxHeaders = 10_000
/** The largest PAX or GNU long-name record read. */
const maxMeta = 64 * 1024

const text = (bytes: Uint8Array, start: number, length: number) => {
  const field = bytes.subarray(start, start + length)
  const end = field.indexOf(0)
  return Buffer.from(end < 0 ? field : field.subarray(0, end)).toString("utf8")
}

/** A numeric field: octal digits, or base-256 when its first byte has the high bit set. */
const number = (bytes: Uint8Array, start: number, length: number): number | undefined => {
  if ((bytes[start]! & 0x80) !== 0) {
    let value = bytes[start]! & 0x7f
    for (let i = start + 1; i < start + length; i++) value = value * 256 + bytes[i]!
    return Number.isSafeInteger(value) ? value : undefined
  }
  const digits = text(bytes, start, length).trim()
  if (digits === "") return 0
  return /^[0-7]+$/.test(digits) ? parseInt(digits, 8) : undefined
}

const checksumOk = (header: Uint8Array) => {
  const stored = number(header, 148, 8)
  let sum = 0
  for (let i = 0; i < block; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!
  return stored === sum
}

/** `path` of a PAX record set (`<length> <key>=<value>\n` records). */
const paxPath = (records: string): string | undefined => {
  let path: string | undefined
  let at = 0
  while (at < records.length) {
    // A record is "<length> <key>=<value>\n", its length counting itself; 64 KiB needs 5 digits.
    const space = records.indexOf(" ", at)
    if (space < 0 || space - at > 7) break
    const length = Number(records.slice(at, space))
    if (!Number.isSafeInteger(length) || length < space - at + 4 || at + length > records.length) break
    const record = records.slice(space + 1, at + length - 1)
    const eq = record.indexOf("=")
    if (eq > 0 && record.slice(0, eq) === "path") path = record.slice(eq + 1)
    at += length
  }
  return path
}

/** The longest name a listing shows, in characters after escaping. */
const maxShownName = 256

/**
 * A name as a build log may show it: control characters escaped (a name may not add a line, move
 * the cursor or colour a terminal that prints the log), at most `maxShownName` characters.
 */
export const shownName = (name: string): string => {
  const escaped = name.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) =>
    c === "\\" ? "\\\\" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`
  )
  return escaped.length <= maxShownName ? escaped : `${escaped.slice(0, maxShownName - 1)}…`
}

/** Lists the entries of the tar archive at `file`, the first `limit` of them by name. */
export const list = async (file: string, limit: number): Promise<TarListing> => {
  const handle = await NodeFs.open(file, "r")
  try {
    const size = (await handle.stat()).size
    const names: Array<string> = []
    let count = 0
    let offset = 0
    let nextName: string | undefined
    const header = new Uint8Array(block)
    const done = (problem: string | undefined, cut = false): TarListing => ({ names, count, cut, problem })
    for (let headers = 0; ; headers++) {
      if (headers >= maxHeaders) return done(undefined, true)
      if (offset + block > size) return done(offset === size && count > 0 ? undefined : "the archive ends mid-way")
      await handle.read(header, 0, block, offset)
      if (header.every((b) => b === 0)) return done(undefined)
      if (!checksumOk(header)) return done(`not a tar header at byte ${offset}`)
      const entrySize = number(header, 124, 12)
      if (entrySize === undefined) return done(`a malformed size at byte ${offset}`)
      const dataStart = offset + block
      offset = dataStart + Math.ceil(entrySize / block) * block
      const type = String.fromCharCode(header[156]!)
      if (type === "x" || type === "L") {
        if (entrySize > maxMeta) return done(`an oversized ${type === "x" ? "PAX" : "long-name"} record`)
        const meta = new Uint8Array(entrySize)
        await handle.read(meta, 0, entrySize, dataStart)
        nextName = type === "x" ? (paxPath(Buffer.from(meta).toString("utf8")) ?? nextName) : text(meta, 0, entrySize)
        continue
      }
      if (type === "g") continue
      const ustar = text(header, 257, 6) === "ustar"
      const prefix = ustar ? text(header, 345, 155) : ""
      const base = text(header, 0, 100)
      const name = nextName ?? (prefix === "" ? base : `${prefix}/${base}`)
      nextName = undefined
      count++
      if (names.length < limit) names.push(shownName(type === "5" && !name.endsWith("/") ? `${name}/` : name))
    }
  } finally {
    await handle.close()
  }
}
