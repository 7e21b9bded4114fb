import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as SandboxInterpreter from "../SandboxInterpreter.js"
import type { Interactive } from "./interactive.js"

/**
 * The worker behind an interpreter context: a Python program run inside the sandbox (its
 * namespaces, its control group, its user) that keeps one globals dictionary for its whole life.
 * Its stdin takes one JSON object a line from the server (`run` with `code` and `envs`, or
 * `interrupt`, which raises `SIGINT` in it during a run); its stdout (kept on a descriptor of its
 * own) answers JSON lines: `ready` once, then per run `stdout`/`stderr` text as it is written, an
 * `error` with name, value and traceback, and a `control` line (`completed` or `interrupted`) last.
 * What the code writes to descriptors 1 and 2 (its own prints, and the programs it starts) is read
 * back through pipes and drained before a run ends, so the output of a run precedes its end.
 * Everything it reports is the sandbox's own word: the server parses it as untrusted lines, bounded
 * in length.
 */
const workerSource = String.raw`
import codecs, io, json, linecache, os, queue, select, signal, sys, threading, traceback
proto = os.dup(1)
commands = os.fdopen(os.dup(0), "r", encoding="utf-8")
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
emit_lock, capture_lock = threading.Lock(), threading.Lock()
def emit(message):
    data = (json.dumps(message) + "\n").encode()
    with emit_lock:
        while data:
            data = data[os.write(proto, data):]
pipes = []
for fd, kind in ((1, "stdout"), (2, "stderr")):
    r, w = os.pipe()
    os.dup2(w, fd)
    os.close(w)
    os.set_blocking(r, False)
    pipes.append((r, kind, codecs.getincrementaldecoder("utf-8")("replace")))
def drain(pipe):
    r, kind, decoder = pipe
    while True:
        try:
            data = os.read(r, 65536)
        except BlockingIOError:
            return
        if not data:
            return
        text = decoder.decode(data)
        if text:
            emit({"type": kind, "text": text})
def pump(pipe):
    while True:
        select.select([pipe[0]], [], [])
        with capture_lock:
            drain(pipe)
for pipe in pipes:
    threading.Thread(target=pump, args=(pipe,), daemon=True).start()
sys.stdin = open(os.devnull)
sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace", line_buffering=True)
sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="replace", line_buffering=True)
state = {"running": False, "asked": False, "cells": 0}
def on_sigint(*_):
    if state["running"]:
        raise KeyboardInterrupt
signal.signal(signal.SIGINT, on_sigint)
jobs = queue.Queue()
def read_commands():
    for line in commands:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("type") == "interrupt":
            if state["running"] and not state["asked"]:
                state["asked"] = True
                os.kill(os.getpid(), signal.SIGINT)
        elif message.get("type") == "run":
            jobs.put(message)
    os._exit(0)
threading.Thread(target=read_commands, daemon=True).start()
scope = {"__name__": "__main__", "__doc__": None, "__package__": None, "__builtins__": __builtins__}
def user_traceback(error):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith("<cell-")]
    if isinstance(error, SyntaxError) or not frames:
        return "".join(traceback.format_exception_only(type(error), error))
    return "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(type(error), error))
def run(message):
    state["cells"] += 1
    name = "<cell-%d>" % state["cells"]
    code = str(message.get("code", ""))
    envs = message.get("envs") or {}
    saved = {str(key): os.environ.get(str(key)) for key in envs}
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    outcome, error = "completed", None
    try:
        state["asked"] = False
        state["running"] = True
        for key, value in envs.items():
            os.environ[str(key)] = str(value)
        exec(compile(code, name, "exec"), scope)
    except KeyboardInterrupt as e:
        if state["asked"]:
            outcome = "interrupted"
        else:
            error = e
    except SystemExit:
        pass
    except BaseException as e:
        error = e
    state["running"] = False
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    with capture_lock:
        for pipe in pipes:
            drain(pipe)
    if error is not None:
        emit({"type": "error", "name": type(error).__name__, "value": str(error), "traceback": user_traceback(error)})
    emit({"type": "control", "text": outcome})
emit({"type": "ready"})
while True:
    try:
        run(jobs.get())
    except KeyboardInterrupt:
        continue
`

/** The command that starts a worker. */
export const workerCommand: ReadonlyArray<string> = ["python3", "-c", workerSource]

/** How long a worker has to say it is ready (a sandbox short of memory or CPU can take long). */
const readyTimeout = Duration.seconds(15)

/** The longest line the server reads from a worker: a longer one ends the worker (it broke the protocol). */
const maxLine = 16 * 1024 * 1024

