import * as Effect from "effect/Effect"
import { SandboxFailedError, type ValidationError } from "../DaytonaError.js"
import type { SandboxDto } from "../SandboxDto.js"

// The arrow written as an escape: one character past ASCII in a file makes V8 hold its whole source at two bytes a character.
const pattern = /\u2192 400: Sandbox failed to start(?:: ([\s\S]*))?$/

/**
 * Daytona holds create, start and recover for up to 30 s until the sandbox is `started`; a sandbox
 * that reaches `error` or `build_failed` meanwhile ends the request with 400 `Sandbox failed to
 * start: <reason>`. That is the failure a wait would have reported, not a bad request.
 */
export const isFailedToStart = (error: { readonly _tag: string }): error is ValidationError =>
  error._tag === "ValidationError" &&
  (error as ValidationError).status === 400 &&
  pattern.test((error as ValidationError).message)

/**
 * The `SandboxFailedError` for a held request that ended with "failed to start": the sandbox's
 * state and reason as the server now reports them, or the reason in the answer when it cannot be
 * read (then the state is `error`).
 */
export const toSandboxFailed = <E>(
  sandboxId: string,
  error: ValidationError,
  lookup: Effect.Effect<SandboxDto, E>
): Effect.Effect<never, SandboxFailedError> => {
  const reasonInAnswer = pattern.exec(error.message)?.[1]
  return lookup.pipe(
    Effect.option,
    Effect.flatMap((found) => {
      const dto = found._tag === "Some" ? found.value : undefined
      const errorReason = dto?.errorReason ?? reasonInAnswer
      return Effect.fail(
        new SandboxFailedError({
          sandboxId,
          state: dto?.state === "error" || dto?.state === "build_failed" ? dto.state : "error",
          ...(errorReason === undefined ? {} : { errorReason }),
          ...(dto?.recoverable === undefined ? {} : { recoverable: dto.recoverable })
        })
      )
    })
  )
}
