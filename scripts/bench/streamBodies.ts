/**
 * `tsx scripts/bench/streamBodies.ts [--size <MiB>] [--rounds <n>]`: where an upload's client CPU
 * goes below our SDK. One file is sent as a chunked request body to a sink process that only drains
 * it, by plain `node:http` and by `@effect/platform`'s HTTP clients with no SDK code at all: an
 * `HttpBody.stream` of the platform `FileSystem`'s 1 MiB reads (what our `localFile` upload hands the
 * platform), and a raw Node `Readable` of the same file. Each variant runs in a fresh process; the
 * figures are medians over the rounds of the second send (a first, 8 MiB one warms the client up):
 * wall time, client CPU, and the garbage collections counted by a `gc` performance observer
 * (major = mark-compact).
 */
import { spawn, spawnSync } from "node:child_process"
import { randomFillSync } from "node:crypto"
import { closeSync, createReadStream, openSync, readSync, writeSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import * as NodeHttp from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { constants, PerformanceObserver } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { median } from "./stats.js"
import { numberOption, option } from "./cli.js"

const MiB = 1024 * 1024
const chunkBytes = MiB

const variants = [
  "node:http",
  "platform undici: HttpBody.stream",
  "platform node:http: HttpBody.stream",
  "platform undici: raw Readable",
  "platform undici: HttpBody.stream of a Readable"
] as const
type Variant = (typeof variants)[number]

interface Report {
  readonly wallMs: number
  readonly cpuMs: number
  readonly major: number
  readonly minor: number
  readonly gcMs: number
}

const resultPrefix = "STREAM-BODIES "

/** Counts collections while `run` sends the file, and reports them with its wall and CPU time. */
const measure = async (run: () => Promise<void>): Promise<Report> => {
  let major = 0
  let minor = 0
  let gcMs = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { readonly detail?: { readonly kind?: number } }).detail?.kind
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++
      gcMs += entry.duration
    }
  })
  observer.observe({ entryTypes: ["gc"] })
  const cpu = process.cpuUsage()
  const start = performance.now()
  await run()
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  // Entries are delivered asynchronously: let the last ones arrive.
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  return { wallMs, cpuMs: (used.user + used.system) / 1000, major, minor, gcMs }
}

const plainNode = (url: string, file: string) =>
  new Promise<void>((done, fail) => {
    const request = NodeHttp.request(
      url,
      { method: "POST", headers: { "transfer-encoding": "chunked" } },
      (response) => {
        response.resume()
        response.on("end", () => done())
      }
    )
    request.on("error", fail)
    const fd = openSync(file, "r")
    const pump = () => {
      while (true) {
        const bytes = Buffer.allocUnsafeSlow(chunkBytes)
        const read = readSync(fd, bytes)
        if (read === 0) {
          closeSync(fd)
          request.end()
          return
        }
        if (!request.write(read === chunkBytes ? bytes : bytes.subarray(0, read))) {
          request.once("drain", pump)
          return
        }
      }
    }
    pump()
  })

const platform = async (variant: Variant, url: string) => {
  const [HttpClient, HttpClientRequest, HttpBody, FileSystem, NodeHttpClient, NodeFileSystem, Effect, Layer, Stream] =
    await Promise.all([
      import("@effect/platform/HttpClient"),
      import("@effect/platform/HttpClientRequest"),
      import("@effect/platform/HttpBody"),
      import("@effect/platform/FileSystem"),
      import("@effect/platform-node/NodeHttpClient"),
      import("@effect/platform-node/NodeFileSystem"),
      import("effect/Effect"),
      import("effect/Layer"),
      import("effect/Stream")
    ])
  const clientLayer =
    variant === "platform node:http: HttpBody.stream" ? NodeHttpClient.layer : NodeHttpClient.layerUndici
  const program = (file: string) =>
    Effect.gen(function* () {
      const client = yield* HttpClient.HttpClient
      const fs = yield* FileSystem.FileSystem
      const body =
        variant === "platform undici: raw Readable"
          ? HttpBody.raw(createReadStream(file, { highWaterMark: chunkBytes }))
          : variant === "platform undici: HttpBody.stream of a Readable"
            ? HttpBody.stream(
                Stream.fromAsyncIterable(
                  createReadStream(file, { highWaterMark: chunkBytes }) as AsyncIterable<Uint8Array>,
                  (error) => error
                )
              )
            : HttpBody.stream(fs.stream(file, { chunkSize: chunkBytes, bufferSize: 1 }))
      const response = yield* client.execute(HttpClientRequest.post(url).pipe(HttpClientRequest.setBody(body)))
      yield* response.text
    }).pipe(Effect.scoped, Effect.provide(Layer.merge(clientLayer, NodeFileSystem.layer)))
  return (file: string) => Effect.runPromise(program(file))
}

