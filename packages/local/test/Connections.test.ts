/**
 * Connections that send nothing: the server holds at most `maxConnections` at once (one more is
 * closed as it arrives) and closes one whose request head has not come within 20 s, so idle
 * sockets can never take the descriptors its sandboxes need. Real sockets, real time.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeNet from "node:net"
import { call, clientLayer, serve, tempDir } from "./utils.js"

/** Opens a TCP connection that sends nothing; answers when it is connected, and how it ends later. */
const idle = (port: number) =>
  Effect.async<{ readonly socket: NodeNet.Socket; readonly closed: Promise<number> }>((resume) => {
    const socket = NodeNet.connect(port, "127.0.0.1")
    const opened = Date.now()
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now() - opened)))
    socket.on("error", () => undefined)
    socket.once("connect", () => resume(Effect.succeed({ socket, closed })))
  })

describe("connections that send nothing", () => {
  it.live(
    "one over maxConnections is closed at once; idle ones are closed after 20 s and the server answers again",
    () =>
      Effect.gen(function* () {
        const { server, client } = yield* serve(yield* tempDir, { maxConnections: 20 })
        const port = Number(new URL(server.url).port)
        const held = yield* Effect.forEach(Array.from({ length: 20 }), () => idle(port))
        yield* Effect.addFinalizer(() => Effect.sync(() => held.forEach(({ socket }) => socket.destroy())))
        const extra = yield* idle(port)
        const extraClosedAfter = yield* Effect.promise(() => extra.closed).pipe(Effect.timeout("5 seconds"))
        assert.isBelow(extraClosedAfter, 5_000)

        const closedAfter = yield* Effect.promise(() => Promise.all(held.map(({ closed }) => closed))).pipe(
          Effect.timeout("40 seconds")
        )
        for (const millis of closedAfter) assert.isAtLeast(millis, 15_000)
        const config = yield* call(client, "GET", "/api/config")
        assert.strictEqual(config.status, 200)
      }).pipe(Effect.scoped, Effect.provide(clientLayer)),
    60_000
  )
})
