/**
 * A followed log survives a dropped socket: the daemon sends the whole log again on every
 * connection, the SDK skips what it already delivered, so the stream has no duplicate and no gap
 * whatever byte the connection was cut at (inside a stream marker, inside a UTF-8 character), and it
 * ends with the exit code exactly once. Reconnections are paced by the retry policy on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Process from "../src/Process.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as WebSocketConnector from "../src/WebSocketConnector.js"
import { makeToolbox, target } from "./support/FakeToolbox.js"

const encoder = new TextEncoder()
const OUT = [1, 1, 1]
const ERR = [2, 2, 2]
const bytesOf = (...parts: ReadonlyArray<ReadonlyArray<number> | string>) =>
  new Uint8Array(parts.flatMap((part) => (typeof part === "string" ? [...encoder.encode(part)] : [...part])))

/** The log as the daemon stores it: stdout and stderr segments behind their markers, multi-byte text. */
const log = bytesOf(OUT, "line 1 €\n", ERR, "warn ü\n", OUT, "line 2 — 🚀\n", ERR, "done\n")
const expected = { stdout: "line 1 €\nline 2 — 🚀\n", stderr: "warn ü\ndone\n" }

/** How one connection behaves: how many bytes of the log it sends (in 3-byte frames) and how it ends. */
interface Connection {
  readonly upTo: number
  readonly end: "drop" | "close"
}

/** A socket in memory that plays one connection of the script, from a real timer once listened to. */
class ScriptedSocket extends EventTarget {
  readyState = 1
  constructor(connection: Connection) {
    super()
    setTimeout(() => {
      const sent = log.subarray(0, connection.upTo)
      for (let i = 0; i < sent.length; i += 3) {
        this.dispatchEvent(Object.assign(new Event("message"), { data: sent.slice(i, i + 3) }))
      }
      this.closeWith(connection.end === "close" ? 1000 : 1006)
    }, 1)
  }
  close(code = 1000) {
    this.closeWith(code)
  }
  send() {}
  private closeWith(code: number) {
    if (this.readyState === 3) return
    this.readyState = 3
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason: "" }))
  }
}

/**
 * Follows the log over `connections` (the last one repeated), the command's exit code appearing only
 * from the `exitAfter`-th read of the command on; returns the events (or the error), how many
 * connections were opened and how many times the command was read.
 */
const follow = (
  connections: ReadonlyArray<Connection>,
  options: { readonly exitAfter?: number; readonly retryPolicy?: RetryPolicy.RetryPolicy } = {}
) =>
  Effect.gen(function* () {
    let opened = 0
    const connector = Layer.succeed(WebSocketConnector.WebSocketConnector, () => {
      const connection = connections[Math.min(opened, connections.length - 1)]!
      opened++
      return new ScriptedSocket(connection) as unknown as globalThis.WebSocket
    })
    const exitAfter = options.exitAfter ?? 1
    const fake = yield* makeToolbox(
      (_, index) => ({
        status: 200,
        json: { id: "c1", command: "x", ...(index + 1 >= exitAfter ? { exitCode: 7 } : {}) }
      }),
      { retryPolicy: options.retryPolicy ?? RetryPolicy.exponential() }
    )
    const fiber = yield* Effect.fork(
      Process.make(target, fake.toolbox)
        .followSessionCommandLogs("s1", "c1")
        .pipe(Stream.runCollect, Effect.either, Effect.provide(connector))
    )
    // The sockets play on real timers, the pauses between connections on the TestClock.
    for (let i = 0; i < 400 && Option.isNone(yield* Fiber.poll(fiber)); i++) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1)))
      yield* TestClock.adjust("100 millis")
    }
    const result = yield* Fiber.join(fiber)
    return {
      result: Either.map(result, Chunk.toReadonlyArray),
      opened,
      reads: (yield* fake.requests).length
    }
  })

