import * as NodeCrypto from "node:crypto"

/**
 * AWS Signature Version 4 as S3 checks it on a request signed in its `Authorization` header: the
 * canonical request (method, path as sent, sorted query, the signed headers, the payload hash),
 * the string to sign over it, and the HMAC chain that derives the signing key from the secret.
 */

/** What the `Authorization` header of a signed request names. */
export interface Authorization {
  readonly accessKey: string
  /** `YYYYMMDD` of the credential scope. */
  readonly date: string
  readonly region: string
  readonly service: string
  /** Lower-case header names, in the order the client listed them. */
  readonly signedHeaders: ReadonlyArray<string>
  /** 64 lower-case hex digits. */
  readonly signature: string
}

/** The only algorithm accepted. */
export const algorithm = "AWS4-HMAC-SHA256"

/** Parses `AWS4-HMAC-SHA256 Credential=…/date/region/service/aws4_request, SignedHeaders=…, Signature=…`. */
export const parseAuthorization = (header: string): Authorization | undefined => {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header.trim())
  if (match === null) return undefined
  const fields = new Map<string, string>()
  for (const part of match[1]!.split(",")) {
    const eq = part.indexOf("=")
    if (eq < 0) return undefined
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const credential = fields.get("Credential")?.split("/")
  const signedHeaders = fields.get("SignedHeaders")?.split(";")
  const signature = fields.get("Signature")
  if (credential === undefined || credential.length !== 5 || credential[4] !== "aws4_request") return undefined
  if (signedHeaders === undefined || signedHeaders.some((name) => !/^[a-z0-9-]+$/.test(name))) return undefined
  if (signature === undefined || !/^[0-9a-f]{64}$/.test(signature)) return undefined
  const [accessKey, date, region, service] = credential as [string, string, string, string]
  if (!/^\d{8}$/.test(date)) return undefined
  return { accessKey, date, region, service, signedHeaders, signature }
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, upper-case hex. */
export const uriEncode = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** Decodes a query component without treating `+` as a space (SigV4 clients send `%20`). */
const decodeComponent = (text: string): string | undefined => {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}

/** The canonical query string of a raw query (`a=1&b`), or `undefined` when it cannot be decoded. */
export const canonicalQuery = (rawQuery: string): string | undefined => {
  if (rawQuery === "") return ""
  const pairs: Array<readonly [string, string]> = []
  for (const part of rawQuery.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    const key = decodeComponent(eq < 0 ? part : part.slice(0, eq))
    const value = decodeComponent(eq < 0 ? "" : part.slice(eq + 1))
    if (key === undefined || value === undefined) return undefined
    pairs.push([uriEncode(key), uriEncode(value)])
  }
  pairs.sort(([k1, v1], [k2, v2]) => (k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0))
  return pairs.map(([key, value]) => `${key}=${value}`).join("&")
}

/** A header's value as it is signed: trimmed, runs of spaces made one. */
const canonicalValue = (value: string | ReadonlyArray<string>): string =>
  (typeof value === "string" ? value : value.join(",")).trim().replace(/\s+/g, " ")

const sha256Hex = (text: string) => NodeCrypto.createHash("sha256").update(text, "utf8").digest("hex")

const hmac = (key: NodeCrypto.BinaryLike, text: string) => NodeCrypto.createHmac("sha256", key).update(text).digest()

/** The key that signs requests of one day, region and service. */
export const signingKey = (secret: string, date: string, region: string, service: string): Buffer =>
  hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request")

/** What a signed request is made of, as it arrived. */
export interface SignedRequest {
  readonly method: string
  /** The path exactly as sent (S3 signs it encoded once, as it is on the wire). */
  readonly path: string
  readonly rawQuery: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The value of `x-amz-content-sha256`. */
  readonly payloadHash: string
  /** The value of `x-amz-date`, `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string
}

/** The canonical request, or `undefined` when a signed header is missing or the query cannot be decoded. */
export const canonicalRequest = (request: SignedRequest, signedHeaders: ReadonlyArray<string>): string | undefined => {
  const query = canonicalQuery(request.rawQuery)
  if (query === undefined) return undefined
  const lines: Array<string> = []
  for (const name of signedHeaders) {
    const value = request.headers[name]
    if (value === undefined) return undefined
    lines.push(`${name}:${canonicalValue(value)}\n`)
  }
  return [request.method, request.path, query, lines.join(""), signedHeaders.join(";"), request.payloadHash].join("\n")
}

/** The signature the request should carry, made with `secret`; `undefined` when it cannot be computed. */
export const expectedSignature = (
  request: SignedRequest,
  authorization: Authorization,
  secret: string
): string | undefined => {
  const canonical = canonicalRequest(request, authorization.signedHeaders)
  if (canonical === undefined) return undefined
  const scope = `${authorization.date}/${authorization.region}/${authorization.service}/aws4_request`
  const stringToSign = [algorithm, request.amzDate, scope, sha256Hex(canonical)].join("\n")
  return NodeCrypto.createHmac(
    "sha256",
    signingKey(secret, authorization.date, authorization.region, authorization.service)
  )
    .update(stringToSign)
    .digest("hex")
}

/** Whether two hex signatures are equal, compared in constant time. */
export const sameSignature = (a: string, b: string): boolean => {
  // Compared as bytes: a header's text may hold characters of several bytes.
  const [left, right] = [Buffer.from(a), Buffer.from(b)]
  return left.length === right.length && NodeCrypto.timingSafeEqual(left, right)
}

/** The epoch milliseconds of an `x-amz-date` (`20261203T113713Z`), or `undefined` when malformed. */
export const parseAmzDate = (text: string): number | undefined => {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text)
  if (match === null) return undefined
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number]
  const millis = Date.UTC(y, mo - 1, d, h, mi, s)
  const back = new Date(millis)
  return back.getUTCDate() === d && back.getUTCMonth() === mo - 1 ? millis : undefined
}
