import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { SandboxEngine } from "../SandboxEngine.js"
import * as Files from "./files.js"
import { json, readBody } from "./http.js"
import { daemonVersion, type SandboxRecord } from "./record.js"
import { split } from "./shellWords.js"
import { badRequest } from "./daemonError.js"
import * as ToolboxFiles from "./toolboxFiles.js"
import * as ToolboxGit from "./toolboxGit.js"
import * as ToolboxLsp from "./toolboxLsp.js"
import { serve, runInSandbox } from "./toolboxRoute.js"
import * as ToolboxSessions from "./toolboxSessions.js"

const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const body = readBody.pipe(
  Effect.mapError((error) => badRequest(`invalid request body: ${error.message}`)),
  Effect.filterOrFail(isRecord, () => badRequest("invalid request body: expected a JSON object"))
)

const optionalString = (value: unknown, field: string) =>
  value === undefined || value === null || typeof value === "string"
    ? Effect.succeed(value ?? undefined)
    : Effect.fail(badRequest(`invalid request body: ${field} must be a string`))

const envs = (value: unknown) => {
  if (value === undefined || value === null) return Effect.succeed({})
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== "string"))
    return Effect.fail(badRequest("invalid request body: envs must map names to strings"))
  const bad = Object.keys(value).find((key) => !envKey.test(key))
  return bad === undefined
    ? Effect.succeed(value as Record<string, string>)
    : Effect.fail(badRequest(`invalid environment variable name: ${bad}`))
}

const timeout = (value: unknown) => {
  if (value === undefined || value === null || value === 0) return Effect.succeed(undefined)
  return typeof value === "number" && Number.isInteger(value) && value > 0
    ? Effect.succeed(Duration.seconds(value))
    : Effect.fail(badRequest("invalid request body: timeout must be a non-negative integer"))
}

/** The daemon's `ExecuteResponse`: the exit code and the combined output. */
const executed = (result: { readonly exitCode: number; readonly output: string }) =>
  json({ exitCode: result.exitCode, result: result.output })

const execute = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const request = yield* body
    if (typeof request.command !== "string") return yield* badRequest("invalid request body: command is required")
    const argv = split(request.command)
    if (argv === undefined) return yield* badRequest("invalid command: unterminated quote")
    if (argv.length === 0) return yield* badRequest("empty command")
    const result = yield* runInSandbox(sandbox, argv, {
      cwd: yield* optionalString(request.cwd, "cwd"),
      env: yield* envs(request.envs),
      timeout: yield* timeout(request.timeout)
    })
    return executed(result)
  })

/** Turns TypeScript into JavaScript with the `typescript` package, loaded only when needed. */
const transpile = (code: string) =>
  Effect.tryPromise({
    try: async () => {
      const ts = (await import("typescript")).default
      return ts.transpileModule(code, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 }
      }).outputText
    },
    catch: () => badRequest("typescript code-run needs the typescript package, which could not be loaded")
  })

const codeRun = (sandbox: SandboxRecord) =>
  Effect.gen(function* () {
    const request = yield* body
    if (typeof request.code !== "string") return yield* badRequest("invalid request body: code is required")
    const argvInput = request.argv ?? []
    if (!Array.isArray(argvInput) || argvInput.some((a) => typeof a !== "string"))
      return yield* badRequest("invalid request body: argv must be an array of strings")
    const extra = argvInput as Array<string>
    let argv: Array<string>
    switch (request.language) {
      case "python":
        argv = ["python3", "-c", request.code, ...extra]
        break
      case "javascript":
        argv = ["node", "-e", request.code, ...extra]
        break
      case "typescript":
        argv = ["node", "-e", yield* transpile(request.code), ...extra]
        break
      default:
        return yield* badRequest(`unsupported language: ${String(request.language)}`)
    }
    const result = yield* runInSandbox(sandbox, argv, {
      env: yield* envs(request.envs),
      timeout: yield* timeout(request.timeout)
    })
    return executed(result)
  })

const home = (sandbox: SandboxRecord) =>
  Effect.map(SandboxEngine, (engine) => json({ dir: engine.paths(sandbox.id).homeInSandbox }))

/** The toolbox daemon's endpoints, under `/toolbox/{sandboxId}`. */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.getVersion, () => Effect.succeed(json({ version: daemonVersion }))),
  serve(ToolboxApi.getUserHomeDir, home),
  serve(ToolboxApi.getWorkDir, home),
  serve(ToolboxApi.executeCommand, execute),
  serve(ToolboxApi.codeRun, codeRun),
  serve(ToolboxApi.uploadFileLegacy, Files.upload),
  serve(ToolboxApi.downloadFile, Files.download),
  HttpRouter.concat(ToolboxFiles.router),
  HttpRouter.concat(ToolboxSessions.router),
  HttpRouter.concat(ToolboxGit.router),
  HttpRouter.concat(ToolboxLsp.router)
)
