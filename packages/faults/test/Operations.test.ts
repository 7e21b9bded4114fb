/**
 * Every SDK operation under every fault of the proxy: it succeeds (after retries where a replay is
 * allowed, after reconciliation where it is convergent, after a resume where it is a stream) or
 * fails with the typed error that fault calls for, within its deadline; it never hangs and never
 * dies. A create whose answer was lost is adopted, never duplicated.
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as SdkFileSystem from "@effect-daytona/sdk/FileSystem"
import * as NodeUploadBody from "@effect-daytona/sdk/NodeUploadBody"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import type * as Sandbox from "@effect-daytona/sdk/Sandbox"
import type { SessionLogEvent } from "@effect-daytona/sdk/Process"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import { Fault, type Match } from "../src/FaultProxy.js"
import * as Harness from "../src/Harness.js"
import * as Recorder from "../src/Recorder.js"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { failureOf, fastSdk, observe, outcomeTag } from "./support.js"

interface Context {
  readonly daytona: Daytona.Service
  readonly sandbox: Sandbox.Sandbox
  readonly label: Readonly<Record<string, string>>
  readonly session: { readonly sessionId: string; readonly commandId: string }
}

interface Operation {
  readonly name: string
  /**
   * Whether a one-shot transient fault must be survived: its requests are safe (replayed),
   * convergent (reconciled by reading the resource) or a stream that resumes (followed logs,
   * downloads).
   */
  readonly replayable: boolean
  readonly match: (context: Context) => Match
  readonly prepare?: (context: Context) => Effect.Effect<void, unknown>
  readonly run: (context: Context) => Effect.Effect<unknown, unknown, WebSocketConnector.WebSocketConnector>
}

const id = (context: Context) => context.sandbox.id
const api = (context: Context, rest = "") => new RegExp(`^/api/sandbox/${id(context)}${rest}$`)
const toolbox = (context: Context, rest: string) => new RegExp(`^/toolbox/${id(context)}${rest}$`)
const filePath = "/tmp/faults-download.txt"
const fileText = "0123456789".repeat(100)
const logCommand = "echo start; sleep 0.4; echo end"
/** A local file of 3 MiB (several reads of the Node body) for the upload through `NodeUploadBody`. */
const localUpload = (() => {
  const content = Buffer.alloc(3 * 1024 * 1024 + 17, "0123456789abcdef")
  const path = NodePath.join(NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "faults-upload-")), "local.bin")
  NodeFs.writeFileSync(path, content)
  return { path, content, destination: "/tmp/faults-local-upload.bin" }
})()
afterAll(() => NodeFs.rmSync(NodePath.dirname(localUpload.path), { recursive: true, force: true }))

