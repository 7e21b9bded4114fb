import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import * as ControlPlane from "../src/internal/controlPlane.js"
import * as Toolbox from "../src/internal/toolbox.js"
import { hasBwrap } from "./attackHarness.js"
import { fastServer } from "./sdkHarness.js"

/**
 * A seeded run of malformed requests against every route of a live server on loopback: no answer
 * may be a 5xx, the server must keep answering, and the sandboxes it had must still be there.
 */

/** A route of the server: its method and its path template with `:param` placeholders. */
export interface FuzzRoute {
  readonly method: string
  readonly template: string
}

/**
 * Every route the server serves, read from its routers (the one place to change when routes are
 * declared elsewhere).
 */
export const routes = (): ReadonlyArray<FuzzRoute> => [
  ...Chunk.toReadonlyArray(ControlPlane.router.routes).map((r) => ({ method: r.method, template: `/api${r.path}` })),
  ...Chunk.toReadonlyArray(ControlPlane.buildLogsRouter.routes).map((r) => ({
    method: r.method,
    template: `/snapshots${r.path}`
  })),
  ...Chunk.toReadonlyArray(Toolbox.router.routes).map((r) => ({ method: r.method, template: `/toolbox${r.path}` }))
]

/** mulberry32: a small seeded generator, so a failing run can be replayed with its seed. */
const generator = (seed: number) => {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (max: number) => Math.floor(next() * max)
  const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
  return { next, int, pick }
}

type Random = ReturnType<typeof generator>

const weird = [
  "",
  " ",
  "0",
  "-1",
  "1e300",
  "-1e300",
  "NaN",
  "Infinity",
  "99999999999999999999",
  "65536",
  "0x10",
  "1.5",
  "true",
  "null",
  "undefined",
  "[]",
  "{}",
  "%",
  "%00",
  "\u0000",
  "a\u0000b",
  "..",
  "../..",
  "ü",
  "☃",
  "\ud800",
  "'\"",
  "<script>",
  "DESTROYED_x",
  "a".repeat(300),
  "b".repeat(5000)
]

/** A value for a query parameter or path segment: never an absolute or escaping path (the fuzz may run unisolated). */
const garbage = (random: Random): string => {
  switch (random.int(4)) {
    case 0:
      return random.pick(weird)
    case 1:
      return `fuzz-${random.int(1e9).toString(36)}`
    case 2:
      return Array.from({ length: random.int(40) }, () => String.fromCharCode(random.int(0x3000))).join("")
    default:
      return String(random.int(2 ** 31) - 2 ** 30)
  }
}

/** A path a toolbox route may use: relative to the sandbox's home and never leaving it, or plainly invalid. */
const relativePath = (random: Random): string => {
  const name = () => `f${random.int(1000)}`
  switch (random.int(5)) {
    case 0:
      return `${name()}/${name()}`
    case 1:
      return `${name()}\u0000x`
    case 2:
      return "x".repeat(5000)
    case 3:
      return `fuzz/${garbage(random).replace(/\//g, "_").replace(/^\.+/, "")}`
    default:
      return name()
  }
}

const queryNames = [
  "path",
  "recursive",
  "mode",
  "owner",
  "group",
  "source",
  "destination",
  "pattern",
  "expiresInMinutes",
  "expiresInSeconds",
  "force",
  "token",
  "cursor",
  "limit",
  "page",
  "labels",
  "states",
  "sort",
  "order",
  "follow",
  "languageId",
  "pathToProject",
  "uri",
  "query",
  "includeDeleted",
  "name",
  "snapshots",
  "regions"
]

const pathLike = new Set(["path", "source", "destination", "pathToProject"])

/** A JSON value of any type. */
const jsonValue = (random: Random, depth = 0): unknown => {
  switch (random.int(depth > 2 ? 5 : 7)) {
    case 0:
      return random.int(2) === 0 ? random.int(1e6) : random.pick([1e300, -1e300, -1, 0, 1.5, 2 ** 53])
    case 1:
      return garbage(random)
    case 2:
      return random.int(2) === 0
    case 3:
      return null
    case 4:
      return random.pick([[], {}, ""])
    case 5:
      return Array.from({ length: random.int(4) }, () => jsonValue(random, depth + 1))
    default:
      return Object.fromEntries(
        Array.from({ length: random.int(4) }, () => [garbage(random), jsonValue(random, depth + 1)])
      )
  }
}

/** Field names the request bodies use, given values of the wrong kinds. */
const fieldNames = [
  "command",
  "code",
  "language",
  "cwd",
  "envs",
  "timeout",
  "argv",
  "sessionId",
  "runAsync",
  "data",
  "files",
  "pattern",
  "newValue",
  "paths",
  "url",
  "path",
  "branch",
  "username",
  "password",
  "message",
  "author",
  "email",
  "name",
  "languageId",
  "pathToProject",
  "uri",
  "position",
  "labels",
  "cpu",
  "memory",
  "disk",
  "snapshot",
  "image",
  "env",
  "public",
  "networkBlockAll",
  "networkAllowList",
  "autoStopInterval",
  "volumes",
  "buildInfo",
  "imageName",
  "entrypoint"
]

