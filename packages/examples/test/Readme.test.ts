import { assert, describe, it } from "@effect/vitest"
import * as NodeFs from "node:fs"

const read = (relative: string) => NodeFs.readFileSync(new URL(relative, import.meta.url), "utf8")

describe("the root README", () => {
  it("shows, as its first program, exactly src/firstProgram.ts (which the type checker compiles)", () => {
    const readme = read("../../../README.md")
    const section = readme.slice(readme.indexOf("## A first program"), readme.indexOf("## Configuration"))
    const block = /```ts\n([\s\S]*?)```/.exec(section)
    assert.isNotNull(block)
    assert.strictEqual(block?.[1], read("../src/firstProgram.ts"))
  })

  it("shows, for the pool, exactly src/poolSnippet.ts (which the type checker compiles)", () => {
    const readme = read("../../../README.md")
    const section = readme.slice(readme.indexOf("### SandboxPool"), readme.indexOf("### Metrics"))
    const block = /```ts\n([\s\S]*?)```/.exec(section)
    assert.isNotNull(block)
    assert.strictEqual(block?.[1], read("../src/poolSnippet.ts"))
  })

  it("shows, for a server in a sandbox, exactly src/previewSnippet.ts (which the type checker compiles)", () => {
    const readme = read("../../../README.md")
    const section = readme.slice(readme.indexOf("### A server in a sandbox"), readme.indexOf("## Configuration"))
    const block = /```ts\n([\s\S]*?)```/.exec(section)
    assert.isNotNull(block)
    assert.strictEqual(block?.[1], read("../src/previewSnippet.ts"))
  })

  it("names a quick start whose commands exist as root scripts", () => {
    const scripts = (JSON.parse(read("../../../package.json")) as { scripts: Record<string, string> }).scripts
    const readme = read("../../../README.md")
    for (const script of ["quickstart", "test"]) {
      assert.include(readme, `pnpm ${script}`)
      assert.property(scripts, script)
    }
  })
})