const operations: ReadonlyArray<Operation> = [
  {
    name: "create",
    replayable: true,
    match: () => ({ method: "POST", path: /^\/api\/sandbox$/ }),
    run: (context) => context.daytona.create({ labels: { ...context.label, op: "create" }, timeout: "4 seconds" })
  },
  {
    name: "get",
    replayable: true,
    match: (context) => ({ method: "GET", path: api(context) }),
    run: (context) => context.daytona.get(context.sandbox.id)
  },
  {
    name: "list",
    replayable: true,
    match: () => ({ method: "GET", path: /^\/api\/sandbox$/ }),
    run: (context) => Stream.runCollect(context.daytona.list({ labels: context.label }))
  },
  {
    name: "start",
    replayable: true,
    match: (context) => ({ method: "POST", path: api(context, "/start") }),
    prepare: (context) => context.sandbox.stop({ timeout: "4 seconds" }),
    run: (context) => context.sandbox.start({ timeout: "4 seconds" })
  },
  {
    name: "stop",
    replayable: true,
    match: (context) => ({ method: "POST", path: api(context, "/stop") }),
    run: (context) => context.sandbox.stop({ timeout: "4 seconds" })
  },
  {
    name: "delete",
    replayable: true,
    match: (context) => ({ method: "DELETE", path: api(context) }),
    run: (context) => context.sandbox.delete({ wait: true, timeout: "4 seconds" })
  },
  {
    name: "setLabels",
    replayable: true,
    match: (context) => ({ method: "PUT", path: api(context, "/labels") }),
    run: (context) => context.sandbox.setLabels({ ...context.label, extra: "yes" })
  },
  {
    name: "setAutostopInterval",
    replayable: true,
    match: (context) => ({ method: "POST", path: api(context, "/autostop/7") }),
    run: (context) => context.sandbox.setAutostopInterval(7)
  },
  {
    name: "getPreviewLink",
    replayable: true,
    match: (context) => ({ method: "GET", path: api(context, "/ports/3000/preview-url") }),
    run: (context) => context.sandbox.getPreviewLink(3000)
  },
  {
    name: "executeCommand",
    replayable: false,
    match: (context) => ({ method: "POST", path: toolbox(context, "/process/execute") }),
    run: (context) => context.sandbox.process.executeCommand("echo hello")
  },
  {
    name: "uploadFile",
    // The same bytes to the same path: replayed (ToolboxApi.uploadFiles is declared "safe").
    replayable: true,
    match: (context) => ({ method: "POST", path: toolbox(context, "/files/bulk-upload") }),
    // An upload's request timeout is its own (30 min by default, for big bodies): give a short one.
    run: (context) => context.sandbox.fs.uploadFile("/tmp/faults-upload.txt", "uploaded", { timeout: "2 seconds" })
  },
  {
    name: "uploadFile of a local file through NodeUploadBody",
    // The body is an async iterable that undici reads from the file: each attempt reads it again.
    replayable: true,
    match: (context) => ({ method: "POST", path: toolbox(context, "/files/bulk-upload") }),
    run: (context) =>
      Effect.gen(function* () {
        yield* context.sandbox.fs.uploadFile(localUpload.destination, SdkFileSystem.localFile(localUpload.path), {
          timeout: "2 seconds"
        })
        const back = yield* Stream.runCollect(context.sandbox.fs.downloadFile(localUpload.destination))
        const bytes = Buffer.concat(Chunk.toReadonlyArray(back))
        if (!bytes.equals(localUpload.content)) {
          return yield* Effect.dieMessage(`the uploaded file came back as ${bytes.length} other bytes`)
        }
      }).pipe(Effect.provide(Layer.merge(NodeUploadBody.layer, NodeFileSystem.layer)))
  },
  {
    name: "downloadFile",
    replayable: true,
    match: (context) => ({ method: "POST", path: toolbox(context, "/files/bulk-download") }),
    prepare: (context) => context.sandbox.fs.uploadFile(filePath, fileText),
    run: (context) =>
      Stream.runCollect(context.sandbox.fs.downloadFile(filePath)).pipe(
        Effect.map((chunks) => Buffer.concat(Chunk.toReadonlyArray(chunks)).toString("utf8")),
        Effect.filterOrDieMessage((text) => text === fileText, "downloadFile returned other bytes than the file's")
      )
  },
  {
    name: "followSessionCommandLogs",
    replayable: true,
    match: () => ({ method: "GET", websocket: true, path: /\/command\/[^/]+\/logs$/ }),
    run: (context) =>
      Stream.runCollect(
        context.sandbox.process.followSessionCommandLogs(context.session.sessionId, context.session.commandId)
      ).pipe(
        Effect.map(Chunk.toReadonlyArray),
        // A followed log has no deadline of its own (a command may print nothing for hours): the
        // caller's. The command prints for 0.4 s, so 3 s is only reached when the log is stuck.
        Effect.timeoutFail({ duration: "3 seconds", onTimeout: () => new CallerTimeout() })
      )
  }
]

/** The caller's own deadline passed (the SDK gave no outcome before it). */
class CallerTimeout extends Data.TaggedError("CallerTimeout") {}

interface FaultCase {
  readonly name: string
  readonly fault: Fault
  /** How many matching requests get the fault. */
  readonly times: number
  /** The outcomes allowed for an operation (failure tags, or "Success"). */
  readonly allowed: (operation: Operation) => ReadonlyArray<string>
}

const successIfReplayable = (operation: Operation, otherwise: ReadonlyArray<string>) =>
  operation.replayable ? ["Success"] : otherwise

const faultCases: ReadonlyArray<FaultCase> = [
  {
    name: "reset before forwarding, once",
    fault: Fault.resetBeforeForward,
    times: 1,
    // The client sees a connection that dropped after it sent: it cannot know the server never saw it.
    allowed: (op) => successIfReplayable(op, ["TransportError"])
  },
  {
    name: "reset after forwarding (the server did it, the answer is lost), once",
    fault: Fault.resetAfterForward,
    times: 1,
    allowed: (op) => successIfReplayable(op, ["TransportError"])
  },
  {
    name: "429 with Retry-After: 0, once",
    fault: Fault.status(429, "0"),
    times: 1,
    // The throttler answers before handling: every request may be sent again.
    allowed: () => ["Success"]
  },
  {
    name: "429 with a Retry-After beyond the SDK's patience, always",
    fault: Fault.status(429, "30"),
    times: 1000,
    allowed: () => ["RateLimitedError"]
  },
  {
    name: "502, once",
    fault: Fault.status(502),
    times: 1,
    allowed: (op) => successIfReplayable(op, ["UnexpectedResponseError"])
  },
  {
    name: "503, always",
    fault: Fault.status(503),
    times: 1000,
    allowed: () => ["UnexpectedResponseError"]
  },
  {
    name: "body cut half way, once",
    fault: Fault.cutBody,
    times: 1,
    allowed: (op) => successIfReplayable(op, ["TransportError"])
  },
  {
    name: "stall mid-body, once",
    fault: Fault.stallBody,
    times: 1,
    // A stalled body is a request timeout (or, for a log, a heartbeat that goes unanswered).
    allowed: (op) => successIfReplayable(op, ["RequestTimeoutError", "TransportError"])
  },
  {
    name: "multipart download truncated before its closing boundary, once",
    fault: Fault.truncateMultipart,
    times: 1,
    allowed: () => ["Success"]
  },
  {
    name: "log WebSocket dropped before the command ends",
    fault: Fault.closeWebSocket("abort", { afterMillis: 50 }),
    times: 1,
    allowed: () => ["Success"]
  },
  {
    name: "log WebSocket closed (1000) before the command ends",
    fault: Fault.closeWebSocket("close", { code: 1000 }),
    times: 1,
    // The command has no exit code when the socket closes, so the SDK knows the log is incomplete.
    allowed: () => ["Success"]
  },
  {
    name: "log WebSocket closed (1011) before the command ends",
    fault: Fault.closeWebSocket("close", { code: 1011 }),
    times: 1,
    allowed: () => ["Success"]
  }
]

