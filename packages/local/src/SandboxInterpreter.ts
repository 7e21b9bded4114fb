/**
 * A stateful Python interpreter inside a sandbox, as the engine hands it to the toolbox's
 * interpreter routes: one long-lived process whose globals survive between runs, running one piece
 * of code at a time and reporting what it prints as it prints it, and exceptions as structured
 * errors.
 *
 * The engine starts one with {@link SandboxEngine.Service.startInterpreter}; the local engine runs a
 * worker inside the sandbox's namespaces and control group, `@effect-daytona/testing`'s scripted
 * engine answers from scripts.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"

/**
 * How an interpreter starts: its working directory, as the sandbox sees it (relative paths start at
 * its home), and the variables added to the sandbox's environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly cwd?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
}

/**
 * How a run ended: its code finished (an exception is reported before as an `Error` event and still
 * ends as `completed`), it was interrupted (`SIGINT`, a `KeyboardInterrupt`), or the interpreter
 * process itself ended (`exitCode`), losing its state.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Completed" }
  | { readonly _tag: "Interrupted" }
  | { readonly _tag: "Exited"; readonly exitCode: number }

/**
 * What a run reports, in order; `End` comes last, once.
 *
 * @since 0.1.0
 * @category models
 */
export type Event =
  | { readonly _tag: "Stdout"; readonly text: string }
  | { readonly _tag: "Stderr"; readonly text: string }
  | { readonly _tag: "Error"; readonly name: string; readonly value: string; readonly traceback: string }
  | { readonly _tag: "End"; readonly outcome: Outcome }

/**
 * A running interpreter.
 *
 * @since 0.1.0
 * @category models
 */
export interface Interpreter {
  /**
   * Runs `code` in the interpreter's globals with `env` added to its environment for the run. One run
   * at a time: the caller waits for `End` before the next.
   */
  readonly run: (code: string, env: Readonly<Record<string, string>>) => Stream.Stream<Event>
  /** Interrupts the current run (`SIGINT` in the interpreter); its stream then ends `Interrupted`. */
  readonly interrupt: Effect.Effect<void>
  /** Ends the interpreter and everything it started. */
  readonly kill: Effect.Effect<void>
  /** Whether the interpreter process still runs. */
  readonly alive: Effect.Effect<boolean>
}
