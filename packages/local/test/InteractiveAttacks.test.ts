/**
 * Attacks on the new surfaces of terminals and the code interpreter: what a PTY's shell or an
 * interpreter's code starts (detached, in a session of its own) must be inside the sandbox's
 * namespaces and control group, run as the sandbox's unprivileged uid, and die with the sandbox;
 * a terminal's `exit` and a run in progress must end (typed) when the sandbox goes; the relay and
 * the worker themselves are processes of the sandbox; what a sandbox writes on the interpreter's
 * protocol channel cannot break the server. Real processes, real time, each wait bounded.
 */
import { assert, describe, it } from "@effect/vitest"
import * as WebSocketConnector from "@effect-daytona/sdk/WebSocketConnector"
import type * as Pty from "@effect-daytona/sdk/Pty"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs/promises"
import * as NodeNet from "node:net"
import WebSocket from "ws"
import { sandboxUid } from "../src/SandboxEngine.js"
import { bwrapRequired, hasBwrap, realSleep } from "./attackHarness.js"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const connector = WebSocketConnector.layer(WebSocket)

/** What the host knows of one process: its uid, namespaces, control groups and environment. */
interface HostView {
  readonly pid: number
  readonly uid: number
  /** The program's name (`nsenter` for the launcher that stays outside the PID namespace). */
  readonly comm: string
  readonly namespaces: Record<string, string>
  readonly cgroup: string
}

const namespaceKinds = ["pid", "pid_for_children", "user", "mnt", "ipc", "uts", "net"] as const

/** Processes of the machine whose command line contains `needle` and whose environment names `sandboxId`. */
const processesOf = (sandboxId: string, needle: string) =>
  Effect.promise(async () => {
    const found: Array<HostView> = []
    for (const name of await NodeFs.readdir("/proc")) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
      const cmdline = await NodeFs.readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")
      if (!cmdline.split("\u0000").join(" ").includes(needle)) continue
      const environ = await NodeFs.readFile(`/proc/${name}/environ`, "utf8").catch(() => "")
      if (!environ.split("\u0000").includes(`DAYTONA_SANDBOX_ID=${sandboxId}`)) continue
      const status = await NodeFs.readFile(`/proc/${name}/status`, "utf8").catch(() => "")
      const namespaces: Record<string, string> = {}
      for (const kind of namespaceKinds)
        namespaces[kind] = await NodeFs.readlink(`/proc/${name}/ns/${kind}`).catch(() => "?")
      found.push({
        pid: Number(name),
        uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1),
        comm: (await NodeFs.readFile(`/proc/${name}/comm`, "utf8").catch(() => "")).trim(),
        namespaces,
        cgroup: await NodeFs.readFile(`/proc/${name}/cgroup`, "utf8").catch(() => "")
      })
    }
    return found
  })

/** Waits (real time, at most 10 s) until `needle` has a process of the sandbox, and returns them. */
const appeared = (sandboxId: string, needle: string) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    for (;;) {
      const found = yield* processesOf(sandboxId, needle)
      if (found.length > 0 || Date.now() > deadline) return found
      yield* realSleep(50)
    }
  })

/** Waits (real time, at most 10 s) until no process of the machine's command lines contains a needle. */
const allGone = (sandboxId: string, needles: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const deadline = Date.now() + 10_000
    for (;;) {
      const left: Array<string> = []
      for (const needle of needles) if ((yield* processesOf(sandboxId, needle)).length > 0) left.push(needle)
      if (left.length === 0 || Date.now() > deadline) return left
      yield* realSleep(100)
    }
  })

/** The terminal's output as text so far, and a bounded wait for a pattern in it. */
const screen = (pty: Pty.PtyHandle) =>
  Effect.gen(function* () {
    let text = ""
    yield* pty.output.pipe(
      Stream.decodeText(),
      Stream.runForEach((chunk) => Effect.sync(() => (text += chunk))),
      Effect.forkScoped
    )
    return (pattern: RegExp) =>
      Effect.gen(function* () {
        const deadline = Date.now() + 10_000
        while (!pattern.test(text)) {
          if (Date.now() > deadline) return yield* Effect.die(new Error(`no ${pattern} in ${JSON.stringify(text)}`))
          yield* realSleep(20)
        }
      })
  })

/** The relay's and the worker's command lines contain these (their Python sources). */
const relayNeedle = "os.forkpty()"
const workerNeedle = "def read_commands"

/** Registered only where bubblewrap works (CI installs it, and there a missing one fails the run instead). */
const isolated = hasBwrap || bwrapRequired ? it.live : undefined

