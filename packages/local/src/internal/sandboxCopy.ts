import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { pipeline } from "node:stream/promises"
import type { SandboxMount, SandboxView } from "../SandboxEngine.js"
import { descriptorPath, Dir, openDirectoryNoFollow } from "./sandboxPath.js"
import * as TreeRemoval from "./treeRemoval.js"

/**
 * Copies of a sandbox's files, for snapshots of a sandbox and forks: its writable mounts (home and
 * `/tmp`, as its view names them) are copied tree by tree, through the same no-follow resolution as
 * the toolbox's file routes. Every directory is opened relative to the one before without following
 * a link, every file is opened without following a final link and copied from that descriptor, a
 * link is copied as a link (never followed), and what is neither a file, a directory nor a link
 * (FIFOs, sockets, devices) is left out. A copy never holds more bytes than it was allowed, and
 * what it creates for a sandbox belongs to that sandbox's user; set-id bits are dropped.
 */

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = NodeFsSync.constants
const { COPYFILE_EXCL, COPYFILE_FICLONE } = NodeFsSync.constants

/** Why a copy stopped. */
export class CopyFailure extends Error {
  constructor(message: string) {
    super(message)
    this.name = "CopyFailure"
  }
}

/** What a copy did. */
export interface Copied {
  readonly bytes: number
  readonly entries: number
  /** FIFOs, sockets and devices, which are not copied. */
  readonly skipped: number
}

/** How deep directories may nest in a copy. */
export const maxDepth = 128

interface Budget {
  bytes: number
  entries: number
  skipped: number
  /** Bytes of sparse files read so far, holes included (reading a hole costs as much as data). */
  scanned: number
  readonly limit: number
}

/**
 * How many bytes of sparse files a copy reads, holes included, per byte it may hold: ten files of
 * 3 GiB holding 12 KB took a snapshot a minute of the server's CPU.
 */
const scanPerByte = 2

/** The host ids what is created for a sandbox gets, when the server runs with more rights (root). */
export const ownerOf = (view: SandboxView): { readonly uid: number; readonly gid: number } | undefined => {
  const identity = view.identity
  return identity !== undefined && process.geteuid?.() === 0 && identity.uid !== 0 ? identity : undefined
}

/** The mounts a sandbox's own files live in, in a fixed order: its home first, then its `/tmp`. */
export const ownRoots = (view: SandboxView): ReadonlyArray<SandboxMount> =>
  view.quotaRoots ?? view.mounts.filter((mount) => mount.writable)

const byDescriptor = process.platform === "linux"

/** The unit in which a sparse copy looks for what is only zeros. */
const page = 4096
const zeroPage = Buffer.alloc(page)

/** Whether a file holds fewer bytes on disk than its size: it has holes. */
const isSparse = (status: NodeFsSync.Stats) => status.blocks * 512 < status.size

/**
 * Copies the first `size` bytes of a file with holes, keeping them holes: only the pages that hold
 * something are written, so the copy takes no more disk than the original (a file the kernel
 * copies fills its holes with written zeros: 1 GiB for a 1 GiB file holding 4 KiB).
 */
const copySparse = async (handle: NodeFs.FileHandle, destination: Buffer, size: number) => {
  const out = await NodeFs.open(destination, "wx", 0o600)
  try {
    const buffer = Buffer.allocUnsafe(1 << 20)
    let position = 0
    while (position < size) {
      const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position)
      if (bytesRead === 0) break
      let run = -1
      for (let offset = 0; offset < bytesRead; offset += page) {
        const end = Math.min(offset + page, bytesRead)
        const empty = buffer.compare(zeroPage, 0, end - offset, offset, end) === 0
        if (!empty && run < 0) run = offset
        else if (empty && run >= 0) {
          await out.write(buffer, run, offset - run, position + run)
          run = -1
        }
      }
      if (run >= 0) await out.write(buffer, run, bytesRead - run, position + run)
      position += bytesRead
    }
    await out.truncate(position)
  } finally {
    await out.close()
  }
}

