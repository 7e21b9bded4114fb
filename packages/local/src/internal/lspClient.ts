import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as NodeStream from "node:stream"

/** The language server ended (or its connection was closed) before it answered. */
export class LspClosed extends Data.TaggedError("LspClosed")<{ readonly message: string }> {}

/** The language server did not answer a request in time. */
export class LspTimeout extends Data.TaggedError("LspTimeout")<{ readonly method: string; readonly message: string }> {}

/** The language server answered a request with a JSON-RPC error. */
export class LspResponseError extends Data.TaggedError("LspResponseError")<{
  readonly method: string
  readonly code: number
  readonly message: string
}> {}

/** A failure of one exchange with a language server. */
export type LspFailure = LspClosed | LspTimeout | LspResponseError

/** A JSON-RPC connection to a language server over its stdio (LSP base protocol framing). */
export interface Connection {
  /** Sends a request and waits for its answer, cancelling it at the server when the timeout passes. */
  readonly request: (
    method: string,
    params: unknown,
    timeout: Duration.DurationInput
  ) => Effect.Effect<unknown, LspClosed | LspTimeout | LspResponseError>
  /** Sends a notification. */
  readonly notify: (method: string, params: unknown) => Effect.Effect<void, LspClosed>
  /** Closes the connection: every pending request fails with `reason`. */
  readonly close: (reason: string) => void
  /** Whether the connection is still open. */
  readonly isOpen: () => boolean
}

interface Pending {
  readonly method: string
  readonly settle: (outcome: Effect.Effect<unknown, LspClosed | LspResponseError>) => void
}

type Message = {
  readonly id?: unknown
  readonly method?: unknown
  readonly params?: unknown
  readonly result?: unknown
  readonly error?: { readonly code?: unknown; readonly message?: unknown }
}

const separator = Buffer.from("\r\n\r\n")
const maxMessage = 64 * 1024 * 1024
/** A message header is a line or two; bytes past this with no blank line are not one. */
const maxHeader = 8 * 1024

/** An id the client may echo back: JSON-RPC's ids are numbers or strings. */
const echoable = (id: unknown): id is number | string =>
  (typeof id === "number" && Number.isFinite(id)) || (typeof id === "string" && id.length <= 1024)

/** The text of a JSON-RPC error without a string message; never throws (the value came from the server). */
const describeError = (error: unknown): string => {
  try {
    return JSON.stringify(error).slice(0, 1000)
  } catch {
    return "an error without a message"
  }
}

/** What the client answers to a request of the server: it has no workspace settings to offer. */
const answerFor = (message: Message): unknown => {
  if (message.method === "workspace/configuration") {
    const items = (message.params as { readonly items?: unknown } | undefined)?.items
    return Array.isArray(items) ? items.map(() => null) : []
  }
  return null
}

/** Speaks JSON-RPC with Content-Length framing over a language server's output and input. */
export const connect = (output: NodeStream.Readable, input: NodeStream.Writable): Connection => {
  const pending = new Map<number, Pending>()
  let nextId = 1
  // Bytes not yet read: the chunks of a header, or of a body whose length is known (`needed`);
  // joined once when complete, so a large message costs one copy, not one per chunk.
  let chunks: Array<Buffer> = []
  let size = 0
  let needed: number | undefined
  let closed: string | undefined

  const send = (message: object) => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8")
    input.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]))
  }

  const close = (reason: string) => {
    if (closed !== undefined) return
    closed = reason
    chunks = []
    size = 0
    for (const entry of pending.values()) entry.settle(Effect.fail(new LspClosed({ message: reason })))
    pending.clear()
    output.removeListener("data", onData)
  }

  const dispatch = (message: Message) => {
    if (typeof message.method === "string") {
      if (echoable(message.id)) send({ id: message.id, result: answerFor(message) })
      return
    }
    if (typeof message.id !== "number") return
    const entry = pending.get(message.id)
    if (entry === undefined) return
    pending.delete(message.id)
    const error = message.error
    entry.settle(
      error === undefined || error === null
        ? Effect.succeed(message.result ?? null)
        : Effect.fail(
            new LspResponseError({
              method: entry.method,
              code: typeof error.code === "number" ? error.code : 0,
              message: typeof error.message === "string" ? error.message : describeError(error)
            })
          )
    )
  }

  const take = (count: number): Buffer => {
    const joined = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
    const rest = joined.subarray(count)
    chunks = rest.length === 0 ? [] : [rest]
    size = rest.length
    return joined.subarray(0, count)
  }

  const readMessages = () => {
    while (closed === undefined) {
      if (needed === undefined) {
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
        chunks = head.length === 0 ? [] : [head]
        const end = head.indexOf(separator)
        if (end < 0) {
          if (size > maxHeader) close("the language server sent a message header without an end")
          return
        }
        const header = head.subarray(0, end).toString("ascii")
        const length = /content-length:\s*(\d+)/i.exec(header)
        if (end > maxHeader || length === null || Number(length[1]) > maxMessage) {
          close(`the language server sent an invalid message header: ${JSON.stringify(header.slice(0, 200))}`)
          return
        }
        take(end + separator.length)
        needed = Number(length[1])
      }
      if (size < needed) return
      const body = take(needed).toString("utf8")
      needed = undefined
      let message: unknown
      try {
        message = JSON.parse(body)
      } catch {
        close("the language server sent a message that is not JSON")
        return
      }
      if (typeof message === "object" && message !== null) dispatch(message as Message)
    }
  }

  // Whatever the server sends, nothing thrown here may reach the event loop: it would end the
  // whole local server, every sandbox with it.
  function onData(chunk: Buffer) {
    if (closed !== undefined) return
    chunks.push(chunk)
    size += chunk.length
    try {
      readMessages()
    } catch (error) {
      close(
        `the language server's messages could not be read: ${error instanceof Error ? error.message : String(error)}`
      )
    }
  }

  output.on("data", onData)
  input.on("error", (error) => close(`cannot write to the language server: ${error.message}`))

  const request = (method: string, params: unknown, timeout: Duration.DurationInput) =>
    Effect.async<unknown, LspClosed | LspResponseError>((resume) => {
      if (closed !== undefined) return resume(Effect.fail(new LspClosed({ message: closed })))
      const id = nextId++
      pending.set(id, { method, settle: resume })
      send({ id, method, params })
      return Effect.sync(() => {
        if (pending.delete(id) && closed === undefined) send({ method: "$/cancelRequest", params: { id } })
      })
    }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new LspTimeout({
            method,
            message: `the language server did not answer ${method} in ${Duration.format(Duration.decode(timeout))}`
          })
      })
    )

  const notify = (method: string, params: unknown) =>
    Effect.suspend(() =>
      closed !== undefined
        ? Effect.fail(new LspClosed({ message: closed }))
        : Effect.sync(() => send({ method, params }))
    )

  return { request, notify, close, isOpen: () => closed === undefined }
}
