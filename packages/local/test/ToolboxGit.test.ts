import { assert, describe, it } from "@effect/vitest"
import { NotFoundError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const gitOnHost = (cwd: string, ...args: ReadonlyArray<string>) =>
  Effect.async<string>((resume) => {
    NodeChildProcess.execFile(
      "git",
      ["-c", "user.name=host", "-c", "user.email=host@example.com", "-c", "init.defaultBranch=main", ...args],
      { cwd },
      (error, stdout, stderr) => resume(error === null ? Effect.succeed(stdout) : Effect.die(new Error(stderr)))
    )
  })

describe("toolbox git through the SDK", () => {
  it.live("init, add, commit, status, branches, checkout and history on a repository made in the sandbox", () =>
    Effect.gen(function* () {
      const { sandbox, home } = yield* sdkSandbox()
      const git = sandbox.git
      const init = yield* sandbox.process.executeCommand("git init -b main repo")
      assert.strictEqual(init.exitCode, 0, init.result)
      yield* sandbox.fs.uploadFiles([
        { source: "one\n", destination: "repo/a.txt" },
        { source: "two\n", destination: "repo/dir/b.txt" }
      ])
      const fresh = yield* git.status("repo")
      assert.strictEqual(fresh.currentBranch, "main")
      assert.deepStrictEqual(
        fresh.fileStatus.map((f) => [f.name, f.staging, f.worktree]),
        [
          ["a.txt", "Untracked", "Untracked"],
          ["dir/b.txt", "Untracked", "Untracked"]
        ]
      )
      assert.deepStrictEqual(yield* git.history("repo"), [])

      yield* git.add("repo", ["a.txt"])
      const staged = yield* git.status("repo")
      assert.deepStrictEqual(staged.fileStatus[0], {
        name: "a.txt",
        staging: "Added",
        worktree: "Unmodified",
        extra: ""
      })
      const { sha } = yield* git.commit("repo", "first\n\nbody", "Ada", "ada@example.com")
      assert.match(sha, /^[0-9a-f]{40}$/)
      const empty = yield* git.commit("repo", "empty", "Ada", "ada@example.com", { allowEmpty: true })
      const log = yield* git.history("repo")
      assert.deepStrictEqual(
        log.map((c) => [c.hash, c.author, c.email, c.message]),
        [
          [empty.sha, "Ada", "ada@example.com", "empty"],
          [sha, "Ada", "ada@example.com", "first\n\nbody"]
        ]
      )

      yield* NodeFsWrite(NodePath.join(home, "repo/a.txt"), "changed\n")
      const modified = yield* git.status("repo")
      assert.deepStrictEqual(modified.fileStatus[0], {
        name: "a.txt",
        staging: "Unmodified",
        worktree: "Modified",
        extra: ""
      })
      assert.deepStrictEqual([modified.branchPublished, modified.ahead, modified.behind], [false, 0, 0])

      yield* git.createBranch("repo", "feature")
      assert.strictEqual((yield* git.status("repo")).currentBranch, "feature")
      assert.deepStrictEqual(yield* git.branches("repo"), ["feature", "main"])
      yield* git.add("repo", ["."])
      yield* git.commit("repo", "on feature", "Ada", "ada@example.com")
      yield* git.checkoutBranch("repo", "main")
      assert.strictEqual((yield* git.status("repo")).currentBranch, "main")
      assert.strictEqual(
        yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, "repo/a.txt"), "utf8")),
        "one\n"
      )
      yield* git.deleteBranch("repo", "feature")
      assert.deepStrictEqual(yield* git.branches("repo"), ["main"])
    }).pipe(Effect.scoped)
  )

  it.live("clone from a local bare repository, push and pull; git failures carry git's message", () =>
    Effect.gen(function* () {
      const { sandbox, dir, home } = yield* sdkSandbox()
      const git = sandbox.git
      const origin = NodePath.join(dir, "origin.git")
      const seed = NodePath.join(dir, "seed")
      yield* Effect.promise(() => NodeFs.mkdir(seed))
      yield* gitOnHost(dir, "init", "--bare", "-b", "main", origin)
      yield* gitOnHost(seed, "init", "-b", "main")
      yield* Effect.promise(() => NodeFs.writeFile(NodePath.join(seed, "README.md"), "hello\n"))
      yield* gitOnHost(seed, "add", ".")
      yield* gitOnHost(seed, "commit", "-m", "seed")
      yield* gitOnHost(seed, "branch", "dev")
      yield* gitOnHost(seed, "push", origin, "main", "dev")
      const seedHead = (yield* gitOnHost(seed, "rev-parse", "HEAD")).trim()

      yield* git.clone(origin, "clone")
      const cloned = yield* git.status("clone")
      assert.deepStrictEqual(
        [cloned.currentBranch, cloned.branchPublished, cloned.ahead, cloned.behind],
        ["main", true, 0, 0]
      )
      assert.strictEqual(
        yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, "clone/README.md"), "utf8")),
        "hello\n"
      )

      yield* git.clone(`file://${origin}`, "clone-dev", { branch: "dev" })
      assert.strictEqual((yield* git.status("clone-dev")).currentBranch, "dev")
      yield* git.clone(origin, "clone-at", { commitId: seedHead })
      assert.strictEqual((yield* git.history("clone-at"))[0]!.hash, seedHead)

      yield* NodeFsWrite(NodePath.join(home, "clone/new.txt"), "new\n")
      yield* git.add("clone", ["new.txt"])
      yield* git.commit("clone", "add new", "Ada", "ada@example.com")
      assert.strictEqual((yield* git.status("clone")).ahead, 1)
      yield* git.push("clone", { username: "ada", password: "s3cret-token" })
      assert.strictEqual((yield* git.status("clone")).ahead, 0)
      yield* git.pull("clone-dev")
      yield* gitOnHost(seed, "pull", origin, "main")

      const exists = yield* failureOf(git.clone(origin, "clone"))
      assert.include(exists.message, "already exists")
      const notRepo = yield* failureOf(git.status("."))
      assert.instanceOf(notRepo, ValidationError)
      assert.include(notRepo.message, "not a git repository")
      const missing = yield* failureOf(git.status("nowhere"))
      assert.instanceOf(missing, NotFoundError)
      const badClone = yield* failureOf(
        git.clone(NodePath.join(dir, "missing.git"), "other", { username: "ada", password: "s3cret-token" })
      )
      assert.instanceOf(badClone, ValidationError)
      assert.include(badClone.message, "git clone failed")
      assert.notInclude(badClone.message, "s3cret-token")
      const badCheckout = yield* failureOf(git.checkoutBranch("clone", "no-such-branch"))
      assert.include(badCheckout.message, "no-such-branch")
    }).pipe(Effect.scoped)
  )
})

const NodeFsWrite = (path: string, text: string) => Effect.promise(() => NodeFs.writeFile(path, text))