const copyFileFrom = async (handle: NodeFs.FileHandle, status: NodeFsSync.Stats, destination: Buffer) => {
  if (isSparse(status)) return copySparse(handle, destination, status.size)
  if (byDescriptor) {
    // The descriptor's magic link names the very file opened: a swap of the name since is not followed.
    await NodeFs.copyFile(descriptorPath(handle), destination, COPYFILE_EXCL | COPYFILE_FICLONE)
    return
  }
  await pipeline(
    handle.createReadStream({ autoClose: false, start: 0 }),
    NodeFsSync.createWriteStream(destination, { flags: "wx" })
  )
}

const setOwner = async (path: Buffer, owner: { readonly uid: number; readonly gid: number } | undefined) => {
  if (owner !== undefined) await NodeFs.lchown(path, owner.uid, owner.gid)
}

/** `name` (bytes, as the directory holds it: not every name is UTF-8) in the directory at `directory`. */
const within = (directory: string | Buffer, name: Buffer): Buffer =>
  Buffer.concat([typeof directory === "string" ? Buffer.from(directory) : directory, slash, name])

const slash = Buffer.from("/")

/**
 * Copies the entries of the directory named by `source` (its descriptor's path, or on a machine
 * without `/proc/self/fd` its path) into `destination`.
 */
