/**
 * The `multipart/form-data` framing of Daytona's bulk file transfers, one implementation for both
 * sides: boundaries, part headers whose file names outside ASCII travel in RFC 5987 `filename*`, the
 * streamed body of a bulk upload, and an incremental parser of a bulk download. The SDK writes uploads
 * and reads downloads with it; the local server reads uploads' boundaries and writes downloads' part
 * headers with it.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"

const encoder = new TextEncoder()
const CRLF = encoder.encode("\r\n")
const maxHeaderBytes = 16 * 1024

/**
 * A fresh random boundary for a request body.
 *
 * @since 0.1.0
 */
export const makeBoundary = (): string => {
  const bytes = new Uint8Array(12)
  globalThis.crypto.getRandomValues(bytes)
  return `----effect-daytona-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`
}

const isPlainAscii = (text: string) => /^[\x20-\x7e]*$/.test(text)

const quote = (text: string) => `"${text.replace(/[\r\n]/g, "_").replace(/(["\\])/g, "\\$1")}"`

/**
 * RFC 5987 `ext-value` encoding.
 *
 * @since 0.1.0
 */
export const encodeRfc5987 = (text: string): string =>
  encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * A `Content-Disposition: form-data` header value. A filename outside printable ASCII gets an ASCII
 * fallback (`_` for each other character) and the exact name in `filename*` (RFC 5987).
 *
 * @since 0.1.0
 */
export const formDataDisposition = (name: string, filename?: string): string => {
  const base = `form-data; name=${quote(name)}`
  if (filename === undefined) return base
  if (isPlainAscii(filename)) return `${base}; filename=${quote(filename)}`
  const fallback = filename.replace(/[^\x20-\x7e]/g, "_")
  return `${base}; filename=${quote(fallback)}; filename*=utf-8''${encodeRfc5987(filename)}`
}

/**
 * One file of a bulk upload.
 *
 * @since 0.1.0
 */
export interface UploadPart<E> {
  readonly destination: string
  readonly content: Stream.Stream<Uint8Array, E>
}

const basename = (path: string) => {
  const trimmed = path.replace(/\/+$/, "")
  const index = trimmed.lastIndexOf("/")
  return index === -1 ? trimmed : trimmed.slice(index + 1)
}

/**
 * What precedes file `index`'s bytes in a bulk upload: the text part `files[index].path` holding
 * `destination`, then the head of the part `files[index].file`.
 *
 * @since 0.1.0
 */
export const uploadPartHead = (index: number, destination: string, boundary: string): Uint8Array =>
  encoder.encode(
    `--${boundary}\r\nContent-Disposition: ${formDataDisposition(`files[${index}].path`)}\r\n\r\n${destination}\r\n` +
      `--${boundary}\r\nContent-Disposition: ${formDataDisposition(`files[${index}].file`, basename(destination))}\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n`
  )

/**
 * What follows each file's bytes in a bulk upload (a fresh copy: callers may hand it to a socket).
 *
 * @since 0.1.0
 */
export const uploadPartTail = (): Uint8Array => CRLF.slice()

/**
 * The closing delimiter that ends a multipart body.
 *
 * @since 0.1.0
 */
export const closingDelimiter = (boundary: string): Uint8Array => encoder.encode(`--${boundary}--\r\n`)

/**
 * The body of `POST /files/bulk-upload` as a stream: for each file `i`, the text part
 * `files[i].path` and then the part `files[i].file` with the bytes. Only the current chunk of a
 * file is ever in memory.
 *
 * @since 0.1.0
 */
export const uploadBody = <E>(parts: ReadonlyArray<UploadPart<E>>, boundary: string): Stream.Stream<Uint8Array, E> => {
  const streams = parts.map((part, i) =>
    Stream.make(uploadPartHead(i, part.destination, boundary)).pipe(
      Stream.concat(part.content),
      Stream.concat(Stream.make(CRLF))
    )
  )
  return Stream.concatAll(Chunk.fromIterable(streams)).pipe(
    Stream.concat(Stream.make(closingDelimiter(boundary))),
    Stream.filter((bytes) => bytes.length > 0)
  )
}

/**
 * The `boundary` parameter of a multipart `Content-Type`.
 *
 * @since 0.1.0
 */
export const boundaryOf = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined || !/^multipart\//i.test(contentType.trim())) return undefined
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const boundary = match === null ? undefined : (match[1] ?? match[2])
  // RFC 2046: 1 to 70 characters; a longer one is refused rather than searched for in every chunk.
  return boundary !== undefined && boundary.length <= 70 ? boundary : undefined
}

/**
 * The parameters of a header value such as `form-data; name="file"; filename*=utf-8''a%20b`.
 *
 * @since 0.1.0
 */
