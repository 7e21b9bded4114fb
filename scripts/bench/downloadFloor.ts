/**
 * `tsx scripts/bench/downloadFloor.ts [--size <MiB>] [--rounds <n>]`: where a download's client CPU
 * goes below our SDK. One local server and one remote file; each round runs every variant in a fresh
 * process (as `pnpm bench` does, so the first, cold download is what is measured), in mirrored order,
 * and prints client CPU per download (user + system, all threads) with its median:
 *
 * - `ours`: `fs.downloadFileTo` of our SDK (compiled into `.bench/floor/sdk`) over `NodeHttpClient.layerUndici`;
 * - `platform stream only`: the same `POST /files/bulk-download` through `@effect/platform`'s undici
 *   client, its `response.stream` drained and nothing else done: no parsing, no file;
 * - `node path`: undici's body `Readable` read directly, the SDK's multipart parser (`MultipartCodec`)
 *   and a `fs.WriteStream`: what a Node-only download path in the SDK would cost;
 * - `official`: `@daytona/sdk`'s `fs.downloadFile(remote, local)`.
 */
import { spawn } from "node:child_process"
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import { mkdtemp, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { request } from "undici"
import type { SandboxRef } from "./protocol.js"
import { buildClient, runClient } from "./clientProcess.js"
import { ourSdkDirVariable, resultPrefix } from "./protocol.js"
import { createSandbox, writeRandomFile } from "./fixtures.js"
import { startServer } from "./server.js"
import { buildOurSdk } from "./size.js"
import { median } from "./stats.js"
import { numberOption } from "./cli.js"
import { root } from "../package/layout.js"

const MiB = 1024 * 1024
const buildDir = join(root, ".bench/floor/sdk")
const variants = ["ours", "platform stream only", "node path", "official"] as const
type Variant = (typeof variants)[number]

interface Job {
  readonly variant: Variant
  readonly apiUrl: string
  readonly apiKey: string
  readonly sandbox: SandboxRef
  readonly remotePath: string
  readonly localPath: string
}

/** One download in this (fresh) process; prints its client CPU in milliseconds. */
const child = async (job: Job) => {
  const url = `${job.sandbox.toolboxProxyUrl.replace(/\/+$/, "")}/${job.sandbox.id}/files/bulk-download`
  const headers = { authorization: `Bearer ${job.apiKey}`, accept: "multipart/form-data" }
  const body = JSON.stringify({ paths: [job.remotePath] })
  let download: () => Promise<unknown>
  switch (job.variant) {
    case "ours":
    case "platform stream only": {
      const [Daytona, NodeHttpClient, NodeFileSystem, HttpClient, HttpClientRequest, Effect, Layer, ManagedRuntime] =
        await Promise.all([
          import(pathToFileURL(join(buildDir, "Daytona.js")).href) as Promise<
            typeof import("@effect-daytona/sdk/Daytona")
          >,
          import("@effect/platform-node/NodeHttpClient"),
          import("@effect/platform-node/NodeFileSystem"),
          import("@effect/platform/HttpClient"),
          import("@effect/platform/HttpClientRequest"),
          import("effect/Effect"),
          import("effect/Layer"),
          import("effect/ManagedRuntime")
        ])
      const Redacted = await import("effect/Redacted")
      const Stream = await import("effect/Stream")
      const runtime = ManagedRuntime.make(
        Layer.mergeAll(
          Daytona.layer({ apiKey: Redacted.make(job.apiKey), apiUrl: job.apiUrl, requestTimeout: "10 minutes" }),
          NodeFileSystem.layer
        ).pipe(Layer.provideMerge(NodeHttpClient.layerUndici))
      )
      const daytona = await runtime.runPromise(Daytona.Daytona)
      const sandbox = await runtime.runPromise(daytona.get(job.sandbox.id))
      download =
        job.variant === "ours"
          ? () => runtime.runPromise(sandbox.fs.downloadFileTo(job.remotePath, job.localPath))
          : () =>
              runtime.runPromise(
                Effect.flatMap(HttpClient.HttpClient, (client) =>
                  client.execute(
                    HttpClientRequest.bodyUnsafeJson(HttpClientRequest.post(url, { headers }), {
                      paths: [job.remotePath]
                    })
                  )
                ).pipe(
                  Effect.flatMap((response) => Stream.runDrain(response.stream)),
                  Effect.scoped
                )
              )
      break
    }
    case "node path": {
      const Multipart = (await import(
        pathToFileURL(join(buildDir, "MultipartCodec.js")).href
      )) as typeof import("@effect-daytona/sdk/MultipartCodec")
      download = async () => {
        const response = await request(url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body
        })
        const contentType = response.headers["content-type"]
        const parser = Multipart.makeParser(Multipart.boundaryOf(typeof contentType === "string" ? contentType : "")!)
        const out = createWriteStream(job.localPath)
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
          let flowing = true
          for (const event of parser.push(chunk)) if (event._tag === "Data") flowing = out.write(event.bytes) && flowing
          if (!flowing) await once(out, "drain")
        }
        out.end()
        await once(out, "finish")
      }
      break
    }
    case "official": {
      const { Daytona } = await import("@daytona/sdk")
      const sandbox = await new Daytona({ apiKey: job.apiKey, apiUrl: job.apiUrl, target: "local" }).get(job.sandbox.id)
      download = () => sandbox.fs.downloadFile(job.remotePath, job.localPath, 600)
      break
    }
  }
  const cpu = process.cpuUsage()
  await download()
  const used = process.cpuUsage(cpu)
  console.log(`${resultPrefix}${JSON.stringify({ cpuMs: (used.user + used.system) / 1000 })}`)
  process.exit(0)
}

