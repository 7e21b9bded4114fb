/**
 * The full workflow (`Workflow.run`: create, files, git, commands, a session with its followed log,
 * previews, labels, SSH, stop/start/archive, delete) run 20 times at once through the fault proxy,
 * each run with its own seeded fault stream (its requests carry `x-fault-run`), under the fault mix:
 * per request 5 % a connection reset (half before the server saw it, half after it answered), 5 % an
 * injected 503, 5 % a 429 with `Retry-After: 1`, 3 % a 3 s stall mid-body, 3 % a body cut half way;
 * log WebSockets get the same mix (a reset, a refused upgrade, a stalled or dropped stream).
 *
 * The SDK runs with its default settings but 8 retries (see `sdkOptions`). Every step whose requests are all safe or convergent
 * succeeds; the only failures left are unsafe steps (commands, clone, commit) hit by an ambiguous
 * fault, whose errors say the request may have run; no error is untyped; no sandbox is left.
 *
 * `FAULTS_SEED=<seed>` replays a run set (run i uses seed + i).
 */
import * as RetryPolicy from "@effect-daytona/sdk/RetryPolicy"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as NodeChild from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { Fault, type RequestInfo } from "../src/FaultProxy.js"
import * as FaultMix from "../src/FaultMix.js"
import * as Harness from "../src/Harness.js"
import * as Recorder from "../src/Recorder.js"
import * as Workflow from "../src/Workflow.js"
import { eventually } from "./support.js"

const runs = 20
const seed = FaultMix.seedFromEnv()

/**
 * The SDK's settings: its defaults but for the retry count. Under a mix that faults one request in
 * five, the default 3 retries leave about one safe call in a thousand failing four times in a row;
 * 8 retries make that about one in five million.
 */
const sdkOptions: Harness.SdkOptions = { retryPolicy: RetryPolicy.exponential({ retries: 8 }) }

/** A bare repository with one commit, on the host (the server runs without isolation). */
const makeRepository = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "faults-repo-"))
    const git = (cwd: string, ...args: Array<string>) =>
      NodeChild.execFileSync("git", args, {
        cwd,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@t",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@t"
        }
      })
    const seedDir = NodePath.join(dir, "seed")
    NodeFs.mkdirSync(seedDir)
    git(dir, "init", "-q", "--bare", "-b", "main", NodePath.join(dir, "origin.git"))
    git(seedDir, "init", "-q", "-b", "main")
    NodeFs.writeFileSync(NodePath.join(seedDir, "README.md"), "hello\n")
    git(seedDir, "add", ".")
    git(seedDir, "commit", "-q", "-m", "seed")
    git(seedDir, "push", "-q", NodePath.join(dir, "origin.git"), "main")
    return dir
  }),
  (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
)

describe("the full workflow under the fault mix", () => {
  it.live(
    `${runs} seeded runs at once: no avoidable failure, no untyped error, no leak`,
    () => {
      const recorder = Recorder.make()
      return Effect.gen(function* () {
        const started = Date.now()
        console.log(`full workflow seed: ${seed} (replay with FAULTS_SEED=${seed})`)
        const repository = yield* makeRepository
        const harness = yield* Harness.make({ transition: "5 millis" })
        const generators = Array.from({ length: runs }, (_, index) => FaultMix.rng(seed + index))
        yield* harness.proxy.setPolicy((request: RequestInfo) => {
          const tag = request.headers["x-fault-run"]
          const random = typeof tag === "string" ? generators[Number(tag)] : undefined
          return random === undefined ? Fault.pass : FaultMix.proxyFault(random, request.websocket)
        })
        const label = `full-${seed}`
        const reports = yield* Effect.forEach(
          generators.map((_, index) => index),
          (index) =>
            Workflow.run({
              labels: { run: label, workflow: String(index) },
              repositoryUrl: `file://${NodePath.join(repository, "origin.git")}`
            }).pipe(
              Effect.scoped,
              Effect.provide(harness.sdk(sdkOptions, { headers: { "x-fault-run": String(index) } })),
              Effect.timeoutFail({
                duration: "150 seconds",
                onTimeout: () => new Error(`run ${index} (seed ${seed + index}) hung`)
              }),
              Effect.exit,
              Effect.map((exit) => ({ index, exit }))
            ),
          { concurrency: runs }
        )
        const workflowsMillis = Date.now() - started
        const problems: Array<string> = []
        const counts = { steps: 0, success: 0, skipped: 0, avoidable: 0, ambiguous: 0, untyped: 0, fullPasses: 0 }
        for (const { index, exit } of reports) {
          recorder.recordExit(exit)
          if (Exit.isFailure(exit)) {
            problems.push(`run ${index} (seed ${seed + index}): ${String(exit.cause).slice(0, 2000)}`)
            continue
          }
          const steps = exit.value.steps
          const id = exit.value.sandboxId
          if (steps.every((step) => step.outcome === "Success")) counts.fullPasses++
          for (const step of steps) {
            counts.steps++
            if (step.outcome === "Success") counts.success++
            if (step.outcome === "Skipped") counts.skipped++
            if (step.outcome === "Ambiguous") counts.ambiguous++
            if (step.outcome === "Avoidable" || step.outcome === "Untyped") {
              if (step.outcome === "Avoidable") counts.avoidable++
              else counts.untyped++
              const log = (yield* harness.proxy.requests).filter((r) => id !== undefined && r.url.includes(id))
              problems.push(
                `run ${index} (seed ${seed + index}) ${step.step} [${step.class}]: ${step.outcome}: ${step.error}; requests: ${log.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/, "{id}")} ${r.fault} ${r.upstreamStatus ?? ""}`).join(" | ")}`
              )
            }
          }
          const failed = steps.filter((step) => step.outcome !== "Success")
          if (failed.length > 0) {
            console.log(
              `run ${index}: ${failed.map((step) => `${step.step} ${step.outcome}${step.error === undefined ? "" : ` (${step.error.slice(0, 120)})`}`).join("; ")}`
            )
          }
        }
        const gone = yield* eventually(
          Effect.map(harness.listDirect({ run: label }), (left) => left.length === 0),
          "20 seconds"
        )
        const left = yield* harness.listDirect({ run: label })
        const requests = yield* harness.proxy.requests
        const faulted = requests.filter((request) => request.fault !== "Pass").length
        console.log(
          [
            `seed ${seed}: ${runs} runs of the full workflow in ${workflowsMillis} ms`,
            `requests through the proxy: ${requests.length}, faulted: ${faulted}`,
            `runs: ${runs}, full passes: ${counts.fullPasses}, steps: ${counts.steps}, succeeded: ${counts.success}, skipped: ${counts.skipped}`,
            `avoidable failures: ${counts.avoidable}, ambiguous failures of unsafe steps: ${counts.ambiguous}, untyped: ${counts.untyped}, leaked sandboxes: ${left.length}`
          ].join("\n")
        )
        assert.deepStrictEqual(problems, [])
        assert.isTrue(gone, `sandboxes left: ${JSON.stringify(left)}`)
        assert.strictEqual(counts.avoidable, 0)
        assert.strictEqual(counts.untyped, 0)
        assert.isAbove(faulted, runs * 5, "enough requests were faulted for the runs to mean something")
        assert.deepStrictEqual(recorder.leaks(harness.apiKey), [])
      }).pipe(Effect.scoped, Effect.provide(recorder.layer))
    },
    240_000
  )
})
