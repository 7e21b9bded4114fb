import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Daytona from "../src/Daytona.js"
import * as Image from "../src/Image.js"
import {
  advance,
  apiUrl,
  assertRequest,
  createIdOf,
  daytonaOver,
  errorBody,
  fullSandboxDto,
  labelsFilter,
  makeFake,
  sandboxDto,
  sandboxListItem,
  settle,
  standardHeaders,
  toolboxProxyUrl
} from "./support/FakeHttp.js"

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe("Daytona.create", () => {
  it.effect("sends the default body (language label, create-id label, empty env) and returns a started sandbox", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      const sandbox = yield* daytona.create()
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      const createId = createIdOf(requests[0]!)
      assert.match(createId ?? "", uuidPattern)
      assertRequest(requests[0], {
        method: "POST",
        path: "/api/sandbox",
        body: {
          env: {},
          labels: { "code-toolbox-language": "python", "effect-daytona.create-id": createId }
        },
        headers: { ...standardHeaders, "content-type": "application/json" }
      })
      assert.strictEqual(sandbox.id, "sb-1")
      assert.strictEqual(sandbox.state, "started")
      assert.strictEqual(sandbox.toolboxProxyUrl, toolboxProxyUrl)
    })
  )

  it.effect(
    "maps every option into the body: language label, envVars → env, image → FROM line, resources, intervals, network",
    () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
        const daytona = yield* daytonaOver(fake.client, { target: "eu" })
        yield* daytona.create({
          name: "my-box",
          image: "python:3.12-slim",
          language: "typescript",
          user: "runner",
          envVars: { A: "1", B: "two" },
          labels: { team: "data" },
          public: true,
          resources: { cpu: 2, memory: 4, disk: 10, gpu: 1, gpuType: "H100" },
          autoStopInterval: 0,
          autoArchiveInterval: 60,
          autoDeleteInterval: -1,
          volumes: [{ volumeId: "vol-1", mountPath: "/data" }],
          networkBlockAll: false,
          networkAllowList: "10.0.0.0/8",
          domainAllowList: "*.example.com"
        })
        const [request] = yield* fake.requests
        assertRequest(request, {
          method: "POST",
          path: "/api/sandbox",
          body: {
            name: "my-box",
            user: "runner",
            env: { A: "1", B: "two" },
            labels: {
              team: "data",
              "code-toolbox-language": "typescript",
              "effect-daytona.create-id": createIdOf(request!)
            },
            public: true,
            target: "eu",
            cpu: 2,
            gpu: 1,
            gpuType: ["H100"],
            memory: 4,
            disk: 10,
            autoStopInterval: 0,
            autoArchiveInterval: 60,
            autoDeleteInterval: -1,
            volumes: [{ volumeId: "vol-1", mountPath: "/data" }],
            networkBlockAll: false,
            networkAllowList: "10.0.0.0/8",
            domainAllowList: "*.example.com",
            buildInfo: { dockerfileContent: "FROM python:3.12-slim\n" }
          }
        })
      })
  )

  it.effect("a Dockerfile image is sent as is, with its context hashes", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.create({ image: { dockerfile: "FROM node:20\nRUN echo hi\n", contextHashes: ["h1"] } })
      const [request] = yield* fake.requests
      assert.deepStrictEqual((request!.body as { buildInfo: unknown }).buildInfo, {
        dockerfileContent: "FROM node:20\nRUN echo hi\n",
        contextHashes: ["h1"]
      })
    })
  )

  it.effect("an Image is sent as buildInfo.dockerfileContent, without context hashes", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      const image = Image.debianSlim("3.12").pipe(
        Image.pipInstall(["pandas", "numpy"]),
        Image.env({ MODE: "batch run" }),
        Image.workdir("/home/daytona")
      )
      yield* daytona.create({ image, resources: { cpu: 2 } })
      const [request] = yield* fake.requests
      assertRequest(request, {
        method: "POST",
        path: "/api/sandbox",
        body: {
          env: {},
          labels: { "code-toolbox-language": "python", "effect-daytona.create-id": createIdOf(request!) },
          cpu: 2,
          buildInfo: {
            dockerfileContent:
              "FROM python:3.12.10-slim-bookworm\n" +
              "RUN apt-get update\n" +
              "RUN apt-get install -y gcc gfortran build-essential\n" +
              "RUN pip install --upgrade pip\n" +
              "RUN echo 'debconf debconf/frontend select Noninteractive' | debconf-set-selections\n" +
              "RUN python -m pip install numpy pandas\n" +
              "ENV MODE='batch run'\n" +
              "WORKDIR /home/daytona\n"
          }
        }
      })
    })
  )

  it.effect("an Image with a build context and no FileSystem fails with a BuildContextError, sending nothing", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      const image = Image.base("python:3.12").pipe(
        Image.addLocalFile("/work/app/main.py", "/app/"),
        Image.pipInstallFromRequirements("/work/app/requirements.txt")
      )
      // BuildContext.test.ts uploads a context; here there is no FileSystem to read it with.
      const error = yield* Effect.flip(daytona.create({ image }))
      assert.strictEqual(error._tag, "BuildContextError")
      if (error._tag === "BuildContextError") assert.strictEqual(error.reason, "MissingService")
      const scoped = yield* Effect.flip(Effect.scoped(daytona.createScoped({ image })))
      assert.strictEqual(scoped._tag, "BuildContextError")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("an Image with issues (an unsupported Python version) fails with a ValidationError, sending nothing", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      const image = Image.debianSlim("2.7" as Image.PythonVersion)
      const error = yield* Effect.flip(daytona.create({ image }))
      assert.strictEqual(error._tag, "ValidationError")
      assert.include(error.message, "unsupported Python version")
      assert.strictEqual(error._tag === "ValidationError" ? error.field : undefined, "image")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect(
    "snapshot, ephemeral and an explicit target: snapshot sent, autoDeleteInterval 0, options.target beats config",
    () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
        const daytona = yield* daytonaOver(fake.client, { target: "us" })
        yield* daytona.create({ snapshot: "daytona-small", ephemeral: true, target: "eu" })
        const [request] = yield* fake.requests
        assertRequest(request, {
          method: "POST",
          path: "/api/sandbox",
          body: {
            snapshot: "daytona-small",
            env: {},
            labels: { "code-toolbox-language": "python", "effect-daytona.create-id": createIdOf(request!) },
            target: "eu",
            autoDeleteInterval: 0
          }
        })
      })
  )

  it.effect("every create carries a new create-id", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.create()
      yield* daytona.create()
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 2)
      assert.notStrictEqual(createIdOf(requests[0]!), createIdOf(requests[1]!))
    })
  )

  const rejected: ReadonlyArray<readonly [string, Daytona.CreateOptions, string]> = [
    ["resources with a snapshot", { snapshot: "daytona-small", resources: { cpu: 2 } }, "resources"],
    ["resources without an image", { resources: { memory: 4 } }, "resources"],
    ["snapshot and image together", { snapshot: "s", image: "python:3.12" }, "image"],
    ["a negative autoStopInterval", { autoStopInterval: -1 }, "autoStopInterval"],
    ["a fractional autoStopInterval", { autoStopInterval: 1.5 }, "autoStopInterval"],
    ["a negative autoArchiveInterval", { autoArchiveInterval: -10 }, "autoArchiveInterval"],
    ["a fractional autoArchiveInterval", { autoArchiveInterval: 0.5 }, "autoArchiveInterval"],
    ["a fractional autoDeleteInterval", { autoDeleteInterval: 2.5 }, "autoDeleteInterval"],
    ["ephemeral with another autoDeleteInterval", { ephemeral: true, autoDeleteInterval: 10 }, "ephemeral"],
    ["an unknown language", { language: "cobol" as Daytona.CodeLanguage }, "language"],
    ["a fractional cpu", { image: "x", resources: { cpu: 1.5 } }, "cpu"],
    ["a negative timeout", { timeout: -1 }, "timeout"],
    ["a zero timeout", { timeout: 0 }, "timeout"],
    ["a negative timeout string", { timeout: "-5 seconds" }, "timeout"]
  ]
  for (const [title, options, field] of rejected) {
    it.effect(`rejects ${title} with a ValidationError and sends nothing`, () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
        const daytona = yield* daytonaOver(fake.client)
        const error = yield* Effect.flip(daytona.create(options))
        assert.strictEqual(error._tag, "ValidationError")
        assert.strictEqual(error._tag === "ValidationError" ? error.field : undefined, field)
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  }

  it.effect("a negative autoDeleteInterval is allowed (it disables auto-delete)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.create({ autoDeleteInterval: -1 })
      const [request] = yield* fake.requests
      assert.strictEqual((request!.body as { autoDeleteInterval: number }).autoDeleteInterval, -1)
    })
  )

  it.effect("polls GET /sandbox/{id} until started under the TestClock", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "pending_build" }) }
          : { status: 200, body: sandboxDto({ state: index < 4 ? "building_snapshot" : "started" }) }
      )
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(daytona.create({ image: "python:3.12" }))
      yield* settle(fiber)
      const sandbox = yield* Fiber.join(fiber)
      assert.strictEqual(sandbox.state, "started")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 5)
      for (const request of requests.slice(1)) assertRequest(request, { method: "GET", path: "/api/sandbox/sb-1" })
    })
  )

  it.effect("times out at its deadline with a WaitTimeoutError carrying the last state and the sandbox id", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ id: "sb-slow", state: "creating" }) }
          : { status: 200, body: sandboxDto({ id: "sb-slow", state: "pulling_snapshot" }) }
      )
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(
        daytona.create({ timeout: "5 seconds" }).pipe(Effect.flip, Effect.zip(Clock.currentTimeMillis))
      )
      yield* advance("4900 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting before the deadline")
      yield* settle(fiber)
      const [error, failedAt] = yield* Fiber.join(fiber)
      assert.strictEqual(failedAt, 5000, "fails exactly at the deadline")
      assert.strictEqual(error._tag, "WaitTimeoutError")
      if (error._tag !== "WaitTimeoutError") return
      assert.strictEqual(error.operation, "create")
      assert.strictEqual(error.awaited, "started")
      assert.strictEqual(error.resourceId, "sb-slow")
      assert.strictEqual(error.lastState, "pulling_snapshot")
      assert.isTrue(Duration.equals(error.timeout, Duration.seconds(5)))
    })
  )

  it.effect("build_failed during the wait fails with SandboxFailedError carrying errorReason", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request, index) =>
        request.method === "POST"
          ? { status: 200, body: sandboxDto({ state: "pending_build" }) }
          : index < 2
            ? { status: 200, body: sandboxDto({ state: "building_snapshot" }) }
            : { status: 200, body: sandboxDto({ state: "build_failed", errorReason: "RUN step exited with 1" }) }
      )
      const daytona = yield* daytonaOver(fake.client)
      const fiber = yield* Effect.fork(daytona.create({ image: "python:3.12" }))
      yield* settle(fiber)
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "SandboxFailedError")
      if (error._tag !== "SandboxFailedError") return
      assert.strictEqual(error.sandboxId, "sb-1")
      assert.strictEqual(error.state, "build_failed")
      assert.strictEqual(error.errorReason, "RUN step exited with 1")
      assert.strictEqual((yield* fake.requests).length, 3)
    })
  )

  it.effect("an error state in the POST answer fails at once with SandboxFailedError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: sandboxDto({ state: "error", errorReason: "no capacity", recoverable: true })
      }))
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create())
      assert.strictEqual(error._tag, "SandboxFailedError")
      if (error._tag !== "SandboxFailedError") return
      assert.strictEqual(error.errorReason, "no capacity")
      assert.strictEqual(error.recoverable, true)
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )

  it.effect("a held create answered 400 'Sandbox failed to start' is the SandboxFailedError of the sandbox", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => {
        if (request.method === "POST") {
          return { status: 400, body: errorBody(400, "Bad Request", "Sandbox failed to start: image not found") }
        }
        if (request.path === "/api/sandbox") {
          const labels = labelsFilter(request) ?? {}
          return {
            status: 200,
            body: { items: [sandboxListItem({ id: "sb-failed", labels, state: "error" })], nextCursor: null }
          }
        }
        return {
          status: 200,
          body: sandboxDto({ id: "sb-failed", state: "error", errorReason: "image not found", recoverable: false })
        }
      })
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create())
      assert.strictEqual(error._tag, "SandboxFailedError")
      if (error._tag !== "SandboxFailedError") return
      assert.strictEqual(error.sandboxId, "sb-failed")
      assert.strictEqual(error.state, "error")
      assert.strictEqual(error.errorReason, "image not found")
      assert.strictEqual(error.recoverable, false)
    })
  )

  it.effect("'Sandbox failed to start' stays a ValidationError when no sandbox of this create can be found", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST"
          ? { status: 400, body: errorBody(400, "Bad Request", "Sandbox failed to start: image not found") }
          : { status: 200, body: { items: [], nextCursor: null } }
      )
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create())
      assert.strictEqual(error._tag, "ValidationError")
      assert.include(error.message, "Sandbox failed to start: image not found")
    })
  )

  it.effect("other 400s of create are not taken for a failed start", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 400,
        body: errorBody(400, "Bad Request", "Cannot specify Sandbox resources when using a snapshot")
      }))
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create())
      assert.strictEqual(error._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 1, "no search for a sandbox")
    })
  )

  it.effect("a connection reset after the POST was sent adopts the sandbox found by its create-id label", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => {
        if (request.method === "POST") return { transportError: "reset" }
        if (request.path === "/api/sandbox") {
          const labels = labelsFilter(request) ?? {}
          return {
            status: 200,
            body: { items: [sandboxListItem({ id: "sb-adopted", labels, state: "started" })], nextCursor: null }
          }
        }
        return { status: 200, body: sandboxDto({ id: "sb-adopted", state: "started" }) }
      })
      const daytona = yield* daytonaOver(fake.client)
      const sandbox = yield* daytona.create()
      assert.strictEqual(sandbox.id, "sb-adopted")
      assert.strictEqual(sandbox.state, "started")
      const requests = yield* fake.requests
      assert.deepStrictEqual(
        requests.map((request) => `${request.method} ${request.path}`),
        ["POST /api/sandbox", "GET /api/sandbox", "GET /api/sandbox/sb-adopted"]
      )
      const createId = createIdOf(requests[0]!)
      assert.match(createId ?? "", uuidPattern)
      assertRequest(requests[1], {
        method: "GET",
        path: "/api/sandbox",
        query: [["labels", JSON.stringify({ "effect-daytona.create-id": createId })]]
      })
    })
  )

  it.effect("a connection reset with no sandbox found by label fails with the TransportError (no second POST)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) =>
        request.method === "POST" ? { transportError: "reset" } : { status: 200, body: { items: [], nextCursor: null } }
      )
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create())
      assert.strictEqual(error._tag, "TransportError")
      const requests = yield* fake.requests
      assert.deepStrictEqual(
        requests.map((request) => request.method),
        ["POST", "GET"]
      )
    })
  )
})

