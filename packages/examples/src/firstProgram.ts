import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Daytona } from "@effect-daytona/sdk"
import { Console, Effect } from "effect"

const program = Effect.gen(function* () {
  const daytona = yield* Daytona.Daytona
  const sandbox = yield* daytona.createScoped({ language: "python", labels: { team: "docs" } })
  yield* Console.log(`sandbox ${sandbox.id} is ${sandbox.state}`)
  yield* Console.log(`home: ${yield* sandbox.getUserHomeDir}`)
  const link = yield* sandbox.getPreviewLink(3000)
  yield* Console.log(`preview: ${link.url}`)
}) // the sandbox is deleted here: on success, failure or interruption

program.pipe(
  Effect.scoped,
  Effect.provide(Daytona.layerConfig()), // DAYTONA_API_KEY, DAYTONA_API_URL, …
  Effect.provide(NodeHttpClient.layerUndici),
  NodeRuntime.runMain
)
