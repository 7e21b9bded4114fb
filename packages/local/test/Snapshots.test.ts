import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Image from "@effect-daytona/sdk/Image"
import { PaginatedSnapshots, SnapshotDto } from "@effect-daytona/sdk/SnapshotDto"
import { failureOf } from "./sdkHarness.js"
import { serveWithSdk } from "./resourcesHarness.js"
import { advance, asApiError, asSandbox, call, clientLayer, driveUntilDone, tempDir } from "./utils.js"

const asSnapshot = (answer: { readonly body: unknown }) => Schema.decodeUnknownSync(SnapshotDto)(answer.body)
const general = ["daytona-small", "daytona-medium", "daytona-large"]

describe("snapshots", () => {
  it.scoped("the general snapshots are listed as active, after the organization's own", () =>
    Effect.gen(function* () {
      const { snapshots, client } = yield* serveWithSdk(yield* tempDir)
      const page = yield* snapshots.listPage()
      assert.deepStrictEqual([page.total, page.page, page.totalPages], [3, 1, 1])
      assert.deepStrictEqual(
        page.items.map((s) => [s.name, s.state, s.general]).sort(),
        general.map((name) => [name, "active", true]).sort()
      )
      const raw = yield* call(client, "GET", "/api/snapshots/daytona-small")
      assert.deepStrictEqual(
        [
          asSnapshot(raw).state,
          (raw.body as Record<string, unknown>).size,
          (raw.body as Record<string, unknown>).errorReason
        ],
        ["active", null, null]
      )
      const medium = yield* snapshots.get("daytona-medium")
      assert.deepStrictEqual([medium.cpu, medium.mem, medium.disk], [2, 4, 8])
      yield* snapshots.create({ name: "mine", image: "python:3.12-slim", wait: false })
      const all = Chunk.toReadonlyArray(yield* Stream.runCollect(snapshots.list({ limit: 2 })))
      assert.deepStrictEqual(all.length, 4)
      assert.strictEqual(all[0]!.name, "mine")
      const filtered = Schema.decodeUnknownSync(PaginatedSnapshots)(
        (yield* call(client, "GET", "/api/snapshots?name=MEDIUM&sort=name&order=asc")).body
      )
      assert.deepStrictEqual(
        filtered.items.map((s) => s.name),
        ["daytona-medium"]
      )
      const removing = yield* failureOf(snapshots.delete("daytona-small"))
      assert.deepStrictEqual([removing._tag, "status" in removing ? removing.status : 0], ["AuthorizationError", 403])
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("an image snapshot goes pending → pulling → active; a sandbox can then use it", () =>
    Effect.gen(function* () {
      const { snapshots, client } = yield* serveWithSdk(yield* tempDir)
      const accepted = yield* snapshots.create({
        name: "py",
        image: "python:3.12-slim",
        resources: { cpu: 2, memory: 2, disk: 5 },
        wait: false
      })
      assert.deepStrictEqual(
        [accepted.state, accepted.imageName, accepted.cpu, accepted.mem, accepted.disk, accepted.general],
        ["pending", "python:3.12-slim", 2, 2, 5, false]
      )
      const early = yield* call(client, "POST", "/api/sandbox", { snapshot: "py" })
      assert.deepStrictEqual([early.status, asApiError(early).message], [400, "Snapshot py is pending"])
      yield* advance("1 second")
      assert.strictEqual((yield* snapshots.get("py")).state, "pulling")
      yield* advance("1 second")
      assert.strictEqual((yield* snapshots.get(accepted.id)).state, "active")

      const sandbox = asSandbox(yield* call(client, "POST", "/api/sandbox", { snapshot: "py" }))
      assert.deepStrictEqual([sandbox.snapshot, sandbox.cpu, sandbox.memory, sandbox.disk], ["py", 2, 2, 5])
      assert.isDefined((yield* snapshots.get("py")).lastUsedAt)

      const logs = yield* failureOf(snapshots.buildLogsUrl(accepted))
      assert.strictEqual(logs._tag, "NotFoundError")

      yield* snapshots.deactivate(accepted)
      assert.strictEqual((yield* snapshots.get("py")).state, "inactive")
      const inactive = yield* call(client, "POST", "/api/sandbox", { snapshot: "py" })
      assert.deepStrictEqual([inactive.status, asApiError(inactive).message], [400, "Snapshot py is inactive"])
      assert.strictEqual((yield* snapshots.activate("py")).state, "active")
      const twice = yield* call(client, "POST", `/api/snapshots/${accepted.id}/activate`)
      assert.deepStrictEqual(
        [twice.status, asApiError(twice).message],
        [400, `Snapshot ${accepted.id} is already active`]
      )

      yield* snapshots.delete("py")
      assert.strictEqual((yield* snapshots.get("py")).state, "removing")
      yield* advance("1 second")
      assert.strictEqual((yield* failureOf(snapshots.get("py")))._tag, "NotFoundError")
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("an Image snapshot goes pending → building → active; create waits on the Clock; build logs", () =>
    Effect.gen(function* () {
      const { snapshots } = yield* serveWithSdk(yield* tempDir)
      const image = Image.debianSlim("3.12").pipe(Image.pipInstall(["requests"]))
      const fiber = yield* Effect.fork(snapshots.create({ name: "built", image }))
      const built = yield* driveUntilDone(fiber, "100 millis")
      assert.deepStrictEqual([built.state, built.imageName], ["active", undefined])
      assert.isDefined(built.buildInfo?.dockerfileContent)
      assert.deepStrictEqual(built.entrypoint, ["sleep", "infinity"])
      const url = yield* snapshots.buildLogsUrl(built)
      assert.match(url, new RegExp(`/snapshots/${built.id}/build-logs$`))
      const logs = yield* snapshots.buildLogs("built")
      assert.match(logs, /^Building snapshot built/)
      assert.match(logs, /Step 1\/\d+ : FROM /)
      assert.match(logs, /is ready/)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("bad requests answer Daytona's error body and status", () =>
    Effect.gen(function* () {
      const { snapshots, client } = yield* serveWithSdk(yield* tempDir)
      const post = (body: unknown) => call(client, "POST", "/api/snapshots", body)
      const cases: ReadonlyArray<readonly [unknown, number, string]> = [
        [{ imageName: "python:3.12" }, 400, "name must be a string"],
        [{ name: "x" }, 400, "Must specify an image name"],
        [
          { name: "x", imageName: "python" },
          400,
          "Image name must include a tag (e.g., ubuntu:22.04) or digest (@sha256:...)"
        ],
        [{ name: "x", imageName: "python:latest" }, 400, 'Images with tag ":latest" are not allowed'],
        [
          { name: "bad name", imageName: "python:3.12" },
          400,
          "Invalid snapshot name format. May contain letters, digits, dots, colons, and dashes"
        ],
        [{ name: "x", imageName: "python:3.12", cpu: -1 }, 400, "cpu must not be less than 0"],
        [{ name: "x", imageName: "python:3.12", cpu: 9 }, 400, "CPU request 9 exceeds maximum allowed per sandbox (4)"],
        [{ name: "x", buildInfo: { dockerfileContent: "" } }, 400, "buildInfo.dockerfileContent should not be empty"]
      ]
      for (const [body, status, message] of cases) {
        const answer = yield* post(body)
        const error = asApiError(answer)
        assert.deepStrictEqual(
          [answer.status, error.statusCode, error.message, error.path],
          [status, status, message, "/api/snapshots"]
        )
      }
      yield* snapshots.create({ name: "dup", image: "python:3.12", wait: false })
      const dup = yield* post({ name: "dup", imageName: "python:3.12" })
      assert.deepStrictEqual(
        [dup.status, asApiError(dup).error, asApiError(dup).message],
        [409, "Conflict", 'Snapshot with name "dup" already exists for this organization']
      )
      const conflict = yield* failureOf(snapshots.create({ name: "dup", image: "python:3.12" }))
      assert.strictEqual(conflict._tag, "ConflictError")

      const unknown = yield* call(client, "GET", "/api/snapshots/nope")
      assert.deepStrictEqual(
        [unknown.status, asApiError(unknown).message],
        [404, "Snapshot with ID or name nope not found"]
      )
      const byName = yield* call(client, "DELETE", "/api/snapshots/dup")
      assert.deepStrictEqual([byName.status, asApiError(byName).message], [400, "Validation failed (uuid is expected)"])
      const pending = yield* call(client, "POST", `/api/snapshots/${(yield* snapshots.get("dup")).id}/activate`)
      assert.strictEqual(pending.status, 400)
      const page = yield* call(client, "GET", "/api/snapshots?page=0&limit=500&sort=size")
      assert.deepStrictEqual(
        [page.status, asApiError(page).message],
        [
          400,
          "page must not be less than 1, limit must not be greater than 200, sort must be one of the following values: name, state, lastUsedAt, createdAt"
        ]
      )
      const sandbox = yield* call(client, "POST", "/api/sandbox", { snapshot: "nope" })
      assert.deepStrictEqual(
        [sandbox.status, asApiError(sandbox).message],
        [400, "Snapshot nope not found. Did you add it through the Daytona Dashboard?"]
      )
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a restart keeps snapshots; a pull under way completes at its due time", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* Scope.make()
      const { snapshots } = yield* serveWithSdk(dir).pipe(Scope.extend(first))
      const pulling = yield* snapshots.create({ name: "kept", image: "node:20", wait: false })
      const small = yield* snapshots.get("daytona-small")
      yield* Scope.close(first, Exit.void)

      const { snapshots: again } = yield* serveWithSdk(dir)
      const back = yield* again.get("kept")
      assert.deepStrictEqual([back.id, back.state, back.imageName], [pulling.id, "pending", "node:20"])
      assert.strictEqual((yield* again.get("daytona-small")).id, small.id)
      assert.strictEqual((yield* again.listPage()).total, 4)
      yield* advance("2 seconds")
      assert.strictEqual((yield* again.get("kept")).state, "active")
    }).pipe(Effect.provide(clientLayer))
  )
})
