import { NodeFileSystem } from "@effect/platform-node"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as BuildContext from "../src/BuildContext.js"
import * as Image from "../src/Image.js"
import * as Snapshots from "../src/Snapshots.js"
import { daytonaOver, layerWith, sandboxDto, snapshotDto } from "./support/FakeHttp.js"
import { concatChunks } from "./support/FakeToolbox.js"
import { verify } from "./support/S3Verifier.js"

const access = {
  accessKey: "AKIDBUILD",
  secret: "build-secret/key",
  sessionToken: "session-token-123",
  storageUrl: "http://storage.test:9000/s3/",
  organizationId: "org-1",
  region: "us-east-1",
  bucket: "daytona-builds"
}

interface Seen {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  /** The bytes of the body as the client streamed them, when it had one. */
  readonly body: Uint8Array | undefined
}

interface Reply {
  readonly status: number
  readonly body?: string | undefined
  readonly contentType?: string | undefined
}

/** An `HttpClient` that reads every request's body to its end, as a socket would, and answers with `handler`. */
const makeClient = (handler: (request: Seen, all: ReadonlyArray<Seen>) => Reply) => {
  const seen: Array<Seen> = []
  const client = HttpClient.make((request, url) =>
    Effect.gen(function* () {
      const body =
        request.body._tag === "Stream"
          ? concatChunks(Chunk.toReadonlyArray(yield* Stream.runCollect(request.body.stream)))
          : request.body._tag === "Uint8Array"
            ? request.body.body
            : undefined
      const entry: Seen = { method: request.method, url, headers: request.headers, body }
      seen.push(entry)
      const reply = handler(entry, seen)
      return HttpClientResponse.fromWeb(
        request,
        new Response(reply.body ?? null, {
          status: reply.status,
          headers: { "content-type": reply.contentType ?? "application/xml" }
        })
      )
    }).pipe(Effect.mapError((cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause })))
  )
  return { client, seen }
}

