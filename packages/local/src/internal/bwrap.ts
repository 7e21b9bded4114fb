import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { findExecutable } from "./executables.js"
import { resolveInstalled } from "./installedModule.js"
import type { Mount } from "./sandboxPath.js"
import { childStdio, signalGroup } from "./spawn.js"

/**
 * Sandboxes under bubblewrap. Each started sandbox has a holder: bwrap building the sandbox's
 * namespaces (user, mount, PID, IPC, UTS, and network when it is cut off) around `sleep infinity`.
 * Commands enter those namespaces with `nsenter` and drop every capability with `setpriv` before
 * running, so background processes outlive the command that started them, and killing the holder
 * ends them all (the kernel kills a PID namespace with its first process).
 *
 * Inside, the sandbox's root is uid 0 mapped to an unprivileged id of the machine: the server's
 * user, or (when the server runs as root) a uid of the sandbox's own. Nothing of the machine is
 * visible but its system directories (read-only) and the language runtimes.
 */

/** The home directory of a sandbox as its processes see it. */
export const isolatedHome = "/home/daytona"

/** A read-only path of the machine in the sandbox: bound at the same path, or a link as on the machine. */
interface SystemEntry {
  readonly path: string
  readonly link?: string | undefined
}

/**
 * The directories the server's own helper programs are taken from. A command's environment is
 * the caller's to choose, so it never decides which program runs on the machine: the helpers are
 * named by absolute path, found here once, and started with {@link hostEnv}.
 */
const hostSearchPath = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

/** The absolute path of a helper program of the machine (its bare name when none is found). */
export const hostProgram = (name: string): string => findExecutable(name, hostSearchPath) ?? name

/** The helpers that place a command in a sandbox, by absolute path. */
export const programs = {
  bwrap: hostProgram("bwrap"),
  nsenter: hostProgram("nsenter"),
  setpriv: hostProgram("setpriv"),
  prlimit: hostProgram("prlimit"),
  env: hostProgram("env")
}

/** The whole environment of the helpers that run on the machine: none of the caller's variables. */
export const hostEnv: Readonly<Record<string, string>> = { PATH: hostSearchPath.join(":") }

const systemRoots = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]