const runChild = (job: Job): Promise<number> =>
  new Promise((done, fail) => {
    const process_ = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), JSON.stringify(job)], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, [ourSdkDirVariable]: buildDir }
    })
    let stdout = ""
    process_.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    process_.on("exit", () => {
      const line = stdout.split("\n").find((l) => l.startsWith(resultPrefix))
      if (line === undefined) fail(new Error(`${job.variant}: no result`))
      else done((JSON.parse(line.slice(resultPrefix.length)) as { cpuMs: number }).cpuMs)
    })
  })

const main = async () => {
  const sizeMiB = numberOption("--size", 64)
  const rounds = numberOption("--rounds", 5)
  await buildOurSdk(root, buildDir)
  const work = await mkdtemp(join(tmpdir(), "effect-daytona-floor-"))
  const server = await startServer({ root, transitionMs: 20 })
  try {
    const sandbox = await createSandbox(server)
    const source = join(work, "source.bin")
    await writeRandomFile(source, sizeMiB * MiB)
    const remotePath = "floor/source.bin"
    const upload = await runClient(
      await buildClient(root),
      "undici",
      {
        _tag: "upload",
        server: { apiUrl: server.apiUrl, apiKey: server.apiKey },
        sandbox,
        localPath: source,
        remotePath
      },
      { cwd: root, showStderr: true }
    )
    if (!upload.ok) throw new Error(`upload: ${upload.error}`)
    const cpu: Record<string, Array<number>> = {}
    for (let r = 0; r < rounds; r++) {
      for (const variant of r % 2 === 0 ? variants : [...variants].reverse()) {
        const localPath = join(work, "copy.bin")
        const ms = await runChild({
          variant,
          apiUrl: server.apiUrl,
          apiKey: server.apiKey,
          sandbox,
          remotePath,
          localPath
        })
        if (variant !== "platform stream only" && (await stat(localPath)).size !== sizeMiB * MiB) {
          throw new Error(`${variant}: wrong size`)
        }
        await rm(localPath, { force: true })
        ;(cpu[variant] ??= []).push(ms)
        process.stderr.write(`round ${r} ${variant}: client CPU ${ms.toFixed(0)} ms\n`)
      }
    }
    for (const variant of variants) {
      const all = cpu[variant] ?? []
      console.log(
        `${sizeMiB} MiB download, ${variant.padEnd(20)} client CPU median ${median(all).toFixed(0)} ms [${all.map((x) => x.toFixed(0)).join(", ")}]`
      )
    }
  } finally {
    await server.stop()
    await rm(work, { recursive: true, force: true })
  }
}

const jobArgument = process.argv[2]
if (jobArgument !== undefined && jobArgument.startsWith("{")) {
  void child(JSON.parse(jobArgument) as Job)
} else {
  main().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
