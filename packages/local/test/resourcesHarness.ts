import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as DaytonaConfig from "@effect-daytona/sdk/DaytonaConfig"
import * as Snapshots from "@effect-daytona/sdk/Snapshots"
import * as Volumes from "@effect-daytona/sdk/Volumes"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as LocalConfig from "../src/LocalConfig.js"
import { serve } from "./utils.js"

/**
 * A test server (TestClock-driven transitions) with our SDK's `Snapshots` and `Volumes` pointed at
 * it over real HTTP, plus the raw client of `utils.ts` for checking wire details.
 */
export const serveWithSdk = (dataDir: string, extra: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const served = yield* serve(dataDir, extra)
    const context = yield* Layer.build(
      Layer.mergeAll(Snapshots.layerWithClient, Volumes.layerWithClient).pipe(
        Layer.provide(
          DaytonaConfig.layer({
            apiKey: served.server.apiKey,
            apiUrl: served.server.apiUrl,
            // The TestClock moves in steps while requests are in flight: no request deadline.
            requestTimeout: "1 day"
          })
        ),
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
    return {
      ...served,
      snapshots: Context.get(context, Snapshots.Snapshots),
      volumes: Context.get(context, Volumes.Volumes)
    }
  })