/** A malformed body: bad JSON, the wrong type, or known fields with values of the wrong kinds. */
const body = (random: Random): { readonly text: string; readonly contentType: string | undefined } => {
  switch (random.int(8)) {
    case 0:
      return {
        text: random.pick(["{", "[1,", '{"a":', "nul", "{}}", "\u0000", '"unterminated']),
        contentType: "application/json"
      }
    case 1:
      return { text: JSON.stringify(random.pick([[], 1, "text", null, true])), contentType: "application/json" }
    case 2:
      return { text: JSON.stringify(jsonValue(random)), contentType: random.pick(["application/json", undefined]) }
    case 3: {
      const fields = Array.from({ length: 1 + random.int(5) }, () => random.pick(fieldNames))
      // wrong kinds only: numbers where strings go, objects and arrays, strings where numbers go
      const value = () => random.pick<unknown>([12345, -1, 1e300, { nested: true }, [1, 2], false, "not-a-number"])
      return {
        text: JSON.stringify(Object.fromEntries(fields.map((f) => [f, value()]))),
        contentType: "application/json"
      }
    }
    case 4:
      return {
        text: Array.from({ length: random.int(200) }, () => String.fromCharCode(random.int(256))).join(""),
        contentType: random.pick(["application/octet-stream", "text/plain", "application/json", undefined])
      }
    case 5:
      return {
        text: `--b\r\nContent-Disposition: form-data; name="${random.pick(["file", "files[0].path", "x"])}"\r\n\r\n${garbage(random)}\r\n--b`,
        contentType: random.pick([
          "multipart/form-data; boundary=b",
          "multipart/form-data",
          "multipart/form-data; boundary="
        ])
      }
    case 6:
      return { text: "", contentType: random.pick(["application/x-www-form-urlencoded", undefined]) }
    default:
      return { text: "a=1&b=%ZZ&c", contentType: "application/x-www-form-urlencoded" }
  }
}

/** State-changing routes that must never be aimed at the sandboxes whose survival is checked. */
const destructive = (route: FuzzRoute) =>
  route.method === "DELETE" ||
  /\/(stop|archive|start|recover|resize|autostop|autoarchive|autodelete|pause|fork|snapshot|ttl|autopause)(\/|$)/.test(
    route.template
  )

/**
 * Routes that would create state at every call (sandboxes, snapshots, volumes, sessions, screen
 * recordings, each an encoder running until stopped): only malformed JSON is sent.
 */
const creating = (route: FuzzRoute) =>
  route.method === "POST" &&
  (/^\/api\/(sandbox|snapshots|volumes|warm-pools)$/.test(route.template) ||
    /\/process\/session$/.test(route.template) ||
    /\/computeruse\/recordings\/start$/.test(route.template) ||
    /\/lsp\/start$/.test(route.template) ||
    /\/git\/clone$/.test(route.template))

interface Target {
  readonly keeper: string
  readonly fuzzed: string
}

interface Request {
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: string
}

/** `encodeURIComponent`, with lone surrogates (which it refuses) replaced. */
const encode = (text: string) => encodeURIComponent(text.replace(/[\ud800-\udfff]/g, "\ufffd"))

const request = (random: Random, route: FuzzRoute, target: Target, apiKey: string): Request => {
  const method = random.int(20) === 0 ? random.pick(["GET", "POST", "PUT", "DELETE", "PATCH"]) : route.method
  const risky = destructive(route) || method !== route.method
  const id = (param: string) => {
    if (route.template.startsWith("/toolbox") && param === "sandboxId")
      return random.int(10) === 0 ? garbage(random) : target.fuzzed
    if (risky) return garbage(random)
    return random.pick([target.keeper, target.fuzzed, garbage(random), garbage(random)])
  }
  let path = route.template.replace(/:(\w+)/g, (_, param: string) =>
    encode(param === "sandboxId" || param === "sandboxIdOrName" ? id(param) : garbage(random))
  )
  const params = new URLSearchParams()
  for (let i = random.int(4); i > 0; i--) {
    const name = random.pick(queryNames)
    params.append(name, pathLike.has(name) ? relativePath(random) : garbage(random))
  }
  const query = params.toString()
  if (query !== "") path += `?${query}`
  const made = creating(route)
    ? { text: random.pick(["{", "[", "nul", '{"a":']), contentType: "application/json" }
    : body(random)
  const headers: Record<string, string> = {}
  if (random.int(30) !== 0) headers["authorization"] = `Bearer ${apiKey}`
  if (made.contentType !== undefined) headers["content-type"] = made.contentType
  // malformed preview hosts: a port out of range, or a sandbox that does not exist
  if (random.int(25) === 0)
    headers["host"] = random.pick([
      `${random.pick(["0", "65536", "99999", "00000"])}-${random.pick([target.fuzzed, "nope"])}.localhost`,
      `${1 + random.int(65535)}-${random.pick(["nope", "x-y-z", "0"])}.localhost`,
      `${encode(garbage(random))}.localhost`
    ])
  return { method, path, headers, body: method === "GET" || method === "DELETE" ? "" : made.text }
}

