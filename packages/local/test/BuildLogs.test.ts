import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { serveWithSdk } from "./resourcesHarness.js"
import { advance, asSandbox, call, type Client, clientLayer, driveUntilDone, tempDir } from "./utils.js"

const dockerfile = "FROM python:3.12-slim\nRUN pip install requests\n# a comment\nWORKDIR /app\n"

/** A GET read as text to its end (a followed log ends when the build ends). */
const text = (client: Client, url: string) =>
  client.execute(HttpClientRequest.get(url)).pipe(
    Effect.flatMap((response) => Effect.map(response.text, (body) => ({ status: response.status, body }))),
    Effect.scoped,
    Effect.orDie
  )

describe("build logs followed live", () => {
  it.scoped("a snapshot's log follows the build to its end; without follow it is what is written so far", () =>
    Effect.gen(function* () {
      const { client, snapshots } = yield* serveWithSdk(yield* tempDir)
      const created = yield* call(client, "POST", "/api/snapshots", {
        name: "built",
        buildInfo: { dockerfileContent: dockerfile }
      })
      assert.strictEqual(created.status, 200, JSON.stringify(created.body))
      const id = (created.body as { readonly id: string }).id
      const followed = yield* Effect.fork(Stream.runCollect(snapshots.followBuildLogs("built")))
      const plain = yield* text(client, `/snapshots/${id}/build-logs`)
      assert.strictEqual(plain.body, "")
      const lines = Chunk.toReadonlyArray(yield* driveUntilDone(followed, "200 millis"))
      assert.deepStrictEqual(lines, [
        "Building snapshot built (" + lines[0]!.split("(")[1],
        "Step 1/3 : FROM python:3.12-slim",
        "Step 2/3 : RUN pip install requests",
        "Step 3/3 : WORKDIR /app",
        "Snapshot built is ready (the local server runs no Dockerfile)"
      ])
      const after = yield* text(client, `/snapshots/${id}/build-logs?follow=true`)
      assert.match(after.body, /is ready/)
      const missing = yield* text(client, "/snapshots/nope/build-logs?follow=true")
      assert.strictEqual(missing.status, 404)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a sandbox built from an image: its build-logs-url is followed until the build ends", () =>
    Effect.gen(function* () {
      const { client } = yield* serveWithSdk(yield* tempDir)
      const sandbox = asSandbox(
        yield* call(client, "POST", "/api/sandbox", { buildInfo: { dockerfileContent: dockerfile } })
      )
      const url = yield* call(client, "GET", `/api/sandbox/${sandbox.id}/build-logs-url`)
      assert.strictEqual(url.status, 200)
      const path = new URL((url.body as { readonly url: string }).url).pathname
      assert.strictEqual(path, `/sandboxes/${sandbox.id}/build-logs`)
      const followed = yield* Effect.fork(text(client, `${path}?follow=true`))
      const log = yield* driveUntilDone(followed, "200 millis")
      assert.strictEqual(log.status, 200)
      assert.match(log.body, /Step 3\/3 : WORKDIR \/app\n/)
      assert.match(log.body, /Build finished: the sandbox is started/)
      const plain = asSandbox(yield* call(client, "POST", "/api/sandbox", {}))
      const none = yield* call(client, "GET", `/api/sandbox/${plain.id}/build-logs-url`)
      assert.strictEqual(none.status, 404)
      yield* advance("1 second")
      const unknown = yield* text(client, "/sandboxes/nope/build-logs")
      assert.strictEqual(unknown.status, 404)
    }).pipe(Effect.provide(clientLayer))
  )
})
