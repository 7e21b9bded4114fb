/**
 * A thousand scoped sandbox workflows (createScoped → one to three random operations → scope end),
 * a hundred at a time, in memory (the testing kit: the real SDK against the local server's app with no
 * socket), under the fault mix (`FaultMix.inMemoryFault`: resets, 503, 429 with `Retry-After: 1`,
 * 3 s stalls, bodies cut half way) on every request, with a third of the workflows interrupted at a
 * random moment. Time is real (driving the TestClock by hand made this run about twice slower, as
 * measured), so the 1 s and 3 s pauses are waited out, a hundred workflows at a time.
 *
 * Counted and checked: runs, full passes, avoidable failures (an operation whose requests are all
 * safe or convergent failed: must be 0), ambiguous failures (an unsafe operation hit by a fault that
 * leaves open whether it ran, its error saying so), untyped errors (must be 0) and leaked sandboxes
 * (must be 0 once every scope has closed, duplicates of a create sent again included).
 *
 * The plan (operations, interruptions, the faults' random stream) comes from `FAULTS_SEED` when set.
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as DaytonaError from "@effect-daytona/sdk/DaytonaError"
import * as RetryPolicy from "@effect-daytona/sdk/RetryPolicy"
import type * as Sandbox from "@effect-daytona/sdk/Sandbox"
import * as DaytonaTest from "@effect-daytona/testing/DaytonaTest"
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as FaultMix from "../src/FaultMix.js"
import * as Workflow from "../src/Workflow.js"

const workflows = 1000
const concurrency = 100
const seed = FaultMix.seedFromEnv()

type OperationName =
  | "get"
  | "list"
  | "setLabels"
  | "setAutostopInterval"
  | "getPreviewLink"
  | "createSshAccess"
  | "uploadDownload"
  | "listFiles"
  | "createSession"
  | "executeCommand"
  | "stopStart"
  | "archiveStart"

/** Whether each operation's requests may all be replayed or reconciled. */
const operations: Readonly<Record<OperationName, Workflow.StepClass>> = {
  get: "replayable",
  list: "replayable",
  setLabels: "replayable",
  setAutostopInterval: "replayable",
  getPreviewLink: "replayable",
  createSshAccess: "replayable",
  uploadDownload: "replayable",
  listFiles: "replayable",
  createSession: "replayable",
  executeCommand: "unsafe",
  stopStart: "replayable",
  archiveStart: "replayable"
}
const names = Object.keys(operations) as ReadonlyArray<OperationName>

interface Plan {
  readonly index: number
  readonly operations: ReadonlyArray<OperationName>
  /** Whether the workflow ends by deleting its sandbox itself (the scope deletes it otherwise). */
  readonly deletes: boolean
  /** Interrupt the workflow after this many (TestClock) milliseconds, if set. */
  readonly interruptAfter: number | undefined
}

const content = "fault-run ".repeat(300)

const runOperation = (sandbox: Sandbox.Sandbox, name: OperationName, labels: Readonly<Record<string, string>>) =>
  Effect.gen(function* () {
    const daytona = yield* Daytona.Daytona
    switch (name) {
      case "get":
        return yield* daytona.get(sandbox.id)
      case "list":
        return yield* Stream.runCollect(daytona.list({ labels }))
      case "setLabels":
        return yield* sandbox.setLabels({ ...labels, touched: "yes" })
      case "setAutostopInterval":
        return yield* sandbox.setAutostopInterval(30)
      case "getPreviewLink":
        return yield* sandbox.getPreviewLink(8080)
      case "createSshAccess":
        return yield* sandbox.createSshAccess()
      case "uploadDownload": {
        yield* sandbox.fs.uploadFile("/tmp/run.txt", content)
        const chunks = yield* Stream.runCollect(sandbox.fs.downloadFile("/tmp/run.txt"))
        const text = Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8")
        if (text !== content) return yield* Effect.dieMessage("the download gave other bytes than the upload's")
        return text.length
      }
      case "listFiles":
        return yield* sandbox.fs.listFiles("/tmp")
      case "createSession":
        return yield* sandbox.process.createSession("faults")
      case "executeCommand":
        return yield* sandbox.process.executeCommand("echo fault-run")
      case "stopStart":
        return yield* sandbox.stop().pipe(Effect.zipRight(sandbox.start()))
      case "archiveStart":
        return yield* sandbox
          .stop()
          .pipe(Effect.zipRight(sandbox.archive({ wait: true })), Effect.zipRight(sandbox.start()))
    }
  })

