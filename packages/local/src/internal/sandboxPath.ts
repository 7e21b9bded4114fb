import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"

import type { SandboxMount, SandboxView } from "../SandboxEngine.js"

/** A host directory the sandbox sees at `inside` (see `SandboxEngine.SandboxMount`). */
export type Mount = SandboxMount

/** How a sandbox sees the file system (see `SandboxEngine.SandboxView`). */
export type View = SandboxView

/** Why a sandbox path could not be used. Messages name the path as the client gave it, never a host path. */
export type FailureCode =
  | "ENOENT"
  | "EACCES"
  | "EROFS"
  | "EPRIVATE"
  | "ENOTDIR"
  | "EISDIR"
  | "EEXIST"
  | "ENOTEMPTY"
  | "ELOOP"
  | "EINVAL"
  | "EBUSY"
  | "ENOTREG"
  | "EQUOTA"
  | "ETOOBIG"
  | "EMFILE"
  | "EIO"

const describe: Record<FailureCode, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EROFS: "permission denied (read-only file system)",
  EPRIVATE: "permission denied (private to the sandbox's processes)",
  ENOTDIR: "not a directory",
  EISDIR: "is a directory",
  EEXIST: "file exists",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many levels of symbolic links",
  EINVAL: "invalid path",
  EBUSY: "a mount point of the sandbox cannot be removed or moved",
  ENOTREG: "not a regular file",
  EQUOTA: "no space left: the sandbox's disk size would be exceeded",
  ETOOBIG: "file too large for this operation",
  EMFILE: "the server has too many files open: try again later",
  EIO: "input/output error"
}

/** A failure on a sandbox path. */
export class PathFailure extends Error {
  /** What went wrong, without the path. */
  readonly reason: string
  constructor(
    readonly code: FailureCode,
    readonly path: string,
    detail?: string
  ) {
    super(`${path}: ${detail ?? describe[code]}`)
    this.reason = detail ?? describe[code]
  }
}

/** Whether an error comes from the file system (a Node system error or a `PathFailure`), not from elsewhere (a request body). */
export const isFileSystemError = (cause: unknown): boolean =>
  cause instanceof PathFailure ||
  (typeof cause === "object" &&
    cause !== null &&
    typeof (cause as { code?: unknown }).code === "string" &&
    "syscall" in cause)

/** Rethrows a failure of `path`: file-system errors as a `PathFailure` naming only the sandbox path, others as they are. */
export const rethrow = (path: string, cause: unknown): never => {
  throw isFileSystemError(cause) ? failureOf(path, cause) : cause
}

/** Maps a Node error of an operation on `path` to a failure that names only the sandbox path. */
export const failureOf = (path: string, cause: unknown): PathFailure => {
  if (cause instanceof PathFailure) return cause
  const code = (cause as { code?: unknown } | null)?.code
  switch (code) {
    case "ENOENT":
      return new PathFailure("ENOENT", path)
    case "EACCES":
    case "EPERM":
      return new PathFailure("EACCES", path)
    case "EROFS":
      return new PathFailure("EROFS", path)
    case "ENOTDIR":
      return new PathFailure("ENOTDIR", path)
    case "EISDIR":
      return new PathFailure("EISDIR", path)
    case "EEXIST":
      return new PathFailure("EEXIST", path)
    case "ENOTEMPTY":
      return new PathFailure("ENOTEMPTY", path)
    case "ELOOP":
      return new PathFailure("ELOOP", path)
    case "ENAMETOOLONG":
      return new PathFailure("EINVAL", path, "file name too long")
    case "EBUSY":
      return new PathFailure("EBUSY", path)
    case "ENXIO":
    case "ENODEV":
    case "EOPNOTSUPP":
      return new PathFailure("ENOTREG", path)
    case "ENOSPC":
    case "EDQUOT":
      return new PathFailure("EQUOTA", path, "no space left on device")
    case "EFBIG":
      return new PathFailure("ETOOBIG", path)
    case "EXDEV":
      return new PathFailure("EINVAL", path, "cannot move across file systems")
    case "EMFILE":
    case "ENFILE":
      return new PathFailure("EMFILE", path)
    default:
      return new PathFailure("EIO", path)
  }
}

