import { assert, describe, it } from "@effect/vitest"
import { UnexpectedResponseError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as NodeStream from "node:stream"
import { connect } from "../src/internal/lspClient.js"
import * as SandboxEngine from "../src/SandboxEngine.js"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const installed = (command: string) =>
  NodeChildProcess.spawnSync("/bin/sh", ["-c", 'command -v "$0"', command]).status === 0

const source = `export interface Shape {
  area(): number
}

export class Foo implements Shape {
  constructor(readonly side: number) {}
  area(): number {
    return this.side * this.side
  }
  perimeter(): number {
    return 4 * this.side
  }
}

export function makeFoo(side: number): Foo {
  return new Foo(side)
}

const obj = makeFoo(2)
obj.
`

const tsconfig = JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "ESNext" } })

describe("toolbox LSP through the SDK", () => {
  it.live(
    "typescript: start, didOpen, documentSymbols, sandboxSymbols, completions, didClose, stop",
    () =>
      Effect.gen(function* () {
        const { sandbox, home } = yield* sdkSandbox()
        const project = `${home}/project`
        const file = `${project}/src/shapes.ts`
        yield* sandbox.fs.uploadFiles([
          { source: tsconfig, destination: `${project}/tsconfig.json` },
          { source, destination: file }
        ])
        const lsp = yield* sandbox.createLspServer("typescript", project)
        yield* lsp.start
        yield* lsp.start
        yield* lsp.didOpen(file)

        const symbols = yield* lsp.documentSymbols(file)
        const names = symbols.map((symbol) => symbol.name)
        for (const name of ["Shape", "Foo", "makeFoo", "area", "perimeter", "obj"]) assert.include(names, name)
        const foo = symbols.find((symbol) => symbol.name === "Foo")!
        assert.strictEqual(foo.kind, 5)
        assert.strictEqual(foo.location.uri, `file://${file}`)
        assert.strictEqual(foo.location.range.start.line, 4)

        const found = yield* lsp.sandboxSymbols("Foo")
        assert.isTrue(found.some((symbol) => symbol.name === "Foo" && symbol.location.uri.endsWith("/src/shapes.ts")))

        const list = yield* lsp.completions(file, { line: 19, character: 4 })
        const labels = list.items.map((item) => item.label)
        assert.include(labels, "area")
        assert.include(labels, "perimeter")
        assert.include(labels, "side")

        yield* lsp.didClose(file)
        yield* lsp.stop
        const stopped = yield* failureOf(lsp.documentSymbols(file))
        assert.instanceOf(stopped, ValidationError)
        assert.strictEqual(stopped.errorCode, "LSP_SERVER_NOT_STARTED")
        yield* lsp.stop
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "javascript: clear errors for a server not started, a missing file and a bad project; stopping the sandbox kills the server",
    () =>
      Effect.gen(function* () {
        const { sandbox, home, dir } = yield* sdkSandbox()
        const app = `${home}/app.js`
        yield* sandbox.fs.uploadFile(app, "function greet(name) { return 'hi ' + name }\n")
        const lsp = yield* sandbox.createLspServer("javascript", home)
        const early = yield* failureOf(lsp.didOpen(app))
        assert.instanceOf(early, ValidationError)
        assert.strictEqual(early.errorCode, "LSP_SERVER_NOT_STARTED")
        yield* lsp.start
        yield* lsp.didOpen(app)
        assert.deepStrictEqual(
          (yield* lsp.documentSymbols(app)).map((symbol) => symbol.name),
          ["greet"]
        )
        assert.strictEqual((yield* failureOf(lsp.didOpen(`${home}/missing.js`)))._tag, "NotFoundError")
        const badProject = yield* sandbox.createLspServer("javascript", `${home}/nowhere`)
        assert.strictEqual((yield* failureOf(badProject.start))._tag, "NotFoundError")

        const pipes = NodePath.join(dir, "sandboxes", sandbox.id, "tmp", ".daytona", "lsp")
        assert.lengthOf(yield* Effect.promise(() => NodeFs.readdir(pipes)), 1)
        yield* sandbox.stop()
        yield* sandbox.start()
        const exited = yield* failureOf(lsp.documentSymbols(app))
        assert.instanceOf(exited, UnexpectedResponseError)
        assert.strictEqual(exited.errorCode, "LSP_SERVER_EXITED")
        assert.include(exited.message, "the language server exited")
        // The pipes are removed once the killed server's process has ended, which may trail the stop.
        const pipesLeft = yield* Effect.promise(() => NodeFs.readdir(pipes)).pipe(
          Effect.filterOrFail((files) => files.length === 0),
          Effect.retry({ times: 100, schedule: Schedule.spaced("50 millis") }),
          Effect.orElse(() => Effect.promise(() => NodeFs.readdir(pipes)))
        )
        assert.lengthOf(pipesLeft, 0)
        yield* lsp.start
        yield* lsp.didOpen(app)
        assert.lengthOf(yield* lsp.documentSymbols(app), 1)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "under bwrap isolation the server runs inside the sandbox and sees its paths",
    () =>
      Effect.gen(function* () {
        if (!(yield* SandboxEngine.bwrapAvailable)) return
        const { sandbox } = yield* sdkSandbox({ isolation: "bwrap" })
        const project = `${SandboxEngine.isolatedHome}/app`
        const file = `${project}/main.ts`
        yield* sandbox.fs.uploadFile(file, "export class Inside {}\nexport const where = process.cwd()\n")
        const lsp = yield* sandbox.createLspServer("typescript", project)
        yield* lsp.start
        yield* lsp.didOpen(file)
        const symbols = yield* lsp.documentSymbols(file)
        assert.deepStrictEqual(
          symbols.map((symbol) => [symbol.name, symbol.location.uri]),
          [
            ["Inside", `file://${file}`],
            ["where", `file://${file}`]
          ]
        )
        yield* lsp.stop
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "python without pylsp is a clear error naming what to install",
    () =>
      Effect.gen(function* () {
        const { sandbox, home } = yield* sdkSandbox()
        const lsp = yield* sandbox.createLspServer("python", home)
        if (installed("pylsp")) {
          yield* lsp.start
          yield* lsp.stop
          return
        }
        const error = yield* failureOf(lsp.start)
        assert.instanceOf(error, ValidationError)
        assert.strictEqual(error.errorCode, "LSP_SERVER_NOT_INSTALLED")
        assert.include(error.message, "pylsp is not installed on the local server")
        assert.include(error.message, "pip install python-lsp-server")
        const later = yield* failureOf(lsp.documentSymbols(`${home}/main.py`))
        assert.instanceOf(later, ValidationError)
        assert.include(later.message, "pylsp is not installed")
      }).pipe(Effect.scoped),
    10_000
  )
})

describe("LSP JSON-RPC client", () => {
  const pair = () => {
    const toServer = new NodeStream.PassThrough()
    const fromServer = new NodeStream.PassThrough()
    return { toServer, fromServer, connection: connect(fromServer, toServer) }
  }
  const frame = (message: object) => {
    const body = Buffer.from(JSON.stringify(message))
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body])
  }

  it.live("answers split frames, fails on a timeout and when the server ends", () =>
    Effect.gen(function* () {
      const { connection, fromServer, toServer } = pair()
      const sent: Array<Buffer> = []
      toServer.on("data", (chunk: Buffer) => sent.push(chunk))
      const reply = frame({ jsonrpc: "2.0", id: 1, result: { ok: true } })
      setTimeout(() => {
        fromServer.write(frame({ jsonrpc: "2.0", method: "window/logMessage", params: {} }))
        fromServer.write(reply.subarray(0, 10))
        fromServer.write(reply.subarray(10))
      }, 5)
      assert.deepStrictEqual(yield* connection.request("ping", {}, "1 second"), { ok: true })

      const timeout = yield* Effect.flip(connection.request("slow", {}, "50 millis"))
      assert.strictEqual(timeout._tag, "LspTimeout")
      assert.include(timeout.message, "did not answer slow")
      assert.include(Buffer.concat(sent).toString(), '"$/cancelRequest"')

      setTimeout(() => fromServer.write(frame({ jsonrpc: "2.0", id: 3, error: { code: -32601, message: "nope" } })), 5)
      const refused = yield* Effect.flip(connection.request("unknown", {}, "1 second"))
      assert.strictEqual(refused._tag, "LspResponseError")

      setTimeout(() => connection.close("the language server exited (exit code 1)"), 5)
      const closed = yield* Effect.flip(connection.request("late", {}, "1 second"))
      assert.strictEqual(closed._tag, "LspClosed")
      assert.include(closed.message, "exit code 1")
      assert.strictEqual((yield* Effect.flip(connection.notify("x", {})))._tag, "LspClosed")
    })
  )
  // The output pipe is in the sandbox's /tmp: any process there can write to it, and whatever it
  // writes must not throw out of the 'data' listener (that ended the whole local server).
  const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
  const rawFrame = (body: string) => Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)

  it.live("a request with an id nested 100,000 deep is not answered, and nothing is thrown", () =>
    Effect.gen(function* () {
      const { connection, fromServer, toServer } = pair()
      const sent: Array<Buffer> = []
      toServer.on("data", (chunk: Buffer) => sent.push(chunk))
      fromServer.write(rawFrame(`{"jsonrpc":"2.0","method":"x","id":${deep(100_000)}}`))
      fromServer.write(
        rawFrame(`{"jsonrpc":"2.0","method":"workspace/configuration","id":"s-1","params":{"items":[{}]}}`)
      )
      assert.isTrue(connection.isOpen())
      const answers = Buffer.concat(sent).toString()
      assert.notInclude(answers, "[[")
      assert.include(answers, '"id":"s-1","result":[null]')
    })
  )

  it.live("an error answer nested 100,000 deep fails its request, and nothing is thrown", () =>
    Effect.gen(function* () {
      const { connection, fromServer } = pair()
      setTimeout(() => fromServer.write(rawFrame(`{"jsonrpc":"2.0","id":1,"error":{"data":${deep(100_000)}}}`)), 5)
      const failed = yield* Effect.flip(connection.request("x", {}, "1 second"))
      assert.strictEqual(failed._tag, "LspResponseError")
    })
  )

  it.live("bytes without a header's end close the connection after 8 KiB, not at the end of memory", () =>
    Effect.gen(function* () {
      const { connection, fromServer } = pair()
      const pending = yield* Effect.fork(Effect.flip(connection.request("x", {}, "5 seconds")))
      for (let i = 0; i < 4 && connection.isOpen(); i++) fromServer.write(Buffer.alloc(4096, "a"))
      assert.isFalse(connection.isOpen())
      const closed = yield* Effect.flatMap(Effect.fromFiber(pending), Effect.succeed)
      assert.strictEqual(closed._tag, "LspClosed")
      assert.include(closed.message, "without an end")
    })
  )

  it.live("a 20 MiB answer in 64 KiB chunks is read whole, and the next message after it", () =>
    Effect.gen(function* () {
      const { connection, fromServer } = pair()
      const text = "x".repeat(20 * 1024 * 1024)
      const frames = Buffer.concat([
        rawFrame(JSON.stringify({ jsonrpc: "2.0", id: 1, result: { text } })),
        rawFrame(JSON.stringify({ jsonrpc: "2.0", id: 2, result: 2 }))
      ])
      setTimeout(() => {
        for (let at = 0; at < frames.length; at += 65_536) fromServer.write(frames.subarray(at, at + 65_536))
      }, 5)
      const [first, second] = yield* Effect.all(
        [connection.request("big", {}, "10 seconds"), connection.request("small", {}, "10 seconds")],
        { concurrency: 2 }
      )
      assert.strictEqual((first as { readonly text: string }).text.length, text.length)
      assert.strictEqual(second, 2)
    })
  )
})
