import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"

/** One piece of demultiplexed session output. @internal */
export type LogChunk =
  | { readonly _tag: "Stdout"; readonly text: string }
  | { readonly _tag: "Stderr"; readonly text: string }

/** A marker byte: 0x01 starts stdout, 0x02 starts stderr. @internal */
export const stdoutMarker = 0x01
/** @internal */
export const stderrMarker = 0x02

const isMarkerByte = (byte: number | undefined) => byte === stdoutMarker || byte === stderrMarker

/**
 * The incremental demultiplexer of Daytona's session log format: every stdout segment follows
 * `01 01 01`, every stderr segment `02 02 02`. Markers may be split across pushes; bytes before the
 * first marker are dropped; each stream has its own streaming UTF-8 decoder, so a character split
 * across frames (or across a marker switch) decodes whole.
 *
 * @internal
 */
export interface Demuxer {
  /** Feeds bytes; returns the text that became unambiguous. */
  readonly push: (bytes: Uint8Array) => ReadonlyArray<LogChunk>
  /** Ends the input: flushes held bytes and both decoders. */
  readonly end: () => ReadonlyArray<LogChunk>
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  if (a.length === 0) return b
  if (b.length === 0) return a
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** Index of the first full marker at or after `from` and starting before `limit`, else -1. */
const findMarker = (buffer: Uint8Array, from: number, limit: number): number => {
  for (let i = from; i < limit && i + 2 < buffer.length; i++) {
    const byte = buffer[i]
    if (isMarkerByte(byte) && buffer[i + 1] === byte && buffer[i + 2] === byte) return i
  }
  return -1
}

/** How many trailing bytes could be the start of a marker split across pushes (0 to 2). */
const heldBack = (buffer: Uint8Array): number => {
  const n = buffer.length
  const last = buffer[n - 1]
  if (!isMarkerByte(last)) return 0
  return n >= 2 && buffer[n - 2] === last ? 2 : 1
}

/** @internal */
export const makeDemuxer = (): Demuxer => {
  const decoders = { Stdout: new TextDecoder("utf-8"), Stderr: new TextDecoder("utf-8") }
  let current: "Stdout" | "Stderr" | undefined
  let pending: Uint8Array = new Uint8Array(0)

  const emit = (out: Array<LogChunk>, bytes: Uint8Array, flush: boolean) => {
    if (current === undefined) return
    const text = decoders[current].decode(bytes, { stream: !flush })
    if (text !== "") out.push({ _tag: current, text })
  }

  const drain = (final: boolean): Array<LogChunk> => {
    const out: Array<LogChunk> = []
    const buffer = pending
    const safe = final ? buffer.length : buffer.length - heldBack(buffer)
    let start = 0
    while (true) {
      const marker = findMarker(buffer, start, safe)
      if (marker === -1) break
      emit(out, buffer.subarray(start, marker), false)
      current = buffer[marker] === stdoutMarker ? "Stdout" : "Stderr"
      start = marker + 3
    }
    const end = Math.max(start, safe)
    emit(out, buffer.subarray(start, end), false)
    pending = buffer.slice(end)
    return out
  }

  return {
    push: (bytes) => {
      pending = concat(pending, bytes)
      return drain(false)
    },
    end: () => {
      const out = drain(true)
      for (const tag of ["Stdout", "Stderr"] as const) {
        const text = decoders[tag].decode()
        if (text !== "") out.push({ _tag: tag, text })
      }
      return out
    }
  }
}

/**
 * Demultiplexes a whole byte array (for tests and for non-follow logs that carry markers).
 *
 * @internal
 */
export const demuxAll = (chunks: Iterable<Uint8Array>): ReadonlyArray<LogChunk> => {
  const demuxer = makeDemuxer()
  const out: Array<LogChunk> = []
  for (const chunk of chunks) out.push(...demuxer.push(chunk))
  out.push(...demuxer.end())
  return out
}

/**
 * Demultiplexes a stream of raw log bytes into stdout and stderr text.
 *
 * @internal
 */
export const demux = <E, R>(self: Stream.Stream<Uint8Array, E, R>): Stream.Stream<LogChunk, E, R> =>
  Stream.suspend(() => {
    const demuxer = makeDemuxer()
    return self.pipe(
      Stream.mapChunks((chunk) => Chunk.fromIterable(Chunk.toReadonlyArray(chunk).flatMap(demuxer.push))),
      Stream.concat(Stream.suspend(() => Stream.fromIterable(demuxer.end())))
    )
  })
