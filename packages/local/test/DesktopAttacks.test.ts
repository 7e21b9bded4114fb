import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import {
  attackServer,
  bwrapRequired,
  destroy,
  hasBwrap,
  hostProcesses,
  realSleep,
  sh,
  stopSandbox
} from "./attackHarness.js"
import { desktopRequired, hasAccessibility, hasDesktop } from "./desktopHarness.js"
import { type Client, call, clientLayer, createStarted, raw } from "./utils.js"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"

/**
 * Attacks on computer use, each against a fresh server with `--isolation bwrap`: the desktop's
 * processes are the sandbox's own (its namespaces, its control group, killed with it), its X
 * display is reachable from no other sandbox, and no path the desktop writes or the server reads
 * back leads out of the sandbox. Each test fails if its attack works.
 */

const desktopAttack = (hasBwrap || bwrapRequired) && (hasDesktop || desktopRequired) ? it.scoped : undefined

const resolution = { VNC_RESOLUTION: "320x240" }

/** A host directory outside every sandbox, with one file the attacks try to reach. */
const victimDir = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = await NodeFs.mkdtemp("/var/tmp/daytona-desktop-victim-")
    await NodeFs.writeFile(NodePath.join(dir, "keep.txt"), "host content", { mode: 0o644 })
    return dir
  }),
  (dir) => Effect.promise(() => NodeFs.rm(dir, { recursive: true, force: true }))
)

const listing = (dir: string) => Effect.promise(() => NodeFs.readdir(dir).then((names) => names.sort()))

const startDesktop = (client: Client, id: string) =>
  Effect.gen(function* () {
    const answer = yield* call(client, "POST", `/toolbox/${id}/computeruse/start`)
    assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
    return answer.body as { status: Record<string, { running: boolean; pid?: number }> }
  })

const hostLink = (path: string) => Effect.promise(() => NodeFs.readlink(path).catch(() => "gone"))
const hostText = (path: string) => Effect.promise(() => NodeFs.readFile(path, "utf8").catch(() => "gone"))
const alive = (pid: number) =>
  Effect.promise(() =>
    NodeFs.access(`/proc/${pid}`).then(
      () => true,
      () => false
    )
  )

/** The host pid of the one process in the sandbox whose command line holds `marker`. */
const markerPid = (marker: string) =>
  Effect.gen(function* () {
    for (let attempt = 0; attempt < 50; attempt++) {
      const found = yield* hostProcesses(marker)
      const process = found.find((p) => p.cmdline.startsWith("sleep"))
      if (process !== undefined) return process.pid
      yield* realSleep(50)
    }
    return yield* Effect.die(new Error(`no host process for ${marker}`))
  })

/** The host processes running `program` that share the namespaces of host pid `pid`. */
const inNamespacesOf = (program: string, pid: number) =>
  Effect.gen(function* () {
    const pidNamespace = yield* hostLink(`/proc/${pid}/ns/pid`)
    const found = yield* hostProcesses(program)
    const same: Array<number> = []
    for (const process of found)
      if ((yield* hostLink(`/proc/${process.pid}/ns/pid`)) === pidNamespace) same.push(process.pid)
    return same
  })

const namespaces = ["pid", "ipc", "uts", "mnt", "user", "net"] as const

