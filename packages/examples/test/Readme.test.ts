import { assert, describe, it } from "@effect/vitest"
import * as NodeFs from "node:fs"

const read = (relative: string) => NodeFs.readFileSync(new URL(relative, import.meta.url), "utf8")

describe("the root README", () => {
  for (const [what, from, to, file] of [
    ["as its first program", "## A first program", "## Configuration", "firstProgram.ts"],
    ["for the pool", "### SandboxPool", "### Metrics", "poolSnippet.ts"],
    ["for a server in a sandbox", "### A server in a sandbox", "## Configuration", "previewSnippet.ts"]
  ] as const) {
    it(`shows, ${what}, exactly src/${file} (which the type checker compiles)`, () => {
      const readme = read("../../../README.md")
      const section = readme.slice(readme.indexOf(from), readme.indexOf(to))
      const block = /```ts\n([\s\S]*?)```/.exec(section)
      assert.isNotNull(block)
      assert.strictEqual(block?.[1], read(`../src/${file}`))
    })
  }

  it("names a quick start whose commands exist as root scripts", () => {
    const scripts = (JSON.parse(read("../../../package.json")) as { scripts: Record<string, string> }).scripts
    const readme = read("../../../README.md")
    for (const script of ["quickstart", "test"]) {
      assert.include(readme, `pnpm ${script}`)
      assert.property(scripts, script)
    }
  })
})
