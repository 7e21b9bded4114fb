/**
 * `tsx scripts/bench/sideBySide.ts [--rounds <n>] [--sandboxes <n>]`: our SDK, the official SDK
 * and bare undici in one process (`sideBySideChild.ts`, compiled, under plain `node`), alternating
 * round by round against one local server that first holds `--sandboxes` stopped sandboxes (default
 * 200, so that a list page is full): create → first command split into its two calls with the client
 * CPU of each, and one list page of 200. Where `pnpm bench` gives each client a fresh process,
 * this shares one warm event loop and heap, so a difference that remains here is the client's own.
 */
import { join } from "node:path"
import { request } from "undici"
import { compileScripts } from "./clientProcess.js"
import { exec } from "../package/process.js"
import { createSandbox } from "./fixtures.js"
import { startServer } from "./server.js"
import { buildOurSdk } from "./size.js"
import { numberOption } from "./cli.js"
import { root } from "../package/layout.js"

const rounds = numberOption("--rounds", 20)
const sandboxes = numberOption("--sandboxes", 200)
const outDir = join(root, ".bench/side-by-side")
const sdkDir = join(outDir, "sdk")

await buildOurSdk(root, sdkDir)
await compileScripts(root, outDir, ["sideBySideChild.ts"])
const server = await startServer({ root, transitionMs: 20 })
try {
  for (let i = 0; i < sandboxes; i++) {
    const { id } = await createSandbox(server)
    const stopped = await request(`${server.apiUrl}/sandbox/${id}/stop`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}` }
    })
    await stopped.body.text()
  }
  const result = await exec(
    process.execPath,
    [join(outDir, "sideBySideChild.js"), server.apiUrl, server.apiKey, sdkDir, String(rounds)],
    root,
    process.env
  )
  if (result.code !== 0) throw new Error(`the child failed (${result.code}):\n${result.stderr}`)
  console.log(`${rounds} rounds, ${sandboxes} stopped sandboxes beside; medians (ms):`)
  process.stdout.write(result.stdout)
} finally {
  await server.stop()
}
