import * as NodeFs from "node:fs/promises"

/**
 * What `/proc` tells about the machine's processes, for finding every process of a sandbox when no
 * control group holds them (its PID namespace, or the marker in its environment), and for finding
 * who listens on a port.
 */

const read = (path: string) => NodeFs.readFile(path).catch(() => undefined)

/** Every process id on the machine (as this process's PID namespace sees them). */
export const allPids = async (): Promise<Array<number>> =>
  (await NodeFs.readdir("/proc").catch(() => [] as Array<string>)).filter((name) => /^\d+$/.test(name)).map(Number)

/** The namespace a process is in (`pid`, `net`, …), as the kernel names it (`pid:[4026531836]`). */
export const namespaceOf = (pid: number | "self", kind: string): Promise<string | undefined> =>
  NodeFs.readlink(`/proc/${pid}/ns/${kind}`).catch(() => undefined)

/** Whether a process's environment holds `entry` (`NAME=value`). */
export const environHas = async (pid: number, entry: string): Promise<boolean> => {
  const environ = await read(`/proc/${pid}/environ`)
  return environ !== undefined && environ.toString("utf8").split("\u0000").includes(entry)
}

/** The processes of a PID namespace (named as `namespaceOf` does). */
export const pidsInNamespace = async (namespace: string): Promise<Array<number>> => {
  const pids = await allPids()
  const found = await Promise.all(pids.map(async (pid) => ((await namespaceOf(pid, "pid")) === namespace ? pid : 0)))
  return found.filter((pid) => pid !== 0)
}

/** The processes whose environment holds `entry`. */
export const pidsWithEnv = async (entry: string): Promise<Array<number>> => {
  const pids = await allPids()
  const found = await Promise.all(pids.map(async (pid) => ((await environHas(pid, entry)) ? pid : 0)))
  return found.filter((pid) => pid !== 0 && pid !== process.pid)
}

/** Sends SIGKILL to each process; one that is gone is not an error. */
export const killPids = (pids: ReadonlyArray<number>): void => {
  for (const pid of pids) {
    if (pid === process.pid || pid <= 1) continue
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // gone
    }
  }
}

const loopback = new Set([
  "0100007F", // 127.0.0.1
  "00000000", // 0.0.0.0
  "00000000000000000000000000000000", // ::
  "00000000000000000000000001000000", // ::1
  "0000000000000000FFFF00000100007F" // ::ffff:127.0.0.1
])

/**
 * The inodes of the sockets listening on `port` that a connection to 127.0.0.1 can reach, from the
 * `tcp` and `tcp6` tables of `/proc/<pid>/net` (the network namespace of that process).
 */
export const listeningInodes = async (port: number, pid: number | "self" = "self"): Promise<Set<string>> => {
  const inodes = new Set<string>()
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0")
  for (const table of ["tcp", "tcp6"]) {
    const text = (await read(`/proc/${pid}/net/${table}`))?.toString("utf8") ?? ""
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/)
      const [address, localPort] = (fields[1] ?? "").split(":")
      if (fields[3] !== "0A" || localPort !== hexPort || address === undefined) continue
      if (loopback.has(address)) inodes.add(fields[9] ?? "")
    }
  }
  inodes.delete("")
  inodes.delete("0")
  return inodes
}

/** Whether one of `pids` holds a socket with one of `inodes` open. */
export const holdsSocket = async (pids: ReadonlyArray<number>, inodes: ReadonlySet<string>): Promise<boolean> => {
  if (inodes.size === 0) return false
  for (const pid of pids) {
    const fds = await NodeFs.readdir(`/proc/${pid}/fd`).catch(() => [] as Array<string>)
    const links = await Promise.all(fds.map((fd) => NodeFs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")))
    for (const link of links) {
      const match = /^socket:\[(\d+)\]$/.exec(link)
      if (match !== null && inodes.has(match[1]!)) return true
    }
  }
  return false
}