/** `O_PATH`: a handle that only names a file (Linux's value on every architecture Node supports). */
export const O_PATH = 0o10000000
const { O_DIRECTORY, O_NOFOLLOW } = NodeFsSync.constants

/** Whether file descriptors can be named through `/proc/self/fd` here (Linux). */
const fdPaths: boolean = (() => {
  try {
    return process.platform === "linux" && NodeFsSync.statSync("/proc/self/fd").isDirectory()
  } catch {
    return false
  }
})()

/** Opens the directory at `path` as an `O_PATH` descriptor, failing (`ELOOP`, `ENOTDIR`) on a link or a file. */
export const openDirectoryNoFollow = (path: string | Buffer): Promise<NodeFs.FileHandle> =>
  NodeFs.open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW)

/** The path that names an open descriptor itself, for one system call (`/proc/self/fd/<fd>`). */
export const descriptorPath = (handle: NodeFs.FileHandle): string => `/proc/self/fd/${handle.fd}`

/**
 * An open directory. On Linux it is an `O_PATH` descriptor, and every name in it is reached through
 * `/proc/self/fd/<fd>/<name>`: the kernel starts from that very directory, so a link planted
 * above it, or a directory swapped for a link after it was checked, cannot redirect the operation.
 */
export class Dir {
  private constructor(
    readonly path: string,
    readonly mount: Mount,
    private readonly handle: NodeFs.FileHandle | undefined,
    private readonly hostPath: string
  ) {}

  /** Opens a directory at a trusted host path (a mount's root). */
  static async openRoot(path: string, mount: Mount, host: string): Promise<Dir> {
    if (!fdPaths) return new Dir(path, mount, undefined, host)
    return new Dir(path, mount, await NodeFs.open(host, O_PATH | O_DIRECTORY), host)
  }

  /** Opens the directory `name` in this one, never following a link. */
  async openChild(name: string): Promise<Dir> {
    const host = NodePath.join(this.hostPath, name)
    if (this.handle === undefined) return new Dir(NodePath.posix.join(this.path, name), this.mount, undefined, host)
    const handle = await openDirectoryNoFollow(this.at(name))
    return new Dir(NodePath.posix.join(this.path, name), this.mount, handle, host)
  }

  /** A host path naming `name` in this directory, for one system call. */
  at(name: string): string {
    return this.handle === undefined ? NodePath.join(this.hostPath, name) : `${descriptorPath(this.handle)}/${name}`
  }

  /** A host path naming this directory itself, for one system call. */
  self(): string {
    return this.handle === undefined ? this.hostPath : descriptorPath(this.handle)
  }

  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined)
  }
}

/** Opens `name` in `dir` without following a final link, with the flags given. */
export const openIn = (dir: Dir, name: string, flags: number, mode?: number) =>
  NodeFs.open(dir.at(name), flags | O_NOFOLLOW, mode)

/** The file status fields the toolbox reports. */
export interface Status {
  readonly mode: number
  readonly size: number
  readonly uid: number
  readonly gid: number
  readonly mtime: Date
  readonly blocks: number
  isDirectory(): boolean
  isFile(): boolean
  isSymbolicLink(): boolean
  isFIFO(): boolean
  isSocket(): boolean
  isCharacterDevice(): boolean
  isBlockDevice(): boolean
}

/** The status of a directory that exists only in the sandbox's layout (an ancestor of its mounts). */
const syntheticDirectory: Status = {
  mode: 0o40555,
  size: 0,
  uid: 0,
  gid: 0,
  mtime: new Date(0),
  blocks: 0,
  isDirectory: () => true,
  isFile: () => false,
  isSymbolicLink: () => false,
  isFIFO: () => false,
  isSocket: () => false,
  isCharacterDevice: () => false,
  isBlockDevice: () => false
}

