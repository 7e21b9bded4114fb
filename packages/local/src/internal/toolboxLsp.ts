import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import { CompletionItem, type CompletionList, LspRange, type LspSymbol } from "@effect-daytona/sdk/ToolboxDto"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as NodeCrypto from "node:crypto"
import * as NodeFsCallback from "node:fs"
import * as NodeNet from "node:net"
import * as NodePath from "node:path"
import type { SandboxView } from "../SandboxEngine.js"
import * as SandboxRegistry from "./sandboxRegistry.js"
import { json } from "./http.js"
import { resolveInstalled } from "./installedModule.js"
import { type Connection, connect, type LspFailure } from "./lspClient.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { badRequest, internal, DaemonError } from "./daemonError.js"
import { inSandbox, viewOf } from "./toolboxFs.js"
import {
  empty,
  type EndpointHandler,
  noProcessesLeft,
  outOfProcesses,
  runInSandbox,
  sandboxTmp,
  serve
} from "./toolboxRoute.js"

type Range = typeof LspRange.Type
type Item = typeof CompletionItem.Type

const requestTimeout = "15 seconds"
/** Documents larger than this are not sent to a language server. */
const maxDocument = 16 * 1024 * 1024
const stopTimeout = "3 seconds"

interface Language {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly install: string
  /** The copy shipped with the local server, run with Node when the machine has none on its PATH. */
  readonly bundled?: string | undefined
}

const bundledTsServer = resolveInstalled("typescript/lib/tsserver.js")
const bundledTsLanguageServer = (() => {
  const manifest = resolveInstalled("typescript-language-server/package.json")
  return manifest === undefined ? undefined : NodePath.join(NodePath.dirname(manifest), "lib", "cli.mjs")
})()

const typescriptServer: Language = {
  command: "typescript-language-server",
  args: ["--stdio"],
  install: "npm install -g typescript-language-server typescript",
  bundled: bundledTsLanguageServer
}

const languages: Record<string, Language> = {
  python: { command: "pylsp", args: [], install: "pip install python-lsp-server" },
  typescript: typescriptServer,
  javascript: typescriptServer
}

interface ServerState {
  readonly languageId: string
  readonly pathToProject: string
  readonly name: string
  readonly connection: Connection
  readonly opened: Set<string>
  readonly ended: Promise<void>
  process: Fiber.RuntimeFiber<void> | undefined
  exited: string | undefined
}

interface SandboxServers {
  readonly servers: Map<string, ServerState>
  readonly lock: Effect.Semaphore
}

/** Language servers of every sandbox. */
const serverRegistry = SandboxRegistry.make(
  (): SandboxServers => ({ servers: new Map(), lock: Effect.unsafeMakeSemaphore(1) })
)

const serversOf = (sandbox: SandboxRecord) => serverRegistry(sandbox.id)

const keyOf = (languageId: string, pathToProject: string) => `${languageId}\u0000${pathToProject}`

const languageOf = (languageId: string) => {
  const language = languages[languageId]
  return language === undefined
    ? Effect.fail(
        badRequest(`unsupported language: ${languageId} (expected one of ${Object.keys(languages).join(", ")})`)
      )
    : Effect.succeed(language)
}

const notInstalled = (language: Language) =>
  new DaemonError({
    status: 400,
    code: "LSP_SERVER_NOT_INSTALLED",
    message: `${language.command} is not installed on the local server (install it with \`${language.install}\`)`
  })

const lspError = (server: ServerState, failure: LspFailure): DaemonError => {
  switch (failure._tag) {
    case "LspTimeout":
      return new DaemonError({ status: 408, code: "REQUEST_TIMEOUT", message: `${server.name}: ${failure.message}` })
    case "LspClosed":
      return new DaemonError({ status: 500, code: "LSP_SERVER_EXITED", message: `${server.name}: ${failure.message}` })
    case "LspResponseError":
      return new DaemonError({
        status: 500,
        code: "LSP_REQUEST_FAILED",
        message: `${server.name} failed ${failure.method} (${failure.code}): ${failure.message}`
      })
  }
}

