import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"

/**
 * Control groups for sandboxes: every process of a sandbox (the isolation's holder, each command,
 * every child they start, `setsid` or not) is placed in the sandbox's group, which holds its
 * memory, process and CPU limits and lets the engine kill all of them at once. cgroup v2 is used
 * when a subtree with the memory and pids controllers is delegated to this process; otherwise
 * the v1 hierarchies that can be written; otherwise none (the engine falls back to rlimits).
 */

/** What a sandbox may use. */
export interface Limits {
  readonly memoryBytes: number
  /** Tasks (processes and threads). */
  readonly tasks: number
  readonly cpus: number
}

/** Which limits the groups enforce. */
export interface Controllers {
  readonly memory: boolean
  readonly pids: boolean
  readonly cpu: boolean
  /** Whether a group's processes can be frozen (v1 `freezer`, v2 `cgroup.freeze`). */
  readonly freezer: boolean
}

/** The control group of one sandbox. */
export interface SandboxGroup {
  /** The files a process writes its pid into to join the group (one per hierarchy). */
  readonly procsFiles: ReadonlyArray<string>
  readonly setLimits: (limits: Limits) => Promise<void>
  readonly pids: () => Promise<Array<number>>
  /** Kills every process in the group and waits (bounded) until it is empty. */
  readonly kill: () => Promise<void>
  readonly remove: () => Promise<void>
  /**
   * Freezes (or thaws) every process of the group and waits (bounded) until the kernel reports it
   * done; undefined when this machine gives the group no freezer.
   */
  readonly freeze: ((frozen: boolean) => Promise<void>) | undefined
}

/** Control groups as this machine offers them. */
export interface Support {
  readonly version: "v2" | "v1"
  readonly controllers: Controllers
  readonly create: (name: string, limits: Limits) => Promise<SandboxGroup>
  /** The directories holding the server's groups, one per hierarchy (v1's freezer first). */
  readonly bases: ReadonlyArray<string>
  /** Removes the server's own groups (after every sandbox was stopped). */
  readonly cleanup: () => Promise<void>
}

const read = (path: string) => NodeFs.readFile(path, "utf8").catch(() => undefined)

const write = async (path: string, value: string) => {
  await NodeFs.writeFile(path, value)
}

const pause = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

const parsePids = (text: string | undefined) =>
  (text ?? "")
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number)

const killAll = (pids: ReadonlyArray<number>) => {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
}

/** Waits until `empty` answers true, at most `millis`. */
const until = async (empty: () => Promise<boolean>, millis: number) => {
  const deadline = Date.now() + millis
  while (Date.now() < deadline) {
    if (await empty()) return true
    await pause(10)
  }
  return empty()
}

/**
 * How long a freeze or a thaw may take. The kernel finishes freezing a group only once every task
 * has stopped, and on a loaded machine a group whose processes keep forking took over 3 s (a
 * pause answered as failed in CI).
 */
const freezeMillis = 15_000

const rmdirWhenEmpty = async (dir: string) => {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await NodeFs.rmdir(dir)
      return
    } catch (cause) {
      const code = (cause as { code?: unknown }).code
      if (code === "ENOENT") return
      if (code !== "EBUSY") return
      await pause(20)
    }
  }
}

interface Mount {
  readonly point: string
  readonly type: string
  readonly superOptions: ReadonlyArray<string>
}

const mounts = async (): Promise<Array<Mount>> => {
  const text = (await read("/proc/self/mountinfo")) ?? ""
  return text
    .split("\n")
    .filter((line) => line.includes(" - "))
    .map((line) => {
      const [before, after] = line.split(" - ") as [string, string]
      const fields = before.split(" ")
      const [type, , superOptions] = after.split(" ")
      return {
        point: (fields[4] ?? "").replace(/\\040/g, " "),
        type: type ?? "",
        superOptions: (superOptions ?? "").split(",")
      }
    })
}

/** This process's group path in each hierarchy: `""` for v2, controller names for v1. */
const ownGroups = async (): Promise<Map<string, string>> => {
  const text = (await read("/proc/self/cgroup")) ?? ""
  const groups = new Map<string, string>()
  for (const line of text.split("\n")) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line)
    if (match === null) continue
    for (const controller of match[1]!.split(",")) groups.set(controller, match[2]!)
  }
  return groups
}

/** The server's own group: its pid and a random part, since one process may run several servers. */
const baseName = (pid: number) => `daytona-local-${pid}-${Math.random().toString(36).slice(2, 10)}`

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (cause) {
    return (cause as { code?: unknown }).code === "EPERM"
  }
}

