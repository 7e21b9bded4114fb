/**
 * The quickstart workflow: one sandbox through its whole life, each step printed with its
 * duration. It only needs the `Daytona` service, so it runs unchanged against real Daytona or the
 * local server.
 *
 * @since 0.1.0
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"

const script = `import platform, sys
print(f"hello from python {platform.python_version()} in {sys.argv[0]}")
`

const formatElapsed = (elapsed: Duration.Duration) => `${Math.round(Duration.toMillis(elapsed))} ms`

/** Runs one step and prints its label and how long it took. */
const step = <A, E, R>(label: string, effect: Effect.Effect<A, E, R>, show: (a: A) => string = () => "") =>
  Effect.timed(effect).pipe(
    Effect.tap(([elapsed, value]) => {
      const detail = show(value)
      return Console.log(
        `${label.padEnd(22)} ${formatElapsed(elapsed).padStart(8)}${detail === "" ? "" : `  ${detail}`}`
      )
    }),
    Effect.map(([, value]) => value),
    Effect.tapError((error) => Console.error(`${label} failed: ${String(error)}`))
  )

/**
 * The sandbox workflow itself, the same whatever Daytona it talks to. `runId` labels the sandbox.
 *
 * @since 0.1.0
 */
export const quickstart = (runId: string) =>
  Effect.gen(function* () {
    const daytona = yield* Daytona.Daytona
    const sandbox = yield* step(
      "create (python)",
      daytona.createScoped({ language: "python", labels: { example: "quickstart", run: runId } }),
      (s) => `${s.id} ${s.state}`
    )
    const home = yield* step("home directory", sandbox.getUserHomeDir, (dir) => dir)
    const path = `${home}/main.py`
    yield* step("upload script", sandbox.fs.uploadFile(path, script), () => path)
    const run = yield* step(
      "run script",
      sandbox.process.executeCommand(`python3 ${path}`, { cwd: home }),
      (r) => `exit ${r.exitCode}: ${r.result.trim()}`
    )
    if (run.exitCode !== 0) return yield* Effect.fail(new Error(`the script exited with ${run.exitCode}`))
    yield* step("run code", sandbox.process.codeRun("print(6 * 7)"), (r) => r.result.trim())
    const labelled = yield* step("set labels", sandbox.setLabels({ ...sandbox.labels, stage: "done" }), (s) =>
      JSON.stringify(s.labels)
    )
    yield* step("preview link", labelled.getPreviewLink(3000), (link) => link.url)
    const stopped = yield* step("stop", labelled.stop(), (s) => s.state ?? "")
    const started = yield* step("start", stopped.start(), (s) => s.state ?? "")
    const stoppedAgain = yield* step("stop", started.stop(), (s) => s.state ?? "")
    const archived = yield* step("archive", stoppedAgain.archive({ wait: true }), (s) => s.state ?? "")
    yield* step("delete", archived.delete({ wait: true }), () => "gone")
  })

/**
 * Runs the workflow in a scope, then checks that no sandbox of this run is left.
 *
 * @since 0.1.0
 */
export const main = Effect.gen(function* () {
  const runId = crypto.randomUUID()
  const [elapsed] = yield* Effect.timed(Effect.scoped(quickstart(runId)))
  const daytona = yield* Daytona.Daytona
  const left = yield* daytona.listPage({ labels: { run: runId } })
  yield* Console.log(`done in ${formatElapsed(elapsed)}; sandboxes of this run left: ${left.items.length}`)
  if (left.items.length > 0) return yield* Effect.fail(new Error("a sandbox was left behind"))
})
