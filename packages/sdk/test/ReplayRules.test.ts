/**
 * The replay rule of every operation family, from its endpoint's declaration (`Endpoint.Replay`):
 * safe calls replay after any transient failure (a cut body included), convergent calls reconcile
 * by reading the resource, unsafe calls replay only what never ran and say whether they may have run
 * (`sent`); a replay answered "already done" (404 to a delete, 409 to a session create) is the call's
 * success; waits take a failed poll for a missed one. Everything runs on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as ControlPlaneApi from "../src/ControlPlaneApi.js"
import * as Daytona from "../src/Daytona.js"
import type { DaytonaError } from "../src/DaytonaError.js"
import type * as Endpoint from "../src/Endpoint.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { SnapshotDto } from "../src/SnapshotDto.js"
import * as Snapshots from "../src/Snapshots.js"
import * as ToolboxApi from "../src/ToolboxApi.js"
import {
  type CapturedRequest,
  createIdOf,
  errorBody,
  type Handler,
  handleOver,
  layerWith,
  makeFake,
  type Reply,
  sandboxDto,
  sandboxListItem,
  settle,
  snapshotDto
} from "./support/FakeHttp.js"

const policy = { retryPolicy: RetryPolicy.exponential() }

/**
 * Answers by route (`METHOD /path`): each route's replies in turn, the last one repeated; an
 * unscripted route answers 599 so that a test sees it.
 */
const scripted = (routes: Readonly<Record<string, ReadonlyArray<Reply>>>): Handler => {
  const seen = new Map<string, number>()
  return (request) => {
    const key = `${request.method} ${request.path}`
    const replies = routes[key]
    if (replies === undefined) return { status: 599, body: `unscripted ${key}` }
    const n = seen.get(key) ?? 0
    seen.set(key, n + 1)
    return replies[Math.min(n, replies.length - 1)]!
  }
}

const count = (requests: ReadonlyArray<CapturedRequest>, route: string) =>
  requests.filter((request) => `${request.method} ${request.path}` === route).length

const ok = (body: unknown = {}): Reply => ({ status: 200, body })
const status = (code: number): Reply => ({ status: code, body: errorBody(code, "Error", `injected ${code}`) })
const reset: Reply = { transportError: "reset" }
const refused: Reply = { transportError: "refused" }
const cut = (body: unknown): Reply => ({ status: 200, body, cut: true })
const hang: Reply = { hang: true }

/** Runs `effect` over a fake answering `routes`, driving the TestClock until it ends. */
const runOver = <A, E>(
  routes: Readonly<Record<string, ReadonlyArray<Reply>>>,
  effect: (fake: Effect.Effect.Success<ReturnType<typeof makeFake>>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const fake = yield* makeFake(scripted(routes))
    const fiber = yield* Effect.fork(Effect.either(effect(fake)))
    yield* settle(fiber, { max: "10 minutes" })
    return { result: yield* Fiber.join(fiber), requests: yield* fake.requests }
  })

const sandboxRoute = "/api/sandbox/sb-1"
const toolboxRoute = "/toolbox/sb-1"

const expectError = <A, E>(result: Either.Either<A, E>): E => {
  if (Either.isRight(result)) return assert.fail("expected a failure") as never
  return result.left
}