const within = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`)

const realpath = (path: string | undefined) => {
  if (path === undefined) return undefined
  try {
    return NodeFsSync.realpathSync(path)
  } catch {
    return undefined
  }
}

/** Package directories of the language servers the local server ships (run inside sandboxes). */
const bundledPackages = (): Array<string | undefined> =>
  ["typescript-language-server/package.json", "typescript/package.json"].map((id) => {
    const manifest = resolveInstalled(id)
    return manifest === undefined ? undefined : realpath(NodePath.dirname(manifest))
  })

/**
 * What a sandbox sees of the machine, computed once: the system directories, Node's and pyenv's
 * installations when they live elsewhere, the bundled language servers, and the file behind
 * `/etc/resolv.conf` when it is a link out of `/etc`.
 */
export const systemEntries: ReadonlyArray<SystemEntry> = (() => {
  const entries: Array<SystemEntry> = []
  for (const path of systemRoots) {
    try {
      const status = NodeFsSync.lstatSync(path)
      if (status.isSymbolicLink()) entries.push({ path, link: NodeFsSync.readlinkSync(path) })
      else if (status.isDirectory()) entries.push({ path })
    } catch {
      // not on this machine
    }
  }
  const covered = (path: string) => entries.some((entry) => within(path, entry.path) || within(entry.path, path))
  const runtimes = [
    realpath(NodePath.dirname(NodePath.dirname(process.execPath))),
    realpath(process.env["PYENV_ROOT"]),
    ...bundledPackages(),
    realpath("/etc/resolv.conf")
  ]
  for (const path of runtimes) if (path !== undefined && path !== "/" && !covered(path)) entries.push({ path })
  return entries
})()

/** The read-only mounts of `systemEntries` (directories and links), for the toolbox's view of a sandbox. */
export const systemMounts: ReadonlyArray<Mount> = systemEntries
  .filter((entry) => {
    try {
      return !NodeFsSync.statSync(entry.path).isFile()
    } catch {
      return false
    }
  })
  .map((entry) => ({ inside: entry.path, host: entry.path, writable: false }))

/** Directories to create (0755) before binding paths several levels deep. */
const ancestors = (paths: ReadonlyArray<string>, existing: ReadonlyArray<string>): Array<string> => {
  const out: Array<string> = []
  for (const path of paths) {
    for (let dir = NodePath.dirname(path); dir !== "/"; dir = NodePath.dirname(dir)) {
      if (!out.includes(dir) && !existing.some((e) => within(dir, e))) out.push(dir)
    }
  }
  return out.sort((a, b) => a.length - b.length)
}

const systemArgs = (): Array<string> => {
  const paths = systemEntries.map((entry) => entry.path)
  const made = ancestors(paths, [])
  return [
    ...made.flatMap((dir) => ["--perms", "0755", "--dir", dir]),
    ...systemEntries.flatMap((entry) =>
      entry.link === undefined ? ["--ro-bind", entry.path, entry.path] : ["--symlink", entry.link, entry.path]
    )
  ]
}

/** How one sandbox is laid out. */
export interface Layout {
  /** Host directories bound as `/home/daytona` and `/tmp`. */
  readonly home: string
  readonly tmp: string
  /** `none`: its own network namespace, with only a loopback interface. */
  readonly network: "host" | "none"
  readonly hostname: string
  /** Paths covered by an empty tmpfs (the server's data directory, if a system path holds it). */
  readonly hide: ReadonlyArray<string>
  /** Directories bound writable at `inside`, each an open descriptor the holder gets as `fd`. */
  readonly volumes?: ReadonlyArray<{ readonly fd: number; readonly inside: string }> | undefined
  /** Files made read-only at `inside` from the content of an open descriptor the holder gets as `fd`. */
  readonly files?: ReadonlyArray<{ readonly fd: number; readonly inside: string }> | undefined
}

/** The descriptor numbers a holder's extra descriptors get (after stdio and the info pipe). */
export const firstExtraFd = 4

/** Where the outer bwrap (server as root) binds the i-th volume for the inner one. */
const stagedVolume = (i: number) => `${staging}/volume-${i}`

/** The sandbox's namespaces and mounts, with `/home/daytona` and `/tmp` bound from `sources`. */
const sandboxArgs = (
  layout: Layout,
  sources: { readonly home: string; readonly tmp: string; readonly staged: boolean }
): Array<string> => [
  "--unshare-user",
  "--uid",
  "0",
  "--gid",
  "0",
  "--unshare-pid",
  "--unshare-ipc",
  "--unshare-uts",
  "--hostname",
  layout.hostname,
  "--unshare-cgroup-try",
  ...(layout.network === "none" ? ["--unshare-net"] : []),
  "--die-with-parent",
  "--perms",
  "0755",
  "--dir",
  "/home",
  "--bind",
  sources.home,
  isolatedHome,
  "--bind",
  sources.tmp,
  "/tmp",
  // After /tmp and the home: a runtime that lives under /tmp (a clone checked out there) stays visible.
  ...systemArgs(),
  ...(layout.volumes ?? []).flatMap((volume, i) =>
    sources.staged ? ["--bind", stagedVolume(i), volume.inside] : ["--bind-fd", String(volume.fd), volume.inside]
  ),
  ...(layout.files ?? []).flatMap((file) => ["--perms", "0644", "--ro-bind-data", String(file.fd), file.inside]),
  "--proc",
  "/proc",
  "--dev",
  "/dev",
  ...layout.hide.flatMap((path) => ["--tmpfs", path]),
  "--remount-ro",
  "/",
  "--chdir",
  isolatedHome
]

const staging = "/.daytona-local"

/**
 * As root, bwrap must not run as root (root inside would be root outside), but the unprivileged
 * sandbox uid cannot reach the sandbox's directories under a private data directory. An outer
 * bwrap, still root, binds what the inner one needs at paths that uid can reach, then drops to it.
 */
const outerArgs = (layout: Layout, identity: { readonly uid: number; readonly gid: number }): Array<string> => [
  "--die-with-parent",
  "--tmpfs",
  "/",
  ...systemArgs(),
  "--bind",
  "/proc",
  "/proc",
  "--dev",
  "/dev",
  "--perms",
  "0755",
  "--dir",
  "/tmp",
  "--perms",
  "0755",
  "--dir",
  staging,
  "--bind",
  layout.home,
  `${staging}/home`,
  "--bind",
  layout.tmp,
  `${staging}/tmp`,
  ...(layout.volumes ?? []).flatMap((volume, i) => ["--bind-fd", String(volume.fd), stagedVolume(i)]),
  "--",
  programs.setpriv,
  `--reuid=${identity.uid}`,
  `--regid=${identity.gid}`,
  "--clear-groups",
  "--"
]

/** The command that starts a holder for `layout`; `identity` is the sandbox's uid when the server is root. */
export const holderCommand = (
  layout: Layout,
  identity: { readonly uid: number; readonly gid: number } | undefined
): Array<string> => {
  const inner = [
    programs.bwrap,
    ...sandboxArgs(
      layout,
      identity === undefined
        ? { home: layout.home, tmp: layout.tmp, staged: false }
        : { home: `${staging}/home`, tmp: `${staging}/tmp`, staged: true }
    ),
    "--info-fd",
    "3",
    "--",
    "/bin/sh",
    "-c",
    "echo ready && exec sleep infinity"
  ]
  return identity === undefined ? inner : [programs.bwrap, ...outerArgs(layout, identity), ...inner]
}

/** A started sandbox's holder. */
export interface Holder {
  readonly child: NodeChildProcess.ChildProcess
  /** Host pid of the sandbox's first process, the target for `nsenter`. */
  readonly innerPid: number
  /** The sandbox's PID namespace, as `/proc/<pid>/ns/pid` names it. */
  readonly pidNamespace: string
  readonly ownNetwork: boolean
  readonly ownCgroupNamespace: boolean
  readonly exited: Promise<void>
}

/** How a command is started on the machine: the launcher that places it in the sandbox's group. */
export type Launch = (argv: ReadonlyArray<string>) => { readonly file: string; readonly args: ReadonlyArray<string> }

/** A launch that starts the command as it is. */
export const directLaunch: Launch = (argv) => ({ file: argv[0]!, args: argv.slice(1) })

/** Starts a holder; fails with the reason when bwrap cannot build the namespaces. */
export const startHolder = (
  layout: Layout,
  identity: { readonly uid: number; readonly gid: number } | undefined,
  launch: Launch,
  /** Descriptors of this process the holder gets as `firstExtraFd`, `firstExtraFd + 1`, … */
  extraFds: ReadonlyArray<number> = []
): Effect.Effect<Holder, string> =>
  Effect.async<Holder, string>((resume) => {
    let child: NodeChildProcess.ChildProcess
    const command = launch(holderCommand(layout, identity))
    try {
      child = NodeChildProcess.spawn(command.file, command.args, {
        detached: true,
        stdio: childStdio(["ignore", "pipe", "pipe"], ["pipe", ...extraFds]),
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" }
      })
    } catch (error) {
      resume(Effect.fail(String(error)))
      return
    }
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()))
    let info = ""
    let ready = ""
    let stderr = ""
    let settled = false
    const fail = (reason: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signalGroup(child, "SIGKILL")
      resume(Effect.fail(reason))
    }
    const timer = setTimeout(() => fail("bwrap did not start within 10 s"), 10_000)
    // The pid comes first; "ready" comes from inside once the layout is complete, so no command
    // enters a half-built namespace.
    const check = () => {
      const match = /"child-pid"\s*:\s*(\d+)/.exec(info)
      if (match === null || !ready.includes("ready") || settled) return
      settled = true
      clearTimeout(timer)
      const innerPid = Number(match[1])
      void NodeFs.readlink(`/proc/${innerPid}/ns/pid`).then(
        (pidNamespace) =>
          resume(
            Effect.succeed({
              child,
              innerPid,
              pidNamespace,
              ownNetwork: layout.network === "none",
              ownCgroupNamespace: /"cgroup-namespace"/.test(info),
              exited
            })
          ),
        () => {
          signalGroup(child, "SIGKILL")
          resume(Effect.fail("the sandbox's first process is gone"))
        }
      )
    }
    child.once("error", (error) => fail(error.message))
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.stdout?.on("data", (chunk: Buffer) => {
      ready += chunk.toString("utf8")
      check()
    })
    const infoStream = child.stdio[3] as NodeJS.ReadableStream | null
    infoStream?.on("data", (chunk: Buffer) => {
      info += chunk.toString("utf8")
      check()
    })
    void exited.then(() => fail(`bwrap exited: ${stderr.trim() || "no namespace"}`))
    return Effect.sync(() => fail("interrupted"))
  })

/** Ends a holder and, with it, every process in its namespaces. */
export const stopHolder = (holder: Holder): Effect.Effect<void> =>
  Effect.suspend(() => {
    signalGroup(holder.child, "SIGKILL")
    return Effect.promise(() => holder.exited)
  })

/** Becomes the sandbox's uid first, when the server is root. */
const asSandboxUser = (identity: { readonly uid: number; readonly gid: number } | undefined) =>
  identity === undefined
    ? []
    : [programs.setpriv, `--reuid=${identity.uid}`, `--regid=${identity.gid}`, "--clear-groups", "--"]

/**
 * The command prefix that runs `argv` inside a holder's namespaces as the sandbox's root, with no
 * capability at all and no way to gain one.
 */
export const enterCommand = (
  holder: Holder,
  identity: { readonly uid: number; readonly gid: number } | undefined
): Array<string> => [
  ...asSandboxUser(identity),
  programs.nsenter,
  "--target",
  String(holder.innerPid),
  "--user",
  "--preserve-credentials",
  "--mount",
  "--pid",
  "--ipc",
  "--uts",
  ...(holder.ownCgroupNamespace ? ["--cgroup"] : []),
  ...(holder.ownNetwork ? ["--net"] : []),
  "--root",
  "--wd",
  "--",
  programs.setpriv,
  "--bounding-set=-all",
  "--inh-caps=-all",
  "--no-new-privs",
  "--"
]

/**
 * The command prefix that runs a trusted program of the server in the sandbox's network namespace
 * only (its file system and processes stay the machine's): root enters it directly, an ordinary
 * user through the sandbox's user namespace.
 */
export const networkCommand = (holder: Holder, asRoot: boolean): Array<string> => [
  programs.nsenter,
  "--target",
  String(holder.innerPid),
  ...(asRoot ? [] : ["--user", "--preserve-credentials"]),
  "--net",
  "--"
]

const run = (file: string, args: ReadonlyArray<string>) =>
  new Promise<string | undefined>((resolve) =>
    NodeChildProcess.execFile(file, args, { timeout: 10_000 }, (error, _stdout, stderr) =>
      resolve(error === null ? undefined : `${String(stderr).trim() || error.message}`)
    )
  )

/** The uid (and gid) a probe runs as when the server is root: nobody's. */
const probeIdentity = { uid: 65534, gid: 65534 }

/**
 * Starts a throwaway holder (in a temporary directory, as nobody when the server is root) and
 * runs `check` against it: the answer is why this machine cannot do what `check` tries, or
 * `undefined` when it can.
 */
export const probeHolder = (
  network: Layout["network"],
  check: (
    holder: Holder,
    identity: { readonly uid: number; readonly gid: number } | undefined
  ) => Promise<string | undefined>
): Effect.Effect<string | undefined> =>
  Effect.promise(async () => {
    if (process.platform !== "linux") return "bubblewrap isolation is Linux-only"
    const dir = await NodeFs.mkdtemp(NodePath.join(NodeOs.tmpdir(), "daytona-local-probe-"))
    const asRoot = process.geteuid?.() === 0
    const identity = asRoot ? probeIdentity : undefined
    try {
      const home = NodePath.join(dir, "home")
      const tmp = NodePath.join(dir, "tmp")
      await NodeFs.mkdir(home)
      await NodeFs.mkdir(tmp)
      if (identity !== undefined) {
        await NodeFs.chown(home, identity.uid, identity.gid)
        await NodeFs.chown(tmp, identity.uid, identity.gid)
      }
      const layout: Layout = { home, tmp, network, hostname: "probe", hide: [] }
      const holder = await Effect.runPromise(Effect.either(startHolder(layout, identity, directLaunch)))
      if (holder._tag === "Left") return holder.left
      try {
        return await check(holder.right, identity)
      } finally {
        await Effect.runPromise(stopHolder(holder.right))
      }
    } finally {
      await NodeFs.rm(dir, { recursive: true, force: true })
    }
  })

/**
 * Whether this machine can isolate sandboxes: bwrap builds the layout, `nsenter` enters it and
 * `setpriv` drops every capability. Answers why not when it cannot.
 */
export const probe: Effect.Effect<string | undefined> = probeHolder("host", (holder, identity) => {
  const command = [...enterCommand(holder, identity), "/bin/sh", "-c", "test -d /home/daytona && touch /tmp/ok"]
  return run(command[0]!, command.slice(1))
})
