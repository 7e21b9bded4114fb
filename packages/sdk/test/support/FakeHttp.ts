import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { assert } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Daytona from "../../src/Daytona.js"
import * as DaytonaClient from "../../src/DaytonaClient.js"
import * as DaytonaConfig from "../../src/DaytonaConfig.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"
import * as Sandbox from "../../src/Sandbox.js"
import { SandboxDto } from "../../src/SandboxDto.js"
import * as ToolboxClient from "../../src/ToolboxClient.js"

/** What the fake transport saw of one request. */
export interface CapturedRequest {
  readonly method: string
  readonly url: URL
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** How the fake answers one request; `cut` ends the body half way with an error (a dropped connection). */
export type Reply =
  | {
      readonly status: number
      readonly body?: unknown
      readonly headers?: Readonly<Record<string, string>>
      readonly cut?: boolean
    }
  | { readonly transportError: "refused" | "reset" }
  | { readonly hang: true }

export type Handler = (request: CapturedRequest, index: number) => Reply

/** A body that delivers its first half, then fails as a dropped connection does. */
const cutHalfWay = (bytes: Uint8Array) => {
  let sent = false
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true
        controller.enqueue(bytes.subarray(0, Math.floor(bytes.length / 2)))
      } else controller.error(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))
    }
  })
}

/** The API key the fakes are configured with. */
export const apiKey = "dtn_test_key_0123456789abcdef"
export const apiUrl = "https://daytona.test/api"
export const toolboxProxyUrl = "https://proxy.daytona.test/toolbox"

const readBody = (request: HttpClientRequest.HttpClientRequest): unknown => {
  const body = request.body
  if (body._tag === "Uint8Array") {
    const text = new TextDecoder().decode(body.body)
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return body._tag === "Empty" ? undefined : `<${body._tag}>`
}

const capture = (request: HttpClientRequest.HttpClientRequest, url: URL): CapturedRequest => ({
  method: request.method,
  url,
  path: url.pathname,
  query: [...url.searchParams.entries()],
  headers: request.headers,
  body: readBody(request)
})

/**
 * A fake `HttpClient` that records every request in `requests` and answers with `handler`.
 * `refused` fails before the request is sent (ECONNREFUSED); `reset` after (ECONNRESET).
 */
export const makeFake = (handler: Handler) =>
  Effect.gen(function* () {
    const requests = yield* Ref.make<ReadonlyArray<CapturedRequest>>([])
    const client = HttpClient.make((request, url) =>
      Effect.gen(function* () {
        const captured = capture(request, url)
        const all = yield* Ref.updateAndGet(requests, (list) => [...list, captured])
        const reply = handler(captured, all.length - 1)
        if ("hang" in reply) return yield* Effect.never
        if ("transportError" in reply) {
          const code = reply.transportError === "refused" ? "ECONNREFUSED" : "ECONNRESET"
          return yield* Effect.fail(
            new HttpClientError.RequestError({
              request,
              reason: "Transport",
              cause: Object.assign(new Error(`connect ${code}`), { code })
            })
          )
        }
        const text =
          reply.body === undefined ? null : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body)
        const body = reply.cut === true ? cutHalfWay(new TextEncoder().encode(text ?? "")) : text
        return HttpClientResponse.fromWeb(
          request,
          new Response(body, {
            status: reply.status,
            headers: { "content-type": "application/json", ...reply.headers }
          })
        )
      })
    )
    return { client, requests: Ref.get(requests) }
  })

/** The Daytona service over a fake transport, with retries off unless a policy is given. */
export const layerWith = (client: HttpClient.HttpClient, options: Partial<DaytonaConfig.Options> = {}) =>
  Daytona.layer({
    apiKey: Redacted.make(apiKey),
    apiUrl,
    retryPolicy: RetryPolicy.none,
    ...options
  }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))

/** A snapshot as `GET /snapshots/{id}` answers it (an active one), with `overrides` applied. */
export const snapshotDto = (overrides: Record<string, unknown> = {}) => ({
  id: "5f0c2a9e-1b7d-4c3e-9a21-7d6b8e4f1a20",
  organizationId: "org-1",
  general: false,
  name: "py-box:1.0",
  imageName: "python:3.12-slim",
  state: "active",
  size: 0.42,
  entrypoint: ["sleep", "infinity"],
  cpu: 2,
  gpu: 0,
  mem: 4,
  disk: 8,
  errorReason: null,
  createdAt: "2026-11-29T12:00:00.000Z",
  updatedAt: "2026-11-29T12:00:00.000Z",
  lastUsedAt: null,
  regionIds: ["us"],
  initialRunnerId: "runner-1",
  ref: "registry.test/snap@sha256:abc",
  sandboxClass: "container",
  ...overrides
})

