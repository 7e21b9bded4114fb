import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import type * as Sandbox from "../src/Sandbox.js"
import {
  advance,
  assertRequest,
  errorBody,
  handleOver,
  makeFake,
  sandboxDto,
  settle,
  standardHeaders,
  toolboxProxyUrl
} from "./support/FakeHttp.js"

const notFound = {
  status: 404,
  body: errorBody(404, "Not Found", "Sandbox with ID or name sb-1 not found", "/api/sandbox/sb-1")
}

/** The request lines (`METHOD path?query`) a fake saw. */
const lines = (requests: ReadonlyArray<{ readonly method: string; readonly path: string; readonly url: URL }>) =>
  requests.map((request) => `${request.method} ${request.path}${request.url.search}`)

describe("Sandbox: reads", () => {
  it.effect("refreshData GETs the sandbox and returns a new handle; the old one is unchanged", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "stopped", cpu: 2 }) }))
      const sandbox = yield* handleOver(fake.client)
      const fresh = yield* sandbox.refreshData
      assertRequest((yield* fake.requests)[0], { method: "GET", path: "/api/sandbox/sb-1", headers: standardHeaders })
      assert.strictEqual(fresh.state, "stopped")
      assert.strictEqual(fresh.cpu, 2)
      assert.strictEqual(sandbox.state, "started")
      assert.strictEqual(sandbox.cpu, 1)
    })
  )

  it.effect("getUserHomeDir calls the toolbox at {toolboxProxyUrl}/{id}/user-home-dir", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { dir: "/home/daytona" } }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual(yield* sandbox.getUserHomeDir, "/home/daytona")
      assertRequest((yield* fake.requests)[0], {
        method: "GET",
        path: `${toolboxProxyUrl}/sb-1/user-home-dir`,
        headers: standardHeaders
      })
    })
  )

  it.effect("a handle's features are the same object on every use, and a copy of the handle carries them", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { dir: "/home/daytona" } }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* fake.requests).length, 0)
      const process = sandbox.process
      assert.strictEqual(sandbox.process, process)
      assert.strictEqual(sandbox.fs, sandbox.fs)
      const copy = { ...sandbox }
      assert.strictEqual(copy.process, process)
      assert.strictEqual(copy.fs, sandbox.fs)
      assert.strictEqual(copy.git, sandbox.git)
      assert.strictEqual(copy.computerUse, sandbox.computerUse)
      assert.strictEqual(copy.codeInterpreter, sandbox.codeInterpreter)
      assert.deepStrictEqual(
        Object.keys(sandbox)
          .filter((key) => ["fs", "git", "process"].includes(key))
          .sort(),
        ["fs", "git", "process"]
      )
      // Built once, run every time: each run is a request of its own.
      assert.strictEqual(yield* sandbox.getUserHomeDir, "/home/daytona")
      assert.strictEqual(yield* copy.getUserHomeDir, "/home/daytona")
      assert.strictEqual(yield* sandbox.getUserHomeDir, "/home/daytona")
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "GET /toolbox/sb-1/user-home-dir",
        "GET /toolbox/sb-1/user-home-dir",
        "GET /toolbox/sb-1/user-home-dir"
      ])
    })
  )

  it.effect("getWorkDir calls the toolbox at {toolboxProxyUrl}/{id}/work-dir, with the id (not the name)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { dir: "/workspace" } }))
      const sandbox = yield* handleOver(
        fake.client,
        sandboxDto({ id: "id-9", name: "named", toolboxProxyUrl: `${toolboxProxyUrl}/` })
      )
      assert.strictEqual(yield* sandbox.getWorkDir, "/workspace")
      assertRequest((yield* fake.requests)[0], { method: "GET", path: `${toolboxProxyUrl}/id-9/work-dir` })
    })
  )

  it.effect("a toolbox 404 is a NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 404, body: { message: "not found" } }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* Effect.flip(sandbox.getUserHomeDir))._tag, "NotFoundError")
    })
  )
})

