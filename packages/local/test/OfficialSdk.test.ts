import { Daytona, type Sandbox } from "@daytona/sdk"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as LocalDaytona from "../src/LocalDaytona.js"
import { tempDir } from "./utils.js"

/**
 * The official SDK uses `Date` and `setTimeout`, so this test runs on real time with short
 * transitions; every step has a deadline so it can never hang.
 */
const step = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new Error(`${name} failed: ${String(cause)}`, { cause }) }).pipe(
    Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error(`${name} did not finish within 20 s`) })
  )

const collect = async (iterator: AsyncIterable<Sandbox>) => {
  const all: Array<Sandbox> = []
  for await (const sandbox of iterator) all.push(sandbox)
  return all
}

describe("official SDK", () => {
  it.live(
    "the reference flow of @daytona/sdk runs against the local server over HTTP",
    () =>
      Effect.gen(function* () {
        const server = yield* LocalDaytona.make({
          dataDir: yield* tempDir,
          apiKey: "official-sdk-key",
          isolation: "none",
          timings: {
            create: "150 millis",
            start: "150 millis",
            stop: "150 millis",
            archive: "150 millis",
            destroy: "150 millis"
          }
        })
        const daytona = new Daytona({
          apiKey: Redacted.value(server.apiKey),
          apiUrl: server.apiUrl,
          target: "local"
        })

        const sandbox = yield* step("create", () =>
          daytona.create(
            {
              language: "python",
              labels: { flow: "official" },
              envVars: { GREETING: "hello from env" },
              autoStopInterval: 30
            },
            { timeout: 20 }
          )
        )
        assert.strictEqual(sandbox.state, "started")
        assert.deepStrictEqual(sandbox.labels, { flow: "official", "code-toolbox-language": "python" })
        assert.deepStrictEqual(sandbox.env, { GREETING: "hello from env" })
        assert.strictEqual(sandbox.autoStopInterval, 30)

        const got = yield* step("get", () => daytona.get(sandbox.id))
        assert.deepStrictEqual([got.id, got.state], [sandbox.id, "started"])
        const listed = yield* step("list", () => collect(daytona.list({ labels: { flow: "official" } })))
        assert.deepStrictEqual(
          listed.map((s) => s.id),
          [sandbox.id]
        )

        const echo = yield* step("executeCommand", () => sandbox.process.executeCommand("echo hello"))
        assert.deepStrictEqual([echo.exitCode, echo.result.trim()], [0, "hello"])
        const env = yield* step("executeCommand with the sandbox's env", () =>
          sandbox.process.executeCommand(`sh -c "echo $GREETING"`)
        )
        assert.strictEqual(env.result.trim(), "hello from env")
        const code = yield* step("codeRun", () => sandbox.process.codeRun("print(6 * 7)"))
        assert.deepStrictEqual([code.exitCode, code.result.trim()], [0, "42"])

        const labels = yield* step("setLabels", () => sandbox.setLabels({ flow: "replaced" }))
        assert.deepStrictEqual(labels, { flow: "replaced" })
        const relabelled = yield* step("get after setLabels", () => daytona.get(sandbox.id))
        assert.deepStrictEqual(relabelled.labels, { flow: "replaced" })

        yield* step("stop", () => sandbox.stop())
        assert.strictEqual(sandbox.state, "stopped")
        yield* step("start", () => sandbox.start())
        assert.strictEqual(sandbox.state, "started")
        yield* step("stop again", () => sandbox.stop())
        assert.strictEqual(sandbox.state, "stopped")
        yield* step("archive", () => sandbox.archive())
        assert.oneOf(sandbox.state, ["archiving", "archived"])

        const preview = yield* step("getPreviewLink", () => sandbox.getPreviewLink(3000))
        assert.strictEqual(preview.url, `http://3000-${sandbox.id}.localhost:${new URL(server.url).port}`)
        assert.strictEqual(preview.token.length, 32)
        const ssh = yield* step("createSshAccess", () => sandbox.createSshAccess())
        assert.deepStrictEqual(
          [ssh.sandboxId, typeof ssh.token, typeof ssh.sshCommand],
          [sandbox.id, "string", "string"]
        )

        yield* step("delete", () => sandbox.delete())
        // Like Daytona, a sandbox deleted while archiving reports its stored state until the
        // deletion completes; then GET answers 404.
        const status = () =>
          daytona.get(sandbox.id).then(
            (s): string | number | undefined => s.state,
            (error: unknown) => (error as { statusCode?: number }).statusCode
          )
        let gone = yield* step("get after delete", status)
        for (let i = 0; i < 50 && gone !== 404; i++) {
          yield* Effect.sleep("100 millis")
          gone = yield* step("get after delete", status)
        }
        assert.strictEqual(gone, 404)
      }).pipe(Effect.scoped),
    60_000
  )
})
