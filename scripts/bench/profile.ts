/**
 * `tsx scripts/bench/profile.ts [--task small|concurrent|create|upload|download|import] [--kind ours|official|undici]
 * [--size <MiB>] [--top <n>] [--node-flag <flag>]… [--server]`:
 * where a client's time goes. Starts the local server, runs one client child (scripts/bench/client.ts,
 * our SDK compiled into `.bench/profile/sdk`) under `node --cpu-prof`, and prints the self time of the
 * profile grouped by package and by function, so that a change is aimed at what costs.
 *
 * Sampling profiles measure proportions, which a busy machine hardly changes; their absolute times
 * are not figures to compare (the bench's are).
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ChildReport, ClientKind, Task } from "./protocol.js"
import { buildClient, clientScriptOf, runClient } from "./clientProcess.js"
import { ourSdkDirVariable } from "./protocol.js"
import { createSandbox, writeRandomFile } from "./fixtures.js"
import { startServer } from "./server.js"
import { buildOurSdk } from "./size.js"
import { numberOption, option, repeatedOption } from "./cli.js"
import { root } from "../package/layout.js"

const clientScript = clientScriptOf(root)
const MiB = 1024 * 1024
const taskName = option("--task", "small")
const kind = option("--kind", "ours") as ClientKind
const sizeMiB = numberOption("--size", 256)
const top = numberOption("--top", 40)
/** Extra flags for the client's node (`--node-flag --trace-gc`); its other output is printed. */
const nodeFlags = repeatedOption("--node-flag")
/** Profile the server process instead of the client (the server writes its profile when stopped). */
const profileServer = process.argv.includes("--server")
const buildDir = join(root, ".bench/profile/sdk")
const profileDir = join(root, ".bench/profile/cpu")

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number }
  readonly children?: ReadonlyArray<number>
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** The package (or area) a script URL belongs to. */
const areaOf = (url: string): string => {
  if (url === "") return "(native / vm)"
  if (url.startsWith("node:")) return "node internals"
  const store = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (store !== null) return store[1]!
  const plain = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (plain !== null) return plain[1]!
  if (url.includes("/.bench/") && url.includes("/sdk/")) return "@effect-daytona/sdk"
  if (url.includes("/scripts/bench/")) return "bench client"
  return url.replace(/^file:\/\//, "")
}

const summarize = (profile: CpuProfile) => {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const self = new Map<number, number>()
  // The first delta is the time from the profiler's start to its first sample (the inspector
  // session being set up), charged to whatever frame was on the stack: not the client's work.
  profile.samples.forEach((id, i) => {
    if (i > 0) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  // Waiting for the server is not the client's cost.
  for (const [id] of self) if (byId.get(id)!.callFrame.functionName === "(idle)") self.delete(id)
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, micros] of self) {
    const frame = byId.get(id)!.callFrame
    const area = areaOf(frame.url)
    areas.set(area, (areas.get(area) ?? 0) + micros)
    const file = frame.url.split("/").slice(-1)[0] ?? ""
    const key = `${frame.functionName || "(anonymous)"} ${area === file ? "" : `${area} `}${file}:${frame.lineNumber + 1}`
    functions.set(key, (functions.get(key) ?? 0) + micros)
  }
  const share = (micros: number) => `${((100 * micros) / total).toFixed(1).padStart(5)} %`
  const lines = [`busy (not idle) ${(total / 1000).toFixed(0)} ms`, "", "self time by package:"]
  for (const [area, micros] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 20))
    lines.push(`  ${share(micros)}  ${area}`)
  lines.push("", `self time by function (top ${top}):`)
  for (const [name, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${share(micros)}  ${name}`)
  return lines.join("\n")
}

const runProfiled = (task: Task): Promise<ChildReport> =>
  runClient(clientScript, kind, task, {
    cwd: root,
    showStderr: true,
    echo: true,
    nodeFlags: [...nodeFlags, ...(taskName === "import" ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [])],
    env: {
      [ourSdkDirVariable]: buildDir,
      ...(taskName === "import" || profileServer ? {} : { BENCH_CPU_PROFILE: join(profileDir, "measured.cpuprofile") })
    }
  })

const main = async () => {
  await buildClient(root)
  await buildOurSdk(root, buildDir)
  await rm(profileDir, { recursive: true, force: true })
  await mkdir(profileDir, { recursive: true })
  const work = await mkdtemp(join(tmpdir(), "effect-daytona-profile-"))
  const serverProfileDir = join(profileDir, "server")
  const server = await startServer({
    root,
    transitionMs: 20,
    ...(profileServer ? { nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${serverProfileDir}`] } : {})
  })
  const info = { apiUrl: server.apiUrl, apiKey: server.apiKey }
  try {
    const sandbox = await createSandbox(server)
    const source = join(work, "source.bin")
    if (taskName === "upload" || taskName === "download") await writeRandomFile(source, sizeMiB * MiB)
    let task: Task
    switch (taskName) {
      case "upload":
        task = { _tag: "upload", server: info, sandbox, localPath: source, remotePath: "profile/up.bin" }
        break
      case "download": {
        const setup: Task = { _tag: "upload", server: info, sandbox, localPath: source, remotePath: "profile/dl.bin" }
        const uploaded = await runClient(clientScript, "undici", setup, { cwd: root })
        if (!uploaded.ok) throw new Error(`the download's file could not be uploaded: ${uploaded.error}`)
        task = {
          _tag: "download",
          server: info,
          sandbox,
          remotePath: "profile/dl.bin",
          localPath: join(work, "copy.bin")
        }
        break
      }
      case "import":
        task = { _tag: "idle" }
        break
      case "create":
        task = {
          _tag: "latency",
          server: info,
          sandbox,
          warmup: 10,
          calls: 0,
          execCalls: 0,
          concurrency: [],
          concurrencyRounds: 0,
          createRounds: 40
        }
        break
      case "concurrent":
        task = {
          _tag: "latency",
          server: info,
          sandbox,
          warmup: 10,
          calls: 0,
          execCalls: 0,
          concurrency: [200],
          concurrencyRounds: 30,
          createRounds: 0
        }
        break
      default:
        task = {
          _tag: "latency",
          server: info,
          sandbox,
          warmup: 200,
          calls: 3000,
          execCalls: 0,
          concurrency: [],
          concurrencyRounds: 0,
          createRounds: 0
        }
    }
    const report = await runProfiled(task)
    if (!report.ok) throw new Error(`the client failed: ${report.error}`)
    // The server's profile spans its whole life (start, setup and the task): it is written at exit.
    if (profileServer) await server.stop()
    const dir = profileServer ? serverProfileDir : profileDir
    const [file] = (await readdir(dir)).filter((name) => name.endsWith(".cpuprofile"))
    if (file === undefined) throw new Error("no profile written")
    const profile = JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile
    console.log(`${profileServer ? "server during " : ""}${kind} ${taskName}: profile ${join(dir, file)}`)
    if (report.result?._tag === "latency" && report.result.small.length > 0)
      console.log(`client CPU per sequential small call: ${report.result.smallCpuMicros.toFixed(0)} µs`)
    console.log(summarize(profile))
  } finally {
    await server.stop()
    await rm(work, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
