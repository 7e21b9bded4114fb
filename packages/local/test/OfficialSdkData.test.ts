import { Daytona, type Sandbox } from "@daytona/sdk"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as LocalDaytona from "../src/LocalDaytona.js"
import type * as LocalConfig from "../src/LocalConfig.js"
import { bwrapRequired, hasBwrap, homeDataDir } from "./attackHarness.js"
import { tempDir } from "./utils.js"

/**
 * The official SDK 0.216 against the local server for secrets, env, signed file URLs, git extras,
 * listFiles depth and volumes, over real HTTP on real time; every step has a deadline.
 */
const step = <A>(name: string, run: () => Promise<A>) =>
  Effect.tryPromise({ try: run, catch: (cause) => new Error(`${name} failed: ${String(cause)}`, { cause }) }).pipe(
    Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => new Error(`${name} did not finish within 15 s`) })
  )

const official = (dataDir: string, extra: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const server = yield* LocalDaytona.make({
      dataDir,
      apiKey: "official-sdk-key",
      isolation: "none",
      timings: { create: "50 millis", start: "50 millis", stop: "50 millis", destroy: "50 millis" },
      ...extra
    })
    const daytona = new Daytona({ apiKey: Redacted.value(server.apiKey), apiUrl: server.apiUrl, target: "local" })
    return { server, daytona }
  })

const run = (sandbox: Sandbox, command: string) =>
  step(command, () => sandbox.process.executeCommand(command)).pipe(Effect.map((r) => r.result))

