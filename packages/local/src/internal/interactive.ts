import * as NodeChildProcess from "node:child_process"
import * as NodeOs from "node:os"
import type * as NodeStream from "node:stream"
import { childStdio, type Group, signalGroup, type SpawnSpec } from "./spawn.js"

/**
 * A process of a sandbox the server talks to while it runs (a terminal's relay, an interpreter's
 * worker): its stdin and stdout are pipes (stderr is merged into stdout by the command's wrapper),
 * its exit is awaited, and it is tracked like every other process of the sandbox, so that stopping
 * the sandbox kills it.
 */
export interface Interactive {
  readonly stdin: NodeStream.Writable
  readonly stdout: NodeStream.Readable
  /** The exit code (128 + n after signal n; -1 when it could not start), once it has exited and its pipes are closed. */
  readonly exited: Promise<number>
  /** SIGKILL to its process group (what it started in other groups is the caller's to kill). */
  readonly killGroup: () => void
}

const signalNumber = (signal: NodeJS.Signals): number => NodeOs.constants.signals[signal] ?? 0

/** Starts `spec` in its own process group with piped stdin and stdout; `track` registers it with its sandbox. */
export const spawnInteractive = (spec: SpawnSpec, track: (group: Group) => () => void): Interactive => {
  const child = NodeChildProcess.spawn(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: childStdio(["pipe", "pipe", "ignore"], spec.fds),
    ...(spec.uid === undefined ? {} : { uid: spec.uid, gid: spec.gid ?? spec.uid })
  })
  let untrack = () => {}
  const exited = new Promise<number>((resolve) => {
    child.once("error", () => resolve(-1))
    child.once("close", (code, signal) => resolve(code ?? (signal === null ? -1 : 128 + signalNumber(signal))))
  })
  if (child.pid !== undefined) untrack = track({ child, exited })
  void exited.then(() => untrack())
  // A write to a process that is gone fails with EPIPE: its exit says the rest.
  child.stdin!.on("error", () => {})
  return {
    stdin: child.stdin!,
    stdout: child.stdout!,
    exited,
    killGroup: () => signalGroup(child, "SIGKILL")
  }
}
