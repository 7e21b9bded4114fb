import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { idleTimeout } from "../src/internal/idleTimeout.js"
import { advance, settle } from "./support/FakeHttp.js"

const second = Duration.seconds(1)
const timedOut = (): string => "timed out"

describe("idleTimeout", () => {
  it.effect("passes every element through in order, then ends", () =>
    Effect.gen(function* () {
      const out = yield* idleTimeout(Stream.range(1, 100).pipe(Stream.rechunk(7)), second, timedOut).pipe(
        Stream.runCollect
      )
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(out),
        Array.from({ length: 100 }, (_, i) => i + 1)
      )
    })
  )

  it.effect("fails once the source has produced nothing for the duration, and releases the source", () =>
    Effect.gen(function* () {
      const released = yield* Ref.make(false)
      const source = Stream.make(1, 2).pipe(Stream.concat(Stream.never), Stream.ensuring(Ref.set(released, true)))
      const fiber = yield* idleTimeout(source, second, timedOut).pipe(Stream.runCollect, Effect.fork)
      yield* TestClock.adjust("999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.await(fiber)
      assert.deepStrictEqual(exit, Exit.fail("timed out"))
      assert.isTrue(yield* Ref.get(released))
    })
  )

  it.effect("gaps shorter than the duration never time out, however long the whole takes", () =>
    Effect.gen(function* () {
      const source = Stream.repeatEffect(Effect.as(Effect.sleep("600 millis"), 1)).pipe(Stream.take(10))
      const fiber = yield* idleTimeout(source, second, timedOut).pipe(Stream.runCollect, Effect.fork)
      yield* settle(fiber)
      assert.strictEqual(Chunk.size(yield* Fiber.join(fiber)), 10)
    })
  )

  it.effect("a slow consumer is not idleness of the source, even while it holds back the end", () =>
    Effect.gen(function* () {
      for (const capacity of [16, 1]) {
        const fiber = yield* idleTimeout(Stream.range(1, 30).pipe(Stream.rechunk(1)), second, timedOut, capacity).pipe(
          Stream.mapEffect((n) => Effect.as(Effect.sleep("5 seconds"), n)),
          Stream.runCollect,
          Effect.fork
        )
        yield* settle(fiber, { step: "5 seconds", max: "10 minutes" })
        assert.strictEqual(Chunk.size(yield* Fiber.join(fiber)), 30, `capacity ${capacity}`)
      }
    })
  )

  it.effect("hands a slow consumer everything read ahead in one chunk", () =>
    Effect.gen(function* () {
      const sizes: Array<number> = []
      const fiber = yield* idleTimeout(Stream.range(1, 10).pipe(Stream.rechunk(1)), second, timedOut).pipe(
        Stream.runForEachChunk((chunk) => {
          sizes.push(Chunk.size(chunk))
          return Effect.sleep("10 millis")
        }),
        Effect.fork
      )
      yield* settle(fiber, { step: "10 millis" })
      assert.strictEqual(
        sizes.reduce((a, b) => a + b, 0),
        10
      )
      assert.isTrue(
        sizes.some((n) => n > 1),
        `chunk sizes ${sizes.join(", ")}`
      )
    })
  )

  it.effect("passes every element in order through many small hand-offs, the buffer full again and again", () =>
    Effect.gen(function* () {
      // A capacity of 2 makes the producer wait for room again and again, and the consumer for data.
      const source = Stream.range(1, 300).pipe(
        Stream.rechunk(1),
        Stream.tap(() => Effect.yieldNow())
      )
      const out = yield* idleTimeout(source, second, timedOut, 2).pipe(
        Stream.tap(() => Effect.yieldNow()),
        Stream.runCollect
      )
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(out),
        Array.from({ length: 300 }, (_, i) => i + 1)
      )
    })
  )

  it.effect("a failure of the source is the stream's failure", () =>
    Effect.gen(function* () {
      const error = yield* idleTimeout(Stream.make(1).pipe(Stream.concat(Stream.fail("boom"))), second, timedOut).pipe(
        Stream.runDrain,
        Effect.flip
      )
      assert.strictEqual(error, "boom")
    })
  )

  it.effect("a consumer that stops early releases the source", () =>
    Effect.gen(function* () {
      const released = yield* Ref.make(false)
      const source = Stream.range(1, 1000).pipe(Stream.rechunk(1), Stream.ensuring(Ref.set(released, true)))
      const out = yield* idleTimeout(source, second, timedOut).pipe(Stream.take(3), Stream.runCollect)
      assert.deepStrictEqual(Chunk.toReadonlyArray(out), [1, 2, 3])
      assert.isTrue(yield* Ref.get(released))
    })
  )

  it.effect("times out where interruptions are held off (a finaliser)", () =>
    Effect.gen(function* () {
      const fiber = yield* idleTimeout(Stream.never, second, timedOut).pipe(
        Stream.runDrain,
        Effect.uninterruptible,
        Effect.fork
      )
      yield* advance("1 second")
      assert.deepStrictEqual(yield* Fiber.await(fiber), Exit.fail("timed out"))
    })
  )
})
