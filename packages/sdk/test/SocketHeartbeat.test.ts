import { assert, describe, it } from "@effect/vitest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Socket from "@effect/platform/Socket"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as DaytonaConfig from "../src/DaytonaConfig.js"
import { HeartbeatLost } from "../src/internal/socketHeartbeat.js"
import * as Process from "../src/Process.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import * as ToolboxClient from "../src/ToolboxClient.js"
import * as WebSocketConnector from "../src/WebSocketConnector.js"
import { apiKey, apiUrl, makeFake, toolboxProxyUrl } from "./support/FakeHttp.js"

/**
 * An open WebSocket in memory, shaped like `ws`'s: `ping`, `terminate` and `on/off("pong")` beside
 * the standard surface. `answersPings` decides whether the peer is alive.
 */
class FakePeerSocket extends EventTarget {
  readyState = 1
  pings = 0
  terminated = false
  private readonly pongListeners = new Set<() => void>()
  constructor(private readonly answersPings: boolean) {
    super()
  }
  ping() {
    this.pings++
    if (this.answersPings) for (const listener of this.pongListeners) listener()
  }
  on(_event: "pong", listener: () => void) {
    this.pongListeners.add(listener)
  }
  off(_event: "pong", listener: () => void) {
    this.pongListeners.delete(listener)
  }
  terminate() {
    this.terminated = true
    this.closeWith(1006)
  }
  close(code = 1000) {
    this.closeWith(code)
  }
  send() {}
  deliver(bytes: Uint8Array) {
    this.dispatchEvent(Object.assign(new Event("message"), { data: bytes }))
  }
  private closeWith(code: number) {
    if (this.readyState === 3) return
    this.readyState = 3
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason: "" }))
  }
}

/** A plain standard-shaped socket: no way to ping. */
class PlainSocket extends EventTarget {
  readyState = 1
  close(code = 1000) {
    if (this.readyState === 3) return
    this.readyState = 3
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason: "" }))
  }
  send() {}
}

const target = { id: "sb-1", toolboxProxyUrl }

const clientWith = (peer: EventTarget, heartbeat?: Duration.DurationInput, reconnects = true) =>
  Effect.gen(function* () {
    const fake = yield* makeFake(() => ({ status: 200, body: {} }))
    return yield* ToolboxClient.make.pipe(
      Effect.provide(
        DaytonaConfig.layer({
          apiKey: Redacted.make(apiKey),
          apiUrl,
          ...(heartbeat === undefined ? {} : { socketHeartbeat: heartbeat }),
          ...(reconnects ? {} : { retryPolicy: RetryPolicy.none })
        })
      ),
      Effect.provideService(HttpClient.HttpClient, fake.client)
    )
  }).pipe(
    Effect.map((client) => ({
      client,
      connector: Layer.succeed(WebSocketConnector.WebSocketConnector, () => peer as unknown as globalThis.WebSocket)
    }))
  )

describe("WebSocket heartbeat", () => {
  it.effect("a peer that stops answering pings ends the run within two intervals, saying why", () =>
    Effect.gen(function* () {
      const peer = new FakePeerSocket(false)
      const { client, connector } = yield* clientWith(peer)
      const socket = yield* client
        .socket(target, "/process/session/s/command/c/logs?follow=true")
        .pipe(Effect.provide(connector))
      const fiber = yield* Effect.fork(socket.run(() => {}).pipe(Effect.provide(connector)))
      yield* TestClock.adjust("15 seconds")
      assert.strictEqual(peer.pings, 1)
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust("15 seconds")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(peer.terminated)
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(exit)
      assert.isTrue(Socket.isSocketError(error))
      assert.strictEqual(error.reason, "Read")
      assert.instanceOf(error.reason === "Read" ? error.cause : undefined, HeartbeatLost)
    })
  )

  it.effect("a peer that answers keeps a quiet connection open for as long as it lasts", () =>
    Effect.gen(function* () {
      const peer = new FakePeerSocket(true)
      const { client, connector } = yield* clientWith(peer, "5 seconds")
      const socket = yield* client.socket(target, "/logs").pipe(Effect.provide(connector))
      const received: Array<number> = []
      const fiber = yield* Effect.fork(
        socket.run((bytes) => void received.push(...bytes)).pipe(Effect.provide(connector))
      )
      yield* TestClock.adjust("1 minute")
      assert.isNull(fiber.unsafePoll())
      assert.strictEqual(peer.pings, 12)
      peer.deliver(new Uint8Array([1, 2, 3]))
      peer.close(1000)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(received, [1, 2, 3])
      assert.isFalse(peer.terminated)
    })
  )

  it.effect("an infinite interval turns the heartbeat off, and a socket that cannot ping gets none", () =>
    Effect.gen(function* () {
      const silent = new FakePeerSocket(false)
      const off = yield* clientWith(silent, Duration.infinity)
      const first = yield* Effect.fork(
        Effect.flatMap(off.client.socket(target, "/logs"), (socket) => socket.run(() => {})).pipe(
          Effect.provide(off.connector)
        )
      )
      const plain = new PlainSocket()
      const standard = yield* clientWith(plain)
      const second = yield* Effect.fork(
        Effect.flatMap(standard.client.socket(target, "/logs"), (socket) => socket.run(() => {})).pipe(
          Effect.provide(standard.connector)
        )
      )
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual(silent.pings, 0)
      assert.isNull(first.unsafePoll())
      assert.isNull(second.unsafePoll())
      silent.close(1000)
      plain.close(1000)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
    })
  )

  it.effect("a followed log on a silent connection fails with a TransportError that names the heartbeat", () =>
    Effect.gen(function* () {
      const peer = new FakePeerSocket(false)
      // No reconnection allowed: the heartbeat's verdict is the follow's.
      const { client, connector } = yield* clientWith(peer, "2 seconds", false)
      const fiber = yield* Effect.fork(
        Stream.runDrain(Process.make(target, client).followSessionCommandLogs("s1", "c1")).pipe(
          Effect.provide(connector)
        )
      )
      yield* TestClock.adjust("4 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "heartbeat")
    })
  )
})
