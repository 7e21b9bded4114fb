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
  let buffered: Buffer = Buffer.alloc(0)
  let closed: string | undefined

  const send = (message: object) => {
    const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8")
    input.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]))
  }

  const close = (reason: string) => {
    if (closed !== undefined) return
    closed = reason
    for (const entry of pending.values()) entry.settle(Effect.fail(new LspClosed({ message: reason })))
    pending.clear()
    output.removeListener("data", onData)
  }

  const dispatch = (message: Message) => {
    if (typeof message.method === "string") {
      if (message.id !== undefined && message.id !== null) send({ id: message.id, result: answerFor(message) })
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
              message: typeof error.message === "string" ? error.message : JSON.stringify(error)
            })
          )
    )
  }

  function onData(chunk: Buffer) {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    while (closed === undefined) {
      const end = buffered.indexOf(separator)
      if (end < 0) return
      const header = buffered.subarray(0, end).toString("ascii")
      const length = /content-length:\s*(\d+)/i.exec(header)
      if (length === null || Number(length[1]) > maxMessage) {
        close(`the language server sent an invalid message header: ${JSON.stringify(header.slice(0, 200))}`)
        return
      }
      const start = end + separator.length
      const stop = start + Number(length[1])
      if (buffered.length < stop) return
      const body = buffered.subarray(start, stop).toString("utf8")
      buffered = buffered.subarray(stop)
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