describe("attacks through terminals and the code interpreter", () => {
  isolated?.(
    "what a PTY or an interpreter starts, detached, is in the sandbox's namespaces and control group, unprivileged, and dies with the sandbox",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox({ isolation: "bwrap" })
        yield* sandbox.process.executeCommand("sh -c 'nohup sleep 424200 >/dev/null 2>&1 &'")
        const [reference] = yield* appeared(sandbox.id, "sleep 424200")
        assert.isDefined(reference, "the reference command's process")

        const pty = yield* sandbox.process.createPty({ id: "escape" })
        const waitFor = yield* screen(pty)
        yield* pty.write("setsid nohup sleep 424201 >/dev/null 2>&1 < /dev/null & echo started-$((1+1))\n")
        yield* waitFor(/started-2/)
        yield* sandbox.codeInterpreter.runCode(
          "import subprocess\nsubprocess.Popen(['sleep', '424202'], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)"
        )

        const needles = ["sleep 424201", "sleep 424202", relayNeedle, workerNeedle]
        for (const needle of needles) {
          const found = yield* appeared(sandbox.id, needle)
          assert.isAbove(found.filter((view) => view.comm !== "nsenter").length, 0, `${needle} runs`)
          for (const view of found) {
            // nsenter enters the sandbox's PID namespace for the process it starts, not for itself
            const namespaces =
              view.comm === "nsenter" ? { ...view.namespaces, pid: reference!.namespaces["pid"]! } : view.namespaces
            assert.deepStrictEqual(
              namespaces,
              reference!.namespaces,
              `${needle} (${view.comm}): the sandbox's namespaces`
            )
            // and stays outside the control group, which its child joins from inside (as every command's does)
            if (view.comm !== "nsenter")
              assert.strictEqual(view.cgroup, reference!.cgroup, `${needle}: the sandbox's control group`)
            assert.notStrictEqual(view.uid, 0, `${needle}: not root outside`)
            if (process.geteuid?.() === 0) assert.strictEqual(view.uid, sandboxUid(sandbox.id))
          }
        }

        const exit = yield* Effect.fork(pty.exit.pipe(Effect.either))
        const run = yield* Effect.fork(
          sandbox.codeInterpreter.runCode("import time\nwhile True: time.sleep(0.1)").pipe(Effect.either)
        )
        yield* realSleep(500)
        yield* sandbox.delete({ wait: true })
        assert.deepStrictEqual(yield* allGone(sandbox.id, [...needles, "sleep 424200"]), [])
        const ended = yield* Fiber.join(exit).pipe(Effect.timeout("10 seconds"))
        if (ended._tag === "Right") assert.isAbove(ended.right.exitCode, 128, "ended by a signal")
        else assert.strictEqual(ended.left._tag, "TransportError")
        const interrupted = yield* Fiber.join(run).pipe(Effect.timeout("10 seconds"))
        assert.strictEqual(interrupted._tag, "Right", "the run ends, with the interpreter's exit reported")
        if (interrupted._tag === "Right") assert.strictEqual(interrupted.right.error?.name, "InterpreterExited")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    60_000
  )

  it.live(
    "stopping the sandbox (no isolation either) kills what terminals and contexts started, and ends `exit`",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        const pty = yield* sandbox.process.createPty({ id: "stopped", onScopeClose: "detach" })
        const waitFor = yield* screen(pty)
        yield* pty.write("setsid nohup sleep 424211 >/dev/null 2>&1 < /dev/null & echo started-$((1+1))\n")
        yield* waitFor(/started-2/)
        const context = yield* sandbox.codeInterpreter.createContext()
        yield* sandbox.codeInterpreter.runCode(
          "import subprocess\nsubprocess.Popen(['sleep', '424212'], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)",
          { context }
        )
        const needles = ["sleep 424211", "sleep 424212", relayNeedle, workerNeedle]
        for (const needle of needles) assert.isAbove((yield* appeared(sandbox.id, needle)).length, 0, needle)
        yield* sandbox.stop()
        assert.deepStrictEqual(yield* allGone(sandbox.id, needles), [])
        const ended = yield* pty.exit.pipe(Effect.either, Effect.timeout("10 seconds"))
        if (ended._tag === "Right") assert.isAbove(ended.right.exitCode, 128, "ended by a signal")
        else assert.strictEqual(ended.left._tag, "TransportError")
        assert.deepStrictEqual(
          yield* sandbox.process.listPtySessions.pipe(
            Effect.either,
            Effect.map((e) => e._tag)
          ),
          "Left"
        )
        const refused = yield* failureOf(sandbox.codeInterpreter.runCode("print(1)", { context }))
        assert.strictEqual(refused._tag, "ValidationError")

        // Started again: the context's state is gone, and its first run says so instead of running.
        yield* sandbox.start()
        assert.deepStrictEqual(yield* sandbox.process.listPtySessions, [])
        const lost = yield* sandbox.codeInterpreter.runCode("print('ran')", { context })
        assert.strictEqual(lost.stdout, "")
        assert.strictEqual(lost.error?.name, "InterpreterExited")
        assert.match(lost.error?.value ?? "", /state is lost and this code did not run/)
        assert.strictEqual((yield* sandbox.codeInterpreter.runCode("print('ran')", { context })).stdout, "ran\n")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    60_000
  )

  it.live(
    "code that writes forged or endless lines on the worker's protocol channel ends only its own run",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        const interpreter = sandbox.codeInterpreter
        const context = yield* interpreter.createContext()
        yield* interpreter.runCode("kept = 1", { context })
        const forged = yield* interpreter.runCode(
          [
            "import os, sys",
            "proto = sys.modules['__main__'].proto",
            'os.write(proto, b\'not json\\n{"type": "stdout", "text": 7}\\n{"type": "ready"}\\n\')',
            'os.write(proto, b\'{"type": "stdout", "text": "forged\\\\n"}\\n\')',
            "print('real')"
          ].join("\n"),
          { context }
        )
        assert.strictEqual(forged.stdout, "forged\nreal\n")
        assert.strictEqual((yield* interpreter.runCode("print(kept)", { context })).stdout, "1\n")
        const endless = yield* interpreter.runCode(
          "import os, sys\nproto = sys.modules['__main__'].proto\nchunk = b'x' * (1 << 20)\nwhile True: os.write(proto, chunk)",
          { context, timeout: "20 seconds" }
        )
        assert.strictEqual(endless.error?.name, "InterpreterExited")
        assert.strictEqual((yield* interpreter.runCode("print(2)", { context })).stdout, "2\n")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    60_000
  )

  it.live(
    "a NUL byte in a variable is refused on the wire (400 for a terminal, 1008 for a run), never a 500 or a dead interpreter",
    () =>
      Effect.gen(function* () {
        const { sandbox, server } = yield* sdkSandbox()
        const base = `${sandbox.toolboxProxyUrl.replace(/\/+$/, "")}/${sandbox.id}`
        const headers = { authorization: `Bearer ${Redacted.value(server.apiKey)}`, "content-type": "application/json" }
        const created = yield* Effect.promise(() =>
          fetch(`${base}/process/pty`, {
            method: "POST",
            headers,
            body: JSON.stringify({ id: "nul", envs: { A: "x\u0000y" } })
          }).then(async (response) => ({ status: response.status, body: await response.text() }))
        )
        assert.strictEqual(created.status, 400)
        assert.match(created.body, /contains a NUL byte/)

        const closed = yield* Effect.async<{ readonly code: number; readonly reason: string }>((resume) => {
          const socket = new WebSocket(`${base.replace(/^http/, "ws")}/process/interpreter/execute`, { headers })
          socket.on("open", () => socket.send(JSON.stringify({ code: "print(1)", envs: { A: "x\u0000y" } })))
          socket.on("close", (code, reason) => resume(Effect.succeed({ code, reason: reason.toString("utf8") })))
          return Effect.sync(() => socket.terminate())
        }).pipe(Effect.timeout("10 seconds"))
        assert.deepStrictEqual(closed, {
          code: 1008,
          reason: "invalid value of environment variable A: it contains a NUL byte"
        })
        assert.strictEqual((yield* sandbox.codeInterpreter.runCode("print(1)")).stdout, "1\n")
        const sdkSide = yield* failureOf(sandbox.codeInterpreter.runCode("print(1)", { env: { A: "x\u0000y" } }))
        assert.strictEqual(sdkSide._tag, "ValidationError")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    60_000
  )

  it.live(
    "a sandbox holds at most 16 PTY sessions and 16 interpreter contexts: the next is refused with 400",
    () =>
      Effect.gen(function* () {
        const { sandbox, server } = yield* sdkSandbox()
        const base = `${sandbox.toolboxProxyUrl.replace(/\/+$/, "")}/${sandbox.id}`
        const headers = { authorization: `Bearer ${Redacted.value(server.apiKey)}`, "content-type": "application/json" }
        const createPty = (id: string) =>
          Effect.promise(() =>
            fetch(`${base}/process/pty`, {
              method: "POST",
              headers,
              body: JSON.stringify({ id, lazyStart: true })
            }).then(async (response) => ({ status: response.status, body: await response.text() }))
          )
        for (let i = 0; i < 16; i++) assert.strictEqual((yield* createPty(`lazy-${i}`)).status, 201)
        const onePty = yield* createPty("one-too-many")
        assert.strictEqual(onePty.status, 400)
        assert.match(onePty.body, /too many PTY sessions in this sandbox \(at most 16\)/)
        yield* sandbox.process.killPtySession("lazy-0")
        assert.strictEqual((yield* createPty("fits-again")).status, 201)

        const contexts = yield* Effect.all(
          Array.from({ length: 16 }, () => sandbox.codeInterpreter.createContext()),
          { concurrency: 4 }
        )
        const oneContext = yield* failureOf(sandbox.codeInterpreter.createContext())
        assert.strictEqual(oneContext._tag, "ValidationError")
        assert.match(oneContext.message, /too many interpreter contexts in this sandbox \(at most 16\)/)
        assert.strictEqual((yield* sandbox.codeInterpreter.runCode("print(1)")).stdout, "1\n")
        yield* sandbox.codeInterpreter.deleteContext(contexts[0]!)
        yield* sandbox.codeInterpreter.createContext()
      }).pipe(Effect.scoped, Effect.provide(connector)),
    60_000
  )
  it.live(
    "requests made at once get no more PTY sessions or contexts than the caps, and a session takes at most 8 clients",
    () =>
      Effect.gen(function* () {
        const { sandbox, server } = yield* sdkSandbox()
        const base = `${sandbox.toolboxProxyUrl.replace(/\/+$/, "")}/${sandbox.id}`
        const headers = { authorization: `Bearer ${Redacted.value(server.apiKey)}`, "content-type": "application/json" }
        const post = (path: string, body: unknown) =>
          Effect.promise(() =>
            fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) }).then(
              (response) => response.status
            )
          )
        const ptys = yield* Effect.all(
          Array.from({ length: 40 }, (_, i) => post("/process/pty", { id: `at-once-${i}`, lazyStart: true })),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(ptys.filter((status) => status === 201).length, 16)
        assert.isTrue(ptys.every((status) => status === 201 || status === 400))
        const contexts = yield* Effect.all(
          Array.from({ length: 24 }, () => post("/process/interpreter/context", {})),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(contexts.filter((status) => status === 200).length, 16)
        assert.isTrue(contexts.every((status) => status === 200 || status === 400))

        // Eight clients attach to one session; the ninth is closed with 1008 saying why.
        const url = `${base.replace(/^http/, "ws")}/process/pty/at-once-0/connect`
        const opened: Array<WebSocket> = []
        yield* Effect.addFinalizer(() => Effect.sync(() => opened.forEach((socket) => socket.terminate())))
        const attach = Effect.async<{ readonly code: number; readonly reason: string } | "connected">((resume) => {
          const socket = new WebSocket(url, { headers })
          opened.push(socket)
          socket.on("message", (data) => {
            if (String(data).includes('"connected"')) resume(Effect.succeed("connected"))
          })
          socket.on("close", (code, reason) => resume(Effect.succeed({ code, reason: reason.toString("utf8") })))
        }).pipe(Effect.timeout("10 seconds"))
        for (let i = 0; i < 8; i++) assert.strictEqual(yield* attach, "connected", `client ${i}`)
        const ninth = yield* attach
        assert.deepStrictEqual(ninth, {
          code: 1008,
          reason: "too many clients on this PTY session (at most 8): close one first"
        })
      }).pipe(Effect.scoped, Effect.provide(connector)),
    60_000
  )
  it.live(
    "what an interpreter writes while no run listens waits in its pipe: the writer blocks, the server reads nothing",
    () =>
      Effect.gen(function* () {
        const { sandbox } = yield* sdkSandbox()
        // A thread that outlives its run and writes 1 KB lines as fast as it can, counting them in a file.
        yield* sandbox.codeInterpreter.runCode(
          [
            "import threading",
            "def flood():",
            "    n = 0",
            "    while True:",
            "        print('x' * 1000, flush=True)",
            "        n += 1",
            "        if n % 50 == 0:",
            "            open('/tmp/flood-count', 'w').write(str(n))",
            "threading.Thread(target=flood, daemon=True).start()"
          ].join("\n")
        )
        yield* realSleep(1500)
        const first = Number((yield* sandbox.process.executeCommand("cat /tmp/flood-count")).result.trim())
        yield* realSleep(1000)
        const second = Number((yield* sandbox.process.executeCommand("cat /tmp/flood-count")).result.trim())
        // A pipe's buffer holds about 64 lines; read by the server, the thread wrote tens of thousands a second.
        assert.isBelow(second, 5_000, `lines written with no run listening: ${second}`)
        assert.strictEqual(second, first, "the writer is blocked")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    60_000
  )
  it.live(
    "a WebSocket message over 10 MiB is refused with 1009, whole or in fragments, before it is gathered",
    () =>
      Effect.gen(function* () {
        const { sandbox, server } = yield* sdkSandbox()
        const base = `${sandbox.toolboxProxyUrl.replace(/\/+$/, "")}/${sandbox.id}`
        const headers = { authorization: `Bearer ${Redacted.value(server.apiKey)}` }
        const url = `${base.replace(/^http/, "ws")}/process/interpreter/execute`
        const MiB = 1024 * 1024
        /** Opens a run's socket, sends `frames` (each a fragment; the last ends the message) and reads how it closed. */
        const send = (frames: ReadonlyArray<string>) =>
          Effect.async<{ readonly code: number; readonly reason: string }>((resume) => {
            const socket = new WebSocket(url, { headers })
            socket.on("open", () => frames.forEach((frame, i) => socket.send(frame, { fin: i === frames.length - 1 })))
            socket.on("error", () => undefined)
            socket.on("close", (code, reason) => resume(Effect.succeed({ code, reason: reason.toString("utf8") })))
            return Effect.sync(() => socket.terminate())
          }).pipe(Effect.timeout("30 seconds"))

        const whole = yield* send([JSON.stringify({ code: `x = 1 # ${"a".repeat(11 * MiB)}` })])
        assert.strictEqual(whole.code, 1009)
        const fragments = yield* send(Array.from({ length: 11 }, () => "a".repeat(MiB)))
        assert.strictEqual(fragments.code, 1009)

        // A frame that announces 2^60 bytes is refused on its header alone.
        const announced = yield* Effect.async<string>((resume) => {
          const target = new URL(base)
          const raw = NodeNet.connect(Number(target.port), target.hostname, () => {
            raw.write(
              [
                `GET ${target.pathname}/process/interpreter/execute HTTP/1.1`,
                `Host: ${target.host}`,
                "Upgrade: websocket",
                "Connection: Upgrade",
                `Sec-WebSocket-Key: ${Buffer.from("0123456789abcdef").toString("base64")}`,
                "Sec-WebSocket-Version: 13",
                `Authorization: ${headers.authorization}`,
                "",
                ""
              ].join("\r\n")
            )
          })
          let received = Buffer.alloc(0)
          raw.on("data", (chunk: Buffer) => {
            received = Buffer.concat([received, chunk])
            const text = received.toString("latin1")
            if (text.startsWith("HTTP/1.1 101") && text.includes("\r\n\r\n") && !raw.writableEnded) {
              const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])
              header.writeUInt32BE(2 ** 28, 2)
              raw.write(header)
              raw.write(Buffer.alloc(64 * 1024))
            }
          })
          raw.on("error", () => undefined)
          raw.on("close", () =>
            resume(Effect.succeed(received.subarray(received.indexOf("\r\n\r\n") + 4).toString("hex")))
          )
          return Effect.sync(() => raw.destroy())
        }).pipe(Effect.timeout("30 seconds"))
        assert.strictEqual(announced, "880203f1")

        // Under the limit, a large message is a run like any other.
        const large = yield* Effect.async<{ readonly code: number; readonly stdout: string }>((resume) => {
          const socket = new WebSocket(url, { headers })
          let stdout = ""
          socket.on("open", () => socket.send(JSON.stringify({ code: `print(len("${"b".repeat(9 * MiB)}"))` })))
          socket.on("message", (data) => {
            const chunk = JSON.parse(String(data)) as { type?: string; text?: string }
            if (chunk.type === "stdout") stdout += chunk.text ?? ""
          })
          socket.on("close", (code) => resume(Effect.succeed({ code, stdout })))
          return Effect.sync(() => socket.terminate())
        }).pipe(Effect.timeout("60 seconds"))
        assert.deepStrictEqual(large, { code: 1000, stdout: `${9 * MiB}\n` })
        assert.strictEqual((yield* sandbox.codeInterpreter.runCode("print(2)")).stdout, "2\n")
      }).pipe(Effect.scoped, Effect.provide(connector)),
    120_000
  )
})
