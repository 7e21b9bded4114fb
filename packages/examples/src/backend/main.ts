/**
 * Starts the example backend (`pnpm --filter @effect-daytona/examples start`): on the local server
 * started in this process, or on real Daytona when `DAYTONA_API_URL` is set (with
 * `DAYTONA_API_KEY`). `PORT` (default 3000), `POOL_MIN`/`POOL_MAX` (sandboxes per language),
 * `OTEL_EXPORTER` (`console` or `otlp`, see `Telemetry.ts`). SIGTERM or Ctrl-C stops the server,
 * closes the sessions and deletes every pooled sandbox before the process exits.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpServer from "@effect/platform/HttpServer"
import * as LocalDaytonaConfig from "@effect-daytona/local/LocalDaytonaConfig"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeFs from "node:fs"
import { createServer } from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import WebSocket from "ws"
import * as RunApiLive from "./RunApiLive.js"
import * as Telemetry from "./Telemetry.js"

const env = process.env
const useRealDaytona = (env["DAYTONA_API_URL"] ?? "").trim() !== ""
const port = Number(env["PORT"] ?? 3000)
const poolSize = (name: string, fallback: number) => {
  const value = env[name]
  return value === undefined || value.trim() === "" ? fallback : Number(value)
}

/** The local server in this process, with a data directory of its own that is removed afterwards. */
const localDaytona = Layer.unwrapScoped(
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "daytona-backend-"))),
      (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
    ),
    (dataDir) => LocalDaytonaConfig.layer({ dataDir, startWait: "5 seconds" })
  )
)

const target: Layer.Layer<Daytona.Daytona, unknown, HttpClient.HttpClient> = useRealDaytona
  ? Daytona.layerConfig()
  : Daytona.layerWithoutConfig.pipe(Layer.provide(localDaytona))

const daytona = target.pipe(Layer.provide(NodeHttpClient.layerUndici))

const server = RunApiLive.layer({
  pool: {
    ...RunApiLive.defaultPool,
    min: poolSize("POOL_MIN", RunApiLive.defaultPool.min ?? 2),
    max: poolSize("POOL_MAX", RunApiLive.defaultPool.max ?? 10)
  }
}).pipe(
  HttpServer.withLogAddress,
  Layer.provide(NodeHttpServer.layer(createServer, { port })),
  Layer.provide(daytona),
  Layer.provide(WebSocketConnector.layer(WebSocket)),
  Layer.provide(Telemetry.layerFromEnv())
)

Effect.log(
  useRealDaytona
    ? `run service on ${env["DAYTONA_API_URL"]}`
    : "run service on the local server (set DAYTONA_API_URL for Daytona)"
).pipe(Effect.zipRight(Layer.launch(server)), NodeRuntime.runMain)