/** A full Sandbox DTO as the control plane returns it. */
export const sandboxDto = (overrides: Record<string, unknown> = {}) => ({
  id: "sb-1",
  organizationId: "org-1",
  name: "sb-1",
  snapshot: "daytona-small",
  user: "daytona",
  env: {},
  labels: { "code-toolbox-language": "python" },
  public: false,
  networkBlockAll: false,
  target: "us",
  cpu: 1,
  gpu: 0,
  memory: 1,
  disk: 3,
  state: "started",
  desiredState: "started",
  backupState: "None",
  autoStopInterval: 15,
  autoArchiveInterval: 10080,
  autoDeleteInterval: -1,
  createdAt: "2026-11-29T12:00:00.000Z",
  updatedAt: "2026-11-29T12:00:00.000Z",
  toolboxProxyUrl,
  ...overrides
})

/** Daytona's control-plane error body. */
export const errorBody = (statusCode: number, error: string, message: string, path = "/api/sandbox") => ({
  statusCode,
  error,
  message,
  path,
  timestamp: "2026-11-29T12:00:00.000Z"
})

export const header = (request: CapturedRequest, name: string) =>
  Option.fromNullable(request.headers[name.toLowerCase()])

// ---------------------------------------------------------------------------------------------
// Helpers for operation tests (added; the exports above are unchanged).
// ---------------------------------------------------------------------------------------------

/** The Daytona service built over a fake transport (its operations need nothing more). */
export const daytonaOver = (client: HttpClient.HttpClient, options: Partial<DaytonaConfig.Options> = {}) =>
  Effect.provide(Daytona.Daytona, layerWith(client, options))

/** A sandbox handle over a fake transport, made from a DTO without any request. */
export const handleOver = (
  client: HttpClient.HttpClient,
  dto: Record<string, unknown> = sandboxDto(),
  options: Partial<DaytonaConfig.Options> = {}
) =>
  Effect.gen(function* () {
    const services = yield* Effect.all({
      client: DaytonaClient.DaytonaClient,
      toolbox: ToolboxClient.ToolboxClient
    }).pipe(Effect.provide(layerWith(client, options)))
    const decoded = yield* Schema.decodeUnknown(SandboxDto)(dto).pipe(Effect.orDie)
    return Sandbox.make(decoded, services)
  })

/** A list item as `GET /sandbox` returns it: no env, network settings, volumes or build info. */
export const sandboxListItem = (overrides: Record<string, unknown> = {}) => {
  const { env: _env, networkBlockAll: _networkBlockAll, ...item } = sandboxDto(overrides)
  return item
}

/** A Sandbox DTO in which every attribute is set to a value different from `sandboxDto()`'s. */
export const fullSandboxDto = () =>
  sandboxDto({
    id: "7c1e4a52-0d6f-4a8e-9a57-3b1f2f0c9d11",
    organizationId: "org-42",
    name: "analysis-box",
    snapshot: "daytonaio/sandbox:0.5.0",
    user: "runner",
    env: { PYTHONUNBUFFERED: "1", MODE: "test" },
    labels: { "code-toolbox-language": "typescript", team: "data" },
    public: true,
    target: "eu",
    cpu: 4,
    gpu: 1,
    gpuType: "H100",
    memory: 8,
    disk: 20,
    state: "stopped",
    desiredState: "stopped",
    errorReason: "previous start failed",
    recoverable: true,
    backupState: "Completed",
    backupCreatedAt: "2026-11-28T08:30:00.000Z",
    autoStopInterval: 30,
    autoArchiveInterval: 1440,
    autoDeleteInterval: 120,
    volumes: [{ volumeId: "vol-1", mountPath: "/data", subpath: "team/data" }],
    buildInfo: {
      dockerfileContent: "FROM python:3.12-slim\n",
      contextHashes: ["hash-a", "hash-b"],
      createdAt: "2026-11-27T10:00:00.000Z",
      updatedAt: "2026-11-27T10:05:00.000Z",
      snapshotRef: "registry.test/snap@sha256:abc"
    },
    createdAt: "2026-11-27T09:00:00.000Z",
    updatedAt: "2026-11-29T13:00:00.000Z",
    lastActivityAt: "2026-11-29T12:59:00.000Z",
    networkBlockAll: true,
    networkAllowList: "10.0.0.0/8,192.168.1.0/24",
    domainAllowList: "*.example.com",
    sandboxClass: "container",
    daemonVersion: "0.190.0",
    runnerId: "runner-7",
    linkedSandboxId: "sb-parent"
  })

