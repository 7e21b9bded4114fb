/**
 * The child of `allocation.ts`, run compiled under plain `node`: one client makes sequential
 * `getUserHomeDir` calls under V8's sampling heap profiler with collected objects counted, and
 * prints the bytes allocated per call (what the collector then has to collect).
 *
 * `node allocationChild.js <ours|platform|official|undici> <apiUrl> <apiKey> <sandbox id> <toolbox url> <our SDK dir> <calls>`
 */
import { join } from "node:path"
import { Session } from "node:inspector/promises"
import { pathToFileURL } from "node:url"

interface SamplingNode {
  readonly selfSize: number
  readonly children: ReadonlyArray<SamplingNode>
}

const [kind, apiUrl, apiKey, sandboxId, toolboxUrl, sdkDir, callsText] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string
]
const calls = Number(callsText)
const homeDirUrl = `${toolboxUrl.replace(/\/+$/, "")}/${sandboxId}/user-home-dir`
const authorization = `Bearer ${apiKey}`

const makeCall = async (): Promise<() => Promise<unknown>> => {
  switch (kind) {
    case "ours": {
      const load = <Module>(file: string) => import(pathToFileURL(join(sdkDir, file)).href) as Promise<Module>
      const [Daytona, NodeHttpClient, Layer, ManagedRuntime, Redacted] = await Promise.all([
        load<typeof import("@effect-daytona/sdk/Daytona")>("Daytona.js"),
        import("@effect/platform-node/NodeHttpClient"),
        import("effect/Layer"),
        import("effect/ManagedRuntime"),
        import("effect/Redacted")
      ])
      const runtime = ManagedRuntime.make(
        Daytona.layer({ apiKey: Redacted.make(apiKey), apiUrl }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      )
      const daytona = await runtime.runPromise(Daytona.Daytona)
      const sandbox = await runtime.runPromise(daytona.get(sandboxId))
      return () => runtime.runPromise(sandbox.getUserHomeDir)
    }
    case "platform": {
      const [NodeHttpClient, HttpClient, Effect, ManagedRuntime] = await Promise.all([
        import("@effect/platform-node/NodeHttpClient"),
        import("@effect/platform/HttpClient"),
        import("effect/Effect"),
        import("effect/ManagedRuntime")
      ])
      const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
      const client = await runtime.runPromise(HttpClient.HttpClient)
      const call = Effect.flatMap(client.get(homeDirUrl, { headers: { authorization } }), (response) => response.json)
      return () => runtime.runPromise(call)
    }
    case "official": {
      const { Daytona } = await import("@daytona/sdk")
      const sandbox = await new Daytona({ apiKey, apiUrl, target: "local" }).get(sandboxId)
      return () => sandbox.getUserHomeDir()
    }
    default: {
      const { request } = await import("undici")
      return async () => (await request(homeDirUrl, { headers: { authorization } })).body.json()
    }
  }
}

const call = await makeCall()
for (let i = 0; i < 500; i++) await call()
const session = new Session()
session.connect()
await session.post("HeapProfiler.startSampling", {
  samplingInterval: 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true
})
for (let i = 0; i < calls; i++) await call()
const { profile } = (await session.post("HeapProfiler.stopSampling")) as unknown as {
  readonly profile: { readonly head: SamplingNode }
}
const total = (node: SamplingNode): number => node.children.reduce((sum, child) => sum + total(child), node.selfSize)
console.log(JSON.stringify({ kind, bytesPerCall: Math.round(total(profile.head) / calls) }))
process.exit(0)
