/**
 * The local server as a separate process, started through its CLI
 * (`node packages/local/bin/daytona-local.mjs serve …`), and its memory as the kernel reports it.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

export interface LocalServer {
  readonly url: string
  readonly apiUrl: string
  readonly apiKey: string
  readonly pid: number
  readonly isolation: string
  readonly dataDir: string
  /** Peak RSS (VmHWM) in bytes since start or since the last `resetPeak`. */
  readonly peakRss: () => Promise<number>
  readonly rss: () => Promise<number>
  /** CPU time (user + system) the server process has used since it started, milliseconds. */
  readonly cpuMillis: () => Promise<number>
  /** Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`); false when not permitted. */
  readonly resetPeak: () => Promise<boolean>
  readonly stop: () => Promise<void>
  /** Everything the server printed, and how it exited if it did. */
  readonly output: () => string
  readonly exit: () => string | undefined
}

const statusField = async (pid: number, field: string): Promise<number> => {
  const status = await readFile(`/proc/${pid}/status`, "utf8")
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)
  if (match === null) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/** utime + stime of /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms). */
const cpuMillisOf = async (pid: number): Promise<number> => {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

export const startServer = async (options: {
  readonly root: string
  readonly transitionMs: number
  readonly isolation?: "auto" | "none" | "bwrap"
  /** The network of sandboxes without rules (`--network`); the server's default when absent. */
  readonly network?: "auto" | "private" | "shared"
  /** Flags for the server's node, e.g. `--cpu-prof` (profile.ts `--server`). */
  readonly nodeFlags?: ReadonlyArray<string>
}): Promise<LocalServer> => {
  const dataDir = await mkdtemp(join(tmpdir(), "effect-daytona-bench-data-"))
  const apiKey = `bench-${Math.random().toString(36).slice(2)}`
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(options.nodeFlags ?? []),
      join(options.root, "packages/local/bin/daytona-local.mjs"),
      "serve",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      "--api-key",
      apiKey,
      "--isolation",
      options.isolation ?? "auto",
      "--transition-ms",
      String(options.transitionMs),
      ...(options.network === undefined ? [] : ["--network", options.network])
    ],
    { cwd: options.root, stdio: ["ignore", "pipe", "pipe"] }
  )
  let output = ""
  const ready = new Promise<{ url: string; isolation: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /listening on (http:\/\/\S+)/.exec(output)
      const isolation = /isolation: (\S+)/.exec(output)
      if (url !== null && isolation !== null) {
        clearTimeout(timer)
        resolve({ url: url[1]!, isolation: isolation[1]! })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`the server exited with ${code}:\n${output}`))
    })
  })
  const { url, isolation } = await ready
  const pid = child.pid!
  let exit: string | undefined
  child.once("exit", (code, signal) => {
    exit = `exited with code ${code}, signal ${signal}`
  })
  return {
    url,
    apiUrl: `${url}/api`,
    apiKey,
    pid,
    isolation,
    dataDir,
    peakRss: () => statusField(pid, "VmHWM"),
    rss: () => statusField(pid, "VmRSS"),
    cpuMillis: () => cpuMillisOf(pid),
    resetPeak: async () => {
      try {
        await writeFile(`/proc/${pid}/clear_refs`, "5")
        return true
      } catch {
        return false
      }
    },
    output: () => output,
    exit: () => exit,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
        child.kill("SIGTERM")
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
        await exited
        clearTimeout(timer)
      }
      await rm(dataDir, { recursive: true, force: true })
    }
  }
}
