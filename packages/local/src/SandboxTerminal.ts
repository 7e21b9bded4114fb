/**
 * A pseudo-terminal inside a sandbox, as the engine hands it to the toolbox's PTY routes: a shell
 * whose standard streams are a real terminal of the sandbox (so `stty size`, `tput`, line editing
 * and job control work), its output read as it comes, its input and window size set from outside.
 *
 * The engine opens it with {@link SandboxEngine.Service.openTerminal}; the local engine runs a small
 * relay inside the sandbox's namespaces and control group, `@effect-daytona/testing`'s scripted
 * engine a scripted shell.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import type * as Stream from "effect/Stream"

/**
 * How a terminal starts: its working directory (as the sandbox sees it; relative paths start at its
 * home), the variables added to the sandbox's environment (`TERM` among them) and its window size.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly cwd?: string | undefined
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly cols: number
  readonly rows: number
}

/**
 * A running terminal.
 *
 * @since 0.1.0
 * @category models
 */
export interface Terminal {
  /**
   * What the terminal's programs write, as they write it. It ends once the shell has exited and what
   * it wrote is drained; it can be run once.
   */
  readonly output: Stream.Stream<Uint8Array>
  /**
   * Types `data` into the terminal. `false` when the terminal takes no more for now: its programs
   * have not read what was typed before (a bounded amount is held), or it has exited.
   */
  readonly write: (data: Uint8Array) => Effect.Effect<boolean>
  /** Changes the window size (the shell's programs get `SIGWINCH`). */
  readonly resize: (cols: number, rows: number) => Effect.Effect<void>
  /** Kills the shell and every process it started. */
  readonly kill: Effect.Effect<void>
  /** The shell's exit code (128 + n after signal n), once it has exited and its output is drained. */
  readonly exitCode: Effect.Effect<number>
}
