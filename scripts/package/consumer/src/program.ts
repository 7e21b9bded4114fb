/**
 * The consumer smoke test's program, compiled from the packed tarballs in a project outside the
 * workspace: against the server `DAYTONA_API_URL` names, it creates a sandbox, runs a command,
 * uploads and downloads a file (and a local file through `NodeUploadBody`, the SDK's separate
 * Node entry), deletes the sandbox and waits until it is gone. Any mismatch fails
 * the program, so the process exits non-zero.
 */
import { NodeFileSystem, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Daytona } from "@effect-daytona/sdk"
import * as DaytonaError from "@effect-daytona/sdk/DaytonaError"
import * as SdkFileSystem from "@effect-daytona/sdk/FileSystem"
import * as NodeUploadBody from "@effect-daytona/sdk/NodeUploadBody"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Console, Data, Effect, Schedule, Stream } from "effect"

class SmokeFailure extends Data.TaggedError("SmokeFailure")<{ readonly message: string }> {}

const expect = (what: string, actual: unknown, expected: unknown) =>
  actual === expected
    ? Effect.void
    : Effect.fail(
        new SmokeFailure({ message: `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}` })
      )

const program = Effect.gen(function* () {
  const daytona = yield* Daytona.Daytona
  const sandbox = yield* daytona.create({ labels: { purpose: "consumer-smoke-test" } })
  yield* Console.log(`created ${sandbox.id} (${sandbox.state})`)

  const run = yield* sandbox.process.executeCommand("echo hello from the sandbox")
  yield* expect("command exit code", run.exitCode, 0)
  yield* expect("command output", run.result.trim(), "hello from the sandbox")

  const content = "uploaded by the consumer smoke test\n"
  yield* sandbox.fs.uploadFile("smoke/greeting.txt", content)
  const downloaded = yield* sandbox.fs.downloadFile("smoke/greeting.txt").pipe(Stream.decodeText(), Stream.mkString)
  yield* expect("downloaded content", downloaded, content)

  const localPath = join(mkdtempSync(join(tmpdir(), "consumer-smoke-")), "local.txt")
  const localContent = "a local file sent through NodeUploadBody\n"
  writeFileSync(localPath, localContent)
  yield* sandbox.fs.uploadFile("smoke/local.txt", SdkFileSystem.localFile(localPath))
  const fromLocal = yield* sandbox.fs.downloadFile("smoke/local.txt").pipe(Stream.decodeText(), Stream.mkString)
  yield* expect("downloaded local file", fromLocal, localContent)

  yield* daytona.delete(sandbox.id)
  // Deletion is asynchronous: the sandbox is `destroying`, then `destroyed` or not found.
  const afterDelete = yield* daytona.get(sandbox.id).pipe(
    Effect.map((found) => found.state),
    Effect.catchIf(
      (error): error is DaytonaError.NotFoundError => error instanceof DaytonaError.NotFoundError,
      () => Effect.succeed("not found")
    ),
    Effect.filterOrFail(
      (state) => state === "not found" || state === "destroyed",
      (state) => new SmokeFailure({ message: `the deleted sandbox is still ${state}` })
    ),
    Effect.retry({
      while: (error) => error instanceof SmokeFailure,
      schedule: Schedule.spaced("100 millis").pipe(Schedule.upTo("30 seconds"))
    })
  )
  yield* Console.log(`deleted (${afterDelete})`)
  yield* Console.log("consumer smoke program: ok")
})

program.pipe(
  Effect.provide(Daytona.layerConfig()),
  Effect.provide(NodeUploadBody.layer),
  Effect.provide(NodeHttpClient.layerUndici),
  Effect.provide(NodeFileSystem.layer),
  NodeRuntime.runMain
)
