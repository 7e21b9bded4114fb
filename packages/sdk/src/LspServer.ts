/**
 * A language server inside a sandbox (Python via pylsp, TypeScript and JavaScript via
 * typescript-language-server), driven through the toolbox daemon. Every request carries the
 * language and the project path; a document path becomes the URI `file://<path>`, so paths must be
 * absolute.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { type ApiError, type NotFoundError, ValidationError } from "./DaytonaError.js"
import * as ToolboxApi from "./ToolboxApi.js"
import type * as ToolboxClient from "./ToolboxClient.js"
import type { CompletionList, LspPosition, LspSymbol } from "./ToolboxDto.js"
import * as Spans from "./internal/spans.js"

/**
 * The languages the daemon runs a server for.
 *
 * @since 0.1.0
 * @category constants
 */
export const languageIds = ["python", "typescript", "javascript"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type LanguageId = (typeof languageIds)[number]

/**
 * Errors of an LSP request: the server was not started or the path is wrong (`ValidationError`,
 * `NotFoundError`; the daemon answers these with a bare status), or an API error.
 *
 * @since 0.1.0
 * @category models
 */
export type LspError = ApiError | NotFoundError | ValidationError

/**
 * A language server for one project.
 *
 * @since 0.1.0
 * @category models
 */
export interface LspServer {
  readonly languageId: LanguageId
  readonly pathToProject: string
  /** Starts the server (`POST /lsp/start`). */
  readonly start: Effect.Effect<void, LspError>
  /** Stops the server (`POST /lsp/stop`). */
  readonly stop: Effect.Effect<void, LspError>
  /** Tells the server a document is open (`POST /lsp/did-open`). */
  readonly didOpen: (path: string) => Effect.Effect<void, LspError>
  /** Tells the server a document is closed (`POST /lsp/did-close`). */
  readonly didClose: (path: string) => Effect.Effect<void, LspError>
  /** The symbols of a document (`GET /lsp/document-symbols`). */
  readonly documentSymbols: (path: string) => Effect.Effect<ReadonlyArray<LspSymbol>, LspError>
  /** Symbols matching a query across the project (`GET /lsp/workspacesymbols`). */
  readonly sandboxSymbols: (query: string) => Effect.Effect<ReadonlyArray<LspSymbol>, LspError>
  /** Completions at a zero-based position (`POST /lsp/completions`). */
  readonly completions: (path: string, position: LspPosition) => Effect.Effect<CompletionList, LspError>
}

const isLanguageId = (u: string): u is LanguageId => (languageIds as ReadonlyArray<string>).includes(u)

/**
 * Creates the handle of a language server; nothing is sent until `start`. An unsupported
 * language is a `ValidationError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  target: ToolboxClient.Target,
  toolbox: ToolboxClient.Service,
  languageId: string,
  pathToProject: string
): Effect.Effect<LspServer, ValidationError> => {
  if (!isLanguageId(languageId)) {
    return Effect.fail(
      new ValidationError({
        field: "languageId",
        message: `languageId must be one of ${languageIds.join(", ")}, got ${JSON.stringify(languageId)}`
      })
    )
  }
  if (pathToProject === "") {
    return Effect.fail(new ValidationError({ field: "pathToProject", message: "pathToProject must not be empty" }))
  }
  const common = { languageId, pathToProject }
  const uri = (path: string) => `file://${path}`
  const span = (name: string) =>
    Spans.withSpan(`LspServer.${name}`, {
      captureStackTrace: false,
      attributes: { "daytona.sandbox.id": target.id, "daytona.lsp.language": languageId }
    })
  return Effect.succeed({
    languageId,
    pathToProject,
    start: toolbox.call(target, ToolboxApi.lspStart, { payload: common }).pipe(span("start")),
    stop: toolbox.call(target, ToolboxApi.lspStop, { payload: common }).pipe(span("stop")),
    didOpen: (path) =>
      toolbox.call(target, ToolboxApi.lspDidOpen, { payload: { ...common, uri: uri(path) } }).pipe(span("didOpen")),
    didClose: (path) =>
      toolbox.call(target, ToolboxApi.lspDidClose, { payload: { ...common, uri: uri(path) } }).pipe(span("didClose")),
    documentSymbols: (path) =>
      toolbox.call(target, ToolboxApi.lspDocumentSymbols, { query: { ...common, uri: uri(path) } }).pipe(
        Effect.map((list) => list ?? []),
        span("documentSymbols")
      ),
    sandboxSymbols: (query) =>
      toolbox.call(target, ToolboxApi.lspWorkspaceSymbols, { query: { ...common, query } }).pipe(
        Effect.map((list) => list ?? []),
        span("sandboxSymbols")
      ),
    completions: (path, position) =>
      toolbox
        .call(target, ToolboxApi.lspCompletions, { payload: { ...common, uri: uri(path), position } })
        .pipe(span("completions"))
  })
}
