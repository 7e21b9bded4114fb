import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import {
  type FileStatus,
  type GitCommitInfo,
  type GitStatus,
  gitConfigScopes,
  gitResetModes
} from "@effect-daytona/sdk/ToolboxDto"
import * as Effect from "effect/Effect"
import { json } from "./http.js"
import type { SandboxRecord } from "./record.js"
import * as SandboxFs from "./sandboxFs.js"
import { badRequest, conflict, DaemonError } from "./daemonError.js"
import { inSandbox } from "./toolboxFs.js"
import { empty, type EndpointHandler, resolveSandboxPath, runInSandbox, serve } from "./toolboxRoute.js"

interface Credentials {
  readonly username?: string | undefined
  readonly password?: string | undefined
}

const separator = "\n\u0000daytona-git-stderr\u0000\n"

/** Runs `git "$@"` with stdout and stderr kept apart (stderr goes through a temporary file). */
const splitOutput = `e=$(mktemp) || exit 125; "$@" 2>"$e"; s=$?; printf '\\n\\000daytona-git-stderr\\000\\n'; cat "$e"; rm -f "$e"; exit $s`

/** Credentials reach git through a credential helper reading the environment: never in argv, URLs or logs. */
const credentialHelper =
  '!f() { test "$1" = get || exit 0; echo "username=$DAYTONA_GIT_USERNAME"; echo "password=$DAYTONA_GIT_PASSWORD"; }; f'

const tail = (text: string, secrets: ReadonlyArray<string>) => {
  let clean = text.trim()
  for (const secret of secrets) if (secret !== "") clean = clean.split(secret).join("***")
  const lines = clean.split("\n").filter((line) => !line.startsWith("hint:"))
  const joined = lines.slice(-8).join("\n")
  return joined.length > 1000 ? joined.slice(-1000) : joined
}

const git = (
  sandbox: SandboxRecord,
  cwd: string | undefined,
  args: ReadonlyArray<string>,
  options: { readonly credentials?: Credentials | undefined; readonly env?: Record<string, string> } = {}
) =>
  Effect.gen(function* () {
    const credentials = options.credentials
    const useCredentials = credentials?.password !== undefined && credentials.password !== ""
    const argv = [
      "/bin/sh",
      "-c",
      splitOutput,
      "sh",
      "git",
      "-c",
      "core.quotepath=false",
      "-c",
      "safe.directory=*",
      "-c",
      "advice.detachedHead=false",
      ...(useCredentials ? ["-c", "credential.helper=", "-c", `credential.helper=${credentialHelper}`] : []),
      ...args
    ]
    const env: Record<string, string> = {
      GIT_TERMINAL_PROMPT: "0",
      GIT_PAGER: "cat",
      LC_ALL: "C",
      ...options.env,
      ...(useCredentials
        ? {
            DAYTONA_GIT_USERNAME: credentials?.username || "git",
            DAYTONA_GIT_PASSWORD: credentials?.password ?? ""
          }
        : {})
    }
    const result = yield* runInSandbox(sandbox, argv, { cwd, env })
    const at = result.output.lastIndexOf(separator)
    const stdout = at === -1 ? result.output : result.output.slice(0, at)
    const stderr = at === -1 ? "" : result.output.slice(at + separator.length)
    if (result.exitCode === 0) return { stdout, stderr }
    const message = `git ${args[0] ?? ""} failed: ${tail(stderr || stdout, credentials?.password ? [credentials.password] : []) || `exit status ${result.exitCode}`}`
    return yield* /already exists|not an empty directory/i.test(stderr) ? conflict(message) : badRequest(message)
  })

/** The repository directory must exist before git runs in it. */
const repository = (sandbox: SandboxRecord, path: string) =>
  Effect.gen(function* () {
    const found = yield* inSandbox(sandbox, path, (view) => SandboxFs.stat(view, path))
    if (!found.status.isDirectory()) return yield* badRequest(`${path}: not a directory`)
    return path
  })

