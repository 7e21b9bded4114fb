import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as FileSystem from "../src/FileSystem.js"
import * as Git from "../src/Git.js"
import { makeToolbox, target } from "./support/FakeToolbox.js"

describe("Git extras", () => {
  it.effect("init, reset, restore, remotes, config, user and credentials send the daemon's bodies", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox((request) => {
        if (request.route === "/git/remotes" && request.method === "GET")
          return { status: 200, json: { remotes: [{ name: "origin", url: "https://x/r.git" }] } }
        if (request.route === "/git/config" && request.method === "GET")
          return { status: 200, json: request.query["key"] === "user.name" ? { value: "Ada" } : {} }
        return { status: request.route === "/git/init" || request.route === "/git/remotes" ? 201 : 200 }
      })
      const git = Git.make(target, fake.toolbox)
      yield* git.init("repo", { bare: true, initialBranch: "trunk" })
      yield* git.reset("repo", { mode: "hard", target: "HEAD~1" })
      yield* git.restore("repo", ["a.txt"], { staged: true, source: "main" })
      yield* git.remoteAdd("repo", "mirror", "https://x/m.git", { fetch: true })
      assert.deepStrictEqual(yield* git.remotes("repo"), [{ name: "origin", url: "https://x/r.git" }])
      assert.deepStrictEqual(yield* git.remoteGet("repo", "origin"), Option.some("https://x/r.git"))
      assert.deepStrictEqual(yield* git.remoteGet("repo", "nope"), Option.none())
      yield* git.setConfig("core.autocrlf", "input", { scope: "global" })
      assert.deepStrictEqual(yield* git.getConfig("user.name"), Option.some("Ada"))
      assert.deepStrictEqual(yield* git.getConfig("user.email"), Option.none())
      yield* git.configureUser("Ada", "ada@example.com", { path: "repo" })
      yield* git.dangerouslyAuthenticate("ada", Redacted.make("tok-123"), { host: "git.example.com" })
      yield* git.push("repo", { remote: "mirror", branch: "feature" })
      yield* git.clone("https://x/r.git", "shallow", { depth: 1 })
      const requests = yield* fake.requests
      const sent = requests.map((r) => [r.method, r.route, r.json ?? r.query])
      assert.deepStrictEqual(sent, [
        ["POST", "/git/init", { path: "repo", bare: true, initial_branch: "trunk" }],
        ["POST", "/git/reset", { path: "repo", mode: "hard", target: "HEAD~1" }],
        ["POST", "/git/restore", { path: "repo", files: ["a.txt"], staged: true, source: "main" }],
        ["POST", "/git/remotes", { path: "repo", name: "mirror", url: "https://x/m.git", fetch: true }],
        ["GET", "/git/remotes", { path: "repo" }],
        ["GET", "/git/remotes", { path: "repo" }],
        ["GET", "/git/remotes", { path: "repo" }],
        ["POST", "/git/config", { key: "core.autocrlf", value: "input", scope: "global" }],
        ["GET", "/git/config", { key: "user.name", scope: "global" }],
        ["GET", "/git/config", { key: "user.email", scope: "global" }],
        ["POST", "/git/config/user", { name: "Ada", email: "ada@example.com", scope: "global", path: "repo" }],
        ["POST", "/git/credentials", { username: "ada", password: "tok-123", host: "git.example.com" }],
        ["POST", "/git/push", { path: "repo", remote: "mirror", branch: "feature" }],
        ["POST", "/git/clone", { url: "https://x/r.git", path: "shallow", depth: 1 }]
      ])
      for (const request of requests) assert.notInclude(request.url.href, "tok-123")
    })
  )

  it.effect("a failure that quotes a password comes back without it", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({
        status: 400,
        json: { statusCode: 400, message: "auth failed for tok-123", code: "BAD_REQUEST" }
      }))
      const failed = yield* Effect.flip(Git.make(target, fake.toolbox).dangerouslyAuthenticate("ada", "tok-123"))
      assert.notInclude(failed.message, "tok-123")
    })
  )
})

describe("FileSystem.listFiles depth", () => {
  it.effect("depth goes in the query; a depth below 1 or not whole is refused before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 200, json: [] }))
      const fs = FileSystem.make(target, fake.toolbox)
      yield* fs.listFiles("dir", { depth: 3 })
      yield* fs.listFiles("dir")
      const requests = yield* fake.requests
      assert.deepStrictEqual(requests[0]!.query, { path: "dir", depth: "3" })
      assert.deepStrictEqual(requests[1]!.query, { path: "dir" })
      for (const depth of [0, -1, 1.5]) {
        const bad = yield* Effect.flip(fs.listFiles("dir", { depth }))
        assert.strictEqual(bad._tag, "ValidationError", String(depth))
      }
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )
})
