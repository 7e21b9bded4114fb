import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { SandboxEngine } from "../SandboxEngine.js"
import * as Files from "./files.js"
import { json } from "./http.js"
import { daemonVersion, type SandboxRecord } from "./record.js"
import { SandboxesService } from "./sandboxes.js"
import { split } from "./shellWords.js"
import { badRequest } from "./daemonError.js"
import * as ToolboxComputerUse from "./toolboxComputerUse.js"
import * as ToolboxFiles from "./toolboxFiles.js"
import * as ToolboxGit from "./toolboxGit.js"
import * as ToolboxInterpreter from "./toolboxInterpreter.js"
import * as ToolboxLsp from "./toolboxLsp.js"
import * as ToolboxPorts from "./toolboxPorts.js"
import * as ToolboxPty from "./toolboxPty.js"
import { type EndpointHandler, runInSandbox, serve } from "./toolboxRoute.js"
import * as ToolboxSessions from "./toolboxSessions.js"
import * as ToolboxSystem from "./toolboxSystem.js"

const envKey = /^[A-Za-z_][A-Za-z0-9_]*$/

const envs = (value: Readonly<Record<string, string>> | undefined) => {
  const bad = Object.keys(value ?? {}).find((key) => !envKey.test(key))
  return bad === undefined
    ? Effect.succeed(value ?? {})
    : Effect.fail(badRequest(`invalid environment variable name: ${bad}`))
}

const timeout = (value: number | undefined) => {
  if (value === undefined || value === 0) return Effect.succeed(undefined)
  return Number.isInteger(value) && value > 0
    ? Effect.succeed(Duration.seconds(value))
    : Effect.fail(badRequest("invalid request body: timeout must be a non-negative integer"))
}

/** The daemon's `ExecuteResponse`: the exit code and the combined output. */
const executed = (result: { readonly exitCode: number; readonly output: string }) =>
  json({ exitCode: result.exitCode, result: result.output })

const execute: EndpointHandler<typeof ToolboxApi.executeCommand> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const argv = split(request.command)
    if (argv === undefined) return yield* badRequest("invalid command: unterminated quote")
    if (argv.length === 0) return yield* badRequest("empty command")
    const result = yield* runInSandbox(sandbox, argv, {
      cwd: request.cwd,
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

const codeRun: EndpointHandler<typeof ToolboxApi.codeRun> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const extra = request.argv ?? []
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

/** `POST /env`: the environment of the processes, sessions and PTYs the sandbox starts from now on. */
const updateEnv: EndpointHandler<typeof ToolboxApi.updateEnv> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const set = yield* envs(request.set)
    const problem = ToolboxPty.envProblem(set)
    if (problem !== undefined) return yield* badRequest(problem)
    const unset = request.unset ?? []
    const bad = unset.find((key) => !envKey.test(key))
    if (bad !== undefined) return yield* badRequest(`invalid environment variable name: ${bad}`)
    const service = yield* SandboxesService
    return yield* service.updateEnv(sandbox.id, set, unset).pipe(Effect.mapError((error) => badRequest(error.message)))
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
  serve(ToolboxApi.uploadFile, Files.uploadSingle),
  serve(ToolboxApi.updateEnv, updateEnv),
  HttpRouter.concat(ToolboxFiles.router),
  HttpRouter.concat(ToolboxSessions.router),
  HttpRouter.concat(ToolboxGit.router),
  HttpRouter.concat(ToolboxLsp.router),
  HttpRouter.concat(ToolboxComputerUse.router),
  HttpRouter.concat(ToolboxPty.router),
  HttpRouter.concat(ToolboxInterpreter.router),
  HttpRouter.concat(ToolboxSystem.router),
  HttpRouter.concat(ToolboxPorts.router)
)