describe("Sandbox.setLabels", () => {
  it.effect("PUTs {labels} and reads the full Sandbox the server really answers", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ labels: { team: "ml" } }) }))
      const sandbox = yield* handleOver(fake.client)
      const updated = yield* sandbox.setLabels({ team: "ml" })
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assertRequest(requests[0], {
        method: "PUT",
        path: "/api/sandbox/sb-1/labels",
        body: { labels: { team: "ml" } },
        headers: { "content-type": "application/json" }
      })
      assert.deepStrictEqual(updated.labels, { team: "ml" })
    })
  )

  it.effect("accepts the spec's {labels} answer and then reads the sandbox", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "PUT"
          ? { status: 200, body: { labels: { team: "ml" } } }
          : { status: 200, body: sandboxDto({ labels: { team: "ml" }, state: "stopped" }) }
      )
      const sandbox = yield* handleOver(fake.client)
      const updated = yield* sandbox.setLabels({ team: "ml" })
      assert.deepStrictEqual(lines(yield* fake.requests), ["PUT /api/sandbox/sb-1/labels", "GET /api/sandbox/sb-1"])
      assert.deepStrictEqual(updated.labels, { team: "ml" })
      assert.strictEqual(updated.state, "stopped")
    })
  )
})

describe("Sandbox.start / recover", () => {
  it.effect("start POSTs /start with no body, then polls until started", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "starting" }) }
          : { status: 200, body: sandboxDto({ state: index < 3 ? "starting" : "started" }) }
      )
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "stopped" }))
      const fiber = yield* Effect.fork(sandbox.start())
      yield* settle(fiber)
      const started = yield* Fiber.join(fiber)
      assert.strictEqual(started.state, "started")
      const requests = yield* fake.requests
      assertRequest(requests[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/start",
        body: undefined,
        headers: standardHeaders
      })
      assert.deepStrictEqual(lines(requests.slice(1)), [
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1"
      ])
    })
  )

  it.effect("start answered with started needs no poll", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "started" }) }))
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "stopped" }))
      assert.strictEqual((yield* sandbox.start()).state, "started")
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )

  it.effect("start times out with WaitTimeoutError carrying the sandbox id and last state", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "starting" }) }))
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "stopped" }))
      const fiber = yield* Effect.fork(sandbox.start({ timeout: "2 seconds" }))
      yield* advance("1900 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "WaitTimeoutError")
      if (error._tag !== "WaitTimeoutError") return
      assert.strictEqual(error.operation, "start")
      assert.strictEqual(error.resourceId, "sb-1")
      assert.strictEqual(error.lastState, "starting")
    })
  )

  it.effect("recover POSTs /recover (no skipStart) and waits until started", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "starting" }) }
          : { status: 200, body: sandboxDto({ state: "started" }) }
      )
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "error", recoverable: true }))
      const fiber = yield* Effect.fork(sandbox.recover())
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "started")
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "POST", path: "/api/sandbox/sb-1/recover", body: undefined })
      assert.deepStrictEqual(lines(requests.slice(1)), ["GET /api/sandbox/sb-1"])
    })
  )
})