/** The command that runs the language server inside the sandbox: the machine's own, else the bundled one. */
const locate = (sandbox: SandboxRecord, language: Language) =>
  Effect.gen(function* () {
    const found = yield* runInSandbox(sandbox, ["/bin/sh", "-c", 'command -v "$0"', language.command])
    if (found.exitCode === 0 && found.output.trim() !== "") return [found.output.trim(), ...language.args]
    const bundled = language.bundled
    if (bundled !== undefined) {
      const usable = yield* runInSandbox(sandbox, [
        "/bin/sh",
        "-c",
        'test -x "$0" && test -r "$1"',
        process.execPath,
        bundled
      ])
      if (usable.exitCode === 0) return [process.execPath, bundled, ...language.args]
    }
    return yield* notInstalled(language)
  })

/**
 * Opens a pipe read-write and non-blocking, so opening never waits for the other side and it never
 * sees its end early. The pipes are created by the sandbox in its own `/tmp` and opened through its
 * view, never following a link.
 */
const openPipe = (view: SandboxView, path: string) =>
  Effect.tryPromise({
    try: () => SandboxFs.openPipeDescriptor(view, path),
    catch: () => internal(`cannot open the language server's pipe ${path}`)
  })

/** The end of what the language server wrote on stderr (a file of the sandbox, read without following a link). */
const readTail = (view: SandboxView, path: string) =>
  Effect.promise(() =>
    SandboxFs.readTail(view, path, 4000).then(
      (tail) => {
        const trimmed = tail.bytes.toString("utf8").trim()
        return trimmed.length > 1000 ? trimmed.slice(-1000) : trimmed
      },
      () => ""
    )
  )

const initializeParams = (languageId: string, pathToProject: string) => {
  const rootUri = `file://${pathToProject}`
  return {
    processId: null,
    clientInfo: { name: "effect-daytona-local" },
    rootPath: pathToProject,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: NodePath.posix.basename(pathToProject) || pathToProject }],
    capabilities: {
      workspace: { configuration: true, workspaceFolders: true, symbol: {} },
      textDocument: {
        synchronization: { dynamicRegistration: false, didSave: false },
        documentSymbol: { hierarchicalDocumentSymbolSupport: true },
        completion: {
          completionItem: { snippetSupport: false, documentationFormat: ["markdown", "plaintext"] },
          contextSupport: true
        }
      }
    },
    initializationOptions:
      languages[languageId] === typescriptServer && bundledTsServer !== undefined
        ? {
            disableAutomaticTypingAcquisition: true,
            tsserver: { fallbackPath: bundledTsServer, useSyntaxServer: "never" }
          }
        : {}
  }
}

const projectDirectory = (sandbox: SandboxRecord, pathToProject: string) =>
  Effect.gen(function* () {
    const found = yield* inSandbox(sandbox, pathToProject, (view) => SandboxFs.stat(view, pathToProject))
    if (!found.status.isDirectory()) return yield* badRequest(`pathToProject ${pathToProject} is not a directory`)
  })

