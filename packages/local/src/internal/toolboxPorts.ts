import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Effect from "effect/Effect"
import { SandboxEngine } from "../SandboxEngine.js"
import { serve } from "./toolboxRoute.js"

/** The TCP ports a process of the sandbox listens on, read from the kernel at each request. */
const listening = (sandboxId: string) => Effect.flatMap(SandboxEngine, (engine) => engine.listeningPorts(sandboxId))

/** The daemon's `/port` routes: what the sandbox listens on, for previews and for waiting on a server. */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.getPorts, (sandbox) => Effect.map(listening(sandbox.id), (ports) => ({ ports }))),
  serve(ToolboxApi.isPortInUse, (sandbox, input) =>
    Effect.map(listening(sandbox.id), (ports) => ({ isInUse: ports.includes(input.params.port) }))
  )
)