describe("Sandbox.stop", () => {
  it.effect("POSTs /stop?force=false and polls until stopped", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "stopping" }) }
          : { status: 200, body: sandboxDto({ state: index < 2 ? "stopping" : "stopped" }) }
      )
      const sandbox = yield* handleOver(fake.client)
      const fiber = yield* Effect.fork(sandbox.stop())
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "stopped")
      const requests = yield* fake.requests
      assertRequest(requests[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/stop",
        query: [["force", "false"]],
        body: undefined
      })
      assert.deepStrictEqual(lines(requests.slice(1)), ["GET /api/sandbox/sb-1", "GET /api/sandbox/sb-1"])
    })
  )

  it.effect("force: true sends force=true", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "stopped" }) }))
      const sandbox = yield* handleOver(fake.client)
      yield* sandbox.stop({ force: true })
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/stop",
        query: [["force", "true"]]
      })
    })
  )

  it.effect("an ephemeral sandbox that becomes 404 counts as stopped (destroyed)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "destroying", autoDeleteInterval: 0 }) }
          : index < 2
            ? { status: 200, body: sandboxDto({ state: "destroying", autoDeleteInterval: 0 }) }
            : notFound
      )
      const sandbox = yield* handleOver(fake.client, sandboxDto({ autoDeleteInterval: 0 }))
      const fiber = yield* Effect.fork(sandbox.stop())
      yield* settle(fiber)
      const stopped = yield* Fiber.join(fiber)
      assert.strictEqual(stopped.state, "destroyed")
      assert.strictEqual(stopped.id, "sb-1")
      assert.strictEqual((yield* fake.requests).length, 3)
    })
  )

  it.effect("start and recover answered 400 'Sandbox failed to start' fail with SandboxFailedError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 400, body: errorBody(400, "Bad Request", "Sandbox failed to start: runner lost") }
          : { status: 200, body: sandboxDto({ state: "error", errorReason: "runner lost", recoverable: true }) }
      )
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "stopped" }))
      for (const operation of [sandbox.start(), sandbox.recover()]) {
        const error = yield* Effect.flip(operation)
        assert.strictEqual(error._tag, "SandboxFailedError")
        if (error._tag !== "SandboxFailedError") continue
        assert.deepStrictEqual(
          [error.sandboxId, error.state, error.errorReason, error.recoverable],
          ["sb-1", "error", "runner lost", true]
        )
      }
    })
  )

  it.effect("a failed start whose sandbox cannot be read keeps the reason from the answer", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 400, body: errorBody(400, "Bad Request", "Sandbox failed to start: disk full") }
          : { status: 503, body: errorBody(503, "Service Unavailable", "down") }
      )
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "stopped" }))
      const error = yield* Effect.flip(sandbox.start())
      assert.strictEqual(error._tag, "SandboxFailedError")
      if (error._tag !== "SandboxFailedError") return
      assert.deepStrictEqual([error.state, error.errorReason], ["error", "disk full"])
    })
  )

  it.effect("an error state while stopping fails with SandboxFailedError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "stopping" }) }
          : { status: 200, body: sandboxDto({ state: "error", errorReason: "runner lost" }) }
      )
      const sandbox = yield* handleOver(fake.client)
      const fiber = yield* Effect.fork(sandbox.stop())
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "SandboxFailedError")
      assert.strictEqual(error._tag === "SandboxFailedError" ? error.errorReason : undefined, "runner lost")
    })
  )
})

describe("Sandbox.delete / archive", () => {
  it.effect("delete sends DELETE /api/sandbox/{id} and does not wait by default", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "destroying" }) }))
      const sandbox = yield* handleOver(fake.client)
      yield* sandbox.delete()
      assert.deepStrictEqual(lines(yield* fake.requests), ["DELETE /api/sandbox/sb-1"])
    })
  )

  it.effect("delete({wait: true}) polls until the sandbox is gone (404)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "DELETE"
          ? { status: 200, body: sandboxDto({ state: "destroying" }) }
          : index < 3
            ? { status: 200, body: sandboxDto({ state: "destroying" }) }
            : notFound
      )
      const sandbox = yield* handleOver(fake.client)
      const fiber = yield* Effect.fork(sandbox.delete({ wait: true }))
      yield* settle(fiber)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "DELETE /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1"
      ])
    })
  )

  it.effect("delete 409 is a ConflictError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 409,
        body: errorBody(409, "Conflict", "Sandbox state change in progress")
      }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* Effect.flip(sandbox.delete()))._tag, "ConflictError")
    })
  )

  it.effect("archive POSTs /archive and returns without waiting", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "archiving" }) }))
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "stopped" }))
      const archived = yield* sandbox.archive()
      assert.strictEqual(archived.state, "archiving")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assertRequest(requests[0], { method: "POST", path: "/api/sandbox/sb-1/archive", body: undefined })
    })
  )

  it.effect("archive({wait: true}) polls until archived", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "archiving" }) }
          : { status: 200, body: sandboxDto({ state: index < 2 ? "archiving" : "archived" }) }
      )
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "stopped" }))
      const fiber = yield* Effect.fork(sandbox.archive({ wait: true }))
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "archived")
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "POST /api/sandbox/sb-1/archive",
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1"
      ])
    })
  )
})