/** Spawns the language server in the sandbox, its stdio on two pipes in the sandbox's temporary directory. */
const spawn = (sandbox: SandboxRecord, languageId: string, pathToProject: string, argv: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const tmp = yield* sandboxTmp(sandbox)
    const view = yield* viewOf(sandbox)
    const dirInside = NodePath.posix.join(tmp.inside, ".daytona", "lsp", NodeCrypto.randomUUID())
    const prepared = yield* runInSandbox(sandbox, [
      "/bin/sh",
      "-c",
      'mkdir -p -- "$0" && mkfifo -m 600 -- "$0/in.pipe" "$0/out.pipe"',
      dirInside
    ])
    if (prepared.exitCode !== 0)
      return yield* outOfProcesses(prepared.output)
        ? noProcessesLeft("the language server's pipes")
        : internal(`cannot create the language server's pipes: ${prepared.output.trim()}`)
    const inFd = yield* openPipe(view, NodePath.posix.join(dirInside, "in.pipe"))
    const outFd = yield* openPipe(view, NodePath.posix.join(dirInside, "out.pipe")).pipe(
      Effect.tapError(() => Effect.sync(() => NodeFsCallback.closeSync(inFd)))
    )
    const input = new NodeNet.Socket({ fd: inFd, readable: false, writable: true })
    const output = new NodeNet.Socket({ fd: outFd, readable: true, writable: false })
    input.on("error", () => {})
    output.on("error", () => {})
    const connection = connect(output, input)
    let ended = () => {}
    const server: ServerState = {
      languageId,
      pathToProject,
      name: `the ${languageId} language server (${argv[0]}) for ${pathToProject}`,
      connection,
      opened: new Set(),
      ended: new Promise((resolve) => (ended = resolve)),
      process: undefined,
      exited: undefined
    }
    const finish = (how: string) =>
      Effect.gen(function* () {
        const stderr = yield* readTail(view, NodePath.posix.join(dirInside, "stderr.log"))
        server.exited = `the language server exited (${how})${stderr === "" ? "" : `: ${stderr}`}`
        connection.close(server.exited)
        input.destroy()
        output.destroy()
        yield* Effect.promise(() => SandboxFs.remove(view, dirInside, true).catch(() => undefined))
        ended()
      })
    const run = runInSandbox(
      sandbox,
      ["/bin/sh", "-c", 'exec "$@" <"$0/in.pipe" >"$0/out.pipe" 2>"$0/stderr.log"', dirInside, ...argv],
      { cwd: pathToProject }
    ).pipe(
      Effect.onExit((exit) =>
        finish(
          Exit.isSuccess(exit)
            ? `exit code ${exit.value.exitCode}`
            : Exit.isInterrupted(exit)
              ? "killed"
              : `it could not run: ${exit.cause.toString()}`
        )
      ),
      Effect.ignore
    )
    server.process = yield* Effect.forkDaemon(run)
    return server
  })

/** Ends a language server: `shutdown` and `exit`, then a kill if it has not ended within the bound. */
const terminate = (server: ServerState) =>
  Effect.gen(function* () {
    if (server.exited === undefined) {
      yield* server.connection.request("shutdown", null, stopTimeout).pipe(Effect.ignore)
      yield* server.connection.notify("exit", null).pipe(Effect.ignore)
    }
    const ended = yield* Effect.promise(() => server.ended).pipe(Effect.timeout(stopTimeout), Effect.option)
    if (ended._tag === "None" && server.process !== undefined) yield* Fiber.interrupt(server.process)
  })

/** Language servers a sandbox may run at once (each holds a process and the server's read of its output). */
const maxServers = 16

const start: EndpointHandler<typeof ToolboxApi.lspStart> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const { languageId, pathToProject } = payload
    const language = yield* languageOf(languageId)
    if (pathToProject === "") return yield* badRequest("pathToProject is required")
    const { servers, lock } = yield* serversOf(sandbox)
    return yield* lock.withPermits(1)(
      Effect.gen(function* () {
        const key = keyOf(languageId, pathToProject)
        const running = servers.get(key)
        if (running !== undefined && running.exited === undefined) return empty(200)
        servers.delete(key)
        let runningCount = 0
        for (const other of servers.values()) if (other.exited === undefined) runningCount++
        if (runningCount >= maxServers)
          return yield* badRequest(`too many language servers in this sandbox (at most ${maxServers}): stop one first`)
        yield* projectDirectory(sandbox, pathToProject)
        const argv = yield* locate(sandbox, language)
        const server = yield* spawn(sandbox, languageId, pathToProject, argv)
        const initialized = yield* server.connection
          .request("initialize", initializeParams(languageId, pathToProject), requestTimeout)
          .pipe(
            Effect.zipRight(server.connection.notify("initialized", {})),
            Effect.mapError((failure) => lspError(server, failure)),
            Effect.either
          )
        if (initialized._tag === "Left") {
          yield* terminate(server)
          return yield* Effect.fail(initialized.left)
        }
        servers.set(key, server)
        return empty(200)
      })
    )
  })

