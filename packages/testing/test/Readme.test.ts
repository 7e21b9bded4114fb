import { assert, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

const dir = NodePath.dirname(new URL(import.meta.url).pathname)

// The README's ```ts blocks, in order, are exactly test/ReadmeExamples.test.ts: every example
// in the README runs as a test, and the README cannot drift from what runs.
it.effect("the README's examples are test/ReadmeExamples.test.ts", () =>
  Effect.sync(() => {
    const readme = NodeFs.readFileSync(NodePath.join(dir, "..", "README.md"), "utf8")
    const blocks = Array.from(readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm), (match) => match[1]!)
    const examples = NodeFs.readFileSync(NodePath.join(dir, "ReadmeExamples.test.ts"), "utf8")
    assert.isAbove(blocks.length, 0)
    assert.strictEqual(blocks.join("\n"), examples)
  })
)
