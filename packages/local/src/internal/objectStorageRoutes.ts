import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs/promises"
import { bucket, ObjectStorageService, pathPrefix, region, type ObjectStorage } from "./objectStorage.js"
import * as ObjectStore from "./objectStore.js"
import * as S3Body from "./s3Body.js"
import type { Credentials } from "./s3Credentials.js"
import * as S3Signature from "./s3Signature.js"
import * as S3Xml from "./s3Xml.js"
import { S3Error } from "./s3Xml.js"

/**
 * The S3-compatible subset served under `/object-storage` (path-style: `/object-storage/<bucket>/<key>`):
 * ListObjectsV2, PutObject, HeadObject, GetObject, DeleteObject and multipart uploads (create,
 * upload part, complete, abort), every request signed with Signature V4 by credentials that
 * `push-access` issued and that have not expired, and only under the credentials' organization's
 * prefix. Failures are S3's XML errors with S3's statuses.
 */

/** Whether a request's URL is the object storage's. */
export const isObjectStorage = (url: string): boolean =>
  url === pathPrefix || url.startsWith(`${pathPrefix}/`) || url.startsWith(`${pathPrefix}?`)

/** How far an `x-amz-date` may be from the server's clock (S3's 15 minutes). */
const maxSkewMillis = 15 * 60 * 1000
/** The largest `CompleteMultipartUpload` document: 10,000 parts fit. */
const maxCompleteBody = 2 * 1024 * 1024

const fail = (status: number, code: string, message: string) => Effect.fail(new S3Error(status, code, message))

type Headers = Readonly<Record<string, string | undefined>>

/** The decoded query parameters (the first value of each). */
const parseQuery = (rawQuery: string): Map<string, string> | undefined => {
  const query = new Map<string, string>()
  for (const part of rawQuery.split("&")) {
    if (part === "") continue
    const eq = part.indexOf("=")
    try {
      const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq))
      if (!query.has(key)) query.set(key, decodeURIComponent(eq < 0 ? "" : part.slice(eq + 1)))
    } catch {
      return undefined
    }
  }
  return query
}

