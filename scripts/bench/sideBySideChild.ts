/**
 * The child of `sideBySide.ts`, run compiled under plain `node`: our SDK (compiled, from the
 * directory it is given), the official SDK and bare undici in one process, alternating round by
 * round against one local server. It measures what a fresh process per client hides or adds:
 * create → first command split into the create and the command, with the client CPU of each, and
 * one list page of 200 sandboxes. Prints one JSON line of medians per client.
 *
 * `node sideBySideChild.js <apiUrl> <apiKey> <our SDK dir> <rounds>`
 */
import { join } from "node:path"
import { pathToFileURL } from "node:url"

interface Created {
  readonly id: string
  readonly toolboxProxyUrl: string
}

interface SideClient {
  readonly create: () => Promise<Created>
  readonly command: (sandbox: Created) => Promise<unknown>
  readonly remove: (sandbox: Created) => Promise<unknown>
  /** Lists up to 200 sandboxes (one page); returns how many it got. */
  readonly list200: () => Promise<number>
}

const [apiUrl, apiKey, sdkDir, roundsText] = process.argv.slice(2) as [string, string, string, string]
const rounds = Number(roundsText)
const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }

const ours = async (): Promise<SideClient> => {
  const load = <Module>(file: string) => import(pathToFileURL(join(sdkDir, file)).href) as Promise<Module>
  const [Daytona, WebSocketConnector, { WebSocket }, NodeHttpClient, Layer, ManagedRuntime, Redacted] =
    await Promise.all([
      load<typeof import("@effect-daytona/sdk/Daytona")>("Daytona.js"),
      load<typeof import("@effect-daytona/sdk/WebSocketConnector")>("WebSocketConnector.js"),
      import("ws"),
      import("@effect/platform-node/NodeHttpClient"),
      import("effect/Layer"),
      import("effect/ManagedRuntime"),
      import("effect/Redacted")
    ])
  const runtime = ManagedRuntime.make(
    Daytona.layer({ apiKey: Redacted.make(apiKey), apiUrl }).pipe(
      Layer.provide(NodeHttpClient.layerUndici),
      Layer.provide(WebSocketConnector.layer(WebSocket))
    )
  )
  const daytona = await runtime.runPromise(Daytona.Daytona)
  const created = new Map<string, import("@effect-daytona/sdk/Sandbox").Sandbox>()
  return {
    create: async () => {
      const sandbox = await runtime.runPromise(daytona.create())
      created.set(sandbox.id, sandbox)
      return sandbox
    },
    command: (sandbox) => runtime.runPromise(created.get(sandbox.id)!.process.executeCommand("true")),
    remove: async (sandbox) => {
      created.delete(sandbox.id)
      await runtime.runPromise(daytona.delete(sandbox.id))
    },
    list200: async () => (await runtime.runPromise(daytona.listPage({ limit: 200 }))).items.length
  }
}

const official = async (): Promise<SideClient> => {
  const { Daytona } = await import("@daytona/sdk")
  type OfficialSandbox = Awaited<ReturnType<InstanceType<typeof Daytona>["create"]>>
  const daytona = new Daytona({ apiKey, apiUrl, target: "local" })
  const created = new Map<string, OfficialSandbox>()
  return {
    create: async () => {
      const sandbox = await daytona.create({ language: "python" }, { timeout: 120 })
      created.set(sandbox.id, sandbox)
      return { id: sandbox.id, toolboxProxyUrl: "" }
    },
    command: (sandbox) => created.get(sandbox.id)!.process.executeCommand("true"),
    remove: async (sandbox) => {
      await daytona.delete(created.get(sandbox.id)!)
      created.delete(sandbox.id)
    },
    list200: async () => {
      let count = 0
      for await (const _ of daytona.list({ limit: 200 })) if (++count === 200) break
      return count
    }
  }
}

const undici = async (): Promise<SideClient> => {
  const { request } = await import("undici")
  const json = async (response: Awaited<ReturnType<typeof request>>): Promise<unknown> => {
    const text = await response.body.text()
    if (response.statusCode >= 300) throw new Error(`${response.statusCode}: ${text.slice(0, 300)}`)
    return text === "" ? undefined : JSON.parse(text)
  }
  return {
    create: async () =>
      (await json(
        await request(`${apiUrl}/sandbox`, {
          method: "POST",
          headers,
          body: JSON.stringify({ labels: { "code-toolbox-language": "python" } })
        })
      )) as Created,
    command: async (sandbox) =>
      json(
        await request(`${sandbox.toolboxProxyUrl.replace(/\/+$/, "")}/${sandbox.id}/process/execute`, {
          method: "POST",
          headers,
          body: JSON.stringify({ command: "true" })
        })
      ),
    remove: async (sandbox) => json(await request(`${apiUrl}/sandbox/${sandbox.id}`, { method: "DELETE", headers })),
    list200: async () =>
      ((await json(await request(`${apiUrl}/sandbox?limit=200`, { headers }))) as { items: Array<unknown> }).items
        .length
  }
}

const cpuMillis = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000
}
const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const clients: Record<string, SideClient> = { ours: await ours(), official: await official(), undici: await undici() }
const emptySample = () => ({
  create: [] as Array<number>,
  createCpu: [] as Array<number>,
  command: [] as Array<number>,
  commandCpu: [] as Array<number>,
  list: [] as Array<number>,
  listCpu: [] as Array<number>
})
const samples = Object.fromEntries(Object.keys(clients).map((name) => [name, emptySample()]))

for (let round = 0; round < rounds + 2; round++) {
  for (const [name, client] of Object.entries(clients)) {
    const cpu = process.cpuUsage()
    const start = performance.now()
    const sandbox = await client.create()
    const created = performance.now()
    const createCpu = cpuMillis(cpu)
    await client.command(sandbox)
    const done = performance.now()
    const commandCpu = cpuMillis(cpu) - createCpu
    await client.remove(sandbox)
    const listCpu = process.cpuUsage()
    const listStart = performance.now()
    await client.list200()
    const listed = performance.now()
    if (round < 2) continue // warm-up
    const sample = samples[name]!
    sample.create.push(created - start)
    sample.createCpu.push(createCpu)
    sample.command.push(done - created)
    sample.commandCpu.push(commandCpu)
    sample.list.push(listed - listStart)
    sample.listCpu.push(cpuMillis(listCpu))
  }
}
for (const [name, sample] of Object.entries(samples)) {
  console.log(
    JSON.stringify({
      client: name,
      ...Object.fromEntries(Object.entries(sample).map(([key, values]) => [key, Number(median(values).toFixed(2))]))
    })
  )
}
process.exit(0)
