import { assert, describe, it } from "@effect/vitest"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { sdkVersion } from "../src/internal/version.js"

describe("version", () => {
  it("the version sent in User-Agent is the package's", () => {
    const manifest = JSON.parse(
      NodeFs.readFileSync(NodePath.join(import.meta.dirname, "..", "package.json"), "utf8")
    ) as { readonly version: string }
    assert.strictEqual(sdkVersion, manifest.version)
  })
})