describe("every operation under every fault", () => {
  for (const operation of operations) {
    it.live(
      operation.name,
      () => {
        const recorder = Recorder.make()
        return Effect.gen(function* () {
          const harness = yield* Harness.make()
          const results: Array<string> = []
          const problems: Array<string> = []
          for (const [index, faultCase] of faultCases.entries()) {
            const label = { case: `${operation.name}-${index}-${Date.now()}` }
            yield* Effect.gen(function* () {
              const daytona = yield* Daytona.Daytona
              const sandbox = yield* daytona.createScoped({ labels: label, timeout: "10 seconds" })
              const session = { sessionId: "faults", commandId: "" }
              const base: Context = { daytona, sandbox, label, session }
              if (operation.name === "followSessionCommandLogs") {
                yield* sandbox.process.createSession(session.sessionId)
                const started = yield* sandbox.process.executeSessionCommand(session.sessionId, {
                  command: logCommand,
                  runAsync: true
                })
                Object.assign(session, { commandId: started.cmdId })
              }
              if (operation.prepare !== undefined) yield* operation.prepare(base)
              yield* harness.proxy.failNext(operation.match(base), faultCase.fault, { times: faultCase.times })
              const outcome = yield* observe(`${operation.name} / ${faultCase.name}`, operation.run(base), recorder)
              yield* harness.proxy.clear
              const tag = outcomeTag(outcome.exit)
              const allowed = faultCase.allowed(operation)
              results.push(`${faultCase.name}: ${tag} in ${outcome.millis} ms`)
              if (!allowed.includes(tag)) {
                const error = failureOf(outcome.exit)
                problems.push(
                  `${faultCase.name}: got ${tag} (${error instanceof Error ? error.message : ""}), allowed ${allowed.join(", ")}`
                )
              }
              // Within its deadline: 4 s of operation deadline plus retries' pauses.
              if (outcome.millis > 9_000) problems.push(`${faultCase.name}: took ${outcome.millis} ms`)
              if (operation.name === "create") {
                const created = yield* harness.listDirect({ ...label, op: "create" })
                const expected = Exit.isSuccess(outcome.exit) ? 1 : created.length
                if (created.length > 1 || created.length !== expected) {
                  problems.push(`${faultCase.name}: ${created.length} sandboxes carry the create's labels`)
                }
                if (Exit.isSuccess(outcome.exit)) {
                  const sandboxCreated = outcome.exit.value as Sandbox.Sandbox
                  if (created[0]?.id !== sandboxCreated.id) problems.push(`${faultCase.name}: not the adopted one`)
                  yield* daytona.delete(sandboxCreated.id).pipe(Effect.ignore)
                } else {
                  for (const leftover of created) yield* daytona.delete(leftover.id).pipe(Effect.ignore)
                }
              }
              if (operation.name === "followSessionCommandLogs" && Exit.isSuccess(outcome.exit)) {
                const events = outcome.exit.value as ReadonlyArray<SessionLogEvent>
                const last = events[events.length - 1]
                const stdout = events.map((event) => (event._tag === "Stdout" ? event.text : "")).join("")
                if (last?._tag !== "Exit") problems.push(`${faultCase.name}: the log did not end with Exit`)
                const exits = events.filter((event) => event._tag === "Exit").length
                if (exits !== 1) problems.push(`${faultCase.name}: ${exits} exit codes`)
                if (stdout !== "start\nend\n") problems.push(`${faultCase.name}: log ${JSON.stringify(stdout)}`)
                results.push(`  log ${JSON.stringify(stdout)}, exit ${last?._tag === "Exit" ? last.exitCode : "-"}`)
              }
            }).pipe(Effect.scoped, Effect.provide(harness.sdk(fastSdk)))
          }
          // The scopes deleted every sandbox of this test.
          const left = yield* harness.listDirect()
          console.log(`${operation.name}\n  ${results.join("\n  ")}`)
          assert.deepStrictEqual(problems, [])
          assert.deepStrictEqual(
            left.filter((sandbox) => sandbox.state !== "destroying" && sandbox.state !== "destroyed"),
            []
          )
          assert.deepStrictEqual(
            recorder.leaks(harness.apiKey).map((leak) => leak.slice(0, 3000)),
            []
          )
          assert.isAbove(recorder.spans.length, 0)
        }).pipe(Effect.scoped, Effect.provide(recorder.layer))
      },
      120_000
    )
  }
})
