/**
 * Runs code for the example backend: `POST /run` leases a sandbox of the request's language from
 * the pool, runs the code with the request's deadline, and ends the lease. The deadline covers the
 * wait for a sandbox too; past it the lease is interrupted, so the pool deletes that sandbox (its
 * process may still be running).
 */
import type { LeaseError } from "@effect-daytona/sdk/SandboxPool"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type RunRequest, RunResult, RunTimeout, SandboxFailure, Unavailable } from "./RunApi.js"

/** The deadline of a run or a session command that gives none. */
export const defaultTimeout = Duration.seconds(30)

/** What a run can fail with, as the API declares it. */
export type RunError = RunTimeout | Unavailable | SandboxFailure

/** An SDK or pool failure as the API's error: no sandbox (503), a deadline (408), or Daytona's failure (502). */
export const toRunError = (error: { readonly _tag: string; readonly message: string }): RunError => {
  switch (error._tag) {
    case "SandboxPoolTimeoutError":
    case "SandboxPoolQuotaError":
    case "SandboxPoolClosedError":
    case "SandboxPoolUnhealthyError":
      return new Unavailable({ message: error.message })
    case "CommandTimeoutError":
    case "RequestTimeoutError":
      return new RunTimeout({ message: error.message })
    default:
      return new SandboxFailure({ message: `${error._tag}: ${error.message}` })
  }
}

/** The service behind `POST /run`. */
export class CodeRunner extends Context.Tag("@effect-daytona/examples/CodeRunner")<
  CodeRunner,
  { readonly run: (request: RunRequest) => Effect.Effect<RunResult, RunError> }
>() {}

/** {@link CodeRunner} over the `SandboxPool` in context. */
export const layer: Layer.Layer<CodeRunner, never, SandboxPool.SandboxPool> = Layer.effect(
  CodeRunner,
  Effect.map(SandboxPool.SandboxPool, (pool) => ({
    run: (request) =>
      Effect.gen(function* () {
        const start = yield* Clock.currentTimeMillis
        const timeout = request.timeoutSeconds === undefined ? defaultTimeout : Duration.seconds(request.timeoutSeconds)
        const result = yield* Effect.scoped(
          Effect.flatMap(pool.lease({ language: request.language }), (sandbox) =>
            sandbox.process.codeRun(request.code, { timeout })
          )
        ).pipe(
          Effect.mapError((error: LeaseError | { readonly _tag: string; readonly message: string }) =>
            toRunError(error)
          ),
          Effect.timeoutFail({
            duration: timeout,
            onTimeout: () => new RunTimeout({ message: `the run did not end within ${Duration.format(timeout)}` })
          })
        )
        const end = yield* Clock.currentTimeMillis
        return new RunResult({ output: result.result, exitCode: result.exitCode, durationMs: end - start })
      }).pipe(Effect.withSpan("CodeRunner.run", { attributes: { "run.language": request.language } }))
  }))
)