const texts = (events: ReadonlyArray<Process.SessionLogEvent>) => ({
  stdout: events.map((event) => (event._tag === "Stdout" ? event.text : "")).join(""),
  stderr: events.map((event) => (event._tag === "Stderr" ? event.text : "")).join("")
})

const exits = (events: ReadonlyArray<Process.SessionLogEvent>) =>
  events.flatMap((event) => (event._tag === "Exit" ? [event.exitCode] : []))

describe("followed logs resume after a dropped socket", () => {
  const euro = log.indexOf(0xe2)
  const rocket = log.indexOf(0xf0)
  const secondMarker = 3 + encoder.encode("line 1 €\n").length
  const cuts: ReadonlyArray<readonly [string, number]> = [
    ["before any byte", 0],
    ["inside the first marker", 1],
    ["right after the first marker", 3],
    ["inside a 3-byte character", euro + 1],
    ["inside the stderr marker", secondMarker + 2],
    ["inside a 4-byte character", rocket + 2],
    ["one byte before the end", log.length - 1],
    ["after the whole log, before the close", log.length]
  ]
  for (const [name, offset] of cuts) {
    it.effect(`cut ${name} (byte ${offset}): the whole log once, then the exit code once`, () =>
      Effect.gen(function* () {
        const { result, opened } = yield* follow([
          { upTo: offset, end: "drop" },
          { upTo: log.length, end: "close" }
        ])
        if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
        assert.deepStrictEqual(texts(result.right), expected)
        assert.deepStrictEqual(exits(result.right), [7])
        assert.strictEqual(result.right[result.right.length - 1]?._tag, "Exit")
        assert.strictEqual(opened, 2)
      })
    )
  }

  it.effect("several drops, some without new bytes, then the end: no duplicate, no gap", () =>
    Effect.gen(function* () {
      const { result, opened } = yield* follow([
        { upTo: 10, end: "drop" },
        { upTo: 10, end: "drop" },
        { upTo: 25, end: "drop" },
        { upTo: 4, end: "drop" },
        { upTo: log.length, end: "close" }
      ])
      if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
      assert.deepStrictEqual(texts(result.right), expected)
      assert.deepStrictEqual(exits(result.right), [7])
      assert.strictEqual(opened, 5)
    })
  )

  it.effect("a clean close before the command has an exit code is an early close: the follow goes on", () =>
    Effect.gen(function* () {
      const { result, opened, reads } = yield* follow(
        [
          { upTo: 12, end: "close" },
          { upTo: log.length, end: "close" }
        ],
        { exitAfter: 2 }
      )
      if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
      assert.deepStrictEqual(texts(result.right), expected)
      assert.deepStrictEqual(exits(result.right), [7])
      assert.deepStrictEqual([opened, reads], [2, 2])
    })
  )

  it.effect("drops with no new bytes beyond the retry policy end the stream with a TransportError", () =>
    Effect.gen(function* () {
      const { result, opened } = yield* follow([{ upTo: 0, end: "drop" }], {
        retryPolicy: RetryPolicy.exponential({ retries: 2 })
      })
      if (Either.isRight(result)) return assert.fail("expected a failure")
      assert.strictEqual(result.left._tag, "TransportError")
      assert.strictEqual(opened, 3)
    })
  )

  it.effect("the count of reconnections starts over whenever new bytes arrived", () =>
    Effect.gen(function* () {
      // Eight drops with a policy of two retries: each connection brings new bytes, so none is the third in a row.
      const steps = Array.from({ length: 8 }, (_, i): Connection => ({ upTo: (i + 1) * 5, end: "drop" }))
      const { result, opened } = yield* follow([...steps, { upTo: log.length, end: "close" }], {
        retryPolicy: RetryPolicy.exponential({ retries: 2 })
      })
      if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
      assert.deepStrictEqual(texts(result.right), expected)
      assert.strictEqual(opened, 9)
    })
  )
})
