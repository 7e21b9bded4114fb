import * as NodeChildProcess from "node:child_process"
import * as Effect from "effect/Effect"
import { type Holder, type Launch, programs } from "./bwrap.js"
import { findExecutable } from "./executables.js"
import { childStdio, signalGroup } from "./spawn.js"

/**
 * A network of its own for a sandbox that may reach the outside: the sandbox's network namespace
 * (made by bubblewrap) gets a `tap0` interface whose traffic `slirp4netns` carries out through
 * ordinary sockets of the machine, as user-mode NAT. From inside, `10.0.2.2` would be the
 * machine's loopback and is refused (`--disable-host-loopback`), `10.0.2.3` answers DNS with the
 * machine's resolvers, and `127.0.0.1` is the sandbox's own: another sandbox's or the machine's
 * loopback services, and the machine's abstract Unix sockets, are out of reach.
 *
 * `slirp4netns` reads what the sandbox sends, so it runs with the least it needs: it enters the
 * namespace, opens the tap device, then moves into an empty mount namespace of its own with only
 * `CAP_NET_BIND_SERVICE` left (`--enable-sandbox`) under a seccomp filter (`--enable-seccomp`). It
 * is started in the sandbox's control group (`launch`), so the memory and CPU its connections take
 * are the sandbox's, with at most {@link maxDescriptors} descriptors. It ends with the sandbox, and
 * with the server: it watches a socket only the server holds (`--exit-fd`).
 */

/** The sandbox's side of the network, as `slirp4netns --configure` sets it up. */
export const resolverInside = "10.0.2.3"

/** What `/etc/resolv.conf` says in a sandbox with a network of its own. */
export const resolvConf = `nameserver ${resolverInside}\n`

/** A running `slirp4netns` for one sandbox. */
export interface UserNetwork {
  /** Ends it (SIGKILL) and waits until it has. */
  readonly close: Effect.Effect<void>
  readonly exited: Promise<void>
}

/** Where `slirp4netns` is on this machine (searched in `PATH`), or `undefined`. */
export const find = (searchPath: string = process.env["PATH"] ?? "/usr/bin:/bin"): string | undefined =>
  findExecutable("slirp4netns", searchPath.split(":"))

/** The descriptors one `slirp4netns` may hold: about one per connection of its sandbox. */
export const maxDescriptors = 4096

/** How long `slirp4netns` may take to set up the interface before the start fails. */
const readyMillis = 10_000

/**
 * Gives the holder's network namespace its interface and way out. A root server lets
 * `slirp4netns` enter the namespace directly; another user's enters the sandbox's user namespace
 * first (which that user owns).
 */
export const attach = (
  program: string,
  holder: Holder,
  asRoot: boolean,
  launch: Launch
): Effect.Effect<UserNetwork, string> =>
  Effect.async<UserNetwork, string>((resume) => {
    const pid = String(holder.innerPid)
    let child: NodeChildProcess.ChildProcess
    try {
      const command = launch([
        programs.prlimit,
        `--nofile=${maxDescriptors}:${maxDescriptors}`,
        "--",
        program,
        "--configure",
        "--mtu=65520",
        "--disable-host-loopback",
        "--enable-sandbox",
        "--enable-seccomp",
        "--ready-fd=3",
        "--exit-fd=4",
        ...(asRoot ? [] : [`--userns-path=/proc/${pid}/ns/user`]),
        pid,
        "tap0"
      ])
      child = NodeChildProcess.spawn(command.file, command.args, {
        detached: true,
        stdio: childStdio(["ignore", "ignore", "pipe"], ["pipe", "pipe"]),
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }
      })
    } catch (error) {
      resume(Effect.fail(String(error)))
      return
    }
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()))
    let stderr = ""
    let settled = false
    const close = Effect.suspend(() => {
      signalGroup(child, "SIGKILL")
      return Effect.promise(() => exited)
    })
    const fail = (reason: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signalGroup(child, "SIGKILL")
      resume(Effect.fail(reason))
    }
    const timer = setTimeout(() => fail(`slirp4netns did not set up the network within ${readyMillis} ms`), readyMillis)
    child.once("error", (error) => fail(error.message))
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderr.length < 4096) stderr += chunk.toString("utf8")
    })
    const ready = child.stdio[3] as NodeJS.ReadableStream | null
    ready?.once("data", () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(Effect.succeed({ close, exited }))
    })
    const lines = () =>
      stderr
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("WARNING"))
    void exited.then(() => fail(`slirp4netns ended: ${lines().slice(-3).join("; ") || "no reason given"}`))
    return Effect.sync(() => fail("interrupted"))
  })
