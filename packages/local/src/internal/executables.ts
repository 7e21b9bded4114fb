import * as NodeFs from "node:fs"
import * as NodePath from "node:path"

/** Whether `file` is a regular file this process may execute. */
export const isExecutable = (file: string): boolean => {
  try {
    NodeFs.accessSync(file, NodeFs.constants.X_OK)
    return NodeFs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** The first executable `name` in `dirs` (a `PATH`'s entries; relative and empty ones are skipped), or `undefined`. */
export const findExecutable = (name: string, dirs: ReadonlyArray<string>): string | undefined => {
  for (const dir of dirs) {
    if (dir === "" || !NodePath.isAbsolute(dir)) continue
    const candidate = NodePath.join(dir, name)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}
