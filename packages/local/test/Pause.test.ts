import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { attackServer, bwrapRequired, hasBwrap, realSleep, sh } from "./attackHarness.js"
import { settleTo } from "./lifecycleHarness.js"
import {
  advance,
  asApiError,
  asSandbox,
  call,
  type Client,
  clientLayer,
  createStarted,
  serve,
  tempDir
} from "./utils.js"

/**
 * Starts a process in the sandbox that writes a growing counter to `~/counter` every 20 ms. Each
 * value is written beside it and renamed over it: a pause can freeze the process anywhere, and a
 * write in place frozen between its truncate and its write would leave the file empty.
 */
const startCounter = (client: Client, id: string) =>
  sh(
    client,
    id,
    `nohup sh -c 'i=0; while true; do i=$((i+1)); echo $i > "$HOME/counter.next"; mv "$HOME/counter.next" "$HOME/counter"; sleep 0.02; done' >/dev/null 2>&1 &`
  )

const readCounter = (client: Client, id: string) =>
  Effect.map(sh(client, id, `cat "$HOME/counter"`), (answer) => Number(answer.result.trim()))

/** Reads the counter until it is above `value` (real time, at most 10 s on a loaded machine). */
const growsPast = (client: Client, id: string, value: number) =>
  Effect.gen(function* () {
    let seen = yield* readCounter(client, id)
    for (let i = 0; i < 100 && !(seen > value); i++) {
      yield* realSleep(100)
      seen = yield* readCounter(client, id)
    }
    return seen
  })

/** Pauses a started sandbox, resumes it, and checks the counter stops, then grows again. */
const pauseFreezesTheCounter = (client: Client, dataDir: string) =>
  Effect.gen(function* () {
    const sandbox = yield* createStarted(client)
    yield* startCounter(client, sandbox.id)
    const running = yield* growsPast(client, sandbox.id, 0)
    assert.isAbove(running, 0)

    const pausing = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/pause`)
    assert.strictEqual(pausing.status, 200, JSON.stringify(pausing.body))
    assert.strictEqual(asSandbox(pausing).state, "pausing")
    assert.strictEqual(yield* settleTo(client, sandbox.id, "paused", 400), "paused")

    // The toolbox refuses a paused sandbox's commands: the counter is read from the host.
    const frozenAt = yield* counterOnDisk(dataDir, sandbox.id)
    assert.isAtLeast(frozenAt, running)
    yield* realSleep(400)
    assert.strictEqual(yield* counterOnDisk(dataDir, sandbox.id), frozenAt, "the counter grew while paused")
    const refused = yield* sh(client, sandbox.id, "true").pipe(Effect.exit)
    assert.isTrue(refused._tag === "Failure", "a paused sandbox ran a command")

    const resuming = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/start`)
    assert.strictEqual(resuming.status, 200, JSON.stringify(resuming.body))
    assert.strictEqual(yield* settleTo(client, sandbox.id, "started", 400), "started")
    assert.isAbove(yield* growsPast(client, sandbox.id, frozenAt), frozenAt, "the counter did not grow after resume")
    return sandbox.id
  })

/** The counter file as the host sees it in the sandbox's home. */
const counterOnDisk = (dataDir: string, id: string) =>
  Effect.promise(() => NodeFs.readFile(NodePath.join(dataDir, "sandboxes", id, "home", "counter"), "utf8")).pipe(
    Effect.map((text) => Number(text.trim()))
  )

describe("pause", () => {
  it.scoped("a paused sandbox's processes make no progress until it is started again (no isolation)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      yield* pauseFreezesTheCounter(client, dir)
    }).pipe(Effect.provide(clientLayer))
  )

  if (hasBwrap || bwrapRequired)
    it.scoped("a paused sandbox's processes make no progress until it is started again (bwrap)", () =>
      Effect.gen(function* () {
        const { client, dir } = yield* attackServer()
        yield* pauseFreezesTheCounter(client, dir)
      }).pipe(Effect.provide(clientLayer))
    )

  it.scoped("pause is refused when the sandbox is not started; stop and delete work from paused", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      yield* call(client, "POST", `/api/sandbox/${sandbox.id}/stop`)
      yield* advance("2 seconds")
      const refused = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/pause`)
      assert.strictEqual(refused.status, 400)
      assert.include(asApiError(refused).message, "started")
      const missing = yield* call(client, "POST", `/api/sandbox/nope/pause`)
      assert.strictEqual(missing.status, 404)

      const other = yield* createStarted(client)
      yield* call(client, "POST", `/api/sandbox/${other.id}/pause`)
      assert.strictEqual(yield* settleTo(client, other.id, "paused"), "paused")
      const stopping = yield* call(client, "POST", `/api/sandbox/${other.id}/stop`)
      assert.strictEqual(stopping.status, 200, JSON.stringify(stopping.body))
      assert.strictEqual(yield* settleTo(client, other.id, "stopped"), "stopped")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("auto-pause pauses an idle sandbox on the clock; both auto-stop and auto-pause are refused", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const both = yield* call(client, "POST", "/api/sandbox", { autoStopInterval: 5, autoPauseInterval: 5 })
      assert.strictEqual(both.status, 400)
      const sandbox = yield* createStarted(client, { autoPauseInterval: 1 })
      assert.strictEqual(sandbox.autoPauseInterval, 1)
      assert.strictEqual(sandbox.autoStopInterval, 0)
      yield* advance("61 seconds")
      assert.strictEqual(yield* settleTo(client, sandbox.id, "paused", 400), "paused")

      const set = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/autopause/0`)
      assert.strictEqual(asSandbox(set).autoPauseInterval, 0)
      const refused = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/autopause/-1`)
      assert.strictEqual(refused.status, 400)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a TTL destroys the sandbox on the clock, whatever its state", () =>
    Effect.gen(function* () {
      const { client } = yield* serve(yield* tempDir)
      const sandbox = yield* createStarted(client)
      // A TTL whose deadline would be no date is refused, and the sandbox stays readable.
      for (const bad of ["1e300", "2147483648", "-1"]) {
        const refused = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/ttl/${bad}`)
        assert.strictEqual(refused.status, 400, bad)
      }
      assert.strictEqual((yield* call(client, "POST", "/api/sandbox", { ttlMinutes: 1e300 })).status, 400)
      assert.strictEqual((yield* call(client, "GET", `/api/sandbox/${sandbox.id}`)).status, 200)
      const set = asSandbox(yield* call(client, "POST", `/api/sandbox/${sandbox.id}/ttl/2`))
      assert.isDefined(set.autoDestroyAt)
      assert.isAtLeast(Date.parse(set.autoDestroyAt!) - Date.parse(set.updatedAt!), 119_000)
      yield* advance("119 seconds")
      assert.strictEqual(yield* settleTo(client, sandbox.id, "started", 1), "started")
      yield* advance("2 seconds")
      assert.strictEqual(yield* settleTo(client, sandbox.id, "destroyed"), "destroyed")
      const refused = yield* call(client, "POST", `/api/sandbox/${sandbox.id}/ttl/1.5`)
      assert.oneOf(refused.status, [400, 404])
    }).pipe(Effect.provide(clientLayer))
  )
})