/**
 * Thaws a group a server left paused (cgroup v1's `freezer.state`, v2's `cgroup.freeze`): a frozen
 * process holds a SIGKILL pending and never ends, so its group could be neither emptied nor removed,
 * and every later probe of the hierarchy waited on it. Only a file the group has is written.
 */
const thaw = async (dir: string) => {
  for (const [file, value] of [
    ["freezer.state", "THAWED"],
    ["cgroup.freeze", "0"]
  ] as const) {
    await NodeFs.writeFile(NodePath.join(dir, file), value, { flag: "r+" }).catch(() => undefined)
  }
}

/**
 * Kills what is left in the groups of servers that are gone (thawed first), and removes them.
 *
 * @internal
 */
export const sweep = async (parent: string): Promise<void> => {
  const names = await NodeFs.readdir(parent).catch(() => [] as Array<string>)
  for (const name of names) {
    const match = /^daytona-local-(\d+)(?:-[a-z0-9]+)?$/.exec(name)
    if (match === null || Number(match[1]) === process.pid || isAlive(Number(match[1]))) continue
    const base = NodePath.join(parent, name)
    for (const child of await NodeFs.readdir(base, { withFileTypes: true }).catch(() => [])) {
      if (!child.isDirectory()) continue
      const dir = NodePath.join(base, child.name)
      await thaw(dir)
      for (let round = 0; round < 20; round++) {
        const pids = parsePids(await read(NodePath.join(dir, "cgroup.procs")))
        if (pids.length === 0) break
        killAll(pids)
        await pause(10)
      }
      await rmdirWhenEmpty(dir)
    }
    await rmdirWhenEmpty(base)
  }
}

/** Whether a process of ours can join a group through `procsFiles` (tried with a short-lived shell). */
const canJoin = (procsFiles: ReadonlyArray<string>) =>
  new Promise<boolean>((resolve) => {
    const script = 'for f in "$@"; do echo $$ > "$f" || exit 1; done'
    NodeChildProcess.execFile("/bin/sh", ["-c", script, "sh", ...procsFiles], { timeout: 5000 }, (error) =>
      resolve(error === null)
    )
  })

// ---------------------------------------------------------------------------------------------
// v2
// ---------------------------------------------------------------------------------------------

/** A sandbox group in a cgroup v2 directory (exported for tests against a plain directory). */
export const v2Group = (dir: string, controllers: Controllers): SandboxGroup => {
  const setLimits = async (limits: Limits) => {
    if (controllers.memory) {
      await write(NodePath.join(dir, "memory.max"), String(limits.memoryBytes))
      await write(NodePath.join(dir, "memory.swap.max"), "0").catch(() => undefined)
    }
    if (controllers.pids) await write(NodePath.join(dir, "pids.max"), String(limits.tasks))
    if (controllers.cpu) await write(NodePath.join(dir, "cpu.max"), `${Math.round(limits.cpus * 100_000)} 100000`)
  }
  const pids = async () => parsePids(await read(NodePath.join(dir, "cgroup.procs")))
  const empty = async () => (await pids()).length === 0
  const kill = async () => {
    if (await empty()) return
    const killed = await write(NodePath.join(dir, "cgroup.kill"), "1").then(
      () => true,
      () => false
    )
    if (!killed) {
      await write(NodePath.join(dir, "cgroup.freeze"), "1").catch(() => undefined)
      for (let round = 0; round < 20 && !(await empty()); round++) {
        killAll(await pids())
        await pause(10)
      }
      await write(NodePath.join(dir, "cgroup.freeze"), "0").catch(() => undefined)
    }
    await until(empty, 3000)
  }
  const freeze = async (frozen: boolean) => {
    await write(NodePath.join(dir, "cgroup.freeze"), frozen ? "1" : "0")
    const done = await until(
      async () =>
        /^frozen ([01])$/m.exec((await read(NodePath.join(dir, "cgroup.events"))) ?? "")?.[1] === (frozen ? "1" : "0"),
      freezeMillis
    )
    if (done) return
    // A pause that failed leaves nothing half frozen behind it.
    if (frozen) await write(NodePath.join(dir, "cgroup.freeze"), "0").catch(() => undefined)
    throw new Error(`the control group did not ${frozen ? "freeze" : "thaw"} within ${freezeMillis / 1000} s`)
  }
  return {
    procsFiles: [NodePath.join(dir, "cgroup.procs")],
    setLimits,
    pids,
    kill,
    remove: () => rmdirWhenEmpty(dir),
    freeze
  }
}

