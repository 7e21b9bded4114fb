import { assert, describe, it } from "@effect/vitest"
import { compileGlob, maxGlobLength } from "../src/internal/glob.js"

const matches = (pattern: string, path: string): boolean => {
  const glob = compileGlob(pattern)
  if (glob === undefined) throw new Error(`${pattern} did not compile`)
  return glob.test(path)
}

describe("globs of files/search", () => {
  it("follow doublestar's rules for *, ?, **, classes, alternatives and escapes", () => {
    const cases: ReadonlyArray<readonly [string, string, boolean]> = [
      ["*.ts", "a.ts", true],
      ["*.ts", "src/a.ts", false],
      ["*.ts", ".ts", true],
      ["*.ts", "a.tsx", false],
      ["src/*.ts", "src/a.ts", true],
      ["src/*.ts", "src/b/a.ts", false],
      ["**/*.ts", "a.ts", true],
      ["**/*.ts", "src/b/a.ts", true],
      ["**/*.ts", "src/b/a.js", false],
      ["src/**", "src/b/a.ts", true],
      ["src/**", "src/", true],
      ["src/**", "lib/a.ts", false],
      ["a**b", "axxb", true],
      ["a**b", "ax/xb", false],
      ["?.md", "a.md", true],
      ["?.md", "ab.md", false],
      ["?", "/", false],
      ["[abc].txt", "b.txt", true],
      ["[abc].txt", "d.txt", false],
      ["[a-c]x", "bx", true],
      ["[a-c]x", "dx", false],
      ["[!a-c]x", "dx", true],
      ["[^a-c]x", "ax", false],
      ["[!a]", "/", false],
      ["[]]", "]", true],
      ["src/*.{ts,js}", "src/a.js", true],
      ["src/*.{ts,js}", "src/a.ts", true],
      ["src/*.{ts,js}", "src/a.md", false],
      ["{a,b{c,d}}.x", "bd.x", true],
      ["{a,b{c,d}}.x", "b.x", false],
      ["{a,}z", "z", true],
      ["a,b", "a,b", true],
      ["\\*.txt", "*.txt", true],
      ["\\*.txt", "a.txt", false],
      ["a.b", "a.b", true],
      ["a.b", "axb", false],
      ["(x)+|$^", "(x)+|$^", true],
      ["", "", true],
      ["", "a", false]
    ]
    for (const [pattern, path, expected] of cases) {
      assert.strictEqual(matches(pattern, path), expected, `${pattern} against ${path}`)
    }
  })

  it("refuse malformed patterns and patterns longer than the limit", () => {
    for (const pattern of ["[abc", "{a,b", "a}", "ab\\", "a,b}"]) {
      assert.isUndefined(compileGlob(pattern), pattern)
    }
    assert.isDefined(compileGlob("a".repeat(maxGlobLength)))
    assert.isUndefined(compileGlob("a".repeat(maxGlobLength + 1)))
  })

  it("match a pattern of many stars against a long name without trying each way in turn", () => {
    // As a backtracking regular expression, this match would not end within the age of the machine.
    const name = "a".repeat(250)
    const pattern = `${"*a".repeat(12)}*b`
    assert.isFalse(matches(pattern, name))
    assert.isTrue(matches(pattern, `${name}b`))
    assert.isTrue(matches(`**/${"*a".repeat(12)}*`, `x/y/${name}`))
  })
})