describe("official SDK: secrets, env, signed URLs, git extras", () => {
  it.scopedLive(
    "secrets are managed and mounted; env changes reach new processes",
    () =>
      Effect.gen(function* () {
        const { daytona } = yield* official(yield* tempDir)
        const created = yield* step("secret.create", () =>
          daytona.secret.create({ name: "API_KEY", value: "v-123-secret", hosts: ["api.example.com"] })
        )
        assert.strictEqual(created.placeholder, `dtn_secret_${created.id}`)
        const listed = yield* step("secret.list", () => daytona.secret.list())
        assert.deepStrictEqual(
          listed.items.map((s) => s.name),
          ["API_KEY"]
        )
        assert.notInclude(JSON.stringify(listed), "v-123-secret")
        const updated = yield* step("secret.update", () => daytona.secret.update(created.id, { description: "d" }))
        assert.strictEqual(updated.description, "d")
        assert.strictEqual((yield* step("secret.get", () => daytona.secret.get(created.id))).name, "API_KEY")

        const sandbox = yield* step("create", () =>
          daytona.create({ language: "python", secrets: { MY_KEY: "API_KEY" } }, { timeout: 10 })
        )
        assert.strictEqual(yield* run(sandbox, 'sh -c "printf %s $MY_KEY"'), created.placeholder)
        yield* step("updateSecrets", () => sandbox.updateSecrets({ OTHER: "API_KEY" }))
        assert.strictEqual(
          yield* run(sandbox, 'sh -c "printf %s ${MY_KEY-none}:$OTHER"'),
          `none:${created.placeholder}`
        )

        yield* step("updateEnv", () => sandbox.updateEnv({ GREETING: "hello" }, { unset: ["OTHER"] }))
        assert.strictEqual(yield* run(sandbox, 'sh -c "printf %s $GREETING:${OTHER-gone}"'), "hello:gone")

        yield* step("secret.delete", () => daytona.secret.delete(created.id))
        assert.deepStrictEqual((yield* step("secret.list", () => daytona.secret.list())).items, [])
      }),
    60_000
  )

  it.scopedLive(
    "signed download and upload URLs work without the key and stop after rotation",
    () =>
      Effect.gen(function* () {
        const { daytona } = yield* official(yield* tempDir)
        const sandbox = yield* step("create", () => daytona.create({ language: "python" }, { timeout: 10 }))
        yield* run(sandbox, "sh -c 'printf report > report.txt'")
        const download = yield* step("downloadUrl", () => sandbox.downloadUrl("report.txt", 60))
        const fetched = yield* step("fetch download", () =>
          fetch(download).then(async (r) => [r.status, await r.text()])
        )
        assert.deepStrictEqual(fetched, [200, "report"])

        const upload = yield* step("uploadUrl", () => sandbox.uploadUrl("in/up.txt", 60))
        const form = new FormData()
        form.append("file", new Blob(["uploaded"]), "up.txt")
        const posted = yield* step("fetch upload", () =>
          fetch(upload, { method: "POST", body: form }).then((r) => r.status)
        )
        assert.strictEqual(posted, 200)
        assert.strictEqual(yield* run(sandbox, "cat in/up.txt"), "uploaded")

        yield* step("rotateSigningKey", () => sandbox.rotateSigningKey())
        const after = yield* step("fetch after rotation", () => fetch(download).then((r) => r.status))
        assert.strictEqual(after, 401)
        const fresh = yield* step("downloadUrl after rotation", () => sandbox.downloadUrl("report.txt", 60))
        assert.strictEqual(yield* step("fetch fresh", () => fetch(fresh).then((r) => r.status)), 200)
      }),
    60_000
  )

  it.scopedLive(
    "git extras and listFiles depth",
    () =>
      Effect.gen(function* () {
        const { daytona } = yield* official(yield* tempDir)
        const sandbox = yield* step("create", () => daytona.create({ language: "python" }, { timeout: 10 }))
        yield* step("git.init", () => sandbox.git.init("repo", false, "trunk"))
        yield* step("git.configureUser", () => sandbox.git.configureUser("Ada", "ada@example.com", "local", "repo"))
        assert.strictEqual(
          yield* step("git.getConfig", () => sandbox.git.getConfig("user.name", "local", "repo")),
          "Ada"
        )
        assert.isUndefined(yield* step("git.getConfig unset", () => sandbox.git.getConfig("user.signingkey")))
        yield* step("git.setConfig", () => sandbox.git.setConfig("core.autocrlf", "input"))
        assert.strictEqual(yield* step("git.getConfig global", () => sandbox.git.getConfig("core.autocrlf")), "input")
        yield* step("git.remoteAdd", () => sandbox.git.remoteAdd("repo", "origin", "https://example.com/r.git"))
        assert.deepStrictEqual((yield* step("git.remotes", () => sandbox.git.remotes("repo"))).remotes, [
          { name: "origin", url: "https://example.com/r.git" }
        ])
        assert.strictEqual(
          yield* step("git.remoteGet", () => sandbox.git.remoteGet("repo", "origin")),
          "https://example.com/r.git"
        )
        yield* step("upload", () => sandbox.fs.uploadFile(Buffer.from("one\n"), "repo/a.txt"))
        yield* step("git.add", () => sandbox.git.add("repo", ["a.txt"]))
        yield* step("git.commit", () => sandbox.git.commit("repo", "first", "Ada", "ada@example.com"))
        yield* step("upload", () => sandbox.fs.uploadFile(Buffer.from("dirty\n"), "repo/a.txt"))
        yield* step("git.restore", () => sandbox.git.restore("repo", ["a.txt"]))
        assert.strictEqual(yield* run(sandbox, "cat repo/a.txt"), "one\n")
        yield* step("upload", () => sandbox.fs.uploadFile(Buffer.from("two\n"), "repo/a.txt"))
        yield* step("git.add", () => sandbox.git.add("repo", ["a.txt"]))
        yield* step("git.reset", () => sandbox.git.reset("repo", "hard"))
        assert.strictEqual(yield* run(sandbox, "cat repo/a.txt"), "one\n")

        const deep = yield* step("listFiles depth", () => sandbox.fs.listFiles("repo", { depth: 2 }))
        assert.include(
          deep.map((f) => f.name),
          "HEAD"
        )
        const shallow = yield* step("listFiles", () => sandbox.fs.listFiles("repo"))
        assert.notInclude(
          shallow.map((f) => f.name),
          "HEAD"
        )
      }),
    60_000
  )
})

const bwrapTest = hasBwrap || bwrapRequired ? it.scopedLive : undefined

describe("official SDK: volumes (bubblewrap)", () => {
  bwrapTest?.(
    "two sandboxes mounting one volume see each other's files",
    () =>
      Effect.gen(function* () {
        const { daytona } = yield* official(yield* homeDataDir, { isolation: "bwrap" })
        let volume = yield* step("volume.create", () => daytona.volume.create("shared"))
        for (let i = 0; i < 50 && volume.state !== "ready"; i++) {
          yield* Effect.sleep("100 millis")
          volume = yield* step("volume.get", () => daytona.volume.get("shared"))
        }
        assert.strictEqual(volume.state, "ready")
        const mount = [{ volumeId: volume.id, mountPath: "/mnt/shared" }]
        const a = yield* step("create a", () => daytona.create({ language: "python", volumes: mount }, { timeout: 10 }))
        const b = yield* step("create b", () => daytona.create({ language: "python", volumes: mount }, { timeout: 10 }))
        yield* run(a, "sh -c 'echo from-a > /mnt/shared/a.txt'")
        assert.strictEqual(yield* run(b, "cat /mnt/shared/a.txt"), "from-a\n")
        const refused = yield* step("volume.delete in use", () =>
          daytona.volume.delete(volume).then(
            () => "deleted",
            (error: unknown) => String(error)
          )
        )
        assert.include(refused, "in use")
      }),
    60_000
  )
})