describe("Sandbox waits", () => {
  it.effect("waitUntilStarted polls GET until started", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) => ({
        status: 200,
        body: sandboxDto({ state: index < 2 ? "starting" : "started" })
      }))
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "starting" }))
      const fiber = yield* Effect.fork(sandbox.waitUntilStarted())
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "started")
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1",
        "GET /api/sandbox/sb-1"
      ])
    })
  )

  it.effect("waitUntilStarted fails on error with SandboxFailedError (errorReason, recoverable)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: sandboxDto({ state: "error", errorReason: "OOM", recoverable: false })
      }))
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "starting" }))
      const error = yield* Effect.flip(sandbox.waitUntilStarted())
      assert.strictEqual(error._tag, "SandboxFailedError")
      if (error._tag !== "SandboxFailedError") return
      assert.strictEqual(error.sandboxId, "sb-1")
      assert.strictEqual(error.state, "error")
      assert.strictEqual(error.errorReason, "OOM")
      assert.strictEqual(error.recoverable, false)
    })
  )

  it.effect("waitUntilStopped treats a 404 as stopped (destroyed)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) =>
        index === 0 ? { status: 200, body: sandboxDto({ state: "stopping" }) } : notFound
      )
      const sandbox = yield* handleOver(fake.client)
      const fiber = yield* Effect.fork(sandbox.waitUntilStopped())
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "destroyed")
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )

  it.effect("waitUntilStopped times out with the last state", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "stopping" }) }))
      const sandbox = yield* handleOver(fake.client)
      const fiber = yield* Effect.fork(sandbox.waitUntilStopped({ timeout: "3 seconds" }))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "WaitTimeoutError")
      if (error._tag !== "WaitTimeoutError") return
      assert.strictEqual(error.lastState, "stopping")
      assert.strictEqual(error.resourceId, "sb-1")
      assert.strictEqual(error.awaited, "stopped")
    })
  )

  const badTimeouts: ReadonlyArray<
    readonly [string, (sandbox: Sandbox.Sandbox) => Effect.Effect<unknown, { readonly _tag: string }>]
  > = [
    ["waitUntilStarted timeout -1", (sandbox) => sandbox.waitUntilStarted({ timeout: -1 })],
    ["waitUntilStopped timeout 0", (sandbox) => sandbox.waitUntilStopped({ timeout: 0 })],
    ["start timeout '-1 second'", (sandbox) => sandbox.start({ timeout: "-1 second" })],
    ["stop timeout 0", (sandbox) => sandbox.stop({ timeout: 0 })],
    ["delete timeout -5", (sandbox) => sandbox.delete({ timeout: -5, wait: true })],
    ["archive timeout 0", (sandbox) => sandbox.archive({ timeout: 0 })],
    ["recover timeout -1", (sandbox) => sandbox.recover({ timeout: -1 })],
    ["resize timeout 0", (sandbox) => sandbox.resize({ cpu: 2 }, { timeout: 0 })],
    ["waitForResizeComplete timeout -1", (sandbox) => sandbox.waitForResizeComplete({ timeout: -1 })]
  ]
  for (const [title, run] of badTimeouts) {
    it.effect(`${title} is a ValidationError before any request`, () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
        const sandbox = yield* handleOver(fake.client)
        const error = yield* Effect.flip(run(sandbox))
        assert.strictEqual(error._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  }
})

