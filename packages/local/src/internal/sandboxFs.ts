import * as NodeCrypto from "node:crypto"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as TreeRemoval from "./treeRemoval.js"
import {
  Dir,
  failureOf,
  Held,
  type Located,
  mountOf,
  O_PATH,
  openIn,
  PathFailure,
  permits,
  resolve,
  rethrow,
  type Status,
  syntheticChildren,
  type View,
  withResolved
} from "./sandboxPath.js"

/**
 * The toolbox's file operations on a sandbox, through its view (see `sandboxPath.ts`): every path
 * is resolved inside the sandbox, every file is opened relative to a directory already checked and
 * without following a final link, writes stay in the sandbox's writable mounts, and files created
 * for the sandbox belong to its user.
 */

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_NONBLOCK } = NodeFsSync.constants

/** The host ids files created for the sandbox must get, when the server runs with more rights (root). */
const ownerFor = (view: View) => {
  const identity = view.identity
  const euid = process.geteuid?.()
  return identity !== undefined && euid === 0 && identity.uid !== 0 ? identity : undefined
}

const claimDir = (view: View) => async (dir: Dir) => {
  const owner = ownerFor(view)
  if (owner !== undefined) await NodeFs.chown(dir.self(), owner.uid, owner.gid)
}

const claimFile = async (view: View, handle: NodeFs.FileHandle) => {
  const owner = ownerFor(view)
  if (owner !== undefined) await handle.chown(owner.uid, owner.gid)
}

const writable = (located: Located, requested: string) => {
  if (located._tag === "dir") throw new PathFailure(located.dir === undefined ? "EROFS" : "EBUSY", requested)
  if (!located.parent.mount.writable) throw new PathFailure("EROFS", requested)
  return located
}

const existing = (located: Located, requested: string) => {
  if (located._tag === "child" && located.status === undefined) throw new PathFailure("ENOENT", requested)
  return located
}

const readable = (view: View, located: Located, status: Status, requested: string) => {
  const mount = located._tag === "dir" ? located.dir?.mount : located.parent.mount
  if (mount !== undefined && !mount.writable && !permits(view, status, "r")) throw new PathFailure("EACCES", requested)
}

/** A file's status, following a final link inside the sandbox. */
export const stat = (view: View, path: string): Promise<{ readonly path: string; readonly status: Status }> =>
  withResolved(view, path, { follow: true }, async (located) => {
    const found = existing(located, path)
    return { path: found.path, status: found._tag === "dir" ? found.status : found.status! }
  })

/** Whether a path names something (a final link is not followed). */
export const exists = (view: View, path: string): Promise<boolean> =>
  withResolved(
    view,
    path,
    { follow: false },
    async (located) => located._tag === "dir" || located.status !== undefined
  ).catch(() => false)

/** One entry of a directory: its name and status (a link's target's, when it resolves inside the sandbox). */
export interface Entry {
  readonly name: string
  readonly status: Status
  /** The entry is a symbolic link (`status` is its target's, when the target is inside the view). */
  readonly link?: boolean | undefined
}

/** The entries of a directory. */
export const list = (view: View, path: string): Promise<Array<Entry>> =>
  withResolved(view, path, { follow: true }, async (located) => {
    const found = existing(located, path)
    if (found._tag === "dir" && found.dir === undefined) {
      const names = syntheticChildren(view, found.path)
      const entries = await Promise.all(
        names.map((name) =>
          stat(view, NodePath.posix.join(found.path, name)).then(
            (s) => ({ name, status: s.status }),
            () => undefined
          )
        )
      )
      return entries.filter((entry): entry is Entry => entry !== undefined)
    }
    const status = found._tag === "dir" ? found.status : found.status!
    if (!status.isDirectory()) throw new PathFailure("ENOTDIR", path)
    readable(view, found, status, path)
    const held = new Held()
    try {
      const dir = found._tag === "dir" ? found.dir! : held.add(await found.parent.openChild(found.name))
      const names = await NodeFs.readdir(dir.self())
      const entries = await Promise.all(
        names.map(async (name): Promise<Entry | undefined> => {
          const own = await NodeFs.lstat(dir.at(name)).catch(() => undefined)
          if (own === undefined) return undefined
          if (!own.isSymbolicLink()) return { name, status: own }
          const target = await stat(view, NodePath.posix.join(found.path, name)).catch(() => undefined)
          return { name, status: target?.status ?? own, link: true }
        })
      )
      return entries.filter((entry): entry is Entry => entry !== undefined)
    } finally {
      await held.close()
    }
  })

