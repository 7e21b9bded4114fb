import * as HttpRouter from "@effect/platform/HttpRouter"
import { LspCompletionParams, LspDocumentRequest, LspServerRequest } from "@effect-daytona/sdk/ToolboxDto"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { SandboxRecord } from "./record.js"
import { badRequest, decodeBody, query, route, RouteError, runInSandbox } from "./toolboxRoute.js"

const servers: Record<string, { readonly command: string; readonly install: string }> = {
  python: { command: "pylsp", install: "pip install python-lsp-server" },
  typescript: {
    command: "typescript-language-server",
    install: "npm install -g typescript-language-server typescript"
  },
  javascript: { command: "typescript-language-server", install: "npm install -g typescript-language-server typescript" }
}

/**
 * Finds the language server for `languageId` on the sandbox's PATH. Language servers are not
 * driven by the local server yet: an installed one is reported as not implemented, a missing one
 * as what to install.
 */
const languageServer = (sandbox: SandboxRecord, languageId: string) =>
  Effect.gen(function* () {
    const server = servers[languageId]
    if (server === undefined) return yield* badRequest(`unsupported language: ${languageId}`)
    const found = yield* runInSandbox(sandbox, ["/bin/sh", "-c", 'command -v "$0"', server.command])
    if (found.exitCode !== 0)
      return yield* new RouteError({
        status: 400,
        code: "LSP_SERVER_NOT_INSTALLED",
        message: `${server.command} is not installed on the local server (install it with \`${server.install}\`)`
      })
    return yield* new RouteError({
      status: 501,
      code: "NOT_IMPLEMENTED",
      message: `the local server does not drive language servers yet (${server.command} is installed at ${found.output.trim()})`
    })
  })

const withBody =
  <A extends { readonly languageId: string }, I>(schema: Schema.Schema<A, I>) =>
  (sandbox: SandboxRecord) =>
    Effect.flatMap(decodeBody(schema), (request) => languageServer(sandbox, request.languageId))

const withQuery = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const languageId = yield* query("languageId")
    const pathToProject = yield* query("pathToProject")
    if (!languageId || !pathToProject) return yield* badRequest("languageId and pathToProject are required")
    return yield* languageServer(sandbox, languageId)
  })

/** The daemon's LSP routes. */
export const router = HttpRouter.empty.pipe(
  route("POST", "/lsp/start", withBody(LspServerRequest)),
  route("POST", "/lsp/stop", withBody(LspServerRequest)),
  route("POST", "/lsp/did-open", withBody(LspDocumentRequest)),
  route("POST", "/lsp/did-close", withBody(LspDocumentRequest)),
  route("POST", "/lsp/completions", withBody(LspCompletionParams)),
  route("GET", "/lsp/document-symbols", withQuery),
  route("GET", "/lsp/workspacesymbols", withQuery)
)
