import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { demux, demuxAll, type LogChunk, makeDemuxer } from "../src/internal/logDemux.js"
import { random, randomCuts, splitAt } from "./support/FakeToolbox.js"

const OUT = [1, 1, 1]
const ERR = [2, 2, 2]
const enc = (s: string) => [...new TextEncoder().encode(s)]
const bytes = (...parts: Array<ReadonlyArray<number> | string>) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? enc(p) : [...p])))

const joined = (chunks: ReadonlyArray<LogChunk>) => ({
  stdout: chunks
    .filter((c) => c._tag === "Stdout")
    .map((c) => c.text)
    .join(""),
  stderr: chunks
    .filter((c) => c._tag === "Stderr")
    .map((c) => c.text)
    .join(""),
  order: chunks.map((c) => c._tag).filter((tag, i, all) => i === 0 || all[i - 1] !== tag)
})

describe("logDemux", () => {
  it("splits stdout and stderr by markers", () => {
    const out = joined(demuxAll([bytes(OUT, "hello\n", ERR, "oops\n", OUT, "bye\n")]))
    assert.deepStrictEqual(out, { stdout: "hello\nbye\n", stderr: "oops\n", order: ["Stdout", "Stderr", "Stdout"] })
  })

  it("drops bytes before the first marker", () => {
    const out = joined(demuxAll([bytes("garbage", OUT, "x\n")]))
    assert.strictEqual(out.stdout, "x\n")
    assert.strictEqual(out.stderr, "")
  })

  it("handles a marker split across every possible boundary", () => {
    const whole = bytes(OUT, "a", ERR, "b", OUT, "c")
    for (let i = 1; i < whole.length; i++) {
      for (let j = i; j < whole.length; j++) {
        const out = joined(demuxAll(splitAt(whole, [i, j])))
        assert.deepStrictEqual([out.stdout, out.stderr], ["ac", "b"], `cuts ${i},${j}`)
      }
    }
  })

  it("holds back one or two trailing marker bytes until the next push", () => {
    const d = makeDemuxer()
    assert.deepStrictEqual(d.push(bytes(OUT, "ab", [2])), [{ _tag: "Stdout", text: "ab" }])
    assert.deepStrictEqual(d.push(bytes([2])), [])
    assert.deepStrictEqual(d.push(bytes([2], "c")), [{ _tag: "Stderr", text: "c" }])
    assert.deepStrictEqual(d.end(), [])
  })

  it("emits a trailing marker-like byte as data at the end", () => {
    const out = joined(demuxAll([bytes(OUT, "a", [1])]))
    assert.strictEqual(out.stdout, "a\u0001")
  })

  it("decodes multi-byte UTF-8 split across frames, per stream", () => {
    const euro = enc("€") // 3 bytes
    const whole = bytes(OUT, [euro[0]!], ERR, "é", OUT, [euro[1]!, euro[2]!], "\n")
    const out = joined(demuxAll(splitAt(whole, [4, 5, 9])))
    assert.strictEqual(out.stdout, "€\n")
    assert.strictEqual(out.stderr, "é")
  })

  it("an empty input yields nothing", () => {
    assert.deepStrictEqual(demuxAll([]), [])
    assert.deepStrictEqual(demuxAll([new Uint8Array(0)]), [])
  })

  it("random frame splits always produce the same output (property)", () => {
    const next = random(42)
    const lines = ["plain ascii", "ünïcödé ✓", "emoji 🎉🎉", "", "tabs\tand\rcr", "€uro"]
    for (let round = 0; round < 300; round++) {
      const parts: Array<ReadonlyArray<number> | string> = []
      let stdout = ""
      let stderr = ""
      const count = 1 + Math.floor(next() * 8)
      for (let k = 0; k < count; k++) {
        const line = `${lines[Math.floor(next() * lines.length)]}\n`
        if (next() < 0.5) {
          parts.push(OUT, line)
          stdout += line
        } else {
          parts.push(ERR, line)
          stderr += line
        }
      }
      const whole = bytes(...parts)
      const reference = joined(demuxAll([whole]))
      assert.deepStrictEqual([reference.stdout, reference.stderr], [stdout, stderr])
      const cuts = randomCuts(next, whole.length, Math.floor(next() * 12))
      const split = joined(demuxAll(splitAt(whole, cuts)))
      assert.deepStrictEqual(split, reference, `round ${round}, cuts ${cuts.join(",")}`)
      const single = joined(demuxAll(Array.from(whole, (b) => new Uint8Array([b]))))
      assert.deepStrictEqual(single, reference, `round ${round}, byte by byte`)
    }
  })

  it.effect("demux works as a Stream combinator", () =>
    Effect.gen(function* () {
      const whole = bytes("x", OUT, "out1\n", ERR, "err1\n", OUT, "out2\n")
      const chunks = yield* Stream.fromIterable(splitAt(whole, [2, 3, 8, 13, 14])).pipe(demux, Stream.runCollect)
      const out = joined(Chunk.toReadonlyArray(chunks))
      assert.deepStrictEqual([out.stdout, out.stderr], ["out1\nout2\n", "err1\n"])
    })
  )
})