describe("Sandbox intervals", () => {
  it.effect("setAutostopInterval POSTs /autostop/{minutes} (201) and decodes the Sandbox answer", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 201, body: sandboxDto({ autoStopInterval: 30 }) }))
      const sandbox = yield* handleOver(fake.client)
      const updated = yield* sandbox.setAutostopInterval(30)
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/autostop/30",
        body: undefined
      })
      assert.strictEqual(updated.autoStopInterval, 30)
    })
  )

  it.effect("setAutoArchiveInterval POSTs /autoarchive/{minutes}; 0 is allowed", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 201, body: sandboxDto({ autoArchiveInterval: 43200 }) }))
      const sandbox = yield* handleOver(fake.client)
      const updated = yield* sandbox.setAutoArchiveInterval(0)
      assertRequest((yield* fake.requests)[0], { method: "POST", path: "/api/sandbox/sb-1/autoarchive/0" })
      assert.strictEqual(updated.autoArchiveInterval, 43200)
    })
  )

  it.effect("setAutoDeleteInterval POSTs /autodelete/{minutes}; a negative value (disable) is allowed", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 201, body: sandboxDto({ autoDeleteInterval: -1 }) }))
      const sandbox = yield* handleOver(fake.client)
      const updated = yield* sandbox.setAutoDeleteInterval(-1)
      assertRequest((yield* fake.requests)[0], { method: "POST", path: "/api/sandbox/sb-1/autodelete/-1" })
      assert.strictEqual(updated.autoDeleteInterval, -1)
    })
  )

  const badIntervals: ReadonlyArray<
    readonly [string, (sandbox: Sandbox.Sandbox) => Effect.Effect<unknown, { readonly _tag: string }>]
  > = [
    ["setAutostopInterval(-1)", (sandbox) => sandbox.setAutostopInterval(-1)],
    ["setAutostopInterval(1.5)", (sandbox) => sandbox.setAutostopInterval(1.5)],
    ["setAutoArchiveInterval(-5)", (sandbox) => sandbox.setAutoArchiveInterval(-5)],
    ["setAutoArchiveInterval(0.25)", (sandbox) => sandbox.setAutoArchiveInterval(0.25)],
    ["setAutoDeleteInterval(2.5)", (sandbox) => sandbox.setAutoDeleteInterval(2.5)],
    ["setAutostopInterval(NaN)", (sandbox) => sandbox.setAutostopInterval(Number.NaN)]
  ]
  for (const [title, run] of badIntervals) {
    it.effect(`${title} is a ValidationError before any request`, () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 201, body: sandboxDto() }))
        const sandbox = yield* handleOver(fake.client)
        assert.strictEqual((yield* Effect.flip(run(sandbox)))._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  }

  it.effect("a server 400 on an interval is a ValidationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 400,
        body: errorBody(400, "Bad Request", "GPU sandboxes must remain ephemeral")
      }))
      const sandbox = yield* handleOver(fake.client)
      const error = yield* Effect.flip(sandbox.setAutoDeleteInterval(10))
      assert.strictEqual(error._tag, "ValidationError")
      assert.include(error.message, "GPU sandboxes must remain ephemeral")
    })
  )
})

describe("Sandbox preview links", () => {
  it.effect("getPreviewLink GETs /ports/{port}/preview-url and returns {sandboxId, url, token}", () =>
    Effect.gen(function* () {
      const answer = { sandboxId: "sb-1", url: "https://3000-sb-1.proxy.daytona.test", token: "tok-abc" }
      const fake = yield* makeFake(() => ({ status: 200, body: answer }))
      const sandbox = yield* handleOver(fake.client)
      assert.deepStrictEqual(yield* sandbox.getPreviewLink(3000), answer)
      assertRequest((yield* fake.requests)[0], { method: "GET", path: "/api/sandbox/sb-1/ports/3000/preview-url" })
    })
  )

  it.effect("getSignedPreviewUrl sends expiresInSeconds only when given", () =>
    Effect.gen(function* () {
      const answer = { sandboxId: "sb-1", port: 8080, token: "s1gn3d", url: "https://8080-s1gn3d.proxy.daytona.test" }
      const fake = yield* makeFake(() => ({ status: 200, body: answer }))
      const sandbox = yield* handleOver(fake.client)
      assert.deepStrictEqual(yield* sandbox.getSignedPreviewUrl(8080, { expiresInSeconds: 120 }), answer)
      yield* sandbox.getSignedPreviewUrl(8080)
      const requests = yield* fake.requests
      assertRequest(requests[0], {
        method: "GET",
        path: "/api/sandbox/sb-1/ports/8080/signed-preview-url",
        query: [["expiresInSeconds", "120"]]
      })
      assertRequest(requests[1], { method: "GET", path: "/api/sandbox/sb-1/ports/8080/signed-preview-url" })
    })
  )

  it.effect("expireSignedPreviewUrl POSTs /ports/{port}/signed-preview-url/{token}/expire (201, no body)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 201 }))
      const sandbox = yield* handleOver(fake.client)
      yield* sandbox.expireSignedPreviewUrl(8080, "s1gn3d")
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/ports/8080/signed-preview-url/s1gn3d/expire",
        body: undefined
      })
    })
  )

  const badPorts: ReadonlyArray<
    readonly [string, (sandbox: Sandbox.Sandbox) => Effect.Effect<unknown, { readonly _tag: string }>]
  > = [
    ["getPreviewLink(0)", (sandbox) => sandbox.getPreviewLink(0)],
    ["getPreviewLink(65536)", (sandbox) => sandbox.getPreviewLink(65536)],
    ["getPreviewLink(80.5)", (sandbox) => sandbox.getPreviewLink(80.5)],
    ["getSignedPreviewUrl(-1)", (sandbox) => sandbox.getSignedPreviewUrl(-1)],
    [
      "getSignedPreviewUrl(80, expiresInSeconds 0)",
      (sandbox) => sandbox.getSignedPreviewUrl(80, { expiresInSeconds: 0 })
    ],
    [
      "getSignedPreviewUrl(80, expiresInSeconds 86401)",
      (sandbox) => sandbox.getSignedPreviewUrl(80, { expiresInSeconds: 86401 })
    ],
    ["expireSignedPreviewUrl(70000)", (sandbox) => sandbox.expireSignedPreviewUrl(70000, "t")]
  ]
  for (const [title, run] of badPorts) {
    it.effect(`${title} is a ValidationError before any request`, () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 200, body: {} }))
        const sandbox = yield* handleOver(fake.client)
        assert.strictEqual((yield* Effect.flip(run(sandbox)))._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  }

  it.effect("ports 1 and 65535 and expiresInSeconds 1 and 86400 are accepted", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => ({
        status: 200,
        body: request.path.endsWith("signed-preview-url")
          ? { sandboxId: "sb-1", port: 1, token: "t", url: "u" }
          : { sandboxId: "sb-1", url: "u", token: "t" }
      }))
      const sandbox = yield* handleOver(fake.client)
      yield* sandbox.getPreviewLink(1)
      yield* sandbox.getPreviewLink(65535)
      yield* sandbox.getSignedPreviewUrl(1, { expiresInSeconds: 1 })
      yield* sandbox.getSignedPreviewUrl(1, { expiresInSeconds: 86400 })
      assert.strictEqual((yield* fake.requests).length, 4)
    })
  )
})

