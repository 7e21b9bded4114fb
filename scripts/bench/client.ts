/**
 * One client of the benchmark in its own process: `tsx scripts/bench/client.ts <kind> <task JSON>`,
 * where kind is `ours` (@effect-daytona/sdk), `official` (@daytona/sdk), `undici` (bare requests,
 * the floor) or `platform` (`@effect/platform`'s client with no SDK, the floor our SDK stands on).
 * Prints one `RESULT {…}` line with the measurements, its RSS once set up and its peak RSS at exit,
 * so each transfer's client memory is measured in isolation.
 *
 * Only the selected client's modules are loaded (dynamic imports), so an idle child of one kind
 * carries none of the others' weight.
 */
import { createReadStream, createWriteStream } from "node:fs"
import { stat } from "node:fs/promises"
import { basename, join } from "node:path"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { pathToFileURL } from "node:url"
import type {
  ChildKind,
  ChildReport,
  LatencyResult,
  Outcome,
  SandboxRef,
  ServerInfo,
  Task,
  WaitRound
} from "./protocol.js"
import { ourSdkDirVariable, resultPrefix } from "./protocol.js"

/** What every client can do; each method is one user-level operation. */
interface Client {
  readonly small: () => Promise<unknown>
  readonly exec: (command: string) => Promise<string>
  readonly concurrentSmall: (n: number) => Promise<unknown>
  /** create → executeCommand("true"); returns the new sandbox's id. */
  readonly createAndRun: () => Promise<string>
  readonly deleteSandbox: (id: string) => Promise<void>
  readonly upload: (localPath: string, remotePath: string) => Promise<void>
  readonly download: (remotePath: string, localPath: string) => Promise<void>
  /** create, run `true`, stop (waiting until stopped), delete; with the phases' wall-clock boundaries. */
  readonly waitRound: () => Promise<WaitRound>
  readonly eventMode: () => string | undefined
  readonly close: () => Promise<void>
}

const transferTimeoutSeconds = 600

// ---------------------------------------------------------------------------------------------
// @effect-daytona/sdk
// ---------------------------------------------------------------------------------------------

/**
 * Our SDK's modules: from its compiled JavaScript when run.ts built one (as a user installs it, and
 * like the official SDK's shipped JS), else from the TypeScript sources through tsx.
 */
const importOurs = async <Module>(
  file: "Daytona.js" | "FileSystem.js" | "NodeUploadBody.js" | "WebSocketConnector.js"
): Promise<Module> => {
  const dir = process.env[ourSdkDirVariable]
  if (dir !== undefined && dir !== "") return (await import(pathToFileURL(join(dir, file)).href)) as Module
  switch (file) {
    case "Daytona.js":
      return (await import("@effect-daytona/sdk/Daytona")) as Module
    case "FileSystem.js":
      return (await import("@effect-daytona/sdk/FileSystem")) as Module
    case "NodeUploadBody.js":
      return (await import("@effect-daytona/sdk/NodeUploadBody")) as Module
    case "WebSocketConnector.js":
      return (await import("@effect-daytona/sdk/WebSocketConnector")) as Module
  }
}

/** Node's upload body, as a user on Node provides it; absent from a base checkout that predates it. */
const importNodeUploadBody = (): Promise<typeof import("@effect-daytona/sdk/NodeUploadBody") | undefined> =>
  importOurs<typeof import("@effect-daytona/sdk/NodeUploadBody")>("NodeUploadBody.js").catch(() => undefined)

