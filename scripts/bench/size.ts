/**
 * Cold import time (fresh node processes) and installed size (the package plus its production
 * dependency closure) of both SDKs. Ours is measured as a user gets it: the packed tarball
 * (`pnpm pack:all`'s, checked the same way) installed with its peers in a project of its own.
 */
import { execFile } from "node:child_process"
import { existsSync, realpathSync } from "node:fs"
import { lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { dirname, join, relative } from "node:path"
import { promisify } from "node:util"
import { bundleCompiled } from "../package/bundle.js"
import { publishedPackages } from "../package/layout.js"
import { inventory } from "../package/manifest.js"
import { packOne } from "../package/pack.js"
import { exec, mustSucceed } from "../package/process.js"
import { publishedVersions } from "../package/stage.js"
import { median } from "./stats.js"

const run = promisify(execFile)

/**
 * Compiles `packages/sdk/src` with its own build config (`tsconfig.build.json`: JS, .d.ts and
 * maps, the files its publish directory holds) into `outDir` and bundles it as staging does
 * (`scripts/package/bundle.ts`), so imports and sizes measure the current sources as a user would
 * install them, not a stale `dist`.
 */
export const buildOurSdk = async (root: string, outDir: string): Promise<void> => {
  await rm(outDir, { recursive: true, force: true })
  await run(
    process.execPath,
    [
      join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      join(root, "packages/sdk/tsconfig.build.json"),
      "--outDir",
      outDir
    ],
    { cwd: root, maxBuffer: 16 << 20 }
  )
  const sdk = publishedPackages.find((pkg) => pkg.folder === "sdk")!
  const modules = await inventory(sdk, join(root, "packages/sdk/src"))
  if (sdk.bundled) await bundleCompiled(outDir, [...modules.public, ...(modules.hasIndex ? ["index"] : [])])
  const source = JSON.parse(await readFile(join(root, "packages/sdk/package.json"), "utf8")) as PackageJson
  await writeFile(
    join(outDir, "package.json"),
    JSON.stringify({
      name: source.name,
      version: source.version,
      type: "module",
      peerDependencies: source.peerDependencies ?? {}
    })
  )
}

/** A project with the packed SDK installed from its tarball. */
export interface InstalledSdk {
  /** The project: bare specifiers (`@effect-daytona/sdk/Daytona`, `effect/Effect`) resolve from here. */
  readonly project: string
  /** The installed package's directory (`node_modules/@effect-daytona/sdk`). */
  readonly sdkDir: string
  readonly tarballBytes: number
}

/**
 * Packs `packages/sdk` (stage, `npm pack`, the tarball checks of `pnpm pack:all`) and installs the
 * tarball with pnpm in a fresh project at `project`, with `effect`, `@effect/platform` and
 * `@effect/platform-node` at the workspace's exact versions from the registry, as the README's
 * install command does. `project` must be outside the workspace: inside, pnpm would make it one of
 * the workspace's projects (and write it into the lockfile).
 */
export const installPackedSdk = async (root: string, project: string): Promise<InstalledSdk> => {
  if (!relative(root, project).startsWith("..")) throw new Error(`${project} is inside the workspace`)
  await rm(project, { recursive: true, force: true })
  await mkdir(project, { recursive: true })
  const sdk = publishedPackages.find((pkg) => pkg.folder === "sdk")!
  const { tarball, problems } = await packOne(sdk, await publishedVersions(), project)
  if (problems.length > 0) throw new Error(`the packed SDK has problems:\n  ${problems.join("\n  ")}`)
  const pins = (
    JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> }
  ).devDependencies
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "bench-installed-sdk", private: true, type: "module" })
  )
  const peers = ["effect", "@effect/platform", "@effect/platform-node"].map((name) => `${name}@${pins[name]}`)
  await mustSucceed("pnpm add (packed SDK)", exec("pnpm", ["add", tarball.path, ...peers], project))
  return { project, sdkDir: join(project, "node_modules/@effect-daytona/sdk"), tarballBytes: tarball.bytes }
}

export interface ImportTiming {
  readonly label: string
  readonly specifiers: ReadonlyArray<string>
  readonly mode: "esm" | "cjs"
  /** In-process import time, ms, per run. */
  readonly importMs: ReadonlyArray<number>
  /** Whole process wall time (spawn → exit), ms, per run. */
  readonly wallMs: ReadonlyArray<number>
  readonly medianImportMs: number
  readonly medianWallMs: number
}

