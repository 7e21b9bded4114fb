import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs/promises"
import { descriptorPath, openDirectoryNoFollow } from "./sandboxPath.js"

/**
 * Removing a directory tree that a sandbox made, and that a sandbox may still be changing, as root:
 * no step follows a link, whatever is swapped in between two steps, and no tree is too deep.
 *
 * Node's `fs.rm` works by path: it reads a directory's entries through the directory's path after
 * removing what it saw, so a process that swaps a directory for a link to a host directory in
 * between made it empty the host directory. Here every step names an entry relative to a
 * directory opened without following links (`/proc/self/fd/<fd>/<name>`, one system call each):
 * a link is unlinked, never entered. A directory that is not empty has its subdirectories renamed
 * up into the top directory being emptied, so at most three descriptors are open and no path grows
 * with the tree's depth (a tree deeper than `PATH_MAX` made `fs.rm` fail with `ENAMETOOLONG`).
 */

const codeOf = (cause: unknown): unknown => (cause as { code?: unknown }).code

/** A pass over the top directory that removed nothing; this many in a row means it keeps being refilled. */
const maxIdlePasses = 100

/** Runs `step`, answering `fallback` when it fails with one of `codes` (the entry moved or changed kind). */
const tolerating = async <A>(step: Promise<A>, codes: ReadonlyArray<string>, fallback: A): Promise<A> => {
  try {
    return await step
  } catch (cause) {
    if (codes.includes(String(codeOf(cause)))) return fallback
    throw cause
  }
}

/**
 * Removes the entry `name` of the directory at `top` (a descriptor path); a directory that is not
 * empty gives its subdirectories to `top` and its other entries are unlinked. Answers whether it
 * changed anything.
 */
const removeEntry = async (top: string, name: string): Promise<boolean> => {
  const path = `${top}/${name}`
  const status = await tolerating(NodeFs.lstat(path), ["ENOENT"], undefined)
  if (status === undefined) return true
  if (!status.isDirectory())
    return tolerating(
      NodeFs.unlink(path).then(() => true),
      ["ENOENT", "EISDIR"],
      false
    )
  const removed = await tolerating(
    NodeFs.rmdir(path).then(() => true),
    ["ENOTEMPTY", "EEXIST", "ENOTDIR", "EBUSY"],
    false
  )
  if (removed) return true
  const handle = await tolerating(openDirectoryNoFollow(path), ["ENOENT", "ELOOP", "ENOTDIR"], undefined)
  if (handle === undefined) return false
  let changed = false
  try {
    const directory = descriptorPath(handle)
    for await (const entry of await NodeFs.opendir(directory, { bufferSize: 128 })) {
      const inner = `${directory}/${entry.name}`
      const kind = await tolerating(NodeFs.lstat(inner), ["ENOENT"], undefined)
      if (kind === undefined) continue
      changed =
        (kind.isDirectory()
          ? await tolerating(
              NodeFs.rename(inner, `${top}/.daytona-removing-${NodeCrypto.randomUUID()}`).then(() => true),
              ["ENOENT", "EXDEV", "EINVAL", "EBUSY", "ENOTEMPTY", "EEXIST", "ENOTDIR"],
              false
            )
          : await tolerating(
              NodeFs.unlink(inner).then(() => true),
              ["ENOENT", "EISDIR"],
              false
            )) || changed
    }
  } finally {
    await handle.close()
  }
  return tolerating(
    NodeFs.rmdir(path).then(() => true),
    ["ENOENT", "ENOTEMPTY", "EEXIST", "ENOTDIR"],
    changed
  )
}

/** Empties the directory at `top` (a descriptor path), a bounded number of entries in memory at a time. */
const empty = async (top: string): Promise<void> => {
  for (let idle = 0; idle < maxIdlePasses; ) {
    let seen = 0
    let changed = 0
    for await (const entry of await NodeFs.opendir(top, { bufferSize: 128 })) {
      seen++
      if (await removeEntry(top, entry.name)) changed++
    }
    if (seen === 0) return
    idle = changed === 0 ? idle + 1 : 0
  }
  throw Object.assign(new Error("the directory is refilled as fast as it is emptied"), { code: "EBUSY" })
}

/**
 * Removes the tree at `path`: a directory with everything in it, or the link or file found there
 * (never what a link points to). Nothing there is not an error. `path` itself is trusted (made by
 * the server); everything below it may be the sandbox's and may change meanwhile.
 */
export const removeTree = async (path: string): Promise<void> => {
  const handle = await tolerating(openDirectoryNoFollow(path), ["ENOENT", "ELOOP", "ENOTDIR"], undefined)
  if (handle === undefined) {
    await tolerating(NodeFs.unlink(path), ["ENOENT"], undefined)
    return
  }
  try {
    await empty(descriptorPath(handle))
  } finally {
    await handle.close()
  }
  await tolerating(NodeFs.rmdir(path), ["ENOENT"], undefined)
}
