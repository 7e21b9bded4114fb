import { assert, describe, it } from "@effect/vitest"
import { createHash } from "node:crypto"
import * as FastCheck from "effect/FastCheck"
import * as Md5 from "../src/internal/md5.js"

const md5Of = (text: string) => {
  const md5 = Md5.make()
  md5.updateString(text)
  return md5.digestHex()
}

describe("md5", () => {
  it("matches the test suite of RFC 1321 (appendix A.5)", () => {
    const suite: ReadonlyArray<readonly [string, string]> = [
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
      ["1234567890".repeat(8), "57edf4a22be3c955ac49da2e2107b67a"]
    ]
    for (const [input, expected] of suite) assert.strictEqual(md5Of(input), expected, JSON.stringify(input))
  })

  it("gives the same digest whatever the pieces the bytes come in (lengths around the 56- and 64-byte edges)", () => {
    FastCheck.assert(
      FastCheck.property(
        FastCheck.uint8Array({ maxLength: 300 }),
        FastCheck.array(FastCheck.nat(70), { maxLength: 8 }),
        (bytes, cuts) => {
          const md5 = Md5.make()
          let offset = 0
          for (const cut of cuts) {
            md5.update(bytes.subarray(offset, offset + cut))
            offset = Math.min(bytes.length, offset + cut)
          }
          md5.update(bytes.subarray(offset))
          assert.strictEqual(md5.digestHex(), createHash("md5").update(bytes).digest("hex"))
        }
      )
    )
    for (const length of [55, 56, 57, 63, 64, 65, 119, 120, 128, 1_000_000]) {
      const bytes = new Uint8Array(length).map((_, i) => (i * 31) & 0xff)
      const md5 = Md5.make()
      md5.update(bytes)
      assert.strictEqual(md5.digestHex(), createHash("md5").update(bytes).digest("hex"), `length ${length}`)
    }
  })

  it("hashes text as UTF-8", () => {
    assert.strictEqual(md5Of("é/ü 日本"), createHash("md5").update("é/ü 日本").digest("hex"))
  })
})
