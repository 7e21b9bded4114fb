/**
 * Spike: can `@effect/platform`'s HttpApi carry Daytona's contract on both sides?
 *
 * Three endpoints (getSandbox, createSandbox, the toolbox's executeCommand) declared with
 * `HttpApiEndpoint`, served with `HttpApiBuilder` and called with `HttpApiClient`, against what the
 * SDK and the local server must do. Run: `pnpm tsx scripts/spikes/httpApi.ts`. It prints what it saw.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { createServer } from "node:http"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Console, Effect, Layer, Schema } from "effect"

class DaytonaNotFound extends Schema.Class<DaytonaNotFound>("DaytonaNotFound")(
  { statusCode: Schema.Literal(404), message: Schema.String, error: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

const Sandbox = Schema.Struct({ id: Schema.String, name: Schema.String, state: Schema.String })
const CreateSandbox = Schema.Struct({
  name: Schema.optional(Schema.String.pipe(Schema.maxLength(63))),
  labels: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
})

const sandbox = HttpApiGroup.make("sandbox")
  .add(
    HttpApiEndpoint.get("getSandbox", "/sandbox/:sandboxIdOrName")
      .setPath(Schema.Struct({ sandboxIdOrName: Schema.String }))
      .addSuccess(Sandbox)
      .addError(DaytonaNotFound)
  )
  .add(HttpApiEndpoint.post("createSandbox", "/sandbox").setPayload(CreateSandbox).addSuccess(Sandbox))
const toolbox = HttpApiGroup.make("process").add(
  HttpApiEndpoint.post("executeCommand", "/:sandboxId/process/execute")
    .setPath(Schema.Struct({ sandboxId: Schema.String }))
    .setPayload(Schema.Struct({ command: Schema.String, timeout: Schema.optional(Schema.Number) }))
    .addSuccess(Schema.Struct({ exitCode: Schema.Number, result: Schema.String }))
)
const api = HttpApi.make("daytona").add(sandbox.prefix("/api")).add(toolbox.prefix("/toolbox"))

let attempts = 0
const sandboxHandlers = HttpApiBuilder.group(api, "sandbox", (handlers) =>
  handlers
    .handle("getSandbox", ({ path }) =>
      path.sandboxIdOrName === "missing"
        ? Effect.fail(new DaytonaNotFound({ statusCode: 404, message: "Sandbox not found", error: "Not Found" }))
        : Effect.succeed({ id: path.sandboxIdOrName, name: "n", state: "started" })
    )
    .handle("createSandbox", ({ payload }) =>
      Effect.succeed({ id: "new", name: payload.name ?? "x", state: "started" })
    )
)
const processHandlers = HttpApiBuilder.group(api, "process", (handlers) =>
  handlers.handle("executeCommand", ({ payload }) =>
    Effect.sync(() => ({ exitCode: 0, result: `ran ${payload.command} (attempt ${++attempts})` }))
  )
)

const server = HttpApiBuilder.serve().pipe(
  Layer.provide(HttpApiBuilder.api(api).pipe(Layer.provide(Layer.mergeAll(sandboxHandlers, processHandlers)))),
  Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0 }))
)

const program = Effect.gen(function* () {
  const address = (yield* HttpServer.HttpServer).address
  const base = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  const client = yield* HttpApiClient.make(api, { baseUrl: base })
  const raw = yield* HttpClient.HttpClient

  yield* Console.log("1. 404 declared as a Daytona-shaped error:")
  yield* Console.log(yield* Effect.either(client.sandbox.getSandbox({ path: { sandboxIdOrName: "missing" } })))

  yield* Console.log(
    "2. Body the server answers for an invalid payload (Daytona: {statusCode:400,message:[...],error}):"
  )
  const bad = yield* raw
    .execute(HttpClientRequest.bodyText(HttpClientRequest.post(`${base}/api/sandbox`), "{", "application/json"))
    .pipe(Effect.flatMap((r) => Effect.map(r.text, (text) => `malformed JSON → ${r.status} ${JSON.stringify(text)}`)))
  yield* Console.log(bad)
  const tooLong = yield* raw
    .execute(
      HttpClientRequest.bodyUnsafeJson(HttpClientRequest.post(`${base}/api/sandbox`), {
        name: "x".repeat(80),
        labels: { a: 1 }
      })
    )
    .pipe(Effect.flatMap((r) => Effect.map(r.text, (text) => `two invalid fields → ${r.status} ${text}`)))
  yield* Console.log(tooLong)

  yield* Console.log("3. Toolbox: the sandbox id is a path param of every call; the base URL is fixed per client:")
  yield* Console.log(
    yield* client.process.executeCommand({ path: { sandboxId: "abc" }, payload: { command: "echo hi" } })
  )
})

Effect.runPromise(
  program.pipe(Effect.provide(Layer.mergeAll(server, NodeHttpClient.layerUndici)), Effect.scoped) as Effect.Effect<void>
).then(
  () => process.exit(0),
  (e) => (console.error(e), process.exit(1))
)