/** An open regular file for reading, with its status; the caller closes the handle. */
export const openRead = (
  view: View,
  path: string
): Promise<{ readonly handle: NodeFs.FileHandle; readonly status: Status; readonly path: string }> =>
  withResolved(view, path, { follow: true }, async (located) => {
    const found = existing(located, path)
    if (found._tag === "dir" || found.status!.isDirectory()) throw new PathFailure("EISDIR", path)
    readable(view, found, found.status!, path)
    const handle = await openIn(found.parent, found.name, O_RDONLY | O_NONBLOCK)
    const status = await handle.stat().catch(async (error: unknown) => {
      await handle.close()
      throw error
    })
    if (!status.isFile()) {
      await handle.close()
      throw new PathFailure("ENOTREG", path)
    }
    return { handle, status, path: found.path }
  })

/** Reads a whole small file as text, refusing files above `maxBytes`. */
export const readText = async (view: View, path: string, maxBytes: number): Promise<string> => {
  const { handle, status } = await openRead(view, path)
  try {
    if (status.size > maxBytes)
      throw new PathFailure("ETOOBIG", path, `file too large (${status.size} bytes, at most ${maxBytes})`)
    const buffer = Buffer.alloc(status.size)
    const { bytesRead } = await handle.read(buffer, 0, status.size, 0)
    return buffer.subarray(0, bytesRead).toString("utf8")
  } finally {
    await handle.close()
  }
}

/** The last `maxBytes` of a file and how many bytes before them were left out (a final link is not followed). */
export const readTail = (
  view: View,
  path: string,
  maxBytes: number
): Promise<{ readonly bytes: Buffer; readonly cut: number }> =>
  withResolved(view, path, { follow: false }, async (located) => {
    const found = existing(located, path)
    if (found._tag === "dir") throw new PathFailure("EISDIR", path)
    const handle = await openIn(found.parent, found.name, O_RDONLY | O_NONBLOCK)
    try {
      const status = await handle.stat()
      if (!status.isFile()) throw new PathFailure("ENOTREG", path)
      const from = Math.max(0, status.size - maxBytes)
      const buffer = Buffer.alloc(status.size - from)
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, from)
      return { bytes: buffer.subarray(0, bytesRead), cut: from }
    } finally {
      await handle.close()
    }
  })

/** Opens a regular file for reading without following a final link (files the server itself reads, such as logs). */
export const openOwnFile = (view: View, path: string): Promise<NodeFs.FileHandle> =>
  withResolved(view, path, { follow: false }, async (located) => {
    const found = existing(located, path)
    if (found._tag === "dir") throw new PathFailure("EISDIR", path)
    const handle = await openIn(found.parent, found.name, O_RDONLY | O_NONBLOCK)
    if (!(await handle.stat()).isFile()) {
      await handle.close()
      throw new PathFailure("ENOTREG", path)
    }
    return handle
  })

/** Opens a named pipe for reading and writing without blocking, as a raw descriptor the caller owns. */
export const openPipeDescriptor = (view: View, path: string): Promise<number> =>
  withResolved(
    view,
    path,
    { follow: false },
    (located) =>
      new Promise<number>((resolvePipe, reject) => {
        const found = existing(located, path)
        if (found._tag === "dir" || !found.status!.isFIFO())
          return reject(new PathFailure("ENOTREG", path, "not a named pipe"))
        NodeFsSync.open(
          found.parent.at(found.name),
          O_RDWR | O_NONBLOCK | NodeFsSync.constants.O_NOFOLLOW,
          (error, fd) => {
            if (error !== null) return reject(error)
            NodeFsSync.fstat(fd, (statError, status) => {
              if (statError === null && status.isFIFO()) return resolvePipe(fd)
              NodeFsSync.close(fd, () => reject(new PathFailure("ENOTREG", path, "not a named pipe")))
            })
          }
        )
      })
  )

