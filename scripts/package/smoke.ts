/**
 * `pnpm pack:smoke`: the consumer smoke test. Packs the published packages (pack.ts), then, in a
 * temporary folder outside the workspace, does what a user does with them:
 *
 * 1. a fresh project installs the three tarballs plus `effect`, `@effect/platform` and
 *    `@effect/platform-node` from the npm registry, at the workspace's exact versions (no workspace
 *    link: the folder is outside the repository);
 * 2. type-checks `consumer/src` and `consumer/test` under `strict`, with `moduleResolution`
 *    `NodeNext` and again `Bundler`, library declarations included (`skipLibCheck: false`);
 * 3. starts `npx @effect-daytona/local serve` on a free port (the compiled bin, no tsx);
 * 4. runs the compiled program against it (create, a command, an upload and download, delete);
 * 5. runs one `@effect/vitest` test that uses `@effect-daytona/testing`'s layer.
 *
 * Needs only this repository, Node, pnpm and the npm registry. `--keep` leaves the folder in place.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { root } from "./layout.js"
import { describeTarballs, packAll, type Tarball } from "./pack.js"

const templateDir = join(dirname(fileURLToPath(import.meta.url)), "consumer")
const started = performance.now()
const seconds = (from: number) => `${((performance.now() - from) / 1000).toFixed(1)} s`
const log = (message: string) => console.log(`[smoke ${seconds(started).padStart(7)}] ${message}`)

/** The workspace's exact versions of what the consumer installs from the registry. */
const pinned = (): Record<string, string> => {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    readonly devDependencies: Record<string, string>
  }
  const names = [
    "effect",
    "@effect/platform",
    "@effect/platform-node",
    "typescript",
    "@types/node",
    "vitest",
    "@effect/vitest"
  ]
  return Object.fromEntries(
    names.map((name) => {
      const version = manifest.devDependencies[name]
      if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
        throw new Error(`the root package.json pins no exact version of ${name}`)
      }
      return [name, version]
    })
  )
}

/**
 * The environment of the consumer's commands: this process's, without what a parent `pnpm run`
 * exported about the workspace (`npm_*`, `PNPM_*` settings), so that the consumer's pnpm reads
 * only its own project and the user's configuration.
 */
const consumerEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_)/i.test(key)) env[key] = value
  }
  return { ...env, ...extra }
}

interface Output {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const exec = (command: string, args: ReadonlyArray<string>, cwd: string, env = consumerEnv()): Promise<Output> =>
  new Promise((resolvePromise) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolvePromise({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

const mustSucceed = async (what: string, output: Promise<Output>): Promise<Output> => {
  const result = await output
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}${result.stderr}`)
  return result
}

/** Writes the consumer project: its manifest (tarballs named by path) and the template's files. */
const writeProject = async (dir: string, tarballs: ReadonlyArray<Tarball>): Promise<void> => {
  const byName = new Map(tarballs.map((t) => [t.name, `file:${t.path}`]))
  await writeFile(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "effect-daytona-consumer",
        private: true,
        type: "module",
        pnpm: {
          // The tarballs are not on the registry: their dependencies on each other resolve to them.
          overrides: Object.fromEntries(byName),
          // pnpm 10 runs no dependency's install script unless allowed; better-sqlite3 builds the
          // local server's SQLite binding.
          onlyBuiltDependencies: ["better-sqlite3"]
        }
      },
      null,
      2
    )}\n`
  )
  await cp(templateDir, dir, { recursive: true })
}

/**
 * Type-checks with one tsconfig, library declarations included. A diagnostic in the consumer's
 * files or in an `@effect-daytona` declaration fails; one in another library's declarations (as
 * `@effect/platform`'s, which name DOM types this lib-less project does not load) is not ours to
 * fix: it is counted and shown, not failed.
 */
const typecheck = async (dir: string, config: string): Promise<string> => {
  const output = await exec(
    process.execPath,
    [join(dir, "node_modules/typescript/bin/tsc"), "-p", config, "--pretty", "false"],
    dir
  )
  const diagnostics = `${output.stdout}${output.stderr}`
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith(" "))
  const upstream = new Map<string, number>()
  const ours: Array<string> = []
  for (const line of diagnostics) {
    const file = /^(.+?)\(\d+,\d+\): error /.exec(line)?.[1]
    const library =
      file === undefined
        ? undefined
        : /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]
    if (library !== undefined && !library.startsWith("@effect-daytona/")) {
      upstream.set(library, (upstream.get(library) ?? 0) + 1)
    } else {
      ours.push(line)
    }
  }
  if (ours.length > 0 || (output.code !== 0 && diagnostics.length === 0)) {
    throw new Error(`type check with ${config} failed:\n${ours.join("\n") || output.stdout + output.stderr}`)
  }
  return upstream.size === 0
    ? "no errors"
    : `no errors in the consumer or @effect-daytona; other libraries' declarations: ${[...upstream].map(([name, n]) => `${name} ${n}`).join(", ")}`
}

