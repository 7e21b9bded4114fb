import type * as SandboxTerminal from "@effect-daytona/local/SandboxTerminal"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import type { TerminalReply, TerminalScript, TerminalSession } from "../ScriptedEngine.js"

const encoder = new TextEncoder()

/**
 * A terminal whose shell is `script`: each piece of typed input is handed to it, and its reply is
 * printed (after its delay, on Effect's `Clock`) and may end the terminal. `kill` ends it with 137.
 */
export const make = (script: TerminalScript, opened: TerminalSession): Effect.Effect<SandboxTerminal.Terminal> =>
  Effect.gen(function* () {
    const session = { ...opened }
    const output = yield* Mailbox.make<Uint8Array>()
    const exit = yield* Deferred.make<number>()
    let ended = false
    const end = (exitCode: number) => {
      if (ended) return
      ended = true
      output.unsafeDone(Exit.void)
      Deferred.unsafeDone(exit, Exit.succeed(exitCode))
    }
    const respond = (reply: TerminalReply) =>
      Effect.sync(() => {
        if (ended) return
        if (reply.output !== undefined && reply.output !== "") output.unsafeOffer(encoder.encode(reply.output))
        if (reply.exitCode !== undefined) end(reply.exitCode)
      })
    const decoder = new TextDecoder()
    return {
      output: Mailbox.toStream(output),
      write: (data) =>
        Effect.gen(function* () {
          if (ended) return false
          const reply = script(decoder.decode(data, { stream: true }), { ...session })
          if (reply === undefined) return true
          const delay = reply.delay === undefined ? Duration.zero : Duration.decode(reply.delay)
          if (Duration.greaterThan(delay, Duration.zero))
            yield* Effect.forkDaemon(Effect.zipRight(Effect.sleep(delay), respond(reply)))
          else yield* respond(reply)
          return true
        }),
      resize: (cols, rows) =>
        Effect.sync(() => {
          session.cols = cols
          session.rows = rows
        }),
      kill: Effect.sync(() => end(137)),
      exitCode: Deferred.await(exit)
    }
  })
