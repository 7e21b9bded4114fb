import type * as SandboxInterpreter from "@effect-daytona/local/SandboxInterpreter"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { CodeReply, CodeRun } from "../ScriptedEngine.js"

/**
 * An interpreter whose runs are answered by `answer`: a run waits its reply's delay on Effect's
 * `Clock` (an interrupt or a kill ends the wait: `Interrupted`, or `Exited` with 137), then reports
 * its stdout, stderr and error, and ends `Completed`, or `Exited` when the reply gives an exit code
 * (the interpreter is then gone).
 */
export const make = (
  answer: (run: CodeRun) => CodeReply,
  started: { readonly sandboxId: string; readonly interpreter: number; readonly cwd: string | undefined }
): Effect.Effect<SandboxInterpreter.Interpreter> =>
  Effect.gen(function* () {
    const killed = yield* Deferred.make<void>()
    let exitCode: number | undefined
    let interrupt: Deferred.Deferred<void> | undefined
    const exited = (code: number): SandboxInterpreter.Event => ({
      _tag: "End",
      outcome: { _tag: "Exited", exitCode: code }
    })
    const run = (code: string, env: Readonly<Record<string, string>>) =>
      Effect.gen(function* () {
        if (exitCode !== undefined) return [exited(exitCode)]
        const reply = answer({ ...started, code, env })
        const interrupted = yield* Deferred.make<void>()
        interrupt = interrupted
        const delay = reply.delay === undefined ? Duration.zero : Duration.decode(reply.delay)
        const waited = yield* Effect.raceAll([
          Effect.as(Effect.sleep(delay), "done" as const),
          Effect.as(Deferred.await(interrupted), "interrupted" as const),
          Effect.as(Deferred.await(killed), "killed" as const)
        ])
        interrupt = undefined
        if (waited === "interrupted") return [{ _tag: "End", outcome: { _tag: "Interrupted" } } as const]
        if (waited === "killed") return [exited(exitCode ?? 137)]
        const events: Array<SandboxInterpreter.Event> = []
        if (reply.stdout !== undefined && reply.stdout !== "") events.push({ _tag: "Stdout", text: reply.stdout })
        if (reply.stderr !== undefined && reply.stderr !== "") events.push({ _tag: "Stderr", text: reply.stderr })
        if (reply.error !== undefined)
          events.push({
            _tag: "Error",
            name: reply.error.name,
            value: reply.error.value,
            traceback: reply.error.traceback ?? ""
          })
        if (reply.exitCode !== undefined) {
          exitCode = reply.exitCode
          events.push(exited(reply.exitCode))
        } else events.push({ _tag: "End", outcome: { _tag: "Completed" } })
        return events
      })
    return {
      run: (code, env) => Stream.flatMap(Stream.fromEffect(run(code, env)), Stream.fromIterable),
      interrupt: Effect.suspend(() => (interrupt === undefined ? Effect.void : Deferred.succeed(interrupt, undefined))),
      kill: Effect.suspend(() => {
        exitCode ??= 137
        return Deferred.succeed(killed, undefined)
      }),
      alive: Effect.sync(() => exitCode === undefined)
    }
  })