describe("Sandbox SSH access", () => {
  const ssh = {
    id: "ssh-1",
    sandboxId: "sb-1",
    token: "AbCdEfGh0123456789AbCdEfGh012345",
    expiresAt: "2026-11-29T13:00:00.000Z",
    createdAt: "2026-11-29T12:00:00.000Z",
    updatedAt: "2026-11-29T12:00:00.000Z",
    sshCommand: "ssh -p 2222 AbCdEfGh0123456789AbCdEfGh012345@ssh.daytona.test"
  }

  it.effect("createSshAccess POSTs /ssh-access, with expiresInMinutes only when given", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: ssh }))
      const sandbox = yield* handleOver(fake.client)
      assert.deepStrictEqual(yield* sandbox.createSshAccess(), ssh)
      yield* sandbox.createSshAccess({ expiresInMinutes: 30 })
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "POST", path: "/api/sandbox/sb-1/ssh-access", body: undefined })
      assertRequest(requests[1], {
        method: "POST",
        path: "/api/sandbox/sb-1/ssh-access",
        query: [["expiresInMinutes", "30"]]
      })
    })
  )

  it.effect("createSshAccess rejects expiresInMinutes 0 before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: ssh }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* Effect.flip(sandbox.createSshAccess({ expiresInMinutes: 0 })))._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("revokeSshAccess DELETEs /ssh-access, with token only when given", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const sandbox = yield* handleOver(fake.client)
      yield* sandbox.revokeSshAccess()
      yield* sandbox.revokeSshAccess("tok")
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "DELETE", path: "/api/sandbox/sb-1/ssh-access" })
      assertRequest(requests[1], { method: "DELETE", path: "/api/sandbox/sb-1/ssh-access", query: [["token", "tok"]] })
    })
  )

  it.effect("validateSshAccess GETs /sandbox/ssh-access/validate?token= and decodes a null sandboxId", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) => ({
        status: 200,
        body: index === 0 ? { valid: false, sandboxId: null } : { valid: true, sandboxId: "sb-1" }
      }))
      const sandbox = yield* handleOver(fake.client)
      assert.deepStrictEqual(yield* sandbox.validateSshAccess("bad"), { valid: false, sandboxId: null })
      assert.deepStrictEqual(yield* sandbox.validateSshAccess("good"), { valid: true, sandboxId: "sb-1" })
      assertRequest((yield* fake.requests)[0], {
        method: "GET",
        path: "/api/sandbox/ssh-access/validate",
        query: [["token", "bad"]]
      })
    })
  )

  it.effect("validateSshAccess with an empty token is a ValidationError; a 403 is an AuthorizationError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 403,
        body: errorBody(403, "Forbidden", "Invalid authentication context")
      }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* Effect.flip(sandbox.validateSshAccess("")))._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
      assert.strictEqual((yield* Effect.flip(sandbox.validateSshAccess("tok")))._tag, "AuthorizationError")
    })
  )
})