/**
 * Where a path led. `child`: an entry `name` of the open directory `parent` (its status when it
 * exists). `dir`: a directory already open (a mount's root, `/`, a path ending in `.` or `..`), or
 * a directory of the layout itself (`dir` undefined) that has no host counterpart.
 */
export type Located =
  | {
      readonly _tag: "child"
      readonly path: string
      readonly parent: Dir
      readonly name: string
      readonly status: Status | undefined
    }
  | {
      readonly _tag: "dir"
      readonly path: string
      readonly dir: Dir | undefined
      readonly status: Status
    }

/** The directories (and handles) opened for one operation, closed together. */
export class Held {
  private readonly items: Array<{ close(): Promise<unknown> }> = []
  add<A extends { close(): Promise<unknown> }>(item: A): A {
    this.items.push(item)
    return item
  }
  /** Closes one item now, before the rest. */
  async release(item: { close(): Promise<unknown> }): Promise<void> {
    const index = this.items.indexOf(item)
    if (index === -1) return
    this.items.splice(index, 1)
    await item.close().catch(() => undefined)
  }
  async close(): Promise<void> {
    await Promise.all(this.items.splice(0).map((item) => item.close().catch(() => undefined)))
  }
}

/** A host path that names a descriptor the server holds open, not a path of the machine. */
const heldOpen = (host: string) => /^\/proc\/self\/fd\/\d+$/.test(host)

const within = (path: string, prefix: string) => path === prefix || path.startsWith(prefix === "/" ? "/" : `${prefix}/`)

/** The deepest mount that contains `path`. */
export const mountOf = (view: View, path: string): Mount | undefined => {
  let best: Mount | undefined
  for (const mount of view.mounts)
    if (within(path, mount.inside) && (best === undefined || mount.inside.length > best.inside.length)) best = mount
  return best
}

/** The names directly under a directory of the layout that has no host counterpart. */
export const syntheticChildren = (view: View, path: string): Array<string> =>
  Array.from(
    new Set(
      view.mounts
        .filter((mount) => mount.inside !== path && within(mount.inside, path))
        .map((mount) => mount.inside.slice(path === "/" ? 1 : path.length + 1).split("/")[0]!)
    )
  ).sort()

const isAncestorOfMount = (view: View, path: string) =>
  view.mounts.some((mount) => mount.inside !== path && within(mount.inside, path))

/** Permission bits for the sandbox's processes on a file of a read-only mount: owner, group or other. */
export const permits = (view: View, status: Status, want: "r" | "w" | "x"): boolean => {
  if (!view.checkPermissions) return true
  const shift = want === "r" ? 2 : want === "w" ? 1 : 0
  const identity = view.identity
  const bits =
    identity !== undefined && status.uid === identity.uid
      ? (status.mode >> 6) & 7
      : identity !== undefined && status.gid === identity.gid
        ? (status.mode >> 3) & 7
        : status.mode & 7
  return ((bits >> shift) & 1) === 1
}

const maxLinks = 40
const maxPath = 4096
/**
 * Components one resolution may step through, links' targets included: the 40 links allowed could
 * otherwise walk a sandbox's deep tree tens of thousands of times for one request.
 */
const maxSteps = 4096

export interface ResolveOptions {
  /** Follow a link in the final component (as `stat`, `open` do), or stop at it (as `lstat`, `unlink` do). */
  readonly follow: boolean
  /** For a write, a missing path in the read-only layout is a read-only file system rather than a missing file. */
  readonly write?: boolean | undefined
  /** Create missing directories on the way (not the final component), as `mkdir -p` would. */
  readonly createParents?: { readonly mode: number; readonly created: (dir: Dir, name: string) => Promise<void> }
}