/** Opens a named pipe for reading and writing without blocking (a final link is not followed). */
export const openPipe = (view: View, path: string): Promise<NodeFs.FileHandle> =>
  withResolved(view, path, { follow: false }, async (located) => {
    const found = existing(located, path)
    if (found._tag === "dir" || !found.status!.isFIFO()) throw new PathFailure("ENOTREG", path, "not a named pipe")
    const handle = await openIn(found.parent, found.name, O_RDWR | O_NONBLOCK)
    const status = await handle.stat().catch(async (error: unknown) => {
      await handle.close()
      throw error
    })
    if (!status.isFIFO()) {
      await handle.close()
      throw new PathFailure("ENOTREG", path, "not a named pipe")
    }
    return handle
  })

// ---------------------------------------------------------------------------------------------
// disk usage
// ---------------------------------------------------------------------------------------------

interface Usage {
  bytes: number
  measuredAt: number
}

const usages = new Map<string, Usage>()
const usageTtl = 5_000

/**
 * How deep the measurement goes: each level holds one open directory while the levels under it
 * are measured, and a sandbox can nest directories tens of thousands deep (which once held as
 * many of the server's descriptors). What lies deeper is not counted.
 */
const maxUsageDepth = 256

const sumTree = async (dir: Dir, depth: number): Promise<number> => {
  let total = 0
  const subdirectories: Array<string> = []
  // A few entries at a time, closed before going down: a directory of 300,000 long names read at
  // once held ~100 MiB, and an open listing per level would double the descriptors held.
  const listing = await NodeFs.opendir(dir.self(), { bufferSize: 128 }).catch(() => undefined)
  if (listing === undefined) return 0
  for await (const entry of listing) {
    const status = await NodeFs.lstat(dir.at(entry.name)).catch(() => undefined)
    if (status === undefined) continue
    total += status.blocks * 512
    if (status.isDirectory() && depth < maxUsageDepth) subdirectories.push(entry.name)
  }
  for (const name of subdirectories) {
    const child = await dir.openChild(name).catch(() => undefined)
    if (child === undefined) continue
    try {
      total += await sumTree(child, depth + 1)
    } finally {
      await child.close()
    }
  }
  return total
}

const quotaRoots = (view: View) => view.quotaRoots ?? view.mounts.filter((m) => m.writable)

const usageKey = (view: View) =>
  quotaRoots(view)
    .map((m) => m.host)
    .join("\u0000")

/** Measurements under way, by sandbox: callers meanwhile share one walk instead of each making their own. */
const measuring = new Map<string, Promise<number>>()

/**
 * The bytes the sandbox's writable mounts take on disk, measured at most every few seconds, by
 * one walk at a time per sandbox.
 */
export const usage = (view: View): Promise<number> => {
  const key = usageKey(view)
  const cached = usages.get(key)
  if (cached !== undefined && Date.now() - cached.measuredAt < usageTtl) return Promise.resolve(cached.bytes)
  const under = measuring.get(key)
  if (under !== undefined) return under
  const walk = measure(view, key).finally(() => measuring.delete(key))
  measuring.set(key, walk)
  return walk
}

const measure = async (view: View, key: string): Promise<number> => {
  const now = Date.now()
  let bytes = 0
  for (const mount of quotaRoots(view)) {
    const root = await Dir.openRoot(mount.inside, mount, mount.host).catch(() => undefined)
    if (root === undefined) continue
    try {
      bytes += await sumTree(root, 0)
    } finally {
      await root.close()
    }
  }
  usages.set(key, { bytes, measuredAt: now })
  return bytes
}

const account = (view: View, delta: number) => {
  const cached = usages.get(usageKey(view))
  if (cached !== undefined) cached.bytes = Math.max(0, cached.bytes + delta)
}

/** Forgets the measured usage of a sandbox (its directories were removed). */
export const forgetUsage = (view: View): void => {
  usages.delete(usageKey(view))
}

const quotaGuard = async (view: View, path: string) => {
  const quota = view.diskQuota
  if (quota === undefined) return (_bytes: number) => {}
  const used = await usage(view)
  return (bytes: number) => {
    if (used + bytes > quota) throw new PathFailure("EQUOTA", path)
  }
}

// ---------------------------------------------------------------------------------------------
// writes
// ---------------------------------------------------------------------------------------------

const createParents = (view: View, mode = 0o755) => ({ mode, created: claimDir(view) })

const abandoned = () => new Error("the upload was abandoned")

/**
 * The iterator's next chunk, or a rejection once `signal` aborts. Each wait listens to the signal
 * only while it lasts: racing every read against one promise that never settles (`Promise.race`)
 * would hang a reaction on that promise per chunk, and each reaction keeps its chunk alive, so an
 * upload held all its bytes in memory until it ended.
 */