const statusNames: Record<string, string> = {
  ".": "Unmodified",
  " ": "Unmodified",
  M: "Modified",
  T: "Modified",
  A: "Added",
  D: "Deleted",
  R: "Renamed",
  C: "Copied",
  U: "Updated but unmerged",
  "?": "Untracked",
  "!": "Untracked"
}

/** Parses `git status --porcelain=v2 --branch -z`. */
export const parseStatus = (text: string): GitStatus => {
  const entries = text.split("\u0000")
  let currentBranch = ""
  let upstream = false
  let ahead = 0
  let behind = 0
  const files: Array<FileStatus> = []
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    if (entry.startsWith("# branch.head ")) currentBranch = entry.slice(14)
    else if (entry.startsWith("# branch.upstream ")) upstream = true
    else if (entry.startsWith("# branch.ab ")) {
      const match = /\+(\d+) -(\d+)/.exec(entry)
      if (match !== null) [ahead, behind] = [Number(match[1]), Number(match[2])]
    } else if (entry.startsWith("1 ") || entry.startsWith("u ")) {
      const fields = entry.split(" ")
      const name = fields.slice(entry.startsWith("1 ") ? 8 : 10).join(" ")
      const xy = fields[1] ?? ".."
      files.push({ name, staging: statusNames[xy[0]!] ?? xy[0]!, worktree: statusNames[xy[1]!] ?? xy[1]!, extra: "" })
    } else if (entry.startsWith("2 ")) {
      const fields = entry.split(" ")
      const xy = fields[1] ?? ".."
      const original = entries[++i] ?? ""
      files.push({
        name: fields.slice(9).join(" "),
        staging: statusNames[xy[0]!] ?? xy[0]!,
        worktree: statusNames[xy[1]!] ?? xy[1]!,
        extra: original
      })
    } else if (entry.startsWith("? ")) {
      files.push({ name: entry.slice(2), staging: "Untracked", worktree: "Untracked", extra: "" })
    }
  }
  return {
    currentBranch: currentBranch === "(detached)" ? "HEAD" : currentBranch,
    fileStatus: files,
    ahead,
    behind,
    branchPublished: upstream
  }
}

const clone: EndpointHandler<typeof ToolboxApi.cloneRepository> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    if (request.url === "" || request.path === "") return yield* badRequest("url and path are required")
    yield* resolveSandboxPath(sandbox, request.path, "write")
    const credentials = { username: request.username, password: request.password }
    const tls = request.insecure_skip_tls === true ? ["-c", "http.sslVerify=false"] : []
    yield* git(
      sandbox,
      undefined,
      [
        "clone",
        ...tls,
        ...(request.branch ? ["--branch", request.branch] : []),
        ...(request.depth === undefined ? [] : ["--depth", String(request.depth)]),
        "--",
        request.url,
        request.path
      ],
      { credentials }
    )
    if (request.commit_id) yield* git(sandbox, request.path, ["checkout", "--detach", request.commit_id, "--"])
    return empty(200)
  })

const status: EndpointHandler<typeof ToolboxApi.getStatus> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, query.path)
    const { stdout } = yield* git(sandbox, path, [
      "status",
      "--porcelain=v2",
      "--branch",
      "-z",
      "--untracked-files=all"
    ])
    return json(parseStatus(stdout))
  })

const add: EndpointHandler<typeof ToolboxApi.addFiles> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    if (request.files.length === 0) return yield* badRequest("files are required")
    yield* git(sandbox, path, ["add", "--", ...request.files])
    return empty(200)
  })

const commit: EndpointHandler<typeof ToolboxApi.commitChanges> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    const identity = {
      GIT_AUTHOR_NAME: request.author,
      GIT_AUTHOR_EMAIL: request.email,
      GIT_COMMITTER_NAME: request.author,
      GIT_COMMITTER_EMAIL: request.email
    }
    const allowEmpty = request.allow_empty === true ? ["--allow-empty"] : []
    yield* git(sandbox, path, ["commit", "--no-verify", ...allowEmpty, "-m", request.message], { env: identity })
    const { stdout } = yield* git(sandbox, path, ["rev-parse", "HEAD"])
    return json({ hash: stdout.trim() })
  })

