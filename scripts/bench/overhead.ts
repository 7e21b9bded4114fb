/**
 * `tsx scripts/bench/overhead.ts [--calls <n>] [--rounds <n>] [--only <layer>] [--base <dir>]`: what one small
 * call costs the client in each layer of the SDK, with no network and no server: an `HttpClient`
 * that answers `{"dir":"/home/daytona"}` at once, then the platform client's own wrapper (its span),
 * our transport (headers, per-attempt timeout, replay rules, buffered body), the declared call
 * (request built from the declaration, answer decoded by its schema) and the sandbox method (its span).
 *
 * Prints the CPU time (user + system, `process.cpuUsage`) per call of each layer: the median of
 * `rounds` rounds that interleave the layers, so that a change of the machine's load hits them alike.
 * The difference between two lines is what the layer adds.
 *
 * `--base <dir>` adds the SDK's layers from another checkout's `packages/sdk/src` (e.g. `git archive
 * main packages/sdk tsconfig.base.json | tar -x -C <dir>`) as `base …` lines, run in the same
 * process and the same interleaved rounds: the fairest before/after on a shared machine.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import { existsSync } from "node:fs"
import { symlink } from "node:fs/promises"
import { join, resolve } from "node:path"
import { pathToFileURL } from "node:url"
import * as DaytonaConfig from "../../packages/sdk/src/DaytonaConfig.js"
import * as BufferedResponse from "../../packages/sdk/src/internal/bufferedResponse.js"
import * as Expect from "../../packages/sdk/src/internal/expect.js"
import * as Transport from "../../packages/sdk/src/internal/transport.js"
import * as ToolboxApi from "../../packages/sdk/src/ToolboxApi.js"
import * as ToolboxClient from "../../packages/sdk/src/ToolboxClient.js"
import { median } from "./stats.js"
import { numberOption, optionValue } from "./cli.js"
import { root } from "../package/layout.js"

const calls = numberOption("--calls", 20_000)
const only = optionValue("--only")
const warmup = 2_000
const rounds = numberOption("--rounds", 7)
const baseRoot = optionValue("--base")

const body = JSON.stringify({ dir: "/home/daytona" })
const bytes = new TextEncoder().encode(body)
const template = HttpClientResponse.fromWeb(
  HttpClientRequest.get("http://127.0.0.1/"),
  new Response(body, { status: 200, headers: { "content-type": "application/json" } })
)
/** Answers every request at once with the same small JSON body (read from memory). */
const instant = HttpClient.make((request) =>
  Effect.sync(() =>
    BufferedResponse.make(
      Object.assign(Object.create(template) as HttpClientResponse.HttpClientResponse, { request }),
      bytes
    )
  )
)
const target = { id: "sandbox-1", toolboxProxyUrl: "http://127.0.0.1:1/toolbox" }
const config = DaytonaConfig.layer({ apiKey: Redacted.make("bench-0123456789"), apiUrl: "http://127.0.0.1:1/api" })
const runtime = ManagedRuntime.make(
  Layer.merge(ToolboxClient.layer, config).pipe(
    Layer.provide(config),
    Layer.provide(Layer.succeed(HttpClient.HttpClient, instant))
  )
)

/** The SDK modules a layer is built from: this checkout's, or the base's. */
interface Sdk {
  readonly Transport: typeof Transport
  readonly ToolboxApi: typeof ToolboxApi
  readonly ToolboxClient: typeof ToolboxClient
  readonly Expect: typeof Expect
}

/** The base checkout's SDK, resolving `effect` and the platform to this checkout's copies (one instance). */
const loadBase = async (dir: string): Promise<Sdk> => {
  const base = resolve(dir)
  for (const [from, to] of [
    [join(root, "node_modules"), join(base, "node_modules")],
    [join(root, "packages/sdk/node_modules"), join(base, "packages/sdk/node_modules")]
  ] as const) {
    if (!existsSync(to)) await symlink(from, to)
  }
  const load = (path: string) => import(pathToFileURL(join(base, "packages/sdk/src", path)).href)
  return {
    Transport: await load("internal/transport.ts"),
    ToolboxApi: await load("ToolboxApi.ts"),
    ToolboxClient: await load("ToolboxClient.ts"),
    Expect: await load("internal/expect.ts")
  }
}

/** The SDK's own layers, over the same instant client. */
const sdkLayers = async (
  sdk: Sdk,
  prefix: string
): Promise<ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]>> => {
  const toolbox = await runtime.runPromise(
    sdk.ToolboxClient.make.pipe(Effect.provide(config), Effect.provideService(HttpClient.HttpClient, instant))
  )
  const transport = sdk.Transport.make(instant, toolbox.config, "toolbox")
  const url = `${sdk.ToolboxClient.baseUrl(target)}/user-home-dir`
  const schema = sdk.ToolboxApi.getUserHomeDir.success.schema
  return [
    [
      `${prefix}transport: send + decodeJson`,
      Effect.flatMap(transport.send(HttpClientRequest.get(url)), sdk.Transport.decodeJson(schema))
    ],
    [`${prefix}declared call: toolbox.call(getUserHomeDir)`, toolbox.call(target, sdk.ToolboxApi.getUserHomeDir, {})],
    [
      `${prefix}sandbox method: getUserHomeDir (call + span)`,
      toolbox.call(target, sdk.ToolboxApi.getUserHomeDir, {}).pipe(
        sdk.Expect.inputCannotFail,
        Effect.map((answer) => answer.dir),
        Effect.withSpan("Sandbox.getUserHomeDir", {
          captureStackTrace: false,
          attributes: { "daytona.sandbox.id": target.id }
        })
      )
    ]
  ]
}

const layers = async (): Promise<ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>]>> => {
  const url = `${ToolboxClient.baseUrl(target)}/user-home-dir`
  return [
    ["runtime: runPromise(Effect.void)", Effect.void],
    [
      "platform client, tracer off: execute + body",
      Effect.flatMap(
        instant.pipe(HttpClient.withTracerDisabledWhen(() => true)).execute(HttpClientRequest.get(url)),
        (r) => r.arrayBuffer
      )
    ],
    [
      "platform client: execute + body",
      Effect.flatMap(instant.execute(HttpClientRequest.get(url)), (r) => r.arrayBuffer)
    ],
    ...(await sdkLayers({ Transport, ToolboxApi, ToolboxClient, Expect }, "")),
    ...(baseRoot === undefined ? [] : await sdkLayers(await loadBase(baseRoot), "base "))
  ]
}

const measure = async (effect: Effect.Effect<unknown, unknown>, n: number) => {
  const before = process.cpuUsage()
  for (let i = 0; i < n; i++) await runtime.runPromise(effect)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / n
}

const main = async () => {
  const all = (await layers()).filter(([label]) => only === undefined || label === only)
  for (const [, effect] of all) for (let i = 0; i < warmup; i++) await runtime.runPromise(effect)
  // Rounds interleave the layers, so that a change of the machine's load hits them all alike.
  const samples = all.map(() => [] as Array<number>)
  for (let round = 0; round < rounds; round++) {
    for (const [i, [, effect]] of all.entries()) samples[i]!.push(await measure(effect, Math.ceil(calls / rounds)))
  }
  for (const [i, [label]] of all.entries()) {
    console.log(
      `${label.padEnd(53)} ${median(samples[i]!).toFixed(1).padStart(7)} µs CPU  (rounds: ${samples[i]!.map((x) => x.toFixed(0)).join(" ")})`
    )
  }
  await runtime.dispose()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