const makeOurs = async (server: ServerInfo, sandboxRef: SandboxRef | undefined): Promise<Client> => {
  const [
    Daytona,
    SdkFileSystem,
    NodeUploadBody,
    WebSocketConnector,
    { WebSocket },
    NodeHttpClient,
    NodeFileSystem,
    Effect,
    Layer,
    ManagedRuntime,
    Redacted
  ] = await Promise.all([
    importOurs<typeof import("@effect-daytona/sdk/Daytona")>("Daytona.js"),
    importOurs<typeof import("@effect-daytona/sdk/FileSystem")>("FileSystem.js"),
    importNodeUploadBody(),
    importOurs<typeof import("@effect-daytona/sdk/WebSocketConnector")>("WebSocketConnector.js"),
    import("ws"),
    import("@effect/platform-node/NodeHttpClient"),
    import("@effect/platform-node/NodeFileSystem"),
    import("effect/Effect"),
    import("effect/Layer"),
    import("effect/ManagedRuntime"),
    import("effect/Redacted")
  ])
  const layer = Layer.mergeAll(
    Daytona.layer({
      apiKey: Redacted.make(server.apiKey),
      apiUrl: server.apiUrl,
      requestTimeout: "10 minutes",
      operationTimeout: "2 minutes"
    }).pipe(
      Layer.provide(NodeHttpClient.layerUndici),
      // As the README tells Node programs to: waits then listen to the event gateway, as the official SDK's do.
      Layer.provide(WebSocketConnector.layer(WebSocket))
    ),
    NodeFileSystem.layer,
    NodeUploadBody === undefined ? Layer.empty : NodeUploadBody.layer
  )
  const runtime = ManagedRuntime.make(layer)
  const daytona = await runtime.runPromise(Daytona.Daytona)
  const sandbox = sandboxRef === undefined ? undefined : await runtime.runPromise(daytona.get(sandboxRef.id))
  const need = () => {
    if (sandbox === undefined) throw new Error("this task needs a sandbox")
    return sandbox
  }
  const timeout = `${transferTimeoutSeconds} seconds` as const
  return {
    small: () => runtime.runPromise(need().getUserHomeDir),
    exec: (command) => runtime.runPromise(Effect.map(need().process.executeCommand(command), (r) => r.result)),
    concurrentSmall: (n) =>
      runtime.runPromise(
        Effect.all(
          Array.from({ length: n }, () => need().getUserHomeDir),
          { concurrency: "unbounded", discard: true }
        )
      ),
    createAndRun: () =>
      runtime.runPromise(
        Effect.gen(function* () {
          const created = yield* daytona.create()
          yield* created.process.executeCommand("true")
          return created.id
        })
      ),
    deleteSandbox: (id) => runtime.runPromise(daytona.delete(id)),
    upload: (localPath, remotePath) =>
      runtime.runPromise(need().fs.uploadFile(remotePath, SdkFileSystem.localFile(localPath), { timeout })),
    download: (remotePath, localPath) =>
      runtime.runPromise(need().fs.downloadFileTo(remotePath, localPath, { timeout })),
    waitRound: () =>
      runtime.runPromise(
        Effect.gen(function* () {
          const createStart = Date.now()
          const created = yield* daytona.create()
          const createEnd = Date.now()
          yield* created.process.executeCommand("true")
          const stopStart = Date.now()
          yield* created.stop()
          const stopEnd = Date.now()
          yield* daytona.delete(created.id)
          return { sandboxId: created.id, createStart, createEnd, stopStart, stopEnd }
        })
      ),
    // Whether it connected shows in the proxy's Socket.IO count and the reads during a stop.
    eventMode: () => "events (WebSocketConnector over ws; polling when the gateway does not answer)",
    close: () => runtime.dispose()
  }
}

/**
 * `@effect/platform`'s undici client with no SDK above it: the requests our SDK sends, made the
 * cheapest way the platform allows (a file's upload as a raw Node body, a download's response stream
 * run into a file through `NodeSink`), so that what our SDK adds on top of it shows. It has no create
 * or wait: those need the SDK's polling and events.
 */