const nextUnlessAborted = <A>(
  iterator: AsyncIterator<A> | Iterator<A>,
  signal: AbortSignal | undefined
): Promise<IteratorResult<A>> => {
  if (signal === undefined) return Promise.resolve(iterator.next())
  if (signal.aborted) return Promise.reject(abandoned())
  return new Promise((resolve, reject) => {
    const abort = () => reject(abandoned())
    signal.addEventListener("abort", abort, { once: true })
    Promise.resolve(iterator.next()).then(
      (result) => {
        signal.removeEventListener("abort", abort)
        resolve(result)
      },
      (error: unknown) => {
        signal.removeEventListener("abort", abort)
        reject(error)
      }
    )
  })
}

/**
 * Writes a file from `chunks` through a temporary file next to it, renamed over `path` when
 * complete: a reader never sees a partial file under its final name, even after a crash. Missing
 * parent directories are created; a final link is followed inside the sandbox.
 */
export const writeFile = (
  view: View,
  path: string,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  signal?: AbortSignal
): Promise<number> =>
  withResolved(view, path, { follow: true, write: true, createParents: createParents(view) }, async (located) => {
    const target = writable(located, path)
    if (target._tag !== "child") throw new PathFailure("EISDIR", path)
    if (target.status?.isDirectory()) throw new PathFailure("EISDIR", path)
    const check = await quotaGuard(view, path)
    const temp = `.daytona-upload-${NodeCrypto.randomUUID()}`
    const mode = target.status?.isFile() ? target.status.mode & 0o777 : 0o644
    const handle = await openIn(target.parent, temp, O_WRONLY | O_CREAT | O_EXCL, mode)
    const iterator = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]()
    let bytes = 0
    try {
      await claimFile(view, handle)
      while (true) {
        const next = await nextUnlessAborted(iterator, signal)
        if (next.done === true) break
        const chunk = next.value
        check(bytes + chunk.length)
        let offset = 0
        while (offset < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset)
          offset += bytesWritten
        }
        bytes += chunk.length
      }
      await handle.close()
      await NodeFs.rename(target.parent.at(temp), target.parent.at(target.name))
    } catch (error) {
      await handle.close().catch(() => undefined)
      await NodeFs.unlink(target.parent.at(temp)).catch(() => undefined)
      return rethrow(path, error)
    }
    account(view, bytes - (target.status?.isFile() ? target.status.size : 0))
    return bytes
  })

/** Rewrites an existing regular file in place (its inode, mode and owner kept). */
export const rewriteFile = (view: View, path: string, content: Uint8Array): Promise<void> =>
  withResolved(view, path, { follow: true, write: true }, async (located) => {
    const target = writable(existing(located, path), path)
    if (target._tag !== "child" || target.status!.isDirectory()) throw new PathFailure("EISDIR", path)
    if (!target.status!.isFile()) throw new PathFailure("ENOTREG", path)
    const check = await quotaGuard(view, path)
    check(content.length - target.status!.size)
    // The sandbox may have swapped the file since it was looked at: a named pipe opened without
    // O_NONBLOCK would hold one of libuv's few threads until a reader comes, and none may ever come.
    // What was opened is checked, and only a regular file is truncated.
    const handle = await openIn(target.parent, target.name, O_WRONLY | O_NONBLOCK)
    let previousSize: number
    try {
      const opened = await handle.stat()
      if (!opened.isFile()) throw new PathFailure("ENOTREG", path)
      previousSize = opened.size
      check(content.length - previousSize)
      await handle.truncate(0)
      let offset = 0
      while (offset < content.length) offset += (await handle.write(content, offset)).bytesWritten
    } finally {
      await handle.close()
    }
    account(view, content.length - previousSize)
  })

/** `mkdir -p` with `mode` on the directories it creates; answers whether the final one was created. */
export const makeDirectory = (view: View, path: string, mode: number): Promise<boolean> =>
  withResolved(view, path, { follow: true, write: true, createParents: createParents(view, mode) }, async (located) => {
    if (located._tag === "dir") return false
    if (located.status !== undefined) {
      if (located.status.isDirectory()) return false
      throw new PathFailure("EEXIST", path, "a file with this name already exists")
    }
    const target = writable(located, path)
    await NodeFs.mkdir(target.parent.at(target.name), mode)
    const held = new Held()
    try {
      const dir = held.add(await target.parent.openChild(target.name))
      await claimDir(view)(dir)
      await NodeFs.chmod(dir.self(), mode)
    } finally {
      await held.close()
    }
    return true
  })

