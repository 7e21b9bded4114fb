import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as Effect from "effect/Effect"
import { SandboxesService } from "./sandboxes.js"
import { serve } from "./toolboxRoute.js"

/** The daemon's `/system` routes: the sandbox's latest resource usage. */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.getSystemMetrics, (sandbox) => Effect.flatMap(SandboxesService, (s) => s.metrics.latest(sandbox)))
)
