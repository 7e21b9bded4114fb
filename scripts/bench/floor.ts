/**
 * `tsx scripts/bench/floor.ts [--rounds <n>] [--size <MiB>] [--import-rounds <n>]`: the floor our SDK
 * stands on. Runs the comparable rows of `pnpm bench` for four clients, each in a fresh process per
 * round in mirrored order: our SDK, `@effect/platform`'s undici client with no SDK above it (the
 * requests our SDK sends, made the cheapest way the platform allows: see `client.ts`), the official
 * SDK and bare undici. The platform client is what the design card binds every program of ours to
 * (`effect`, `@effect/platform`, services injected as Layers); where it alone is behind the official
 * SDK, no work inside our SDK can bring that row level.
 *
 * Rows: a small call (median ms and client CPU per call), `executeCommand`, 50 and 200 concurrent
 * small calls, client RSS once set up and at its peak over that work, an upload and a download of
 * `--size` MiB (throughput and peak RSS), and the cold import of a program (fresh `node` processes,
 * compiled JavaScript; ours from the bundle `pnpm bench` builds).
 */
import { execFile } from "node:child_process"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { promisify } from "node:util"
import type { ChildKind, ChildReport, LatencyResult, Task, TransferResult } from "./protocol.js"
import { buildClient, clientScriptOf, runClient } from "./clientProcess.js"
import { ourSdkDirVariable } from "./protocol.js"
import { createSandbox, sha256File, writeRandomFile } from "./fixtures.js"
import { startServer } from "./server.js"
import { buildOurSdk } from "./size.js"
import { median } from "./stats.js"
import { numberOption } from "./cli.js"
import { root } from "../package/layout.js"

const rounds = numberOption("--rounds", 3)
const sizeMiB = numberOption("--size", 64)
const importRounds = numberOption("--import-rounds", 9)
const MiB = 1024 * 1024
const kinds: ReadonlyArray<ChildKind> = ["ours", "platform", "official", "undici"]
const outDir = join(root, ".bench/platform-floor")
const sdkDir = join(outDir, "sdk")
const clientScript = clientScriptOf(root)

/** Row name → client → one figure per round. */
const figures = new Map<string, Map<ChildKind, Array<number>>>()
const record = (row: string, kind: ChildKind, value: number) => {
  const byKind = figures.get(row) ?? new Map<ChildKind, Array<number>>()
  figures.set(row, byKind)
  byKind.set(kind, [...(byKind.get(kind) ?? []), value])
}

const runChild = async (kind: ChildKind, task: Task): Promise<ChildReport> => {
  const report = await runClient(clientScript, kind, task, {
    cwd: root,
    showStderr: true,
    env: { [ourSdkDirVariable]: sdkDir }
  })
  if (!report.ok) throw new Error(`${kind} ${task._tag}: ${report.error}`)
  return report
}

/** The import each client's program starts with, timed inside a fresh `node`. */
const importPrograms: Record<"ours" | "platform" | "official", ReadonlyArray<string>> = {
  ours: [
    "effect/Effect",
    pathToFileURL(join(sdkDir, "Daytona.js")).href,
    pathToFileURL(join(sdkDir, "FileSystem.js")).href,
    "@effect/platform-node/NodeHttpClient"
  ],
  platform: ["effect/Effect", "@effect/platform-node/NodeHttpClient"],
  official: ["@daytona/sdk"]
}

const timeImport = async (modules: ReadonlyArray<string>): Promise<{ millis: number; rss: number }> => {
  const source = [
    "const start = performance.now()",
    `await Promise.all(${JSON.stringify(modules)}.map((m) => import(m)))`,
    "const millis = performance.now() - start",
    "console.log(JSON.stringify({ millis, rss: process.memoryUsage.rss() }))"
  ].join("\n")
  // Run from the repository so that the bare names resolve as the bench's children resolve them.
  const script = join(outDir, `import-${process.pid}.mjs`)
  await writeFile(script, source)
  const { stdout } = await promisify(execFile)(process.execPath, [script], { cwd: root })
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { millis: number; rss: number }
}

