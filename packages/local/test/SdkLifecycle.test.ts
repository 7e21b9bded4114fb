import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as Events from "@effect-daytona/sdk/Events"
import * as Snapshots from "@effect-daytona/sdk/Snapshots"
import * as WarmPools from "@effect-daytona/sdk/WarmPools"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { WebSocket } from "ws"
import { fastServer } from "./sdkHarness.js"

/**
 * A local server with short real transitions and our SDK pointed at it, with events (a
 * WebSocketConnector) or without; every HTTP request the SDK sends is recorded.
 */
const setup = (options: { readonly events: boolean }) =>
  Effect.gen(function* () {
    const { dir, server } = yield* fastServer({ lifecycleInterval: "200 millis" })
    const sent: Array<string> = []
    const recording = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (client) =>
        HttpClient.tapRequest(client, (request) =>
          Effect.sync(() => sent.push(`${request.method} ${new URL(request.url).pathname}`))
        )
      )
    ).pipe(Layer.provide(NodeHttpClient.layerUndici))
    const sdk = Daytona.layer({ apiKey: server.apiKey, apiUrl: server.apiUrl, requestTimeout: "60 seconds" }).pipe(
      Layer.provide(recording),
      Layer.provide(options.events ? WebSocketConnector.layer(WebSocket) : Layer.empty)
    )
    const context = yield* Layer.build(sdk)
    return {
      dir,
      sent,
      daytona: Context.get(context, Daytona.Daytona),
      snapshots: Context.get(context, Snapshots.Snapshots),
      warmPools: Context.get(context, WarmPools.WarmPools),
      events: Context.get(context, Events.Events)
    }
  })

/** A downloaded file's text. */
const textOf = <E>(bytes: Stream.Stream<Uint8Array, E>) => bytes.pipe(Stream.decodeText(), Stream.mkString)

/** The polls of one sandbox among the recorded requests. */
const pollsOf = (sent: ReadonlyArray<string>, id: string) => sent.filter((line) => line === `GET /api/sandbox/${id}`)

describe("our SDK against the local server: lifecycle of Daytona 0.216", () => {
  it.live("pause, resume, fork, snapshot of a sandbox and a sandbox from it, with events: no polls", () =>
    Effect.gen(function* () {
      const { daytona, events, sent } = yield* setup({ events: true })
      assert.isTrue(events.available)
      const sandbox = yield* daytona.create()
      yield* sandbox.fs.uploadFile("note.txt", new TextEncoder().encode("from the parent"))

      const mark = sent.length
      const paused = yield* sandbox.pause()
      assert.strictEqual(paused.state, "paused")
      const resumed = yield* paused.start()
      assert.strictEqual(resumed.state, "started")
      const fork = yield* resumed.fork({ name: "the-fork" })
      assert.strictEqual(fork.state, "started")
      assert.strictEqual(yield* textOf(fork.fs.downloadFile("note.txt")), "from the parent")
      const afterSnapshot = yield* resumed.createSnapshot("sdk-capture")
      assert.strictEqual(afterSnapshot.state, "started")
      const stopped = yield* fork.stop()
      assert.strictEqual(stopped.state, "stopped")
      // Every wait above listened to events: not one poll of either sandbox.
      assert.deepStrictEqual(pollsOf(sent.slice(mark), sandbox.id), [])
      assert.deepStrictEqual(pollsOf(sent.slice(mark), fork.id), [])

      assert.strictEqual((yield* fork.getParent).id, sandbox.id)
      assert.deepStrictEqual(
        (yield* sandbox.getForks()).map((s) => s.id),
        [fork.id]
      )
    }).pipe(Effect.scoped)
  )

  it.live("the same flows without events poll, and still work", () =>
    Effect.gen(function* () {
      const { daytona, events, sent } = yield* setup({ events: false })
      assert.isFalse(events.available)
      const sandbox = yield* daytona.create()
      const mark = sent.length
      const paused = yield* sandbox.pause()
      assert.strictEqual(paused.state, "paused")
      assert.isAbove(pollsOf(sent.slice(mark), sandbox.id).length, 0)
      const exit = yield* Effect.exit(Stream.runHead(events.stream))
      assert.isTrue(exit._tag === "Failure")
    }).pipe(Effect.scoped)
  )

  it.live("Events.stream delivers the organization's sandbox events", () =>
    Effect.gen(function* () {
      const { daytona, events } = yield* setup({ events: true })
      const collected = yield* events.stream.pipe(
        Stream.filter((event) => event._tag === "SandboxStateUpdated" && event.newState === "stopped"),
        Stream.take(1),
        Stream.runCollect,
        Effect.fork
      )
      yield* Effect.sleep("200 millis")
      const sandbox = yield* daytona.create()
      yield* sandbox.stop()
      const [event] = Chunk.toReadonlyArray(yield* Fiber.join(collected).pipe(Effect.timeout("10 seconds")))
      assert.strictEqual(event?._tag, "SandboxStateUpdated")
      if (event?._tag === "SandboxStateUpdated") assert.strictEqual(event.sandbox.id, sandbox.id)
    }).pipe(Effect.scoped)
  )

  it.live("snapshots of a sandbox, metrics, TTL, auto-pause and warm pools through the SDK", () =>
    Effect.gen(function* () {
      const { daytona, snapshots, warmPools } = yield* setup({ events: true })
      const source = yield* daytona.create()
      yield* source.fs.uploadFile("seed.txt", new TextEncoder().encode("captured"))
      yield* source.createSnapshot("sdk-seed")
      const snapshot = yield* snapshots.waitUntilActive("sdk-seed")
      assert.strictEqual(snapshot.state, "active")
      const copy = yield* daytona.create({ snapshot: "sdk-seed" })
      assert.strictEqual(yield* textOf(copy.fs.downloadFile("seed.txt")), "captured")

      const latest = yield* copy.getMetricsLatest
      assert.strictEqual(latest.cpuCount, copy.cpu)
      assert.isAtLeast(latest.diskUsed, "captured".length)
      yield* Effect.sleep("700 millis")
      const samples = yield* copy.getMetrics()
      assert.isAbove(samples.length, 0)
      assert.strictEqual(samples.at(-1)?.memTotal, copy.memory * 1024 ** 3)

      const withTtl = yield* copy.setTtl(30)
      assert.isDefined(withTtl.autoDestroyAt)
      const noStop = yield* copy.setAutostopInterval(0)
      assert.strictEqual(noStop.autoStopInterval, 0)
      assert.strictEqual((yield* copy.setAutoPauseInterval(10)).autoPauseInterval, 10)

      const pool = yield* warmPools.create({ snapshot: "sdk-seed", pool: 1 })
      assert.strictEqual(pool.pool, 1)
      let current = pool.currentSize
      for (let i = 0; i < 100 && current < 1; i++) {
        yield* Effect.sleep("100 millis")
        current = (yield* warmPools.list).find((p) => p.id === pool.id)?.currentSize ?? 0
      }
      assert.strictEqual(current, 1)
      const served = yield* daytona.create({ snapshot: "sdk-seed" })
      assert.strictEqual(yield* textOf(served.fs.downloadFile("seed.txt")), "captured")
      assert.strictEqual((yield* warmPools.update(pool.id, { pool: 0 })).pool, 0)
      yield* warmPools.delete(pool.id)
      assert.deepStrictEqual(yield* warmPools.list, [])
    }).pipe(Effect.scoped)
  )
})
