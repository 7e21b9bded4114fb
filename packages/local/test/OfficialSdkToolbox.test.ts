import { Daytona, DaytonaError, DaytonaNotFoundError, type Sandbox } from "@daytona/sdk"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Chunk from "effect/Chunk"
import * as Stream from "effect/Stream"
import * as NodeCrypto from "node:crypto"
import * as DiagnosticsChannel from "node:diagnostics_channel"
import type * as NodeHttp from "node:http"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as LocalDaytona from "../src/LocalDaytona.js"
import { asciiPartHeaders } from "../src/internal/toolboxFiles.js"
import { tempDir } from "./utils.js"

/**
 * The official SDK's calls inside a sandbox (files, sessions, followed logs) against the local
 * server over real HTTP and WebSocket. The SDK uses `Date` and `setTimeout`, so these tests run on
 * real time; every step has a deadline so none can hang.
 */
const step = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new Error(`${name} failed: ${String(cause)}`, { cause }) }).pipe(
    Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error(`${name} did not finish within 10 s`) })
  )

/** The rejection of an SDK call that must fail (the test fails if it succeeds). */
const rejection = (name: string, run: () => Promise<unknown>) =>
  step(name, () =>
    run().then(
      () => {
        throw new Error(`${name} succeeded but should have failed`)
      },
      (error: unknown) => error
    )
  )

interface Exchange {
  readonly method: string
  readonly path: string
  readonly headers: NodeHttp.OutgoingHttpHeaders
  status: number | undefined
  contentType: string | undefined
}

/**
 * Records what the SDK's HTTP client sends and gets back (Node's `http` diagnostics channels), to
 * check the statuses and headers that the SDK's return values do not show.
 */
const recordWire = Effect.acquireRelease(
  Effect.sync(() => {
    const exchanges = new Map<NodeHttp.ClientRequest, Exchange>()
    const onStart = (message: unknown) => {
      const { request } = message as { readonly request: NodeHttp.ClientRequest }
      exchanges.set(request, {
        method: request.method,
        path: request.path,
        headers: request.getHeaders(),
        status: undefined,
        contentType: undefined
      })
    }
    const onFinish = (message: unknown) => {
      const { request, response } = message as {
        readonly request: NodeHttp.ClientRequest
        readonly response: NodeHttp.IncomingMessage
      }
      const exchange = exchanges.get(request)
      if (exchange === undefined) return
      exchange.status = response.statusCode
      exchange.contentType = response.headers["content-type"]
    }
    DiagnosticsChannel.subscribe("http.client.request.start", onStart)
    DiagnosticsChannel.subscribe("http.client.response.finish", onFinish)
    return {
      /** The toolbox requests so far whose path contains `fragment`. */
      toolbox: (fragment: string) =>
        [...exchanges.values()].filter((e) => e.path.includes("/toolbox/") && e.path.includes(fragment)),
      onStart,
      onFinish
    }
  }),
  ({ onFinish, onStart }) =>
    Effect.sync(() => {
      DiagnosticsChannel.unsubscribe("http.client.request.start", onStart)
      DiagnosticsChannel.unsubscribe("http.client.response.finish", onFinish)
    })
)

/** A local server, the official client pointed at it, and one started python sandbox. */
const officialSandbox = Effect.gen(function* () {
  const dataDir = yield* tempDir
  const server = yield* LocalDaytona.make({
    dataDir,
    apiKey: "official-sdk-key",
    isolation: "none",
    timings: { create: "50 millis", start: "50 millis", stop: "50 millis", destroy: "50 millis" }
  })
  const daytona = new Daytona({ apiKey: Redacted.value(server.apiKey), apiUrl: server.apiUrl, target: "local" })
  const sandbox: Sandbox = yield* step("create", () => daytona.create({ language: "python" }, { timeout: 10 }))
  const home = NodePath.join(dataDir, "sandboxes", sandbox.id, "home")
  return { dataDir, sandbox, home }
})