const detectV2 = async (
  mountList: ReadonlyArray<Mount>,
  own: Map<string, string>,
  name: string
): Promise<Support | string> => {
  const mount = mountList.find((m) => m.type === "cgroup2")
  const path = own.get("")
  if (mount === undefined || path === undefined) return "no cgroup v2 hierarchy"
  const listOf = async (file: string) => ((await read(file)) ?? "").trim().split(/\s+/).filter(Boolean)
  // The nearest group of ours whose children get memory and pids, and in which we may create one.
  let dir = NodePath.join(mount.point, path)
  while (dir.startsWith(mount.point)) {
    const enabled = await listOf(NodePath.join(dir, "cgroup.subtree_control"))
    if (enabled.includes("memory") && enabled.includes("pids")) {
      const base = NodePath.join(dir, name)
      const made = await NodeFs.mkdir(base).then(
        () => true,
        (cause) => (cause as { code?: unknown }).code === "EEXIST"
      )
      if (made) {
        const available = await listOf(NodePath.join(base, "cgroup.controllers"))
        const wanted = ["memory", "pids", ...(available.includes("cpu") ? ["cpu"] : [])]
        const enabledHere = await write(
          NodePath.join(base, "cgroup.subtree_control"),
          wanted.map((c) => `+${c}`).join(" ")
        ).then(
          () => true,
          () => false
        )
        const probe = NodePath.join(base, "probe")
        await NodeFs.mkdir(probe).catch(() => undefined)
        const joins = enabledHere && (await canJoin([NodePath.join(probe, "cgroup.procs")]))
        await rmdirWhenEmpty(probe)
        if (joins) {
          await sweep(dir)
          const controllers = { memory: true, pids: true, cpu: wanted.includes("cpu"), freezer: true }
          return {
            version: "v2",
            controllers,
            bases: [base],
            create: async (sandbox, limits) => {
              const group = NodePath.join(base, sandbox)
              await NodeFs.mkdir(group).catch((cause) => {
                if ((cause as { code?: unknown }).code !== "EEXIST") throw cause
              })
              const created = v2Group(group, controllers)
              await created.kill()
              await created.setLimits(limits)
              return created
            },
            cleanup: () => rmdirWhenEmpty(base)
          }
        }
        await rmdirWhenEmpty(base)
      }
    }
    if (dir === mount.point) break
    dir = NodePath.dirname(dir)
  }
  return "no delegated cgroup v2 subtree with the memory and pids controllers"
}

// ---------------------------------------------------------------------------------------------
// v1
// ---------------------------------------------------------------------------------------------

interface V1Dirs {
  readonly memory?: string | undefined
  readonly pids?: string | undefined
  readonly cpu?: string | undefined
  readonly freezer?: string | undefined
}