describe("the declared replay class of every endpoint", () => {
  const all: ReadonlyArray<Endpoint.Any> = [
    ...Object.values(ControlPlaneApi.endpoints),
    ...Object.values(ToolboxApi.endpoints)
  ]
  const named = (replay: Endpoint.Replay) =>
    all
      .filter((endpoint) => endpoint.replay === replay)
      .map((endpoint) => endpoint.name)
      .sort()

  it("convergent: lifecycle transitions, snapshot activation, and create (reconciled by its label)", () => {
    assert.deepStrictEqual(named("convergent"), [
      "activateSnapshot",
      "archiveSandbox",
      "createSandbox",
      "createSandboxSnapshot",
      "createWarmPool",
      "deactivateSnapshot",
      "pauseSandbox",
      "recoverSandbox",
      "resizeSandbox",
      "startSandbox",
      "stopSandbox"
    ])
  })

  it("unsafe: what a second request would do a second time (input, a recording, a restart included)", () => {
    assert.deepStrictEqual(named("unsafe"), [
      "addRemote",
      "click",
      "cloneRepository",
      "codeRun",
      "commitChanges",
      "createAndConnectPtySession",
      "createBranch",
      "createInterpreterContext",
      "createSecret",
      "createSnapshot",
      "createVolume",
      "drag",
      "executeCommand",
      "executeInterpreterCode",
      "forkSandbox",
      "invokeAccessibilityNode",
      "moveFile",
      "pressHotkey",
      "pressKey",
      "pullChanges",
      "pushChanges",
      "resetChanges",
      "restartProcess",
      "scroll",
      "sendInput",
      "sessionExecuteCommand",
      "startRecording",
      "typeText"
    ])
  })

  it("everything else is safe; deletes count a replay's 404 as done, a session or PTY create its 409", () => {
    assert.strictEqual(named("safe").length, all.length - 39)
    assert.deepStrictEqual(
      all
        .filter((endpoint) => endpoint.alreadyDone !== undefined)
        .map((endpoint) => `${endpoint.name} ${endpoint.alreadyDone}`)
        .sort(),
      all
        .filter((endpoint) => endpoint.method === "DELETE")
        .map((endpoint) => `${endpoint.name} 404`)
        .concat(["createSession 409", "createPtySession 409"])
        .sort()
    )
  })
})

describe("safe: replayed after any transient failure, a body cut off included", () => {
  it.effect("a GET whose answer's body breaks off half way is sent again", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* runOver(
        { [`GET ${sandboxRoute}`]: [cut(sandboxDto()), ok(sandboxDto())] },
        (fake) =>
          Effect.flatMap(Effect.provide(Daytona.Daytona, layerWith(fake.client, policy)), (daytona) =>
            daytona.get("sb-1")
          )
      )
      assert.isTrue(Either.isRight(result))
      assert.strictEqual(count(requests, `GET ${sandboxRoute}`), 2)
    })
  )

  it.effect("a POST declared safe (a setter) is replayed after a reset, a 503, a cut body and a timeout", () =>
    Effect.gen(function* () {
      const route = `POST ${sandboxRoute}/autostop/30`
      const { result, requests } = yield* runOver(
        { [route]: [reset, status(503), cut(sandboxDto()), hang, ok(sandboxDto({ autoStopInterval: 30 }))] },
        (fake) =>
          Effect.flatMap(
            handleOver(fake.client, sandboxDto(), {
              retryPolicy: RetryPolicy.exponential({ retries: 5 }),
              requestTimeout: "5 seconds"
            }),
            (s) => s.setAutostopInterval(30)
          )
      )
      assert.isTrue(Either.isRight(result), String(Either.isLeft(result) ? result.left : ""))
      assert.strictEqual(count(requests, route), 5)
    })
  )

  it.effect("a session create (safe, 409 when already done) whose answer was lost succeeds on the replay's 409", () =>
    Effect.gen(function* () {
      const route = `POST ${toolboxRoute}/process/session`
      const conflict = { status: 409, body: { statusCode: 409, message: "session already exists", code: "CONFLICT" } }
      const lost = yield* runOver({ [route]: [reset, conflict] }, (fake) =>
        Effect.flatMap(handleOver(fake.client, sandboxDto(), policy), (s) => s.process.createSession("s1"))
      )
      assert.isTrue(Either.isRight(lost.result))
      assert.strictEqual(count(lost.requests, route), 2)
      // Asked once and answered 409: the session was there before, which the caller must hear.
      const taken = yield* runOver({ [route]: [conflict] }, (fake) =>
        Effect.flatMap(handleOver(fake.client, sandboxDto(), policy), (s) => s.process.createSession("s1"))
      )
      assert.strictEqual(expectError(taken.result)._tag, "ConflictError")
    })
  )

  it.effect("a delete whose first attempt got a 503 and whose replay finds nothing has done its job", () =>
    Effect.gen(function* () {
      const route = `DELETE ${sandboxRoute}`
      const gone = yield* runOver({ [route]: [status(503), status(404)] }, (fake) =>
        Effect.flatMap(handleOver(fake.client, sandboxDto(), policy), (s) => s.delete())
      )
      assert.isTrue(Either.isRight(gone.result))
      assert.strictEqual(count(gone.requests, route), 2)
      const never = yield* runOver({ [route]: [status(404)] }, (fake) =>
        Effect.flatMap(handleOver(fake.client, sandboxDto(), policy), (s) => s.delete())
      )
      assert.strictEqual(expectError(never.result)._tag, "NotFoundError")
    })
  )

  it.effect("an attempt that provably never ran does not hide an earlier one that may have (sent stays true)", () =>
    Effect.gen(function* () {
      const { result } = yield* runOver({ [`GET ${sandboxRoute}`]: [reset, refused] }, (fake) =>
        Effect.flatMap(Effect.provide(Daytona.Daytona, layerWith(fake.client, policy)), (daytona) =>
          daytona.get("sb-1")
        )
      )
      const error = expectError(result)
      if (error._tag !== "TransportError") return assert.fail(`got ${error._tag}`)
      assert.isTrue(error.sent)
    })
  )
})

