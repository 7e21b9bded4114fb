/**
 * The benchmark client child as every bench script starts it: `scripts/bench/client.ts` and
 * `protocol.ts` compiled to JavaScript (`.bench/client/`) and run by plain `node`, as a user's
 * compiled program runs. Under `tsx`, every module a child loads passes through tsx's loader hooks,
 * which hold memory in proportion to the modules loaded: measured with the `idle` task, our client
 * (about 550 modules) was ready at ~180 MiB under tsx and ~105 MiB under plain node, the official
 * SDK at ~117 MiB and ~95 MiB. That overhead belongs to the harness, not to any client.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import ts from "typescript"
import type { ClientKind, Task } from "./protocol.js"

const sources = ["client.ts", "protocol.ts"] as const

/** Where {@link buildClient} writes the client child's script. */
export const clientScriptOf = (root: string): string => join(root, ".bench/client/client.js")

/** Compiles the client child into `<root>/.bench/client/`; returns the script to run. */
export const buildClient = async (root: string): Promise<string> => {
  const outDir = join(root, ".bench/client")
  await mkdir(outDir, { recursive: true })
  await writeFile(join(outDir, "package.json"), JSON.stringify({ type: "module" }))
  for (const file of sources) {
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
  return clientScriptOf(root)
}

/** The arguments of `node` for one client child: `[nodeFlags] <compiled client> <kind> <task>`. */
export const clientArgs = (
  script: string,
  kind: ClientKind,
  task: Task,
  nodeFlags: ReadonlyArray<string> = []
): Array<string> => [...nodeFlags, script, kind, JSON.stringify(task)]
