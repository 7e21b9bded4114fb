import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"

const root = NodePath.resolve(new URL(".", import.meta.url).pathname, "../../..")
const apiKey = "dtn_quickstart_interrupt_test_key"

/** Resolves with the process's output once `pattern` appears in it; rejects after `timeoutMs`. */
const waitForOutput = (child: NodeChildProcess.ChildProcess, pattern: RegExp, timeoutMs: number) =>
  new Promise<string>((resolve, reject) => {
    let output = ""
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (pattern.test(output)) {
        clearTimeout(timer)
        resolve(output)
      }
    }
    child.stdout?.on("data", onData)
    child.stderr?.on("data", onData)
  })

const exited = (child: NodeChildProcess.ChildProcess, timeoutMs: number) =>
  new Promise<number | null>((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
    const timer = setTimeout(() => reject(new Error("the process did not exit")), timeoutMs)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })

const listAll = async (apiUrl: string) => {
  const response = await fetch(`${apiUrl}/sandbox/paginated?limit=200`, {
    headers: { authorization: `Bearer ${apiKey}` }
  })
  return ((await response.json()) as { items: ReadonlyArray<{ id: string; state: string }> }).items
}

describe("quickstart interrupted with Ctrl-C", () => {
  it.live(
    "SIGINT to the process group of `pnpm quickstart` mid-run deletes the sandbox before it exits",
    () =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          const dataDir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "quickstart-interrupt-"))
          const server = NodeChildProcess.spawn(
            process.execPath,
            [
              NodePath.join(root, "packages/local/bin/daytona-local.mjs"),
              "serve",
              "--port",
              "0",
              "--data-dir",
              dataDir,
              "--api-key",
              apiKey,
              "--transition-ms",
              "50"
            ],
            { stdio: ["ignore", "pipe", "pipe"] }
          )
          return { dataDir, server }
        }),
        ({ server }) =>
          Effect.promise(async () => {
            const banner = await waitForOutput(server, /DAYTONA_API_URL=(\S+)/, 30_000)
            const apiUrl = /DAYTONA_API_URL=(\S+)/.exec(banner)![1]!
            const quickstart = NodeChildProcess.spawn("pnpm", ["quickstart"], {
              cwd: root,
              env: { ...process.env, DAYTONA_API_URL: apiUrl, DAYTONA_API_KEY: apiKey },
              stdio: ["ignore", "pipe", "pipe"],
              detached: true
            })
            const output = await waitForOutput(quickstart, /home directory/, 60_000)
            const created = /create \(python\)\s+\d+ ms\s+(\S+)/.exec(output)?.[1]
            const before = await listAll(apiUrl)
            process.kill(-quickstart.pid!, "SIGINT")
            await exited(quickstart, 30_000)
            return { created, before, after: await listAll(apiUrl) }
          }).pipe(
            Effect.map(({ after, before, created }) => {
              assert.isDefined(created)
              assert.deepStrictEqual(
                before.map((sandbox) => sandbox.id),
                [created]
              )
              assert.deepStrictEqual(after, [])
            })
          ),
        ({ dataDir, server }) =>
          Effect.promise(async () => {
            server.kill("SIGTERM")
            await exited(server, 10_000).catch(() => server.kill("SIGKILL"))
            NodeFs.rmSync(dataDir, { recursive: true, force: true })
          })
      ),
    120_000
  )
})
