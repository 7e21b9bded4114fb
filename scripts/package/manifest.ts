/**
 * The published manifest of a package, generated from its workspace manifest and its sources, and
 * the checks a packed tarball must pass. The `exports` map is never written by hand: every
 * `src/*.ts` outside `internal/` is a public module, `index.ts` is the package's root, and a module
 * that runs a command-line entry point is its `bin`, not an export.
 */
import { readdir } from "node:fs/promises"
import { compiledFolder, copiedSourcesFolder, type PublishedPackage } from "./layout.js"

/** The fields of a `package.json` this script reads or writes. */
export interface Manifest {
  readonly name: string
  readonly version: string
  readonly description?: string
  readonly license?: string
  readonly keywords?: ReadonlyArray<string>
  readonly type?: string
  readonly engines?: Readonly<Record<string, string>>
  readonly sideEffects?: boolean | ReadonlyArray<string>
  readonly bin?: Readonly<Record<string, string>>
  readonly main?: string
  readonly types?: string
  readonly exports?: Readonly<Record<string, ExportTarget | null>>
  readonly files?: ReadonlyArray<string>
  readonly dependencies?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
  readonly peerDependenciesMeta?: Readonly<Record<string, { readonly optional?: boolean }>>
  readonly devDependencies?: Readonly<Record<string, string>>
  readonly publishConfig?: Readonly<Record<string, unknown>>
  readonly scripts?: Readonly<Record<string, string>>
}

/** One entry of the `exports` map: a path, or conditions (`types` first) to paths. */
export type ExportTarget = string | Readonly<Record<string, string>>

/**
 * The package's modules as its sources define them: `public` are the importable modules (without
 * `index` and the bins), by name without extension, sorted.
 */
export interface ModuleInventory {
  readonly public: ReadonlyArray<string>
  readonly hasIndex: boolean
  readonly bins: Readonly<Record<string, string>>
}

/** Reads `src/*.ts` (not `internal/`, which is never public; any other folder is refused). */
export const inventory = async (pkg: PublishedPackage, sources: string): Promise<ModuleInventory> => {
  const entries = await readdir(sources, { withFileTypes: true })
  const modules = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => entry.name.slice(0, -".ts".length))
  const folders = entries.filter((entry) => entry.isDirectory() && entry.name !== "internal")
  if (folders.length > 0) {
    throw new Error(
      `${pkg.folder}: src/${folders[0]!.name}/ is neither internal/ nor a module of src/: the exports map names src/*.ts only`
    )
  }
  const binModules = new Set(Object.values(pkg.bins))
  for (const module of binModules) {
    if (!modules.includes(module)) throw new Error(`${pkg.folder}: bin module src/${module}.ts does not exist`)
  }
  return {
    public: modules.filter((m) => m !== "index" && !binModules.has(m)).sort(),
    hasIndex: modules.includes("index"),
    bins: pkg.bins
  }
}

const compiled = (module: string, extension: ".js" | ".d.ts") => `./${compiledFolder}/${module}${extension}`

const conditions = (module: string): ExportTarget => ({
  types: compiled(module, ".d.ts"),
  default: compiled(module, ".js")
})

/** The `exports` map: the root, every public module by its name, and `package.json`; nothing else. */
export const exportsMap = (modules: ModuleInventory): Record<string, ExportTarget> => ({
  ...(modules.hasIndex ? { ".": conditions("index") } : {}),
  ...Object.fromEntries(modules.public.map((module) => [`./${module}`, conditions(module)])),
  "./package.json": "./package.json"
})

/**
 * A dependency range as published: `workspace:*` becomes the sibling's exact version (the packages
 * are released together), `workspace:^`/`workspace:~` its caret/tilde range, and an exact pin of
 * the workspace a caret range, so that a user's project can share one copy with its other packages.
 */
const publishedRange = (name: string, range: string, versions: ReadonlyMap<string, string>): string => {
  if (range.startsWith("workspace:")) {
    const version = versions.get(name)
    if (version === undefined) throw new Error(`${name} is a workspace dependency but not a published package`)
    const kind = range.slice("workspace:".length)
    if (kind === "*" || kind === "") return version
    if (kind === "^" || kind === "~") return `${kind}${version}`
    throw new Error(`${name}: unsupported workspace range ${range}`)
  }
  return /^\d+\.\d+\.\d+$/.test(range) ? `^${range}` : range
}