const branches: EndpointHandler<typeof ToolboxApi.listBranches> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, query.path)
    const { stdout } = yield* git(sandbox, path, ["branch", "--format=%(refname:short)"])
    return json({ branches: stdout.split("\n").filter((line) => line !== "" && !line.startsWith("(")) })
  })

const createBranch: EndpointHandler<typeof ToolboxApi.createBranch> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    yield* git(sandbox, path, ["checkout", "-b", request.name])
    return empty(201)
  })

const deleteBranch: EndpointHandler<typeof ToolboxApi.deleteBranch> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    yield* git(sandbox, path, ["branch", "-D", "--", request.name])
    return empty(204)
  })

const checkout: EndpointHandler<typeof ToolboxApi.checkoutBranch> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    yield* git(sandbox, path, ["checkout", request.branch, "--"])
    return empty(200)
  })

const remote =
  (command: "push" | "pull"): EndpointHandler<typeof ToolboxApi.pushChanges | typeof ToolboxApi.pullChanges> =>
  (sandbox, { payload: request }) =>
    Effect.gen(function* () {
      const path = yield* repository(sandbox, request.path)
      const credentials = { username: request.username, password: request.password }
      const remoteName = request.remote ?? "origin"
      if (remoteName.startsWith("-") || (request.branch ?? "").startsWith("-"))
        return yield* badRequest("remote and branch must not start with -")
      const setUpstream = "set_upstream" in request ? request.set_upstream !== false : true
      const args =
        command === "push"
          ? ["push", ...(setUpstream ? ["--set-upstream"] : []), remoteName, request.branch ?? "HEAD"]
          : [
              "-c",
              "pull.rebase=false",
              "pull",
              ...(request.remote === undefined && request.branch === undefined
                ? []
                : [remoteName, ...(request.branch === undefined ? [] : [request.branch])])
            ]
      yield* git(sandbox, path, args, {
        credentials,
        env: {
          GIT_AUTHOR_NAME: "daytona",
          GIT_AUTHOR_EMAIL: "daytona@localhost",
          GIT_COMMITTER_NAME: "daytona",
          GIT_COMMITTER_EMAIL: "daytona@localhost"
        }
      })
      return empty(200)
    })

const history: EndpointHandler<typeof ToolboxApi.getCommitHistory> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, query.path)
    const log = yield* git(sandbox, path, ["log", "--format=%H%x1f%an%x1f%ae%x1f%aI%x1f%B%x1e"]).pipe(
      Effect.catchIf(
        (error): error is DaemonError =>
          // git: "your current branch 'main' does not have … commits yet": an empty history, not a failure.
          error instanceof DaemonError && error.message.includes("commits yet"),
        () => Effect.succeed({ stdout: "", stderr: "" })
      )
    )
    const commits = log.stdout
      .split("\u001e")
      .map((record) => record.replace(/^\n/, ""))
      .filter((record) => record !== "")
      .map((record): GitCommitInfo => {
        const [hash = "", author = "", email = "", timestamp = "", message = ""] = record.split("\u001f")
        return { hash, author, email, timestamp, message: message.replace(/\n+$/, "") }
      })
    return json(commits)
  })

const noOption = (what: string, value: string | undefined) =>
  value !== undefined && value.startsWith("-") ? badRequest(`${what} must not start with -`) : Effect.void

const init: EndpointHandler<typeof ToolboxApi.initRepository> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    if (request.path === "") return yield* badRequest("path is required")
    yield* resolveSandboxPath(sandbox, request.path, "write")
    yield* noOption("initial_branch", request.initial_branch)
    yield* git(sandbox, undefined, [
      "init",
      ...(request.bare === true ? ["--bare"] : []),
      ...(request.initial_branch ? ["--initial-branch", request.initial_branch] : []),
      "--",
      request.path
    ])
    return empty(201)
  })

