import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import type * as Duration from "effect/Duration"
import * as NodeFs from "node:fs/promises"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as LocalDaytona from "../src/LocalDaytona.js"
import type * as LocalConfig from "../src/LocalConfig.js"

/** A fresh temporary data directory, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.promise(() => NodeFs.mkdtemp(NodePath.join(NodeOs.tmpdir(), "daytona-local-test-"))),
  (dir) => Effect.promise(() => NodeFs.rm(dir, { recursive: true, force: true }))
)

export const testTimings = {
  create: "1 second",
  build: "2 seconds",
  start: "1 second",
  stop: "1 second",
  archive: "1 second",
  restore: "1 second",
  destroy: "1 second",
  resize: "1 second"
} as const

/** Options for a test server: no start wait, so TestClock drives every transition. */
export const testOptions = (dataDir: string, extra: LocalConfig.Options = {}): LocalConfig.Options => ({
  dataDir,
  apiKey: "test-key",
  isolation: "none",
  timings: testTimings,
  startWait: 0,
  ...extra
})

/** Starts a server in the test's scope and returns a client bound to it with the key set. */
export const serve = (dataDir: string, extra: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const server = yield* LocalDaytona.make(testOptions(dataDir, extra))
    const client = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url)),
      HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(server.apiKey)))
    )
    return { server, client }
  })

export type Client = HttpClient.HttpClient

export interface Answer {
  readonly status: number
  readonly body: any
}

const answer = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(response.text, (text): Answer => ({ status: response.status, body: text === "" ? undefined : JSON.parse(text) }))

export const call = (client: Client, method: "GET" | "POST" | "PUT" | "DELETE", path: string, body?: unknown) =>
  Effect.gen(function* () {
    let request = HttpClientRequest.make(method)(path)
    if (body !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, body)
    return yield* client.execute(request).pipe(Effect.flatMap(answer))
  }).pipe(Effect.scoped, Effect.orDie)

export const raw = (client: Client, request: HttpClientRequest.HttpClientRequest) =>
  client.execute(request).pipe(Effect.flatMap(answer), Effect.scoped, Effect.orDie)

export const clientLayer = NodeHttpClient.layerUndici

/** Advances the TestClock by `duration`. */
export const advance = (duration: Duration.DurationInput) => TestClock.adjust(duration)

/**
 * Awaits a fiber whose work sleeps on the TestClock after real I/O: keeps advancing the clock by
 * `step` while letting the event loop run, until the fiber is done.
 */
export const driveUntilDone = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, step: Duration.DurationInput) =>
  Effect.gen(function* () {
    while (true) {
      const done = yield* Fiber.poll(fiber)
      if (done._tag === "Some") return yield* Fiber.join(fiber)
      yield* TestClock.adjust(step)
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
    }
  })

export const layer = Layer.empty
