import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"

/** A spawned process group: its leader and a promise of its exit. */
export interface Group {
  readonly child: NodeChildProcess.ChildProcess
  readonly exited: Promise<number>
}

/** Signals a whole process group; a group that is already gone is not an error. */
export const signalGroup = (child: NodeChildProcess.ChildProcess, signal: NodeJS.Signals): void => {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // already gone
    }
  }
}

export interface SpawnSpec {
  readonly file: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  readonly stdin?: string | undefined
  /** Descriptors the process gets as 3, 4, … */
  readonly fds?: ReadonlyArray<number> | undefined
  /** The uid and gid the process runs as (the server must be root). */
  readonly uid?: number | undefined
  readonly gid?: number | undefined
}

const O_CLOEXEC = 0o2000000

/**
 * Descriptors this process inherited without close-on-exec (from whatever started the server: a
 * shell, a CI runner): every child would inherit them too, and a sandbox must get none of them.
 * Node opens its own descriptors close-on-exec, so these are read once, at the first spawn.
 */
let leaked: ReadonlyArray<number> | undefined

const leakedDescriptors = (): ReadonlyArray<number> => {
  if (leaked !== undefined) return leaked
  const found: Array<number> = []
  try {
    for (const name of NodeFs.readdirSync("/proc/self/fdinfo")) {
      const fd = Number(name)
      if (!Number.isInteger(fd) || fd < 3) continue
      const info = NodeFs.readFileSync(`/proc/self/fdinfo/${fd}`, "utf8")
      const flags = /^flags:\s+([0-7]+)/m.exec(info)?.[1]
      if (flags !== undefined && (parseInt(flags, 8) & O_CLOEXEC) === 0) found.push(fd)
    }
  } catch {
    // no /proc here: nothing known to cover
  }
  leaked = found
  return found
}

let devNull: number | undefined

/**
 * The `stdio` of a child: its own three, then `fds` as 3, 4, …, and /dev/null over every leaked
 * descriptor of this process, so that the child inherits none of them.
 */
type StdioEntry = NodeChildProcess.IOType | "ipc" | number

export const childStdio = (
  own: readonly [NodeChildProcess.IOType, NodeChildProcess.IOType, NodeChildProcess.IOType],
  fds: ReadonlyArray<StdioEntry> = []
): Array<StdioEntry> => {
  const stdio: Array<StdioEntry> = [...own, ...fds]
  const covered = leakedDescriptors().filter((fd) => fd >= stdio.length)
  if (covered.length === 0) return stdio
  devNull ??= NodeFs.openSync("/dev/null", "r+")
  const last = Math.max(...covered)
  for (let fd = stdio.length; fd <= last; fd++) stdio.push(covered.includes(fd) ? devNull : "ignore")
  return stdio
}

/** How much of a command's output is kept: its last 10 MiB. */
export const maxOutput = 10 * 1024 * 1024

/**
 * The last `limit` bytes of a stream, with how many bytes before them were dropped; memory stays
 * bounded whatever the process prints.
 */
export class Tail {
  private readonly chunks: Array<Buffer> = []
  private size = 0
  dropped = 0

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.size > this.limit) {
      const first = this.chunks[0]!
      const excess = this.size - this.limit
      if (first.length <= excess) {
        this.chunks.shift()
        this.size -= first.length
        this.dropped += first.length
      } else {
        this.chunks[0] = first.subarray(excess)
        this.size -= excess
        this.dropped += excess
      }
    }
  }

  /** The kept bytes as text, after a line saying how much was cut when anything was. */
  text(): string {
    const kept = Buffer.concat(this.chunks).toString("utf8")
    return this.dropped === 0 ? kept : `${cutNotice(this.dropped, this.size)}${kept}`
  }
}

/** The line that replaces output that was cut. */
export const cutNotice = (dropped: number, kept: number): string =>
  `[output cut by the local server: the first ${dropped} bytes were dropped, the last ${kept} bytes follow]\n`

/**
 * Runs a process in its own group and collects its stdout (stderr is merged into it by the
 * wrapper the caller chooses), keeping at most the last `maxOutput` bytes. Interruption kills the
 * group. A spawn failure ends with exit code -1 and the error text, as the daemon answers.
 */
export const collect = (
  spec: SpawnSpec,
  track: (group: Group) => () => void
): Effect.Effect<{ readonly exitCode: number; readonly output: string }> =>
  Effect.async((resume) => {
    const tail = new Tail(maxOutput)
    let child: NodeChildProcess.ChildProcess
    try {
      child = NodeChildProcess.spawn(spec.file, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: childStdio([spec.stdin === undefined ? "ignore" : "pipe", "pipe", "ignore"], spec.fds),
        ...(spec.uid === undefined ? {} : { uid: spec.uid, gid: spec.gid ?? spec.uid })
      })
    } catch (error) {
      resume(Effect.succeed({ exitCode: -1, output: String(error) }))
      return
    }
    let untrack = () => {}
    const exited = new Promise<number>((resolve) => {
      child.once("close", (code, signal) => resolve(code ?? (signal === null ? -1 : 128 + signalNumber(signal))))
    })
    child.once("error", (error) => {
      untrack()
      resume(Effect.succeed({ exitCode: -1, output: error.message }))
    })
    child.stdout?.on("data", (chunk: Buffer) => tail.push(chunk))
    if (spec.stdin !== undefined) {
      child.stdin?.on("error", () => {})
      child.stdin?.end(spec.stdin)
    }
    if (child.pid !== undefined) untrack = track({ child, exited })
    void exited.then((exitCode) => {
      untrack()
      resume(Effect.succeed({ exitCode, output: tail.text() }))
    })
    return Effect.sync(() => signalGroup(child, "SIGKILL"))
  })

const signalNumber = (signal: NodeJS.Signals): number => NodeOs.constants.signals[signal] ?? 0