const main = async () => {
  await buildClient(root)
  await buildOurSdk(root, sdkDir)
  const work = await mkdtemp(join(tmpdir(), "effect-daytona-floor-"))
  const server = await startServer({ root, transitionMs: 20 })
  const info = { apiUrl: server.apiUrl, apiKey: server.apiKey }
  try {
    const sandbox = await createSandbox(server)
    const source = join(work, "source.bin")
    await writeRandomFile(source, sizeMiB * MiB)
    const sourceSum = await sha256File(source)
    for (let round = 0; round < rounds; round++) {
      for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
        const latency = await runChild(kind, {
          _tag: "latency",
          server: info,
          sandbox,
          warmup: 50,
          calls: 400,
          execCalls: 100,
          concurrency: [50, 200],
          concurrencyRounds: 10,
          createRounds: 0
        })
        const result = latency.result as LatencyResult
        record("small call, median (ms)", kind, median(result.small))
        record("client CPU per small call (µs)", kind, result.smallCpuMicros)
        record("executeCommand, median (ms)", kind, median(result.exec))
        record("50 concurrent, wall median (ms)", kind, median(result.concurrent["50"] ?? []))
        record("200 concurrent, wall median (ms)", kind, median(result.concurrent["200"] ?? []))
        record("calls: client RSS once set up (MiB)", kind, latency.rssReady / MiB)
        record("calls: client peak RSS (MiB)", kind, latency.maxRss / MiB)

        const remotePath = `floor/${kind}.bin`
        const upload = await runChild(kind, { _tag: "upload", server: info, sandbox, localPath: source, remotePath })
        record(`${sizeMiB} MiB upload (MiB/s)`, kind, sizeMiB / ((upload.result as TransferResult).millis / 1000))
        record(`${sizeMiB} MiB upload: client peak RSS (MiB)`, kind, upload.maxRss / MiB)
        const copy = join(work, `copy-${kind}.bin`)
        const download = await runChild(kind, { _tag: "download", server: info, sandbox, remotePath, localPath: copy })
        if ((await sha256File(copy)) !== sourceSum) throw new Error(`${kind}: the round trip changed the file`)
        record(`${sizeMiB} MiB download (MiB/s)`, kind, sizeMiB / ((download.result as TransferResult).millis / 1000))
        record(`${sizeMiB} MiB download: client peak RSS (MiB)`, kind, download.maxRss / MiB)
        await rm(copy, { force: true })
        process.stderr.write(`round ${round} ${kind} done\n`)
      }
    }
  } finally {
    await server.stop()
    await rm(work, { recursive: true, force: true })
  }
  const importKinds = ["ours", "platform", "official"] as const
  for (let round = 0; round < importRounds; round++) {
    for (const kind of round % 2 === 0 ? importKinds : [...importKinds].reverse()) {
      const measured = await timeImport(importPrograms[kind])
      record("cold import of the program (ms)", kind, measured.millis)
      record("RSS after the import (MiB)", kind, measured.rss / MiB)
    }
  }
  await rm(join(outDir, `import-${process.pid}.mjs`), { force: true })

  const lines = [
    `| row (medians of ${rounds} rounds; imports: ${importRounds}) | ours | platform client alone | official | undici | ours ÷ official | platform ÷ official |`,
    "|---|---:|---:|---:|---:|---:|---:|"
  ]
  for (const [row, byKind] of figures) {
    const value = (kind: ChildKind) => {
      const samples = byKind.get(kind)
      return samples === undefined ? undefined : median(samples)
    }
    const cell = (kind: ChildKind) => value(kind)?.toFixed(row.includes("(µs)") || row.includes("MiB/s") ? 0 : 1) ?? "—"
    const ratio = (kind: ChildKind) => {
      const mine = value(kind)
      const official = value("official")
      return mine === undefined || official === undefined ? "—" : `${(mine / official).toFixed(2)}×`
    }
    lines.push(`| ${row} | ${kinds.map(cell).join(" | ")} | ${ratio("ours")} | ${ratio("platform")} |`)
  }
  const table = `${lines.join("\n")}\n\nThroughput: higher is better; every other row: lower is better. ${new Date().toISOString()}, node ${process.version}.\n`
  await writeFile(join(outDir, "floor.md"), table)
  await writeFile(
    join(outDir, "floor.json"),
    JSON.stringify(Object.fromEntries([...figures].map(([row, byKind]) => [row, Object.fromEntries(byKind)])), null, 2)
  )
  console.log(table)
}

await main()