/** Deletes a file, a link or (with `recursive`) a directory tree; links are removed, never followed. */
export const remove = (view: View, path: string, recursive: boolean): Promise<void> =>
  withResolved(view, path, { follow: false, write: true }, async (located) => {
    const target = writable(existing(located, path), path)
    if (target._tag !== "child") throw new PathFailure("EBUSY", path)
    if (target.status!.isDirectory()) {
      if (!recursive) throw new PathFailure("EISDIR", path, "cannot delete directory without recursive flag")
      await TreeRemoval.removeTree(target.parent.at(target.name))
    } else await NodeFs.unlink(target.parent.at(target.name))
    forgetUsage(view)
  })

/** Moves a file or directory; the destination must not exist (its parents are created). */
export const move = async (view: View, from: string, to: string): Promise<void> => {
  const held = new Held()
  try {
    const source = writable(existing(await resolve(view, from, { follow: false, write: true }, held), from), from)
    const destination = await resolve(
      view,
      to,
      { follow: false, write: true, createParents: createParents(view) },
      held
    )
    if (destination._tag === "dir" || destination.status !== undefined)
      throw new PathFailure("EEXIST", to, "destination already exists")
    writable(destination, to)
    if (source._tag !== "child" || destination._tag !== "child") throw new PathFailure("EBUSY", from)
    await NodeFs.rename(source.parent.at(source.name), destination.parent.at(destination.name)).catch(async (cause) => {
      if ((cause as { code?: unknown }).code !== "EXDEV" || view.identity !== undefined) throw failureOf(from, cause)
      // Only without isolation can two writable places be on different file systems.
      const [fromHost, toHost] = [hostPath(view, source.path), hostPath(view, destination.path)]
      await NodeFs.cp(fromHost, toHost, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
      await NodeFs.rm(fromHost, { recursive: true, force: true })
    })
  } catch (cause) {
    return rethrow(from, cause)
  } finally {
    await held.close()
  }
}

/** The sandbox's ids (as its processes see them) that files may be given to: its root only, under a boundary. */
const hostIds = (view: View, path: string, uid: number, gid: number) => {
  const identity = view.identity
  if (identity === undefined) return { uid, gid }
  const map = (id: number, host: number, what: string) => {
    if (id === -1) return -1
    if (id === 0) return host
    throw new PathFailure("EACCES", path, `${what} ${id} does not exist in the sandbox (only root, 0, does)`)
  }
  return { uid: map(uid, identity.uid, "uid"), gid: map(gid, identity.gid, "gid") }
}

/** Sets a file's mode and/or owner (ids as the sandbox sees them, -1 to keep); a final link is followed. */
export const setPermissions = (
  view: View,
  path: string,
  change: { readonly mode?: number | undefined; readonly uid: number; readonly gid: number }
): Promise<void> =>
  withResolved(view, path, { follow: true, write: true }, async (located) => {
    const target = existing(located, path)
    const mount = target._tag === "dir" ? target.dir?.mount : target.parent.mount
    if (mount === undefined || !mount.writable) throw new PathFailure("EROFS", path)
    const ids = hostIds(view, path, change.uid, change.gid)
    const held = new Held()
    try {
      const self =
        target._tag === "dir"
          ? target.dir!.self()
          : target.status!.isDirectory()
            ? held.add(await target.parent.openChild(target.name)).self()
            : await openNamed(target.parent, target.name, held)
      // Set-id bits mean nothing inside (its mounts are nosuid) and must not reach the machine.
      const mask = view.identity === undefined ? 0o7777 : 0o1777
      if (change.mode !== undefined) await NodeFs.chmod(self, change.mode & mask)
      if (ids.uid !== -1 || ids.gid !== -1) await NodeFs.chown(self, ids.uid, ids.gid)
    } finally {
      await held.close()
    }
  })

/** A `/proc/self/fd` path naming exactly the file `name` in `dir` (an `O_PATH` handle, link not followed). */
const openNamed = async (dir: Dir, name: string, held: Held): Promise<string> => {
  const probe = dir.at(name)
  if (!probe.startsWith("/proc/self/fd/")) return probe
  const handle = held.add(await openIn(dir, name, O_PATH))
  return `/proc/self/fd/${handle.fd}`
}

// ---------------------------------------------------------------------------------------------
// walking
// ---------------------------------------------------------------------------------------------

/** An entry met while walking a tree: where it is (as the client named it) and how to read it. */
export interface Walked {
  readonly shown: string
  readonly relative: string
  readonly status: Status
  /** Opens the entry for reading if it is a regular file (never following a link). */
  readonly open: () => Promise<NodeFs.FileHandle | undefined>
}

const openRegular = (view: View, dir: Dir, name: string, status: Status) => async () => {
  if (!status.isFile()) return undefined
  if (!dir.mount.writable && !permits(view, status, "r")) return undefined
  const handle = await openIn(dir, name, O_RDONLY | O_NONBLOCK).catch(() => undefined)
  if (handle === undefined) return undefined
  if (!(await handle.stat()).isFile()) {
    await handle.close()
    return undefined
  }
  return handle
}

/**
 * How many levels below its root a walk (search, find, glob) descends: each level holds a
 * descriptor and a generator frame, and every entry passes through all of them, so a tree thousands
 * of levels deep took the server's memory to gigabytes and overflowed its stack.
 */
export const maxWalkDepth = 256

async function* walkDir(
  view: View,
  dir: Dir,
  shown: string,
  relative: string,
  depth: number = 1
): AsyncGenerator<Walked> {
  if (!dir.mount.writable && !permits(view, await NodeFs.stat(dir.self()), "r")) return
  const names = (await NodeFs.readdir(dir.self()).catch(() => [] as Array<string>)).sort()
  for (const name of names) {
    const status = await NodeFs.lstat(dir.at(name)).catch(() => undefined)
    if (status === undefined) continue
    const childShown = NodePath.posix.join(shown, name)
    const childRelative = relative === "" ? name : `${relative}/${name}`
    yield { shown: childShown, relative: childRelative, status, open: openRegular(view, dir, name, status) }
    if (status.isDirectory() && depth < maxWalkDepth) {
      const child = await dir.openChild(name).catch(() => undefined)
      if (child === undefined) continue
      try {
        yield* walkDir(view, child, childShown, childRelative, depth + 1)
      } finally {
        await child.close()
      }
    }
  }
}

/**
 * Walks a tree like Go's `filepath.Walk`: the root first, then every entry in name order; links
 * are reported, never followed; unreadable parts are skipped.
 */
export async function* walk(view: View, path: string): AsyncGenerator<Walked> {
  const held = new Held()
  try {
    const located = existing(await resolve(view, path, { follow: true }, held), path)
    if (located._tag === "dir") {
      yield { shown: path, relative: "", status: located.status, open: async () => undefined }
      if (located.dir === undefined) {
        for (const name of syntheticChildren(view, located.path))
          yield* walk(view, NodePath.posix.join(located.path, name))
        return
      }
      yield* walkDir(view, located.dir, path, "")
      return
    }
    const status = located.status!
    yield { shown: path, relative: "", status, open: openRegular(view, located.parent, located.name, status) }
    if (status.isDirectory()) {
      const dir = held.add(await located.parent.openChild(located.name))
      yield* walkDir(view, dir, path, "")
    }
  } catch (cause) {
    rethrow(path, cause)
  } finally {
    await held.close()
  }
}

// ---------------------------------------------------------------------------------------------
// host paths
// ---------------------------------------------------------------------------------------------

/** The host path behind a resolved sandbox path (for messages to the engine and checks, never opened here). */
export const hostPath = (view: View, sandboxPath: string): string => {
  const mount = mountOf(view, sandboxPath)
  if (mount === undefined) return sandboxPath
  return NodePath.join(mount.host, NodePath.posix.relative(mount.inside, sandboxPath))
}

/** Resolves a path inside the sandbox and answers its host path (checks only: see `hostPath`). */
export const resolveHostPath = (view: View, path: string, access: "read" | "write"): Promise<string> =>
  withResolved(view, path, { follow: true, write: access === "write" }, async (located) => {
    if (access === "write") {
      const mount = located._tag === "dir" ? located.dir?.mount : located.parent.mount
      if (mount === undefined || !mount.writable) throw new PathFailure("EROFS", path)
    }
    return hostPath(view, located.path)
  })
