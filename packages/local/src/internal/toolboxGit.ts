import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import * as HttpRouter from "@effect/platform/HttpRouter"
import type { FileStatus, GitCommitInfo, GitStatus } from "@effect-daytona/sdk/ToolboxDto"
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
      ["clone", ...tls, ...(request.branch ? ["--branch", request.branch] : []), "--", request.url, request.path],
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
      const args =
        command === "push" ? ["push", "--set-upstream", "origin", "HEAD"] : ["-c", "pull.rebase=false", "pull"]
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
          error instanceof DaemonError && /does not have any commits/.test(error.message),
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
  serve(ToolboxApi.getCommitHistory, history)
)