/** Every value of one query parameter, in order. */
export const queryValues = (request: CapturedRequest, name: string): ReadonlyArray<string> =>
  request.query.filter(([key]) => key === name).map(([, value]) => value)

/** The `labels` list filter of a request, parsed from its JSON string. */
export const labelsFilter = (request: CapturedRequest): Readonly<Record<string, string>> | undefined => {
  const raw = queryValues(request, "labels")[0]
  return raw === undefined ? undefined : (JSON.parse(raw) as Record<string, string>)
}

/** The create-id label a `POST /sandbox` carried. */
export const createIdOf = (request: CapturedRequest): string | undefined => {
  const body = request.body
  if (typeof body !== "object" || body === null || !("labels" in body)) return undefined
  const labels = body.labels
  if (typeof labels !== "object" || labels === null) return undefined
  const value = (labels as Record<string, unknown>)[Daytona.createIdLabel]
  return typeof value === "string" ? value : undefined
}

/** What a request is expected to be; `query` and `body` are compared exactly when given. */
export interface ExpectedRequest {
  readonly method: string
  /** The full URL's origin and path, or just the path (then the origin must be the API's). */
  readonly path: string
  readonly query?: ReadonlyArray<readonly [string, string]>
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string | undefined>>
}

/** Asserts one captured request: method, origin + path, exact query, exact JSON body, headers. */
export const assertRequest = (request: CapturedRequest | undefined, expected: ExpectedRequest) => {
  assert.isDefined(request, `expected a ${expected.method} ${expected.path} request`)
  if (request === undefined) return
  const where = `${expected.method} ${expected.path}`
  assert.strictEqual(request.method, expected.method, `${where}: method`)
  if (expected.path.startsWith("http")) {
    assert.strictEqual(`${request.url.origin}${request.url.pathname}`, expected.path, `${where}: URL`)
  } else {
    assert.strictEqual(request.url.origin, new URL(apiUrl).origin, `${where}: origin`)
    assert.strictEqual(request.path, expected.path, `${where}: path`)
  }
  assert.deepStrictEqual(request.query, expected.query ?? [], `${where}: query`)
  if ("body" in expected) assert.deepStrictEqual(request.body, expected.body, `${where}: body`)
  for (const [name, value] of Object.entries(expected.headers ?? {})) {
    assert.strictEqual(request.headers[name.toLowerCase()], value, `${where}: header ${name}`)
  }
}

/** The headers every request of the SDK carries (API-key mode). */
export const standardHeaders: Readonly<Record<string, string | undefined>> = {
  authorization: `Bearer ${apiKey}`,
  "x-daytona-source": "effect-daytona",
  "x-daytona-sdk-version": "0.190.0",
  "user-agent": "effect-daytona/0.1.0",
  "x-daytona-organization-id": undefined
}

/** Advances the TestClock in steps, so that work scheduled by each wake-up gets to run. */
export const advance = (total: Duration.DurationInput, step: Duration.DurationInput = "100 millis") =>
  Effect.gen(function* () {
    const steps = Math.ceil(Duration.toMillis(total) / Duration.toMillis(step))
    for (let i = 0; i < steps; i++) yield* TestClock.adjust(step)
  })

/**
 * Advances the TestClock step by step until `fiber` is done (at most `max` of virtual time), so
 * that a poll whose sleep starts after a real-async step (reading a fake response) still wakes.
 * Fails the test if the fiber is still running after `max`.
 */
export const settle = <A, E>(
  fiber: Fiber.Fiber<A, E>,
  options: { readonly step?: Duration.DurationInput; readonly max?: Duration.DurationInput } = {}
) =>
  Effect.gen(function* () {
    const step = Duration.toMillis(options.step ?? "100 millis")
    const max = Duration.toMillis(options.max ?? "2 minutes")
    for (let elapsed = 0; elapsed <= max; elapsed += step) {
      if (Option.isSome(yield* Fiber.poll(fiber))) return
      yield* TestClock.adjust(step)
    }
    if (Option.isNone(yield* Fiber.poll(fiber)))
      assert.fail(`the fiber was still running after ${max} ms of TestClock time`)
  })

/** Interrupts `fiber` without waiting, drives the clock while its finalisers run, and returns its exit. */
export const interruptAndSettle = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function* () {
    yield* Fiber.interruptFork(fiber)
    yield* settle(fiber)
    return yield* Fiber.await(fiber)
  })