describe("Daytona.get", () => {
  it.effect("GET /api/sandbox/{idOrName} decodes every attribute of the DTO", () =>
    Effect.gen(function* () {
      const dto = fullSandboxDto()
      const fake = yield* makeFake(() => ({ status: 200, body: dto }))
      const daytona = yield* daytonaOver(fake.client)
      const sandbox = yield* daytona.get("analysis-box")
      const [request] = yield* fake.requests
      assertRequest(request, { method: "GET", path: "/api/sandbox/analysis-box", headers: standardHeaders })
      assert.strictEqual(sandbox.id, "7c1e4a52-0d6f-4a8e-9a57-3b1f2f0c9d11")
      assert.strictEqual(sandbox.name, "analysis-box")
      assert.strictEqual(sandbox.organizationId, "org-42")
      assert.strictEqual(sandbox.snapshot, "daytonaio/sandbox:0.5.0")
      assert.strictEqual(sandbox.user, "runner")
      assert.deepStrictEqual(sandbox.env, { PYTHONUNBUFFERED: "1", MODE: "test" })
      assert.deepStrictEqual(sandbox.labels, { "code-toolbox-language": "typescript", team: "data" })
      assert.strictEqual(sandbox.public, true)
      assert.strictEqual(sandbox.target, "eu")
      assert.strictEqual(sandbox.cpu, 4)
      assert.strictEqual(sandbox.gpu, 1)
      assert.strictEqual(sandbox.gpuType, "H100")
      assert.strictEqual(sandbox.memory, 8)
      assert.strictEqual(sandbox.disk, 20)
      assert.strictEqual(sandbox.state, "stopped")
      assert.strictEqual(sandbox.desiredState, "stopped")
      assert.strictEqual(sandbox.errorReason, "previous start failed")
      assert.strictEqual(sandbox.recoverable, true)
      assert.strictEqual(sandbox.backupState, "Completed")
      assert.strictEqual(sandbox.backupCreatedAt, "2026-11-28T08:30:00.000Z")
      assert.strictEqual(sandbox.autoStopInterval, 30)
      assert.strictEqual(sandbox.autoArchiveInterval, 1440)
      assert.strictEqual(sandbox.autoDeleteInterval, 120)
      assert.deepStrictEqual(sandbox.volumes, [{ volumeId: "vol-1", mountPath: "/data", subpath: "team/data" }])
      assert.deepStrictEqual(sandbox.buildInfo, {
        dockerfileContent: "FROM python:3.12-slim\n",
        contextHashes: ["hash-a", "hash-b"],
        createdAt: "2026-11-27T10:00:00.000Z",
        updatedAt: "2026-11-27T10:05:00.000Z",
        snapshotRef: "registry.test/snap@sha256:abc"
      })
      assert.strictEqual(sandbox.createdAt, "2026-11-27T09:00:00.000Z")
      assert.strictEqual(sandbox.updatedAt, "2026-11-29T13:00:00.000Z")
      assert.strictEqual(sandbox.lastActivityAt, "2026-11-29T12:59:00.000Z")
      assert.strictEqual(sandbox.networkBlockAll, true)
      assert.strictEqual(sandbox.networkAllowList, "10.0.0.0/8,192.168.1.0/24")
      assert.strictEqual(sandbox.domainAllowList, "*.example.com")
      assert.strictEqual(sandbox.sandboxClass, "container")
      assert.strictEqual(sandbox.daemonVersion, "0.190.0")
      assert.strictEqual(sandbox.runnerId, "runner-7")
      assert.strictEqual(sandbox.linkedSandboxId, "sb-parent")
      assert.strictEqual(sandbox.toolboxProxyUrl, toolboxProxyUrl)
    })
  )

  it.effect("encodes the id or name into the path", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.get("my box/1")
      const [request] = yield* fake.requests
      assert.strictEqual(request!.url.href, `${apiUrl}/sandbox/my%20box%2F1`)
    })
  )

  it.effect("an unknown SandboxState is kept as data", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: sandboxDto({ state: "hibernating", desiredState: "frozen", backupState: "Archived", sandboxClass: "tpu" })
      }))
      const daytona = yield* daytonaOver(fake.client)
      const sandbox = yield* daytona.get("sb-1")
      assert.strictEqual(sandbox.state, "hibernating")
      assert.strictEqual(sandbox.desiredState, "frozen")
      assert.strictEqual(sandbox.backupState, "Archived")
      assert.strictEqual(sandbox.sandboxClass, "tpu")
    })
  )

  it.effect("tolerates null in optional fields", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: sandboxDto({
          snapshot: null,
          errorReason: null,
          recoverable: null,
          backupState: null,
          backupCreatedAt: null,
          autoDeleteInterval: null,
          volumes: null,
          buildInfo: null,
          networkAllowList: null,
          domainAllowList: null,
          lastActivityAt: null,
          gpuType: null,
          runnerId: null,
          daemonVersion: null,
          linkedSandboxId: null
        })
      }))
      const daytona = yield* daytonaOver(fake.client)
      const sandbox = yield* daytona.get("sb-1")
      assert.strictEqual(sandbox.id, "sb-1")
      assert.isUndefined(sandbox.snapshot)
      assert.isUndefined(sandbox.errorReason)
      assert.isUndefined(sandbox.backupCreatedAt)
      assert.isUndefined(sandbox.autoDeleteInterval)
      assert.isUndefined(sandbox.volumes)
      assert.isUndefined(sandbox.buildInfo)
      assert.isUndefined(sandbox.networkAllowList)
    })
  )

  it.effect("an empty id or name is a ValidationError and sends nothing", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      for (const id of ["", "   "]) {
        const error = yield* Effect.flip(daytona.get(id))
        assert.strictEqual(error._tag, "ValidationError")
      }
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )

  it.effect("404 is a NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 404,
        body: errorBody(404, "Not Found", "Sandbox with ID or name ghost not found", "/api/sandbox/ghost")
      }))
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.get("ghost"))
      assert.strictEqual(error._tag, "NotFoundError")
    })
  )
})

