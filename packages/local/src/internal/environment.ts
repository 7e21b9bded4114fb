/**
 * What an environment a caller gives a sandbox may hold: every name and value ends up as one
 * `NAME=VALUE` string of a process, so a name is not empty and holds no `=`, and neither holds a
 * NUL character (which would cut the string). Such an environment is refused when it is given,
 * rather than failing every command the sandbox runs later.
 */

/** Whether `name` can name a variable of a process's environment. */
export const isEnvironmentName = (name: string): boolean =>
  name !== "" && !name.includes("=") && !name.includes("\u0000")

/** Why `env` cannot be a process's environment, or `undefined` when it can. */
export const environmentProblem = (env: Readonly<Record<string, string>>): string | undefined => {
  for (const [name, value] of Object.entries(env)) {
    if (!isEnvironmentName(name)) return `invalid environment variable name: ${JSON.stringify(name)}`
    if (value.includes("\u0000")) return `invalid value of environment variable ${name}: it contains a NUL byte`
  }
  return undefined
}