const publishedRanges = (
  deps: Readonly<Record<string, string>> | undefined,
  versions: ReadonlyMap<string, string>,
  keep: (name: string, range: string) => string = (name, range) => publishedRange(name, range, versions)
): Record<string, string> | undefined =>
  deps === undefined || Object.keys(deps).length === 0
    ? undefined
    : Object.fromEntries(Object.entries(deps).map(([name, range]) => [name, keep(name, range)]))

/**
 * The manifest of the staged package. `versions` holds every published package's version (for the
 * workspace ranges). Peer ranges are published as written (only workspace ones resolved): they are
 * the supported ranges, not pins.
 */
export const publishedManifest = (
  source: Manifest,
  modules: ModuleInventory,
  versions: ReadonlyMap<string, string>
): Manifest => {
  const bins = Object.entries(modules.bins)
  const peers = publishedRanges(source.peerDependencies, versions, (name, range) =>
    range.startsWith("workspace:") ? publishedRange(name, range, versions) : range
  )
  const manifest: Record<string, unknown> = {
    name: source.name,
    version: source.version,
    description: source.description,
    keywords: source.keywords,
    license: source.license,
    type: "module",
    engines: source.engines,
    sideEffects: bins.map(([, module]) => compiled(module, ".js")),
    bin:
      bins.length === 0 ? undefined : Object.fromEntries(bins.map(([name, module]) => [name, compiled(module, ".js")])),
    main: modules.hasIndex ? compiled("index", ".js") : undefined,
    types: modules.hasIndex ? compiled("index", ".d.ts") : undefined,
    exports: exportsMap(modules),
    files: [compiledFolder, copiedSourcesFolder, "CHANGELOG.md"],
    dependencies: publishedRanges(source.dependencies, versions),
    peerDependencies: peers,
    peerDependenciesMeta: source.peerDependenciesMeta,
    publishConfig: { access: "public" }
  }
  return JSON.parse(JSON.stringify(manifest)) as Manifest
}

/** What a packed tarball holds: its manifest and its files (paths inside the package, `/`-separated). */
export interface PackedContents {
  readonly manifest: Manifest
  readonly files: ReadonlyArray<string>
  /** Reads a file of the tarball as text. */
  readonly read: (path: string) => string
}

const allowedTopLevel = new Set(["package.json", "README.md", "LICENSE", "CHANGELOG.md"])

/**
 * Everything a tarball must satisfy, checked against the sources rather than against what the
 * generator produced: one problem per line, empty when the tarball is right.
 */
