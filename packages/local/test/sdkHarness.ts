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

/** Transition times short enough for tests that wait in real time. */
export const fastTimings = {
  create: "5 millis",
  build: "5 millis",
  start: "5 millis",
  stop: "5 millis",
  archive: "5 millis",
  restore: "5 millis",
  destroy: "5 millis",
  resize: "5 millis"
} as const

/**
 * A local server on a free port in a fresh data directory, with real (short) transition times;
 * `options` override the defaults (key `test-key`, no isolation, creates wait up to 5 s).
 */
export const fastServer = (options: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const dir = yield* tempDir
    const server = yield* LocalDaytona.make({
      dataDir: dir,
      apiKey: "test-key",
      isolation: "none",
      timings: fastTimings,
      startWait: "5 seconds",
      ...options
    })
    return { dir, server }
  })

/**
 * A local server on a free port with real (short) transition times, our SDK pointed at it, and one
 * started sandbox. For `it.live` tests that go through real HTTP end to end.
 */
export const sdkSandbox = (extra: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const { dir, server } = yield* fastServer(extra)
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