/**
 * Starts `runs` fresh `node` processes that import the specifiers (resolved from `cwd`) and report
 * how long the import took; one untimed run first warms the page cache, as in
 * official-sdk-wire.md §1.
 */
export const coldImport = async (
  label: string,
  specifiers: ReadonlyArray<string>,
  mode: "esm" | "cjs",
  cwd: string,
  runs = 5
): Promise<ImportTiming> => {
  const load =
    mode === "esm"
      ? specifiers.map((s) => `await import(${JSON.stringify(s)});`).join("")
      : specifiers.map((s) => `require(${JSON.stringify(s)});`).join("")
  const body = `const t0 = performance.now(); ${load} console.log(JSON.stringify({ ms: performance.now() - t0 }));`
  const args = mode === "esm" ? ["--input-type=module", "-e", body] : ["-e", body]
  const importMs: Array<number> = []
  const wallMs: Array<number> = []
  for (let i = 0; i <= runs; i++) {
    const start = performance.now()
    const { stdout } = await run(process.execPath, args, { cwd })
    const wall = performance.now() - start
    if (i === 0) continue
    const line = stdout.trim().split("\n").pop() ?? "{}"
    importMs.push((JSON.parse(line) as { ms: number }).ms)
    wallMs.push(wall)
  }
  return { label, specifiers, mode, importMs, wallMs, medianImportMs: median(importMs), medianWallMs: median(wallMs) }
}

interface PackageJson {
  readonly name?: string
  readonly version?: string
  readonly dependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly peerDependenciesMeta?: Record<string, { readonly optional?: boolean }>
}

/** Node's lookup: `<ancestor>/node_modules/<name>` from the package's real directory upwards. */
const resolvePackageDir = (fromDir: string, name: string): string | undefined => {
  let dir = fromDir
  while (true) {
    const candidate = join(dir, "node_modules", name)
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate)
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** Apparent size of a directory tree (like `du -s --apparent-size -b`), not following links, skipping nested node_modules. */
const treeBytes = async (dir: string): Promise<{ bytes: number; diskBytes: number }> => {
  let bytes = 0
  let diskBytes = (await lstat(dir)).blocks * 512
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") {
        const sub = await treeBytes(path)
        bytes += sub.bytes
        diskBytes += sub.diskBytes
      }
    } else if (entry.isFile()) {
      const info = await lstat(path)
      bytes += info.size
      diskBytes += info.blocks * 512
    }
  }
  return { bytes, diskBytes }
}

export interface InstalledSize {
  readonly label: string
  readonly packages: number
  /** Apparent bytes of the files (`du --apparent-size -b`). */
  readonly bytes: number
  /** Allocated blocks, as plain `du` counts them (small files round up to 4 KiB). */
  readonly diskBytes: number
  /** The ten largest packages of the closure. */
  readonly largest: ReadonlyArray<{ readonly name: string; readonly bytes: number; readonly diskBytes: number }>
}

/**
 * The production dependency closure of `roots` as installed in this workspace (pnpm's layout:
 * each package's real directory sees its dependencies as siblings): `dependencies`, installed
 * `optionalDependencies` and non-optional `peerDependencies`, each package counted once by its
 * real path, sized by the apparent bytes of its files.
 */
export const installedSize = async (
  label: string,
  roots: ReadonlyArray<{ readonly dir: string }>
): Promise<InstalledSize> => {
  const seen = new Map<string, { name: string; bytes: number; diskBytes: number }>()
  const queue = roots.map((r) => realpathSync(r.dir))
  while (queue.length > 0) {
    const dir = queue.pop()!
    if (seen.has(dir)) continue
    const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as PackageJson
    seen.set(dir, { name: `${pkg.name ?? dir}@${pkg.version ?? "?"}`, ...(await treeBytes(dir)) })
    const peers = Object.keys(pkg.peerDependencies ?? {}).filter(
      (name) => pkg.peerDependenciesMeta?.[name]?.optional !== true
    )
    const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...peers]
    for (const name of names) {
      const found = resolvePackageDir(dir, name)
      if (found !== undefined && !seen.has(found)) queue.push(found)
    }
  }
  const all = [...seen.values()]
  return {
    label,
    packages: all.length,
    bytes: all.reduce((sum, p) => sum + p.bytes, 0),
    diskBytes: all.reduce((sum, p) => sum + p.diskBytes, 0),
    largest: all.sort((a, b) => b.bytes - a.bytes).slice(0, 10)
  }
}

export const ensureDir = (dir: string) => mkdir(dir, { recursive: true })
