/**
 * Node's upload body: in-memory bytes and local files sent as an async iterable that Node's undici
 * client (`NodeHttpClient.layerUndici`) reads straight from the file.
 *
 * An Effect `Stream` as a request body costs the client 2.5–2.8× the CPU of a Node stream through
 * the same client and brings major collections (`scripts/bench/streamBodies.ts`); for a 1 GiB upload
 * that halves the throughput. Provide {@link layer} beside `NodeHttpClient.layerUndici` to send
 * uploads this way. Only the undici client takes such a body: `NodeHttpClient.layer` (`node:http`) and
 * `FetchHttpClient` do not, so do not provide it with them.
 *
 * Not part of the package's index (it imports `node:fs`): import `@effect-daytona/sdk/NodeUploadBody`.
 *
 * @since 0.1.0
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as Layer from "effect/Layer"
import { createReadStream } from "node:fs"
import * as Multipart from "./MultipartCodec.js"
import * as UploadBody from "./UploadBody.js"

/** Read size from a local file: the cheapest of 64 KiB to 4 MiB in `streamBodies.ts`. */
const chunkBytes = 1024 * 1024

/**
 * A local file that held fewer bytes than its size when the upload began.
 *
 * @since 0.1.0
 * @category errors
 */
export class LocalFileShrunkError extends Error {
  readonly path: string
  readonly expected: number
  readonly read: number
  constructor(path: string, expected: number, read: number) {
    super(`${path} changed while it was uploaded: ${read} of ${expected} bytes could be read`)
    this.name = "LocalFileShrunkError"
    this.path = path
    this.expected = expected
    this.read = read
  }
}

const contentLength = (content: UploadBody.UploadContent): number =>
  content._tag === "Bytes" ? content.bytes.length : content.size

async function* fileBytes(
  path: string,
  size: number,
  observer: UploadBody.UploadObserver
): AsyncGenerator<Uint8Array, void, undefined> {
  if (size === 0) return
  let read = 0
  try {
    // `end` is inclusive: the stream stops at the size the upload announced.
    for await (const chunk of createReadStream(path, { start: 0, end: size - 1, highWaterMark: chunkBytes })) {
      const bytes = chunk as Uint8Array
      read += bytes.length
      observer.sent(bytes.length)
      yield bytes
    }
  } catch (error) {
    observer.sourceFailed(error)
    throw error
  }
  if (read < size) {
    const error = new LocalFileShrunkError(path, size, read)
    observer.sourceFailed(error)
    throw error
  }
}

/** The framing of one body, built once: every attempt sends the same bytes (a socket does not change them). */
interface Framing {
  readonly heads: ReadonlyArray<Uint8Array>
  readonly tail: Uint8Array
  readonly closing: Uint8Array
}

async function* multipartBytes(
  entries: ReadonlyArray<UploadBody.UploadEntry>,
  framing: Framing,
  observer: UploadBody.UploadObserver
): AsyncGenerator<Uint8Array, void, undefined> {
  observer.started()
  for (let i = 0; i < entries.length; i++) {
    const content = entries[i]!.content
    yield framing.heads[i]!
    if (content._tag === "LocalFile") {
      yield* fileBytes(content.path, content.size, observer)
    } else if (content.bytes.length > 0) {
      observer.sent(content.bytes.length)
      yield content.bytes
    }
    yield framing.tail
  }
  yield framing.closing
}

/**
 * The service: each read of the body (each attempt) starts a fresh pass over the entries, opening
 * each local file again. The body announces its exact length.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): UploadBody.Service => ({
  multipart: (entries, boundary, observer) => {
    const framing: Framing = {
      heads: entries.map((entry, i) => Multipart.uploadPartHead(i, entry.destination, boundary)),
      tail: Multipart.uploadPartTail(),
      closing: Multipart.closingDelimiter(boundary)
    }
    const length = entries.reduce(
      (total, entry, i) => total + framing.heads[i]!.length + framing.tail.length + contentLength(entry.content),
      framing.closing.length
    )
    const body: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => multipartBytes(entries, framing, observer)
    }
    return HttpBody.raw(body, { contentType: `multipart/form-data; boundary=${boundary}`, contentLength: length })
  }
})

/**
 * Sends uploads of bytes and local files as Node async iterables. Needs the undici client
 * (`NodeHttpClient.layerUndici`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<UploadBody.UploadBody> = Layer.sync(UploadBody.UploadBody, make)