describe("Sandbox activity, network, resize", () => {
  it.effect("refreshActivity POSTs /sandbox/{id}/last-activity (201, empty)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 201 }))
      const sandbox = yield* handleOver(fake.client)
      yield* sandbox.refreshActivity
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/last-activity",
        body: undefined
      })
    })
  )

  it.effect("updateNetworkSettings POSTs its JSON body and decodes the Sandbox answer", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: sandboxDto({ networkBlockAll: false, networkAllowList: "10.0.0.0/8" })
      }))
      const sandbox = yield* handleOver(fake.client)
      const updated = yield* sandbox.updateNetworkSettings({
        networkAllowList: "10.0.0.0/8",
        domainAllowList: "*.x.io"
      })
      assertRequest((yield* fake.requests)[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/network-settings",
        body: { networkAllowList: "10.0.0.0/8", domainAllowList: "*.x.io" },
        headers: { "content-type": "application/json" }
      })
      assert.strictEqual(updated.networkAllowList, "10.0.0.0/8")
    })
  )

  it.effect("updateNetworkSettings with no setting is a ValidationError before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const sandbox = yield* handleOver(fake.client)
      assert.strictEqual((yield* Effect.flip(sandbox.updateNetworkSettings({})))._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("resize POSTs {cpu, memory} with X-Daytona-Organization-ID and waits while resizing", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "resizing" }) }
          : { status: 200, body: sandboxDto({ state: index < 2 ? "resizing" : "started", cpu: 2, memory: 4 }) }
      )
      const sandbox = yield* handleOver(fake.client, sandboxDto({ organizationId: "org-77" }))
      const fiber = yield* Effect.fork(sandbox.resize({ cpu: 2, memory: 4 }))
      yield* settle(fiber)
      const resized = yield* Fiber.join(fiber)
      assert.strictEqual(resized.cpu, 2)
      assert.strictEqual(resized.memory, 4)
      assert.strictEqual(resized.state, "started")
      const requests = yield* fake.requests
      assertRequest(requests[0], {
        method: "POST",
        path: "/api/sandbox/sb-1/resize",
        body: { cpu: 2, memory: 4 },
        headers: { "x-daytona-organization-id": "org-77", authorization: standardHeaders.authorization }
      })
      assert.deepStrictEqual(lines(requests.slice(1)), ["GET /api/sandbox/sb-1", "GET /api/sandbox/sb-1"])
    })
  )

  const badResizes: ReadonlyArray<readonly [string, Parameters<Sandbox.Sandbox["resize"]>[0]]> = [
    ["no resource", {}],
    ["cpu 0", { cpu: 0 }],
    ["memory 1.5", { memory: 1.5 }],
    ["disk -1", { disk: -1 }]
  ]
  for (const [title, resources] of badResizes) {
    it.effect(`resize with ${title} is a ValidationError before any request`, () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
        const sandbox = yield* handleOver(fake.client)
        assert.strictEqual((yield* Effect.flip(sandbox.resize(resources)))._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  }

  it.effect("waitForResizeComplete polls until the state leaves resizing", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) => ({
        status: 200,
        body: sandboxDto({ state: index < 3 ? "resizing" : "stopped" })
      }))
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "resizing" }))
      const fiber = yield* Effect.fork(sandbox.waitForResizeComplete())
      yield* settle(fiber)
      assert.strictEqual((yield* Fiber.join(fiber)).state, "stopped")
      assert.strictEqual((yield* fake.requests).length, 4)
    })
  )

  it.effect("waitForResizeComplete fails on error", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: sandboxDto({ state: "error", errorReason: "resize failed" })
      }))
      const sandbox = yield* handleOver(fake.client, sandboxDto({ state: "resizing" }))
      const error = yield* Effect.flip(sandbox.waitForResizeComplete())
      assert.strictEqual(error._tag, "SandboxFailedError")
    })
  )
})
