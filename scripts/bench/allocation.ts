/**
 * `tsx scripts/bench/allocation.ts [--calls <n>] [--rounds <n>]`: bytes allocated per small call
 * (`getUserHomeDir`) by our SDK, `@effect/platform`'s undici client alone (no SDK), the official SDK
 * and bare undici, each in a fresh process (`allocationChild.ts`, compiled, plain `node`) under
 * V8's sampling heap profiler counting objects already collected: the garbage each call leaves,
 * which is what the collector's share of a client's CPU grows with.
 */
import { join } from "node:path"
import { exec } from "../package/process.js"
import { compileScripts } from "./clientProcess.js"
import { createSandbox } from "./fixtures.js"
import { startServer } from "./server.js"
import { buildOurSdk } from "./size.js"
import { median } from "./stats.js"
import { numberOption } from "./cli.js"
import { root } from "../package/layout.js"

const calls = numberOption("--calls", 2000)
const rounds = numberOption("--rounds", 3)
const outDir = join(root, ".bench/allocation")
const sdkDir = join(outDir, "sdk")
const kinds = ["ours", "platform", "official", "undici"] as const

await buildOurSdk(root, sdkDir)
await compileScripts(root, outDir, ["allocationChild.ts"])
const server = await startServer({ root, transitionMs: 20 })
try {
  const sandbox = await createSandbox(server)
  const bytes: Record<string, Array<number>> = Object.fromEntries(kinds.map((kind) => [kind, []]))
  for (let round = 0; round < rounds; round++) {
    for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) {
      const result = await exec(
        process.execPath,
        [
          join(outDir, "allocationChild.js"),
          kind,
          server.apiUrl,
          server.apiKey,
          sandbox.id,
          sandbox.toolboxProxyUrl,
          sdkDir,
          String(calls)
        ],
        root,
        process.env
      )
      if (result.code !== 0) throw new Error(`${kind} failed (${result.code}):\n${result.stderr}`)
      const line = result.stdout.trim().split("\n").pop() ?? "{}"
      bytes[kind]!.push((JSON.parse(line) as { readonly bytesPerCall: number }).bytesPerCall)
    }
  }
  console.log(`bytes allocated per getUserHomeDir (${calls} calls after 500 warm-up; medians of ${rounds} processes):`)
  for (const kind of kinds)
    console.log(`  ${kind.padEnd(9)} ${median(bytes[kind]!).toFixed(0).padStart(8)} B  [${bytes[kind]!.join(", ")}]`)
} finally {
  await server.stop()
}
