/**
 * The project's main job (`pnpm quickstart`): the quickstart workflow against the local server
 * started in this process, or against real Daytona when `DAYTONA_API_URL` is set (with
 * `DAYTONA_API_KEY`). The sandbox is created in a scope, so it is deleted however the program
 * ends, Ctrl-C included.
 */

import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as LocalDaytonaConfig from "@effect-daytona/local/LocalDaytonaConfig"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as NodeUploadBody from "@effect-daytona/sdk/NodeUploadBody"
import { main } from "./workflows/quickstart.js"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

const useRealDaytona = (process.env["DAYTONA_API_URL"] ?? "").trim() !== ""

/** The local server in this process, with a data directory of its own that is removed afterwards. */
const localDaytona = Layer.unwrapScoped(
  Effect.gen(function* () {
    const dataDir = yield* Effect.acquireRelease(
      Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "daytona-quickstart-"))),
      (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
    )
    return LocalDaytonaConfig.layer({ dataDir, startWait: "5 seconds" })
  })
)

const target: Layer.Layer<Daytona.Daytona, unknown, HttpClient.HttpClient> = useRealDaytona
  ? Daytona.layerConfig()
  : Daytona.layerWithoutConfig.pipe(Layer.provideMerge(localDaytona))

const daytonaLayer = target.pipe(Layer.provide(NodeHttpClient.layerUndici))

Console.log(
  useRealDaytona
    ? `quickstart against ${process.env["DAYTONA_API_URL"]}`
    : "quickstart against the local server (set DAYTONA_API_URL to use real Daytona)"
).pipe(
  Effect.zipRight(main),
  Effect.provide(daytonaLayer),
  Effect.provide(NodeUploadBody.layer),
  Effect.provide(NodeFileSystem.layer),
  NodeRuntime.runMain
)