describe("unsafe: replayed only when it never ran; otherwise the error says it may have", () => {
  const route = `POST ${toolboxRoute}/process/execute`
  const execute = (fake: Effect.Effect.Success<ReturnType<typeof makeFake>>) =>
    Effect.flatMap(handleOver(fake.client, sandboxDto(), { ...policy, requestTimeout: "5 seconds" }), (s) =>
      s.process.executeCommand("echo hi")
    )

  for (const [name, reply, tag] of [
    ["503", status(503), "UnexpectedResponseError"],
    ["502", status(502), "UnexpectedResponseError"],
    ["504", status(504), "UnexpectedResponseError"],
    ["a reset after sending", reset, "TransportError"],
    ["a body cut half way", cut({ exitCode: 0, result: "hi\n" }), "TransportError"],
    ["no answer in time", hang, "RequestTimeoutError"]
  ] as const) {
    it.effect(`a command is not sent again after ${name}: ${tag} with sent: true`, () =>
      Effect.gen(function* () {
        const { result, requests } = yield* runOver({ [route]: [reply, ok({ exitCode: 0, result: "hi\n" })] }, execute)
        const error = expectError(result) as DaytonaError
        assert.strictEqual(error._tag, tag)
        assert.strictEqual("sent" in error ? error.sent : undefined, true)
        assert.strictEqual(count(requests, route), 1)
      })
    )
  }

  for (const [name, reply] of [
    ["a refused connection", refused],
    ["a 429 (throttled before it was handled)", status(429)]
  ] as const) {
    it.effect(`a command is sent again after ${name}`, () =>
      Effect.gen(function* () {
        const { result, requests } = yield* runOver({ [route]: [reply, ok({ exitCode: 0, result: "hi\n" })] }, execute)
        assert.isTrue(Either.isRight(result))
        assert.strictEqual(count(requests, route), 2)
      })
    )
  }
})

