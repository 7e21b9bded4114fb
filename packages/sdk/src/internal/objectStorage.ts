/**
 * The two S3 requests of a build-context upload, path-style under the storage URL Daytona hands out
 * (a path prefix of that URL is kept): `ListObjectsV2` of a prefix, and `PutObject` of an archive
 * streamed once per attempt with its exact `Content-Length`. Each is signed with AWS Signature V4
 * at every attempt (the signature carries the time), bounded by the request timeout, and replayed
 * on transient failures (connection failures, timeouts, 408, 429 and 5xx) by the configured retry
 * policy: both requests are idempotent.
 *
 * @internal
 */
import * as HttpBody from "@effect/platform/HttpBody"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type * as DaytonaConfig from "../DaytonaConfig.js"
import {
  type ApiError,
  type BuildContextError,
  ObjectStorageError,
  RequestTimeoutError,
  TransportError,
  UnexpectedResponseError
} from "../DaytonaError.js"
import type { StorageAccess } from "../ObjectStorageDto.js"
import type { RetryableFailure } from "../RetryPolicy.js"
import { attemptTimeout } from "./attemptTimeout.js"
import * as S3Signature from "./s3Signature.js"
import { scrub, transportError } from "./transport.js"

/** A body streamed once per attempt, `length` bytes long. @internal */
export interface Body<E> {
  readonly length: number
  readonly stream: Stream.Stream<Uint8Array, E>
  readonly contentType: string
}

/** @internal */
export type StorageError = ApiError | ObjectStorageError

/** @internal */
export interface ObjectStorage {
  /** Whether any object's key starts with `prefix` (`ListObjectsV2` with `max-keys=1`). */
  readonly exists: (prefix: string) => Effect.Effect<boolean, StorageError>
  /** Writes the object `key`. */
  readonly put: <E extends BuildContextError>(key: string, body: Body<E>) => Effect.Effect<void, StorageError | E>
}

/** An upload of a large archive outlasts the request timeout meant for API calls: as `FileSystem.uploadFile`. */
const minimumPutTimeout = Duration.minutes(30)

const transientStatuses: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

type Failure = StorageError | BuildContextError

const isTransient = (failure: Failure): boolean => {
  switch (failure._tag) {
    case "RequestTimeoutError":
      return true
    case "TransportError":
      return failure.reason === "Connection" || failure.reason === "Body"
    case "ObjectStorageError":
      return transientStatuses.has(failure.status)
    default:
      return false
  }
}

/** What the retry policy sees of a failure: a member of the API errors it is written for. */
const asApiError = (failure: Failure): ApiError => {
  switch (failure._tag) {
    case "ObjectStorageError":
      return new UnexpectedResponseError({
        message: failure.message,
        status: failure.status,
        method: failure.method,
        path: `/${failure.bucket}/${failure.key}`,
        reason: "Status",
        sent: true
      })
    case "BuildContextError":
      return new TransportError({
        reason: "Encode",
        method: "PUT",
        path: failure.path ?? "",
        sent: false,
        description: failure.message
      })
    default:
      return failure
  }
}

const entities: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

const unescapeXml = (text: string): string =>
  text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (whole, entity: string) => {
    if (entity.startsWith("#")) {
      const code =
        entity[1] === "x" || entity[1] === "X" ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10)
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    return entities[entity.toLowerCase()] ?? whole
  })

/** The text of the first `<name>` element of an XML document, if there is one. @internal */
export const xmlField = (xml: string, name: string): string | undefined => {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)
  return match === null ? undefined : unescapeXml(match[1]!).trim()
}

interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