const v1Group = (dirs: V1Dirs): SandboxGroup => {
  const all = Array.from(new Set(Object.values(dirs).filter((d): d is string => d !== undefined)))
  const setLimits = async (limits: Limits) => {
    if (dirs.memory !== undefined) {
      const bytes = String(limits.memoryBytes)
      const memsw = NodePath.join(dirs.memory, "memory.memsw.limit_in_bytes")
      const hasSwap = (await read(memsw)) !== undefined
      // memsw must stay at or above the memory limit: raise in the order that keeps it so.
      if (hasSwap) await write(memsw, bytes).catch(() => undefined)
      await write(NodePath.join(dirs.memory, "memory.limit_in_bytes"), bytes)
      if (hasSwap) await write(memsw, bytes)
    }
    if (dirs.pids !== undefined) await write(NodePath.join(dirs.pids, "pids.max"), String(limits.tasks))
    if (dirs.cpu !== undefined) {
      await write(NodePath.join(dirs.cpu, "cpu.cfs_period_us"), "100000")
      await write(NodePath.join(dirs.cpu, "cpu.cfs_quota_us"), String(Math.round(limits.cpus * 100_000)))
    }
  }
  const pids = async () => {
    const found = new Set<number>()
    for (const dir of all) for (const pid of parsePids(await read(NodePath.join(dir, "cgroup.procs")))) found.add(pid)
    return Array.from(found)
  }
  const empty = async () => (await pids()).length === 0
  const freezer = dirs.freezer
  const kill = async () => {
    if (await empty()) return
    if (freezer !== undefined) {
      await write(NodePath.join(freezer, "freezer.state"), "FROZEN").catch(() => undefined)
      await until(async () => ((await read(NodePath.join(freezer, "freezer.state"))) ?? "").trim() === "FROZEN", 1000)
    }
    for (let round = 0; round < 20 && !(await empty()); round++) {
      killAll(await pids())
      if (round === 0 && freezer !== undefined)
        await write(NodePath.join(freezer, "freezer.state"), "THAWED").catch(() => undefined)
      await pause(10)
    }
    await until(empty, 3000)
  }
  return {
    procsFiles: all.map((dir) => NodePath.join(dir, "cgroup.procs")),
    setLimits,
    pids,
    kill,
    remove: async () => {
      for (const dir of all) await rmdirWhenEmpty(dir)
    },
    freeze:
      freezer === undefined
        ? undefined
        : async (frozen) => {
            const state = NodePath.join(freezer, "freezer.state")
            const wanted = frozen ? "FROZEN" : "THAWED"
            // FREEZING lasts until every task has stopped; writing the state again makes the
            // kernel try the tasks that were not stopped yet (ones forked meanwhile, say).
            const done = await until(async () => {
              await write(state, wanted)
              return ((await read(state)) ?? "").trim() === wanted
            }, freezeMillis)
            if (done) return
            // A pause that failed leaves nothing half frozen behind it.
            if (frozen) await write(state, "THAWED").catch(() => undefined)
            throw new Error(`the control group did not reach ${wanted} within ${freezeMillis / 1000} s`)
          }
  }
}

const detectV1 = async (
  mountList: ReadonlyArray<Mount>,
  own: Map<string, string>,
  name: string
): Promise<Support | string> => {
  const bases: Record<string, string> = {}
  const parents: Array<string> = []
  // The freezer first: its sweep thaws what a dead server left paused, so the others can empty.
  for (const controller of ["freezer", "memory", "pids", "cpu"]) {
    const mount = mountList.find((m) => m.type === "cgroup" && m.superOptions.includes(controller))
    const path = own.get(controller)
    if (mount === undefined || path === undefined) continue
    const parent = NodePath.join(mount.point, path)
    const base = NodePath.join(parent, name)
    const made = await NodeFs.mkdir(base).then(
      () => true,
      (cause) => (cause as { code?: unknown }).code === "EEXIST"
    )
    if (!made) continue
    const probe = NodePath.join(base, "probe")
    await NodeFs.mkdir(probe).catch(() => undefined)
    const joins = await canJoin([NodePath.join(probe, "cgroup.procs")])
    await rmdirWhenEmpty(probe)
    if (!joins) {
      await rmdirWhenEmpty(base)
      continue
    }
    bases[controller] = base
    if (!parents.includes(parent)) {
      parents.push(parent)
      await sweep(parent)
    }
  }
  if (bases.memory === undefined && bases.pids === undefined) return "no writable cgroup v1 memory or pids hierarchy"
  const controllers = {
    memory: bases.memory !== undefined,
    pids: bases.pids !== undefined,
    cpu: bases.cpu !== undefined,
    freezer: bases.freezer !== undefined
  }
  return {
    version: "v1",
    controllers,
    bases: Object.values(bases),
    create: async (sandbox, limits) => {
      const dirs: Record<string, string> = {}
      for (const [controller, base] of Object.entries(bases)) {
        const dir = NodePath.join(base, sandbox)
        await NodeFs.mkdir(dir).catch((cause) => {
          if ((cause as { code?: unknown }).code !== "EEXIST") throw cause
        })
        dirs[controller] = dir
      }
      const group = v1Group(dirs)
      await group.kill()
      await group.setLimits(limits)
      return group
    },
    cleanup: async () => {
      for (const base of Object.values(bases)) await rmdirWhenEmpty(base)
    }
  }
}

/**
 * Finds how this machine lets the server group processes: delegated cgroup v2, else writable
 * cgroup v1 hierarchies. Answers why not when neither works.
 */
export const detect = async (): Promise<Support | string> => {
  if (process.platform !== "linux") return "control groups are Linux-only"
  const [mountList, own] = await Promise.all([mounts(), ownGroups()])
  const name = baseName(process.pid)
  const v2 = await detectV2(mountList, own, name)
  if (typeof v2 !== "string") return v2
  const v1 = await detectV1(mountList, own, name)
  if (typeof v1 !== "string") return v1
  return `${v2}; ${v1}`
}
