/**
 * The example backend's server, built from its `HttpApi` declaration: handlers over the
 * `CodeRunner` and `Sessions` services, both served from one `SandboxPool`, and the OpenAPI
 * document at `GET /openapi.json`. Provide an `HttpServer`, the SDK's `Daytona` and a
 * `WebSocketConnector` (followed logs); releasing the layer stops the server, closes every session
 * and deletes every pooled sandbox.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Daytona from "@effect-daytona/sdk/Daytona"
import type { ValidationError } from "@effect-daytona/sdk/DaytonaError"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import { WebSocketConnector } from "@effect-daytona/sdk/WebSocketConnector"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as CodeRunner from "./CodeRunner.js"
import * as PrometheusText from "./PrometheusText.js"
import { RunApi } from "./RunApi.js"
import * as Sessions from "./Sessions.js"

/** One server-sent event. */
const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`

const sse = (item: Sessions.StreamEvent): string => {
  switch (item._tag) {
    case "Stdout":
      return event("stdout", item.text)
    case "Stderr":
      return event("stderr", item.text)
    case "Exit":
      return event("exit", { exitCode: item.exitCode })
    case "Timeout":
      return event("timeout", { message: "the command did not end within its deadline; the session is closed" })
  }
}

const RunGroupLive = HttpApiBuilder.group(RunApi, "run", (handlers) =>
  Effect.gen(function* () {
    const runner = yield* CodeRunner.CodeRunner
    const sessions = yield* Sessions.Sessions
    const connector = yield* WebSocketConnector
    return handlers
      .handle("run", ({ payload }) => runner.run(payload))
      .handle("createSession", ({ payload }) => sessions.open(payload.language))
      .handle("exec", ({ path, payload }) => sessions.exec(path.sessionId, payload))
      .handle("stream", ({ path, payload }) =>
        Effect.map(sessions.stream(path.sessionId, payload), (events) =>
          HttpServerResponse.stream(
            events.pipe(
              Stream.map(sse),
              Stream.catchAll((error) => Stream.make(event("error", { message: error.message }))),
              Stream.provideService(WebSocketConnector, connector),
              Stream.encodeText
            ),
            { contentType: "text/event-stream", headers: { "cache-control": "no-cache" } }
          )
        )
      )
      .handle("closeSession", ({ path }) => sessions.close(path.sessionId))
  })
)

const OpsGroupLive = HttpApiBuilder.group(RunApi, "ops", (handlers) =>
  handlers
    .handle("health", () => Effect.succeed({ status: "ok" as const }))
    .handle("metrics", () => PrometheusText.render)
)

/** Options of {@link layer}. */
export interface Options {
  readonly pool?: SandboxPool.Options | undefined
  readonly sessions?: Sessions.Options | undefined
}

/**
 * The pool the service uses unless told otherwise: Python and TypeScript sandboxes kept warm, and
 * no sandbox serves two leases (`reuse: false`): the code is untrusted, and whatever one run left in
 * a sandbox (files, processes) must not meet the next. The pool replaces each used sandbox in the
 * background, so a lease still finds a warm one while the load stays under `min` per language.
 */
export const defaultPool: SandboxPool.Options = {
  name: "run-service",
  min: 2,
  max: 10,
  warm: [{ language: "python" }, { language: "typescript" }],
  reuse: false,
  leaseTimeout: "60 seconds"
}

const ApiLive = HttpApiBuilder.api(RunApi).pipe(Layer.provide(RunGroupLive), Layer.provide(OpsGroupLive))

/** The server: `HttpApiBuilder.serve` over the API, its services and the pool. */
export const layer = (
  options: Options = {}
): Layer.Layer<
  never,
  ValidationError,
  HttpServer.HttpServer | HttpRouter.HttpRouter.DefaultServices | Daytona.Daytona | WebSocketConnector
> => {
  const services = Layer.merge(CodeRunner.layer, Sessions.layer(options.sessions)).pipe(
    Layer.provideMerge(SandboxPool.layer(options.pool ?? defaultPool))
  )
  const api = HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide(ApiLive)
  )
  return Layer.provide(api, services)
}