const stop: EndpointHandler<typeof ToolboxApi.lspStop> = (sandbox, { payload }) =>
  Effect.gen(function* () {
    const { languageId, pathToProject } = payload
    yield* languageOf(languageId)
    const { servers, lock } = yield* serversOf(sandbox)
    const key = keyOf(languageId, pathToProject)
    const server = yield* lock.withPermits(1)(
      Effect.sync(() => {
        const found = servers.get(key)
        servers.delete(key)
        return found
      })
    )
    if (server !== undefined) yield* terminate(server)
    return empty(200)
  })

/** The running server for a request, or why there is none. */
const serverFor = (sandbox: SandboxRecord, languageId: string, pathToProject: string) =>
  Effect.gen(function* () {
    const language = yield* languageOf(languageId)
    const { servers } = yield* serversOf(sandbox)
    const server = servers.get(keyOf(languageId, pathToProject))
    if (server === undefined) {
      const installed = yield* locate(sandbox, language).pipe(Effect.either)
      if (installed._tag === "Left") return yield* installed.left
      return yield* new DaemonError({
        status: 400,
        code: "LSP_SERVER_NOT_STARTED",
        message: `the ${languageId} language server for ${pathToProject} is not started (call start first)`
      })
    }
    if (server.exited !== undefined)
      return yield* new DaemonError({
        status: 500,
        code: "LSP_SERVER_EXITED",
        message: `${server.name}: ${server.exited} (start it again)`
      })
    return server
  })

const call = (server: ServerState, method: string, params: unknown) =>
  server.connection
    .request(method, params, requestTimeout)
    .pipe(Effect.mapError((failure) => lspError(server, failure)))

const notify = (server: ServerState, method: string, params: unknown) =>
  server.connection.notify(method, params).pipe(Effect.mapError((failure) => lspError(server, failure)))

const pathOfUri = (uri: string) => {
  if (!uri.startsWith("file://")) return Effect.fail(badRequest(`uri must start with file://, got ${uri}`))
  const path = uri.slice("file://".length)
  try {
    return Effect.succeed(path.includes("%") ? decodeURIComponent(path) : path)
  } catch {
    return Effect.succeed(path)
  }
}

const documentLanguage = (languageId: string, path: string) => {
  if (languages[languageId] !== typescriptServer) return languageId
  const ext = NodePath.extname(path)
  if (ext === ".tsx") return "typescriptreact"
  if (ext === ".jsx") return "javascriptreact"
  if ([".js", ".mjs", ".cjs"].includes(ext)) return "javascript"
  if ([".ts", ".mts", ".cts"].includes(ext)) return "typescript"
  return languageId
}

const openDocument = (sandbox: SandboxRecord, server: ServerState, uri: string) =>
  Effect.gen(function* () {
    const path = yield* pathOfUri(uri)
    const text = yield* inSandbox(sandbox, path, (view) => SandboxFs.readText(view, path, maxDocument))
    if (server.opened.has(uri)) yield* notify(server, "textDocument/didClose", { textDocument: { uri } })
    yield* notify(server, "textDocument/didOpen", {
      textDocument: { uri, languageId: documentLanguage(server.languageId, path), version: 1, text }
    })
    server.opened.add(uri)
  })

const didOpen: EndpointHandler<typeof ToolboxApi.lspDidOpen> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const server = yield* serverFor(sandbox, request.languageId, request.pathToProject)
    yield* openDocument(sandbox, server, request.uri)
    return empty(200)
  })

const didClose: EndpointHandler<typeof ToolboxApi.lspDidClose> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const server = yield* serverFor(sandbox, request.languageId, request.pathToProject)
    yield* pathOfUri(request.uri)
    if (server.opened.delete(request.uri))
      yield* notify(server, "textDocument/didClose", { textDocument: { uri: request.uri } })
    return empty(200)
  })

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const zeroRange: Range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }

const rangeOf = (u: unknown): Range => {
  if (!isObject(u) || !isObject(u.start) || !isObject(u.end)) return zeroRange
  const position = (p: Record<string, unknown>) => ({
    line: typeof p.line === "number" ? p.line : 0,
    character: typeof p.character === "number" ? p.character : 0
  })
  return { start: position(u.start), end: position(u.end) }
}

