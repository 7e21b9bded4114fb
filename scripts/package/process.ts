/**
 * Running the commands of a project outside the workspace (the smoke test's consumer, the
 * benchmark's installed SDK).
 */
import { execFile } from "node:child_process"

/**
 * The environment of a project outside the workspace: this process's, without what a parent
 * `pnpm run` exported about the workspace (`npm_*`, `pnpm_*` settings), so that pnpm there reads
 * only its own project and the user's configuration.
 */
export const outsideEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_)/i.test(key)) env[key] = value
  }
  return { ...env, ...extra }
}

/** What a finished command printed, and its exit code. */
export interface Output {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end; never rejects (see `code`). */
export const exec = (
  command: string,
  args: ReadonlyArray<string>,
  cwd: string,
  env: NodeJS.ProcessEnv = outsideEnv()
): Promise<Output> =>
  new Promise((resolvePromise) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolvePromise({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

/** Runs a command and fails with its output unless it exits with 0. */
export const mustSucceed = async (what: string, output: Promise<Output>): Promise<Output> => {
  const result = await output
  if (result.code !== 0) throw new Error(`${what} failed (exit ${result.code}):\n${result.stdout}${result.stderr}`)
  return result
}
