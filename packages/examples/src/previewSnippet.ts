import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as Effect from "effect/Effect"

/**
 * Serves the sandbox's home over HTTP on `port` and answers the preview link once something
 * listens there. The sandbox, its server and the refreshing that keeps it from auto-stopping all
 * end with the scope.
 */
export const servePreview = (port: number) =>
  Effect.gen(function* () {
    const daytona = yield* Daytona.Daytona
    const sandbox = yield* daytona.createScoped({ language: "python" })
    yield* sandbox.keepActive()
    yield* sandbox.process.runInBackground(`python3 -m http.server ${port}`)
    yield* sandbox.waitUntilPortInUse(port, { timeout: "30 seconds" })
    return yield* sandbox.getPreviewLink(port)
  })
