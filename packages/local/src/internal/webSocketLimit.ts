import type { Duplex } from "node:stream"

/**
 * The largest message a client may send on a toolbox WebSocket: what an HTTP body may hold
 * (`@effect/platform`'s 10 MiB `MaxBodySize`), so code sent to the interpreter over a socket is
 * bounded as it is over `code-run`.
 */
export const maxMessageBytes = 10 * 1024 * 1024

/** A close frame from the server (unmasked) with status 1009, "message too big". */
const tooBig = Buffer.from([0x88, 0x02, 0x03, 0xf1])

/**
 * Bounds the messages a client sends on an upgraded socket: reads the WebSocket framing of every
 * chunk as it is emitted to the socket's listeners (the WebSocket library's among them, which
 * would otherwise gather a message of up to 100 MiB, its default, with no way to set it through
 * `@effect/platform-node`), and when a message's frames announce more than `limit` bytes it
 * answers with a close of status 1009 and ends the connection before that chunk reaches anyone.
 * Only the frame headers are read; payloads are counted and skipped.
 */
export const limitMessages = (socket: Duplex, limit: number = maxMessageBytes): void => {
  const header = Buffer.alloc(14)
  let headerLength = 0
  /** Bytes of payload still to skip in the current frame. */
  let payloadLeft = 0
  /** Bytes in the frames of the message being received so far. */
  let messageBytes = 0
  let refused = false

  /** Whether a chunk keeps every message within the limit. */
  const accept = (chunk: Buffer): boolean => {
    let at = 0
    while (at < chunk.length) {
      if (payloadLeft > 0) {
        const skipped = Math.min(payloadLeft, chunk.length - at)
        payloadLeft -= skipped
        at += skipped
        continue
      }
      header[headerLength++] = chunk[at++]!
      if (headerLength < 2) continue
      const short = header[1]! & 0x7f
      const needed = 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (header[1]! & 0x80 ? 4 : 0)
      if (headerLength < needed) continue
      const length =
        short === 126
          ? header.readUInt16BE(2)
          : short === 127
            ? header.readUInt32BE(2) * 2 ** 32 + header.readUInt32BE(6)
            : short
      headerLength = 0
      const opcode = header[0]! & 0x0f
      if (opcode < 0x8) {
        messageBytes += length
        if (messageBytes > limit) return false
        if (header[0]! & 0x80) messageBytes = 0
      } else if (length > 125) {
        return false
      }
      payloadLeft = length
    }
    return true
  }

  const emit = socket.emit.bind(socket)
  socket.emit = (event: string | symbol, ...args: Array<unknown>): boolean => {
    if (event !== "data") return emit(event, ...args)
    if (refused) return false
    const chunk = args[0]
    if (!Buffer.isBuffer(chunk) || accept(chunk)) return emit(event, ...args)
    refused = true
    socket.end(tooBig)
    setTimeout(() => socket.destroy(), 1000).unref()
    return false
  }
}