const copyEntries = async (
  source: string,
  destination: Buffer,
  owner: { readonly uid: number; readonly gid: number } | undefined,
  budget: Budget,
  depth: number
): Promise<void> => {
  if (depth > maxDepth) throw new CopyFailure(`directories nest deeper than ${maxDepth} levels`)
  // Read a few entries at a time: a directory of 200,000 long names read at once cost 116 MB.
  // Node hands the names over as bytes with "buffer", which its types for opendir do not list.
  const entries = await NodeFs.opendir(source, { encoding: "buffer" as BufferEncoding, bufferSize: 64 })
  for await (const entry of entries) {
    const name = entry.name as unknown as Buffer
    const sourcePath = within(source, name)
    const status = await NodeFs.lstat(sourcePath).catch(() => undefined)
    if (status === undefined) continue
    const target = within(destination, name)
    if (status.isDirectory()) {
      // Replaced by a link or a file since the lstat: not followed, left out.
      const child = byDescriptor ? await openDirectoryNoFollow(sourcePath).catch(() => undefined) : undefined
      if (byDescriptor && child === undefined) continue
      try {
        await NodeFs.mkdir(target, { mode: 0o700 })
        budget.entries++
        await copyEntries(
          child === undefined ? sourcePath.toString() : descriptorPath(child),
          target,
          owner,
          budget,
          depth + 1
        )
      } finally {
        await child?.close().catch(() => undefined)
      }
      await NodeFs.chmod(target, status.mode & 0o1777)
      await setOwner(target, owner)
      await NodeFs.utimes(target, status.atime, status.mtime)
    } else if (status.isSymbolicLink()) {
      const link = await NodeFs.readlink(sourcePath, { encoding: "buffer" }).catch(() => undefined)
      if (link === undefined) continue
      await NodeFs.symlink(link, target)
      budget.entries++
      await setOwner(target, owner)
      await NodeFs.lutimes(target, status.atime, status.mtime)
    } else if (status.isFile()) {
      const handle = await NodeFs.open(sourcePath, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(() => undefined)
      if (handle === undefined) continue
      try {
        const opened = await handle.stat()
        if (!opened.isFile()) {
          budget.skipped++
          continue
        }
        // A sparse copy writes at most the pages the original holds on disk, but reads them all.
        const sparse = isSparse(opened)
        budget.bytes += sparse ? opened.blocks * 512 : opened.size
        if (budget.bytes > budget.limit)
          throw new CopyFailure(`the files take more than the ${budget.limit} bytes the copy may hold`)
        if (sparse) budget.scanned += opened.size
        if (budget.scanned > budget.limit * scanPerByte)
          throw new CopyFailure(
            `files with holes add up to more than the ${budget.limit * scanPerByte} bytes a copy reads (${scanPerByte} times what it may hold)`
          )
        await copyFileFrom(handle, opened, target)
        budget.entries++
        await NodeFs.chmod(target, opened.mode & 0o777)
        await setOwner(target, owner)
        await NodeFs.utimes(target, opened.atime, opened.mtime)
      } finally {
        await handle.close()
      }
    } else {
      budget.skipped++
    }
  }
}

/**
 * Copies the entries of the trusted host directory `sourceRoot` (one of a view's own mounts, or a
 * stored image) into `destination`, which exists and is empty. `owner` gets everything created.
 */
export const copyTree = async (
  sourceRoot: SandboxMount,
  destination: string,
  options: { readonly owner: { readonly uid: number; readonly gid: number } | undefined; readonly limit: number }
): Promise<Copied> => {
  const budget: Budget = { bytes: 0, entries: 0, skipped: 0, scanned: 0, limit: options.limit }
  const root = await Dir.openRoot(sourceRoot.inside, sourceRoot, sourceRoot.host)
  try {
    await copyEntries(root.self(), Buffer.from(destination), options.owner, budget, 0)
  } finally {
    await root.close()
  }
  return { bytes: budget.bytes, entries: budget.entries, skipped: budget.skipped }
}

const sum = (all: ReadonlyArray<Copied>): Copied => ({
  bytes: all.reduce((n, c) => n + c.bytes, 0),
  entries: all.reduce((n, c) => n + c.entries, 0),
  skipped: all.reduce((n, c) => n + c.skipped, 0)
})

/** The directory of an image that holds the copy of a view's `index`th own mount. */
const imageRoot = (image: string, index: number) => NodePath.join(image, String(index))

/**
 * Captures a sandbox's own files into a new image directory (created here; removed again when the
 * capture fails), at most `limit` bytes. The image's files belong to the server.
 */
export const capture = async (view: SandboxView, image: string, limit: number): Promise<Copied> => {
  await NodeFs.mkdir(image, { recursive: true, mode: 0o700 })
  try {
    const roots = ownRoots(view)
    const copied: Array<Copied> = []
    let left = limit
    for (const [index, root] of roots.entries()) {
      const destination = imageRoot(image, index)
      await NodeFs.mkdir(destination, { mode: 0o700 })
      const one = await copyTree(root, destination, { owner: undefined, limit: left })
      left -= one.bytes
      copied.push(one)
    }
    await NodeFs.writeFile(
      NodePath.join(image, "manifest.json"),
      JSON.stringify({ roots: roots.map((root) => root.inside), ...sum(copied) })
    )
    return sum(copied)
  } catch (cause) {
    await TreeRemoval.removeTree(image)
    throw cause
  }
}

/**
 * Fills a new sandbox's own mounts (provisioned, empty, not started) from an image, the files
 * given to the sandbox's user. Mounts are matched by their place: home to home, `/tmp` to `/tmp`.
 */
export const restore = async (image: string, view: SandboxView, limit: number): Promise<Copied> => {
  const roots = ownRoots(view)
  const copied: Array<Copied> = []
  let left = limit
  for (const [index, root] of roots.entries()) {
    const source = imageRoot(image, index)
    if (!NodeFsSync.existsSync(source)) continue
    const one = await copyTree({ inside: root.inside, host: source, writable: false }, root.host, {
      owner: ownerOf(view),
      limit: left
    })
    left -= one.bytes
    copied.push(one)
  }
  return sum(copied)
}

/** Copies one sandbox's own files into another's (provisioned, empty, not started), at most `limit` bytes. */
export const copyBetween = async (from: SandboxView, to: SandboxView, limit: number): Promise<Copied> => {
  const sources = ownRoots(from)
  const destinations = ownRoots(to)
  const copied: Array<Copied> = []
  let left = limit
  for (const [index, source] of sources.entries()) {
    const destination = destinations[index]
    if (destination === undefined) continue
    const one = await copyTree(source, destination.host, { owner: ownerOf(to), limit: left })
    left -= one.bytes
    copied.push(one)
  }
  return sum(copied)
}