const makePlatform = async (server: ServerInfo, sandboxRef: SandboxRef | undefined): Promise<Client> => {
  const [NodeHttpClient, NodeSink, HttpClient, HttpClientRequest, HttpBody, Effect, Stream, ManagedRuntime] =
    await Promise.all([
      import("@effect/platform-node/NodeHttpClient"),
      import("@effect/platform-node/NodeSink"),
      import("@effect/platform/HttpClient"),
      import("@effect/platform/HttpClientRequest"),
      import("@effect/platform/HttpBody"),
      import("effect/Effect"),
      import("effect/Stream"),
      import("effect/ManagedRuntime")
    ])
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const client = (await runtime.runPromise(HttpClient.HttpClient)).pipe(HttpClient.filterStatusOk)
  const authorization = `Bearer ${server.apiKey}`
  const toolbox = (path: string) => {
    if (sandboxRef === undefined) throw new Error("this task needs a sandbox")
    return `${sandboxRef.toolboxProxyUrl.replace(/\/+$/, "")}/${sandboxRef.id}${path}`
  }
  const small = () =>
    runtime.runPromise(
      Effect.flatMap(client.get(toolbox("/user-home-dir"), { headers: { authorization } }), (r) => r.json)
    )
  const unsupported = (what: string) => () =>
    Promise.reject(new Error(`the platform floor has no ${what}: it needs the SDK's polling and events`))
  return {
    small,
    exec: (command) =>
      runtime.runPromise(
        HttpClientRequest.post(toolbox("/process/execute")).pipe(
          HttpClientRequest.setHeader("authorization", authorization),
          HttpClientRequest.bodyUnsafeJson({ command }),
          client.execute,
          Effect.flatMap((r) => r.json),
          Effect.map((body) => String((body as { readonly result?: unknown }).result))
        )
      ),
    concurrentSmall: (n) => Promise.all(Array.from({ length: n }, small)),
    createAndRun: unsupported("create"),
    deleteSandbox: unsupported("delete"),
    upload: (localPath, remotePath) => {
      const multipart = multipartUpload(localPath, remotePath)
      return runtime.runPromise(
        HttpClientRequest.post(toolbox("/files/bulk-upload")).pipe(
          HttpClientRequest.setHeader("authorization", authorization),
          HttpClientRequest.setBody(
            HttpBody.raw(Readable.from(multipart.body()), { contentType: multipart.contentType })
          ),
          client.execute,
          Effect.flatMap((r) => r.text),
          Effect.asVoid
        )
      )
    },
    download: (remotePath, localPath) =>
      runtime.runPromise(
        client.get(toolbox("/files/download"), { headers: { authorization }, urlParams: { path: remotePath } }).pipe(
          Effect.flatMap((response) =>
            Stream.run(
              response.stream,
              NodeSink.fromWritable(
                () => createWriteStream(localPath),
                (cause) => new Error(`could not write ${localPath}`, { cause })
              )
            )
          )
        )
      ),
    waitRound: unsupported("wait"),
    eventMode: () => undefined,
    close: () => runtime.dispose()
  }
}