interface Frame {
  readonly path: string
  readonly dir: Dir | undefined
}

/**
 * Resolves a path the way the sandbox's processes would, one component at a time: relative paths
 * start at its home, `..` goes to the parent of the directory reached so far, and a link's target
 * is read and resolved again inside the sandbox's view (an absolute target starts at the
 * sandbox's `/`). Every directory is opened without following links, relative to the one before,
 * so nothing the sandbox plants makes the server touch a host path outside its mounts.
 *
 * `requested` is the path as the client gave it (for messages); the directories opened are added
 * to `held`, which the caller closes.
 */
export const resolve = async (view: View, requested: string, options: ResolveOptions, held: Held): Promise<Located> => {
  if (requested.includes("\u0000"))
    throw new PathFailure("EINVAL", requested.replace(/\u0000/g, "\\0"), "invalid path: it contains a NUL byte")
  if (requested.length > maxPath) throw new PathFailure("EINVAL", `${requested.slice(0, 64)}…`, "file name too long")
  const start = requested.startsWith("/") ? requested : `${view.home}/${requested}`
  // Components of the request itself, then of link targets: only the former may be created.
  const pending: Array<{ readonly part: string; readonly linked: boolean }> = start
    .split("/")
    .map((part) => ({ part, linked: false }))
  const fromLink = (target: string) => target.split("/").map((part) => ({ part, linked: true }))
  const root = await frameAt(view, "/", requested, held)
  const stack: Array<Frame> = [root]
  let links = 0
  let steps = 0
  const restart = async () => {
    for (const frame of stack.splice(1)) await leave(frame, held)
  }
  while (pending.length > 0) {
    const { part, linked } = pending.shift()!
    const last = !pending.some((p) => p.part !== "" && p.part !== ".")
    if (part === "" || part === ".") {
      if (last) return here(stack[stack.length - 1]!)
      continue
    }
    if (part === "..") {
      // Only the directories on the way to the current one stay open: a request holds as many
      // descriptors as its deepest directory, not as the steps it took.
      if (stack.length > 1) await leave(stack.pop()!, held)
      if (last) return here(stack[stack.length - 1]!)
      continue
    }
    if (++steps > maxSteps) throw new PathFailure("ELOOP", requested, "too many path components to resolve")
    if (part.length > 255) throw new PathFailure("EINVAL", requested, "file name too long")
    const current = stack[stack.length - 1]!
    const path = NodePath.posix.join(current.path, part)
    if (view.hidden.some((prefix) => within(path, prefix))) throw new PathFailure("EPRIVATE", requested)
    const mount = mountOf(view, path)
    const entersMount = mount !== undefined && mount.inside === path && current.dir?.mount !== mount
    if (current.dir === undefined || entersMount) {
      if (mount === undefined || (mount.inside !== path && current.dir === undefined)) {
        if (isAncestorOfMount(view, path)) {
          stack.push({ path, dir: undefined })
          if (last) return here(stack[stack.length - 1]!)
          continue
        }
        throw new PathFailure(options.write === true ? "EROFS" : "ENOENT", requested)
      }
      // A mount held by a descriptor (`/proc/self/fd/N`, a volume) is the directory that
      // descriptor opened: followed as such, never read as a path.
      const hostStatus = await (heldOpen(mount.host) ? NodeFs.stat(mount.host) : NodeFs.lstat(mount.host)).catch(
        (cause) => {
          throw failureOf(requested, cause)
        }
      )
      if (hostStatus.isSymbolicLink()) {
        if (++links > maxLinks) throw new PathFailure("ELOOP", requested)
        const target = await NodeFs.readlink(mount.host)
        if (target.startsWith("/")) await restart()
        pending.unshift(...fromLink(target))
        continue
      }
      if (!hostStatus.isDirectory()) throw new PathFailure("ENOTDIR", requested)
      const dir = held.add(await Dir.openRoot(path, mount, mount.host))
      stack.push({ path, dir })
      if (last) return here(stack[stack.length - 1]!)
      continue
    }
    const dir = current.dir
    if (view.checkPermissions && !dir.mount.writable && !permits(view, await NodeFs.stat(dir.self()), "x"))
      throw new PathFailure("EACCES", requested)
    let status = await NodeFs.lstat(dir.at(part)).catch((cause) => {
      if ((cause as { code?: unknown }).code === "ENOENT") return undefined
      throw failureOf(requested, cause)
    })
    if (status === undefined) {
      if (last) return { _tag: "child", path, parent: dir, name: part, status: undefined }
      const create = options.createParents
      if (create === undefined || linked) throw new PathFailure("ENOENT", requested)
      if (!dir.mount.writable) throw new PathFailure("EROFS", requested)
      await NodeFs.mkdir(dir.at(part), create.mode).catch((cause) => {
        if ((cause as { code?: unknown }).code !== "EEXIST") throw failureOf(requested, cause)
      })
      status = await NodeFs.lstat(dir.at(part)).catch((cause) => {
        throw failureOf(requested, cause)
      })
      if (status.isDirectory()) {
        const created = held.add(await dir.openChild(part))
        await create.created(created, part)
        stack.push({ path, dir: created })
        continue
      }
    }
    if (status.isSymbolicLink()) {
      if (last && !options.follow) return { _tag: "child", path, parent: dir, name: part, status }
      if (++links > maxLinks) throw new PathFailure("ELOOP", requested)
      const target = await NodeFs.readlink(dir.at(part)).catch((cause) => {
        throw failureOf(requested, cause)
      })
      if (target === "") throw new PathFailure("ENOENT", requested)
      if (target.startsWith("/")) await restart()
      pending.unshift(...fromLink(target))
      continue
    }
    if (last) return { _tag: "child", path, parent: dir, name: part, status }
    if (!status.isDirectory()) throw new PathFailure("ENOTDIR", requested)
    const opened = await dir.openChild(part).catch((cause) => {
      // swapped for a link or a file after the check: resolve this component again
      const code = (cause as { code?: unknown }).code
      if (code === "ELOOP" || code === "ENOTDIR") return undefined
      throw failureOf(requested, cause)
    })
    if (opened === undefined) {
      if (++links > maxLinks) throw new PathFailure("ELOOP", requested)
      pending.unshift({ part, linked })
      continue
    }
    stack.push({ path, dir: held.add(opened) })
  }
  return here(stack[stack.length - 1]!)
}