const reset: EndpointHandler<typeof ToolboxApi.resetChanges> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    const mode = request.mode ?? "mixed"
    if (!(gitResetModes as ReadonlyArray<string>).includes(mode))
      return yield* badRequest(`invalid reset mode: ${mode} (one of ${gitResetModes.join(", ")})`)
    yield* noOption("target", request.target)
    const files = request.files ?? []
    if (files.length > 0 && mode !== "mixed") return yield* badRequest("files can only be reset in mixed mode")
    yield* git(
      sandbox,
      path,
      files.length > 0
        ? ["reset", "-q", request.target ?? "HEAD", "--", ...files]
        : ["reset", "-q", `--${mode}`, ...(request.target ? [request.target] : []), "--"]
    )
    return empty(200)
  })

const restore: EndpointHandler<typeof ToolboxApi.restoreFiles> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    if (request.files.length === 0) return yield* badRequest("files are required")
    yield* noOption("source", request.source)
    yield* git(sandbox, path, [
      "restore",
      ...(request.staged === true ? ["--staged"] : []),
      ...(request.staged === true && request.worktree === true ? ["--worktree"] : []),
      ...(request.source ? [`--source=${request.source}`] : []),
      "--",
      ...request.files
    ])
    return empty(200)
  })

const remoteName = /^[A-Za-z0-9._-]+$/

const addRemote: EndpointHandler<typeof ToolboxApi.addRemote> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, request.path)
    if (!remoteName.test(request.name) || request.name.startsWith("-"))
      return yield* badRequest(`invalid remote name: ${request.name}`)
    if (request.url === "" || request.url.startsWith("-")) return yield* badRequest("invalid remote url")
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(request.url))
      return yield* badRequest("remote urls must not hold credentials: use git credentials instead")
    const existing = yield* remotes(sandbox, path)
    if (existing.some((r) => r.name === request.name)) {
      if (request.overwrite !== true) return yield* conflict(`remote ${request.name} already exists`)
      yield* git(sandbox, path, ["remote", "set-url", "--", request.name, request.url])
    } else yield* git(sandbox, path, ["remote", "add", "--", request.name, request.url])
    if (request.fetch === true) yield* git(sandbox, path, ["fetch", "--", request.name])
    return empty(201)
  })

const remotes = (sandbox: SandboxRecord, path: string) =>
  Effect.map(git(sandbox, path, ["remote", "-v"]), ({ stdout }) => {
    const found = new Map<string, string>()
    for (const line of stdout.split("\n")) {
      const match = /^(\S+)\t(.+) \((fetch|push)\)$/.exec(line)
      if (match !== null && !found.has(match[1]!)) found.set(match[1]!, match[2]!)
    }
    return Array.from(found, ([name, url]) => ({ name, url }))
  })

const listRemotes: EndpointHandler<typeof ToolboxApi.listRemotes> = (sandbox, { query }) =>
  Effect.gen(function* () {
    const path = yield* repository(sandbox, query.path ?? "")
    return json({ remotes: yield* remotes(sandbox, path) })
  })

const configKey = /^[A-Za-z][A-Za-z0-9-]*(\.[^\s=]+)*\.[A-Za-z][A-Za-z0-9-]*$/

/** Where a configuration value is read or written: `--global` (default), `--system`, or a repository's `--local`. */
const configScope = (sandbox: SandboxRecord, scope: string | undefined, path: string | undefined) =>
  Effect.gen(function* () {
    const chosen = scope ?? "global"
    if (!(gitConfigScopes as ReadonlyArray<string>).includes(chosen))
      return yield* badRequest(`invalid scope: ${chosen} (one of ${gitConfigScopes.join(", ")})`)
    if (chosen !== "local") return { cwd: undefined, flag: `--${chosen}` }
    if (path === undefined || path === "") return yield* badRequest("path is required for the local scope")
    return { cwd: yield* repository(sandbox, path), flag: "--local" }
  })

const getConfig: EndpointHandler<typeof ToolboxApi.getGitConfig> = (sandbox, { query }) =>
  Effect.gen(function* () {
    if (!configKey.test(query.key)) return yield* badRequest(`invalid config key: ${query.key}`)
    const target = yield* configScope(sandbox, query.scope, query.path)
    const read = yield* git(sandbox, target.cwd, ["config", target.flag, "--get", "--", query.key]).pipe(
      Effect.map(({ stdout }) => ({ value: stdout.replace(/\n$/, "") })),
      Effect.catchIf(
        (error): error is DaemonError => error instanceof DaemonError && /exit status 1$/.test(error.message),
        () => Effect.succeed({})
      )
    )
    return json(read)
  })

