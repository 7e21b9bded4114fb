import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { io, type Socket } from "socket.io-client"
import { realSleep } from "./attackHarness.js"
import { settleTo } from "./lifecycleHarness.js"
import { advance, asSandbox, call, clientLayer, raw, serve, tempDir } from "./utils.js"

interface Received {
  readonly name: string
  readonly data: unknown
}

/**
 * Connects to the gateway as Daytona's SDK does (WebSocket only, the token in `auth`), and answers
 * how the connection ended up (connected, or refused with the server's message) and what it receives.
 */
const connect = (
  url: string,
  options: { readonly token?: string; readonly query?: Record<string, string>; readonly polling?: boolean }
) =>
  Effect.acquireRelease(
    Effect.async<{ readonly socket: Socket; readonly outcome: string; readonly received: Array<Received> }>(
      (resume) => {
        const received: Array<Received> = []
        const socket = io(url, {
          path: "/api/socket.io/",
          transports: options.polling === true ? ["polling"] : ["websocket"],
          reconnection: false,
          timeout: 3000,
          ...(options.query === undefined ? {} : { query: options.query }),
          ...(options.token === undefined ? {} : { auth: { token: options.token } })
        })
        socket.onAny((name: string, data: unknown) => received.push({ name, data }))
        socket.on("connect", () => resume(Effect.succeed({ socket, outcome: "connected", received })))
        socket.on("connect_error", (error) =>
          resume(Effect.succeed({ socket, outcome: `refused: ${error.message}`, received }))
        )
      }
    ),
    ({ socket }) => Effect.sync(() => socket.disconnect())
  )

/** Waits (real time, bounded) until `received` holds an event that satisfies `found`. */
const until = (received: ReadonlyArray<Received>, found: (event: Received) => boolean) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100 && !received.some(found); i++) yield* realSleep(20)
    return received.some(found)
  })

const aboutSandbox = (id: string, name: string, newState?: string) => (event: Received) => {
  if (event.name !== name) return false
  const data = event.data as { id?: string; sandbox?: { id?: string }; newState?: string }
  return (data.id ?? data.sandbox?.id) === id && (newState === undefined || data.newState === newState)
}

describe("Daytona's event gateway (Socket.IO)", () => {
  it.scoped("sends the organization's sandbox events to a client authenticated with the API key", () =>
    Effect.gen(function* () {
      const { client, server } = yield* serve(yield* tempDir)
      const key = Redacted.value(server.apiKey)
      const listener = yield* connect(server.url, { token: key, query: { organizationId: "local" } })
      assert.strictEqual(listener.outcome, "connected")

      const created = asSandbox(yield* call(client, "POST", "/api/sandbox", {}))
      assert.isTrue(yield* until(listener.received, aboutSandbox(created.id, "sandbox.created")))
      yield* advance("1 second")
      yield* call(client, "GET", `/api/sandbox/${created.id}`)
      assert.isTrue(
        yield* until(listener.received, aboutSandbox(created.id, "sandbox.state.updated", "started")),
        JSON.stringify(listener.received.map((e) => e.name))
      )
      yield* call(client, "POST", `/api/sandbox/${created.id}/stop`)
      assert.isTrue(yield* until(listener.received, aboutSandbox(created.id, "sandbox.desired-state.updated")))
      assert.strictEqual(yield* settleTo(client, created.id, "stopped"), "stopped")
      assert.isTrue(yield* until(listener.received, aboutSandbox(created.id, "sandbox.state.updated", "stopped")))

      const volume = yield* call(client, "POST", "/api/volumes", { name: "events-volume" })
      const volumeId = (volume.body as { id: string }).id
      assert.isTrue(
        yield* until(
          listener.received,
          (event) => event.name === "volume.created" && (event.data as { id?: string }).id === volumeId
        )
      )
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("attack: no token, a wrong token or another organization is refused and receives nothing", () =>
    Effect.gen(function* () {
      const { anonymous, client, server } = yield* serve(yield* tempDir)
      const key = Redacted.value(server.apiKey)
      const refused = [
        yield* connect(server.url, {}),
        yield* connect(server.url, { token: "" }),
        yield* connect(server.url, { token: `${key}x` }),
        yield* connect(server.url, { token: key.slice(0, -1) }),
        yield* connect(server.url, { token: key, query: { organizationId: "another-organization" } })
      ]
      for (const attempt of refused) assert.strictEqual(attempt.outcome, "refused: Unauthorized")
      const polling = yield* connect(server.url, { token: key, polling: true })
      assert.notStrictEqual(polling.outcome, "connected")

      const created = asSandbox(yield* call(client, "POST", "/api/sandbox", {}))
      yield* advance("1 second")
      yield* call(client, "GET", `/api/sandbox/${created.id}`)
      yield* realSleep(300)
      for (const attempt of [...refused, polling]) assert.deepStrictEqual(attempt.received, [])

      // Plain HTTP on the gateway's path is answered by the gateway (a 4xx), never a 5xx or a hang.
      for (const query of ["?EIO=4&transport=polling", "?EIO=3&transport=websocket", ""]) {
        const answer = yield* raw(anonymous, HttpClientRequest.get(`/api/socket.io/${query}`))
        assert.isTrue(answer.status >= 400 && answer.status < 500, `${query}: ${answer.status}`)
      }
    }).pipe(Effect.provide(clientLayer))
  )
})
