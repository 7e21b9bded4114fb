import * as NodeChildProcess from "node:child_process"
import type * as NodeNet from "node:net"
import { childStdio } from "./spawn.js"

/**
 * A small shell that outlives the server only to end its sandboxes. It waits for end of file on
 * a pipe whose other end only the server holds, which the kernel closes however the server ends
 * (`SIGKILL` included), and then ends every process in the server's control groups: frozen first
 * so that nothing forks meanwhile, killed, thawed so that the kills land, and again until each
 * group is empty; then removes the groups.
 *
 * It exists because the parent-death signal does not reach a sandbox under a root server: the
 * inner bubblewrap changes its uid, which clears it, and its parent (the outer bubblewrap, root
 * without capabilities) may not signal it. Without it, a killed server's sandboxes ran on until
 * the next server's start-up sweep.
 */
const script = `
while read -r _; do :; done
for base in "$@"; do
  for dir in "$base"/*/; do
    [ -d "$dir" ] || continue
    [ -e "$dir/freezer.state" ] && echo FROZEN > "$dir/freezer.state"
    [ -e "$dir/cgroup.freeze" ] && echo 1 > "$dir/cgroup.freeze"
    [ -e "$dir/cgroup.kill" ] && echo 1 > "$dir/cgroup.kill"
    round=0
    while [ $round -lt 200 ]; do
      pids=$(cat "$dir/cgroup.procs" 2>/dev/null)
      [ -n "$pids" ] && kill -9 $pids
      [ -e "$dir/freezer.state" ] && echo THAWED > "$dir/freezer.state"
      [ -e "$dir/cgroup.freeze" ] && echo 0 > "$dir/cgroup.freeze"
      [ -z "$pids" ] && break
      sleep 0.05
      round=$((round + 1))
    done
    rmdir "$dir"
  done
  rmdir "$base"
done
exit 0
`

/** The running reaper of one server. */
export interface Reaper {
  /**
   * Ends the reaper after a clean shutdown: it then finds the groups the server removed and has
   * nothing left to do.
   */
  readonly release: () => void
}

/**
 * Starts the reaper of the control-group directories `bases` (each holding one group per
 * sandbox; in v1 the freezer's first). It has a session of its own, so a terminal's signals to
 * the server's process group leave it, and it does not keep the server's event loop alive.
 */
export const start = (bases: ReadonlyArray<string>): Reaper => {
  const child = NodeChildProcess.spawn("/bin/sh", ["-c", script, "daytona-local-reaper", ...bases], {
    stdio: childStdio(["pipe", "ignore", "ignore"]),
    detached: true,
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" }
  })
  child.on("error", () => undefined)
  child.stdin?.on("error", () => undefined)
  child.unref()
  ;(child.stdin as NodeNet.Socket | null)?.unref()
  return {
    release: () => {
      child.stdin?.end()
    }
  }
}