interface Server {
  readonly apiUrl: string
  readonly apiKey: string
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/** Starts `npx @effect-daytona/local serve` in its own process group and waits (≤ 60 s) for its address. */
const startServer = (dir: string): Promise<Server> =>
  new Promise((resolvePromise, reject) => {
    const apiKey = `dtn_${randomBytes(32).toString("hex")}`
    const child: ChildProcess = spawn(
      "npx",
      ["@effect-daytona/local", "serve", "--port", "0", "--data-dir", join(dir, "server-data"), "--api-key", apiKey],
      { cwd: dir, env: consumerEnv(), detached: true, stdio: ["ignore", "pipe", "pipe"] }
    )
    let output = ""
    let exited: string | undefined
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const apiUrl = /DAYTONA_API_URL=(\S+)/.exec(output)?.[1]
      if (apiUrl !== undefined) {
        clearTimeout(timer)
        resolvePromise({ apiUrl, apiKey, output: () => output, stop })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    const exit = new Promise<void>((done) =>
      child.on("exit", (code, signal) => {
        exited = `exited (code ${code}, signal ${signal})`
        clearTimeout(timer)
        reject(new Error(`the local server ${exited} before listening:\n${output}`))
        done()
      })
    )
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal)
      } catch {
        // the group is already gone
      }
    }
    const stop = async () => {
      if (exited !== undefined) return
      signalGroup("SIGTERM")
      const killer = setTimeout(() => signalGroup("SIGKILL"), 10_000)
      await exit
      clearTimeout(killer)
    }
    const timer = setTimeout(() => {
      signalGroup("SIGKILL")
      reject(new Error(`the local server did not print its address within 60 s:\n${output}`))
    }, 60_000)
  })

/** Runs the vitest suite and checks from its JSON report that its one test ran and passed. */
const runTests = async (dir: string): Promise<string> => {
  const report = join(dir, "vitest-report.json")
  const output = await exec(
    process.execPath,
    [
      join(dir, "node_modules/vitest/vitest.mjs"),
      "run",
      "--dir",
      "test",
      "--reporter=default",
      "--reporter=json",
      `--outputFile=${report}`
    ],
    dir
  )
  const parsed = JSON.parse(await readFile(report, "utf8").catch(() => "{}")) as {
    readonly numTotalTests?: number
    readonly numPassedTests?: number
  }
  if (output.code !== 0 || parsed.numTotalTests !== 1 || parsed.numPassedTests !== 1) {
    throw new Error(`the consumer's vitest test did not pass (exit ${output.code}):\n${output.stdout}${output.stderr}`)
  }
  return `${parsed.numPassedTests} passed of ${parsed.numTotalTests}`
}

const main = async () => {
  const keep = process.argv.includes("--keep")
  log("packing")
  const tarballs = await packAll()
  console.log(describeTarballs(tarballs))

  const dir = await mkdtemp(join(tmpdir(), "effect-daytona-consumer-"))
  if (!relative(root, dir).startsWith("..")) throw new Error(`${dir} is inside the workspace`)
  let server: Server | undefined
  try {
    log(`consumer project in ${dir}`)
    await writeProject(dir, tarballs)
    const versions = pinned()
    const at = (name: string) => `${name}@${versions[name]}`
    let step = performance.now()
    await mustSucceed(
      "pnpm add (tarballs and peers)",
      exec(
        "pnpm",
        ["add", ...tarballs.map((t) => t.path), at("effect"), at("@effect/platform"), at("@effect/platform-node")],
        dir
      )
    )
    await mustSucceed(
      "pnpm add -D (tools)",
      exec("pnpm", ["add", "-D", at("typescript"), at("@types/node"), at("vitest"), at("@effect/vitest")], dir)
    )
    log(`installed from the tarballs and the registry (${seconds(step)})`)

    for (const config of ["tsconfig.nodenext.json", "tsconfig.bundler.json"]) {
      step = performance.now()
      log(`type check, ${config}: ${await typecheck(dir, config)} (${seconds(step)})`)
    }

    step = performance.now()
    server = await startServer(dir)
    log(`npx @effect-daytona/local serve: listening at ${server.apiUrl} (${seconds(step)})`)

    step = performance.now()
    const program = await exec(
      process.execPath,
      [join(dir, "out/src/program.js")],
      dir,
      consumerEnv({ DAYTONA_API_URL: server.apiUrl, DAYTONA_API_KEY: server.apiKey })
    )
    if (program.code !== 0 || !program.stdout.includes("consumer smoke program: ok")) {
      throw new Error(`the program failed (exit ${program.code}):\n${program.stdout}${program.stderr}`)
    }
    log(`program against the server: ${program.stdout.trim().split("\n").join("; ")} (${seconds(step)})`)
    await server.stop()
    server = undefined

    step = performance.now()
    log(`@effect/vitest test with @effect-daytona/testing: ${await runTests(dir)} (${seconds(step)})`)
    log(`consumer smoke test passed in ${seconds(started)}`)
  } finally {
    if (server !== undefined) {
      console.error(`local server output:\n${server.output()}`)
      await server.stop()
    }
    if (keep) log(`kept ${dir}`)
    else await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
