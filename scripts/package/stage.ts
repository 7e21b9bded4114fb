/**
 * Builds the staged package of a published package in its `publishConfig.directory` (`dist/`):
 * compiled ESM, declarations and their maps under `dist/`, the sources the maps point at under
 * `src/`, the generated manifest, README, LICENSE and CHANGELOG. `tsx scripts/package/stage.ts
 * [sdk|local|testing …]` stages the named packages (all when none is named); `pnpm build` runs it.
 */
import { execFile } from "node:child_process"
import { chmod, cp, readdir, readFile, rm, writeFile } from "node:fs/promises"
import { dirname, join, relative, resolve, sep } from "node:path"
import { promisify } from "node:util"
import {
  compiledFolder,
  copiedSourcesFolder,
  packageDir,
  publishedPackages,
  type PublishedPackage,
  root,
  sourceDir,
  stageDir
} from "./layout.js"
import { bundleCompiled } from "./bundle.js"
import { inventory, type Manifest, publishedManifest } from "./manifest.js"

const run = promisify(execFile)

/** Reads a workspace package's manifest. */
export const readManifest = async (pkg: PublishedPackage): Promise<Manifest> =>
  JSON.parse(await readFile(join(packageDir(pkg), "package.json"), "utf8")) as Manifest

/** Every published package's version, by name. */
export const publishedVersions = async (): Promise<Map<string, string>> => {
  const manifests = await Promise.all(publishedPackages.map(readManifest))
  return new Map(manifests.map((m) => [m.name, m.version]))
}

const filesUnder = async (dir: string): Promise<Array<string>> => {
  const out: Array<string> = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await filesUnder(path)))
    else if (entry.isFile()) out.push(path)
  }
  return out
}

/**
 * tsc writes each map's `sources` relative to the workspace's `src/`; in the package the sources sit
 * in its own `src/`, one level nearer. Each source is re-pointed at its copy.
 */
const repointMaps = async (pkg: PublishedPackage, stage: string): Promise<void> => {
  const sources = sourceDir(pkg)
  for (const file of (await filesUnder(join(stage, compiledFolder))).filter((f) => f.endsWith(".map"))) {
    const map = JSON.parse(await readFile(file, "utf8")) as { sources: Array<string>; sourceRoot?: string }
    map.sources = map.sources.map((source) => {
      const original = resolve(dirname(file), map.sourceRoot ?? "", source)
      const inSources = relative(sources, original)
      if (inSources.startsWith("..")) throw new Error(`${file}: source ${source} is outside ${sources}`)
      return relative(dirname(file), join(stage, copiedSourcesFolder, inSources))
        .split(sep)
        .join("/")
    })
    delete map.sourceRoot
    await writeFile(file, JSON.stringify(map))
  }
}

/** Builds one staged package from scratch and returns its manifest. */
export const stage = async (pkg: PublishedPackage, versions: ReadonlyMap<string, string>): Promise<Manifest> => {
  const dir = packageDir(pkg)
  const out = stageDir(pkg)
  await rm(out, { recursive: true, force: true })
  try {
    await run(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", join(dir, "tsconfig.build.json")],
      {
        cwd: dir,
        maxBuffer: 16 << 20
      }
    )
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string }
    throw new Error(`tsc failed for packages/${pkg.folder}:\n${failure.stdout ?? ""}${failure.stderr ?? ""}`)
  }
  await cp(sourceDir(pkg), join(out, copiedSourcesFolder), { recursive: true })
  await repointMaps(pkg, out)
  const modules = await inventory(pkg, sourceDir(pkg))
  if (pkg.bundled) {
    await bundleCompiled(join(out, compiledFolder), [...modules.public, ...(modules.hasIndex ? ["index"] : [])])
  }

  const source = await readManifest(pkg)
  const manifest = publishedManifest(source, modules, versions)
  await writeFile(join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`)
  await cp(join(dir, "README.md"), join(out, "README.md"))
  await cp(join(dir, "CHANGELOG.md"), join(out, "CHANGELOG.md"))
  await cp(join(root, "LICENSE"), join(out, "LICENSE"))
  for (const path of Object.values(manifest.bin ?? {})) await chmod(join(out, path), 0o755)
  return manifest
}

const main = async () => {
  const named = process.argv.slice(2)
  const unknown = named.filter((name) => !publishedPackages.some((pkg) => pkg.folder === name))
  if (unknown.length > 0) throw new Error(`not a published package: ${unknown.join(", ")}`)
  const versions = await publishedVersions()
  for (const pkg of publishedPackages.filter((p) => named.length === 0 || named.includes(p.folder))) {
    const started = performance.now()
    const manifest = await stage(pkg, versions)
    console.log(
      `staged ${manifest.name}@${manifest.version} in packages/${pkg.folder}/dist (${((performance.now() - started) / 1000).toFixed(1)} s)`
    )
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
