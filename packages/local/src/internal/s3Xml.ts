import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeCrypto from "node:crypto"

/**
 * The XML S3 answers with (errors, listings, multipart results), and the one document it reads:
 * `CompleteMultipartUpload`.
 */

const namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

/** Escapes text for an element's content. */
export const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;"
  )

const unescape = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|apos|#\d{1,7}|#x[0-9a-fA-F]{1,6});/g, (_, entity: string) => {
    switch (entity) {
      case "amp":
        return "&"
      case "lt":
        return "<"
      case "gt":
        return ">"
      case "quot":
        return '"'
      case "apos":
        return "'"
      default: {
        const code = entity.startsWith("#x") ? parseInt(entity.slice(2), 16) : Number(entity.slice(1))
        return code <= 0x10ffff ? String.fromCodePoint(code) : ""
      }
    }
  })

/** An element per field, its text escaped; `undefined` fields are left out. */
export const elements = (fields: ReadonlyArray<readonly [string, string | number | boolean | undefined]>): string =>
  fields
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `<${name}>${escape(String(value))}</${name}>`)
    .join("")

/** A document whose root element is `root`. */
export const document = (root: string, content: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${namespace}">${content}</${root}>`

/** A fresh request id, as S3 gives every answer. */
export const requestId = (): string => NodeCrypto.randomBytes(8).toString("hex").toUpperCase()

/** An S3 error: its code, HTTP status and message. */
export class S3Error {
  readonly _tag = "S3Error"
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string
  ) {}
}

/** The answer to a failed request, `<Error>` with the code, message, resource and request id (no body for HEAD). */
export const errorResponse = (
  error: S3Error,
  resource: string,
  head: boolean
): HttpServerResponse.HttpServerResponse => {
  const id = requestId()
  const headers = { "x-amz-request-id": id }
  if (head) return HttpServerResponse.empty({ status: error.status, headers })
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error>` +
    elements([
      ["Code", error.code],
      ["Message", error.message],
      ["Resource", resource],
      ["RequestId", id]
    ]) +
    `</Error>`
  return HttpServerResponse.text(body, { status: error.status, contentType: "application/xml", headers })
}

/** A successful XML answer. */
export const xmlResponse = (body: string): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.text(body, { contentType: "application/xml", headers: { "x-amz-request-id": requestId() } })

/** One part a `CompleteMultipartUpload` names. */
export interface CompletedPart {
  readonly partNumber: number
  readonly etag: string
}

/**
 * The parts of a `CompleteMultipartUpload` document, or `undefined` when it is not one: a
 * `CompleteMultipartUpload` root holding only `Part` elements, each with a `PartNumber` and an
 * `ETag` (checksum elements are allowed and ignored), and at most `maxParts` of them.
 */
export const parseCompleteMultipartUpload = (
  text: string,
  maxParts: number
): ReadonlyArray<CompletedPart> | undefined => {
  const body = text
    .replace(/^\uFEFF/, "")
    .replace(/^\s*<\?xml[^?]*\?>/, "")
    .trim()
  const root = /^<CompleteMultipartUpload(?:\s+xmlns(?::\w+)?="[^"]*")?\s*>([\s\S]*)<\/CompleteMultipartUpload>$/.exec(
    body
  )
  if (root === null) return undefined
  const parts: Array<CompletedPart> = []
  const partPattern = /\s*<Part>([\s\S]*?)<\/Part>\s*/y
  const content = root[1]!
  let offset = 0
  while (offset < content.length) {
    partPattern.lastIndex = offset
    const part = partPattern.exec(content)
    if (part === null) return content.slice(offset).trim() === "" ? parts : undefined
    offset = partPattern.lastIndex
    const fields = new Map<string, string>()
    const fieldPattern = /\s*<(\w+)>([^<]*)<\/\1>\s*/y
    let at = 0
    const inner = part[1]!
    while (at < inner.length) {
      fieldPattern.lastIndex = at
      const field = fieldPattern.exec(inner)
      if (field === null) return undefined
      at = fieldPattern.lastIndex
      if (fields.has(field[1]!)) return undefined
      fields.set(field[1]!, unescape(field[2]!).trim())
    }
    const number = fields.get("PartNumber")
    const etag = fields.get("ETag")
    if (number === undefined || etag === undefined || !/^\d{1,5}$/.test(number)) return undefined
    parts.push({ partNumber: Number(number), etag })
    if (parts.length > maxParts) return undefined
  }
  return parts
}
