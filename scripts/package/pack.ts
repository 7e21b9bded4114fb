/**
 * `pnpm pack:all`: stages every published package (see stage.ts), packs each into `.pack/` with
 * `npm pack`, then opens each tarball and checks it against the sources (manifest.ts): every public
 * module exported and no internal one, types first, no test or workspace file, maps that resolve,
 * the bin's shebang, peer ranges, the SDK's version string. Prints each tarball's size and file
 * count; exits non-zero on any problem.
 */
import { execFile } from "node:child_process"
import { readFileSync } from "node:fs"
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { basename, join, resolve } from "node:path"
import { promisify } from "node:util"
import { publishedPackages, type PublishedPackage, root, sourceDir, stageDir, tarballDir } from "./layout.js"
import { inventory, type Manifest, type PackedContents, problemsOf } from "./manifest.js"
import { outsideEnv } from "./process.js"
import { publishedVersions, readManifest, stage } from "./stage.js"

const run = promisify(execFile)

/** A packed tarball and what the pack command reports about it. */
export interface Tarball {
  readonly pkg: PublishedPackage
  readonly name: string
  readonly version: string
  readonly path: string
  readonly bytes: number
  readonly unpackedBytes: number
  readonly files: number
}

/** Lists and reads a tarball by unpacking it into a temporary directory. */
const openTarball = async <A>(path: string, use: (contents: PackedContents) => Promise<A>): Promise<A> => {
  const dir = await mkdtemp(join(tmpdir(), "effect-daytona-tarball-"))
  try {
    await run("tar", ["-xzf", path, "-C", dir])
    const { stdout } = await run("tar", ["-tzf", path], { maxBuffer: 16 << 20 })
    const files = stdout
      .split("\n")
      .filter((line) => line !== "" && !line.endsWith("/"))
      .map((line) => line.replace(/^package\//, ""))
    const cache = new Map<string, string>()
    const read = (file: string) => {
      let text = cache.get(file)
      if (text === undefined) {
        text = readFileSync(join(dir, "package", file), "utf8")
        cache.set(file, text)
      }
      return text
    }
    const manifest = JSON.parse(read("package.json")) as Manifest
    return await use({ manifest, files, read })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Package-specific checks beyond the manifest's. */
const extraProblems = (pkg: PublishedPackage, packed: PackedContents): Array<string> => {
  if (pkg.folder !== "sdk") return []
  // The SDK's modules are bundled (scripts/package/bundle.ts): the constant is in the bundle.
  const file = "dist/internal/sdk.js"
  const sent = /sdkVersion = "([^"]+)"/.exec(packed.read(file))?.[1]
  return sent === packed.manifest.version
    ? []
    : [`${file} sends version ${sent ?? "(none found)"} in User-Agent, the package is ${packed.manifest.version}`]
}

/**
 * Stages (unless `staged`), packs and checks one published package into `outDir`; returns the
 * tarball and the problems found in it (none when it is right).
 */
export const packOne = async (
  pkg: PublishedPackage,
  versions: ReadonlyMap<string, string>,
  outDir: string,
  staged = false
): Promise<{ readonly tarball: Tarball; readonly problems: ReadonlyArray<string> }> => {
  if (!staged) await stage(pkg, versions)
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", outDir], {
    cwd: stageDir(pkg),
    env: outsideEnv(),
    maxBuffer: 16 << 20
  })
  const [report] = JSON.parse(stdout) as ReadonlyArray<{
    readonly name: string
    readonly version: string
    readonly filename: string
    readonly unpackedSize: number
    readonly entryCount: number
  }>
  if (report === undefined) throw new Error(`npm pack reported nothing for packages/${pkg.folder}`)
  const path = join(outDir, basename(report.filename))
  const modules = await inventory(pkg, sourceDir(pkg))
  const source = await readManifest(pkg)
  const problems = await openTarball(path, async (packed) => [
    ...problemsOf(packed, modules, source),
    ...extraProblems(pkg, packed)
  ])
  return {
    tarball: {
      pkg,
      name: report.name,
      version: report.version,
      path,
      bytes: (await stat(path)).size,
      unpackedBytes: report.unpackedSize,
      files: report.entryCount
    },
    problems: problems.map((problem) => `${report.name}: ${problem}`)
  }
}

/** Stages, packs and checks every published package; throws with every problem found. */
export const packAll = async (outDir: string = tarballDir): Promise<ReadonlyArray<Tarball>> => {
  await rm(outDir, { recursive: true, force: true })
  await mkdir(outDir, { recursive: true })
  const versions = await publishedVersions()
  const tarballs: Array<Tarball> = []
  const problems: Array<string> = []
  // Each package compiles from the workspace's sources, not from another's stage: tsc runs side by side.
  await Promise.all(publishedPackages.map((pkg) => stage(pkg, versions)))
  for (const pkg of publishedPackages) {
    const packed = await packOne(pkg, versions, outDir, true)
    tarballs.push(packed.tarball)
    problems.push(...packed.problems)
  }
  if (problems.length > 0) throw new Error(`packed tarballs have problems:\n  ${problems.join("\n  ")}`)
  return tarballs
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`

/** The table `pnpm pack:all` prints. */
export const describeTarballs = (tarballs: ReadonlyArray<Tarball>): string => {
  const rows = tarballs.map((t) => [
    `${t.name}@${t.version}`,
    kib(t.bytes),
    kib(t.unpackedBytes),
    String(t.files),
    t.path.startsWith(root) ? t.path.slice(root.length + 1) : t.path
  ])
  const header = ["package", "tarball", "unpacked", "files", "path"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((cell, i) => (i >= 1 && i <= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

const main = async () => {
  const started = performance.now()
  const tarballs = await packAll()
  console.log(describeTarballs(tarballs))
  console.log(
    `packed and checked ${tarballs.length} packages in ${((performance.now() - started) / 1000).toFixed(1)} s`
  )
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
