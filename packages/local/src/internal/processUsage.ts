import * as NodeFs from "node:fs/promises"

/**
 * What `/proc` says a set of processes uses: the CPU time they have spent and the memory they hold,
 * and the signals that stop and continue them when no control group can freeze them.
 */

/** Clock ticks per second of `/proc/<pid>/stat` (`USER_HZ`, 100 on every Linux Node supports). */
const ticksPerSecond = 100

/** CPU time (seconds, user and system) and resident memory (bytes) of some processes, summed. */
export interface Usage {
  readonly cpuSeconds: number
  readonly memoryBytes: number
}

const cpuSecondsOf = async (pid: number): Promise<number> => {
  const text = await NodeFs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => "")
  // The command name may hold spaces and parentheses: the fields start after its last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / ticksPerSecond : 0
}

const residentBytesOf = async (pid: number): Promise<number> => {
  const text = await NodeFs.readFile(`/proc/${pid}/status`, "utf8").catch(() => "")
  const kib = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text)?.[1]
  return kib === undefined ? 0 : Number(kib) * 1024
}

/** The summed usage of `pids` (a process that is gone counts for nothing). */
export const usageOf = async (pids: ReadonlyArray<number>): Promise<Usage> => {
  const each = await Promise.all(
    pids.map(async (pid) => ({ cpu: await cpuSecondsOf(pid), memory: await residentBytesOf(pid) }))
  )
  return {
    cpuSeconds: each.reduce((sum, p) => sum + p.cpu, 0),
    memoryBytes: each.reduce((sum, p) => sum + p.memory, 0)
  }
}

const signal = (pid: number, name: "SIGSTOP" | "SIGCONT") => {
  if (pid === process.pid || pid <= 1) return
  try {
    process.kill(pid, name)
  } catch {
    // gone
  }
}

const pause = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/**
 * Stops every process `list` finds with SIGSTOP, again until a listing finds none it has not
 * stopped (a process may fork while the others are being stopped). Fails when new processes keep
 * appearing.
 */
export const stopAll = async (list: () => Promise<ReadonlyArray<number>>): Promise<void> => {
  const stopped = new Set<number>()
  for (let round = 0; round < 50; round++) {
    const fresh = (await list()).filter((pid) => !stopped.has(pid))
    if (fresh.length === 0) return
    for (const pid of fresh) {
      signal(pid, "SIGSTOP")
      stopped.add(pid)
    }
    await pause(5)
  }
  throw new Error("the sandbox kept starting processes while they were being stopped")
}

/** Continues every process `list` finds with SIGCONT. */
export const continueAll = async (list: () => Promise<ReadonlyArray<number>>): Promise<void> => {
  for (const pid of await list()) signal(pid, "SIGCONT")
}
