/**
 * `tsx scripts/bench/focus.ts [--size <MiB>] [--rounds <n>] [--no-download] [--upload] [--latency] [--base <dir>]`:
 * the transfer and small-call rows of `pnpm bench` alone, repeated, for before/after comparisons.
 *
 * One local server, one sandbox and one remote file of random data (uploaded once with undici).
 * Each round runs every client in its own child process (scripts/bench/client.ts, our SDK compiled
 * into `.bench/focus/sdk`), in mirrored order across rounds; it prints per-round figures and the
 * medians with their ratio to undici from the same run. `--base <dir>` adds a client `base`: our
 * SDK compiled from another checkout's `packages/sdk` (e.g. `git archive HEAD packages/sdk
 * tsconfig.base.json | tar -x -C <dir>`), so that before and after run side by side.
 */
import { existsSync } from "node:fs"
import { mkdtemp, rm, stat, symlink } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { ChildReport, ClientKind, Task } from "./protocol.js"
import { buildClient, clientScriptOf, runClient } from "./clientProcess.js"
import { ourSdkDirVariable } from "./protocol.js"
import { createSandbox, writeRandomFile } from "./fixtures.js"
import { startServer } from "./server.js"
import { buildOurSdk } from "./size.js"
import { median } from "./stats.js"
import { numberOption, optionValue } from "./cli.js"
import { root } from "../package/layout.js"

const clientScript = clientScriptOf(root)
const MiB = 1024 * 1024
const sizeMiB = numberOption("--size", 256)
const rounds = numberOption("--rounds", 3)
const download = !process.argv.includes("--no-download")
const upload = process.argv.includes("--upload")
const latency = process.argv.includes("--latency")
const baseOption = optionValue("--base")
const baseRoot = baseOption === undefined ? undefined : resolve(baseOption)
type Kind = ClientKind | "base"
const kinds: ReadonlyArray<Kind> =
  baseRoot === undefined ? ["ours", "official", "undici"] : ["base", "ours", "official", "undici"]
const buildDir = join(root, ".bench/focus/sdk")
const baseBuildDir = join(root, ".bench/focus/base-sdk")

const runChild = (kind: Kind, task: Task): Promise<ChildReport> =>
  runClient(clientScript, kind === "base" ? "ours" : kind, task, {
    cwd: root,
    showStderr: true,
    env: { [ourSdkDirVariable]: kind === "base" ? baseBuildDir : buildDir }
  })

