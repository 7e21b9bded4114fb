/**
 * The benchmark client child as every bench script starts it: `scripts/bench/client.ts` and
 * `protocol.ts` compiled to JavaScript (`.bench/client/`) and run by plain `node`, as a user's
 * compiled program runs. Under `tsx`, every module a child loads passes through tsx's loader hooks,
 * which hold memory in proportion to the modules loaded: measured with the `idle` task, our client
 * (about 600 modules) was ready at 175–185 MiB under tsx and 121–125 MiB under plain node, the
 * official SDK at 117–119 and 93–97 MiB. That overhead belongs to the harness, not to any client.
 */
import { spawn } from "node:child_process"
import { mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import ts from "typescript"
import { type ChildKind, type ChildReport, resultPrefix, type Task } from "./protocol.js"

const sources = ["client.ts", "protocol.ts"] as const

/** Where {@link buildClient} writes the client child's script. */
export const clientScriptOf = (root: string): string => join(root, ".bench/client/client.js")

/** Compiles the client child into `<root>/.bench/client/`; returns the script to run. */
export const buildClient = async (root: string): Promise<string> => {
  await compileScripts(root, join(root, ".bench/client"), sources)
  return clientScriptOf(root)
}

/**
 * Transpiles scripts of `scripts/bench` (and what they import from there, which the caller names)
 * into `outDir` as ES modules, so that a child runs them under plain `node`.
 */
export const compileScripts = async (root: string, outDir: string, files: ReadonlyArray<string>): Promise<void> => {
  await mkdir(outDir, { recursive: true })
  await writeFile(join(outDir, "package.json"), JSON.stringify({ type: "module" }))
  for (const file of files) {
    const source = await readFile(join(root, "scripts/bench", file), "utf8")
    const output = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
    }).outputText
    const target = join(outDir, file.replace(/\.ts$/, ".js"))
    // Written beside and renamed, so that two scripts building at once never run a half-written file.
    const partial = `${target}.${process.pid}.partial`
    await writeFile(partial, output)
    await rename(partial, target)
  }
}

/** The arguments of `node` for one client child: `[nodeFlags] <compiled client> <kind> <task>`. */
export const clientArgs = (
  script: string,
  kind: ChildKind,
  task: Task,
  nodeFlags: ReadonlyArray<string> = []
): Array<string> => [...nodeFlags, script, kind, JSON.stringify(task)]

/** How {@link runClient} runs one child. */
export interface RunOptions {
  readonly cwd: string
  /** Flags for `node` itself (`--cpu-prof`, `--trace-gc`…). */
  readonly nodeFlags?: ReadonlyArray<string>
  /** Variables added to this process's environment. */
  readonly env?: Readonly<Record<string, string>>
  /** The child is killed after this long (default 15 minutes). */
  readonly timeoutMs?: number
  /** Show the child's standard error as it comes (else it is kept for the failure's message). */
  readonly showStderr?: boolean
  /** Print what the child wrote to its standard output besides its result. */
  readonly echo?: boolean
}

/**
 * Runs one client child on one task and reads its result: the last line starting with
 * `resultPrefix`; a child that ends without one is a failed report naming its exit and its stderr.
 */
export const runClient = (script: string, kind: ChildKind, task: Task, options: RunOptions): Promise<ChildReport> =>
  new Promise((done) => {
    const child = spawn(process.execPath, clientArgs(script, kind, task, options.nodeFlags), {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", options.showStderr === true ? "inherit" : "pipe"],
      env: { ...process.env, ...options.env }
    })
    let stdout = ""
    let stderr = ""
    child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 15 * 60_000)
    child.on("exit", (code, signal) => {
      clearTimeout(timer)
      const lines = stdout.split("\n")
      if (options.echo === true) {
        const other = lines.filter((line) => line !== "" && !line.startsWith(resultPrefix))
        if (other.length > 0) console.log(other.join("\n"))
      }
      const line = lines.reverse().find((l) => l.startsWith(resultPrefix))
      if (line !== undefined) return done(JSON.parse(line.slice(resultPrefix.length)) as ChildReport)
      done({
        ok: false,
        error: `child exited (code ${code}, signal ${signal}) without a result; stderr: ${stderr.slice(-2000)}`,
        rssReady: 0,
        maxRss: 0
      })
    })
  })
