import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Git from "../src/Git.js"
import { makeToolbox, target } from "./support/FakeToolbox.js"

describe("Git", () => {
  it.effect("clone sends snake_case keys and credentials only in the JSON body", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 200 }))
      yield* Git.make(target, fake.toolbox).clone("https://github.com/o/r.git", "/home/daytona/r", {
        branch: "main",
        commitId: "abc123",
        username: "user",
        password: Redacted.make("s3cret-token"),
        insecureSkipTls: false
      })
      const [req] = yield* fake.requests
      assert.strictEqual(req!.method, "POST")
      assert.strictEqual(req!.route, "/git/clone")
      assert.deepStrictEqual(req!.query, {})
      assert.deepStrictEqual(req!.json, {
        url: "https://github.com/o/r.git",
        path: "/home/daytona/r",
        branch: "main",
        commit_id: "abc123",
        username: "user",
        password: "s3cret-token",
        insecure_skip_tls: false
      })
      assert.notInclude(req!.url.href, "s3cret")
    })
  )

  it.effect("clone without options sends only url and path", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({ status: 200 }))
      yield* Git.make(target, fake.toolbox).clone("https://x/r.git", "/r")
      const [req] = yield* fake.requests
      assert.deepStrictEqual(req!.json, { url: "https://x/r.git", path: "/r" })
    })
  )

  it.effect("a failing clone never echoes the password in the error", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({
        status: 400,
        json: { statusCode: 400, message: "bad request: auth failed for user:hunter22@x", code: "BAD_REQUEST" }
      }))
      const error = yield* Git.make(target, fake.toolbox)
        .clone("https://x/r.git", "/r", { username: "user", password: "hunter22" })
        .pipe(Effect.flip)
      assert.strictEqual(error._tag, "ValidationError")
      assert.notInclude(error.message, "hunter22")
      assert.notInclude((error as { body?: string }).body ?? "", "hunter22")
      assert.include(error.message, "auth failed")
    })
  )

  it.effect("status decodes the file statuses tolerantly", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({
        status: 200,
        json: {
          currentBranch: "main",
          fileStatus: [
            { name: "a.py", staging: "Added", worktree: "Unmodified", extra: "" },
            { name: "b.py", staging: "Updated but unmerged", worktree: "Brand new status", extra: "" }
          ],
          ahead: 1,
          behind: 0,
          branchPublished: true
        }
      }))
      const status = yield* Git.make(target, fake.toolbox).status("/r")
      const [req] = yield* fake.requests
      assert.strictEqual(req!.method, "GET")
      assert.strictEqual(req!.route, "/git/status")
      assert.deepStrictEqual(req!.query, { path: "/r" })
      assert.strictEqual(status.currentBranch, "main")
      assert.deepStrictEqual(
        status.fileStatus.map((f) => [f.staging, f.worktree]),
        [
          ["Added", "Unmodified"],
          ["Updated but unmerged", "Brand new status"]
        ]
      )
      assert.strictEqual(status.ahead, 1)
    })
  )

  it.effect("add, commit (sha from hash), branches, create/delete/checkout", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox((req) =>
        req.route === "/git/commit"
          ? { status: 200, json: { hash: "deadbeef" } }
          : req.route === "/git/branches" && req.method === "GET"
            ? { status: 200, json: { branches: ["main", "dev"] } }
            : { status: req.method === "DELETE" ? 204 : req.route === "/git/branches" ? 201 : 200 }
      )
      const git = Git.make(target, fake.toolbox)
      yield* git.add("/r", ["."])
      const commit = yield* git.commit("/r", "msg", "Ada", "ada@x", { allowEmpty: true })
      const branches = yield* git.branches("/r")
      yield* git.createBranch("/r", "feature")
      yield* git.deleteBranch("/r", "feature")
      yield* git.checkoutBranch("/r", "dev")
      assert.deepStrictEqual(commit, { sha: "deadbeef" })
      assert.deepStrictEqual(branches, ["main", "dev"])
      const reqs = yield* fake.requests
      assert.deepStrictEqual(
        reqs.map((r) => [r.method, r.route, r.json ?? r.query]),
        [
          ["POST", "/git/add", { path: "/r", files: ["."] }],
          ["POST", "/git/commit", { path: "/r", message: "msg", author: "Ada", email: "ada@x", allow_empty: true }],
          ["GET", "/git/branches", { path: "/r" }],
          ["POST", "/git/branches", { path: "/r", name: "feature" }],
          ["DELETE", "/git/branches", { path: "/r", name: "feature" }],
          ["POST", "/git/checkout", { path: "/r", branch: "dev" }]
        ]
      )
    })
  )

  it.effect("push and pull carry optional credentials; history is GET /git/history", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox((req) =>
        req.route === "/git/history"
          ? {
              status: 200,
              json: [{ hash: "h1", author: "Ada", email: "a@x", message: "first", timestamp: "2026-11-29T12:00:00Z" }]
            }
          : { status: 200 }
      )
      const git = Git.make(target, fake.toolbox)
      yield* git.push("/r", { username: "u", password: "p" })
      yield* git.pull("/r")
      const history = yield* git.history("/r")
      assert.deepStrictEqual(
        history.map((c) => c.hash),
        ["h1"]
      )
      const reqs = yield* fake.requests
      assert.deepStrictEqual(reqs[0]!.json, { path: "/r", username: "u", password: "p" })
      assert.deepStrictEqual(reqs[1]!.json, { path: "/r" })
      assert.strictEqual(reqs[1]!.route, "/git/pull")
      assert.deepStrictEqual([reqs[2]!.method, reqs[2]!.route, reqs[2]!.query], ["GET", "/git/history", { path: "/r" }])
    })
  )

  it.effect("a missing repository is a NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeToolbox(() => ({
        status: 404,
        json: { statusCode: 404, message: "not found: repository" }
      }))
      const error = yield* Git.make(target, fake.toolbox).status("/none").pipe(Effect.flip)
      assert.strictEqual(error._tag, "NotFoundError")
    })
  )
})
