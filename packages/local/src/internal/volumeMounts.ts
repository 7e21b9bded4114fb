import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"

/**
 * Volumes mounted into sandboxes: which mount paths and subpaths are acceptable, and how a volume's
 * directory (or a subdirectory of it) is opened for binding. A subpath is opened one component at
 * a time from the volume's root, never following a link and creating what is missing, and the
 * resulting descriptor is what gets bound (bubblewrap's `--bind-fd`) and what the toolbox resolves
 * paths from: a link or a swapped directory that another sandbox plants in a shared volume cannot
 * make the bind, or the server, land outside the volume.
 */

const { O_DIRECTORY, O_NOFOLLOW, O_RDONLY } = NodeFsSync.constants

/** Paths a volume cannot be mounted on or under: the system's, and what the sandbox is made of. */
const reserved = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/etc",
  "/proc",
  "/dev",
  "/sys",
  "/run"
]
const exact = ["/", "/home", "/home/daytona", "/tmp"]

const within = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`)

/** Why `path` cannot be a volume's mount path, or `undefined`. */
export const mountPathProblem = (path: string): string | undefined => {
  if (!path.startsWith("/")) return `Volume mount path must be absolute: ${path}`
  if (path.length > 1024 || path.includes("\u0000")) return `Invalid volume mount path: ${path}`
  if (NodePath.posix.normalize(path) !== path || path.endsWith("/") || path.split("/").includes(".."))
    return `Volume mount path must be normalized (no ., .. or repeated /): ${path}`
  if (exact.includes(path) || reserved.some((prefix) => within(path, prefix)))
    return `Volume mount path ${path} is reserved: mount volumes elsewhere (for example under /home/daytona or /mnt)`
  return undefined
}

/** The components of a subpath, or why it is not acceptable (absolute, `..`, NUL). */
export const subpathComponents = (subpath: string | undefined): ReadonlyArray<string> | string => {
  if (subpath === undefined || subpath === "" || subpath === "/") return []
  if (subpath.includes("\u0000") || subpath.length > 1024) return `Invalid volume subpath: ${subpath}`
  const parts = subpath.split("/").filter((part) => part !== "" && part !== ".")
  if (parts.includes("..")) return `Volume subpath must stay inside the volume: ${subpath}`
  return parts
}

/** Why a set of mounts cannot go together (the same or nested mount paths), or `undefined`. */
export const overlapProblem = (paths: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < paths.length; i++)
    for (let j = 0; j < paths.length; j++)
      if (i !== j && within(paths[j]!, paths[i]!))
        return `Volume mount paths must not repeat or nest: ${paths[i]} and ${paths[j]}`
  return undefined
}

/**
 * Opens the directory of a volume to bind: its root, or its subpath (created with mode 0777 where
 * missing, so that every sandbox sharing the volume may write in it). Fails on a link, or on a
 * component that is not a directory.
 */
export const openVolumeDirectory = async (root: string, subpath: string | undefined): Promise<NodeFs.FileHandle> => {
  const parts = subpathComponents(subpath)
  if (typeof parts === "string") throw new Error(parts)
  let current = await NodeFs.open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
  try {
    for (const part of parts) {
      const at = `/proc/self/fd/${current.fd}/${part}`
      let created = false
      try {
        await NodeFs.mkdir(at, { mode: 0o777 })
        created = true
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      }
      const next = await NodeFs.open(at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          error.code === "ELOOP" || error.code === "ENOTDIR"
            ? `volume subpath ${subpath}: ${part} is a link or not a directory`
            : `volume subpath ${subpath}: ${error.message}`
        )
      })
      // On the descriptor, never by name: what was created may have been swapped for a link since.
      if (created) await next.chmod(0o777)
      await current.close()
      current = next
    }
    return current
  } catch (error) {
    await current.close().catch(() => undefined)
    throw error
  }
}

/**
 * Checks the directories a volume's mount path passes through where the sandbox can write them (its
 * home, its `/tmp`: `writable`, each as the sandbox sees it and on the host), following no link.
 * bubblewrap resolves the mount path inside the sandbox's new root, where a link the sandbox planted
 * (`/home/daytona/a` pointing at `/oldroot/…`) would lead the bind, and the directories bubblewrap
 * creates on the way, outside the sandbox. Fails when an existing component is a link or not a
 * directory; what does not exist yet is left for bubblewrap to create.
 */
export const checkMountPoint = async (
  writable: ReadonlyArray<{ readonly inside: string; readonly host: string }>,
  mountPath: string
): Promise<void> => {
  const base = writable.find((dir) => mountPath.startsWith(`${dir.inside}/`))
  if (base === undefined) return
  const parts = mountPath.slice(base.inside.length + 1).split("/")
  let current = await NodeFs.open(base.host, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
  try {
    for (const part of parts) {
      const next = await NodeFs.open(`/proc/self/fd/${current.fd}/${part}`, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code === "ENOENT") return undefined
          throw new Error(
            error.code === "ELOOP" || error.code === "ENOTDIR"
              ? `volume mount path ${mountPath}: ${part} is a link or not a directory in the sandbox`
              : `volume mount path ${mountPath}: ${error.message}`
          )
        }
      )
      if (next === undefined) return
      await current.close()
      current = next
    }
  } finally {
    await current.close().catch(() => undefined)
  }
}
