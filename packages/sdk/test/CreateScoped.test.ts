import { assert, describe, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import {
  advance,
  assertRequest,
  type CapturedRequest,
  createIdOf,
  daytonaOver,
  errorBody,
  interruptAndSettle,
  labelsFilter,
  makeFake,
  type Reply,
  sandboxDto,
  sandboxListItem,
  settle
} from "./support/FakeHttp.js"

const lines = (requests: ReadonlyArray<CapturedRequest>) =>
  requests.map((request) => `${request.method} ${request.path}`)

const deletes = (requests: ReadonlyArray<CapturedRequest>) => requests.filter((request) => request.method === "DELETE")

/**
 * A control plane where `POST /sandbox` answers `post`, `GET /sandbox/{id}` answers `poll`,
 * the label search finds `found` (tagged with the searched labels) and `DELETE` answers `del`.
 */
const controlPlane = (options: {
  readonly post: (request: CapturedRequest) => Reply
  readonly poll?: (request: CapturedRequest, index: number) => Reply
  readonly found?: ReadonlyArray<string>
  readonly del?: (request: CapturedRequest, index: number) => Reply
}) =>
  makeFake((request, index) => {
    if (request.method === "POST" && request.path === "/api/sandbox") return options.post(request)
    if (request.method === "GET" && request.path === "/api/sandbox") {
      const labels = labelsFilter(request) ?? {}
      return {
        status: 200,
        body: { items: (options.found ?? []).map((id) => sandboxListItem({ id, labels })), nextCursor: null }
      }
    }
    if (request.method === "GET") return options.poll?.(request, index) ?? { status: 200, body: sandboxDto() }
    if (request.method === "DELETE") {
      return options.del?.(request, index) ?? { status: 200, body: sandboxDto({ state: "destroying" }) }
    }
    return { status: 500, body: errorBody(500, "Internal Server Error", "unexpected request in test") }
  })

describe("Daytona.createScoped", () => {
  it.effect("deletes the sandbox when the scope succeeds", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ status: 200, body: sandboxDto({ id: "sb-ok" }) }) })
      const daytona = yield* daytonaOver(fake.client)
      const id = yield* Effect.scoped(
        Effect.gen(function* () {
          const sandbox = yield* daytona.createScoped({ language: "python" })
          assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox"], "nothing deleted while in scope")
          return sandbox.id
        })
      )
      assert.strictEqual(id, "sb-ok")
      const requests = yield* fake.requests
      assert.deepStrictEqual(lines(requests), ["POST /api/sandbox", "DELETE /api/sandbox/sb-ok"])
      assertRequest(requests[1], { method: "DELETE", path: "/api/sandbox/sb-ok", body: undefined })
    })
  )

  it.effect("deletes the sandbox when the program fails", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ status: 200, body: sandboxDto({ id: "sb-fail" }) }) })
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(
        Effect.scoped(
          Effect.gen(function* () {
            yield* daytona.createScoped()
            return yield* Effect.fail("program failed" as const)
          })
        )
      )
      assert.strictEqual(error, "program failed")
      assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox", "DELETE /api/sandbox/sb-fail"])
    })
  )

  it.effect("deletes the sandbox when the program dies", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ status: 200, body: sandboxDto({ id: "sb-die" }) }) })
      const daytona = yield* daytonaOver(fake.client)
      const exit = yield* Effect.exit(
        Effect.scoped(Effect.flatMap(daytona.createScoped(), () => Effect.die(new Error("boom"))))
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox", "DELETE /api/sandbox/sb-die"])
    })
  )

  it.effect("deletes the sandbox when the program is interrupted", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ status: 200, body: sandboxDto({ id: "sb-int" }) }) })
      const daytona = yield* daytonaOver(fake.client)
      const created = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Effect.scoped(
          Effect.flatMap(daytona.createScoped(), () =>
            Effect.zipRight(Deferred.succeed(created, undefined), Effect.never)
          )
        )
      )
      yield* Deferred.await(created)
      assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox"])
      const exit = yield* interruptAndSettle(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox", "DELETE /api/sandbox/sb-int"])
    })
  )

  it.effect("deletes the sandbox when interrupted while create is still waiting for started", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({
        post: () => ({ status: 200, body: sandboxDto({ id: "sb-wait", state: "creating" }) }),
        poll: () => ({ status: 200, body: sandboxDto({ id: "sb-wait", state: "creating" }) })
      })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(Effect.scoped(daytona.createScoped()))
      yield* advance("2 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting")
      assert.isAbove((yield* fake.requests).length, 2, "the POST was answered and polling has begun")
      const exit = yield* interruptAndSettle(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      const requests = yield* fake.requests
      assert.strictEqual(lines(requests)[0], "POST /api/sandbox")
      assert.isTrue(
        requests.slice(1, -1).every((request) => request.method === "GET" && request.path === "/api/sandbox/sb-wait")
      )
      assert.deepStrictEqual(lines(deletes(requests)), ["DELETE /api/sandbox/sb-wait"])
      assert.strictEqual(lines(requests).at(-1), "DELETE /api/sandbox/sb-wait")
    })
  )

  it.effect("a create that timed out after the server accepted it still deletes the sandbox", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({
        post: () => ({ status: 200, body: sandboxDto({ id: "sb-late", state: "pending_build" }) }),
        poll: () => ({ status: 200, body: sandboxDto({ id: "sb-late", state: "building_snapshot" }) })
      })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(
        Effect.scoped(daytona.createScoped({ image: "python:3.12", timeout: "3 seconds" }))
      )
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "WaitTimeoutError")
      assert.strictEqual(error._tag === "WaitTimeoutError" ? error.resourceId : undefined, "sb-late")
      const requests = yield* fake.requests
      assert.deepStrictEqual(lines(deletes(requests)), ["DELETE /api/sandbox/sb-late"])
      assert.strictEqual(lines(requests).at(-1), "DELETE /api/sandbox/sb-late")
    })
  )

  it.effect("a create that failed with build_failed still deletes the sandbox", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({
        post: () => ({ status: 200, body: sandboxDto({ id: "sb-bf", state: "pending_build" }) }),
        poll: () => ({ status: 200, body: sandboxDto({ id: "sb-bf", state: "build_failed", errorReason: "bad" }) })
      })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(Effect.scoped(daytona.createScoped({ image: "python:3.12" })))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "SandboxFailedError")
      assert.deepStrictEqual(lines(deletes(yield* fake.requests)), ["DELETE /api/sandbox/sb-bf"])
    })
  )

  it.effect("interrupted while the POST is in flight: finds the sandbox by its create-id label and deletes it", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ hang: true }), found: ["sb-orphan"] })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(Effect.scoped(daytona.createScoped()))
      yield* advance("1 second")
      assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox"])
      const exit = yield* interruptAndSettle(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      const requests = yield* fake.requests
      assert.deepStrictEqual(lines(requests), [
        "POST /api/sandbox",
        "GET /api/sandbox",
        "DELETE /api/sandbox/sb-orphan"
      ])
      const createId = createIdOf(requests[0]!)
      assert.isDefined(createId)
      assertRequest(requests[1], {
        method: "GET",
        path: "/api/sandbox",
        query: [["labels", JSON.stringify({ "effect-daytona.create-id": createId })]]
      })
    })
  )

  it.effect("a create whose POST hung past the deadline finds the sandbox by label and deletes it", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ hang: true }), found: ["sb-slow-post"] })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(Effect.scoped(daytona.createScoped({ timeout: "5 seconds" })))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "WaitTimeoutError")
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "POST /api/sandbox",
        "GET /api/sandbox",
        "DELETE /api/sandbox/sb-slow-post"
      ])
    })
  )

  it.effect("the label search is retried while the (eventually consistent) list does not show the sandbox yet", () =>
    Effect.gen(function* () {
      let searches = 0
      const fake = yield* makeFake((request) => {
        if (request.method === "POST") return { hang: true }
        if (request.method === "GET") {
          searches += 1
          const labels = labelsFilter(request) ?? {}
          return {
            status: 200,
            body: { items: searches < 3 ? [] : [sandboxListItem({ id: "sb-eventual", labels })], nextCursor: null }
          }
        }
        return { status: 200, body: sandboxDto({ id: "sb-eventual", state: "destroying" }) }
      })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(Effect.scoped(daytona.createScoped()))
      yield* advance("500 millis")
      yield* interruptAndSettle(fiber)
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "POST /api/sandbox",
        "GET /api/sandbox",
        "GET /api/sandbox",
        "GET /api/sandbox",
        "DELETE /api/sandbox/sb-eventual"
      ])
    })
  )

  it.effect("a 409 on delete (transition in progress) is retried until the delete succeeds", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({
        post: () => ({ status: 200, body: sandboxDto({ id: "sb-busy" }) }),
        del: (_, index) =>
          index < 3
            ? {
                status: 409,
                body: errorBody(409, "Conflict", "Sandbox state change in progress", "/api/sandbox/sb-busy")
              }
            : { status: 200, body: sandboxDto({ id: "sb-busy", state: "destroying" }) }
      })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(Effect.scoped(Effect.asVoid(daytona.createScoped())))
      yield* advance("1500 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "the finaliser is still retrying")
      yield* settle(fiber)
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "POST /api/sandbox",
        "DELETE /api/sandbox/sb-busy",
        "DELETE /api/sandbox/sb-busy",
        "DELETE /api/sandbox/sb-busy"
      ])
    })
  )

  it.effect("a 404 on delete (already gone) ends the cleanup without retrying", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({
        post: () => ({ status: 200, body: sandboxDto({ id: "sb-gone" }) }),
        del: () => ({ status: 404, body: errorBody(404, "Not Found", "Sandbox with ID or name sb-gone not found") })
      })
      const daytona = yield* daytonaOver(fake.client)
      yield* Effect.scoped(daytona.createScoped())
      assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox", "DELETE /api/sandbox/sb-gone"])
    })
  )

  it.effect("nothing is sent or deleted when create fails validation (the POST was never sent)", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ status: 200, body: sandboxDto() }) })
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(Effect.scoped(daytona.createScoped({ snapshot: "s", resources: { cpu: 2 } })))
      assert.strictEqual(error._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("nothing is searched or deleted when the connection was refused (the POST never reached the server)", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({ post: () => ({ transportError: "refused" }), found: ["sb-other"] })
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(Effect.scoped(daytona.createScoped()))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TransportError")
      assert.deepStrictEqual(lines(yield* fake.requests), ["POST /api/sandbox"])
    })
  )

  it.effect(
    "a 400 'Sandbox failed to start' (the server made the sandbox) is its SandboxFailedError; it is deleted",
    () =>
      Effect.gen(function* () {
        const fake = yield* controlPlane({
          post: () => ({ status: 400, body: errorBody(400, "Bad Request", "Sandbox failed to start: no capacity") }),
          found: ["sb-errored"]
        })
        const daytona = yield* daytonaOver(fake.client)
        const fiber = yield* Effect.fork(Effect.scoped(daytona.createScoped()))
        yield* settle(fiber)
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "SandboxFailedError")
        assert.strictEqual(error._tag === "SandboxFailedError" ? error.sandboxId : undefined, "sb-errored")
        const requests = yield* fake.requests
        assert.deepStrictEqual(lines(requests), [
          "POST /api/sandbox",
          "GET /api/sandbox",
          "GET /api/sandbox/sb-errored",
          "DELETE /api/sandbox/sb-errored"
        ])
        const createId = createIdOf(requests[0]!)
        assert.isDefined(createId)
        assert.deepStrictEqual(labelsFilter(requests[1]!), { "effect-daytona.create-id": createId ?? "" })
      })
  )

  it.effect("a create that adopted its sandbox after a connection reset deletes that sandbox on close", () =>
    Effect.gen(function* () {
      const fake = yield* controlPlane({
        post: () => ({ transportError: "reset" }),
        found: ["sb-adopted"],
        poll: () => ({ status: 200, body: sandboxDto({ id: "sb-adopted", state: "started" }) })
      })
      const daytona = yield* daytonaOver(fake.client)
      const id = yield* Effect.scoped(Effect.map(daytona.createScoped(), (sandbox) => sandbox.id))
      assert.strictEqual(id, "sb-adopted")
      assert.deepStrictEqual(lines(yield* fake.requests), [
        "POST /api/sandbox",
        "GET /api/sandbox",
        "GET /api/sandbox/sb-adopted",
        "DELETE /api/sandbox/sb-adopted"
      ])
    })
  )
})
