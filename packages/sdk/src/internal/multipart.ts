import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"

const encoder = new TextEncoder()
const CRLF = encoder.encode("\r\n")
const maxHeaderBytes = 16 * 1024

/** A fresh random boundary for a request body. @internal */
export const makeBoundary = (): string => {
  const bytes = new Uint8Array(12)
  globalThis.crypto.getRandomValues(bytes)
  return `----effect-daytona-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`
}

const isPlainAscii = (text: string) => /^[\x20-\x7e]*$/.test(text)

const quote = (text: string) => `"${text.replace(/[\r\n]/g, "_").replace(/(["\\])/g, "\\$1")}"`

/** RFC 5987 `ext-value` encoding. @internal */
export const encodeRfc5987 = (text: string): string =>
  encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/**
 * A `Content-Disposition: form-data` header value. A filename outside printable ASCII gets an ASCII
 * fallback (`_` for each other character) and the exact name in `filename*` (RFC 5987).
 *
 * @internal
 */
export const formDataDisposition = (name: string, filename?: string): string => {
  const base = `form-data; name=${quote(name)}`
  if (filename === undefined) return base
  if (isPlainAscii(filename)) return `${base}; filename=${quote(filename)}`
  const fallback = filename.replace(/[^\x20-\x7e]/g, "_")
  return `${base}; filename=${quote(fallback)}; filename*=utf-8''${encodeRfc5987(filename)}`
}

/** One file of a bulk upload. @internal */
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
 * The body of `POST /files/bulk-upload` as a stream: for each file `i`, the text part
 * `files[i].path` and then the part `files[i].file` with the bytes. Only the current chunk of a
 * file is ever in memory.
 *
 * @internal
 */
export const uploadBody = <E>(parts: ReadonlyArray<UploadPart<E>>, boundary: string): Stream.Stream<Uint8Array, E> => {
  const head = (i: number, part: UploadPart<E>) =>
    encoder.encode(
      `--${boundary}\r\nContent-Disposition: ${formDataDisposition(`files[${i}].path`)}\r\n\r\n${part.destination}\r\n` +
        `--${boundary}\r\nContent-Disposition: ${formDataDisposition(`files[${i}].file`, basename(part.destination))}\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n`
    )
  const streams = parts.map((part, i) =>
    Stream.make(head(i, part)).pipe(Stream.concat(part.content), Stream.concat(Stream.make(CRLF)))
  )
  return Stream.concatAll(Chunk.fromIterable(streams)).pipe(
    Stream.concat(Stream.make(encoder.encode(`--${boundary}--\r\n`))),
    Stream.filter((bytes) => bytes.length > 0)
  )
}

/** The `boundary` parameter of a multipart `Content-Type`. @internal */
export const boundaryOf = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined || !/^multipart\//i.test(contentType.trim())) return undefined
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return match === null ? undefined : (match[1] ?? match[2])
}

/** The parameters of a header value such as `form-data; name="file"; filename*=utf-8''a%20b`. @internal */
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

/** The filename of a part: `filename*` when present and decodable, else `filename`. @internal */
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

/** What the incremental parser reports. @internal */
export type PartEvent =
  | { readonly _tag: "Headers"; readonly headers: Readonly<Record<string, string>> }
  | { readonly _tag: "Data"; readonly bytes: Uint8Array }
  | { readonly _tag: "End" }

/** The multipart body is malformed. @internal */
export class MultipartError extends Error {}

/** @internal */
export interface Parser {
  /** Feeds bytes; throws {@link MultipartError} on malformed input. */
  readonly push: (bytes: Uint8Array) => ReadonlyArray<PartEvent>
  /** Whether the closing boundary has been seen. */
  readonly complete: () => boolean
}

const indexOf = (haystack: Uint8Array, needle: Uint8Array, from = 0): number => {
  const first = needle[0]!
  let i = haystack.indexOf(first, from)
  while (i !== -1 && i + needle.length <= haystack.length) {
    let j = 1
    while (j < needle.length && haystack[i + j] === needle[j]) j++
    if (j === needle.length) return i
    i = haystack.indexOf(first, i + 1)
  }
  return -1
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

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
 * An incremental `multipart/*` parser. Part bodies are reported as they arrive (only the bytes that
 * might begin a delimiter are held back), so memory stays bounded whatever the part sizes.
 *
 * @internal
 */
export const makeParser = (boundary: string): Parser => {
  const delimiter = encoder.encode(`\r\n--${boundary}`)
  const headerEnd = encoder.encode("\r\n\r\n")
  type State = "Preamble" | "AfterDelimiter" | "Headers" | "Body" | "Done"
  let state: State = "Preamble"
  // A virtual CRLF lets the first delimiter, which has none, match like the others.
  let pending: Uint8Array = CRLF

  const push = (bytes: Uint8Array): ReadonlyArray<PartEvent> => {
    const out: Array<PartEvent> = []
    pending = concat(pending, bytes)
    let progress = true
    while (progress) {
      progress = false
      switch (state) {
        case "Preamble": {
          const at = indexOf(pending, delimiter)
          if (at === -1) {
            pending = pending.slice(Math.max(0, pending.length - delimiter.length + 1))
          } else {
            pending = pending.subarray(at + delimiter.length)
            state = "AfterDelimiter"
            progress = true
          }
          break
        }
        case "AfterDelimiter": {
          let i = 0
          while (i < pending.length && (pending[i] === 0x20 || pending[i] === 0x09)) i++
          if (pending.length - i < 2) break
          if (pending[i] === 0x2d && pending[i + 1] === 0x2d) {
            state = "Done"
            pending = new Uint8Array(0)
          } else if (pending[i] === 0x0d && pending[i + 1] === 0x0a) {
            pending = pending.subarray(i + 2)
            state = "Headers"
            progress = true
          } else {
            throw new MultipartError("malformed multipart body: unexpected bytes after a boundary")
          }
          break
        }
        case "Headers": {
          if (pending.length >= 2 && pending[0] === 0x0d && pending[1] === 0x0a) {
            out.push({ _tag: "Headers", headers: {} })
            pending = pending.subarray(2)
            state = "Body"
            progress = true
            break
          }
          const at = indexOf(pending, headerEnd)
          if (at === -1) {
            if (pending.length > maxHeaderBytes) throw new MultipartError("multipart part headers are too large")
            break
          }
          out.push({ _tag: "Headers", headers: parseHeaders(pending.subarray(0, at)) })
          pending = pending.subarray(at + headerEnd.length)
          state = "Body"
          progress = true
          break
        }
        case "Body": {
          const at = indexOf(pending, delimiter)
          if (at === -1) {
            const safe = pending.length - delimiter.length + 1
            if (safe > 0) {
              out.push({ _tag: "Data", bytes: pending.slice(0, safe) })
              pending = pending.slice(safe)
            }
          } else {
            if (at > 0) out.push({ _tag: "Data", bytes: pending.slice(0, at) })
            out.push({ _tag: "End" })
            pending = pending.subarray(at + delimiter.length)
            state = "AfterDelimiter"
            progress = true
          }
          break
        }
        case "Done":
          pending = new Uint8Array(0)
          break
      }
    }
    if (state !== "Body" && state !== "Preamble") pending = pending.slice()
    return out
  }

  return { push, complete: () => state === "Done" }
}