/** Checks the request's signature; answers the credentials that made it and how its payload is vouched for. */
const authenticate = (
  storage: ObjectStorage,
  method: string,
  path: string,
  rawQuery: string,
  headers: Headers
): Effect.Effect<{ readonly credentials: Credentials; readonly payload: S3Body.Payload }, S3Error> =>
  Effect.gen(function* () {
    const header = headers["authorization"]
    if (header === undefined)
      return yield* fail(403, "AccessDenied", "Anonymous access is not allowed: sign requests with Signature V4")
    const authorization = S3Signature.parseAuthorization(header)
    if (authorization === undefined)
      return yield* fail(400, "AuthorizationHeaderMalformed", "The authorization header is malformed")
    const credentials = storage.credentials.lookup(authorization.accessKey)
    if (credentials === undefined)
      return yield* fail(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
    if (authorization.service !== "s3" || authorization.region !== region)
      return yield* fail(
        400,
        "AuthorizationHeaderMalformed",
        `The authorization header is malformed; the region or service is wrong; expecting '${region}' and 's3'`
      )
    const amzDate = headers["x-amz-date"]
    const signedAt = amzDate === undefined ? undefined : S3Signature.parseAmzDate(amzDate)
    if (amzDate === undefined || signedAt === undefined)
      return yield* fail(403, "AccessDenied", "AWS authentication requires a valid x-amz-date header")
    if (!amzDate.startsWith(authorization.date))
      return yield* fail(403, "SignatureDoesNotMatch", "The date of the credential scope is not the date of x-amz-date")
    for (const required of ["host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"])
      if (!authorization.signedHeaders.includes(required))
        return yield* fail(403, "AccessDenied", `The header ${required} must be signed`)
    const now = yield* Clock.currentTimeMillis
    if (credentials.expiresAt <= now) return yield* fail(400, "ExpiredToken", "The provided token has expired.")
    if (Math.abs(now - signedAt) > maxSkewMillis)
      return yield* fail(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large."
      )
    const token = headers["x-amz-security-token"]
    if (token === undefined || !S3Signature.sameSignature(token, credentials.sessionToken))
      return yield* fail(400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
    const payloadHash = headers["x-amz-content-sha256"]
    if (payloadHash === undefined)
      return yield* fail(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
    const payload = S3Body.payloadOf(payloadHash)
    if (payload === undefined)
      return yield* fail(
        400,
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value."
      )
    const expected = S3Signature.expectedSignature(
      { method, path, rawQuery, headers, payloadHash, amzDate },
      authorization,
      credentials.secret
    )
    if (expected === undefined || !S3Signature.sameSignature(expected, authorization.signature))
      return yield* fail(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method."
      )
    return { credentials, payload }
  })

/** Why a key is refused, if it is: longer than S3 allows, outside the organization, or with a `.`/`..` segment or control characters. */
const keyProblem = (key: string, organizationId: string): S3Error | undefined => {
  if (Buffer.byteLength(key) > ObjectStore.maxKeyBytes)
    return new S3Error(400, "KeyTooLongError", "Your key is too long")
  if (!key.startsWith(`${organizationId}/`))
    return new S3Error(
      403,
      "AccessDenied",
      `Access Denied: these credentials may only use keys under ${organizationId}/`
    )
  if (/[\u0000-\u001f\u007f]/.test(key) || key.split("/").some((segment) => segment === "." || segment === ".."))
    return new S3Error(
      400,
      "InvalidArgument",
      "Object keys with control characters or '.' or '..' segments are not accepted"
    )
  return undefined
}

const isoTime = (millis: number) => new Date(millis).toISOString().replace(/\.\d{3}Z$/, ".000Z")

/** The decoded length a body declares: `x-amz-decoded-content-length` for aws-chunked, else `Content-Length`. */
const declaredLength = (payload: S3Body.Payload, headers: Headers): Effect.Effect<number, S3Error> => {
  const chunked = payload._tag === "ChunkedWithTrailer"
  const value = chunked ? headers["x-amz-decoded-content-length"] : headers["content-length"]
  if (value === undefined || !/^\d{1,16}$/.test(value))
    return fail(411, "MissingContentLength", "You must provide the Content-Length HTTP header.")
  if (chunked && !(headers["content-encoding"] ?? "").split(",").some((coding) => coding.trim() === "aws-chunked"))
    return fail(400, "InvalidArgument", "A STREAMING payload must be sent with Content-Encoding: aws-chunked")
  return Effect.succeed(Number(value))
}

const tooLarge = () =>
  new S3Error(
    400,
    "EntityTooLarge",
    `Your proposed upload exceeds the maximum allowed object size (${ObjectStore.maxObjectSize} bytes on the local server).`
  )

/** Receives a body of at most `limit` bytes into a temporary file, its bytes held from the pending budget until `use` ends. */
const withBody = <A>(
  storage: ObjectStorage,
  request: HttpServerRequest.HttpServerRequest,
  payload: S3Body.Payload,
  limit: number,
  use: (received: ObjectStore.Received) => Effect.Effect<A, S3Error>,
  keepReserved: boolean
) =>
  Effect.gen(function* () {
    const headers = request.headers as Headers
    const length = yield* declaredLength(payload, headers)
    if (length > limit)
      return yield* Effect.fail(
        limit === ObjectStore.maxObjectSize
          ? tooLarge()
          : new S3Error(400, "EntityTooLarge", "Your request is too large")
      )
    const { store } = storage
    yield* store.reserve(length)
    const release = store.release(length)
    yield* Effect.tapError(store.admit, () => release)
    const file = store.tmpFile()
    const received = yield* S3Body.receive(request.stream, payload, length, file, headers).pipe(
      Effect.ensuring(store.leave),
      Effect.tapError(() => release)
    )
    return yield* use(received).pipe(
      Effect.tapError(() => Effect.promise(() => store.removeQuietly(file))),
      keepReserved ? (self) => self : Effect.ensuring(release)
    )
  })

const listObjectsV2 = (storage: ObjectStorage, credentials: Credentials, query: Map<string, string>) =>
  Effect.gen(function* () {
    const prefix = query.get("prefix") ?? ""
    if (!prefix.startsWith(`${credentials.organizationId}/`))
      return yield* fail(
        403,
        "AccessDenied",
        `Access Denied: these credentials may only list keys under ${credentials.organizationId}/`
      )
    const maxKeysText = query.get("max-keys") ?? "1000"
    if (!/^\d{1,9}$/.test(maxKeysText)) return yield* fail(400, "InvalidArgument", "max-keys must be a number")
    const maxKeys = Math.min(Number(maxKeysText), 1000)
    const token = query.get("continuation-token")
    let after = query.get("start-after") ?? ""
    if (token !== undefined) {
      const decoded = Buffer.from(token, "base64url").toString("utf8")
      if (token === "" || !decoded.startsWith(prefix))
        return yield* fail(400, "InvalidArgument", "The continuation token provided is incorrect")
      after = decoded
    }
    const delimiter = query.get("delimiter") ?? ""
    const page =
      maxKeys === 0
        ? { contents: [], prefixes: [], truncated: false, last: undefined }
        : storage.store.list(prefix, after, maxKeys, delimiter)
    const contents = page.contents
      .map(
        (meta) =>
          `<Contents>${S3Xml.elements([
            ["Key", meta.key],
            ["LastModified", isoTime(meta.lastModified)],
            ["ETag", meta.etag],
            ["Size", meta.size],
            ["StorageClass", "STANDARD"]
          ])}</Contents>`
      )
      .join("")
    const prefixes = page.prefixes
      .map((common) => `<CommonPrefixes>${S3Xml.elements([["Prefix", common]])}</CommonPrefixes>`)
      .join("")
    return S3Xml.xmlResponse(
      S3Xml.document(
        "ListBucketResult",
        S3Xml.elements([
          ["Name", bucket],
          ["Prefix", prefix],
          ["Delimiter", delimiter === "" ? undefined : delimiter],
          ["MaxKeys", maxKeys],
          ["KeyCount", page.contents.length + page.prefixes.length],
          ["IsTruncated", page.truncated],
          ["ContinuationToken", token],
          [
            "NextContinuationToken",
            page.truncated && page.last !== undefined ? Buffer.from(page.last).toString("base64url") : undefined
          ],
          ["StartAfter", query.get("start-after")]
        ]) +
          contents +
          prefixes
      )
    )
  })

const objectHeaders = (meta: ObjectStore.ObjectMeta) => ({
  etag: meta.etag,
  "last-modified": new Date(meta.lastModified).toUTCString(),
  "accept-ranges": "none",
  "x-amz-request-id": S3Xml.requestId()
})

const noSuchKey = () => new S3Error(404, "NoSuchKey", "The specified key does not exist.")

const getObject = (storage: ObjectStorage, key: string, head: boolean) =>
  Effect.gen(function* () {
    const meta = storage.store.head(key)
    if (meta === undefined) return yield* Effect.fail(noSuchKey())
    if (head)
      return HttpServerResponse.empty({
        status: 200,
        headers: { ...objectHeaders(meta), "content-length": String(meta.size), "content-type": meta.contentType }
      })
    const handle = yield* Effect.tryPromise({
      try: () => NodeFs.open(storage.store.pathOf(meta), "r"),
      catch: () => noSuchKey()
    })
    if (meta.size === 0) yield* Effect.promise(() => handle.close())
    return HttpServerResponse.stream(
      meta.size === 0
        ? Stream.empty
        : Stream.fromAsyncIterable(
            handle.createReadStream({ start: 0, end: meta.size - 1 }) as AsyncIterable<Uint8Array>,
            () => noSuchKey()
          ),
      { contentType: meta.contentType, contentLength: meta.size, headers: objectHeaders(meta) }
    )
  })

const contentTypeOf = (headers: Headers) => {
  const value = headers["content-type"]
  return value !== undefined && value.length <= 256 && /^[\x20-\x7e]+$/.test(value) ? value : "binary/octet-stream"
}

const putObject = (
  storage: ObjectStorage,
  request: HttpServerRequest.HttpServerRequest,
  payload: S3Body.Payload,
  key: string
) =>
  withBody(
    storage,
    request,
    payload,
    ObjectStore.maxObjectSize,
    (received) =>
      Effect.map(
        storage.store.commit(
          key,
          received,
          `"${received.md5.toString("hex")}"`,
          contentTypeOf(request.headers as Headers)
        ),
        (meta) =>
          HttpServerResponse.empty({ status: 200, headers: { etag: meta.etag, "x-amz-request-id": S3Xml.requestId() } })
      ),
    false
  )

const uploadPart = (
  storage: ObjectStorage,
  request: HttpServerRequest.HttpServerRequest,
  payload: S3Body.Payload,
  key: string,
  query: Map<string, string>
) =>
  Effect.gen(function* () {
    const numberText = query.get("partNumber")!
    const uploadId = query.get("uploadId")!
    if (!/^\d{1,5}$/.test(numberText) || Number(numberText) < 1 || Number(numberText) > ObjectStore.maxParts)
      return yield* fail(
        400,
        "InvalidArgument",
        `Part number must be an integer between 1 and ${ObjectStore.maxParts}, inclusive`
      )
    if (request.headers["x-amz-copy-source"] !== undefined)
      return yield* fail(405, "MethodNotAllowed", "UploadPartCopy is not supported by the local server")
    // An unknown upload is refused before its body is stored.
    yield* storage.store.requireUpload(uploadId, key)
    return yield* withBody(
      storage,
      request,
      payload,
      ObjectStore.maxObjectSize,
      (received) =>
        Effect.map(storage.store.putPart(uploadId, key, Number(numberText), received), (etag) =>
          HttpServerResponse.empty({ status: 200, headers: { etag, "x-amz-request-id": S3Xml.requestId() } })
        ),
      true
    )
  })

const completeUpload = (
  storage: ObjectStorage,
  request: HttpServerRequest.HttpServerRequest,
  payload: S3Body.Payload,
  key: string,
  uploadId: string
) =>
  Effect.gen(function* () {
    yield* storage.store.requireUpload(uploadId, key)
    const text = yield* withBody(
      storage,
      request,
      payload,
      maxCompleteBody,
      (received) =>
        Effect.promise(() =>
          NodeFs.readFile(received.file, "utf8").finally(() => storage.store.removeQuietly(received.file))
        ),
      false
    )
    const parts = S3Xml.parseCompleteMultipartUpload(text, ObjectStore.maxParts)
    if (parts === undefined)
      return yield* fail(
        400,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema"
      )
    const meta = yield* storage.store.complete(uploadId, key, parts)
    return S3Xml.xmlResponse(
      S3Xml.document(
        "CompleteMultipartUploadResult",
        S3Xml.elements([
          [
            "Location",
            `${storage.storageUrl(request.headers["host"])}/${bucket}/${key.split("/").map(S3Signature.uriEncode).join("/")}`
          ],
          ["Bucket", bucket],
          ["Key", key],
          ["ETag", meta.etag]
        ])
      )
    )
  })

/** The request, authenticated, routed to its operation. */
const dispatch = (
  storage: ObjectStorage,
  request: HttpServerRequest.HttpServerRequest,
  path: string,
  rawQuery: string
) =>
  Effect.gen(function* () {
    const method = request.method
    const headers = request.headers as Headers
    const { credentials, payload } = yield* authenticate(storage, method, path, rawQuery, headers)
    const query = parseQuery(rawQuery)
    if (query === undefined) return yield* fail(400, "InvalidArgument", "The query string could not be decoded")
    const rest = path.slice(pathPrefix.length + 1)
    const slash = rest.indexOf("/")
    let bucketName: string
    let key: string
    try {
      bucketName = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash))
      key = slash < 0 ? "" : decodeURIComponent(rest.slice(slash + 1))
    } catch {
      return yield* fail(400, "InvalidURI", "Couldn't parse the specified URI.")
    }
    if (bucketName === "")
      return yield* fail(405, "MethodNotAllowed", "Listing buckets is not supported by the local server")
    if (bucketName !== bucket) return yield* fail(404, "NoSuchBucket", "The specified bucket does not exist")
    if (key === "") {
      if (method === "HEAD")
        return HttpServerResponse.empty({ status: 200, headers: { "x-amz-bucket-region": region } })
      if (method === "GET" && query.get("list-type") === "2") return yield* listObjectsV2(storage, credentials, query)
      return yield* fail(
        405,
        "MethodNotAllowed",
        `The local server does not support ${method} on the bucket with this query`
      )
    }
    const problem = keyProblem(key, credentials.organizationId)
    if (problem !== undefined) return yield* Effect.fail(problem)
    const uploadId = query.get("uploadId")
    switch (method) {
      case "GET":
      case "HEAD":
        if (uploadId !== undefined) break
        return yield* getObject(storage, key, method === "HEAD")
      case "PUT":
        if (uploadId !== undefined && query.has("partNumber"))
          return yield* uploadPart(storage, request, payload, key, query)
        if (uploadId !== undefined || headers["x-amz-copy-source"] !== undefined) break
        return yield* putObject(storage, request, payload, key)
      case "DELETE":
        if (uploadId !== undefined)
          return yield* storage.store
            .abort(uploadId, key)
            .pipe(
              Effect.as(HttpServerResponse.empty({ status: 204, headers: { "x-amz-request-id": S3Xml.requestId() } }))
            )
        yield* storage.store.remove(key)
        return HttpServerResponse.empty({ status: 204, headers: { "x-amz-request-id": S3Xml.requestId() } })
      case "POST":
        if (query.has("uploads") && uploadId === undefined) {
          const id = yield* storage.store.initiate(key, contentTypeOf(headers))
          return S3Xml.xmlResponse(
            S3Xml.document(
              "InitiateMultipartUploadResult",
              S3Xml.elements([
                ["Bucket", bucket],
                ["Key", key],
                ["UploadId", id]
              ])
            )
          )
        }
        if (uploadId !== undefined) return yield* completeUpload(storage, request, payload, key, uploadId)
        break
    }
    return yield* fail(
      405,
      "MethodNotAllowed",
      `The local server does not support ${method} on an object with this query`
    )
  })

/**
 * The object storage's answer to a request under `/object-storage`. It needs no API key: the
 * request's signature is its authentication.
 */
export const handle: Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  never,
  ObjectStorageService | HttpServerRequest.HttpServerRequest
> = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const storage = yield* ObjectStorageService
  const question = request.url.indexOf("?")
  const path = question < 0 ? request.url : request.url.slice(0, question)
  const rawQuery = question < 0 ? "" : request.url.slice(question + 1)
  const head = request.method === "HEAD"
  return yield* dispatch(storage, request, path, rawQuery).pipe(
    Effect.catchAll((error) => Effect.succeed(S3Xml.errorResponse(error, path, head))),
    Effect.catchAllDefect((defect) =>
      Effect.logError("object storage failure", defect).pipe(
        Effect.as(
          S3Xml.errorResponse(new S3Error(500, "InternalError", "We encountered an internal error."), path, head)
        )
      )
    )
  )
})