const main = async () => {
  await buildClient(root)
  await buildOurSdk(root, buildDir)
  if (baseRoot !== undefined) {
    // The other checkout compiles with this one's TypeScript and resolves its imports from here.
    if (!existsSync(join(baseRoot, "node_modules")))
      await symlink(join(root, "node_modules"), join(baseRoot, "node_modules"))
    await buildOurSdk(baseRoot, baseBuildDir)
  }
  const work = await mkdtemp(join(tmpdir(), "effect-daytona-focus-"))
  const server = await startServer({ root, transitionMs: 20 })
  const info = { apiUrl: server.apiUrl, apiKey: server.apiKey }
  try {
    const sandbox = await createSandbox(server)
    const remotePath = "focus/source.bin"
    const throughput: Record<string, Array<number>> = {}
    const uploads: Record<string, Array<number>> = {}
    const serverGrowth: Record<string, Array<number>> = {}
    const small: Record<string, Array<number>> = {}
    const smallCpu: Record<string, Array<number>> = {}
    const source = join(work, "source.bin")
    if (download || upload) {
      await writeRandomFile(source, sizeMiB * MiB)
      const up = await runChild("undici", { _tag: "upload", server: info, sandbox, localPath: source, remotePath })
      if (!up.ok) throw new Error(`upload: ${up.error}`)
    }
    for (let r = 0; r < rounds; r++) {
      for (const kind of r % 2 === 0 ? kinds : [...kinds].reverse()) {
        if (upload) {
          const task: Task = {
            _tag: "upload",
            server: info,
            sandbox,
            localPath: source,
            remotePath: `focus/up-${kind}.bin`
          }
          const serverCpu = await server.cpuMillis()
          const serverBefore = await server.rss()
          const peakReset = await server.resetPeak()
          const report = await runChild(kind, task)
          if (!report.ok || report.result?._tag !== "transfer") throw new Error(`${kind}: ${report.error}`)
          const mibs = sizeMiB / (report.result.millis / 1000)
          ;(uploads[kind] ??= []).push(mibs)
          // The growth over the server's RSS just before: its peak alone says more of what earlier rounds left.
          const growth = peakReset ? ((await server.peakRss()) - serverBefore) / MiB : Number.NaN
          ;(serverGrowth[kind] ??= []).push(growth)
          process.stderr.write(
            `round ${r} ${kind} upload ${mibs.toFixed(0)} MiB/s, client CPU ${(report.result.cpuMicros / 1000).toFixed(0)} ms, server CPU ${(await server.cpuMillis()) - serverCpu} ms, client peak ${(report.maxRss / MiB).toFixed(0)} MiB, server peak over its RSS before ${growth.toFixed(1)} MiB\n`
          )
        }
        if (download) {
          const localPath = join(work, `copy-${kind}.bin`)
          const serverCpu = await server.cpuMillis()
          const report = await runChild(kind, { _tag: "download", server: info, sandbox, remotePath, localPath })
          if (!report.ok || report.result?._tag !== "transfer") throw new Error(`${kind}: ${report.error}`)
          if ((await stat(localPath)).size !== sizeMiB * MiB) throw new Error(`${kind}: wrong size`)
          const mibs = sizeMiB / (report.result.millis / 1000)
          ;(throughput[kind] ??= []).push(mibs)
          process.stderr.write(
            `round ${r} ${kind} download ${mibs.toFixed(0)} MiB/s, client CPU ${(report.result.cpuMicros / 1000).toFixed(0)} ms, server CPU ${(await server.cpuMillis()) - serverCpu} ms, client peak ${(report.maxRss / MiB).toFixed(0)} MiB\n`
          )
          await rm(localPath, { force: true })
        }
        if (latency) {
          const report = await runChild(kind, {
            _tag: "latency",
            server: info,
            sandbox,
            warmup: 50,
            calls: 200,
            concurrency: [],
            concurrencyRounds: 0,
            createRounds: 0
          })
          if (!report.ok || report.result?._tag !== "latency") throw new Error(`${kind}: ${report.error}`)
          const m = median(report.result.small)
          ;(small[kind] ??= []).push(m)
          ;(smallCpu[kind] ??= []).push(report.result.smallCpuMicros)
          process.stderr.write(
            `round ${r} ${kind} small call median ${m.toFixed(2)} ms, client CPU ${report.result.smallCpuMicros.toFixed(0)} µs per call\n`
          )
        }
      }
    }
    const line = (label: string, data: Record<string, Array<number>>, unit: string) => {
      const base = median(data.undici ?? [])
      for (const kind of kinds) {
        const m = median(data[kind] ?? [])
        const all = (data[kind] ?? []).map((x) => x.toFixed(unit === "ms" ? 2 : 0)).join(", ")
        console.log(
          `${label} ${kind.padEnd(8)} median ${m.toFixed(2)} ${unit} [${all}]  ÷ undici ${base > 0 ? (m / base).toFixed(2) : "—"}`
        )
      }
    }
    if (upload) line(`${sizeMiB} MiB upload`, uploads, "MiB/s")
    if (upload) line(`${sizeMiB} MiB upload: server peak over its RSS before`, serverGrowth, "MiB")
    if (download) line(`${sizeMiB} MiB download`, throughput, "MiB/s")
    if (latency) line("small call", small, "ms")
    if (latency) line("small call client CPU", smallCpu, "µs")
  } finally {
    await server.stop()
    await rm(work, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
