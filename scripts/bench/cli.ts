/**
 * The command-line options of the bench scripts: `--name value` pairs and repeatable flags, read
 * from `process.argv`.
 */

/** The value after `--name`, when the option is given. */
export const optionValue = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i === -1 ? undefined : process.argv[i + 1]
}

/** The value after `--name`, or `fallback`. */
export const option = (name: string, fallback: string): string => optionValue(name) ?? fallback

/** The number after `--name`, or `fallback`. */
export const numberOption = (name: string, fallback: number): number => {
  const value = optionValue(name)
  return value === undefined ? fallback : Number(value)
}

/** Every value given after `--name`, in order (`--node-flag a --node-flag b`). */
export const repeatedOption = (name: string): Array<string> =>
  process.argv.flatMap((arg, i) => (process.argv[i - 1] === name ? [arg] : []))