describe("convergent: an ambiguous failure is reconciled by reading the sandbox", () => {
  const cases = [
    {
      name: "start",
      route: `POST ${sandboxRoute}/start`,
      before: { state: "stopped", desiredState: "stopped" },
      underWay: { state: "starting", desiredState: "started" },
      after: { state: "started", desiredState: "started" },
      run: (s: Effect.Effect.Success<ReturnType<typeof handleOver>>) => s.start()
    },
    {
      name: "stop",
      route: `POST ${sandboxRoute}/stop`,
      before: { state: "started", desiredState: "started" },
      underWay: { state: "stopping", desiredState: "stopped" },
      after: { state: "stopped", desiredState: "stopped" },
      run: (s: Effect.Effect.Success<ReturnType<typeof handleOver>>) => s.stop()
    },
    {
      name: "archive",
      route: `POST ${sandboxRoute}/archive`,
      before: { state: "stopped", desiredState: "stopped" },
      underWay: { state: "archiving", desiredState: "archived" },
      after: { state: "archived", desiredState: "archived" },
      run: (s: Effect.Effect.Success<ReturnType<typeof handleOver>>) => s.archive({ wait: true })
    }
  ] as const

  for (const c of cases) {
    it.effect(`${c.name} whose answer was lost: the read shows it under way, the wait goes on, no second request`, () =>
      Effect.gen(function* () {
        const { result, requests } = yield* runOver(
          {
            [c.route]: [reset],
            [`GET ${sandboxRoute}`]: [ok(sandboxDto(c.underWay)), ok(sandboxDto(c.after))]
          },
          (fake) => Effect.flatMap(handleOver(fake.client, sandboxDto(c.before), policy), c.run)
        )
        if (Either.isLeft(result)) return assert.fail(`${c.name}: ${result.left._tag}: ${result.left.message}`)
        assert.strictEqual(result.right.state, c.after.state)
        assert.strictEqual(count(requests, c.route), 1)
      })
    )

    it.effect(`${c.name} answered 503: the read shows it did not happen, it is sent again`, () =>
      Effect.gen(function* () {
        const { result, requests } = yield* runOver(
          {
            [c.route]: [status(503), ok(sandboxDto(c.underWay))],
            [`GET ${sandboxRoute}`]: [ok(sandboxDto(c.before)), ok(sandboxDto(c.after))]
          },
          (fake) => Effect.flatMap(handleOver(fake.client, sandboxDto(c.before), policy), c.run)
        )
        if (Either.isLeft(result)) return assert.fail(`${c.name}: ${result.left._tag}: ${result.left.message}`)
        assert.strictEqual(result.right.state, c.after.state)
        assert.strictEqual(count(requests, c.route), 2)
      })
    )
  }

  it.effect("start whose answer was lost after it completed: the read shows started, nothing more is sent", () =>
    Effect.gen(function* () {
      const route = `POST ${sandboxRoute}/start`
      const { result, requests } = yield* runOver(
        { [route]: [cut(sandboxDto({ state: "started" }))], [`GET ${sandboxRoute}`]: [ok(sandboxDto())] },
        (fake) =>
          Effect.flatMap(
            handleOver(fake.client, sandboxDto({ state: "stopped", desiredState: "stopped" }), policy),
            (s) => s.start()
          )
      )
      assert.isTrue(Either.isRight(result))
      assert.strictEqual(count(requests, route), 1)
      assert.strictEqual(count(requests, `GET ${sandboxRoute}`), 1)
    })
  )

  it.effect(
    "recover answered 502 while the sandbox is still in error: sent again; resize lost: read shows it done",
    () =>
      Effect.gen(function* () {
        const recoverRoute = `POST ${sandboxRoute}/recover`
        const recovered = yield* runOver(
          {
            [recoverRoute]: [status(502), ok(sandboxDto({ state: "started" }))],
            [`GET ${sandboxRoute}`]: [ok(sandboxDto({ state: "error", recoverable: true }))]
          },
          (fake) => Effect.flatMap(handleOver(fake.client, sandboxDto({ state: "error" }), policy), (s) => s.recover())
        )
        assert.isTrue(Either.isRight(recovered.result))
        assert.strictEqual(count(recovered.requests, recoverRoute), 2)
        const resizeRoute = `POST ${sandboxRoute}/resize`
        const resized = yield* runOver(
          { [resizeRoute]: [reset], [`GET ${sandboxRoute}`]: [ok(sandboxDto({ cpu: 2, memory: 4 }))] },
          (fake) =>
            Effect.flatMap(handleOver(fake.client, sandboxDto(), policy), (s) => s.resize({ cpu: 2, memory: 4 }))
        )
        assert.isTrue(Either.isRight(resized.result))
        assert.strictEqual(count(resized.requests, resizeRoute), 1)
      })
  )

  it.effect(
    "when the reconciling read fails, the call fails with the ambiguous error, which says it may have run",
    () =>
      Effect.gen(function* () {
        const route = `POST ${sandboxRoute}/stop`
        const { result, requests } = yield* runOver(
          { [route]: [reset], [`GET ${sandboxRoute}`]: [status(403)] },
          (fake) => Effect.flatMap(handleOver(fake.client, sandboxDto(), policy), (s) => s.stop())
        )
        const error = expectError(result)
        if (error._tag !== "TransportError") return assert.fail(`got ${error._tag}`)
        assert.isTrue(error.sent)
        assert.strictEqual(count(requests, route), 1)
      })
  )

  it.effect("sending again is bounded by the retry policy", () =>
    Effect.gen(function* () {
      const route = `POST ${sandboxRoute}/start`
      const { result, requests } = yield* runOver(
        {
          [route]: [status(503)],
          [`GET ${sandboxRoute}`]: [ok(sandboxDto({ state: "stopped", desiredState: "stopped" }))]
        },
        (fake) =>
          Effect.flatMap(
            handleOver(fake.client, sandboxDto({ state: "stopped" }), {
              retryPolicy: RetryPolicy.exponential({ retries: 2 }),
              operationTimeout: "10 minutes"
            }),
            (s) => s.start()
          )
      )
      assert.strictEqual(expectError(result)._tag, "UnexpectedResponseError")
      assert.strictEqual(count(requests, route), 3)
    })
  )

  it.effect("snapshot activate after a 503 reads the snapshot: active, done with one request", () =>
    Effect.gen(function* () {
      const id = snapshotDto().id
      const snapshot = (state: string) => snapshotDto({ state })
      Schema.decodeUnknownSync(SnapshotDto)(snapshot("active"))
      const route = `POST /api/snapshots/${id}/activate`
      const { result, requests } = yield* runOver(
        { [route]: [status(503)], [`GET /api/snapshots/${id}`]: [ok(snapshot("active"))] },
        (fake) =>
          Effect.flatMap(Effect.provide(Snapshots.Snapshots, layerWith(fake.client, policy)), (snapshots) =>
            snapshots.activate(id)
          )
      )
      if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
      assert.strictEqual(result.right.state, "active")
      assert.strictEqual(count(requests, route), 1)
    })
  )
})