const setConfig: EndpointHandler<typeof ToolboxApi.setGitConfig> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    if (!configKey.test(request.key)) return yield* badRequest(`invalid config key: ${request.key}`)
    const target = yield* configScope(sandbox, request.scope, request.path)
    yield* git(sandbox, target.cwd, ["config", target.flag, "--", request.key, request.value])
    return empty(200)
  })

const configureUser: EndpointHandler<typeof ToolboxApi.configureUser> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    if (request.name === "" || request.email === "") return yield* badRequest("name and email are required")
    const target = yield* configScope(sandbox, request.scope, request.path)
    yield* git(sandbox, target.cwd, ["config", target.flag, "--", "user.name", request.name])
    yield* git(sandbox, target.cwd, ["config", target.flag, "--", "user.email", request.email])
    return empty(200)
  })

/**
 * Stores credentials with git's `store` helper in the sandbox user's home. The values reach
 * `git credential approve` through the environment and a `printf` of the shell, never argv.
 */
const authenticate: EndpointHandler<typeof ToolboxApi.authenticate> = (sandbox, { payload: request }) =>
  Effect.gen(function* () {
    if (request.username === "" || request.password === "")
      return yield* badRequest("username and password are required")
    const host = request.host ?? "github.com"
    const protocol = request.protocol ?? "https"
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) return yield* badRequest(`invalid host: ${host}`)
    if (!/^[a-z][a-z0-9+.-]*$/.test(protocol)) return yield* badRequest(`invalid protocol: ${protocol}`)
    if (/[\n\u0000]/.test(request.username) || /[\n\u0000]/.test(request.password))
      return yield* badRequest("credentials must not contain newlines")
    yield* git(sandbox, undefined, ["config", "--global", "credential.helper", "store"])
    const result = yield* runInSandbox(
      sandbox,
      [
        "/bin/sh",
        "-c",
        `printf 'protocol=%s\\nhost=%s\\nusername=%s\\npassword=%s\\n\\n' "$P" "$H" "$DAYTONA_GIT_USERNAME" "$DAYTONA_GIT_PASSWORD" | git -c credential.helper=store credential approve`
      ],
      { env: { P: protocol, H: host, DAYTONA_GIT_USERNAME: request.username, DAYTONA_GIT_PASSWORD: request.password } }
    )
    if (result.exitCode !== 0)
      return yield* badRequest(`git credential approve failed: ${tail(result.output, [request.password])}`)
    return empty(200)
  })

/** The daemon's git routes, run with the `git` command line inside the sandbox. */
export const router = HttpRouter.empty.pipe(
  serve(ToolboxApi.cloneRepository, clone),
  serve(ToolboxApi.getStatus, status),
  serve(ToolboxApi.addFiles, add),
  serve(ToolboxApi.commitChanges, commit),
  serve(ToolboxApi.listBranches, branches),
  serve(ToolboxApi.createBranch, createBranch),
  serve(ToolboxApi.deleteBranch, deleteBranch),
  serve(ToolboxApi.checkoutBranch, checkout),
  serve(ToolboxApi.pushChanges, remote("push")),
  serve(ToolboxApi.pullChanges, remote("pull")),
  serve(ToolboxApi.getCommitHistory, history),
  serve(ToolboxApi.initRepository, init),
  serve(ToolboxApi.resetChanges, reset),
  serve(ToolboxApi.restoreFiles, restore),
  serve(ToolboxApi.addRemote, addRemote),
  serve(ToolboxApi.listRemotes, listRemotes),
  serve(ToolboxApi.getGitConfig, getConfig),
  serve(ToolboxApi.setGitConfig, setConfig),
  serve(ToolboxApi.configureUser, configureUser),
  serve(ToolboxApi.authenticate, authenticate)
)