const WorkerLine = Schema.parseJson(
  Schema.Union(
    Schema.Struct({ type: Schema.Literal("ready") }),
    Schema.Struct({ type: Schema.Literal("stdout", "stderr"), text: Schema.String }),
    Schema.Struct({
      type: Schema.Literal("error"),
      name: Schema.String,
      value: Schema.String,
      traceback: Schema.String
    }),
    Schema.Struct({ type: Schema.Literal("control"), text: Schema.Literal("completed", "interrupted") })
  )
)

const decodeLine = Schema.decodeUnknownOption(WorkerLine)

/**
 * Why a worker could not start: it ended before saying it was ready, with what it printed (a missing
 * `python3`, a working directory that does not exist).
 */
export class WorkerDidNotStart extends Error {
  constructor(readonly output: string) {
    super(output.trim() === "" ? "the interpreter exited before it was ready" : output.trim())
  }
}

/**
 * An interpreter over a started worker process; fails when the worker ends before it is ready.
 * `killAll` kills the worker and everything it started.
 */
export const fromWorker = (
  worker: Interactive,
  killAll: Effect.Effect<void>
): Effect.Effect<SandboxInterpreter.Interpreter, WorkerDidNotStart> =>
  Effect.gen(function* () {
    let current: Mailbox.Mailbox<SandboxInterpreter.Event> | undefined
    let alive = true
    let pending = ""
    let before = ""
    let ready: (() => void) | undefined
    const started = new Promise<boolean>((resolve) => {
      ready = () => resolve(true)
      void worker.exited.then(() => resolve(false))
    })
    const end = (outcome: SandboxInterpreter.Outcome) => {
      const run = current
      current = undefined
      if (run === undefined) return
      run.unsafeOffer({ _tag: "End", outcome })
      run.unsafeDone(Exit.void)
      // Between runs nobody listens: what the sandbox writes waits in the pipe (its writer blocks)
      // instead of costing the server's CPU.
      worker.stdout.pause()
    }
    const onLine = (line: string) => {
      if (current === undefined && ready === undefined) return
      const message = decodeLine(line)
      if (Option.isNone(message)) {
        if (ready !== undefined && before.length < 4096) before += `${line}\n`
        return
      }
      const value = message.value
      switch (value.type) {
        case "ready":
          ready?.()
          ready = undefined
          return
        case "stdout":
          current?.unsafeOffer({ _tag: "Stdout", text: value.text })
          return
        case "stderr":
          current?.unsafeOffer({ _tag: "Stderr", text: value.text })
          return
        case "error":
          current?.unsafeOffer({ _tag: "Error", name: value.name, value: value.value, traceback: value.traceback })
          return
        case "control":
          end(value.text === "completed" ? { _tag: "Completed" } : { _tag: "Interrupted" })
          return
      }
    }
    worker.stdout.setEncoding("utf8")
    worker.stdout.on("data", (chunk: string) => {
      pending += chunk
      for (let at = pending.indexOf("\n"); at !== -1; at = pending.indexOf("\n")) {
        onLine(pending.slice(0, at))
        pending = pending.slice(at + 1)
      }
      if (pending.length > maxLine) {
        pending = ""
        worker.killGroup()
      }
    })
    void worker.exited.then((exitCode) => {
      alive = false
      end({ _tag: "Exited", exitCode })
    })
    const send = (message: object) =>
      Effect.sync(() => {
        if (alive) worker.stdin.write(`${JSON.stringify(message)}\n`)
      })
    const ok = yield* Effect.promise(() => started).pipe(Effect.timeoutOption(readyTimeout))
    if (Option.isNone(ok)) {
      yield* killAll
      return yield* Effect.fail(
        new WorkerDidNotStart(`the interpreter did not start within ${Duration.format(readyTimeout)}`)
      )
    }
    if (!ok.value) {
      if (pending !== "") before += pending
      return yield* Effect.fail(new WorkerDidNotStart(before))
    }
    return {
      run: (code, env) =>
        Stream.unwrap(
          Effect.gen(function* () {
            const events = yield* Mailbox.make<SandboxInterpreter.Event>()
            if (!alive) {
              yield* events.offer({ _tag: "End", outcome: { _tag: "Exited", exitCode: yield* exitCodeOf(worker) } })
              yield* events.end
              return Mailbox.toStream(events)
            }
            end({ _tag: "Interrupted" })
            current = events
            worker.stdout.resume()
            yield* send({ type: "run", code, envs: env })
            return Mailbox.toStream(events)
          })
        ),
      interrupt: send({ type: "interrupt" }),
      kill: killAll,
      alive: Effect.sync(() => alive)
    } satisfies SandboxInterpreter.Interpreter
  })

const exitCodeOf = (worker: Interactive) => Effect.promise(() => worker.exited)