export const headerParams = (value: string): Record<string, string> => {
  const params: Record<string, string> = {}
  const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g
  let match: RegExpExecArray | null
  while ((match = re.exec(value)) !== null) {
    const key = match[1]!.toLowerCase()
    params[key] = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3]!.trim()
  }
  return params
}

/**
 * The filename of a part: `filename*` when present and decodable, else `filename`.
 *
 * @since 0.1.0
 */
export const filenameOf = (disposition: string | undefined): string | undefined => {
  if (disposition === undefined) return undefined
  const params = headerParams(disposition)
  const extended = params["filename*"]
  if (extended !== undefined) {
    const match = /^([^']*)'[^']*'(.*)$/.exec(extended)
    if (match !== null && (match[1] === "" || /^utf-8$/i.test(match[1]!))) {
      try {
        return decodeURIComponent(match[2]!)
      } catch {
        // fall back to the plain filename
      }
    }
  }
  return params["filename"]
}

/**
 * What the incremental parser reports.
 *
 * @since 0.1.0
 */
export type PartEvent =
  | { readonly _tag: "Headers"; readonly headers: Readonly<Record<string, string>> }
  | { readonly _tag: "Data"; readonly bytes: Uint8Array }
  | { readonly _tag: "End" }

/**
 * The multipart body is malformed.
 *
 * @since 0.1.0
 */
export class MultipartError extends Error {}

/**
 * An incremental parser of one multipart body.
 *
 * @since 0.1.0
 */
export interface Parser {
  /**
   * Feeds bytes; throws {@link MultipartError} on malformed input. `Data` may be a view into
   * `bytes`, which must therefore not be modified afterwards.
   */
  readonly push: (bytes: Uint8Array) => ReadonlyArray<PartEvent>
  /** Whether the closing boundary has been seen. */
  readonly complete: () => boolean
}

const empty = new Uint8Array(0)

/** Node's `Buffer`, seen only as far as its native byte search goes. */
interface NativeBytes {
  readonly from: (
    buffer: ArrayBufferLike,
    byteOffset: number,
    length: number
  ) => { readonly indexOf: (needle: Uint8Array, from: number) => number }
}

const nativeBytes = (globalThis as { readonly Buffer?: NativeBytes }).Buffer

/**
 * The first index at or after `from` where `needle` occurs in `haystack`, or -1. Where Node's
 * `Buffer` exists its native search is used (a view, no copy: a download's bytes are all searched,
 * and the native search is several times faster than a script's); elsewhere Boyer-Moore-Horspool,
 * which on data unlike the needle steps by the needle's length.
 *
 * @since 0.1.0
 */
export const makeSearch = (needle: Uint8Array): ((haystack: Uint8Array, from?: number) => number) => {
  if (nativeBytes !== undefined) {
    const native = nativeBytes
    return (haystack, from = 0) =>
      from >= haystack.length
        ? -1
        : native.from(haystack.buffer, haystack.byteOffset, haystack.length).indexOf(needle, from)
  }
  return scriptSearch(needle)
}

/**
 * {@link makeSearch} without Node's `Buffer` (Boyer-Moore-Horspool).
 *
 * @since 0.1.0
 */
export const scriptSearch = (needle: Uint8Array): ((haystack: Uint8Array, from?: number) => number) => {
  const last = needle.length - 1
  const lastByte = needle[last]!
  const skip = new Uint32Array(256).fill(needle.length)
  for (let i = 0; i < last; i++) skip[needle[i]!] = last - i
  return (haystack, from = 0) => {
    const end = haystack.length - last
    let i = from
    while (i < end) {
      const byte = haystack[i + last]!
      if (byte === lastByte) {
        let j = last - 1
        while (j >= 0 && haystack[i + j] === needle[j]) j--
        if (j < 0) return i
      }
      i += skip[byte]!
    }
    return -1
  }
}

/** The length of the longest end of `bytes` that is a proper beginning of `needle`. */
const partialSuffix = (bytes: Uint8Array, needle: Uint8Array): number => {
  let at = bytes.indexOf(needle[0]!, Math.max(0, bytes.length - needle.length + 1))
  while (at !== -1) {
    let j = 1
    while (at + j < bytes.length && bytes[at + j] === needle[j]) j++
    if (at + j === bytes.length) return j
    at = bytes.indexOf(needle[0]!, at + 1)
  }
  return 0
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** A plain `Uint8Array` copy (`slice` of a `Buffer` is a view). */
const copy = (bytes: Uint8Array): Uint8Array => {
  const out = new Uint8Array(bytes.length)
  out.set(bytes)
  return out
}

/** A plain `Uint8Array` view (never a copy, nor a `Buffer`) of `bytes[start, end)`. */
const view = (bytes: Uint8Array, start: number, end: number): Uint8Array =>
  new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start)

const parseHeaders = (block: Uint8Array): Record<string, string> => {
  const headers: Record<string, string> = {}
  for (const line of new TextDecoder().decode(block).split("\r\n")) {
    const colon = line.indexOf(":")
    if (colon <= 0) continue
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return headers
}

/**
 * An incremental `multipart/*` parser. Part bodies are reported as they arrive, as views into the
 * pushed bytes: only an end that might begin a delimiter is held back (and copied), so memory stays
 * bounded whatever the part sizes and body bytes are never copied.
 *
 * @since 0.1.0
 */
export const makeParser = (boundary: string): Parser => {
  const delimiter = encoder.encode(`\r\n--${boundary}`)
  const findDelimiter = makeSearch(delimiter)
  const findHeaderEnd = makeSearch(encoder.encode("\r\n\r\n"))
  type State = "Preamble" | "AfterDelimiter" | "Headers" | "Body" | "Done"
  let state: State = "Preamble"
  // Outside a body: the bytes not yet consumed. In a body: the held-back end, a proper beginning of
  // the delimiter. A virtual CRLF lets the first delimiter, which has none, match like the others.
  let pending: Uint8Array = CRLF

  /** Consumes `pending` outside a body; returns what follows when a body begins, else undefined. */
  const head = (out: Array<PartEvent>): Uint8Array | undefined => {
    for (;;) {
      switch (state) {
        case "Preamble": {
          const at = findDelimiter(pending)
          if (at === -1) {
            pending = copy(pending.subarray(Math.max(0, pending.length - delimiter.length + 1)))
            return undefined
          }
          pending = pending.subarray(at + delimiter.length)
          state = "AfterDelimiter"
          break
        }
        case "AfterDelimiter": {
          let i = 0
          while (i < pending.length && (pending[i] === 0x20 || pending[i] === 0x09)) i++
          if (pending.length - i < 2) return undefined
          if (pending[i] === 0x2d && pending[i + 1] === 0x2d) {
            state = "Done"
            pending = empty
            return undefined
          }
          if (pending[i] !== 0x0d || pending[i + 1] !== 0x0a) {
            throw new MultipartError("malformed multipart body: unexpected bytes after a boundary")
          }
          pending = pending.subarray(i + 2)
          state = "Headers"
          break
        }
        case "Headers": {
          if (pending.length >= 2 && pending[0] === 0x0d && pending[1] === 0x0a) {
            out.push({ _tag: "Headers", headers: {} })
            state = "Body"
            const rest = pending.subarray(2)
            pending = empty
            return rest
          }
          const at = findHeaderEnd(pending)
          if (at === -1) {
            if (pending.length > maxHeaderBytes) throw new MultipartError("multipart part headers are too large")
            return undefined
          }
          out.push({ _tag: "Headers", headers: parseHeaders(pending.subarray(0, at)) })
          state = "Body"
          const rest = pending.subarray(at + 4)
          pending = empty
          return rest
        }
        case "Body":
        case "Done":
          pending = empty
          return undefined
      }
    }
  }

  /** Reports body bytes up to the delimiter; returns what follows it, or undefined when not found yet. */
  const body = (input: Uint8Array, out: Array<PartEvent>): Uint8Array | undefined => {
    let bytes = input
    if (pending.length > 0) {
      // A delimiter starting in the held-back end ends within its first `delimiter.length - 1` successors.
      const held = pending
      const window = concat(held, input.subarray(0, delimiter.length - 1))
      const at = findDelimiter(window)
      if (at !== -1 && at < held.length) {
        if (at > 0) out.push({ _tag: "Data", bytes: window.subarray(0, at) })
        out.push({ _tag: "End" })
        state = "AfterDelimiter"
        pending = empty
        return input.subarray(at + delimiter.length - held.length)
      }
      pending = empty
      if (window.length === held.length + input.length) {
        bytes = window
      } else {
        out.push({ _tag: "Data", bytes: held })
      }
    }
    const at = findDelimiter(bytes)
    if (at !== -1) {
      if (at > 0) out.push({ _tag: "Data", bytes: view(bytes, 0, at) })
      out.push({ _tag: "End" })
      state = "AfterDelimiter"
      return bytes.subarray(at + delimiter.length)
    }
    const safe = bytes.length - partialSuffix(bytes, delimiter)
    if (safe > 0) out.push({ _tag: "Data", bytes: view(bytes, 0, safe) })
    pending = copy(bytes.subarray(safe))
    return undefined
  }

  const push = (bytes: Uint8Array): ReadonlyArray<PartEvent> => {
    const out: Array<PartEvent> = []
    let input: Uint8Array | undefined = bytes
    while (input !== undefined) {
      if (state === "Body") {
        input = body(input, out)
      } else {
        pending = concat(pending, input)
        input = head(out)
      }
    }
    if (state !== "Body" && state !== "Preamble") pending = copy(pending)
    return out
  }

  return { push, complete: () => state === "Done" }
}