describe("randomized scoped workflows in memory under the fault mix and interruptions", () => {
  it.live(
    `${workflows} workflows, ${concurrency} at a time: no avoidable failure, no untyped error, no leak`,
    () =>
      Effect.gen(function* () {
        const started = Date.now()
        console.log(`in-memory fault suite seed: ${seed} (replay with FAULTS_SEED=${seed})`)
        const random = FaultMix.rng(seed)
        const plans: ReadonlyArray<Plan> = Array.from({ length: workflows }, (_, index) => ({
          index,
          operations: Array.from(
            { length: 1 + Math.floor(random() * 3) },
            () => names[Math.floor(random() * names.length)]!
          ),
          deletes: random() < 0.3,
          interruptAfter: random() < 0.33 ? Math.floor(random() * 3000) : undefined
        }))
        yield* DaytonaTest.scriptCommand("echo fault-run", { stdout: "fault-run\n" })
        const faults = FaultMix.rng(seed ^ 0x5eed)
        yield* DaytonaTest.setFaultPolicy(() => FaultMix.inMemoryFault(faults))

        const run = `mem-${seed}`
        const daytona = yield* Daytona.Daytona
        const problems: Array<string> = []
        const counts = {
          runs: 0,
          fullPasses: 0,
          interrupted: 0,
          operations: 0,
          avoidable: 0,
          ambiguous: 0,
          untyped: 0,
          createFailed: 0
        }
        const untyped = (label: string, cause: Cause.Cause<unknown>) => {
          counts.untyped++
          problems.push(`${label}: untyped: ${Cause.pretty(cause).slice(0, 500)}`)
        }
        /** Records an operation's outcome; whether it succeeded. */
        const judge = (label: string, stepClass: Workflow.StepClass, exit: Exit.Exit<unknown, unknown>) => {
          counts.operations++
          if (Exit.isSuccess(exit)) return true
          if (Exit.isInterrupted(exit)) return false
          const failure = Cause.failureOption(exit.cause)
          if (Option.isNone(failure) || !DaytonaError.isDaytonaError(failure.value)) {
            untyped(label, exit.cause)
            return false
          }
          if (stepClass === "unsafe" && Workflow.isAmbiguous(failure.value)) {
            counts.ambiguous++
            return false
          }
          counts.avoidable++
          problems.push(`${label} [${stepClass}]: ${failure.value._tag}: ${failure.value.message}`)
          return false
        }

        const workflow = (plan: Plan) =>
          Effect.gen(function* () {
            const labels = { run, workflow: String(plan.index) }
            const created = yield* Effect.exit(daytona.createScoped({ labels }))
            if (!judge(`workflow ${plan.index}: createScoped`, "replayable", created) || Exit.isFailure(created)) {
              counts.createFailed++
              return false
            }
            const sandbox = created.value
            let passed = true
            for (const name of plan.operations) {
              const exit = yield* Effect.exit(runOperation(sandbox, name, labels))
              if (!judge(`workflow ${plan.index}: ${name}`, operations[name], exit)) passed = false
            }
            if (plan.deletes) {
              const exit = yield* Effect.exit(sandbox.delete({ wait: true }))
              if (!judge(`workflow ${plan.index}: delete`, "replayable", exit)) passed = false
            }
            return passed
          }).pipe(Effect.scoped)

        const one = (plan: Plan) =>
          Effect.gen(function* () {
            counts.runs++
            const fiber = yield* Effect.fork(workflow(plan))
            if (plan.interruptAfter !== undefined) {
              yield* Effect.sleep(plan.interruptAfter)
              if (Option.isNone(yield* Fiber.poll(fiber))) counts.interrupted++
              // Interruption waits for the scope's cleanup, which must end too.
              yield* Fiber.interrupt(fiber)
            }
            const exit = yield* Fiber.await(fiber)
            if (Exit.isSuccess(exit) && exit.value && plan.interruptAfter === undefined) counts.fullPasses++
            if (Exit.isFailure(exit) && !Exit.isInterrupted(exit)) untyped(`workflow ${plan.index}`, exit.cause)
          }).pipe(
            Effect.timeoutFail({
              duration: "10 minutes",
              onTimeout: () => new Error(`workflow ${plan.index} (${plan.operations.join(", ")}): no end (hang)`)
            })
          )

        yield* Effect.forEach(plans, one, { concurrency, discard: true })
        const workflowsMillis = Date.now() - started

        // Every scope has closed: with the faults off, the server must soon hold none of the run's sandboxes.
        yield* DaytonaTest.clearFaults
        const listRun = Stream.runCollect(daytona.list({ labels: { run }, includeErroredDeleted: true })).pipe(
          Effect.map(Chunk.toReadonlyArray)
        )
        let left = yield* listRun
        for (let i = 0; i < 120 && left.length > 0; i++) {
          yield* Effect.sleep("1 second")
          left = yield* listRun
        }
        const all = yield* DaytonaTest.requests
        const faulted = all.filter((request) => request.injected.length > 0).length
        const creates = all.filter((request) => request.operation === "createSandbox")
        const createIds = new Set(
          creates.map(
            (request) =>
              (JSON.parse(request.body ?? "{}") as { labels?: Record<string, string> }).labels?.[Daytona.createIdLabel]
          )
        )
        console.log(
          [
            `seed ${seed}: ${workflows} workflows in ${workflowsMillis} ms`,
            `requests: ${all.length}, faulted: ${faulted}, creates sent: ${creates.length} for ${createIds.size} create ids`,
            `runs: ${counts.runs}, full passes: ${counts.fullPasses}, interrupted: ${counts.interrupted}, operations: ${counts.operations}`,
            `avoidable failures: ${counts.avoidable}, ambiguous failures of unsafe operations: ${counts.ambiguous}, untyped: ${counts.untyped}, leaked sandboxes: ${left.length}`
          ].join("\n")
        )
        assert.deepStrictEqual(problems, [])
        assert.strictEqual(counts.runs, workflows)
        assert.strictEqual(counts.avoidable, 0)
        assert.strictEqual(counts.untyped, 0)
        assert.deepStrictEqual(
          left.map((sandbox) => `${sandbox.id} ${sandbox.state} ${sandbox.labels["workflow"]}`),
          []
        )
        assert.isAbove(faulted, workflows, "enough requests were faulted for the run to mean something")
        assert.isAbove(counts.interrupted, workflows / 10)
        assert.isAbove(counts.fullPasses, workflows / 4)
      }).pipe(
        Effect.provide(
          DaytonaTest.layer({
            sdk: { retryPolicy: RetryPolicy.exponential({ retries: 8 }) }
          })
        ),
        Effect.scoped
      ),
    600_000
  )
})
