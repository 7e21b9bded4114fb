/**
 * MD5 (RFC 1321), incremental: Daytona names an uploaded build context by the MD5 of its paths and
 * contents, and WebCrypto has no MD5. Not for anything that needs a secure hash.
 *
 * @internal
 */

/** The running state of one digest: feed it bytes with `update`, then read `digestHex` once. @internal */
export interface Md5 {
  readonly update: (bytes: Uint8Array) => void
  readonly updateString: (text: string) => void
  readonly digestHex: () => string
}

/** T[i] = floor(2^32 × |sin(i + 1)|), the table of RFC 1321 section 3.4. */
const table = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0)

const shifts = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]

const encoder = new TextEncoder()

/** @internal */
export const make = (): Md5 => {
  const state = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476)
  const block = new Uint8Array(64)
  const words = new Int32Array(16)
  let buffered = 0
  let length = 0
  let done = false

  const transform = (bytes: Uint8Array, offset: number) => {
    for (let i = 0; i < 16; i++) {
      const at = offset + i * 4
      words[i] = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)
    }
    let a = state[0]!
    let b = state[1]!
    let c = state[2]!
    let d = state[3]!
    for (let i = 0; i < 64; i++) {
      const round = i >> 4
      let f: number
      let k: number
      if (round === 0) {
        f = (b & c) | (~b & d)
        k = i
      } else if (round === 1) {
        f = (b & d) | (c & ~d)
        k = (5 * i + 1) & 15
      } else if (round === 2) {
        f = b ^ c ^ d
        k = (3 * i + 5) & 15
      } else {
        f = c ^ (b | ~d)
        k = (7 * i) & 15
      }
      const s = shifts[(round << 2) | (i & 3)]!
      const sum = (a + f + table[i]! + words[k]!) | 0
      a = d
      d = c
      c = b
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0
    }
    state[0] = (state[0]! + a) | 0
    state[1] = (state[1]! + b) | 0
    state[2] = (state[2]! + c) | 0
    state[3] = (state[3]! + d) | 0
  }

  const update = (bytes: Uint8Array) => {
    if (done) throw new Error("md5: update after digest")
    length += bytes.length
    let offset = 0
    if (buffered > 0) {
      const take = Math.min(64 - buffered, bytes.length)
      block.set(bytes.subarray(0, take), buffered)
      buffered += take
      offset = take
      if (buffered < 64) return
      transform(block, 0)
      buffered = 0
    }
    for (; offset + 64 <= bytes.length; offset += 64) transform(bytes, offset)
    if (offset < bytes.length) {
      block.set(bytes.subarray(offset), 0)
      buffered = bytes.length - offset
    }
  }

  const digestHex = () => {
    if (done) throw new Error("md5: digest read twice")
    const bits = length * 8
    const padding = new Uint8Array((buffered < 56 ? 56 : 120) - buffered + 8)
    padding[0] = 0x80
    const view = new DataView(padding.buffer)
    view.setUint32(padding.length - 8, bits >>> 0, true)
    view.setUint32(padding.length - 4, Math.floor(bits / 0x100000000), true)
    update(padding)
    done = true
    let hex = ""
    for (const word of state) {
      for (let i = 0; i < 4; i++) hex += ((word >>> (i * 8)) & 0xff).toString(16).padStart(2, "0")
    }
    return hex
  }

  return { update, updateString: (text) => update(encoder.encode(text)), digestHex }
}
