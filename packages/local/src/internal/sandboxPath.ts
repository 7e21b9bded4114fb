import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"

/** A host directory bound at `inside` in the sandbox's file system, writable by its processes. */
export interface Mount {
  readonly inside: string
  readonly host: string
}

/**
 * How a sandbox sees the machine's file system: its own writable mounts, prefixes whose content is
 * private to the sandbox's namespace (a tmpfs, its own `/proc`), and the rest of the machine
 * read-only at the same paths.
 */
export interface View {
  readonly home: string
  readonly mounts: ReadonlyArray<Mount>
  readonly hidden: ReadonlyArray<string>
}

export type Access = "read" | "write"

export type Resolution =
  | { readonly _tag: "Resolved"; readonly sandboxPath: string; readonly hostPath: string }
  | { readonly _tag: "Rejected"; readonly sandboxPath: string; readonly reason: string }

const within = (path: string, prefix: string) => path === prefix || path.startsWith(prefix === "/" ? "/" : `${prefix}/`)

const mountOf = (view: View, path: string) =>
  view.mounts.filter((mount) => within(path, mount.inside)).sort((a, b) => b.inside.length - a.inside.length)[0]

/** The host path behind a sandbox path, or `undefined` when only the sandbox's namespace has it. */
const toHost = (view: View, path: string): string | undefined => {
  const mount = mountOf(view, path)
  if (mount !== undefined) return NodePath.join(mount.host, NodePath.posix.relative(mount.inside, path))
  if (view.hidden.some((prefix) => within(path, prefix))) {
    const isAncestorOfMount = view.mounts.some((m) => within(m.inside, path))
    return isAncestorOfMount ? path : undefined
  }
  return path
}

const maxLinks = 40

/**
 * Resolves a path the way the sandbox's processes would: relative to its home, following
 * symbolic links within the sandbox's view (an absolute link target is a sandbox path, so a link
 * never leads outside what the sandbox sees), and answers the host path to operate on. Writes
 * must land in one of the sandbox's own mounts.
 */
export const resolve = async (view: View, path: string, access: Access): Promise<Resolution> => {
  const requested = NodePath.posix.resolve(view.home, path)
  const pending = requested.split("/").filter((part) => part !== "")
  let resolved = "/"
  let links = 0
  while (pending.length > 0) {
    const part = pending.shift()!
    if (part === ".") continue
    if (part === "..") {
      resolved = NodePath.posix.dirname(resolved)
      continue
    }
    const candidate = NodePath.posix.join(resolved, part)
    const host = toHost(view, candidate)
    if (host === undefined)
      return { _tag: "Rejected", sandboxPath: requested, reason: `${requested} is private to the sandbox's processes` }
    const stat = await NodeFs.lstat(host).catch(() => undefined)
    if (stat === undefined) {
      resolved = NodePath.posix.join(candidate, ...pending)
      break
    }
    if (stat.isSymbolicLink()) {
      if (++links > maxLinks)
        return { _tag: "Rejected", sandboxPath: requested, reason: "too many levels of symbolic links" }
      const target = await NodeFs.readlink(host)
      pending.unshift(...target.split("/").filter((p) => p !== ""))
      if (target.startsWith("/")) resolved = "/"
      continue
    }
    resolved = candidate
  }
  const host = toHost(view, resolved)
  if (host === undefined)
    return { _tag: "Rejected", sandboxPath: requested, reason: `${requested} is private to the sandbox's processes` }
  if (access === "write" && mountOf(view, resolved) === undefined)
    return { _tag: "Rejected", sandboxPath: requested, reason: `${requested} is on a read-only file system` }
  return { _tag: "Resolved", sandboxPath: resolved, hostPath: host }
}