describe("Daytona.list / listPage / listPaginated", () => {
  it.effect("list streams every item, following nextCursor until it is null", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((request) => {
        const cursor = request.url.searchParams.get("cursor")
        return cursor === null
          ? {
              status: 200,
              body: { items: [sandboxListItem({ id: "a" }), sandboxListItem({ id: "b" })], nextCursor: "c2" }
            }
          : cursor === "c2"
            ? { status: 200, body: { items: [sandboxListItem({ id: "c" })], nextCursor: "c3" } }
            : { status: 200, body: { items: [sandboxListItem({ id: "d" })], nextCursor: null } }
      })
      const daytona = yield* daytonaOver(fake.client)
      const items = yield* Stream.runCollect(daytona.list({ limit: 2 }))
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(items).map((item) => item.id),
        ["a", "b", "c", "d"]
      )
      const requests = yield* fake.requests
      assertRequest(requests[0], { method: "GET", path: "/api/sandbox", query: [["limit", "2"]] })
      assertRequest(requests[1], {
        method: "GET",
        path: "/api/sandbox",
        query: [
          ["cursor", "c2"],
          ["limit", "2"]
        ]
      })
      assertRequest(requests[2], {
        method: "GET",
        path: "/api/sandbox",
        query: [
          ["cursor", "c3"],
          ["limit", "2"]
        ]
      })
      assert.strictEqual(requests.length, 3)
    })
  )

  it.effect("list fetches pages lazily: taking 2 items reads one page", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: { items: [sandboxListItem({ id: "a" }), sandboxListItem({ id: "b" })], nextCursor: "next" }
      }))
      const daytona = yield* daytonaOver(fake.client)
      const items = yield* Stream.runCollect(Stream.take(daytona.list(), 2))
      assert.strictEqual(Chunk.size(items), 2)
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )

  it.effect("an empty nextCursor ends the list", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { items: [sandboxListItem()], nextCursor: "" } }))
      const daytona = yield* daytonaOver(fake.client)
      const page = yield* daytona.listPage()
      assert.strictEqual(page.nextCursor, null)
      const items = yield* Stream.runCollect(daytona.list())
      assert.strictEqual(Chunk.size(items), 1)
      assert.strictEqual((yield* fake.requests).length, 2)
    })
  )

  it.effect("listPage encodes the query: labels as JSON, arrays as repeated keys, Dates as ISO strings", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { items: [], nextCursor: null } }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.listPage({
        cursor: "abc",
        limit: 50,
        name: "web",
        labels: { team: "data", env: "prod" },
        states: ["started", "stopped"],
        snapshots: ["s1", "s2"],
        regionIds: ["us", "eu"],
        sandboxClasses: ["container"],
        includeErroredDeleted: true,
        minCpu: 2,
        maxMemoryGiB: 16,
        isPublic: false,
        createdAtAfter: new Date("2026-01-02T03:04:05.000Z"),
        lastEventBefore: new Date("2026-06-01T00:00:00.000Z"),
        sort: "createdAt",
        order: "asc"
      })
      const [request] = yield* fake.requests
      assertRequest(request, {
        method: "GET",
        path: "/api/sandbox",
        query: [
          ["cursor", "abc"],
          ["limit", "50"],
          ["name", "web"],
          ["labels", '{"team":"data","env":"prod"}'],
          ["includeErroredDeleted", "true"],
          ["states", "started"],
          ["states", "stopped"],
          ["snapshots", "s1"],
          ["snapshots", "s2"],
          ["regionIds", "us"],
          ["regionIds", "eu"],
          ["sandboxClasses", "container"],
          ["minCpu", "2"],
          ["maxMemoryGiB", "16"],
          ["isPublic", "false"],
          ["createdAtAfter", "2026-01-02T03:04:05.000Z"],
          ["lastEventBefore", "2026-06-01T00:00:00.000Z"],
          ["sort", "createdAt"],
          ["order", "asc"]
        ]
      })
    })
  )

  it.effect("listPage decodes list items (no env) into handles, including null optional fields", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: {
          items: [sandboxListItem({ id: "x", state: "archived", errorReason: null, snapshot: null })],
          nextCursor: "n1"
        }
      }))
      const daytona = yield* daytonaOver(fake.client)
      const page = yield* daytona.listPage()
      assert.strictEqual(page.nextCursor, "n1")
      assert.strictEqual(page.items.length, 1)
      const item = page.items[0]!
      assert.strictEqual(item.id, "x")
      assert.strictEqual(item.state, "archived")
      assert.isUndefined(item.errorReason)
      assert.isFalse("env" in item)
      assert.isTrue(Effect.isEffect(item.refreshData))
    })
  )

  const badQueries: ReadonlyArray<readonly [string, Daytona.ListQuery, string]> = [
    ["limit 0", { limit: 0 }, "limit"],
    ["limit 201", { limit: 201 }, "limit"],
    ["a fractional limit", { limit: 10.5 }, "limit"],
    ["states with destroyed", { states: ["started", "destroyed"] }, "states.1"],
    ["minCpu 0", { minCpu: 0 }, "minCpu"]
  ]
  for (const [title, query, field] of badQueries) {
    it.effect(`listPage and list reject ${title} before any request`, () =>
      Effect.gen(function* () {
        const fake = yield* makeFake(() => ({ status: 200, body: { items: [], nextCursor: null } }))
        const daytona = yield* daytonaOver(fake.client)
        const error = yield* Effect.flip(daytona.listPage(query))
        assert.strictEqual(error._tag, "ValidationError")
        assert.strictEqual(error._tag === "ValidationError" ? error.field : undefined, field)
        const streamError = yield* Effect.flip(Stream.runCollect(daytona.list(query)))
        assert.strictEqual(streamError._tag, "ValidationError")
        assert.strictEqual((yield* fake.requests).length, 0)
      })
    )
  }

  it.effect("limits 1 and 200 are accepted", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { items: [], nextCursor: null } }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.listPage({ limit: 1 })
      yield* daytona.listPage({ limit: 200 })
      assert.deepStrictEqual(
        (yield* fake.requests).map((request) => request.url.search),
        ["?limit=1", "?limit=200"]
      )
    })
  )

  it.effect("listPaginated calls GET /api/sandbox/paginated and decodes full sandboxes", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({
        status: 200,
        body: { items: [fullSandboxDto()], total: 11, page: 2, totalPages: 6 }
      }))
      const daytona = yield* daytonaOver(fake.client)
      const page = yield* daytona.listPaginated({ page: 2, limit: 2, regions: ["us", "eu"], labels: { a: "b" } })
      const [request] = yield* fake.requests
      assertRequest(request, {
        method: "GET",
        path: "/api/sandbox/paginated",
        query: [
          ["page", "2"],
          ["limit", "2"],
          ["labels", '{"a":"b"}'],
          ["regions", "us"],
          ["regions", "eu"]
        ]
      })
      assert.strictEqual(page.total, 11)
      assert.strictEqual(page.page, 2)
      assert.strictEqual(page.totalPages, 6)
      assert.deepStrictEqual(page.items[0]!.env, { PYTHONUNBUFFERED: "1", MODE: "test" })
      assert.strictEqual(page.items[0]!.networkBlockAll, true)
    })
  )

  it.effect("listPaginated rejects page 0 before any request", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { items: [], total: 0, page: 1, totalPages: 0 } }))
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.listPaginated({ page: 0 }))
      assert.strictEqual(error._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )
})