/** The request both floors send for an upload: chunked multipart to /files/bulk-upload, the file read from disk. */
const multipartUpload = (localPath: string, remotePath: string) => {
  const boundary = `----bench${Math.random().toString(16).slice(2)}`
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="files[0].path"\r\n\r\n${remotePath}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="files[0].file"; filename="${basename(remotePath)}"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    body: async function* (): AsyncGenerator<Uint8Array> {
      yield Buffer.from(head)
      for await (const chunk of createReadStream(localPath, { highWaterMark: 1 << 20 })) yield chunk as Buffer
      yield Buffer.from(`\r\n--${boundary}--\r\n`)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// @daytona/sdk (official)
// ---------------------------------------------------------------------------------------------

interface EventDispatcherView {
  readonly isConnected?: boolean
  readonly isFailed?: boolean
  readonly failError?: string
}

const makeOfficial = async (
  server: ServerInfo,
  sandboxRef: SandboxRef | undefined,
  deprecatedPolling: boolean
): Promise<Client> => {
  const { Daytona } = await import("@daytona/sdk")
  const daytona = new Daytona({
    apiKey: server.apiKey,
    apiUrl: server.apiUrl,
    target: "local",
    ...(deprecatedPolling ? { useDeprecatedPolling: true } : {})
  })
  const sandbox = sandboxRef === undefined ? undefined : await daytona.get(sandboxRef.id)
  const need = () => {
    if (sandbox === undefined) throw new Error("this task needs a sandbox")
    return sandbox
  }
  return {
    small: () => need().getUserHomeDir(),
    exec: async (command) => (await need().process.executeCommand(command)).result,
    concurrentSmall: (n) => Promise.all(Array.from({ length: n }, () => need().getUserHomeDir())),
    createAndRun: async () => {
      const created = await daytona.create({ language: "python" }, { timeout: 120 })
      await created.process.executeCommand("true")
      return created.id
    },
    deleteSandbox: async (id) => {
      await daytona.delete(await daytona.get(id))
    },
    upload: (localPath, remotePath) => need().fs.uploadFile(localPath, remotePath, transferTimeoutSeconds),
    download: (remotePath, localPath) => need().fs.downloadFile(remotePath, localPath, transferTimeoutSeconds),
    waitRound: async () => {
      const createStart = Date.now()
      const created = await daytona.create({ language: "python" }, { timeout: 120 })
      const createEnd = Date.now()
      await created.process.executeCommand("true")
      const stopStart = Date.now()
      await created.stop(120)
      const stopEnd = Date.now()
      await created.delete()
      return { sandboxId: created.id, createStart, createEnd, stopStart, stopEnd }
    },
    eventMode: () => {
      if (deprecatedPolling) return "polling (useDeprecatedPolling: true)"
      const dispatcher = (daytona as unknown as { readonly eventDispatcher?: EventDispatcherView }).eventDispatcher
      if (dispatcher === undefined) return "polling (no event dispatcher)"
      if (dispatcher.isConnected === true) return "events (Socket.IO connected)"
      return `polling fallback (Socket.IO not connected${dispatcher.failError === undefined ? "" : `: ${dispatcher.failError}`})`
    },
    close: async () => {
      await daytona[Symbol.asyncDispose]()
    }
  }
}

// ---------------------------------------------------------------------------------------------
// bare undici (the floor)
// ---------------------------------------------------------------------------------------------

const makeUndici = async (server: ServerInfo, sandboxRef: SandboxRef | undefined): Promise<Client> => {
  const { Agent, request } = await import("undici")
  const dispatcher = new Agent()
  const auth = { authorization: `Bearer ${server.apiKey}` }
  const toolbox = (ref: SandboxRef, path: string) => `${ref.toolboxProxyUrl.replace(/\/+$/, "")}/${ref.id}${path}`
  const need = () => {
    if (sandboxRef === undefined) throw new Error("this task needs a sandbox")
    return sandboxRef
  }
  const ok = async (response: Awaited<ReturnType<typeof request>>, what: string): Promise<unknown> => {
    const text = await response.body.text()
    if (response.statusCode >= 300) throw new Error(`${what} → ${response.statusCode}: ${text.slice(0, 300)}`)
    return text === "" ? undefined : (JSON.parse(text) as unknown)
  }
  const small = async () =>
    ok(await request(toolbox(need(), "/user-home-dir"), { dispatcher, headers: auth }), "GET /user-home-dir")
  const execAt = async (ref: SandboxRef, command: string) => {
    const body = (await ok(
      await request(toolbox(ref, "/process/execute"), {
        dispatcher,
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ command })
      }),
      "POST /process/execute"
    )) as { readonly result?: string }
    return body.result ?? ""
  }
  const create = async (): Promise<SandboxRef> => {
    const dto = (await ok(
      await request(`${server.apiUrl}/sandbox`, {
        dispatcher,
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ labels: { "code-toolbox-language": "python" } })
      }),
      "POST /sandbox"
    )) as { readonly id: string; readonly toolboxProxyUrl: string; readonly state: string }
    if (dto.state !== "started") throw new Error(`create answered state ${dto.state}; the floor does not poll`)
    return { id: dto.id, toolboxProxyUrl: dto.toolboxProxyUrl }
  }
  return {
    small,
    exec: (command) => execAt(need(), command),
    concurrentSmall: (n) => Promise.all(Array.from({ length: n }, small)),
    createAndRun: async () => {
      const ref = await create()
      await execAt(ref, "true")
      return ref.id
    },
    deleteSandbox: async (id) => {
      await ok(
        await request(`${server.apiUrl}/sandbox/${id}`, { dispatcher, method: "DELETE", headers: auth }),
        "DELETE /sandbox"
      )
    },
    upload: async (localPath, remotePath) => {
      // The same request the SDKs send: chunked multipart to /files/bulk-upload, streamed from disk.
      const multipart = multipartUpload(localPath, remotePath)
      await ok(
        await request(toolbox(need(), "/files/bulk-upload"), {
          dispatcher,
          method: "POST",
          headers: { ...auth, "content-type": multipart.contentType },
          body: Readable.from(multipart.body()),
          headersTimeout: transferTimeoutSeconds * 1000,
          bodyTimeout: transferTimeoutSeconds * 1000
        }),
        "POST /files/bulk-upload"
      )
    },
    download: async (remotePath, localPath) => {
      // The daemon's single-file route (`GET /files/download?path=`), raw bytes piped to disk.
      const response = await request(`${toolbox(need(), "/files/download")}?path=${encodeURIComponent(remotePath)}`, {
        dispatcher,
        headers: auth,
        headersTimeout: transferTimeoutSeconds * 1000,
        bodyTimeout: transferTimeoutSeconds * 1000
      })
      if (response.statusCode !== 200) {
        throw new Error(`GET /files/download → ${response.statusCode}: ${(await response.body.text()).slice(0, 300)}`)
      }
      await pipeline(response.body, createWriteStream(localPath))
    },
    waitRound: () => Promise.reject(new Error("the floor has no wait")),
    eventMode: () => undefined,
    close: () => dispatcher.close()
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * With `BENCH_CPU_PROFILE=<file>` (scripts/bench/profile.ts), a CPU profile of the measured work
 * only (not the imports, the set-up or the warm-up) is written there.
 */
const profileFile = process.env.BENCH_CPU_PROFILE
let profiler: import("node:inspector/promises").Session | undefined

const startProfile = async () => {
  if (profileFile === undefined || profileFile === "" || profiler !== undefined) return
  const { Session } = await import("node:inspector/promises")
  profiler = new Session()
  profiler.connect()
  await profiler.post("Profiler.enable")
  await profiler.post("Profiler.setSamplingInterval", { interval: 200 })
  await profiler.post("Profiler.start")
}

const stopProfile = async () => {
  if (profiler === undefined || profileFile === undefined) return
  const { profile } = await profiler.post("Profiler.stop")
  const { writeFile } = await import("node:fs/promises")
  await writeFile(profileFile, JSON.stringify(profile))
  profiler.disconnect()
  profiler = undefined
}

const time = async (run: () => Promise<unknown>): Promise<number> => {
  const start = performance.now()
  await run()
  return performance.now() - start
}

const runLatency = async (client: Client, task: Extract<Task, { _tag: "latency" }>): Promise<LatencyResult> => {
  const echoed = await client.exec("echo hi")
  if (echoed.trim() !== "hi") throw new Error(`executeCommand("echo hi") answered ${JSON.stringify(echoed)}`)
  for (let i = 0; i < task.warmup; i++) await client.small()
  const small: Array<number> = []
  await startProfile()
  const cpuBefore = process.cpuUsage()
  for (let i = 0; i < task.calls; i++) small.push(await time(client.small))
  const cpu = process.cpuUsage(cpuBefore)
  const smallCpuMicros = (cpu.user + cpu.system) / Math.max(1, task.calls)
  const execCalls = task.execCalls ?? task.calls
  for (let i = 0; i < Math.min(task.warmup, 20, execCalls); i++) await client.exec("echo hi")
  const exec: Array<number> = []
  for (let i = 0; i < execCalls; i++) exec.push(await time(() => client.exec("echo hi")))
  const concurrent: Record<string, Array<number>> = {}
  for (const n of task.concurrency) {
    await client.concurrentSmall(n) // warm-up: opens the connections this level needs
    await startProfile()
    const rounds: Array<number> = []
    for (let r = 0; r < task.concurrencyRounds; r++) rounds.push(await time(() => client.concurrentSmall(n)))
    concurrent[String(n)] = rounds
  }
  await stopProfile()
  const createToFirstCommand: Array<number> = []
  // The first round is a warm-up; no rounds asked, no create at all.
  for (let r = 0; task.createRounds > 0 && r < task.createRounds + 1; r++) {
    // A task of create rounds alone (`profile.ts --task create`) profiles them, deletes included.
    if (r === 1 && task.calls === 0 && task.concurrency.length === 0) await startProfile()
    let id = ""
    const millis = await time(async () => {
      id = await client.createAndRun()
    })
    if (r > 0) createToFirstCommand.push(millis)
    await client.deleteSandbox(id)
  }
  await stopProfile()
  const eventMode = client.eventMode()
  return {
    _tag: "latency",
    small,
    smallCpuMicros,
    exec,
    concurrent,
    createToFirstCommand,
    ...(eventMode === undefined ? {} : { eventMode })
  }
}

const perform = async (client: Client, task: Task): Promise<Outcome> => {
  switch (task._tag) {
    case "latency":
      return runLatency(client, task)
    case "upload": {
      const bytes = (await stat(task.localPath)).size
      await startProfile()
      const cpu = process.cpuUsage()
      const millis = await time(() => client.upload(task.localPath, task.remotePath))
      const used = process.cpuUsage(cpu)
      await stopProfile()
      return { _tag: "transfer", bytes, millis, cpuMicros: used.user + used.system }
    }
    case "download": {
      await startProfile()
      const cpu = process.cpuUsage()
      const millis = await time(() => client.download(task.remotePath, task.localPath))
      const used = process.cpuUsage(cpu)
      await stopProfile()
      return { _tag: "transfer", bytes: (await stat(task.localPath)).size, millis, cpuMicros: used.user + used.system }
    }
    case "waits": {
      const rounds: Array<WaitRound> = []
      for (let r = 0; r < task.rounds; r++) rounds.push(await client.waitRound())
      const eventMode = client.eventMode()
      return { _tag: "waits", rounds, ...(eventMode === undefined ? {} : { eventMode }) }
    }
    case "idle":
      return { _tag: "idle" }
  }
}

const describe = (error: unknown): string => {
  if (error instanceof Error) {
    const cause = (error as { readonly cause?: unknown }).cause
    return `${error.name}: ${error.message}${cause === undefined ? "" : ` (cause: ${String(cause)})`}`
  }
  try {
    return JSON.stringify(error)
  } catch {
    return String(error)
  }
}

const main = async () => {
  const kind = process.argv[2] as ChildKind
  const task = JSON.parse(process.argv[3] ?? "{}") as Task
  let report: Omit<ChildReport, "maxRss" | "rssReady">
  let rssReady = 0
  try {
    const server = task._tag === "idle" ? { apiUrl: "http://127.0.0.1:9/api", apiKey: "idle" } : task.server
    const sandbox = "sandbox" in task ? task.sandbox : undefined
    const client =
      kind === "platform"
        ? await makePlatform(server, sandbox)
        : kind === "ours"
          ? await makeOurs(server, sandbox)
          : kind === "official"
            ? await makeOfficial(server, sandbox, task._tag === "waits" && task.deprecatedPolling)
            : await makeUndici(server, sandbox)
    rssReady = process.memoryUsage.rss()
    const result = await perform(client, task)
    await client.close()
    report = { ok: true, result }
  } catch (error) {
    report = { ok: false, error: describe(error) }
  }
  const full: ChildReport = { ...report, rssReady, maxRss: process.resourceUsage().maxRSS * 1024 }
  process.stdout.write(`${resultPrefix}${JSON.stringify(full)}\n`, () => process.exit(0))
}

void main()