export const problemsOf = (
  packed: PackedContents,
  modules: ModuleInventory,
  sourceManifest: Manifest
): Array<string> => {
  const problems: Array<string> = []
  const { manifest, files } = packed
  const present = new Set(files)
  const exportsOf = manifest.exports ?? {}

  if (manifest.name !== sourceManifest.name) problems.push(`name is ${manifest.name}, expected ${sourceManifest.name}`)
  if (manifest.version !== sourceManifest.version)
    problems.push(`version is ${manifest.version}, expected ${sourceManifest.version}`)
  for (const file of ["package.json", "README.md", "LICENSE", "CHANGELOG.md"]) {
    if (!present.has(file)) problems.push(`${file} is missing`)
  }
  for (const file of files) {
    const top = file.split("/")[0]!
    const allowed = allowedTopLevel.has(file) || top === compiledFolder || top === copiedSourcesFolder
    if (!allowed) problems.push(`unexpected file ${file}`)
    if (/(^|\/)(test|tests|fixtures?|__tests__|node_modules)\//.test(file))
      problems.push(`test or workspace file ${file}`)
    if (/\.(test|spec)\.[cm]?[jt]s$|\.tsbuildinfo$/.test(file)) problems.push(`test or build-state file ${file}`)
  }

  const expectedKeys = new Set([
    ...(modules.hasIndex ? ["."] : []),
    ...modules.public.map((module) => `./${module}`),
    "./package.json"
  ])
  for (const key of expectedKeys) {
    if (!(key in exportsOf)) problems.push(`public module ${key} is missing from exports`)
  }
  for (const [key, target] of Object.entries(exportsOf)) {
    if (!expectedKeys.has(key)) problems.push(`exports names ${key}, which is not a public module`)
    if (key.includes("*")) problems.push(`exports has a pattern ${key}: every public module is named`)
    if (target === null) continue
    const targets = typeof target === "string" ? [target] : Object.values(target)
    if (typeof target !== "string" && key !== "./package.json") {
      const names = Object.keys(target)
      if (names[0] !== "types") problems.push(`exports ${key}: "types" must be the first condition`)
      if (!names.includes("default")) problems.push(`exports ${key}: no "default" condition`)
    }
    for (const path of targets) {
      if (path.includes("/internal/")) problems.push(`exports ${key} exposes an internal module (${path})`)
      if (!present.has(path.replace(/^\.\//, ""))) problems.push(`exports ${key} points at ${path}, not in the tarball`)
    }
  }

  for (const module of [...modules.public, ...(modules.hasIndex ? ["index"] : []), ...Object.values(modules.bins)]) {
    for (const extension of [".js", ".js.map", ".d.ts", ".d.ts.map"]) {
      const file = `${compiledFolder}/${module}${extension}`
      if (!present.has(file)) problems.push(`${file} is missing`)
    }
    if (!present.has(`${copiedSourcesFolder}/${module}.ts`))
      problems.push(`${copiedSourcesFolder}/${module}.ts (the maps' source) is missing`)
  }
  for (const file of files.filter((f) => f.endsWith(".map"))) {
    const map = JSON.parse(packed.read(file)) as { readonly sources?: ReadonlyArray<string> }
    for (const source of map.sources ?? []) {
      const resolved = joinPosix(file.split("/").slice(0, -1).join("/"), source)
      if (!present.has(resolved)) problems.push(`${file} points at ${source}, not in the tarball`)
    }
  }

  for (const [name, path] of Object.entries(manifest.bin ?? {})) {
    const file = path.replace(/^\.\//, "")
    if (!present.has(file)) problems.push(`bin ${name} points at ${path}, not in the tarball`)
    else if (!packed.read(file).startsWith("#!/usr/bin/env node"))
      problems.push(`bin ${name} (${path}) has no node shebang`)
    if (
      !(manifest.sideEffects !== false && Array.isArray(manifest.sideEffects) && manifest.sideEffects.includes(path))
    ) {
      problems.push(`bin ${name} (${path}) runs on import but is not listed in sideEffects`)
    }
  }
  if (manifest.sideEffects === undefined) problems.push("sideEffects is not set")
  if (manifest.type !== "module") problems.push(`type is ${manifest.type}, expected module`)
  if (manifest.engines?.node === undefined) problems.push("engines.node is not set")
  if (manifest.license !== "Apache-2.0") problems.push(`license is ${manifest.license}`)

  for (const field of ["dependencies", "peerDependencies"] as const) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (range.startsWith("workspace:") || range.startsWith("file:") || range.startsWith("link:")) {
        problems.push(`${field}.${name} is ${range}, which only resolves inside this workspace`)
      }
    }
  }
  for (const name of ["effect", "@effect/platform"]) {
    if (manifest.peerDependencies?.[name] === undefined) problems.push(`no peer dependency on ${name}`)
    if (manifest.dependencies?.[name] !== undefined)
      problems.push(`${name} is a dependency; it must be a peer (one copy per program)`)
  }
  for (const field of ["devDependencies", "scripts"] as const) {
    if (manifest[field] !== undefined) problems.push(`${field} is published`)
  }
  return problems
}

/** `a/b` + `../c` → `a/c`, for paths inside a package. */
const joinPosix = (dir: string, relative: string): string => {
  const parts = dir === "" ? [] : dir.split("/")
  for (const part of relative.split("/")) {
    if (part === "..") parts.pop()
    else if (part !== "." && part !== "") parts.push(part)
  }
  return parts.join("/")
}