const json = (value: unknown): Reply => ({ status: 200, body: JSON.stringify(value), contentType: "application/json" })
const emptyListing = `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>`
const listingWith = (key: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><KeyCount>1</KeyCount><Contents><Key>${key}</Key></Contents></ListBucketResult>`

/** Control plane and storage: push access, an empty bucket (unless `stored`), puts accepted, sandboxes started. */
const standard =
  (options: { readonly stored?: boolean; readonly put?: (request: Seen, index: number) => Reply } = {}) =>
  (request: Seen, all: ReadonlyArray<Seen>): Reply => {
    if (request.url.pathname === "/api/object-storage/push-access") return json(access)
    if (request.url.host === "storage.test:9000" && request.method === "GET") {
      const prefix = request.url.searchParams.get("prefix") ?? ""
      return { status: 200, body: options.stored === true ? listingWith(`${prefix}context.tar`) : emptyListing }
    }
    if (request.method === "PUT") {
      const index = all.filter((seen) => seen.method === "PUT").length - 1
      return options.put?.(request, index) ?? { status: 200 }
    }
    if (request.url.pathname === "/api/sandbox" && request.method === "POST") return json(sandboxDto())
    if (request.url.pathname === "/api/snapshots" && request.method === "POST") {
      return json(snapshotDto({ name: "ctx-box" }))
    }
    return { status: 404, body: "{}", contentType: "application/json" }
  }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => NodeFs.mkdtempSync(NodePath.join(NodeFs.realpathSync("/tmp"), "build-context-"))),
  (dir) => Effect.sync(() => NodeFs.rmSync(dir, { recursive: true, force: true }))
)

/** A project on disk and an image that copies from it: a directory and a requirements file. */
const project = Effect.gen(function* () {
  const root = yield* tempDir
  NodeFs.mkdirSync(NodePath.join(root, "app/pkg"), { recursive: true })
  NodeFs.writeFileSync(NodePath.join(root, "app/main.py"), "print('hi')\n")
  NodeFs.writeFileSync(NodePath.join(root, "app/pkg/util.py"), "X = 1\n".repeat(300))
  NodeFs.writeFileSync(NodePath.join(root, "requirements.txt"), "numpy\n")
  const app = NodePath.join(root, "app")
  const requirements = NodePath.join(root, "requirements.txt")
  const image = Image.debianSlim("3.12").pipe(
    Image.pipInstallFromRequirements(requirements),
    Image.addLocalDir(app, "/home/daytona/app")
  )
  const hashes = yield* Effect.forEach(image.context, BuildContext.hash)
  return { root, app, requirements, image, hashes }
})

const storageRequests = (seen: ReadonlyArray<Seen>) =>
  seen.filter((request) => request.url.host === "storage.test:9000")

const signedHeaders = "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
const authorizationShape = new RegExp(
  `^AWS4-HMAC-SHA256 Credential=AKIDBUILD/\\d{8}/us-east-1/s3/aws4_request, SignedHeaders=${signedHeaders}, Signature=[0-9a-f]{64}$`
)

describe("BuildContext through Daytona.create", () => {
  it.scoped("pushes access, lists, puts each archive, then creates with the context's hashes", () =>
    Effect.gen(function* () {
      const { app, requirements, image, hashes } = yield* project
      const fake = makeClient(standard())
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.create({ image })
      const [pushAccess, list1, put1, list2, put2, create, ...rest] = fake.seen
      assert.strictEqual(rest.length, 0)
      assert.strictEqual(
        `${pushAccess!.method} ${pushAccess!.url.href}`,
        "GET https://daytona.test/api/object-storage/push-access"
      )
      assert.match(pushAccess!.headers.authorization ?? "", /^Bearer /)
      for (const [list, put, hash] of [
        [list1!, put1!, hashes[0]!],
        [list2!, put2!, hashes[1]!]
      ] as const) {
        assert.strictEqual(list.method, "GET")
        assert.strictEqual(`${list.url.origin}${list.url.pathname}`, "http://storage.test:9000/s3/daytona-builds")
        assert.deepStrictEqual(
          [...list.url.searchParams.entries()],
          [
            ["list-type", "2"],
            ["prefix", `org-1/${hash}/`],
            ["max-keys", "1"]
          ]
        )
        assert.strictEqual(
          list.headers["x-amz-content-sha256"],
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        assert.strictEqual(put.method, "PUT")
        assert.strictEqual(put.url.href, `http://storage.test:9000/s3/daytona-builds/org-1/${hash}/context.tar`)
        assert.strictEqual(put.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD")
        assert.strictEqual(put.headers["content-type"], "application/x-tar")
        assert.strictEqual(put.headers["content-length"], String(put.body!.length))
        for (const request of [list, put]) {
          assert.match(request.headers.authorization ?? "", authorizationShape)
          assert.strictEqual(request.headers["x-amz-security-token"], access.sessionToken)
          assert.match(request.headers["x-amz-date"] ?? "", /^\d{8}T\d{6}Z$/)
          assert.isTrue(
            verify(request.method, request.url, { ...request.headers, host: request.url.host }, access.secret),
            `${request.method} ${request.url.href}: signature`
          )
        }
      }
      assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(create!.body)).buildInfo, {
        dockerfileContent: image.dockerfile,
        contextHashes: hashes
      })
      // The archives hold what the Dockerfile copies, at its archive paths.
      const out = yield* tempDir
      NodeFs.writeFileSync(NodePath.join(out, "app.tar"), put2!.body!)
      execFileSync("tar", ["-xf", NodePath.join(out, "app.tar"), "-C", out])
      assert.strictEqual(
        NodeFs.readFileSync(NodePath.join(out, app.slice(1), "pkg/util.py"), "utf8"),
        "X = 1\n".repeat(300)
      )
      const listing = execFileSync("tar", ["-tf", "-"], { input: put1!.body!, encoding: "utf8" })
      assert.strictEqual(listing, `${requirements.slice(1)}\n`)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("an archive already in storage is not put again", () =>
    Effect.gen(function* () {
      const { image, hashes } = yield* project
      const fake = makeClient(standard({ stored: true }))
      const daytona = yield* daytonaOver(fake.client)
      yield* daytona.create({ image })
      assert.deepStrictEqual(
        fake.seen.map((request) => request.method),
        ["GET", "GET", "GET", "POST"]
      )
      const create = fake.seen[3]!
      assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(create.body)).buildInfo.contextHashes, hashes)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("S3's 403 becomes an ObjectStorageError with its Code and Message, and nothing is created", () =>
    Effect.gen(function* () {
      const { image, hashes } = yield* project
      const fake = makeClient(
        standard({
          put: () => ({
            status: 403,
            body:
              `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>` +
              `<Message>Access Denied &amp; more</Message><Key>k</Key><RequestId>R-1</RequestId></Error>`
          })
        })
      )
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create({ image }))
      assert.strictEqual(error._tag, "ObjectStorageError")
      if (error._tag !== "ObjectStorageError") return
      assert.strictEqual(error.status, 403)
      assert.strictEqual(error.method, "PUT")
      assert.strictEqual(error.bucket, "daytona-builds")
      assert.strictEqual(error.key, `org-1/${hashes[0]}/context.tar`)
      assert.strictEqual(error.errorCode, "AccessDenied")
      assert.strictEqual(error.errorMessage, "Access Denied & more")
      assert.strictEqual(error.requestId, "R-1")
      assert.include(error.message, "403 AccessDenied: Access Denied & more")
      assert.notInclude(error.message, access.secret)
      assert.strictEqual(fake.seen.filter((request) => request.method === "POST").length, 0)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("a 503 is replayed by the retry policy, streaming the archive again", () =>
    Effect.gen(function* () {
      const { image } = yield* project
      const fake = makeClient(
        standard({
          put: (_, index) =>
            index === 0 ? { status: 503, body: "<Error><Code>SlowDown</Code></Error>" } : { status: 200 }
        })
      )
      const daytona = yield* daytonaOver(fake.client, { retryPolicy: Schedule.recurs(2) })
      yield* daytona.create({ image })
      const puts = fake.seen.filter((request) => request.method === "PUT")
      assert.strictEqual(puts.length, 3)
      assert.deepStrictEqual(puts[0]!.body, puts[1]!.body)
      assert.strictEqual(puts[0]!.headers["content-length"], String(puts[1]!.body!.length))
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("a missing local path fails with a ValidationError naming it, before any request", () =>
    Effect.gen(function* () {
      const { root } = yield* project
      const missing = NodePath.join(root, "missing.txt")
      const image = Image.base("python:3.12").pipe(Image.addLocalFile(missing, "/app/"))
      const fake = makeClient(standard())
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create({ image }))
      assert.strictEqual(error._tag, "ValidationError")
      assert.include(error.message, missing)
      assert.strictEqual(fake.seen.length, 0)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.effect("without a FileSystem, an image with a context fails with BuildContextError, before any request", () =>
    Effect.gen(function* () {
      const image = Image.base("python:3.12").pipe(Image.addLocalFile("./main.py", "/app/"))
      const fake = makeClient(standard())
      const daytona = yield* daytonaOver(fake.client)
      const error = yield* Effect.flip(daytona.create({ image }))
      assert.strictEqual(error._tag, "BuildContextError")
      if (error._tag !== "BuildContextError") return
      assert.strictEqual(error.reason, "MissingService")
      assert.include(error.message, "provide a FileSystem layer, e.g. NodeFileSystem.layer")
      assert.strictEqual(fake.seen.length, 0)
    })
  )
})

describe("BuildContext through Snapshots.create and on its own", () => {
  it.scoped("Snapshots.create uploads the context and sends its hashes", () =>
    Effect.gen(function* () {
      const { image, hashes } = yield* project
      const fake = makeClient(standard())
      const snapshots = yield* Effect.provide(Snapshots.Snapshots, layerWith(fake.client))
      yield* snapshots.create({ name: "ctx-box", image })
      const create = fake.seen.at(-1)!
      assert.strictEqual(`${create.method} ${create.url.pathname}`, "POST /api/snapshots")
      assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(create.body)).buildInfo, {
        dockerfileContent: image.dockerfile,
        contextHashes: hashes
      })
      assert.strictEqual(storageRequests(fake.seen).length, 4)
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )

  it.scoped("BuildContext.upload and buildInfo answer the hashes, uploading each archive once", () =>
    Effect.gen(function* () {
      const { image, hashes, app } = yield* project
      const fake = makeClient(standard())
      const services = Layer.merge(layerWith(fake.client), Layer.succeed(HttpClient.HttpClient, fake.client))
      const twice = [...image.context, { sourcePath: app, archivePath: app }]
      const uploaded = yield* BuildContext.upload(twice).pipe(Effect.provide(services))
      assert.deepStrictEqual(uploaded, [...hashes, hashes[1]!])
      assert.strictEqual(fake.seen.filter((request) => request.method === "PUT").length, 2)
      const info = yield* BuildContext.buildInfo(image).pipe(Effect.provide(services))
      assert.deepStrictEqual(info, { dockerfileContent: image.dockerfile, contextHashes: hashes })
    }).pipe(Effect.provide(NodeFileSystem.layer))
  )
})
