import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as LspServer from "../src/LspServer.js"
import { makeToolbox, target } from "./support/FakeToolbox.js"

const symbol = {
  name: "main",
  kind: 12,
  location: { uri: "file:///p/a.py", range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } } }
}

describe("LspServer", () => {
  it.effect("an unsupported language is a ValidationError and sends nothing", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 200 }))
      const error = yield* LspServer.make(target, fake.toolbox, "rust", "/p").pipe(Effect.flip)
      assert.strictEqual(error._tag, "ValidationError")
      assert.strictEqual(error.field, "languageId")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("every request carries languageId and pathToProject; documents become file:// URIs", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox((req) =>
        req.route === "/lsp/document-symbols" || req.route === "/lsp/workspacesymbols"
          ? { status: 200, json: [symbol] }
          : req.route === "/lsp/completions"
            ? { status: 200, json: { isIncomplete: false, items: [{ label: "print", kind: 3 }] } }
            : { status: 200 }
      )
      const lsp = yield* LspServer.make(target, fake.toolbox, "python", "/p")
      yield* lsp.start
      yield* lsp.didOpen("/p/a.py")
      const doc = yield* lsp.documentSymbols("/p/a.py")
      const ws = yield* lsp.sandboxSymbols("mai")
      const completions = yield* lsp.completions("/p/a.py", { line: 1, character: 4 })
      yield* lsp.didClose("/p/a.py")
      yield* lsp.stop
      assert.deepStrictEqual(doc, [symbol])
      assert.deepStrictEqual(ws, [symbol])
      assert.deepStrictEqual(
        completions.items.map((i) => i.label),
        ["print"]
      )
      const common = { languageId: "python", pathToProject: "/p" }
      const reqs = yield* fake.requests
      assert.deepStrictEqual(
        reqs.map((r) => [r.method, r.route, r.method === "GET" ? r.query : r.json]),
        [
          ["POST", "/lsp/start", common],
          ["POST", "/lsp/did-open", { ...common, uri: "file:///p/a.py" }],
          ["GET", "/lsp/document-symbols", { ...common, uri: "file:///p/a.py" }],
          ["GET", "/lsp/workspacesymbols", { query: "mai", ...common }],
          ["POST", "/lsp/completions", { ...common, uri: "file:///p/a.py", position: { line: 1, character: 4 } }],
          ["POST", "/lsp/did-close", { ...common, uri: "file:///p/a.py" }],
          ["POST", "/lsp/stop", common]
        ]
      )
    })
  )

  it.effect("a request to a server that was not started maps the bare status", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 400 }))
      const lsp = yield* LspServer.make(target, fake.toolbox, "typescript", "/p")
      const error = yield* lsp.documentSymbols("/p/a.ts").pipe(Effect.flip)
      assert.strictEqual(error._tag, "ValidationError")
    })
  )
})