const sortedByName = <A extends { readonly name: string }>(items: ReadonlyArray<A>) =>
  [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

describe("official SDK inside the sandbox", () => {
  it.live(
    "uploads, downloads and lists files with exact bytes",
    () =>
      Effect.gen(function* () {
        const wire = yield* recordWire
        const { dataDir, sandbox, home } = yield* officialSandbox
        const text = Buffer.from("hello from the official SDK\n")
        // every byte value, CR LF and a multipart-looking line, then enough random bytes to take
        // the server's streaming path for large parts
        const binary = Buffer.concat([
          Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
          Buffer.from("\r\n--boundary\r\nContent-Disposition: form-data\r\n\r\n"),
          NodeCrypto.randomBytes(600 * 1024)
        ])
        const unicodeName = "uploads/naïve ☃ fïlé.txt"
        const unicode = Buffer.from("ünïcødé ☃ 日本語\n")
        const nested = Buffer.from("nested\n")

        yield* step("uploadFile", () => sandbox.fs.uploadFile(text, "uploads/hello.txt"))
        yield* step("uploadFiles", () =>
          sandbox.fs.uploadFiles([
            { source: binary, destination: "uploads/data.bin" },
            { source: unicode, destination: unicodeName },
            { source: nested, destination: "uploads/deep/er/nested.txt" }
          ])
        )
        const onDisk = (path: string) => Effect.promise(() => NodeFs.readFile(NodePath.join(home, path)))
        assert.isTrue((yield* onDisk("uploads/hello.txt")).equals(text))
        assert.isTrue((yield* onDisk("uploads/data.bin")).equals(binary))
        assert.isTrue((yield* onDisk(unicodeName)).equals(unicode))
        assert.isTrue((yield* onDisk("uploads/deep/er/nested.txt")).equals(nested))

        const download = (path: string) => step(`downloadFile ${path}`, () => sandbox.fs.downloadFile(path))
        assert.isTrue((yield* download("uploads/hello.txt")).equals(text))
        assert.isTrue((yield* download("uploads/data.bin")).equals(binary))
        assert.isTrue((yield* download(unicodeName)).equals(unicode))
        assert.isTrue((yield* download("uploads/deep/er/nested.txt")).equals(nested))
        // an absolute path comes back under exactly the name it was asked for
        const homeDir = yield* step("getUserHomeDir", () => sandbox.getUserHomeDir())
        assert.isString(homeDir)
        assert.isTrue((yield* download(`${homeDir}/uploads/hello.txt`)).equals(text))

        const local = NodePath.join(dataDir, "local-copy", "data.bin")
        yield* step("downloadFile to a local path", () => sandbox.fs.downloadFile("uploads/data.bin", local))
        assert.isTrue((yield* Effect.promise(() => NodeFs.readFile(local))).equals(binary))

        // one chunked multipart request per upload call; multipart/form-data downloads
        const uploads = wire.toolbox("/files/bulk-upload")
        assert.deepStrictEqual(
          uploads.map((e) => [e.method, e.status, e.headers["content-length"]]),
          [
            ["POST", 200, undefined],
            ["POST", 200, undefined]
          ]
        )
        for (const upload of uploads)
          assert.match(String(upload.headers["content-type"]), /^multipart\/form-data; boundary=/)
        const downloads = wire.toolbox("/files/bulk-download")
        assert.strictEqual(downloads.length, 6)
        for (const download of downloads) {
          assert.strictEqual(download.status, 200)
          assert.strictEqual(download.contentType, "multipart/form-data; boundary=DAYTONA-FILE-BOUNDARY")
          assert.strictEqual(download.headers["x-daytona-sdk-version"], "0.216.0")
        }

        const listed = sortedByName(yield* step("listFiles", () => sandbox.fs.listFiles("uploads")))
        assert.deepStrictEqual(
          listed.map((f) => [f.name, f.isDir]),
          [
            ["data.bin", false],
            ["deep", true],
            ["hello.txt", false],
            ["naïve ☃ fïlé.txt", false]
          ]
        )
        const [data, deep, hello] = listed
        assert.strictEqual(data?.size, binary.length)
        assert.strictEqual(hello?.size, text.length)
        assert.strictEqual(hello?.mode, "-rw-r--r--")
        assert.strictEqual(hello?.permissions, "0644")
        assert.strictEqual(deep?.mode, "drwxr-xr-x")
        assert.strictEqual(deep?.permissions, "0755")
        for (const file of listed) {
          assert.isNotEmpty(file.owner)
          assert.isNotEmpty(file.group)
          assert.isFalse(Number.isNaN(Date.parse(file.modTime)))
          assert.strictEqual(file.modifiedAt, file.modTime)
        }
        const stat = yield* Effect.promise(() => NodeFs.stat(NodePath.join(home, "uploads/hello.txt")))
        assert.strictEqual(Date.parse(hello?.modTime ?? ""), stat.mtime.getTime())
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "a missing file gives the official SDK's not-found error",
    () =>
      Effect.gen(function* () {
        const { dataDir, sandbox } = yield* officialSandbox
        const missing = yield* rejection("downloadFile of a missing file", () =>
          sandbox.fs.downloadFile("nowhere/missing.txt")
        )
        assert.instanceOf(missing, DaytonaNotFoundError)
        const error = missing as DaytonaNotFoundError
        assert.strictEqual(error.statusCode, 404)
        assert.strictEqual(error.code, "FILE_NOT_FOUND")
        assert.include(error.message, "nowhere/missing.txt")

        const local = NodePath.join(dataDir, "never-written.txt")
        const toLocal = yield* rejection("downloadFile of a missing file to a local path", () =>
          sandbox.fs.downloadFile("nowhere/missing.txt", local)
        )
        assert.instanceOf(toLocal, DaytonaNotFoundError)

        yield* step("createFolder", () => sandbox.fs.createFolder("a-directory", "755"))
        const directory = yield* rejection("downloadFile of a directory", () => sandbox.fs.downloadFile("a-directory"))
        assert.instanceOf(directory, DaytonaError)
        assert.deepStrictEqual(
          [(directory as DaytonaError).statusCode, (directory as DaytonaError).code],
          [400, "INVALID_FILE_PATH"]
        )

        const listing = yield* rejection("listFiles of a missing directory", () => sandbox.fs.listFiles("nowhere"))
        assert.instanceOf(listing, DaytonaNotFoundError)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "sessions run commands synchronously and asynchronously, with JSON and followed logs",
    () =>
      Effect.gen(function* () {
        const wire = yield* recordWire
        const { sandbox } = yield* officialSandbox
        const process = sandbox.process
        yield* step("createSession", () => process.createSession("work"))

        const exported = yield* step("exec export", () =>
          process.executeSessionCommand("work", { command: "export GREETING=hello" })
        )
        assert.strictEqual(exported.exitCode, 0)
        const sync = yield* step("exec sync", () =>
          process.executeSessionCommand("work", { command: `echo "$GREETING out"; echo "$GREETING err" >&2` })
        )
        assert.isString(sync.cmdId)
        assert.deepStrictEqual([sync.exitCode, sync.stdout, sync.stderr], [0, "hello out\n", "hello err\n"])
        // stdout and stderr reach the log through separate pipes, so lines written at the same instant
        // may land in either order (the daemon behaves the same); each line keeps its marker.
        assert.sameMembers((sync.output ?? "").match(/(\x01\x01\x01|\x02\x02\x02)[^\x01\x02]*/g) ?? [], [
          "\x01\x01\x01hello out\n",
          "\x02\x02\x02hello err\n"
        ])
        assert.strictEqual(sync.output?.length, "\x01\x01\x01hello out\n\x02\x02\x02hello err\n".length)
        const failed = yield* step("exec failing", () =>
          process.executeSessionCommand("work", { command: "sh -c 'exit 3'" })
        )
        assert.strictEqual(failed.exitCode, 3)

        const script = [
          "for i in 1 2 3 4; do",
          'echo "out $i"; sleep 0.1',
          'echo "err $i" >&2; sleep 0.25',
          "done"
        ].join("\n")
        const started = Date.now()
        const async = yield* step("exec async", () =>
          process.executeSessionCommand("work", { command: script, runAsync: true })
        )
        assert.isString(async.cmdId)
        assert.isUndefined(async.exitCode)
        const cmdId = async.cmdId
        const running = yield* step("getSessionCommand while running", () => process.getSessionCommand("work", cmdId))
        assert.deepStrictEqual([running.id, running.command, running.exitCode], [cmdId, script, undefined])

        const events: Array<{ readonly stream: "stdout" | "stderr"; readonly text: string; readonly at: number }> = []
        yield* step("getSessionCommandLogs followed", () =>
          process.getSessionCommandLogs(
            "work",
            cmdId,
            (text) => events.push({ stream: "stdout", text, at: Date.now() }),
            (text) => events.push({ stream: "stderr", text, at: Date.now() })
          )
        )
        const ended = Date.now()
        const joined = (stream: "stdout" | "stderr") =>
          events
            .filter((e) => e.stream === stream)
            .map((e) => e.text)
            .join("")
        assert.strictEqual(joined("stdout"), "out 1\nout 2\nout 3\nout 4\n")
        assert.strictEqual(joined("stderr"), "err 1\nerr 2\nerr 3\nerr 4\n")
        // each chunk belongs to one stream, and they arrive in the order the command wrote them
        const lines = events.flatMap((e) =>
          e.text
            .split("\n")
            .filter((line) => line !== "")
            .map((line) => `${e.stream}:${line}`)
        )
        assert.deepStrictEqual(lines, [
          "stdout:out 1",
          "stderr:err 1",
          "stdout:out 2",
          "stderr:err 2",
          "stdout:out 3",
          "stderr:err 3",
          "stdout:out 4",
          "stderr:err 4"
        ])
        // the chunks were streamed while the command ran, and the call ended when the command did
        assert.isTrue(ended - (events[0]?.at ?? ended) >= 800, "the first chunk came before the command ended")
        assert.isTrue(ended - started >= 1300, "the followed logs ended before the command did")
        assert.isTrue(ended - started < 5000, "the followed logs did not end soon after the command")
        const done = yield* step("getSessionCommand after", () => process.getSessionCommand("work", cmdId))
        assert.strictEqual(done.exitCode, 0)

        const logs = yield* step("getSessionCommandLogs", () => process.getSessionCommandLogs("work", cmdId))
        assert.strictEqual(logs.stdout, "out 1\nout 2\nout 3\nout 4\n")
        assert.strictEqual(logs.stderr, "err 1\nerr 2\nerr 3\nerr 4\n")
        assert.strictEqual(
          logs.output,
          [1, 2, 3, 4].map((i) => `\x01\x01\x01out ${i}\n\x02\x02\x02err ${i}\n`).join("")
        )

        // following a finished command replays its log and ends at once
        const replayed: Array<string> = []
        yield* step("getSessionCommandLogs followed after the end", () =>
          process.getSessionCommandLogs(
            "work",
            cmdId,
            (text) => replayed.push(`out:${text}`),
            (text) => replayed.push(`err:${text}`)
          )
        )
        assert.strictEqual(replayed.join(""), [1, 2, 3, 4].map((i) => `out:out ${i}\nerr:err ${i}\n`).join(""))

        // what the SDK's return values do not show: the statuses, the JSON logs and the plain upgrade
        const statuses = (fragment: string) => wire.toolbox(fragment).map((e) => [e.method, e.status])
        assert.deepStrictEqual(statuses("/process/session"), [
          ["POST", 201],
          ["POST", 200],
          ["POST", 200],
          ["POST", 200],
          ["POST", 202],
          ["GET", 200],
          ["GET", undefined],
          ["GET", 200],
          ["GET", 200],
          ["GET", undefined]
        ])
        const followed = wire.toolbox("/logs?follow=true")
        assert.strictEqual(followed.length, 2)
        for (const exchange of followed) {
          assert.strictEqual(String(exchange.headers["upgrade"]).toLowerCase(), "websocket")
          assert.isUndefined(exchange.headers["sec-websocket-protocol"])
          assert.strictEqual(exchange.headers["x-daytona-sdk-version"], "0.216.0")
          assert.match(String(exchange.headers["authorization"]), /^Bearer /)
        }
        const jsonLogs = wire.toolbox(`/command/${cmdId}/logs`).filter((e) => !e.path.includes("follow"))
        assert.deepStrictEqual(
          jsonLogs.map((e) => [e.status, e.contentType]),
          [[200, "application/json"]]
        )

        yield* step("deleteSession", () => process.deleteSession("work"))
        const gone = yield* rejection("getSession after delete", () => process.getSession("work"))
        assert.instanceOf(gone, DaytonaNotFoundError)
        const sessions = yield* step("listSessions", () => process.listSessions())
        assert.deepStrictEqual(sessions, [])
      }).pipe(Effect.scoped),
    30_000
  )
})

describe("multipart part headers", () => {
  it.effect("only header bytes above 0x7f are replaced, wherever the body is split", () =>
    Effect.gen(function* () {
      const boundary = "--------------------------XyZ"
      const head = (name: string, filename: string) =>
        `Content-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n`
      // contents with bytes above 0x7f, blank lines and an almost-delimiter
      const content = Buffer.concat([
        Buffer.from("ünï ☃\r\n\r\n"),
        Buffer.from(`\r\n--${boundary.slice(0, -1)}`),
        Buffer.from([0x80, 0xff, 0x0d, 0x0a])
      ])
      const body = (snowman: string) =>
        Buffer.concat([
          Buffer.from(`--${boundary}\r\n`),
          Buffer.from('Content-Disposition: form-data; name="files[0].path"\r\n\r\nnaïve ☃.txt'),
          Buffer.from(`\r\n--${boundary}\r\n${head("files[0].file", snowman)}`),
          content,
          Buffer.from(`\r\n--${boundary}--\r\n`)
        ])
      const sent = body("naïve ☃.txt")
      const expected = body("na" + "_".repeat(2) + "ve " + "_".repeat(3) + ".txt")
      assert.strictEqual(sent.length, expected.length)
      const run = (chunks: ReadonlyArray<Uint8Array>) =>
        Stream.fromIterable(chunks).pipe(
          asciiPartHeaders(boundary),
          Stream.runCollect,
          Effect.map((out) => Buffer.concat(Chunk.toReadonlyArray(out)))
        )
      assert.isTrue((yield* run([sent])).equals(expected))
      for (const size of [1, 2, 3, 5, 7, 13, 64]) {
        const chunks: Array<Uint8Array> = []
        for (let at = 0; at < sent.length; at += size) chunks.push(sent.subarray(at, at + size))
        assert.isTrue((yield* run(chunks)).equals(expected), `chunks of ${size} bytes`)
      }
    })
  )
})