/** `SymbolInformation`, `WorkspaceSymbol` and (flattened) `DocumentSymbol` answers as the daemon's `LspSymbol`s. */
const symbolsOf = (result: unknown, uri: string | undefined): Array<LspSymbol> => {
  const symbols: Array<LspSymbol> = []
  const visit = (u: unknown) => {
    if (!isObject(u) || typeof u.name !== "string") return
    const kind = typeof u.kind === "number" ? u.kind : 0
    if (isObject(u.location)) {
      const location = u.location
      symbols.push({
        name: u.name,
        kind,
        location: { uri: typeof location.uri === "string" ? location.uri : (uri ?? ""), range: rangeOf(location.range) }
      })
    } else symbols.push({ name: u.name, kind, location: { uri: uri ?? "", range: rangeOf(u.range) } })
    if (Array.isArray(u.children)) u.children.forEach(visit)
  }
  if (Array.isArray(result)) result.forEach(visit)
  return symbols
}

const text = (u: unknown) => (typeof u === "string" ? { value: u } : undefined)

const completionItem = (u: unknown): Array<Item> => {
  if (!isObject(u) || typeof u.label !== "string") return []
  const edit = isObject(u.textEdit) ? u.textEdit.newText : undefined
  const insert = text(u.insertText) ?? text(edit)
  const item: { -readonly [K in keyof Item]: Item[K] } = { label: u.label }
  if (typeof u.kind === "number") item.kind = u.kind
  if (typeof u.detail === "string") item.detail = u.detail
  if (u.documentation !== undefined && u.documentation !== null) item.documentation = u.documentation
  if (typeof u.sortText === "string") item.sortText = u.sortText
  if (typeof u.filterText === "string") item.filterText = u.filterText
  if (insert !== undefined) item.insertText = insert.value
  return [item]
}

const completionListOf = (result: unknown): CompletionList => {
  const items = Array.isArray(result) ? result : isObject(result) && Array.isArray(result.items) ? result.items : []
  return {
    isIncomplete: isObject(result) && !Array.isArray(result) && result.isIncomplete === true,
    items: items.flatMap(completionItem)
  }
}

const documentSymbols: EndpointHandler<typeof ToolboxApi.lspDocumentSymbols> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const { languageId, pathToProject, uri } = query
    if (!uri) return yield* badRequest("uri is required")
    const server = yield* serverFor(sandbox, languageId, pathToProject)
    yield* pathOfUri(uri)
    const result = yield* call(server, "textDocument/documentSymbol", { textDocument: { uri } })
    return json(symbolsOf(result, uri))
  })

const workspaceSymbols: EndpointHandler<typeof ToolboxApi.lspWorkspaceSymbols> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const server = yield* serverFor(sandbox, query.languageId, query.pathToProject)
    const result = yield* call(server, "workspace/symbol", { query: query.query })
    return json(symbolsOf(result, undefined))
  })

const completions: EndpointHandler<typeof ToolboxApi.lspCompletions> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const server = yield* serverFor(sandbox, request.languageId, request.pathToProject)
    yield* pathOfUri(request.uri)
    const result = yield* call(server, "textDocument/completion", {
      textDocument: { uri: request.uri },
      position: request.position,
      ...(request.context === undefined ? {} : { context: request.context })
    })
    return json(completionListOf(result))
  })

/**
 * The daemon's LSP routes. Each (language, project) of a sandbox has its own language server,
 * run inside the sandbox and spoken to over JSON-RPC on its stdio; a server that is not installed
 * is a 400 `LSP_SERVER_NOT_INSTALLED` naming it.
 */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.lspStart, start),
  serve(ToolboxApi.lspStop, stop),
  serve(ToolboxApi.lspDidOpen, didOpen),
  serve(ToolboxApi.lspDidClose, didClose),
  serve(ToolboxApi.lspCompletions, completions),
  serve(ToolboxApi.lspDocumentSymbols, documentSymbols),
  serve(ToolboxApi.lspWorkspaceSymbols, workspaceSymbols)
)
