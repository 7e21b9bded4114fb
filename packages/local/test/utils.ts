import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ApiErrorBody, ToolboxErrorBody } from "@effect-daytona/sdk/ErrorBody"
import { ListSandboxesResponse, SandboxDto } from "@effect-daytona/sdk/SandboxDto"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import * as Duration from "effect/Duration"
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
    const anonymous = (yield* HttpClient.HttpClient).pipe(
      HttpClient.mapRequest(HttpClientRequest.prependUrl(server.url))
    )
    const client = anonymous.pipe(HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(server.apiKey))))
    return { server, client, anonymous }
  })

export type Client = HttpClient.HttpClient

export interface Answer {
  readonly status: number
  readonly body: unknown
}

/** Decodes an answer's body with the SDK's schema, so every test also checks the wire contract. */
export const decode =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (answer: Answer): A =>
    Schema.decodeUnknownSync(schema)(answer.body)

export const asSandbox = decode(SandboxDto)
export const asApiError = decode(ApiErrorBody)
export const asToolboxError = decode(ToolboxErrorBody)
export const asList = decode(ListSandboxesResponse)
export const asExecute = decode(Schema.Struct({ exitCode: Schema.Number, result: Schema.String }))

const answer = (response: HttpClientResponse.HttpClientResponse) =>
  Effect.map(
    response.text,
    (text): Answer => ({ status: response.status, body: text === "" ? undefined : JSON.parse(text) })
  )

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
 * Advances the TestClock in steps, letting the server's background fibers (which do real I/O
 * between their sleeps) catch up after each step.
 */
export const advanceInSteps = (total: Duration.DurationInput, step: Duration.DurationInput) =>
  Effect.gen(function* () {
    const steps = Math.ceil(Duration.toMillis(total) / Duration.toMillis(step))
    for (let i = 0; i < steps; i++) {
      yield* TestClock.adjust(step)
      for (let j = 0; j < 5; j++) yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
    }
  })

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

/**
 * The text of a file a sandbox's process writes, once it exists: real processes start at their own
 * pace, so a test reads what they wrote before it advances the TestClock past their deadline.
 */
export const fileWritten = (path: string, millis = 30_000) =>
  Effect.promise(async () => {
    const deadline = Date.now() + millis
    while (true) {
      const text = await NodeFs.readFile(path, "utf8").catch(() => undefined)
      if (text !== undefined && text.endsWith("\n")) return text
      if (Date.now() > deadline) throw new Error(`${path} was not written within ${millis} ms`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

/** Creates a sandbox and advances the clock until it has started. */
export const createStarted = (client: Client, body: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const created = asSandbox(yield* call(client, "POST", "/api/sandbox", body))
    yield* advance("1 second")
    return asSandbox(yield* call(client, "GET", `/api/sandbox/${created.id}`))
  })

export const state = (client: Client, id: string) =>
  Effect.map(call(client, "GET", `/api/sandbox/${id}`), (a) => asSandbox(a).state)