describe("attacks on computer use", () => {
  desktopAttack?.(
    "the desktop's processes and recorders are in the sandbox's namespaces and control group, unprivileged, and die with it",
    () =>
      Effect.gen(function* () {
        const { client } = yield* attackServer()
        const a = yield* createStarted(client, { env: resolution })
        const started = yield* startDesktop(client, a.id)
        const xvfbInside = started.status["xvfb"]?.pid
        assert.isNumber(xvfbInside)
        // The pid the API reports is the sandbox's view of its own X server.
        const comm = yield* sh(client, a.id, `cat /proc/${xvfbInside}/comm`)
        assert.strictEqual(comm.result.trim(), "Xvfb")

        yield* sh(client, a.id, "nohup sleep 3131 >/dev/null 2>&1 &")
        const marker = yield* markerPid("sleep 3131")
        const recording = yield* call(client, "POST", `/toolbox/${a.id}/computeruse/recordings/start`, { label: "ns" })
        assert.strictEqual(recording.status, 201, JSON.stringify(recording.body))
        const programs = ["Xvfb", "ffmpeg", ...(hasAccessibility ? ["dbus-daemon", "at-spi-bus-launcher"] : [])]
        const desktopPids: Array<number> = []
        for (const program of programs) {
          // The AT-SPI launcher starts a D-Bus daemon of its own, so there may be two.
          const pids = yield* inNamespacesOf(program, marker)
          if (program === "Xvfb" || program === "ffmpeg")
            assert.strictEqual(pids.length, 1, `one ${program} in the sandbox's namespaces`)
          else assert.isAtLeast(pids.length, 1, `${program} in the sandbox's namespaces`)
          desktopPids.push(...pids)
        }
        const serverUser = yield* hostLink("/proc/self/ns/user")
        const markerCgroup = yield* hostText(`/proc/${marker}/cgroup`)
        for (const pid of desktopPids) {
          for (const ns of namespaces)
            assert.strictEqual(
              yield* hostLink(`/proc/${pid}/ns/${ns}`),
              yield* hostLink(`/proc/${marker}/ns/${ns}`),
              `${ns} namespace`
            )
          assert.notStrictEqual(yield* hostLink(`/proc/${pid}/ns/user`), serverUser)
          assert.strictEqual(yield* hostText(`/proc/${pid}/cgroup`), markerCgroup, "the sandbox's control group")
          const status = yield* hostText(`/proc/${pid}/status`)
          assert.notStrictEqual(/^Uid:\s+(\d+)/m.exec(status)?.[1], "0", "not root on the host")
          assert.match(status, /^CapEff:\s+0+$/m, "no capabilities")
        }
        // A stop of the sandbox ends its desktop, and so does a delete.
        yield* stopSandbox(client, a.id)
        for (const pid of desktopPids) {
          for (let i = 0; i < 100 && (yield* alive(pid)); i++) yield* realSleep(50)
          assert.isFalse(yield* alive(pid), `desktop process ${pid} ended with the sandbox`)
        }

        const b = yield* createStarted(client, { env: resolution })
        yield* startDesktop(client, b.id)
        yield* sh(client, b.id, "nohup sleep 3232 >/dev/null 2>&1 &")
        const bMarker = yield* markerPid("sleep 3232")
        const bXvfb = yield* inNamespacesOf("Xvfb", bMarker)
        assert.strictEqual(bXvfb.length, 1)
        yield* destroy(client, b.id)
        for (let i = 0; i < 100 && (yield* alive(bXvfb[0]!)); i++) yield* realSleep(50)
        assert.isFalse(yield* alive(bXvfb[0]!), "the X server ended with the deleted sandbox")
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  desktopAttack?.(
    "the X display of one sandbox is not reachable from another: no TCP, no abstract socket listened on, no shared /tmp",
    () =>
      Effect.gen(function* () {
        const { client } = yield* attackServer()
        const a = yield* createStarted(client, { env: resolution })
        const b = yield* createStarted(client, { env: resolution })
        yield* startDesktop(client, a.id)
        const socket = (yield* sh(client, a.id, "ls /tmp/.X11-unix")).result.trim()
        assert.match(socket, /^X\d+$/)
        const display = `:${socket.slice(1)}`

        // A's X server listens on its file-system socket only: none of its sockets is TCP, and its
        // one abstract socket (the display's name, held so that no other sandbox can take it) is
        // bound but not listened on.
        yield* sh(client, a.id, "nohup sleep 3333 >/dev/null 2>&1 &")
        const [xvfb] = yield* inNamespacesOf("Xvfb", yield* markerPid("sleep 3333"))
        assert.isDefined(xvfb)
        const fds = yield* Effect.promise(() => NodeFs.readdir(`/proc/${xvfb}/fd`))
        const inodes = new Set<string>()
        for (const fd of fds) {
          const target = yield* hostLink(`/proc/${xvfb}/fd/${fd}`)
          const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1]
          if (inode !== undefined) inodes.add(inode)
        }
        assert.isAbove(inodes.size, 0)
        const unixTable = yield* hostText(`/proc/${xvfb}/net/unix`)
        const abstract = unixTable
          .split("\n")
          .map((line) => line.trim().split(/\s+/))
          .filter((fields) => inodes.has(fields[6] ?? "") && (fields[7] ?? "").startsWith("@"))
        assert.deepStrictEqual(
          abstract.map((fields) => fields[7]),
          [`@/tmp/.X11-unix/X${socket.slice(1)}`],
          "the display's abstract name, held"
        )
        // __SO_ACCEPTCON (0x10000) in the flags marks a listening socket
        assert.isTrue(
          abstract.every((fields) => (parseInt(fields[3] ?? "0", 16) & 0x10000) === 0),
          "the abstract name is not listened on"
        )
        for (const table of ["tcp", "tcp6"]) {
          const rows = (yield* hostText(`/proc/${xvfb}/net/${table}`)).split("\n").slice(1)
          assert.deepStrictEqual(
            rows.filter((row) => inodes.has(row.trim().split(/\s+/)[9] ?? "")),
            [],
            `no ${table} socket`
          )
        }

        // From B, A's display is nowhere: not in its /tmp, not by name, not over TCP.
        const tmp = yield* sh(client, b.id, "ls -A /tmp/.X11-unix 2>/dev/null; echo end")
        assert.strictEqual(tmp.result.trim(), "end")
        for (const target of [display, `127.0.0.1${display}`, `localhost${display}`]) {
          const reach = yield* sh(client, b.id, `DISPLAY=${target} xdotool getmouselocation 2>&1; echo "exit=$?"`)
          assert.notInclude(reach.result, "exit=0", `${target} from B: ${reach.result}`)
        }

        // With a desktop of its own, B drives only its own pointer.
        yield* startDesktop(client, b.id)
        const moveA = yield* call(client, "POST", `/toolbox/${a.id}/computeruse/mouse/move`, { x: 100, y: 100 })
        assert.strictEqual(moveA.status, 200)
        const moveB = yield* call(client, "POST", `/toolbox/${b.id}/computeruse/mouse/move`, { x: 7, y: 8 })
        assert.strictEqual(moveB.status, 200)
        const fromB = yield* sh(client, b.id, `DISPLAY=${display} xdotool getmouselocation --shell 2>&1`)
        const atA = (yield* call(client, "GET", `/toolbox/${a.id}/computeruse/mouse/position`)).body
        assert.deepStrictEqual(atA, { x: 100, y: 100 })
        assert.notInclude(fromB.result, "X=100")
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )

  desktopAttack?.(
    "recordings, screenshots and logs cannot write or read outside the sandbox through planted links",
    () =>
      Effect.gen(function* () {
        const { client, dir } = yield* attackServer()
        const victim = yield* victimDir
        const a = yield* createStarted(client, { env: resolution })
        const home = (yield* sh(client, a.id, "echo $HOME")).result.trim()
        const secret = NodePath.join(victim, "keep.txt")

        // Before the desktop starts: its scratch directory and the recordings directory are links to
        // the host's victim directory and to the server's data directory.
        const planted = yield* sh(
          client,
          a.id,
          [
            `mkdir -p ${home}/.daytona`,
            `ln -s ${victim} ${home}/.daytona/recordings`,
            `ln -s ${dir} /tmp/.daytona-computeruse`,
            "echo planted"
          ].join(" && ")
        )
        assert.include(planted.result, "planted")
        const started = yield* call(client, "POST", `/toolbox/${a.id}/computeruse/start`)
        // The scratch link is replaced by a directory of the sandbox; the recordings link resolves
        // inside the sandbox (to nothing), so a recording is refused.
        assert.strictEqual(started.status, 200, JSON.stringify(started.body))
        const shot = yield* call(client, "GET", `/toolbox/${a.id}/computeruse/screenshot`)
        assert.strictEqual(shot.status, 200)
        const recording = yield* call(client, "POST", `/toolbox/${a.id}/computeruse/recordings/start`, {
          label: "planted"
        })
        assert.strictEqual(recording.status, 400, JSON.stringify(recording.body))
        assert.deepStrictEqual(yield* listing(victim), ["keep.txt"])
        assert.notInclude((yield* listing(dir)).join(" "), "shot-")

        // Files named as recordings and logs, linked to host files, read as nothing and delete only the link.
        const id = "0b0b0b0b-1111-4222-8333-444444444444"
        const fake = `${id}_evil_20260101_000000.mp4`
        yield* sh(
          client,
          a.id,
          [
            `rm -f ${home}/.daytona/recordings`,
            `mkdir -p ${home}/.daytona/recordings ${home}/.daytona/computeruse`,
            `ln -s ${secret} ${home}/.daytona/recordings/${fake}`,
            `ln -sf ${secret} ${home}/.daytona/computeruse/xvfb.log`,
            `ln -sf /proc/self/environ ${home}/.daytona/computeruse/xvfb.err`
          ].join("; ")
        )
        const download = yield* raw(
          client,
          HttpClientRequest.get(`/toolbox/${a.id}/computeruse/recordings/${id}/download`)
        )
        assert.notStrictEqual(download.status, 200)
        assert.notInclude(JSON.stringify(download.body), "host content")
        const removed = yield* call(client, "DELETE", `/toolbox/${a.id}/computeruse/recordings/${id}`)
        assert.notStrictEqual(removed.status, 500)
        assert.deepStrictEqual(yield* listing(victim), ["keep.txt"])
        assert.strictEqual(yield* hostText(secret), "host content")
        const logs = yield* call(client, "GET", `/toolbox/${a.id}/computeruse/process/xvfb/logs`)
        const errors = yield* call(client, "GET", `/toolbox/${a.id}/computeruse/process/xvfb/errors`)
        for (const answer of [logs, errors]) {
          assert.notStrictEqual(answer.status, 500)
          assert.notInclude(JSON.stringify(answer.body), "host content")
          assert.notInclude(JSON.stringify(answer.body), "PATH=")
        }

        // A recording label is a file name, never a path.
        for (const label of ["../../escape", "/etc/x", "a/b", ".hidden"]) {
          const refused = yield* call(client, "POST", `/toolbox/${a.id}/computeruse/recordings/start`, { label })
          assert.strictEqual(refused.status, 400, `label ${label}`)
        }
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )
  desktopAttack?.(
    "a sandbox listening on the abstract X sockets neither receives another's keystrokes nor stalls its tools",
    () =>
      Effect.gen(function* () {
        // Shared: a network of its own would give each sandbox its own abstract names.
        const { client } = yield* attackServer({ sandboxNetwork: "shared" })
        const a = yield* createStarted(client)
        const b = yield* createStarted(client, { env: resolution })
        // A takes the abstract names an X client tries before the display's file: it accepts, keeps
        // every connection open without answering, and writes down what it is sent.
        const listener = [
          "import socket, threading",
          "log = open('/tmp/caught', 'ab', buffering=0)",
          "def drain(c):",
          "    while True:",
          "        data = c.recv(65536)",
          "        if not data: return",
          "        log.write(data)",
          "def serve(s):",
          "    while True:",
          "        c, _ = s.accept()",
          "        log.write(b'connection;')",
          "        threading.Thread(target=drain, args=(c,), daemon=True).start()",
          "for n in range(64):",
          "    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          "    try: s.bind('\\0/tmp/.X11-unix/X%d' % n)",
          "    except OSError: continue",
          "    s.listen(64)",
          "    threading.Thread(target=serve, args=(s,), daemon=True).start()",
          "print('listening', flush=True)",
          "threading.Event().wait()"
        ].join("\n")
        const planted = yield* sh(
          client,
          a.id,
          `echo ${Buffer.from(listener).toString("base64")} | base64 -d > /tmp/x.py && (nohup python3 /tmp/x.py > /tmp/x.out 2>&1 &) && for i in $(seq 50); do grep -q listening /tmp/x.out && break; sleep 0.1; done; cat /tmp/x.out`
        )
        assert.include(planted.result, "listening")

        yield* startDesktop(client, b.id)
        const typed = yield* call(client, "POST", `/toolbox/${b.id}/computeruse/keyboard/type`, { text: "hunter2" })
        assert.strictEqual(typed.status, 200, JSON.stringify(typed.body))
        const shot = yield* call(client, "GET", `/toolbox/${b.id}/computeruse/screenshot`)
        assert.strictEqual(shot.status, 200, JSON.stringify(shot.body))
        const moved = yield* call(client, "POST", `/toolbox/${b.id}/computeruse/mouse/move`, { x: 9, y: 9 })
        assert.strictEqual(moved.status, 200)
        const position = yield* call(client, "GET", `/toolbox/${b.id}/computeruse/mouse/position`)
        assert.deepStrictEqual(position.body, { x: 9, y: 9 })
        const caught = yield* sh(client, a.id, "cat /tmp/caught 2>/dev/null; echo end")
        assert.strictEqual(caught.result.trim(), "end", "A received connections meant for B's display")

        // B's display took a name A had left, and holds it: A can neither listen there nor connect.
        const socket = (yield* sh(client, b.id, "ls /tmp/.X11-unix")).result.trim()
        assert.match(socket, /^X\d+$/)
        assert.isAtLeast(Number(socket.slice(1)), 64)
        const probe = [
          "import socket",
          `name = '\\0/tmp/.X11-unix/${socket}'`,
          "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          "try:",
          "    s.bind(name); print('bound')",
          "except OSError as e: print('bind refused', e.errno)",
          "c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
          "try:",
          "    c.connect(name); print('connected')",
          "except OSError as e: print('connect refused', e.errno)"
        ].join("\n")
        const fromA = yield* sh(client, a.id, `echo ${Buffer.from(probe).toString("base64")} | base64 -d | python3`)
        assert.strictEqual(fromA.result.trim(), "bind refused 98\nconnect refused 111")
      }).pipe(Effect.provide(clientLayer)),
    60_000
  )
})
