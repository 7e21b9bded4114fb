/**
 * `pnpm pack:smoke`: the consumer smoke test. Packs the published packages (pack.ts), then, in a
 * temporary folder outside the workspace, does what a user does with them:
 *
 * 1. a fresh project installs the three tarballs plus `effect`, `@effect/platform` and
 *    `@effect/platform-node` from the npm registry, at the workspace's exact versions (no workspace
 *    link: the folder is outside the repository);
 * 2. type-checks `consumer/src`, `consumer/test` and the SDK README's example under `strict`, with
 *    `moduleResolution` `NodeNext` and again `Bundler`, library declarations included
 *    (`skipLibCheck: false`);
 * 3. starts `npx @effect-daytona/local serve` on a free port (the compiled bin, no tsx);
 * 4. runs the compiled program against it (create, a command, an upload and download, a local file
 *    through `NodeUploadBody`, delete);
 * 5. runs one `@effect/vitest` test that uses `@effect-daytona/testing`'s layer.
 *
 * Needs only this repository, Node, pnpm and the npm registry. `--keep` leaves the folder in place.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { root } from "./layout.js"
import { describeTarballs, packAll, type Tarball } from "./pack.js"
import { exec, mustSucceed, outsideEnv } from "./process.js"

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
 * The README's install commands, as the smoke test runs them (with each tarball's path in place of
 * its package name), then the project's own TypeScript.
 */
const installCommands = (versions: Record<string, string>): ReadonlyArray<ReadonlyArray<string>> => {
  const at = (name: string) => `${name}@${versions[name]}`
  return [
    ["pnpm", "add", "@effect-daytona/sdk", at("effect"), at("@effect/platform"), at("@effect/platform-node")],
    [
      "pnpm",
      "add",
      "-D",
      "--allow-build=better-sqlite3",
      "@effect-daytona/local",
      "@effect-daytona/testing",
      at("vitest"),
      at("@effect/vitest")
    ],
    ["pnpm", "add", "-D", at("typescript"), at("@types/node")]
  ]
}

/** Fails when the README's install section no longer shows the commands this test runs. */
const checkReadme = async (versions: Record<string, string>): Promise<void> => {
  const readme = await readFile(join(root, "README.md"), "utf8")
  const shown = installCommands(versions)
    .slice(0, 2)
    .map((command) => command.join(" "))
  const missing = [...shown, "npx @effect-daytona/local serve"].filter((command) => !readme.includes(command))
  if (missing.length > 0) {
    throw new Error(`README.md's install section does not show what the smoke test runs:\n  ${missing.join("\n  ")}`)
  }
}

/** Writes the consumer project: its manifest and the template's files. */
const writeProject = async (dir: string, tarballs: ReadonlyArray<Tarball>): Promise<void> => {
  await writeFile(
    join(dir, "package.json"),
    `${JSON.stringify(
      {
        name: "effect-daytona-consumer",
        private: true,
        type: "module",
        // The tarballs are not on the registry: their dependencies on each other resolve to them.
        pnpm: { overrides: Object.fromEntries(tarballs.map((t) => [t.name, `file:${t.path}`])) }
      },
      null,
      2
    )}\n`
  )
  await cp(templateDir, dir, { recursive: true })
  const readme = await readFile(join(root, "packages/sdk/README.md"), "utf8")
  const examples = Array.from(readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm), (match) => match[1]!)
  if (examples.length === 0) throw new Error("packages/sdk/README.md has no ts example")
  await writeFile(
    join(dir, "src/sdk-readme.ts"),
    `// packages/sdk/README.md's example, type-checked only\n${examples.join("\n")}`
  )
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
      { cwd: dir, env: outsideEnv(), detached: true, stdio: ["ignore", "pipe", "pipe"] }
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
  await checkReadme(pinned())
  log("packing")
  const tarballs = await packAll()
  console.log(describeTarballs(tarballs))

  const dir = await mkdtemp(join(tmpdir(), "effect-daytona-consumer-"))
  if (!relative(root, dir).startsWith("..")) throw new Error(`${dir} is inside the workspace`)
  let server: Server | undefined
  try {
    log(`consumer project in ${dir}`)
    await writeProject(dir, tarballs)
    let step = performance.now()
    for (const command of installCommands(pinned())) {
      const args = command.map((arg) => tarballs.find((t) => t.name === arg)?.path ?? arg)
      await mustSucceed(command.join(" "), exec(args[0]!, args.slice(1), dir))
      log(`  ${command.join(" ")}`)
    }
    log(`installed from the tarballs and the registry (${seconds(step)})`)

    step = performance.now()
    const configs = ["tsconfig.nodenext.json", "tsconfig.bundler.json"]
    const checked = await Promise.all(configs.map((config) => typecheck(dir, config)))
    configs.forEach((config, i) => log(`type check, ${config}: ${checked[i]}`))
    log(`type checks done (${seconds(step)})`)

    step = performance.now()
    server = await startServer(dir)
    log(`npx @effect-daytona/local serve: listening at ${server.apiUrl} (${seconds(step)})`)

    step = performance.now()
    const program = await exec(
      process.execPath,
      [join(dir, "out/src/program.js")],
      dir,
      outsideEnv({ DAYTONA_API_URL: server.apiUrl, DAYTONA_API_KEY: server.apiKey })
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
