/**
 * A command running in the background of a sandbox, with a session of its own: its output as it is
 * written or read at once, its stdin, its exit code awaited under a deadline, and a way to end it.
 * Made by `sandbox.process.runInBackground`, in a scope whose end kills the command (its session is
 * deleted) if it still runs.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type * as Stream from "effect/Stream"
import { WaitTimeoutError } from "./DaytonaError.js"
import type { Process, ProcessError, SessionCommandLogs, SessionLogEvent } from "./Process.js"
import * as Wait from "./Wait.js"
import type { WebSocketConnector } from "./WebSocketConnector.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface BackgroundCommand {
  readonly sandboxId: string
  /** The session the command runs in, made for it alone. */
  readonly sessionId: string
  readonly commandId: string
  /**
   * Its stdout and stderr as they are written, then its exit code (see `SessionLogEvent`); needs a
   * `WebSocketConnector`.
   */
  readonly follow: Stream.Stream<SessionLogEvent, ProcessError, WebSocketConnector>
  /** Its output so far. */
  readonly logs: Effect.Effect<SessionCommandLogs, ProcessError>
  /** Writes to its stdin. */
  readonly sendInput: (data: string) => Effect.Effect<void, ProcessError>
  /**
   * Its exit code, asked for at each pause of `schedule` (default `Wait.defaultSchedule`) until it
   * has one. `timeout` (default none) ends the wait with `WaitTimeoutError`; the command goes on.
   */
  readonly exitCode: (options?: {
    readonly timeout?: Duration.DurationInput | undefined
    readonly schedule?: Schedule.Schedule<unknown> | undefined
  }) => Effect.Effect<number, ProcessError | WaitTimeoutError>
  /** Ends the command and everything it started, by deleting its session. */
  readonly kill: Effect.Effect<void, ProcessError>
}

/**
 * The handle of a command started with `runAsync` in session `sessionId` of the sandbox whose
 * process operations are `process`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  process: Pick<
    Process,
    | "followSessionCommandLogs"
    | "getSessionCommandLogs"
    | "sendSessionCommandInput"
    | "getSessionCommand"
    | "deleteSession"
  >,
  ids: { readonly sandboxId: string; readonly sessionId: string; readonly commandId: string }
): BackgroundCommand => {
  const { sandboxId, sessionId, commandId } = ids
  return {
    sandboxId,
    sessionId,
    commandId,
    follow: process.followSessionCommandLogs(sessionId, commandId),
    logs: process.getSessionCommandLogs(sessionId, commandId),
    sendInput: (data) => process.sendSessionCommandInput(sessionId, commandId, data),
    exitCode: (options = {}) =>
      Effect.gen(function* () {
        const timeout = yield* Wait.deadlineFrom("timeout", options.timeout, Duration.infinity)
        const ended = Wait.poll(process.getSessionCommand(sessionId, commandId), {
          decide: (command) => (command.exitCode === undefined ? Wait.keepPolling : Wait.done(command.exitCode)),
          schedule: options.schedule
        })
        return yield* Wait.withDeadline(
          ended,
          timeout,
          Effect.succeed(
            new WaitTimeoutError({
              operation: "BackgroundCommand.exitCode",
              resourceId: sandboxId,
              timeout,
              awaited: `an exit code of command ${commandId}`
            })
          )
        )
      }),
    kill: process.deleteSession(sessionId)
  }
}
