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

/**
 * The loopback addresses a listening socket may be bound to, and the address that reaches that very
 * socket: an IPv6 socket on `::` or `::1` is dialled on `::1`, never on 127.0.0.1, where another
 * process of the machine may listen on the same port.
 */
const loopback = new Map([
  ["0100007F", "127.0.0.1"], // 127.0.0.1
  ["00000000", "127.0.0.1"], // 0.0.0.0
  ["00000000000000000000000000000000", "::1"], // ::
  ["00000000000000000000000001000000", "::1"], // ::1
  ["0000000000000000FFFF00000100007F", "127.0.0.1"] // ::ffff:127.0.0.1
])

/** A listening TCP socket of a `/proc/<pid>/net/tcp{,6}` table: its address and port in hex, its inode. */
interface ListeningSocket {
  readonly address: string
  readonly hexPort: string
  readonly inode: string
}

/** The listening sockets (IPv4 and IPv6) of the network namespace of process `pid`. */
const listeningSockets = async (pid: number | "self"): Promise<Array<ListeningSocket>> => {
  const sockets: Array<ListeningSocket> = []
  for (const table of ["tcp", "tcp6"]) {
    const text = (await read(`/proc/${pid}/net/${table}`))?.toString("utf8") ?? ""
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/)
      const [address, hexPort] = (fields[1] ?? "").split(":")
      const inode = fields[9] ?? ""
      if (fields[3] === "0A" && address !== undefined && hexPort !== undefined && inode !== "" && inode !== "0")
        sockets.push({ address, hexPort, inode })
    }
  }
  return sockets
}

/**
 * The sockets listening on `port` on a loopback address, from the `tcp` and `tcp6` tables of
 * `/proc/<pid>/net` (the network namespace of that process): each socket's inode, and the address
 * that reaches it.
 */
export const listeningInodes = async (port: number, pid: number | "self" = "self"): Promise<Map<string, string>> => {
  const inodes = new Map<string, string>()
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0")
  for (const socket of await listeningSockets(pid)) {
    const dial = socket.hexPort === hexPort ? loopback.get(socket.address) : undefined
    if (dial !== undefined) inodes.set(socket.inode, dial)
  }
  return inodes
}

/**
 * Descriptors read at most per scan of a sandbox's sockets: a sandbox can hold millions (a process
 * per task, each with its own descriptor limit), and a scan runs on the server's behalf; sockets
 * behind the first this many are not seen, which only the sandbox itself can bring about.
 */
export const maxScannedDescriptors = 262_144

/** Links read at once: enough to keep a scan moving, few enough to leave libuv's threads to others. */
const readlinkBatch = 16

/**
 * The inodes of the sockets that `pids` hold open (none for a process that is gone or not ours to
 * read). The links are read a few at a time, process after process, and at most
 * `maxScannedDescriptors` of them: the cost of a scan is bounded whatever the sandbox opened.
 */
export const heldSocketInodes = async (pids: ReadonlyArray<number>): Promise<Set<string>> => {
  const held = new Set<string>()
  let budget = maxScannedDescriptors
  for (const pid of pids) {
    if (budget <= 0) break
    const fds = await NodeFs.readdir(`/proc/${pid}/fd`).catch(() => [] as Array<string>)
    const count = Math.min(fds.length, budget)
    budget -= count
    for (let at = 0; at < count; at += readlinkBatch) {
      const links = await Promise.all(
        fds
          .slice(at, Math.min(at + readlinkBatch, count))
          .map((fd) => NodeFs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => ""))
      )
      for (const link of links) {
        const match = /^socket:\[(\d+)\]$/.exec(link)
        if (match !== null) held.add(match[1]!)
      }
    }
  }
  return held
}

/** The address that reaches a socket of `inodes` that is in `held`, if one is. */
export const heldListener = (held: ReadonlySet<string>, inodes: ReadonlyMap<string, string>): string | undefined => {
  for (const [inode, dial] of inodes) if (held.has(inode)) return dial
  return undefined
}

/**
 * The TCP ports (IPv4 and IPv6, on any address) on which one of `pids` holds a listening socket
 * (`held`: the inodes of the sockets they hold), ascending. Each network namespace the processes
 * are in is read once; a socket counts only when one of them holds it, so a sandbox sharing the
 * machine's network sees none of the machine's.
 */
export const listeningPorts = async (
  pids: ReadonlyArray<number>,
  held: ReadonlySet<string>
): Promise<Array<number>> => {
  if (held.size === 0) return []
  /** One process in each network namespace, whose `/proc/<pid>/net` tables are that namespace's. */
  const namespaces = new Map<string, number>()
  for (const pid of pids) {
    const net = await namespaceOf(pid, "net")
    if (net !== undefined && !namespaces.has(net)) namespaces.set(net, pid)
  }
  const ports = new Set<number>()
  for (const pid of namespaces.values())
    for (const socket of await listeningSockets(pid))
      if (held.has(socket.inode)) ports.add(parseInt(socket.hexPort, 16))
  return Array.from(ports).sort((a, b) => a - b)
}