/** The frame of `/`: a mount's root (without isolation) or a directory of the layout. */
/** Closes the directory of a frame the resolution went back out of. */
const leave = (frame: Frame, held: Held): Promise<void> =>
  frame.dir === undefined ? Promise.resolve() : held.release(frame.dir)

const frameAt = async (view: View, path: string, requested: string, held: Held): Promise<Frame> => {
  const mount = mountOf(view, path)
  if (mount !== undefined && mount.inside === path) {
    const dir = await Dir.openRoot(path, mount, mount.host).catch((cause) => {
      throw failureOf(requested, cause)
    })
    return { path, dir: held.add(dir) }
  }
  return { path, dir: undefined }
}

const here = async (frame: Frame): Promise<Located> => ({
  _tag: "dir",
  path: frame.path,
  dir: frame.dir,
  status: frame.dir === undefined ? syntheticDirectory : await NodeFs.stat(frame.dir.self())
})

/** Runs `use` with the resolution of `path`, closing every directory it opened afterwards. */
export const withResolved = async <A>(
  view: View,
  path: string,
  options: ResolveOptions,
  use: (located: Located) => Promise<A>
): Promise<A> => {
  const held = new Held()
  try {
    return await use(await resolve(view, path, options, held))
  } catch (cause) {
    return rethrow(path, cause)
  } finally {
    await held.close()
  }
}
