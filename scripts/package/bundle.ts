/**
 * Joins a package's compiled modules into a few files, leaving each public module's path in place.
 *
 * Node's ESM loader pays ~1.5 ms per module it loads (resolving the specifier, reading, compiling,
 * linking), so a program importing the SDK spent ~100 ms just loading its 65 files. Here every
 * public module's code goes into `internal/sdk.js` (or, for the `Node*` modules, which import Node's
 * built-ins, `internal/node.js`, sharing the rest through a common chunk), and the module's own file
 * becomes a list of re-exports from it. Declarations and their maps are tsc's, unchanged; the
 * bundle's source map leads back to the TypeScript sources through tsc's maps.
 */
import * as esbuild from "esbuild"
import { readdir, readFile, rm, writeFile } from "node:fs/promises"
import { join, relative } from "node:path"

/** Separates a module's name from an export's in the bundle's export names. */
const separator = "$$"

/** The export names of each compiled module, read by esbuild from the files themselves. */
const exportsOf = async (dir: string, modules: ReadonlyArray<string>): Promise<Map<string, ReadonlyArray<string>>> => {
  const result = await esbuild.build({
    entryPoints: modules.map((module) => ({ in: join(dir, `${module}.js`), out: module })),
    outdir: join(dir, ".exports"),
    bundle: false,
    write: false,
    metafile: true,
    format: "esm",
    logLevel: "silent"
  })
  const byModule = new Map<string, ReadonlyArray<string>>()
  for (const output of Object.values(result.metafile.outputs)) {
    if (output.entryPoint === undefined) continue
    const module = relative(dir, output.entryPoint).replace(/\.js$/, "")
    byModule.set(module, output.exports)
  }
  for (const module of modules) {
    if (!byModule.has(module)) throw new Error(`esbuild did not report the exports of ${module}.js`)
  }
  return byModule
}

/** Every compiled `.js` file and its map under `dir` (tsc's output), to be replaced by the bundle. */
const compiledScripts = async (dir: string): Promise<Array<string>> => {
  const found: Array<string> = []
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && (entry.name.endsWith(".js") || entry.name.endsWith(".js.map"))) {
      found.push(join(entry.parentPath, entry.name))
    }
  }
  return found
}

/**
 * Fails when a bundle holds a character beyond ASCII. V8 keeps a script's source for as long as its
 * functions may still be compiled, at one byte a character when every character fits in Latin-1 and
 * at two otherwise: one such character (esbuild escapes those of strings, not those of regular
 * expressions) doubles what the bundle's source holds in the heap.
 */
const assertAscii = async (file: string): Promise<void> => {
  const text = await readFile(file, "utf8")
  const at = text.search(/[^\x00-\x7f]/)
  if (at === -1) return
  const line = text.slice(0, at).split("\n").length
  throw new Error(`${file}:${line} holds a character beyond ASCII; write it as an escape in the source`)
}

/**
 * Replaces the compiled modules of `dir` (tsc's ESM output with linked source maps) by bundles and
 * one re-exporting file per public module. `modules` are the public modules' names (`index`
 * included when the package has one); a module whose name starts with `Node` goes into the Node
 * bundle.
 */
export const bundleCompiled = async (dir: string, modules: ReadonlyArray<string>): Promise<void> => {
  const exported = await exportsOf(dir, modules)
  const compiled = await compiledScripts(dir)
  const groups = Object.entries({
    sdk: modules.filter((module) => !module.startsWith("Node")),
    node: modules.filter((module) => module.startsWith("Node"))
  }).filter(([, members]) => members.length > 0)
  const entries = groups.map(([name, members]) => ({
    in: join(dir, `.bundle-${name}.js`),
    out: `internal/${name}`,
    text: members
      .map((module) => {
        const names = exported.get(module)!.map((name) => `${name} as ${module}${separator}${name}`)
        return `export { ${names.join(", ")} } from "./${module}.js"\n`
      })
      .join("")
  }))
  const taken = entries.map((entry) => join(dir, `${entry.out}.js`)).filter((file) => compiled.includes(file))
  if (taken.length > 0) throw new Error(`a compiled module has a bundle's name: ${taken.join(", ")}`)
  try {
    for (const entry of entries) await writeFile(entry.in, entry.text)
    await esbuild.build({
      entryPoints: entries.map((entry) => ({ in: entry.in, out: entry.out })),
      outdir: dir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      packages: "external",
      chunkNames: "internal/shared-[hash]",
      sourcemap: "linked",
      sourcesContent: false,
      legalComments: "none",
      logLevel: "warning"
    })
  } finally {
    for (const entry of entries) await rm(entry.in, { force: true })
  }
  for (const file of compiled) await rm(file)
  for (const entry of entries) await assertAscii(join(dir, `${entry.out}.js`))
  for (const [name, members] of groups) {
    for (const module of members) {
      const depth = module.split("/").length - 1
      const base = module.split("/").pop()!
      const names = exported.get(module)!.map((name) => `${module}${separator}${name} as ${name}`)
      await writeFile(
        join(dir, `${module}.js`),
        `export { ${names.join(", ")} } from "${depth === 0 ? "./" : "../".repeat(depth)}internal/${name}.js"\n` +
          `//# sourceMappingURL=${base}.js.map\n`
      )
      // The re-exports have no code of their own to map; the map names the module's source.
      await writeFile(
        join(dir, `${module}.js.map`),
        JSON.stringify({
          version: 3,
          file: `${base}.js`,
          sources: [`${"../".repeat(depth + 1)}src/${module}.ts`],
          names: [],
          mappings: ""
        })
      )
    }
  }
}
