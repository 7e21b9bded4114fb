import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as RetryPolicy from "@effect-daytona/sdk/RetryPolicy"
import * as Snapshots from "@effect-daytona/sdk/Snapshots"
import * as Volumes from "@effect-daytona/sdk/Volumes"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as DaytonaTest from "../src/DaytonaTest.js"

const isRunning = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) => Effect.map(Fiber.poll(fiber), Option.isNone)

const requestsOf = (operation: string) =>
  Effect.map(DaytonaTest.requests, (all) => all.filter((request) => request.operation === operation))

describe("time", () => {
  it.effect("a 30 s start finishes after TestClock.adjust('30 seconds') and not before", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const fiber = yield* Effect.fork(daytona.create())
      yield* TestClock.adjust("29 seconds")
      assert.isTrue(yield* isRunning(fiber))
      yield* TestClock.adjust("1 second")
      const sandbox = yield* Fiber.join(fiber)
      assert.strictEqual(sandbox.state, "started")
      assert.strictEqual(yield* Clock.currentTimeMillis, 30_000)
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { create: "30 seconds" } })))
  )

  it.effect("with zero timings (the default) lifecycle calls complete without moving the clock", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create({ name: "quick" })
      const stopped = yield* sandbox.stop()
      assert.strictEqual(stopped.state, "stopped")
      const started = yield* stopped.start()
      assert.strictEqual(started.state, "started")
      assert.strictEqual(yield* Clock.currentTimeMillis, 0)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("failNext", () => {
  it.effect("503 on getSandbox is retried by the SDK's retry policy", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const created = yield* daytona.create()
      yield* DaytonaTest.failNext({ operation: "getSandbox" }, { status: 503 }, { times: 2 })
      const fiber = yield* Effect.fork(daytona.get(created.id))
      yield* TestClock.adjust("10 seconds")
      const sandbox = yield* Fiber.join(fiber)
      assert.strictEqual(sandbox.id, created.id)
      const gets = yield* requestsOf("getSandbox")
      assert.deepStrictEqual(
        gets.map((request) => request.status),
        [503, 503, 200]
      )
      assert.deepStrictEqual(gets[0]!.injected, ["failure"])
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("429 with Retry-After: the create is replayed when the server asked, not before", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      yield* DaytonaTest.failNext({ operation: "createSandbox" }, { status: 429, headers: { "retry-after": "5" } })
      const fiber = yield* Effect.fork(daytona.create())
      yield* TestClock.adjust("4 seconds")
      assert.isTrue(yield* isRunning(fiber))
      assert.strictEqual((yield* requestsOf("createSandbox")).length, 1)
      yield* TestClock.adjust("1 second")
      const sandbox = yield* Fiber.join(fiber)
      assert.strictEqual(sandbox.state, "started")
      const creates = yield* requestsOf("createSandbox")
      assert.deepStrictEqual(
        creates.map((request) => [request.status, request.sentAt]),
        [
          [429, 0],
          [200, 5_000]
        ]
      )
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("404 and 409 surface as the SDK's typed errors", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      yield* DaytonaTest.failNext({ operation: "getSandbox" }, { status: 404 })
      const notFound = yield* Effect.flip(daytona.get(sandbox.id))
      assert.strictEqual(notFound._tag, "NotFoundError")
      yield* DaytonaTest.failNext({ method: "DELETE", path: /^\/api\/sandbox\/[^/]+$/ }, { status: 409 })
      const conflict = yield* Effect.flip(daytona.delete(sandbox.id))
      assert.strictEqual(conflict._tag, "ConflictError")
      assert.include(conflict.message, "injected failure: 409")
      yield* daytona.delete(sandbox.id)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("a custom body reaches the error; a toolbox path gets the daemon's error shape", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      yield* DaytonaTest.failNext(
        { path: "/process/execute" },
        { status: 400, body: { statusCode: 400, message: "no shell today" } }
      )
      const error = yield* Effect.flip(sandbox.process.executeCommand("ls"))
      assert.strictEqual(error._tag, "ValidationError")
      assert.include(error.message, "no shell today")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("a refused connection on create is replayed (it never reached the server)", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      yield* DaytonaTest.failNext({ operation: "createSandbox" }, { transport: "refused" })
      const fiber = yield* Effect.fork(daytona.create())
      yield* TestClock.adjust("1 second")
      const sandbox = yield* Fiber.join(fiber)
      const all = yield* Stream.runCollect(daytona.list())
      assert.deepStrictEqual(
        Array.from(all, (item) => item.id),
        [sandbox.id]
      )
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("cut bodies and fault policies", () => {
  it.effect("a body cut half way: a read is replayed; a command ran and its error says it may have", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      yield* DaytonaTest.failNext({ operation: "getSandbox" }, { truncate: "body" })
      const fiber = yield* Effect.fork(daytona.get(sandbox.id))
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* Fiber.join(fiber)).id, sandbox.id)
      const gets = yield* requestsOf("getSandbox")
      assert.deepStrictEqual(
        gets.map((request) => [request.status, request.failure]),
        [
          [200, "truncated"],
          [200, undefined]
        ]
      )
      yield* DaytonaTest.scriptCommand("echo once", { stdout: "once\n" })
      yield* DaytonaTest.failNext({ operation: "executeCommand" }, { truncate: "body" })
      const error = yield* Effect.flip(sandbox.process.executeCommand("echo once"))
      if (error._tag !== "TransportError") return assert.fail(`got ${error._tag}`)
      assert.isTrue(error.sent)
      assert.strictEqual((yield* DaytonaTest.commands).length, 1)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("a policy decides the fault of every request no rule claims, until clearFaults", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      let gets = 0
      yield* DaytonaTest.setFaultPolicy((request) =>
        request.operation === "getSandbox" && gets++ % 2 === 0 ? { status: 503 } : undefined
      )
      const fiber = yield* Effect.fork(Effect.all([daytona.get(sandbox.id), daytona.get(sandbox.id)]))
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        (yield* requestsOf("getSandbox")).map((request) => request.status),
        [503, 200, 503, 200]
      )
      yield* DaytonaTest.clearFaults
      yield* daytona.get(sandbox.id)
      assert.strictEqual((yield* requestsOf("getSandbox")).at(-1)!.status, 200)
      assert.strictEqual(gets, 4)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("delayNext", () => {
  it.effect("an answer later than the request timeout is a RequestTimeoutError, retried for a GET", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const created = yield* daytona.create()
      yield* DaytonaTest.delayNext({ operation: "getSandbox" }, "1 minute")
      const fiber = yield* Effect.fork(daytona.get(created.id))
      yield* TestClock.adjust("5 seconds")
      assert.isTrue(yield* isRunning(fiber))
      yield* TestClock.adjust("1 second")
      const sandbox = yield* Fiber.join(fiber)
      assert.strictEqual(sandbox.id, created.id)
      const gets = yield* requestsOf("getSandbox")
      assert.deepStrictEqual(
        gets.map((request) => request.status),
        [undefined, 200]
      )
    }).pipe(Effect.provide(DaytonaTest.layer({ sdk: { requestTimeout: "5 seconds" } })))
  )

  it.effect("without retries the delayed request fails with RequestTimeoutError", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const created = yield* daytona.create()
      yield* DaytonaTest.delayNext({ operation: "getSandbox" }, "1 minute")
      const fiber = yield* Effect.fork(Effect.flip(daytona.get(created.id)))
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RequestTimeoutError")
    }).pipe(Effect.provide(DaytonaTest.layer({ sdk: { requestTimeout: "5 seconds", retryPolicy: RetryPolicy.none } })))
  )

  it.effect("a delay shorter than the request timeout only makes the call slower", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const created = yield* daytona.create()
      yield* DaytonaTest.delayNext({ method: "GET" }, "3 seconds")
      const fiber = yield* Effect.fork(daytona.get(created.id))
      yield* TestClock.adjust("2 seconds")
      assert.isTrue(yield* isRunning(fiber))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("setSandboxState", () => {
  it.effect("error during a start wait ends it with SandboxFailedError", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const fiber = yield* Effect.fork(Effect.flip(daytona.create({ name: "job" })))
      yield* TestClock.adjust("1 second")
      assert.isTrue(yield* isRunning(fiber))
      yield* DaytonaTest.setSandboxState("job", "error", { errorReason: "disk full", recoverable: true })
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "SandboxFailedError")
      if (error._tag === "SandboxFailedError") {
        assert.strictEqual(error.state, "error")
        assert.strictEqual(error.errorReason, "disk full")
        assert.strictEqual(error.recoverable, true)
      }
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { create: "30 seconds" }, startWait: 0 })))
  )

  it.effect("build_failed ends the wait of a create from an image", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const fiber = yield* Effect.fork(Effect.flip(daytona.create({ name: "img", image: "python:3.12" })))
      yield* TestClock.adjust("1 second")
      yield* DaytonaTest.setSandboxState("img", "build_failed", { errorReason: "no such image" })
      yield* TestClock.adjust("2 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "SandboxFailedError")
      if (error._tag === "SandboxFailedError") assert.strictEqual(error.state, "build_failed")
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { build: "1 minute" } })))
  )

  it.effect("a recoverable error is visible on refresh and recover() brings the sandbox back", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      yield* DaytonaTest.setSandboxState(sandbox.id, "error", { errorReason: "oom", recoverable: true })
      const broken = yield* sandbox.refreshData
      assert.strictEqual(broken.state, "error")
      assert.strictEqual(broken.errorReason, "oom")
      const recovered = yield* broken.recover()
      assert.strictEqual(recovered.state, "started")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("scripted commands", () => {
  it.effect("executeCommand returns what the script says", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      yield* DaytonaTest.scriptCommand("python3 main.py", { stdout: "42\n" })
      yield* DaytonaTest.scriptCommand(/^exit /, (run) => ({ exitCode: Number(run.argv[1]) }))
      const run = yield* sandbox.process.executeCommand("python3 main.py")
      assert.strictEqual(run.result, "42\n")
      assert.strictEqual(run.exitCode, 0)
      assert.strictEqual((yield* sandbox.process.executeCommand("exit 3")).exitCode, 3)
      const unscripted = yield* sandbox.process.executeCommand("make all")
      assert.strictEqual(unscripted.exitCode, 127)
      assert.include(unscripted.result, "make: command not found")
      const commands = yield* DaytonaTest.commands
      assert.deepStrictEqual(
        commands.map((command) => command.command),
        ["python3 main.py", "exit 3", "make all"]
      )
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("a command slower than its timeout ends with CommandTimeoutError", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      yield* DaytonaTest.scriptCommand("sleep 60", { delay: "60 seconds" })
      const fiber = yield* Effect.fork(
        Effect.flip(sandbox.process.executeCommand("sleep 60", { timeout: "5 seconds" }))
      )
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "CommandTimeoutError")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("files are real but live in the sandbox's own tree, not on the machine", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const test = yield* DaytonaTest.DaytonaTest
      const sandbox = yield* daytona.create()
      assert.strictEqual(yield* sandbox.getUserHomeDir, "/home/daytona")
      // The SDK's uploadFile goes through the server's bulk upload, which reads multipart parts
      // with Node-server-only helpers for now; the file is placed where the sandbox sees it instead.
      const home = NodePath.join(test.dataDir, "sandboxes", sandbox.id, "fs", "home", "daytona")
      NodeFs.writeFileSync(NodePath.join(home, "main.py"), "print(6 * 7)\n")
      const text = yield* sandbox.fs.downloadFile("/home/daytona/main.py").pipe(Stream.decodeText(), Stream.mkString)
      assert.strictEqual(text, "print(6 * 7)\n")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("a fresh state per test", () => {
  it.effect("first test: creates 'shared', leaves a fault and moves the clock", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      yield* daytona.create({ name: "shared" })
      yield* DaytonaTest.failNext({}, { status: 500 }, { times: 100 })
      yield* TestClock.adjust("10 minutes")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("second test: no sandbox, no fault, clock at zero", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const listed = yield* Stream.runCollect(daytona.list())
      assert.strictEqual(listed.length, 0)
      const sandbox = yield* daytona.create({ name: "shared" })
      assert.strictEqual(sandbox.name, "shared")
      assert.strictEqual(yield* Clock.currentTimeMillis, 0)
      assert.strictEqual((yield* DaytonaTest.requests).length, 2)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("snapshots and volumes", () => {
  it.effect("are served in memory, named as operations, and take injected faults", () =>
    Effect.gen(function* () {
      const volumes = yield* Volumes.Volumes
      yield* DaytonaTest.failNext({ operation: "createVolume" }, { status: 400 })
      const refused = yield* Effect.either(volumes.create("data"))
      assert.strictEqual(Either.isLeft(refused) ? refused.left._tag : "Success", "ValidationError")
      const created = yield* volumes.create("data")
      const fiber = yield* Effect.fork(volumes.waitUntilReady(created.id))
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* Fiber.join(fiber)).state, "ready")
      const snapshots = yield* Snapshots.Snapshots
      const names = (yield* Stream.runCollect(snapshots.list())).pipe((chunk) => [...chunk].map((s) => s.name))
      assert.includeMembers(names, ["daytona-small", "daytona-medium", "daytona-large"])
      const operations = (yield* DaytonaTest.requests).map((request) => `${request.operation} ${request.status}`)
      assert.deepStrictEqual(operations.slice(0, 3), ["createVolume 400", "createVolume 200", "getVolume 200"])
      assert.include(operations, "listSnapshots 200")
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { create: "1 second" } })))
  )
})

describe("ports", () => {
  it.effect("waitUntilPortInUse polls until the sandbox listens, and fails typed when its timeout passes first", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      assert.deepStrictEqual(yield* sandbox.getActivePorts, [])
      assert.isFalse(yield* sandbox.isPortInUse(3000))

      const waiting = yield* Effect.fork(sandbox.waitUntilPortInUse(3000, { timeout: "1 minute" }))
      yield* TestClock.adjust("10 seconds")
      assert.isTrue(yield* isRunning(waiting))
      const asked = (yield* requestsOf("isPortInUse")).length
      assert.isAbove(asked, 10)
      yield* DaytonaTest.scriptPorts(sandbox.id, [8080, 3000, 3000])
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(waiting)
      assert.deepStrictEqual(yield* sandbox.getActivePorts, [3000, 8080])

      const never = yield* Effect.fork(Effect.either(sandbox.waitUntilPortInUse(5173, { timeout: "30 seconds" })))
      yield* TestClock.adjust("30 seconds")
      const timedOut = yield* Fiber.join(never)
      assert.isTrue(Either.isLeft(timedOut) && timedOut.left._tag === "WaitTimeoutError", String(timedOut))

      for (const port of [0, 65536, 1.5, Number.NaN]) {
        const refused = yield* Effect.either(sandbox.waitUntilPortInUse(port))
        assert.isTrue(Either.isLeft(refused) && refused.left._tag === "ValidationError", `port ${port}`)
      }
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("ensureStarted", () => {
  it.effect("from started, stopped, archived and paused: started, each with at most one start request", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      const startsSoFar = Effect.map(requestsOf("startSandbox"), (all) => all.length)

      assert.strictEqual((yield* sandbox.ensureStarted()).state, "started")
      assert.strictEqual(yield* startsSoFar, 0)

      yield* sandbox.stop()
      assert.strictEqual((yield* sandbox.ensureStarted()).state, "started")
      assert.strictEqual(yield* startsSoFar, 1)

      yield* (yield* sandbox.stop()).archive({ wait: true })
      assert.strictEqual((yield* sandbox.ensureStarted()).state, "started")
      assert.strictEqual(yield* startsSoFar, 2)

      yield* sandbox.pause()
      assert.strictEqual((yield* sandbox.ensureStarted()).state, "started")
      assert.strictEqual(yield* startsSoFar, 3)

      // Another client's transition won the race: the 409 is answered by reading again and starting.
      yield* sandbox.stop()
      yield* DaytonaTest.failNext({ operation: "startSandbox" }, { status: 409 })
      assert.strictEqual((yield* sandbox.ensureStarted()).state, "started")
      assert.strictEqual(yield* startsSoFar, 5)
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("during a stop it waits for the stop to end, then starts; within one deadline", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      /** Moves the clock a second at a time (each poll's answer arrives between steps) while `fiber` runs. */
      const drive = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, seconds: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < seconds && (yield* isRunning(fiber)); i++) yield* TestClock.adjust("1 second")
        })
      const stopping = yield* Effect.fork(sandbox.stop())
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* sandbox.refreshData).state, "stopping")

      const ensured = yield* Effect.fork(sandbox.ensureStarted({ timeout: "1 minute" }))
      yield* drive(ensured, 40)
      assert.strictEqual((yield* Fiber.join(ensured)).state, "started")
      assert.isAtLeast(yield* Clock.currentTimeMillis, 20_000, "a 10 s stop, then a 10 s start")
      yield* Fiber.join(stopping)
      assert.strictEqual((yield* requestsOf("startSandbox")).length, 1)

      yield* Effect.fork(sandbox.stop())
      yield* TestClock.adjust("1 second")
      const late = yield* Effect.fork(Effect.either(sandbox.ensureStarted({ timeout: "5 seconds" })))
      yield* drive(late, 10)
      const timedOut = yield* Fiber.join(late)
      assert.isTrue(Either.isLeft(timedOut) && timedOut.left._tag === "WaitTimeoutError", String(timedOut))
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { stop: "10 seconds", start: "10 seconds" } })))
  )

  it.effect("an errored sandbox ends it with SandboxFailedError, a deleted one with NotFoundError", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const broken = yield* daytona.create()
      yield* DaytonaTest.setSandboxState(broken.id, "error", { errorReason: "disk gone" })
      const failed = yield* Effect.flip(broken.ensureStarted())
      assert.deepStrictEqual(
        [failed._tag, failed._tag === "SandboxFailedError" && failed.errorReason],
        ["SandboxFailedError", "disk gone"]
      )

      const gone = yield* daytona.create()
      yield* gone.delete({ wait: true })
      assert.strictEqual((yield* Effect.flip(gone.ensureStarted()))._tag, "NotFoundError")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("ensureStopped", () => {
  it.effect("stops a started or paused sandbox, answers a stopped, archived or deleted one, waits out a start", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const stops = Effect.map(requestsOf("stopSandbox"), (all) => all.length)
      const sandbox = yield* daytona.create()
      assert.strictEqual((yield* sandbox.ensureStopped()).state, "stopped")
      assert.strictEqual(yield* stops, 1)
      assert.strictEqual((yield* sandbox.ensureStopped()).state, "stopped")
      assert.strictEqual(yield* stops, 1)
      yield* sandbox.archive({ wait: true })
      assert.strictEqual((yield* sandbox.ensureStopped()).state, "archived")
      assert.strictEqual(yield* stops, 1)
      const paused = yield* daytona.create()
      yield* paused.pause()
      assert.strictEqual((yield* paused.ensureStopped()).state, "stopped")
      assert.strictEqual(yield* stops, 2)

      const gone = yield* daytona.create()
      yield* gone.delete({ wait: true })
      assert.strictEqual((yield* gone.ensureStopped()).state, "destroyed")

      const broken = yield* daytona.create()
      yield* DaytonaTest.setSandboxState(broken.id, "error", { errorReason: "disk gone" })
      assert.strictEqual((yield* Effect.flip(broken.ensureStopped()))._tag, "SandboxFailedError")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("during a start it waits for the start to end, then stops", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      const stopping = yield* Effect.fork(sandbox.stop())
      for (let i = 0; i < 20 && (yield* isRunning(stopping)); i++) yield* TestClock.adjust("1 second")
      yield* Fiber.join(stopping)
      const from = yield* Clock.currentTimeMillis
      const starting = yield* Effect.fork(sandbox.start())
      yield* TestClock.adjust("1 second")
      const ensured = yield* Effect.fork(sandbox.ensureStopped({ timeout: "1 minute" }))
      for (let i = 0; i < 40 && (yield* isRunning(ensured)); i++) yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(ensured)).state, "stopped")
      assert.strictEqual((yield* Fiber.join(starting)).state, "started")
      assert.isAtLeast((yield* Clock.currentTimeMillis) - from, 20_000, "a 10 s start, then a 10 s stop")
    }).pipe(Effect.provide(DaytonaTest.layer({ timings: { stop: "10 seconds", start: "10 seconds" } })))
  )
})

describe("getOrCreate", () => {
  it.effect(
    "creates a named sandbox once, then answers it; a lost race adopts the winner; a blank name is refused",
    () =>
      Effect.gen(function* () {
        const daytona = yield* Daytona.Daytona
        const creates = Effect.map(requestsOf("createSandbox"), (all) => all.length)
        const first = yield* daytona.getOrCreate("workspace", { labels: { team: "a" } })
        assert.deepStrictEqual([first.name, first.labels["team"], yield* creates], ["workspace", "a", 1])
        const again = yield* daytona.getOrCreate("workspace", { labels: { team: "b" } })
        assert.deepStrictEqual([again.id, again.labels["team"], yield* creates], [first.id, "a", 1])

        // The read misses a sandbox another client has just created: the create answers 409, and the
        // name is read again.
        yield* DaytonaTest.failNext({ operation: "getSandbox" }, { status: 404 })
        const raced = yield* daytona.getOrCreate("workspace")
        assert.deepStrictEqual([raced.id, yield* creates], [first.id, 2])

        yield* first.delete({ wait: true })
        const renewed = yield* daytona.getOrCreate("workspace")
        assert.notStrictEqual(renewed.id, first.id)

        const blank = yield* Effect.flip(daytona.getOrCreate("  "))
        assert.strictEqual(blank._tag, "ValidationError")
      }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})

describe("keepActive", () => {
  /** Turns the event loop (no timers) until `condition` holds, so that answers in flight arrive. */
  const settleUntil = <R>(condition: Effect.Effect<boolean, never, R>) =>
    Effect.gen(function* () {
      for (let turn = 0; turn < 5_000 && !(yield* condition); turn++)
        yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      return yield* condition
    })

  it.effect("refreshes activity at once and then every period while its scope is open, and not after", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create()
      const refreshes = Effect.map(requestsOf("updateLastActivity"), (all) => all.length)
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* sandbox.keepActive({ every: "1 minute" })
          assert.isTrue(yield* settleUntil(Effect.map(refreshes, (n) => n === 1)))
          yield* TestClock.adjust("59 seconds")
          assert.strictEqual(yield* refreshes, 1)
          for (let minute = 2; minute <= 4; minute++) {
            yield* TestClock.adjust(minute === 2 ? "1 second" : "1 minute")
            assert.isTrue(yield* settleUntil(Effect.map(refreshes, (n) => n === minute)), `refresh ${minute}`)
          }
        })
      )
      yield* TestClock.adjust("10 minutes")
      assert.isFalse(yield* settleUntil(Effect.map(refreshes, (n) => n > 4)))

      const invalid = yield* Effect.flip(Effect.scoped(sandbox.keepActive({ every: "-1 seconds" })))
      assert.strictEqual(invalid._tag, "ValidationError")
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )

  it.effect("by default a third of the auto-stop interval; a deleted sandbox ends the refreshing", () =>
    Effect.gen(function* () {
      const daytona = yield* Daytona.Daytona
      const sandbox = yield* daytona.create({ autoStopInterval: 3 })
      const refreshes = Effect.map(requestsOf("updateLastActivity"), (all) => all.length)
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* sandbox.keepActive()
          assert.isTrue(yield* settleUntil(Effect.map(refreshes, (n) => n === 1)))
          yield* TestClock.adjust("59 seconds")
          assert.strictEqual(yield* refreshes, 1)
          yield* TestClock.adjust("1 second")
          assert.isTrue(yield* settleUntil(Effect.map(refreshes, (n) => n === 2)))
          yield* sandbox.delete({ wait: true })
          yield* TestClock.adjust("1 minute")
          assert.isTrue(yield* settleUntil(Effect.map(refreshes, (n) => n === 3)))
          yield* TestClock.adjust("5 minutes")
          assert.isFalse(yield* settleUntil(Effect.map(refreshes, (n) => n > 3)))
        })
      )
    }).pipe(Effect.provide(DaytonaTest.layer()))
  )
})
