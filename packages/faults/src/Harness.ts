/**
 * The local Daytona server on a real socket behind a {@link FaultProxy}: the server's public URL is
 * the proxy's, so both the control plane and every sandbox's `toolboxProxyUrl` go through the
 * proxy. The SDK is configured against the proxy; the server can also be asked directly (past the
 * proxy) what sandboxes exist.
 *
 * @since 0.1.0
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import type * as DaytonaClient from "@effect-daytona/sdk/DaytonaClient"
import type * as DaytonaConfig from "@effect-daytona/sdk/DaytonaConfig"
import type { MissingCredentialsError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import type * as ToolboxClient from "@effect-daytona/sdk/ToolboxClient"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as LocalConfig from "@effect-daytona/local/LocalConfig"
import * as LocalDaytona from "@effect-daytona/local/LocalDaytona"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as NodeFs from "node:fs"
import * as NodeHttp from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { WebSocket } from "ws"
import * as FaultProxy from "./FaultProxy.js"

/**
 * A sandbox as the server reports it when asked directly.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerSandbox {
  readonly id: string
  readonly state: string
  readonly labels: Readonly<Record<string, string>>
}

/**
 * The SDK's settings a case may choose; credentials and URL are the harness's.
 *
 * @since 0.1.0
 * @category models
 */
export type SdkOptions = Omit<DaytonaConfig.Options, "apiKey" | "apiUrl" | "jwtToken" | "organizationId">

/**
 * What the SDK under test needs, all provided by {@link Harness.sdk}.
 *
 * @since 0.1.0
 * @category models
 */
export type SdkServices =
  | Daytona.Daytona
  | DaytonaClient.DaytonaClient
  | ToolboxClient.ToolboxClient
  | DaytonaConfig.DaytonaConfig
  | WebSocketConnector.WebSocketConnector

/**
 * @since 0.1.0
 * @category models
 */
export interface Harness {
  readonly proxy: FaultProxy.FaultProxy
  /** The server's own URL (past the proxy). */
  readonly serverUrl: string
  /** The key the server accepts; the secret no output may show. */
  readonly apiKey: string
  /**
   * The SDK against the proxy, with `ws` as its WebSocket connector. `headers` are added to every
   * request and upgrade it sends (a run's tag, which a proxy policy can read).
   */
  readonly sdk: (
    options?: SdkOptions,
    extra?: { readonly headers?: Readonly<Record<string, string>> | undefined }
  ) => Layer.Layer<SdkServices, MissingCredentialsError | ValidationError>
  /** Every sandbox the server lists (every state, errored-and-deleted included), asked directly. */
  readonly listDirect: (labels?: Readonly<Record<string, string>>) => Effect.Effect<ReadonlyArray<ServerSandbox>>
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Each lifecycle transition's time; default 5 ms. */
  readonly transition?: Duration.DurationInput | undefined
}

const tempDir = Effect.acquireRelease(
  Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "effect-daytona-faults-"))),
  (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
)

const fetchJson = (url: string, apiKey: string): Effect.Effect<unknown> =>
  Effect.tryPromise({
    try: (signal) =>
      fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal }).then(async (response) => {
        if (!response.ok) throw new Error(`GET ${new URL(url).pathname} answered ${response.status}`)
        return (await response.json()) as unknown
      }),
    catch: (cause) => cause
  }).pipe(Effect.orDie)

/**
 * Starts the server (real engine, no isolation, short transitions) and the proxy in front of it
 * for the lifetime of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<Harness, LocalDaytona.StartError, Scope.Scope> =>
  Effect.gen(function* () {
    const dataDir = yield* tempDir
    const proxy = yield* FaultProxy.make
    const apiKey = LocalConfig.generateApiKey()
    const transition = options.transition ?? Duration.millis(5)
    const config = LocalConfig.make({
      dataDir,
      apiKey,
      isolation: "none",
      timings: {
        create: transition,
        build: transition,
        start: transition,
        stop: transition,
        archive: transition,
        restore: transition,
        destroy: transition,
        resize: transition
      },
      startWait: Duration.seconds(5),
      lifecycleInterval: Duration.minutes(10)
    })
    const services = yield* Layer.build(LocalDaytona.layerServices(config, proxy.url))
    const serverContext = yield* Layer.build(
      NodeHttpServer.layer(() => NodeHttp.createServer(), { port: 0, host: "127.0.0.1" })
    )
    const server = Context.get(serverContext, HttpServer.HttpServer)
    yield* server.serve(LocalDaytona.app).pipe(Effect.provide(services))
    const address = server.address
    const serverUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : "http://127.0.0.1"
    yield* proxy.setUpstream(serverUrl)

    const listDirect: Harness["listDirect"] = (labels) =>
      Effect.gen(function* () {
        const all: Array<ServerSandbox> = []
        let cursor: string | null = null
        do {
          const query = new URLSearchParams({ limit: "200", includeErroredDeleted: "true" })
          if (labels !== undefined) query.set("labels", JSON.stringify(labels))
          if (cursor !== null) query.set("cursor", cursor)
          const page = (yield* fetchJson(`${serverUrl}/api/sandbox?${query.toString()}`, apiKey)) as {
            readonly items: ReadonlyArray<ServerSandbox>
            readonly nextCursor: string | null
          }
          all.push(...page.items.map((item) => ({ id: item.id, state: item.state, labels: item.labels })))
          cursor = page.nextCursor === "" ? null : page.nextCursor
        } while (cursor !== null)
        return all
      })

    return {
      proxy,
      serverUrl,
      apiKey,
      sdk: (sdkOptions = {}, extra = {}) => {
        const headers = extra.headers ?? {}
        const tagged = Layer.effect(
          HttpClient.HttpClient,
          Effect.map(HttpClient.HttpClient, HttpClient.mapRequest(HttpClientRequest.setHeaders(headers)))
        ).pipe(Layer.provide(NodeHttpClient.layerUndici))
        const connect = WebSocketConnector.fromClass(WebSocket)
        return Layer.merge(
          Daytona.layer({ ...sdkOptions, apiKey: Redacted.make(apiKey), apiUrl: `${proxy.url}/api` }).pipe(
            Layer.provide(tagged)
          ),
          Layer.succeed(WebSocketConnector.WebSocketConnector, (url, options) =>
            connect(url, { ...options, headers: { ...options.headers, ...headers } })
          )
        )
      },
      listDirect
    }
  })
