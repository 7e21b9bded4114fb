import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

describe("toolbox git extras through the SDK", () => {
  it.scopedLive("init, configureUser, get/setConfig, remotes, reset and restore", () =>
    Effect.gen(function* () {
      const { sandbox, home } = yield* sdkSandbox()
      const git = sandbox.git
      yield* git.init("repo", { initialBranch: "trunk" })
      assert.strictEqual((yield* git.status("repo")).currentBranch, "trunk")
      yield* git.init("bare.git", { bare: true })
      assert.strictEqual(
        (yield* sandbox.process.executeCommand("git -C bare.git rev-parse --is-bare-repository")).result.trim(),
        "true"
      )

      yield* git.configureUser("Ada", "ada@example.com", { scope: "local", path: "repo" })
      assert.deepStrictEqual(yield* git.getConfig("user.name", { scope: "local", path: "repo" }), Option.some("Ada"))
      assert.deepStrictEqual(yield* git.getConfig("user.name"), Option.none())
      assert.deepStrictEqual(
        yield* git.getConfig("user.email", { scope: "local", path: "repo" }),
        Option.some("ada@example.com")
      )
      assert.deepStrictEqual(yield* git.getConfig("user.signingkey", { path: "repo" }), Option.none())
      yield* git.setConfig("core.autocrlf", "input")
      assert.deepStrictEqual(yield* git.getConfig("core.autocrlf"), Option.some("input"))
      const badKey = yield* failureOf(git.setConfig("--evil", "x"))
      assert.include(badKey.message, "--evil")

      yield* git.remoteAdd("repo", "origin", "https://example.com/a.git")
      assert.deepStrictEqual(yield* git.remotes("repo"), [{ name: "origin", url: "https://example.com/a.git" }])
      const twice = yield* failureOf(git.remoteAdd("repo", "origin", "https://example.com/b.git"))
      assert.strictEqual(twice._tag, "ConflictError")
      yield* git.remoteAdd("repo", "origin", "https://example.com/b.git", { overwrite: true })
      assert.deepStrictEqual(yield* git.remoteGet("repo", "origin"), Option.some("https://example.com/b.git"))
      assert.deepStrictEqual(yield* git.remoteGet("repo", "nope"), Option.none())
      const withPassword = yield* failureOf(git.remoteAdd("repo", "x", "https://user:hunter2@example.com/a.git"))
      assert.notInclude(withPassword.message, "hunter2")

      yield* sandbox.fs.uploadFiles([{ source: "one\n", destination: "repo/a.txt" }])
      yield* git.add("repo", ["a.txt"])
      const first = yield* git.commit("repo", "first", "Ada", "ada@example.com")
      yield* sandbox.fs.uploadFiles([{ source: "two\n", destination: "repo/a.txt" }])
      yield* git.add("repo", ["a.txt"])
      const second = yield* git.commit("repo", "second", "Ada", "ada@example.com")

      yield* sandbox.fs.uploadFiles([{ source: "dirty\n", destination: "repo/a.txt" }])
      yield* git.restore("repo", ["a.txt"])
      assert.strictEqual(
        yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, "repo/a.txt"), "utf8")),
        "two\n"
      )
      yield* git.restore("repo", ["a.txt"], { source: first.sha })
      assert.strictEqual(
        yield* Effect.promise(() => NodeFs.readFile(NodePath.join(home, "repo/a.txt"), "utf8")),
        "one\n"
      )
      yield* git.restore("repo", ["a.txt"])

      yield* git.reset("repo", { mode: "soft", target: first.sha })
      const soft = yield* git.status("repo")
      assert.deepStrictEqual(
        soft.fileStatus.map((f) => [f.name, f.staging]),
        [["a.txt", "Modified"]]
      )
      yield* git.reset("repo", { files: ["a.txt"] })
      assert.strictEqual((yield* git.status("repo")).fileStatus[0]?.staging, "Unmodified")
      yield* git.reset("repo", { mode: "hard", target: second.sha })
      assert.deepStrictEqual((yield* git.status("repo")).fileStatus, [])
    })
  )

  it.scopedLive("clone with depth, push and pull with a remote and a branch", () =>
    Effect.gen(function* () {
      const { sandbox, home } = yield* sdkSandbox()
      const git = sandbox.git
      const script = [
        "git init -q -b main origin-repo",
        "cd origin-repo",
        "git -c user.name=a -c user.email=a@x commit -q --allow-empty -m one",
        "git -c user.name=a -c user.email=a@x commit -q --allow-empty -m two",
        "git -c user.name=a -c user.email=a@x commit -q --allow-empty -m three",
        "cd .. && git clone -q --bare origin-repo upstream.git"
      ].join(" && ")
      const made = yield* sandbox.process.executeCommand(`sh -c '${script}'`)
      assert.strictEqual(made.exitCode, 0, made.result)
      const url = `file://${NodePath.join(home, "upstream.git")}`
      yield* git.clone(url, "shallow", { depth: 1 })
      assert.strictEqual((yield* git.history("shallow")).length, 1)

      yield* git.clone(url, "full")
      yield* git.configureUser("Bo", "bo@example.com", { path: "full" })
      yield* git.createBranch("full", "feature")
      yield* sandbox.fs.uploadFiles([{ source: "f\n", destination: "full/f.txt" }])
      yield* git.add("full", ["f.txt"])
      yield* git.commit("full", "feature work", "Bo", "bo@example.com")
      yield* git.remoteAdd("full", "mirror", url)
      yield* git.push("full", { remote: "mirror", branch: "feature" })
      const branches = yield* sandbox.process.executeCommand("git -C upstream.git branch --format=%(refname:short)")
      assert.include(branches.result, "feature")

      yield* git.clone(url, "other")
      yield* git.pull("other", { remote: "origin", branch: "feature" })
      assert.include(
        (yield* git.history("other")).map((c) => c.message),
        "feature work"
      )
    })
  )
})
