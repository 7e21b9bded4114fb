import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
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
        stdio: [spec.stdin === undefined ? "ignore" : "pipe", "pipe", "ignore"]
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
