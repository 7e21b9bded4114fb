/**
 * Writes each package's `src/index.ts`: one `export * as Module from "./Module.js"` per public module
 * (every `src/*.ts` but the index), in alphabetical order, each under the first sentence of its
 * module's own header comment. `Node*` modules are left out: they import Node's built-ins, and a
 * program that imports the index on another platform must not load them (they are imported by
 * path, e.g. `@effect-daytona/sdk/NodeUploadBody`). `--check` writes nothing and fails when a
 * barrel is out of date.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

const root = NodePath.resolve(NodePath.dirname(fileURLToPath(import.meta.url)), "../..")
const packages = ["sdk", "local", "testing"]
const check = process.argv.includes("--check")

const firstSentence = (file: string): string => {
  const text = NodeFs.readFileSync(file, "utf8")
  const header = /^\/\*\*([\s\S]*?)\*\//.exec(text)
  if (header === null) throw new Error(`${file} has no header comment`)
  const prose = header[1]!
    .split("\n")
    .map((line) => line.replace(/^\s*\*\s?/, ""))
    .filter((line) => !line.startsWith("@"))
    .join(" ")
    .replace(/\s+/g, " ")
    .trim()
  const sentence = /^(.*?[.:])(\s|$)/.exec(prose)
  return (sentence?.[1] ?? prose).replace(/:$/, ".")
}

let stale = 0
for (const name of packages) {
  const src = NodePath.join(root, "packages", name, "src")
  const index = NodePath.join(src, "index.ts")
  if (!NodeFs.existsSync(index)) continue
  const current = NodeFs.readFileSync(index, "utf8")
  const preamble = /^\/\*\*[\s\S]*?\*\/\n/.exec(current)?.[0] ?? ""
  const modules = NodeFs.readdirSync(src)
    .filter((file) => file.endsWith(".ts") && file !== "index.ts" && file !== "bin.ts" && !/^Node[A-Z]/.test(file))
    .map((file) => file.replace(/\.ts$/, ""))
    .sort((a, b) => (a < b ? -1 : 1))
  const body = modules
    .map(
      (module) =>
        `/**\n * ${firstSentence(NodePath.join(src, `${module}.ts`))}\n *\n * @since 0.1.0\n */\nexport * as ${module} from "./${module}.js"\n`
    )
    .join("\n")
  const next = `${preamble}\n${body}`
  if (next === current) continue
  stale++
  if (check) console.log(`packages/${name}/src/index.ts is out of date (pnpm codegen)`)
  else {
    NodeFs.writeFileSync(index, next)
    console.log(`packages/${name}/src/index.ts written (${modules.length} modules)`)
  }
}
if (check && stale > 0) process.exit(1)
