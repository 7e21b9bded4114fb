import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as DaytonaConfig from "../../src/DaytonaConfig.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"
import * as ToolboxClient from "../../src/ToolboxClient.js"
import { apiKey, apiUrl, toolboxProxyUrl } from "./FakeHttp.js"

/** What the fake toolbox saw of one request; stream bodies are drained into `bytes`. */
export interface ToolboxRequest {
  readonly method: string
  readonly url: URL
  /** Path relative to `{toolboxProxyUrl}/{id}`. */
  readonly route: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  readonly bytes: Uint8Array | undefined
  readonly text: string | undefined
  readonly json: unknown
  readonly contentType: string | undefined
  readonly bodyTag: string
}

/** How the fake answers: JSON (objects), text, bytes, or a list of chunks; `truncate` ends the body with an error. */
export interface ToolboxReply {
  readonly status: number
  readonly json?: unknown
  readonly text?: string
  readonly chunks?: ReadonlyArray<Uint8Array | string>
  readonly headers?: Readonly<Record<string, string>>
  /** Never answer (to exercise request timeouts with TestClock). */
  readonly hang?: boolean
  /** After the chunks, the body fails (a connection dropped mid-answer) instead of ending. */
  readonly cut?: boolean
}

export type ToolboxHandler = (request: ToolboxRequest, index: number) => ToolboxReply

export const target: ToolboxClient.Target = { id: "sb-1", toolboxProxyUrl }
export const base = `${new URL(toolboxProxyUrl).pathname}/sb-1`

const encoder = new TextEncoder()

const drain = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<Uint8Array | undefined, unknown> => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return Effect.succeed(body.body)
    case "Stream":
      return Stream.runCollect(body.stream).pipe(Effect.map((chunks) => concatChunks(Chunk.toReadonlyArray(chunks))))
    case "Raw":
      // A raw body the way undici takes one: an async iterable is read to its end.
      return isAsyncIterable(body.body)
        ? Effect.tryPromise({ try: () => readAll(body.body as AsyncIterable<Uint8Array>), catch: (cause) => cause })
        : Effect.succeed(undefined)
    default:
      return Effect.succeed(undefined)
  }
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === "object" && value !== null && Symbol.asyncIterator in value

const readAll = async (iterable: AsyncIterable<Uint8Array>): Promise<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for await (const chunk of iterable) chunks.push(chunk)
  return concatChunks(chunks)
}

/** The chunks' bytes in one array. */
export const concatChunks = (chunks: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let offset = 0
  for (const c of chunks) {
    out.set(c, offset)
    offset += c.length
  }
  return out
}

/** A fake HttpClient for the toolbox and the ToolboxClient service over it. */
export const makeToolbox = (
  handler: ToolboxHandler,
  options: Partial<DaytonaConfig.Options> = {}
): Effect.Effect<{
  readonly toolbox: ToolboxClient.Service
  readonly requests: Effect.Effect<ReadonlyArray<ToolboxRequest>>
}> =>
  Effect.gen(function* () {
    const requests = yield* Ref.make<ReadonlyArray<ToolboxRequest>>([])
    const client = HttpClient.make((request, url) =>
      Effect.gen(function* () {
        const bytes = yield* drain(request).pipe(
          Effect.mapError((cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause }))
        )
        const text = bytes === undefined ? undefined : new TextDecoder().decode(bytes)
        let json: unknown = undefined
        try {
          json = text === undefined ? undefined : JSON.parse(text)
        } catch {
          json = undefined
        }
        const captured: ToolboxRequest = {
          method: request.method,
          url,
          route: url.pathname.startsWith(base) ? url.pathname.slice(base.length) : url.pathname,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams.entries()),
          headers: request.headers,
          bytes,
          text,
          json,
          contentType: request.headers["content-type"],
          bodyTag: request.body._tag
        }
        const all = yield* Ref.updateAndGet(requests, (list) => [...list, captured])
        const reply = handler(captured, all.length - 1)
        if (reply.hang === true) return yield* Effect.never
        const headers: Record<string, string> = { ...reply.headers }
        let body: BodyInit | null = null
        if (reply.json !== undefined) {
          body = JSON.stringify(reply.json)
          headers["content-type"] ??= "application/json"
        } else if (reply.text !== undefined) {
          body = reply.text
        } else if (reply.chunks !== undefined) {
          const chunks = reply.chunks.map((c) => (typeof c === "string" ? encoder.encode(c) : c))
          // One chunk per pull, so that a cut body delivers what came before the cut (an error raised
          // with chunks still queued would discard them).
          let next = 0
          body = new ReadableStream<Uint8Array>({
            pull(controller) {
              if (next < chunks.length) controller.enqueue(chunks[next++]!)
              else if (reply.cut === true)
                controller.error(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))
              else controller.close()
            }
          })
        }
        return HttpClientResponse.fromWeb(request, new Response(body, { status: reply.status, headers }))
      })
    )
    const toolbox = yield* ToolboxClient.make.pipe(
      Effect.provide(
        DaytonaConfig.layer({ apiKey: Redacted.make(apiKey), apiUrl, retryPolicy: RetryPolicy.none, ...options }).pipe(
          Layer.merge(Layer.succeed(HttpClient.HttpClient, client))
        )
      ),
      Effect.orDie
    )
    return { toolbox, requests: Ref.get(requests) }
  })

/** Builds a multipart body like the daemon's bulk download. */
export const multipartBody = (
  boundary: string,
  parts: ReadonlyArray<{
    readonly name: "file" | "error"
    readonly filename: string
    readonly body: string | Uint8Array
    readonly extraHeaders?: string
  }>,
  options: { readonly close?: boolean } = {}
): Uint8Array => {
  const pieces: Array<Uint8Array> = []
  for (const part of parts) {
    const body = typeof part.body === "string" ? encoder.encode(part.body) : part.body
    const latin1 = part.filename.replace(/[^\x20-\x7e]/g, "_")
    pieces.push(
      encoder.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"; filename="${latin1}"; filename*=utf-8''${encodeURIComponent(part.filename)}\r\n` +
          (part.name === "file"
            ? `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n`
            : `Content-Type: application/json; charset=utf-8\r\n`) +
          (part.extraHeaders ?? "") +
          "\r\n"
      ),
      body,
      encoder.encode("\r\n")
    )
  }
  if (options.close !== false) pieces.push(encoder.encode(`--${boundary}--\r\n`))
  return concatChunks(pieces)
}

/** Splits bytes at the given offsets (sorted, deduplicated). */
export const splitAt = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b)
  const out: Array<Uint8Array> = []
  let start = 0
  for (const p of points) {
    out.push(bytes.slice(start, p))
    start = p
  }
  out.push(bytes.slice(start))
  return out
}

/** A deterministic pseudo-random generator (mulberry32) for property-style tests. */
export const random = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Random cut points for `bytes`. */
export const randomCuts = (next: () => number, length: number, count: number) =>
  Array.from({ length: count }, () => Math.floor(next() * length))
