import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeUrl from "node:url"
import { resolveInstalled } from "./installedModule.js"
import { signalGroup } from "./spawn.js"

/** The home directory of a sandbox as its processes see it under `bwrap`. */
export const isolatedHome = "/home/daytona"

const nodeModulesOf = (path: string | undefined) => {
  const at = path?.indexOf("/node_modules/") ?? -1
  return path === undefined || at === -1 ? undefined : path.slice(0, at + "/node_modules".length)
}

/**
 * The server's own installation (its node_modules, with the bundled language server, and Node's
 * prefix) when the layout would hide it, i.e. when it lives under `/home` or `/tmp`: it is bound
 * back read-only at the same path, as it would be visible anywhere else on the machine.
 */
const hiddenInstallRoots: ReadonlyArray<string> = Array.from(
  new Set(
    [
      nodeModulesOf(NodeUrl.fileURLToPath(import.meta.url)),
      nodeModulesOf(resolveInstalled("effect/package.json")),
      nodeModulesOf(resolveInstalled("typescript-language-server/package.json")),
      NodePath.dirname(NodePath.dirname(process.execPath))
    ].filter(
      (path): path is string =>
        path !== undefined && (path.startsWith("/home/") || path.startsWith("/tmp/") || path === "/tmp")
    )
  )
)

/**
 * Daytona's layout: the machine read-only, `/home/daytona` and `/tmp` the sandbox's own, its own
 * `/dev`, `/proc` and PID namespace. The network namespace is shared, so a port a sandbox process
 * listens on is reachable on 127.0.0.1 for the preview proxy.
 */
export const layoutArgs = (home: string, tmp: string): ReadonlyArray<string> => [
  "--ro-bind",
  "/",
  "/",
  "--tmpfs",
  "/home",
  "--bind",
  home,
  isolatedHome,
  "--bind",
  tmp,
  "/tmp",
  ...hiddenInstallRoots.flatMap((path) => ["--ro-bind", path, path]),
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--chdir",
  isolatedHome,
  "--unshare-pid",
  "--die-with-parent"
]

/**
 * The namespace holder of a started sandbox: `bwrap` running `sleep infinity` as the namespace's
 * only long-lived process. Every command enters its namespaces, so background processes outlive
 * the command that started them; killing the holder ends them all.
 */
export interface Holder {
  readonly child: NodeChildProcess.ChildProcess
  /** Host pid of the process inside the namespaces, the target for `nsenter`. */
  readonly innerPid: number
  readonly exited: Promise<void>
}

/** How commands enter a holder: with `--user` when bwrap made a user namespace (not root). */
export interface Enter {
  readonly userNamespace: boolean
}

export const enterArgs = (holder: Holder, enter: Enter): ReadonlyArray<string> => [
  "--target",
  String(holder.innerPid),
  ...(enter.userNamespace ? ["--user", "--preserve-credentials"] : []),
  "--pid",
  "--mount",
  "--root",
  "--wd",
  "--"
]

/** Starts a holder; fails with the reason when bwrap cannot build the namespaces. */
export const startHolder = (home: string, tmp: string): Effect.Effect<Holder, string> =>
  Effect.async<Holder, string>((resume) => {
    let child: NodeChildProcess.ChildProcess
    try {
      child = NodeChildProcess.spawn(
        "bwrap",
        [...layoutArgs(home, tmp), "--info-fd", "3", "--", "/bin/sh", "-c", "echo ready && exec sleep infinity"],
        { detached: true, stdio: ["ignore", "pipe", "pipe", "pipe"] }
      )
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
      resume(Effect.succeed({ child, innerPid: Number(match[1]), exited }))
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

/** Ends a holder and, with it, every process in its namespace. */
export const stopHolder = (holder: Holder): Effect.Effect<void> =>
  Effect.suspend(() => {
    signalGroup(holder.child, "SIGKILL")
    return Effect.promise(() => holder.exited)
  })

const run = (file: string, args: ReadonlyArray<string>) =>
  new Promise<boolean>((resolve) =>
    NodeChildProcess.execFile(file, args, { timeout: 10_000 }, (error) => resolve(error === null))
  )

/**
 * Whether this machine can isolate sandboxes: bwrap builds the layout and `nsenter` can enter it
 * (as root directly, otherwise through bwrap's user namespace). `undefined` when it cannot.
 */
export const probe: Effect.Effect<Enter | undefined> = Effect.promise(async () => {
  const dir = await NodeFs.mkdtemp(NodePath.join(NodeOs.tmpdir(), "daytona-local-probe-"))
  try {
    const home = NodePath.join(dir, "home")
    const tmp = NodePath.join(dir, "tmp")
    await NodeFs.mkdir(home)
    await NodeFs.mkdir(tmp)
    const holder = await Effect.runPromise(Effect.either(startHolder(home, tmp)))
    if (holder._tag === "Left") return undefined
    try {
      for (const userNamespace of [false, true]) {
        const enter = { userNamespace }
        if (await run("nsenter", [...enterArgs(holder.right, enter), "/bin/sh", "-c", "test -d /home/daytona"]))
          return enter
      }
      return undefined
    } finally {
      await Effect.runPromise(stopHolder(holder.right))
    }
  } finally {
    await NodeFs.rm(dir, { recursive: true, force: true })
  }
})