describe("Daytona.delete", () => {
  it.effect("DELETE /api/sandbox/{idOrName}, without waiting", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto({ state: "destroying" }) }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.delete("sb-1")
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assertRequest(requests[0], {
        method: "DELETE",
        path: "/api/sandbox/sb-1",
        body: undefined,
        headers: standardHeaders
      })
    })
  )

  it.effect("409 (state change in progress) is a ConflictError; 404 a NotFoundError", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake((_, index) =>
        index === 0
          ? { status: 409, body: errorBody(409, "Conflict", "Sandbox state change in progress") }
          : { status: 404, body: errorBody(404, "Not Found", "Sandbox with ID or name sb-1 not found") }
      )
      const daytona = yield* daytonaOver(fake.client)
      assert.strictEqual((yield* Effect.flip(daytona.delete("sb-1")))._tag, "ConflictError")
      assert.strictEqual((yield* Effect.flip(daytona.delete("sb-1")))._tag, "NotFoundError")
    })
  )

  it.effect("an empty id is a ValidationError and sends nothing", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: sandboxDto() }))
      const daytona = yield* daytonaOver(fake.client)
      assert.strictEqual((yield* Effect.flip(daytona.delete("")))._tag, "ValidationError")
      assert.strictEqual((yield* fake.requests).length, 0)
    })
  )
})
