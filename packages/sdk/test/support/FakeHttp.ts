import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Daytona from "../../src/Daytona.js"
import * as DaytonaConfig from "../../src/DaytonaConfig.js"
import * as RetryPolicy from "../../src/RetryPolicy.js"

/** What the fake transport saw of one request. */
export interface CapturedRequest {
  readonly method: string
  readonly url: URL
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** How the fake answers one request. */
export type Reply =
  | { readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly transportError: "refused" | "reset" }
  | { readonly hang: true }

export type Handler = (request: CapturedRequest, index: number) => Reply

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
        const body = reply.body === undefined ? null : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body)
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
export const layerWith = (
  client: HttpClient.HttpClient,
  options: Partial<DaytonaConfig.Options> = {}
) =>
  Daytona.layer({
    apiKey: Redacted.make(apiKey),
    apiUrl,
    retryPolicy: RetryPolicy.none,
    ...options
  }).pipe(Layer.provide(Layer.succeed(HttpClient.HttpClient, client)))

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
