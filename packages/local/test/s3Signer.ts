import * as NodeCrypto from "node:crypto"

/**
 * A Signature V4 signer for tests, written apart from the server's verifier so that each checks
 * the other: it signs a request to the object storage the way AWS's documentation describes, and
 * lets a test change what it sends after signing.
 */

/** Credentials as `push-access` answers them. */
export interface Access {
  readonly accessKey: string
  readonly secret: string
  readonly sessionToken: string
  readonly storageUrl: string
  readonly organizationId: string
  readonly region: string
  readonly bucket: string
}

const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const hmac = (key: NodeCrypto.BinaryLike, text: string) => NodeCrypto.createHmac("sha256", key).update(text).digest()

/** `20261203T113713Z` for an epoch-millisecond time. */
export const amzDate = (millis: number) =>
  new Date(millis)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "")

/** What to send. `payloadHash` defaults to the body's SHA-256. */
export interface S3Request {
  readonly method: string
  /** The object key, or `undefined` for a request on the bucket. */
  readonly key?: string | undefined
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly body?: Uint8Array | string | undefined
  readonly payloadHash?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Signing time (epoch milliseconds); default now. */
  readonly now?: number | undefined
}

/** A signed request as `fetch` arguments. */
export const sign = (access: Access, request: S3Request): { url: string; init: RequestInit } => {
  const base = new URL(access.storageUrl)
  const keyPath = request.key === undefined ? "/" : `/${request.key.split("/").map(encode).join("/")}`
  const path = `${base.pathname.replace(/\/$/, "")}/${access.bucket}${keyPath}`
  const query = Object.entries(request.query ?? {})
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&")
  const body = Buffer.from(request.body ?? "")
  const payloadHash = request.payloadHash ?? NodeCrypto.createHash("sha256").update(body).digest("hex")
  const date = amzDate(request.now ?? Date.now())
  const headers: Record<string, string> = {
    host: base.host,
    "x-amz-content-sha256": payloadHash,
    "x-amz-date": date,
    "x-amz-security-token": access.sessionToken,
    ...(request.headers ?? {})
  }
  const names = Object.keys(headers)
    .map((name) => name.toLowerCase())
    .sort()
  const canonical = [
    request.method,
    path,
    query,
    names.map((name) => `${name}:${headers[name]!.trim()}\n`).join(""),
    names.join(";"),
    payloadHash
  ].join("\n")
  const scope = `${date.slice(0, 8)}/${access.region}/s3/aws4_request`
  const toSign = [
    "AWS4-HMAC-SHA256",
    date,
    scope,
    NodeCrypto.createHash("sha256").update(canonical).digest("hex")
  ].join("\n")
  const key = hmac(hmac(hmac(hmac(`AWS4${access.secret}`, date.slice(0, 8)), access.region), "s3"), "aws4_request")
  const signature = NodeCrypto.createHmac("sha256", key).update(toSign).digest("hex")
  const { host: _host, ...sent } = headers
  return {
    url: `${base.origin}${path}${query === "" ? "" : `?${query}`}`,
    init: {
      method: request.method,
      headers: {
        ...sent,
        authorization: `AWS4-HMAC-SHA256 Credential=${access.accessKey}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`
      },
      ...(request.method === "GET" || request.method === "HEAD" ? {} : { body })
    }
  }
}

/** The `<Code>` of an S3 error body. */
export const errorCode = (xml: string) => /<Code>([^<]*)<\/Code>/.exec(xml)?.[1]
