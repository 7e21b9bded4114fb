import * as DaytonaTest from "@effect-daytona/testing/DaytonaTest"
import * as SandboxPool from "@effect-daytona/sdk/SandboxPool"
import { assert, describe, it } from "@effect/vitest"
import { type DataPoint, MetricReader } from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as CodeRunner from "../src/backend/CodeRunner.js"
import { ExecRequest, RunRequest } from "../src/backend/RunApi.js"
import * as Sessions from "../src/backend/Sessions.js"
import * as Telemetry from "../src/backend/Telemetry.js"

/** Lets forked fibers (the pool's creates and background deletes) run, without moving the clock. */
const settle = TestClock.adjust(Duration.zero)

const pool: SandboxPool.Options = { name: "test", min: 1, max: 2, warm: [{ language: "python" }], reuse: false }

/** The service's own layers over the testing kit: the SDK replaced by the in-memory local server. */
const services = (
  options: {
    readonly pool?: SandboxPool.Options
    readonly sessions?: Sessions.Options
  } = {}
) =>
  Layer.merge(CodeRunner.layer, Sessions.layer(options.sessions)).pipe(
    Layer.provideMerge(SandboxPool.layer(options.pool ?? pool)),
    Layer.provideMerge(DaytonaTest.layer())
  )

const python = (run: { readonly argv: ReadonlyArray<string> }) => run.argv[0] === "python3"

const deletedSandboxes = Effect.map(
  DaytonaTest.requests,
  (requests) => requests.filter((r) => r.operation === "deleteSandbox" && r.status === 200).length
)

const run = (request: ConstructorParameters<typeof RunRequest>[0]) =>
  Effect.flatMap(CodeRunner.CodeRunner, (runner) => runner.run(new RunRequest(request)))

describe("CodeRunner over the testing kit", () => {
  it.effect("runs code in a warm sandbox, which serves no second run", () =>
    Effect.gen(function* () {
      yield* settle
      yield* DaytonaTest.scriptCommand(python, { stdout: "42\n", exitCode: 0 })
      const result = yield* run({ language: "python", code: "print(6 * 7)" })
      assert.strictEqual(result.output, "42\n")
      assert.strictEqual(result.exitCode, 0)
      const [command] = yield* DaytonaTest.commands
      assert.deepStrictEqual(command!.argv, ["python3", "-c", "print(6 * 7)"])
      yield* settle
      assert.strictEqual(yield* deletedSandboxes, 1)
      // The run found the sandbox warm: the only creates are the pool's (the first and its replacement).
      const creates = (yield* DaytonaTest.requests).filter((r) => r.operation === "createSandbox")
      assert.strictEqual(creates.length, 2)
    }).pipe(Effect.provide(services()))
  )

  it.effect("past its deadline a run fails with RunTimeout and its sandbox is deleted", () =>
    Effect.gen(function* () {
      yield* settle
      yield* DaytonaTest.scriptCommand(python, { stdout: "never\n", delay: "1 minute" })
      const fiber = yield* Effect.fork(
        Effect.flip(run({ language: "python", code: "while True: pass", timeoutSeconds: 5 }))
      )
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RunTimeout")
      yield* settle
      assert.strictEqual(yield* deletedSandboxes, 1)
    }).pipe(Effect.provide(services()))
  )

  it.effect("Daytona's quota refusing the create is Unavailable (503)", () =>
    Effect.gen(function* () {
      yield* DaytonaTest.failNext(
        { operation: "createSandbox" },
        {
          status: 403,
          body: { statusCode: 403, message: "Total CPU limit exceeded. Maximum allowed: 10.", error: "Forbidden" }
        }
      )
      const error = yield* Effect.flip(run({ language: "python", code: "print(1)" }))
      assert.strictEqual(error._tag, "Unavailable")
      yield* TestClock.adjust("5 seconds")
    }).pipe(Effect.provide(services({ pool: { name: "test", min: 0, max: 2 } })))
  )
})

// A session's commands need a live shell, which the scripted engine does not run: they are tested
// over real HTTP with real processes (RunServiceHttp.test.ts). Here the shell is scripted to stay up,
// and the tests are about the session's lifetime, on the TestClock.
const shellStaysUp = DaytonaTest.scriptCommand((run) => run.argv[0] === "/bin/sh", { delay: "1 day" })