/** @internal */
export const make = (
  client: HttpClient.HttpClient,
  config: DaytonaConfig.Service,
  access: StorageAccess
): Effect.Effect<ObjectStorage, UnexpectedResponseError> =>
  Effect.gen(function* () {
    const base = yield* Effect.try({
      try: () => new URL(access.storageUrl.replace(/\/+$/, "")),
      catch: () =>
        new UnexpectedResponseError({
          reason: "InvalidBody",
          sent: true,
          status: 200,
          method: "GET",
          path: "/object-storage/push-access",
          message: `GET /object-storage/push-access → 200: storageUrl ${JSON.stringify(access.storageUrl)} is not a URL`
        })
    })
    const credentials: S3Signature.Credentials = {
      accessKeyId: access.accessKey,
      secretAccessKey: Redacted.value(access.secret),
      sessionToken: Redacted.value(access.sessionToken)
    }
    const secrets = [credentials.secretAccessKey, Redacted.value(access.sessionToken)]
    const basePath = base.pathname.replace(/\/+$/, "")
    const urlOf = (key: string | undefined, query: ReadonlyArray<readonly [string, string]>) => {
      const url = new URL(base.href)
      const segments = [access.bucket, ...(key === undefined ? [] : key.split("/"))]
      url.pathname = `${basePath}/${segments.map(encodeURIComponent).join("/")}`
      url.search = ""
      for (const [name, value] of query) url.searchParams.append(name, value)
      return url
    }

    /** One signed attempt: the answer's status, headers and text, or why there is none. */
    const exchange = <E extends BuildContextError>(
      method: "GET" | "PUT",
      url: URL,
      key: string,
      body: Body<E> | undefined,
      timeout: Duration.Duration
    ): Effect.Effect<Answer, StorageError | E> =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const signed = yield* S3Signature.sign({
          method,
          url,
          payloadHash: body === undefined ? S3Signature.emptyPayloadHash : S3Signature.unsignedPayload,
          region: access.region,
          service: "s3",
          credentials,
          date: new Date(now)
        })
        // The body's own failure (a local file), which the client reports only as a failed request.
        let sourceFailure: E | undefined
        const request = HttpClientRequest.make(method)(url.href).pipe(
          HttpClientRequest.setHeaders(signed.headers),
          (request) =>
            body === undefined
              ? request
              : HttpClientRequest.setBody(
                  request,
                  HttpBody.stream(
                    Stream.tapError(body.stream, (error) => Effect.sync(() => (sourceFailure = error))),
                    body.contentType,
                    body.length
                  )
                )
        )
        const path = url.pathname
        const clientFailure = (error: HttpClientError.HttpClientError | RequestTimeoutError): StorageError | E => {
          if (sourceFailure !== undefined) return sourceFailure
          if (error._tag === "RequestTimeoutError") return error
          if (error._tag === "ResponseError") {
            return new TransportError({
              reason: "Body",
              method,
              path,
              sent: true,
              description: error.description ?? "could not read the response",
              cause: error.cause
            })
          }
          return transportError(error, method, path)
        }
        const answer = yield* attemptTimeout(
          Effect.flatMap(client.execute(request), (response) =>
            Effect.map(response.text, (text) => ({ status: response.status, headers: response.headers, text }))
          ),
          timeout,
          () => new RequestTimeoutError({ method, path, timeout, sent: true })
        ).pipe(Effect.mapError(clientFailure))
        if (answer.status >= 200 && answer.status < 300) return answer
        const text = scrub(answer.text, secrets)
        const errorCode = xmlField(text, "Code")
        const errorMessage = xmlField(text, "Message")
        const requestId = answer.headers["x-amz-request-id"] ?? xmlField(text, "RequestId")
        return yield* Effect.fail(
          new ObjectStorageError({
            message:
              `${method} ${access.bucket}/${key} → ${answer.status}` +
              (errorCode === undefined ? "" : ` ${errorCode}`) +
              (errorMessage === undefined ? "" : `: ${errorMessage}`),
            status: answer.status,
            method,
            bucket: access.bucket,
            key,
            ...(errorCode === undefined ? {} : { errorCode }),
            ...(errorMessage === undefined ? {} : { errorMessage }),
            ...(requestId === undefined ? {} : { requestId })
          })
        )
      })

    const send = <E extends BuildContextError>(
      method: "GET" | "PUT",
      url: URL,
      key: string,
      body: Body<E> | undefined,
      timeout: Duration.Duration
    ): Effect.Effect<Answer, StorageError | E> =>
      Effect.suspend(() => {
        let attempts = 0
        const once = Effect.suspend(() => {
          attempts++
          return exchange(method, url, key, body, timeout)
        })
        return Effect.retry(once, {
          schedule: Schedule.mapInput(
            config.retryPolicy,
            (failure: Failure): RetryableFailure => ({
              error: asApiError(failure),
              attempt: attempts,
              retryAfter: undefined
            })
          ),
          while: isTransient
        })
      })

    return {
      exists: (prefix) =>
        send(
          "GET",
          urlOf(undefined, [
            ["list-type", "2"],
            ["prefix", prefix],
            ["max-keys", "1"]
          ]),
          prefix,
          undefined as Body<never> | undefined,
          config.requestTimeout
        ).pipe(Effect.map((answer) => /<Contents[\s>]/.test(answer.text))),
      put: (key, body) =>
        Effect.asVoid(send("PUT", urlOf(key, []), key, body, Duration.max(config.requestTimeout, minimumPutTimeout)))
    }
  })