describe("create: reconciled by its create-id label", () => {
  const create = (fake: Effect.Effect.Success<ReturnType<typeof makeFake>>) =>
    Effect.flatMap(Effect.provide(Daytona.Daytona, layerWith(fake.client, policy)), (daytona) => daytona.create())
  const listPage = (...items: ReadonlyArray<unknown>) => ok({ items, nextCursor: null })

  it.effect("answer lost: found by its label and adopted, one create sent", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* runOver(
        {
          "POST /api/sandbox": [reset],
          "GET /api/sandbox": [listPage(sandboxListItem())],
          [`GET ${sandboxRoute}`]: [ok(sandboxDto())]
        },
        create
      )
      assert.isTrue(Either.isRight(result))
      assert.strictEqual(count(requests, "POST /api/sandbox"), 1)
    })
  )

  it.effect("a 503: not found by its label, sent again with the same create id", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* runOver(
        {
          "POST /api/sandbox": [status(503), ok(sandboxDto())],
          "GET /api/sandbox": [listPage(), listPage(sandboxListItem())]
        },
        create
      )
      assert.isTrue(Either.isRight(result))
      const posts = requests.filter((request) => request.method === "POST")
      assert.strictEqual(posts.length, 2)
      assert.strictEqual(createIdOf(posts[0]!), createIdOf(posts[1]!))
      assert.strictEqual(count(requests, "DELETE /api/sandbox/sb-1"), 0)
    })
  )

  it.effect("a gateway timeout whose create landed late: the duplicate of the label is deleted", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* runOver(
        {
          "POST /api/sandbox": [status(504), ok(sandboxDto({ id: "sb-2" }))],
          "GET /api/sandbox": [listPage(), listPage(sandboxListItem(), sandboxListItem({ id: "sb-2" }))],
          "DELETE /api/sandbox/sb-1": [ok(sandboxDto())]
        },
        create
      )
      if (Either.isLeft(result)) return assert.fail(`${result.left._tag}: ${result.left.message}`)
      assert.strictEqual(result.right.id, "sb-2")
      assert.strictEqual(count(requests, "DELETE /api/sandbox/sb-1"), 1)
    })
  )
})

