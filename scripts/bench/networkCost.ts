/**
 * `tsx scripts/bench/networkCost.ts [--rounds <n>]`: what a network of its own costs a sandbox.
 * Two local servers under bubblewrap, one with `--network private` (a `slirp4netns` per started
 * sandbox) and one with `--network shared`, take creates in alternating order, round by round:
 * create → started (bare undici, medians) and then the resident memory of each `slirp4netns`
 * the private server started (medians, from `/proc`).
 */
import { readdir, readFile } from "node:fs/promises"
import { numberOption } from "./cli.js"
import { createSandbox } from "./fixtures.js"
import { type LocalServer, startServer } from "./server.js"
import { median } from "./stats.js"
import { root } from "../package/layout.js"

const rounds = numberOption("--rounds", 15)

/** Resident memory (KiB) of every process whose parent is `pid` and whose command is `name`. */
const childrenRss = async (pid: number, name: string): Promise<Array<number>> => {
  const found: Array<number> = []
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const status = await readFile(`/proc/${entry}/status`, "utf8").catch(() => "")
    if (/^Name:\s+(\S+)/m.exec(status)?.[1] !== name) continue
    if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== pid) continue
    found.push(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0))
  }
  return found
}

const servers: Record<"private" | "shared", LocalServer> = {
  private: await startServer({ root, transitionMs: 0, isolation: "bwrap", network: "private" }),
  shared: await startServer({ root, transitionMs: 0, isolation: "bwrap", network: "shared" })
}
try {
  const times: Record<"private" | "shared", Array<number>> = { private: [], shared: [] }
  for (let round = 0; round < rounds; round++) {
    const order: Array<"private" | "shared"> = round % 2 === 0 ? ["private", "shared"] : ["shared", "private"]
    for (const mode of order) {
      const started = performance.now()
      await createSandbox(servers[mode])
      times[mode].push(performance.now() - started)
    }
  }
  const slirp = await childrenRss(servers.private.pid, "slirp4netns")
  const privateMedian = median(times.private)
  const sharedMedian = median(times.shared)
  console.log(
    `create → started, median of ${rounds}: private ${privateMedian.toFixed(1)} ms, shared ${sharedMedian.toFixed(1)} ms (+${(privateMedian - sharedMedian).toFixed(1)} ms, ${(privateMedian / sharedMedian).toFixed(2)}×)`
  )
  console.log(`slirp4netns processes: ${slirp.length}, RSS median ${(median(slirp) / 1024).toFixed(1)} MiB each`)
} finally {
  await servers.private.stop()
  await servers.shared.stop()
}
