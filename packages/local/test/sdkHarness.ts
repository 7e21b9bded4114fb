import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Daytona from "@effect-daytona/sdk/Daytona"
import type * as Sandbox from "@effect-daytona/sdk/Sandbox"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodePath from "node:path"
import * as LocalDaytona from "../src/LocalDaytona.js"
import type * as LocalConfig from "../src/LocalConfig.js"
import { tempDir } from "./utils.js"

const fast = "5 millis"

/**
 * A local server on a free port with real (short) transition times, our SDK pointed at it, and one
 * started sandbox. For `it.live` tests that go through real HTTP end to end.
 */
export const sdkSandbox = (extra: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const server = yield* LocalDaytona.make({
      dataDir: dir,
      apiKey: "test-key",
      isolation: "none",
      timings: {
        create: fast,
        build: fast,
        start: fast,
        stop: fast,
        archive: fast,
        restore: fast,
        destroy: fast,
        resize: fast
      },
      startWait: "5 seconds",
      ...extra
    })
    const context = yield* Layer.build(
      Daytona.layer({ apiKey: server.apiKey, apiUrl: server.apiUrl, requestTimeout: "60 seconds" }).pipe(
        Layer.provide(NodeHttpClient.layerUndici)
      )
    )
    const daytona = Context.get(context, Daytona.Daytona)
    const sandbox: Sandbox.Sandbox = yield* daytona.create().pipe(Effect.orDie)
    const home = NodePath.join(dir, "sandboxes", sandbox.id, "home")
    return { dir, server, daytona, sandbox, home }
  })

/** Runs an effect and returns its failure, dying if it succeeds. */
export const failureOf = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flip(self).pipe(Effect.orDieWith(() => new Error("expected a failure")))
