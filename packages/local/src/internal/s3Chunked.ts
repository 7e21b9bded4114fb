/**
 * The `aws-chunked` content encoding of S3 uploads whose payload hash is
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: chunks `<hex size>[;extensions]\r\n<bytes>\r\n`, a last
 * chunk of size 0, then trailer lines `name:value\r\n` and an empty line. Decoded as it arrives,
 * so that no more than a line is ever held.
 */

const maxLine = 4096
const maxTrailers = 16

type State =
  | { readonly _tag: "Size" }
  | { readonly _tag: "Data"; remaining: number }
  | { readonly _tag: "DataEnd"; seen: number }
  | { readonly _tag: "Trailer" }
  | { readonly _tag: "Done" }

/** A decoder of one body: feed it the raw bytes, then `end` it. Errors are messages for `IncompleteBody`/`InvalidRequest`. */
export class ChunkedDecoder {
  private state: State = { _tag: "Size" }
  private line: Array<number> = []
  /** The trailers read, by lower-case name. */
  readonly trailers = new Map<string, string>()

  /** The payload bytes in `chunk`, or the reason the framing is wrong. */
  push(chunk: Uint8Array): Array<Uint8Array> | string {
    const out: Array<Uint8Array> = []
    let i = 0
    while (i < chunk.length) {
      const state = this.state
      switch (state._tag) {
        case "Data": {
          const take = Math.min(state.remaining, chunk.length - i)
          out.push(chunk.subarray(i, i + take))
          i += take
          state.remaining -= take
          if (state.remaining === 0) this.state = { _tag: "DataEnd", seen: 0 }
          break
        }
        case "DataEnd": {
          const expected = state.seen === 0 ? 13 : 10
          if (chunk[i] !== expected) return "a chunk's data is not followed by CRLF"
          i++
          state.seen++
          if (state.seen === 2) this.state = { _tag: "Size" }
          break
        }
        case "Done":
          return "bytes follow the end of the aws-chunked body"
        default: {
          const byte = chunk[i]!
          i++
          this.line.push(byte)
          if (this.line.length > maxLine) return "a line of the aws-chunked framing is too long"
          const n = this.line.length
          if (n < 2 || this.line[n - 2] !== 13 || byte !== 10) break
          const text = Buffer.from(this.line.slice(0, n - 2)).toString("latin1")
          this.line = []
          const problem = state._tag === "Size" ? this.sizeLine(text) : this.trailerLine(text)
          if (problem !== undefined) return problem
        }
      }
    }
    return out
  }

  private sizeLine(text: string): string | undefined {
    const match = /^([0-9a-fA-F]{1,16})(;.*)?$/.exec(text)
    if (match === null) return "a chunk size is malformed"
    const size = parseInt(match[1]!, 16)
    if (!Number.isSafeInteger(size)) return "a chunk size is too large"
    this.state = size === 0 ? { _tag: "Trailer" } : { _tag: "Data", remaining: size }
    return undefined
  }

  private trailerLine(text: string): string | undefined {
    if (text === "") {
      this.state = { _tag: "Done" }
      return undefined
    }
    const colon = text.indexOf(":")
    if (colon <= 0) return "a trailer is malformed"
    if (this.trailers.size >= maxTrailers) return "too many trailers"
    this.trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim())
    return undefined
  }

  /** Whether the body ended where its framing says it does. */
  get complete(): boolean {
    return this.state._tag === "Done"
  }
}