/** What became of one request: its status, or why there is none, and how long it took. */
interface Outcome {
  readonly status: number
  readonly problem: string
  readonly millis: number
}

const send = (agent: NodeHttp.Agent, port: number, req: Request) =>
  new Promise<Outcome>((resolve) => {
    const started = Date.now()
    const done = (status: number, problem = "") => resolve({ status, problem, millis: Date.now() - started })
    const outgoing = NodeHttp.request(
      { host: "127.0.0.1", port, method: req.method, path: req.path, headers: req.headers, agent, timeout: 30_000 },
      (response) => {
        response.resume()
        response.on("end", () => done(response.statusCode ?? 0))
        response.on("error", (error) => done(-2, error.message))
      }
    )
    outgoing.on("timeout", () => outgoing.destroy(new Error("no answer within 30 s")))
    outgoing.on("error", (error) => done(-1, error.message))
    outgoing.end(req.body)
  })

/** A request the HTTP parser itself must refuse (and the server survive). */
const rawGarbage = (port: number, random: Random) =>
  new Promise<void>((resolve) => {
    const socket = NodeNet.connect(port, "127.0.0.1", () => {
      socket.end(
        random.pick([
          "GARBAGE\r\n\r\n",
          "GET / HTTP/9.9\r\n\r\n",
          "GET /api/config HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
          `GET /${"x".repeat(100_000)} HTTP/1.1\r\n\r\n`,
          "POST /api/sandbox HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        ])
      )
    })
    socket.on("data", () => undefined)
    socket.on("close", () => resolve())
    socket.on("error", () => resolve())
    socket.setTimeout(10_000, () => socket.destroy())
  })

const seed = Number(process.env["FUZZ_SEED"] ?? 20261202)
const total = 10_000

describe("fuzz", () => {
  it.live(
    `${total} malformed requests across every route: no 5xx, no crash, no sandbox lost (seed ${seed})`,
    () =>
      Effect.gen(function* () {
        const { server } = yield* fastServer({ apiKey: "fuzz-key", isolation: hasBwrap ? "bwrap" : "none" })
        const port = Number(new URL(server.url).port)
        const agent = new NodeHttp.Agent({ keepAlive: true, maxSockets: 8 })
        yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
        const create = (name: string) =>
          Effect.promise(() =>
            fetch(`${server.apiUrl}/sandbox`, {
              method: "POST",
              headers: { authorization: "Bearer fuzz-key", "content-type": "application/json" },
              body: JSON.stringify({ name, labels: { fuzz: "yes" } })
            }).then((r) => r.json() as Promise<{ id: string; state: string }>)
          )
        const keeper = yield* create("keeper")
        const fuzzed = yield* create("fuzzed")
        assert.deepStrictEqual([keeper.state, fuzzed.state], ["started", "started"])
        const all = routes()
        assert.isAbove(all.length, 60)
        const random = generator(seed)
        const failures: Array<string> = []
        const slowest: Array<string> = []
        const started = Date.now()
        let sent = 0
        yield* Effect.promise(async () => {
          const worker = async () => {
            while (sent < total && failures.length < 20) {
              sent++
              if (random.int(200) === 0) {
                await rawGarbage(port, random)
                continue
              }
              const route = random.pick(all)
              const req = request(random, route, { keeper: keeper.id, fuzzed: fuzzed.id }, "fuzz-key")
              const { millis, problem, status } = await send(agent, port, req)
              if (millis > 5_000) slowest.push(`${millis} ms ${status} ${req.method} ${req.path.slice(0, 120)}`)
              if (status >= 500 || status < 0)
                failures.push(
                  `${status}${problem === "" ? "" : ` (${problem})`} after ${millis} ms ${req.headers["host"] ?? ""} ${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.body.slice(0, 200))}`
                )
            }
          }
          await Promise.all(Array.from({ length: 8 }, worker))
        })
        assert.deepStrictEqual(failures, [], `seed ${seed}`)
        assert.strictEqual(sent, total)
        // How long it took is reported, not asserted: speed belongs to `pnpm bench`, and CI machines vary.
        console.log(`fuzz: ${total} requests in ${Date.now() - started} ms (seed ${seed})`)
        if (slowest.length > 0) console.log(`fuzz: answered after more than 5 s:\n${slowest.join("\n")}`)
        const check = (id: string) =>
          Effect.promise(() =>
            fetch(`${server.apiUrl}/sandbox/${id}`, { headers: { authorization: "Bearer fuzz-key" } }).then(
              async (r) => [r.status, ((await r.json()) as { state: string }).state] as const
            )
          )
        assert.deepStrictEqual(yield* check(keeper.id), [200, "started"])
        assert.strictEqual((yield* check(fuzzed.id))[0], 200)
      }).pipe(Effect.scoped),
    600_000
  )
})