const child = async (variant: Variant, url: string, file: string, warm: string) => {
  const send = variant === "node:http" ? (path: string) => plainNode(url, path) : await platform(variant, url)
  // A first, small send loads what the clients load lazily and warms their code up.
  await send(warm)
  const report = await measure(() => send(file))
  process.stdout.write(`${resultPrefix}${JSON.stringify(report)}\n`)
}

const main = async () => {
  const sizeMiB = numberOption("--size", 256)
  const rounds = numberOption("--rounds", 3)
  const work = await mkdtemp(join(tmpdir(), "effect-daytona-stream-bodies-"))
  const file = join(work, "source.bin")
  const warm = join(work, "warm.bin")
  const block = Buffer.allocUnsafe(MiB)
  for (const [path, size] of [
    [file, sizeMiB],
    [warm, 8]
  ] as const) {
    const fd = openSync(path, "w")
    for (let i = 0; i < size; i++) writeSync(fd, randomFillSync(block))
    closeSync(fd)
  }
  // The sink drains each request in a process of its own, so that its work is not the client's.
  const sink = spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:http").createServer((q, r) => { q.resume(); q.on("end", () => r.end("ok")) });
       s.listen(0, "127.0.0.1", () => console.log(s.address().port))`
    ],
    { stdio: ["ignore", "pipe", "inherit"] }
  )
  const port = await new Promise<number>((resolve) =>
    sink.stdout.once("data", (data: Buffer) => resolve(Number(data.toString())))
  )
  const url = `http://127.0.0.1:${port}/upload`
  const results = new Map<Variant, Array<Report>>(variants.map((variant) => [variant, []]))
  try {
    for (let round = 0; round < rounds; round++) {
      // Mirrored order in alternate rounds, so that a drift of the machine's load hits all alike.
      const order = round % 2 === 0 ? variants : [...variants].reverse()
      for (const variant of order) {
        const run = spawnSync(
          process.execPath,
          [
            "--import",
            "tsx",
            fileURLToPath(import.meta.url),
            "--child",
            variant,
            "--url",
            url,
            "--file",
            file,
            "--warm",
            warm
          ],
          { encoding: "utf8" }
        )
        const line = run.stdout.split("\n").find((l) => l.startsWith(resultPrefix))
        if (line === undefined) throw new Error(`${variant}: no result\n${run.stderr}`)
        results.get(variant)!.push(JSON.parse(line.slice(resultPrefix.length)) as Report)
      }
    }
  } finally {
    sink.kill()
    await rm(work, { recursive: true, force: true })
  }
  console.log(
    `${sizeMiB} MiB in ${chunkBytes / MiB} MiB chunks to a draining sink, medians of ${rounds} fresh processes each`
  )
  console.log("| variant | wall ms | client CPU ms | MiB/s | major GCs | minor GCs | GC ms |")
  console.log("|---|---:|---:|---:|---:|---:|---:|")
  for (const [variant, reports] of results) {
    const wall = median(reports.map((r) => r.wallMs))
    console.log(
      `| ${variant} | ${wall.toFixed(0)} | ${median(reports.map((r) => r.cpuMs)).toFixed(0)} | ${(sizeMiB / (wall / 1000)).toFixed(0)} | ${median(reports.map((r) => r.major))} | ${median(reports.map((r) => r.minor))} | ${median(reports.map((r) => r.gcMs)).toFixed(0)} |`
    )
  }
}

if (process.argv.includes("--child")) {
  void child(option("--child", "") as Variant, option("--url", ""), option("--file", ""), option("--warm", ""))
} else {
  void main()
}
