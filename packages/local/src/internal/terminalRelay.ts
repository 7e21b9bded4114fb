import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import type * as SandboxTerminal from "../SandboxTerminal.js"
import type { Interactive } from "./interactive.js"

/**
 * The relay that gives a sandbox's shell a real pseudo-terminal without a native addon in the
 * server: a short Python program run inside the sandbox (its namespaces, its control group, its
 * user) allocates the terminal there (`pty.fork`, from the sandbox's own `/dev/pts`), starts the
 * shell on it, copies the terminal's output to its stdout as it comes and exits with the shell's
 * status. Its stdin carries frames from the server: a type byte, a 4-byte big-endian length, the
 * payload: `i` bytes typed into the terminal, `r` a window size (two 16-bit columns then rows).
 * Whatever the sandbox does to the relay (it runs as the sandbox's user) only touches its own
 * terminal: the server reads its output as opaque bytes and its exit code as a number.
 */
const relaySource = String.raw`
import fcntl, os, select, shutil, signal, struct, sys, termios
cols, rows = int(sys.argv[1]), int(sys.argv[2])
shell = shutil.which("bash") or "/bin/sh"
pid, master = os.forkpty()
if pid == 0:
    try:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.execv(shell, [shell, "-i"])
    finally:
        os._exit(127)
wake_r, wake_w = os.pipe()
for fd in (master, wake_r, wake_w):
    os.set_blocking(fd, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)
def out(data):
    while data:
        data = data[os.write(1, data):]
def drain():
    while True:
        try:
            data = os.read(master, 65536)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        out(data)
frames, typed, status, live = b"", b"", None, True
while status is None:
    rl = [wake_r] + ([master] if live else []) + ([0] if len(typed) < 1 << 20 else [])
    r, w, _ = select.select(rl, [master] if typed else [], [])
    if wake_r in r:
        try:
            os.read(wake_r, 512)
        except OSError:
            pass
    if master in r:
        live = drain()
    if 0 in r:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        frames += chunk
        while len(frames) >= 5:
            size = struct.unpack(">I", frames[1:5])[0]
            if len(frames) < 5 + size:
                break
            kind, payload, frames = frames[:1], frames[5:5 + size], frames[5 + size:]
            if kind == b"i":
                typed += payload
            elif kind == b"r" and size == 4:
                c, r_ = struct.unpack(">HH", payload)
                fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", r_, c, 0, 0))
    if master in w and typed:
        try:
            typed = typed[os.write(master, typed):]
        except BlockingIOError:
            pass
        except OSError:
            typed = b""
    done, code = os.waitpid(pid, os.WNOHANG)
    if done == pid:
        status = code
if status is None:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
drain()
os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`

/** The command that runs the relay for a `cols` × `rows` terminal. */
export const relayCommand = (cols: number, rows: number): ReadonlyArray<string> => [
  "python3",
  "-c",
  relaySource,
  String(cols),
  String(rows)
]

/** How much typed input the server holds for a terminal whose programs are not reading it. */
const maxPendingInput = 1024 * 1024

const frame = (kind: "i" | "r", payload: Uint8Array) => {
  const header = Buffer.alloc(5)
  header.write(kind, 0, "latin1")
  header.writeUInt32BE(payload.length, 1)
  return Buffer.concat([header, payload])
}

/**
 * A terminal over a running relay. `killAll` kills the shell and everything it started (the engine
 * knows how to find them).
 */
export const fromRelay = (relay: Interactive, killAll: Effect.Effect<void>): Effect.Effect<SandboxTerminal.Terminal> =>
  Effect.gen(function* () {
    const output = yield* Mailbox.make<Uint8Array>()
    const drained = new Promise<void>((resolve) => {
      relay.stdout.on("data", (chunk: Buffer) => output.unsafeOffer(new Uint8Array(chunk)))
      relay.stdout.once("close", () => resolve())
    })
    const exitCode = Effect.promise(async () => {
      const code = await relay.exited
      await drained
      return code
    })
    void drained.then(() => output.unsafeDone(Exit.void))
    let ended = false
    void relay.exited.then(() => (ended = true))
    const send = (bytes: Buffer) =>
      Effect.sync(() => {
        if (ended || !relay.stdin.writable || relay.stdin.writableLength > maxPendingInput) return false
        relay.stdin.write(bytes)
        return true
      })
    return {
      output: Mailbox.toStream(output),
      write: (data) => send(frame("i", data)),
      resize: (cols, rows) => {
        const size = Buffer.alloc(4)
        size.writeUInt16BE(cols, 0)
        size.writeUInt16BE(rows, 2)
        return Effect.asVoid(send(frame("r", size)))
      },
      kill: killAll,
      exitCode
    } satisfies SandboxTerminal.Terminal
  })
