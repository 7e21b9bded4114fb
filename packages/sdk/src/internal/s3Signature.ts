/**
 * AWS Signature Version 4 for S3 requests in the `Authorization` header, with WebCrypto's SHA-256
 * and HMAC (`globalThis.crypto.subtle`), so that it runs on every platform the SDK runs on.
 *
 * @internal
 */
import * as Effect from "effect/Effect"

/** The hex SHA-256 of an empty body, which a GET signs as its payload. @internal */
export const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/** What a body sent without hashing it first signs as its payload. @internal */
export const unsignedPayload = "UNSIGNED-PAYLOAD"

/** @internal */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string | undefined
}

/** @internal */
export interface SignInput {
  readonly method: string
  /** The request's URL: its host, path and query are signed. */
  readonly url: URL
  /** Further headers to sign and send (names in any case). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** The hex SHA-256 of the body, or `unsignedPayload`. */
  readonly payloadHash: string
  readonly region: string
  readonly service: string
  readonly credentials: Credentials
  readonly date: Date
}

/** The parts of a signature, for tests and for error messages. @internal */
export interface Signed {
  readonly canonicalRequest: string
  readonly stringToSign: string
  readonly signature: string
  /**
   * The headers to send: the given ones, `x-amz-date`, `x-amz-content-sha256`,
   * `x-amz-security-token` (with a session token) and `authorization`. `host` is signed but not
   * listed: the HTTP client sends it from the URL.
   */
  readonly headers: Readonly<Record<string, string>>
}

const encoder = new TextEncoder()

const toHex = (bytes: ArrayBuffer | Uint8Array): string =>
  Array.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), (byte) =>
    byte.toString(16).padStart(2, "0")
  ).join("")

/** @internal */
export const sha256Hex = (data: string | Uint8Array<ArrayBuffer>): Effect.Effect<string> =>
  Effect.promise(() =>
    globalThis.crypto.subtle.digest("SHA-256", typeof data === "string" ? encoder.encode(data) : data)
  ).pipe(Effect.map(toHex))

const hmac = (key: Uint8Array<ArrayBuffer>, data: string): Effect.Effect<Uint8Array<ArrayBuffer>> =>
  Effect.promise(async () => {
    const imported = await globalThis.crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign"
    ])
    return new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", imported, encoder.encode(data)))
  })

/** RFC 3986 percent-encoding: every byte but the unreserved characters, in upper-case hex. */
const uriEncode = (text: string, keepSlash: boolean): string =>
  Array.from(encoder.encode(text), (byte) => {
    const char = String.fromCharCode(byte)
    return /[A-Za-z0-9\-._~]/.test(char) || (keepSlash && char === "/")
      ? char
      : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
  }).join("")

const decodeSegment = (segment: string): string => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** S3's canonical URI: the path, each segment encoded once. */
const canonicalUri = (url: URL): string =>
  url.pathname === ""
    ? "/"
    : url.pathname
        .split("/")
        .map((segment) => uriEncode(decodeSegment(segment), false))
        .join("/")

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

const canonicalQuery = (url: URL): string =>
  [...url.searchParams.entries()]
    .map(([key, value]) => [uriEncode(key, false), uriEncode(value, false)] as const)
    .sort(([ka, va], [kb, vb]) => byCodeUnit(ka, kb) || byCodeUnit(va, vb))
    .map(([key, value]) => `${key}=${value}`)
    .join("&")

/** `20130524T000000Z` and `20130524`. */
const timestamps = (date: Date) => {
  const amzDate = date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "")
  return { amzDate, day: amzDate.slice(0, 8) }
}

/** The signing key of a day, region and service. @internal */
export const signingKey = (secretAccessKey: string, day: string, region: string, service: string) =>
  hmac(encoder.encode(`AWS4${secretAccessKey}`), day).pipe(
    Effect.flatMap((key) => hmac(key, region)),
    Effect.flatMap((key) => hmac(key, service)),
    Effect.flatMap((key) => hmac(key, "aws4_request"))
  )

/**
 * Signs a request: the canonical request (method, canonical URI, sorted query, sorted headers with
 * trimmed values, their names, the payload hash), the string to sign over its SHA-256 and the
 * credential scope, and the HMAC chain of the secret over day, region, service and `aws4_request`.
 * @internal
 */
export const sign = (input: SignInput): Effect.Effect<Signed> =>
  Effect.gen(function* () {
    const { amzDate, day } = timestamps(input.date)
    const sent: Record<string, string> = {}
    for (const [name, value] of Object.entries(input.headers ?? {})) sent[name.toLowerCase()] = value
    sent["x-amz-date"] = amzDate
    sent["x-amz-content-sha256"] = input.payloadHash
    if (input.credentials.sessionToken !== undefined) sent["x-amz-security-token"] = input.credentials.sessionToken
    const signed = Object.entries({ ...sent, host: input.url.host })
      .map(([name, value]) => [name, value.trim().replace(/\s+/g, " ")] as const)
      .sort(([a], [b]) => byCodeUnit(a, b))
    const signedHeaders = signed.map(([name]) => name).join(";")
    const canonicalRequest = [
      input.method.toUpperCase(),
      canonicalUri(input.url),
      canonicalQuery(input.url),
      signed.map(([name, value]) => `${name}:${value}\n`).join(""),
      signedHeaders,
      input.payloadHash
    ].join("\n")
    const scope = `${day}/${input.region}/${input.service}/aws4_request`
    const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, yield* sha256Hex(canonicalRequest)].join("\n")
    const key = yield* signingKey(input.credentials.secretAccessKey, day, input.region, input.service)
    const signature = toHex(yield* hmac(key, stringToSign))
    return {
      canonicalRequest,
      stringToSign,
      signature,
      headers: {
        ...sent,
        authorization:
          `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, ` +
          `SignedHeaders=${signedHeaders}, Signature=${signature}`
      }
    }
  })
