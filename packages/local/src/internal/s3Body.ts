import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs/promises"
import * as NodeZlib from "node:zlib"
import type { Received } from "./objectStore.js"
import { ChunkedDecoder } from "./s3Chunked.js"
import { S3Error } from "./s3Xml.js"

/**
 * Receiving the body of an S3 upload into a file: checked against the payload hash the client
 * signed (`x-amz-content-sha256`), decoded from `aws-chunked` when it is streamed with a trailer,
 * and checked against the `x-amz-checksum-*` value it names, in a header or in the trailer.
 */

/** How the client vouches for the body. */
export type Payload =
  | { readonly _tag: "Sha256"; readonly hex: string }
  | { readonly _tag: "Unsigned" }
  | { readonly _tag: "ChunkedWithTrailer" }

/** The payload form of an `x-amz-content-sha256` value, or `undefined` for one this server does not take. */
export const payloadOf = (value: string | undefined): Payload | undefined => {
  if (value === undefined) return undefined
  if (/^[0-9a-f]{64}$/.test(value)) return { _tag: "Sha256", hex: value }
  if (value === "UNSIGNED-PAYLOAD") return { _tag: "Unsigned" }
  if (value === "STREAMING-UNSIGNED-PAYLOAD-TRAILER") return { _tag: "ChunkedWithTrailer" }
  return undefined
}

/** The checksums a client may name (`x-amz-checksum-<name>`) that are verified here; others are taken on trust. */
const verified = ["crc32", "sha1", "sha256"] as const
type Algorithm = (typeof verified)[number]

class Checksum {
  private crc = 0
  private readonly hash: NodeCrypto.Hash | undefined
  constructor(readonly algorithm: Algorithm) {
    this.hash = algorithm === "crc32" ? undefined : NodeCrypto.createHash(algorithm)
  }
  update(bytes: Uint8Array) {
    if (this.hash === undefined) this.crc = NodeZlib.crc32(bytes, this.crc)
    else this.hash.update(bytes)
  }
  base64(): string {
    if (this.hash !== undefined) return this.hash.digest("base64")
    const out = Buffer.alloc(4)
    out.writeUInt32BE(this.crc >>> 0)
    return out.toString("base64")
  }
}

/** How much of a refused body is still read (and dropped) so that the client gets the answer. */
const drainAllowance = 16 * 1024 * 1024

const incomplete = (message: string) => new S3Error(400, "IncompleteBody", message)

/**
 * Writes the body in `stream` to a new `file`, `length` decoded bytes long, and returns it; the
 * file is removed if anything is wrong. `headers` are the request's (for the checksum and trailer).
 */
export const receive = <E>(
  stream: Stream.Stream<Uint8Array, E>,
  payload: Payload,
  length: number,
  file: string,
  headers: Readonly<Record<string, string | undefined>>
): Effect.Effect<Received, S3Error> =>
  Effect.gen(function* () {
    const chunked = payload._tag === "ChunkedWithTrailer" ? new ChunkedDecoder() : undefined
    const trailerName = headers["x-amz-trailer"]?.trim().toLowerCase()
    const named = verified.find((name) =>
      chunked === undefined ? headers[`x-amz-checksum-${name}`] !== undefined : trailerName === `x-amz-checksum-${name}`
    )
    const checksum = named === undefined ? undefined : new Checksum(named)
    const md5 = NodeCrypto.createHash("md5")
    const sha256 = payload._tag === "Sha256" ? NodeCrypto.createHash("sha256") : undefined
    let size = 0
    const handle = yield* Effect.tryPromise({
      try: () => NodeFs.open(file, "wx", 0o600),
      catch: () => new S3Error(400, "InvalidRequest", "The body could not be stored")
    })
    /** The first thing found wrong; the rest of the body is then read and dropped, so the answer reaches the client. */
    let problem: S3Error | undefined
    let dropped = 0
    const write = (bytes: Uint8Array) =>
      Effect.suspend(() => {
        size += bytes.length
        if (size > length) {
          problem = incomplete("The body is longer than its declared length")
          return Effect.void
        }
        md5.update(bytes)
        sha256?.update(bytes)
        checksum?.update(bytes)
        return Effect.tryPromise({
          try: () => handle.write(bytes),
          catch: () => new S3Error(400, "InvalidRequest", "The body could not be stored")
        }).pipe(
          Effect.catchAll((error) =>
            Effect.sync(() => {
              problem = error
            })
          )
        )
      })
    const written = stream.pipe(
      Stream.mapError(() => incomplete("The body ended before its declared length")),
      Stream.runForEachWhile((chunk) => {
        if (problem !== undefined) {
          dropped += chunk.length
          return Effect.succeed(dropped <= drainAllowance)
        }
        if (chunked === undefined) return Effect.as(write(chunk), true)
        const decoded = chunked.push(chunk)
        if (typeof decoded === "string") {
          problem = new S3Error(400, "InvalidRequest", `Malformed aws-chunked body: ${decoded}`)
          return Effect.succeed(true)
        }
        return Effect.as(Effect.forEach(decoded, write, { discard: true }), true)
      }),
      Effect.zipRight(Effect.suspend(() => (problem === undefined ? Effect.void : Effect.fail(problem)))),
      Effect.zipRight(
        Effect.suspend(() => {
          if (chunked !== undefined && !chunked.complete)
            return Effect.fail(incomplete("The aws-chunked body ended before its last chunk"))
          if (size !== length)
            return Effect.fail(
              incomplete("You did not provide the number of bytes specified by the Content-Length HTTP header")
            )
          if (sha256 !== undefined && sha256.digest("hex") !== (payload as { hex: string }).hex)
            return Effect.fail(
              new S3Error(
                400,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed."
              )
            )
          if (checksum !== undefined) {
            const name = `x-amz-checksum-${checksum.algorithm}`
            const claimed = chunked === undefined ? headers[name] : chunked.trailers.get(name)
            if (claimed === undefined)
              return Effect.fail(new S3Error(400, "InvalidRequest", `The trailer ${name} is missing`))
            if (claimed.trim() !== checksum.base64())
              return Effect.fail(
                new S3Error(
                  400,
                  "BadDigest",
                  `The ${checksum.algorithm.toUpperCase()} you specified did not match the calculated checksum.`
                )
              )
          }
          return Effect.succeed<Received>({ file, size, md5: md5.digest() })
        })
      )
    )
    return yield* written.pipe(
      Effect.ensuring(Effect.promise(() => handle.close().catch(() => undefined))),
      Effect.tapError(() => Effect.promise(() => NodeFs.rm(file, { force: true }).catch(() => undefined))),
      Effect.onInterrupt(() => Effect.promise(() => NodeFs.rm(file, { force: true }).catch(() => undefined)))
    )
  })