describe("waits: a failed poll is a missed poll, within the deadline", () => {
  it.effect("waitUntilStarted goes on through a 503, a cut body and a reset", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* runOver(
        {
          [`GET ${sandboxRoute}`]: [
            status(503),
            cut(sandboxDto({ state: "starting" })),
            reset,
            ok(sandboxDto({ state: "starting" })),
            ok(sandboxDto({ state: "started" }))
          ]
        },
        (fake) =>
          Effect.flatMap(handleOver(fake.client, sandboxDto({ state: "starting" })), (s) => s.waitUntilStarted())
      )
      assert.isTrue(Either.isRight(result))
      assert.strictEqual(count(requests, `GET ${sandboxRoute}`), 5)
    })
  )

  it.effect("stop and delete({wait}) outlast failed polls", () =>
    Effect.gen(function* () {
      const stopped = yield* runOver(
        {
          [`POST ${sandboxRoute}/stop`]: [ok(sandboxDto({ state: "stopping" }))],
          [`GET ${sandboxRoute}`]: [cut(sandboxDto()), status(502), ok(sandboxDto({ state: "stopped" }))]
        },
        (fake) => Effect.flatMap(handleOver(fake.client), (s) => s.stop())
      )
      assert.isTrue(Either.isRight(stopped.result))
      const deleted = yield* runOver(
        {
          [`DELETE ${sandboxRoute}`]: [ok(sandboxDto())],
          [`GET ${sandboxRoute}`]: [status(503), cut(sandboxDto()), status(404)]
        },
        (fake) => Effect.flatMap(handleOver(fake.client), (s) => s.delete({ wait: true }))
      )
      assert.isTrue(Either.isRight(deleted.result))
    })
  )

  it.effect("polls that keep failing end at the deadline with WaitTimeoutError and the last state seen", () =>
    Effect.gen(function* () {
      const { result } = yield* runOver(
        {
          [`POST ${sandboxRoute}/stop`]: [ok(sandboxDto({ state: "stopping" }))],
          [`GET ${sandboxRoute}`]: [status(503)]
        },
        (fake) => Effect.flatMap(handleOver(fake.client), (s) => s.stop({ timeout: "20 seconds" }))
      )
      const error = expectError(result)
      if (error._tag !== "WaitTimeoutError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.lastState, "stopping")
    })
  )

  it.effect("a poll that fails for good (403) ends the wait at once", () =>
    Effect.gen(function* () {
      const { result, requests } = yield* runOver({ [`GET ${sandboxRoute}`]: [status(403)] }, (fake) =>
        Effect.flatMap(handleOver(fake.client, sandboxDto({ state: "starting" })), (s) => s.waitUntilStarted())
      )
      assert.strictEqual(expectError(result)._tag, "AuthorizationError")
      assert.strictEqual(count(requests, `GET ${sandboxRoute}`), 1)
    })
  )
})
