/**
 * `tsx scripts/bench/serverMemory.ts [--size <MiB>] [--kind ours|official|undici] [--isolation auto|none|bwrap]
 * [--server-flag <flag>]…`:
 * the local server's RSS while one client uploads then downloads a file, sampled every 100 ms from
 * /proc, with the server's heap figures at the end (to tell buffered request bytes from a heap that
 * did not shrink).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises"
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
const sizeMiB = numberOption("--size", 256)
const kind = option("--kind", "undici") as ClientKind
const isolation = option("--isolation", "auto") as "auto" | "none" | "bwrap"
const buildDir = join(root, ".bench/focus/sdk")
/** Flags for the server's node (`--server-flag --trace-gc`); the server's output is printed at the end. */
const serverFlags = repeatedOption("--server-flag")

const runChild = (task: Task): Promise<ChildReport> =>
  runClient(clientScript, kind, task, { cwd: root, showStderr: true, env: { [ourSdkDirVariable]: buildDir } })

const main = async () => {
  await buildClient(root)
  if (kind === "ours") await buildOurSdk(root, buildDir)
  const work = await mkdtemp(join(tmpdir(), "effect-daytona-server-memory-"))
  const server = await startServer({ root, transitionMs: 20, isolation, nodeFlags: serverFlags })
  const info = { apiUrl: server.apiUrl, apiKey: server.apiKey }
  try {
    const sandbox = await createSandbox(server)
    const source = join(work, "source.bin")
    await writeRandomFile(source, sizeMiB * MiB)
    for (const task of [
      { _tag: "upload", server: info, sandbox, localPath: source, remotePath: "memory/file.bin" },
      { _tag: "download", server: info, sandbox, remotePath: "memory/file.bin", localPath: join(work, "copy.bin") }
    ] satisfies ReadonlyArray<Task>) {
      const before = await server.rss()
      await server.resetPeak()
      let max = before
      const sampler = setInterval(() => {
        void server.rss().then((rss) => (max = Math.max(max, rss)))
      }, 100)
      const started = performance.now()
      const report = await runChild(task)
      clearInterval(sampler)
      const seconds = (performance.now() - started) / 1000
      console.log(
        `${(await readFile(`/proc/${server.pid}/status`, "utf8"))
          .split("\n")
          .filter((l) => /^(RssAnon|RssFile|RssShmem)/.test(l))
          .join(
            ", "
          )}\n${kind} ${task._tag} ${sizeMiB} MiB (isolation ${server.isolation}): ${report.ok ? "ok" : report.error}, ${seconds.toFixed(1)} s; server RSS before ${(before / MiB).toFixed(0)} MiB, sampled max ${(max / MiB).toFixed(0)} MiB, VmHWM ${((await server.peakRss()) / MiB).toFixed(0)} MiB, after ${((await server.rss()) / MiB).toFixed(0)} MiB`
      )
    }
  } finally {
    if (serverFlags.length > 0) console.log(server.output().slice(-6000))
    await server.stop()
    await rm(work, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