describe("Sessions over the testing kit", () => {
  it.effect("a session holds one sandbox; idle past idleTimeout it is closed and its sandbox deleted", () =>
    Effect.gen(function* () {
      yield* shellStaysUp
      yield* settle
      const sessions = yield* Sessions.Sessions
      const info = yield* sessions.open("python")
      const created = (yield* DaytonaTest.requests).filter((r) => r.operation === "createSession")
      assert.strictEqual(created.length, 1)
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual(yield* sessions.size, 1)
      assert.strictEqual(yield* deletedSandboxes, 0)
      yield* TestClock.adjust("11 seconds")
      assert.strictEqual(yield* sessions.size, 0)
      const gone = yield* Effect.flip(sessions.exec(info.sessionId, new ExecRequest({ command: "echo late" })))
      assert.strictEqual(gone._tag, "SessionNotFound")
      yield* settle
      assert.strictEqual(yield* deletedSandboxes, 1)
    }).pipe(Effect.provide(services({ sessions: { idleTimeout: "1 minute" } })))
  )

  it.effect("no more than maxSessions at once; closing one makes room", () =>
    Effect.gen(function* () {
      yield* shellStaysUp
      yield* settle
      const sessions = yield* Sessions.Sessions
      const open = yield* sessions.open("python")
      const refused = yield* Effect.flip(sessions.open("python"))
      assert.strictEqual(refused._tag, "Unavailable")
      yield* sessions.close(open.sessionId)
      yield* settle
      assert.strictEqual(yield* deletedSandboxes, 1)
      yield* sessions.open("python")
      assert.strictEqual(yield* sessions.size, 1)
    }).pipe(Effect.provide(services({ sessions: { maxSessions: 1 } })))
  )
})

/** A metric reader that reads only when the test calls `collect()`. */
class OnDemandReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve()
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve()
  }
}

describe("tracing in the example's exporter", () => {
  it.effect("a run's spans reach the OpenTelemetry exporter, and its requests carry the trace", () =>
    Effect.gen(function* () {
      const exporter = new InMemorySpanExporter()
      yield* Effect.gen(function* () {
        yield* settle
        yield* DaytonaTest.scriptCommand(python, { stdout: "ok\n" })
        yield* run({ language: "python", code: "print('ok')" })
        const sent = (yield* DaytonaTest.requests).find((r) => r.operation === "codeRun")!
        assert.match(sent.headers["traceparent"] ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
        // (The in-memory exporter forgets its spans when the SDK shuts down: read them before.)
        const spans = exporter.getFinishedSpans()
        const names = spans.map((span) => span.name)
        assert.includeMembers(names, [
          "CodeRunner.run",
          "SandboxPool.lease",
          "daytona.codeRun",
          "daytona.createSandbox"
        ])
        const codeRun = spans.find((span) => span.name === "daytona.codeRun")!
        const runSpan = spans.find((span) => span.name === "CodeRunner.run")!
        assert.strictEqual(codeRun.spanContext().traceId, runSpan.spanContext().traceId)
        assert.include(sent.headers["traceparent"]!, codeRun.spanContext().traceId)
        assert.isString(codeRun.attributes["daytona.sandbox.id"])
        assert.strictEqual(codeRun.attributes["daytona.operation"], "codeRun")
      }).pipe(
        Effect.provide(services()),
        Effect.provide(Telemetry.layer({ spanProcessor: new SimpleSpanProcessor(exporter) }))
      )
    })
  )

  it.effect("the SDK's metrics reach the OpenTelemetry metric reader, with their tags", () =>
    Effect.gen(function* () {
      const reader = new OnDemandReader()
      yield* Effect.gen(function* () {
        yield* settle
        yield* DaytonaTest.scriptCommand(python, { stdout: "ok\n" })
        yield* run({ language: "python", code: "print('ok')" })
        const { resourceMetrics } = yield* Effect.promise(() => reader.collect())
        const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
        const points = (name: string) =>
          metrics
            .filter((metric) => metric.descriptor.name === name)
            .flatMap((metric) => metric.dataPoints as ReadonlyArray<DataPoint<unknown>>)
        // Effect's metrics are process-wide: other tests of this file add to the same counters.
        const codeRuns = points("daytona_requests_total").filter(
          (point) =>
            point.attributes["operation"] === "codeRun" &&
            point.attributes["api"] === "toolbox" &&
            point.attributes["status"] === "200"
        )
        assert.strictEqual(codeRuns.length, 1)
        assert.isAtLeast(codeRuns[0]!.value as number, 1)
        const leases = points("daytona_pool_leases_total").filter(
          (point) => point.attributes["pool"] === "test" && point.attributes["outcome"] === "discarded"
        )
        assert.strictEqual(leases.length, 1)
        assert.isAtLeast(leases[0]!.value as number, 1)
        assert.isAbove(points("daytona_request_duration_seconds").length, 0)
      }).pipe(
        Effect.provide(services()),
        Effect.provide(
          Telemetry.layer({ spanProcessor: new SimpleSpanProcessor(new InMemorySpanExporter()), metricReader: reader })
        )
      )
    })
  )

  it.effect("without an exporter, requests carry no trace headers", () =>
    Effect.gen(function* () {
      yield* settle
      yield* DaytonaTest.scriptCommand(python, { stdout: "ok\n" })
      yield* run({ language: "python", code: "print('ok')" })
      for (const request of yield* DaytonaTest.requests) {
        assert.isUndefined(request.headers["traceparent"])
        assert.isUndefined(request.headers["b3"])
      }
    }).pipe(Effect.provide(services()))
  )
})
