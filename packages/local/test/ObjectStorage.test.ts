import { Daytona, Image } from "@daytona/sdk"
import { assert, describe, it } from "@effect/vitest"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as SdkDaytona from "@effect-daytona/sdk/Daytona"
import * as SdkImage from "@effect-daytona/sdk/Image"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as NodeChildProcess from "node:child_process"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs/promises"
import * as NodeHttp from "node:http"
import * as NodePath from "node:path"
import * as NodeZlib from "node:zlib"
import * as ObjectStore from "../src/internal/objectStore.js"
import * as S3Signature from "../src/internal/s3Signature.js"
import type { JsonTable } from "../src/internal/store.js"
import * as TarListing from "../src/internal/tarListing.js"
import { fastServer } from "./sdkHarness.js"
import { type Access, errorCode, sign, type S3Request } from "./s3Signer.js"
import { advance, call, clientLayer, serve, tempDir } from "./utils.js"

/** An S3 answer: status and body text. */
interface S3Answer {
  readonly status: number
  readonly text: string
  readonly headers: Headers
}

const send = (access: Access, request: S3Request, change: (init: RequestInit) => RequestInit = (init) => init) =>
  Effect.promise(async (): Promise<S3Answer> => {
    const { url, init } = sign(access, request)
    const response = await fetch(url, change(init))
    return { status: response.status, text: await response.text(), headers: response.headers }
  })

/** Sends a signed request through `node:http`, writing `write` bytes of the body and then what `finish` does. */
const sendRaw = (
  access: Access,
  request: S3Request,
  headers: Record<string, string>,
  write: Uint8Array,
  finish: "end" | "destroy"
) =>
  Effect.promise(
    () =>
      new Promise<S3Answer | "reset">((resolve) => {
        const { url, init } = sign(access, request)
        // Not `request(url)`: a URL object would resolve `..` segments before they are sent.
        const origin = new URL(url).origin
        const outgoing = NodeHttp.request({
          host: new URL(url).hostname,
          port: new URL(url).port,
          path: url.slice(origin.length),
          method: request.method,
          headers: { ...(init.headers as Record<string, string>), ...headers }
        })
        outgoing.on("error", () => resolve("reset"))
        outgoing.on("response", (response) => {
          const chunks: Array<Buffer> = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
              headers: new Headers()
            })
          )
          response.on("error", () => resolve("reset"))
        })
        outgoing.write(write)
        if (finish === "end") outgoing.end()
        else setTimeout(() => outgoing.destroy(), 50)
      })
  )

/**
 * A PUT of `key` with `framed` as its aws-chunked body (chunked transfer, `decodedLength` declared,
 * a CRC32 trailer announced unless `trailer` is false), as the AWS SDK streams one.
 */
const putAwsChunked = (
  access: Access,
  key: string,
  decodedLength: number,
  framed: Uint8Array,
  now: number,
  trailer = true
) =>
  sendRaw(
    access,
    {
      method: "PUT",
      key,
      payloadHash: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
      headers: {
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": String(decodedLength),
        ...(trailer ? { "x-amz-trailer": "x-amz-checksum-crc32" } : {})
      },
      now
    },
    { "transfer-encoding": "chunked" },
    framed,
    "end"
  )

const pushAccess = (client: Parameters<typeof call>[0]) =>
  Effect.map(call(client, "GET", "/api/object-storage/push-access"), (answer) => {
    assert.strictEqual(answer.status, 200)
    return answer.body as Access
  })

/** The S3 error of an answer: its status and `<Code>`. */
const failure = (answer: S3Answer | "reset") =>
  answer === "reset" ? ["reset"] : [answer.status, errorCode(answer.text)]

const listKeys = (access: Access, prefix: string, now: number) =>
  Effect.map(send(access, { method: "GET", query: { "list-type": "2", prefix }, now }), (answer) => {
    assert.strictEqual(answer.status, 200, answer.text)
    return Array.from(answer.text.matchAll(/<Key>([^<]*)<\/Key>/g), (match) => match[1]!)
  })

/** Nothing half-written remains: no temporary file, no part. */
const nothingPending = (dir: string) =>
  Effect.promise(async () => {
    const tmp = await NodeFs.readdir(NodePath.join(dir, "object-storage", "tmp"))
    const uploads = await NodeFs.readdir(NodePath.join(dir, "object-storage", "uploads"))
    assert.deepStrictEqual([tmp, uploads], [[], []])
  })

/** A tar archive of `files` (name → content) made by the system's `tar`. */
const tarOf = (dir: string, files: Record<string, string>) =>
  Effect.promise(async () => {
    const root = await NodeFs.mkdtemp(NodePath.join(dir, "tar-"))
    for (const [name, content] of Object.entries(files)) {
      await NodeFs.mkdir(NodePath.dirname(NodePath.join(root, name)), { recursive: true })
      await NodeFs.writeFile(NodePath.join(root, name), content)
    }
    return NodeChildProcess.execFileSync("tar", ["-cf", "-", "-C", root, ...Object.keys(files)])
  })

const crc32 = (bytes: Uint8Array) => {
  const out = Buffer.alloc(4)
  out.writeUInt32BE(NodeZlib.crc32(bytes) >>> 0)
  return out.toString("base64")
}

/** `body` in the aws-chunked framing, in two chunks, with a CRC32 trailer (`checksum` overrides it). */
const awsChunked = (body: Buffer, checksum = crc32(body)) => {
  const half = Math.floor(body.length / 2)
  const chunk = (part: Buffer) =>
    Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from("\r\n")])
  return Buffer.concat([
    chunk(body.subarray(0, half)),
    chunk(body.subarray(half)),
    Buffer.from(`0\r\nx-amz-checksum-crc32:${checksum}\r\n\r\n`)
  ])
}

describe("object storage", () => {
  it.scoped("push-access issues credentials, and the storage URL names the host the client reached", () =>
    Effect.gen(function* () {
      const { server, client } = yield* serve(yield* tempDir)
      const access = yield* pushAccess(client)
      assert.deepStrictEqual(
        [access.region, access.bucket, access.organizationId],
        ["us-east-1", "daytona-build-context", "local"]
      )
      assert.strictEqual(access.storageUrl, `${server.url}/object-storage`)
      assert.match(access.accessKey, /^LOCAL[0-9A-F]{20}$/)
      assert.notStrictEqual(access.secret, (yield* pushAccess(client)).secret)
      const port = new URL(server.url).port
      const viaHost = (host: string) =>
        Effect.promise(
          () =>
            new Promise<Access>((resolve, reject) => {
              const request = NodeHttp.request(`${server.apiUrl}/object-storage/push-access`, {
                headers: { host, authorization: "Bearer test-key" }
              })
              request.on("response", (response) => {
                let text = ""
                response.on("data", (chunk: Buffer) => (text += chunk.toString()))
                response.on("end", () => resolve(JSON.parse(text) as Access))
              })
              request.on("error", reject)
              request.end()
            })
        )
      assert.strictEqual((yield* viaHost(`localhost:${port}`)).storageUrl, `http://localhost:${port}/object-storage`)
      assert.strictEqual((yield* viaHost("evil.example/x?")).storageUrl, `${server.url}/object-storage`)
      const anonymous = yield* Effect.promise(() => fetch(`${server.apiUrl}/object-storage/push-access`))
      assert.strictEqual(anonymous.status, 401)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("objects are put, listed, read and deleted; hex, unsigned and aws-chunked payloads", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const access = yield* pushAccess(client)
      const now = 0
      const put = yield* send(access, { method: "PUT", key: "local/h1/context.tar", body: "hello", now })
      assert.strictEqual(put.status, 200, put.text)
      assert.strictEqual(put.headers.get("etag"), `"${NodeCrypto.createHash("md5").update("hello").digest("hex")}"`)
      // As our SDK puts: unsigned payload, exact Content-Length.
      const unsigned = yield* send(access, {
        method: "PUT",
        key: "local/h2/context.tar",
        body: "unsigned body",
        payloadHash: "UNSIGNED-PAYLOAD",
        now
      })
      assert.strictEqual(unsigned.status, 200, unsigned.text)
      const chunkedBody = Buffer.from("streamed with a trailer")
      const chunked = yield* putAwsChunked(
        access,
        "local/h3/context.tar",
        chunkedBody.length,
        awsChunked(chunkedBody),
        now
      )
      assert.deepStrictEqual(failure(chunked), [200, undefined])
      const badTrailer = yield* putAwsChunked(
        access,
        "local/h4/context.tar",
        chunkedBody.length,
        awsChunked(chunkedBody, crc32(Buffer.from("something else"))),
        now
      )
      assert.deepStrictEqual(failure(badTrailer), [400, "BadDigest"])

      assert.deepStrictEqual(yield* listKeys(access, "local/", now), [
        "local/h1/context.tar",
        "local/h2/context.tar",
        "local/h3/context.tar"
      ])
      const one = yield* send(access, {
        method: "GET",
        query: { "list-type": "2", prefix: "local/", "max-keys": "1" },
        now
      })
      assert.match(one.text, /<IsTruncated>true<\/IsTruncated>/)
      const token = /<NextContinuationToken>([^<]*)</.exec(one.text)![1]!
      const next = yield* send(access, {
        method: "GET",
        query: { "list-type": "2", prefix: "local/", "continuation-token": token },
        now
      })
      assert.deepStrictEqual(
        Array.from(next.text.matchAll(/<Key>([^<]*)<\/Key>/g), (m) => m[1]),
        ["local/h2/context.tar", "local/h3/context.tar"]
      )
      const got = yield* send(access, { method: "GET", key: "local/h3/context.tar", now })
      assert.deepStrictEqual([got.status, got.text], [200, "streamed with a trailer"])
      const head = yield* send(access, { method: "HEAD", key: "local/h2/context.tar", now })
      assert.deepStrictEqual([head.status, head.headers.get("content-length")], [200, "13"])
      const deleted = yield* send(access, { method: "DELETE", key: "local/h2/context.tar", now })
      assert.strictEqual(deleted.status, 204)
      const gone = yield* send(access, { method: "GET", key: "local/h2/context.tar", now })
      assert.deepStrictEqual(failure(gone), [404, "NoSuchKey"])
      const headGone = yield* send(access, { method: "HEAD", key: "local/h2/context.tar", now })
      assert.deepStrictEqual([headGone.status, headGone.text], [404, ""])
      // Concurrent puts of one key: one of them wins whole, and no other file is left.
      const bodies = Array.from({ length: 20 }, (_, i) => `body number ${i} `.repeat(1000))
      const puts = yield* Effect.forEach(
        bodies,
        (body) => send(access, { method: "PUT", key: "local/race/context.tar", body, now }),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(new Set(puts.map((answer) => answer.status)), new Set([200]))
      const winner = yield* send(access, { method: "GET", key: "local/race/context.tar", now })
      assert.include(bodies, winner.text)
      const stored = yield* Effect.promise(() => NodeFs.readdir(NodePath.join(dir, "object-storage", "objects")))
      assert.strictEqual(stored.length, 3)
      const otherBucket = yield* send(
        { ...access, bucket: "other" },
        { method: "GET", key: "local/h1/context.tar", now }
      )
      assert.deepStrictEqual(failure(otherBucket), [404, "NoSuchBucket"])
      yield* nothingPending(dir)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("tampered, expired, foreign and malformed requests answer S3's errors and leave nothing behind", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const access = yield* pushAccess(client)
      const now = 0
      const key = "local/abc/context.tar"
      const put = (overrides: Partial<S3Request>, who: Access = access) =>
        send(who, { method: "PUT", key, body: "payload", now, ...overrides })

      assert.deepStrictEqual(failure(yield* put({}, { ...access, secret: "wrong" })), [403, "SignatureDoesNotMatch"])
      assert.deepStrictEqual(failure(yield* put({}, { ...access, sessionToken: "wrong" })), [400, "InvalidToken"])
      assert.deepStrictEqual(failure(yield* put({}, { ...access, accessKey: "LOCALNOPE" })), [
        403,
        "InvalidAccessKeyId"
      ])
      assert.deepStrictEqual(failure(yield* put({}, { ...access, region: "eu-west-1" })), [
        400,
        "AuthorizationHeaderMalformed"
      ])
      assert.deepStrictEqual(failure(yield* put({ now: now + 3_600_000 })), [403, "RequestTimeTooSkewed"])
      // Signed over one body, another of the same length sent.
      assert.deepStrictEqual(failure(yield* put({})), [200, undefined])
      yield* send(access, { method: "DELETE", key, now })
      const tampered = yield* send(access, { method: "PUT", key, body: "payload", now }, (init) => ({
        ...init,
        body: "PAYLOAD"
      }))
      assert.deepStrictEqual(failure(tampered), [400, "XAmzContentSHA256Mismatch"])
      // A header added after signing does not change the signature, a signed one changed does.
      const changedDate = yield* send(access, { method: "GET", key, now }, (init) => ({
        ...init,
        headers: { ...(init.headers as Record<string, string>), "x-amz-date": "19700101T000001Z" }
      }))
      assert.deepStrictEqual(failure(changedDate), [403, "SignatureDoesNotMatch"])
      const unsigned = yield* Effect.promise(() =>
        fetch(`${access.storageUrl}/${access.bucket}/${key}`, { method: "PUT", body: "x" })
      )
      assert.deepStrictEqual(
        [unsigned.status, errorCode(yield* Effect.promise(() => unsigned.text()))],
        [403, "AccessDenied"]
      )

      assert.deepStrictEqual(failure(yield* put({ key: "other/abc/context.tar" })), [403, "AccessDenied"])
      // Sent as they are (`fetch` would resolve the dots away before sending).
      const dotted = (key: string) =>
        sendRaw(access, { method: "PUT", key, body: "payload", now }, {}, Buffer.from("payload"), "end")
      assert.deepStrictEqual(failure(yield* dotted("../local/abc/context.tar")), [403, "AccessDenied"])
      assert.deepStrictEqual(failure(yield* dotted("local/../../etc/passwd")), [400, "InvalidArgument"])
      assert.deepStrictEqual(failure(yield* dotted("local/a/./b")), [400, "InvalidArgument"])
      assert.deepStrictEqual(failure(yield* put({ key: "local/nul\u0000/context.tar" })), [400, "InvalidArgument"])
      assert.deepStrictEqual(failure(yield* put({ key: `local/${"k".repeat(1100)}` })), [400, "KeyTooLongError"])
      const foreignList = yield* send(access, { method: "GET", query: { "list-type": "2", prefix: "other/" }, now })
      assert.deepStrictEqual(failure(foreignList), [403, "AccessDenied"])
      const allList = yield* send(access, { method: "GET", query: { "list-type": "2" }, now })
      assert.deepStrictEqual(failure(allList), [403, "AccessDenied"])

      // A body declared larger than an object may be is refused before it is read.
      const huge = yield* sendRaw(
        access,
        { method: "PUT", key, payloadHash: "UNSIGNED-PAYLOAD", now },
        { "content-length": String(2 * 1024 ** 3) },
        Buffer.alloc(1024),
        "destroy"
      )
      assert.deepStrictEqual(failure(huge), [400, "EntityTooLarge"])
      // A body that stops mid-way is never stored.
      yield* sendRaw(
        access,
        { method: "PUT", key, payloadHash: "UNSIGNED-PAYLOAD", now },
        { "content-length": "100000" },
        Buffer.alloc(1000, 1),
        "destroy"
      )
      // An aws-chunked body cut before its last chunk.
      const cut = yield* putAwsChunked(access, key, 10, Buffer.from("a\r\n0123456789\r\n"), now, false)
      assert.deepStrictEqual(failure(cut), [400, "IncompleteBody"])
      // Garbage framing.
      const garbage = yield* putAwsChunked(access, key, 10, Buffer.from("zz\r\n0123456789\r\n"), now, false)
      assert.deepStrictEqual(failure(garbage), [400, "InvalidRequest"])

      // Multipart: malformed XML, parts too small, unknown and aborted uploads.
      const created = yield* send(access, { method: "POST", key, query: { uploads: "" }, now })
      assert.strictEqual(created.status, 200, created.text)
      const uploadId = /<UploadId>([^<]*)</.exec(created.text)![1]!
      const part = (n: number, body: string, id = uploadId) =>
        send(access, { method: "PUT", key, query: { partNumber: String(n), uploadId: id }, body, now })
      const part1 = yield* part(1, "small one")
      const part2 = yield* part(2, "small two")
      assert.deepStrictEqual([part1.status, part2.status], [200, 200])
      assert.deepStrictEqual(failure(yield* part(0, "x")), [400, "InvalidArgument"])
      assert.deepStrictEqual(failure(yield* part(10_001, "x")), [400, "InvalidArgument"])
      assert.deepStrictEqual(failure(yield* part(1, "x", "nope")), [404, "NoSuchUpload"])
      const complete = (body: string, id = uploadId) =>
        send(access, { method: "POST", key, query: { uploadId: id }, body, now })
      assert.deepStrictEqual(failure(yield* complete("<CompleteMultipartUpload><Part>")), [400, "MalformedXML"])
      assert.deepStrictEqual(failure(yield* complete("not xml at all")), [400, "MalformedXML"])
      const xml = (parts: ReadonlyArray<readonly [number, string]>) =>
        `<CompleteMultipartUpload>${parts
          .map(([n, etag]) => `<Part><PartNumber>${n}</PartNumber><ETag>${etag}</ETag></Part>`)
          .join("")}</CompleteMultipartUpload>`
      const etag1 = part1.headers.get("etag")!
      const etag2 = part2.headers.get("etag")!
      assert.deepStrictEqual(
        failure(
          yield* complete(
            xml([
              [1, etag1],
              [2, etag2]
            ])
          )
        ),
        [400, "EntityTooSmall"]
      )
      assert.deepStrictEqual(
        failure(
          yield* complete(
            xml([
              [2, etag2],
              [1, etag1]
            ])
          )
        ),
        [400, "InvalidPartOrder"]
      )
      assert.deepStrictEqual(failure(yield* complete(xml([[1, '"0000"']]))), [400, "InvalidPart"])
      assert.deepStrictEqual(failure(yield* complete(xml([[1, etag1]]), "nope")), [404, "NoSuchUpload"])
      const aborted = yield* send(access, { method: "DELETE", key, query: { uploadId }, now })
      assert.strictEqual(aborted.status, 204)
      assert.deepStrictEqual(failure(yield* send(access, { method: "DELETE", key, query: { uploadId }, now })), [
        404,
        "NoSuchUpload"
      ])
      assert.deepStrictEqual(failure(yield* complete(xml([[1, etag1]]))), [404, "NoSuchUpload"])
      const copy = yield* send(access, { method: "PUT", key, headers: { "x-amz-copy-source": "/b/local/x" }, now })
      assert.deepStrictEqual(failure(copy), [405, "MethodNotAllowed"])

      assert.deepStrictEqual(yield* listKeys(access, "local/", now), [])
      yield* nothingPending(dir)

      // Expired credentials: an hour later, even a well-signed request is refused.
      yield* TestClock.adjust("61 minutes")
      const late = yield* send(access, {
        method: "GET",
        query: { "list-type": "2", prefix: "local/" },
        now: 61 * 60_000
      })
      assert.deepStrictEqual(failure(late), [400, "ExpiredToken"])
      const fresh = yield* pushAccess(client)
      assert.deepStrictEqual(yield* listKeys(fresh, "local/", 61 * 60_000), [])
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("an object put before a restart is listed and read after it; uploads in progress are dropped", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const first = yield* Scope.make()
      const { client } = yield* serve(dir).pipe(Scope.extend(first))
      const access = yield* pushAccess(client)
      assert.strictEqual(
        (yield* send(access, { method: "PUT", key: "local/kept/context.tar", body: "kept", now: 0 })).status,
        200
      )
      const started = yield* send(access, {
        method: "POST",
        key: "local/half/context.tar",
        query: { uploads: "" },
        now: 0
      })
      const uploadId = /<UploadId>([^<]*)</.exec(started.text)![1]!
      yield* send(access, {
        method: "PUT",
        key: "local/half/context.tar",
        query: { partNumber: "1", uploadId },
        body: "p",
        now: 0
      })
      yield* Scope.close(first, Exit.void)

      const { client: again } = yield* serve(dir)
      const fresh = yield* pushAccess(again)
      const old = yield* send(
        { ...access, storageUrl: fresh.storageUrl },
        { method: "GET", query: { "list-type": "2", prefix: "local/" }, now: 0 }
      )
      assert.deepStrictEqual(failure(old), [403, "InvalidAccessKeyId"])
      assert.deepStrictEqual(yield* listKeys(fresh, "local/", 0), ["local/kept/context.tar"])
      const got = yield* send(fresh, { method: "GET", key: "local/kept/context.tar", now: 0 })
      assert.deepStrictEqual([got.status, got.text], [200, "kept"])
      yield* nothingPending(dir)
    }).pipe(Effect.provide(clientLayer))
  )

  it.scoped("a build names its contexts in its log; a context never uploaded is refused", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const { client } = yield* serve(dir)
      const access = yield* pushAccess(client)
      const tar = yield* tarOf(dir, { "app/x.txt": "x", "app/deep/y.txt": "y" })
      const put = yield* send(access, { method: "PUT", key: "local/feed/context.tar", body: tar, now: 0 })
      assert.strictEqual(put.status, 200, put.text)
      const buildInfo = (hashes: ReadonlyArray<string>) => ({
        dockerfileContent: "FROM python:3.12-slim\nCOPY app /app\n",
        contextHashes: hashes
      })
      const refused = yield* call(client, "POST", "/api/sandbox", { buildInfo: buildInfo(["feed", "f00d"]) })
      assert.strictEqual(refused.status, 400)
      assert.include((refused.body as { message: string }).message, "local/f00d/context.tar")
      const refusedSnapshot = yield* call(client, "POST", "/api/snapshots", {
        name: "ctx",
        buildInfo: buildInfo(["f00d"])
      })
      assert.strictEqual(refusedSnapshot.status, 400)

      const created = yield* call(client, "POST", "/api/sandbox", { buildInfo: buildInfo(["feed"]) })
      assert.strictEqual(created.status, 200, JSON.stringify(created.body))
      const id = (created.body as { id: string }).id
      yield* advance("5 seconds")
      const log = () =>
        Effect.promise(async () => {
          const response = await fetch(`${new URL(access.storageUrl).origin}/sandboxes/${id}/build-logs`, {
            headers: { authorization: "Bearer test-key" }
          })
          return response.text()
        })
      const text = yield* log()
      assert.include(text, `Context feed: local/feed/context.tar, ${tar.length} bytes, 2 entries`)
      assert.include(text, "  app/x.txt\n")
      assert.include(text, "  app/deep/y.txt\n")
      yield* send(access, { method: "DELETE", key: "local/feed/context.tar", now: 0 })
      assert.include(yield* log(), "Context feed: MISSING, no object local/feed/context.tar")

      const snapshot = yield* call(client, "POST", "/api/snapshots", { name: "ctx", buildInfo: buildInfo([]) })
      assert.strictEqual(snapshot.status, 200)
    }).pipe(Effect.provide(clientLayer))
  )

  it.live(
    "Daytona's SDK uploads files, a nested directory and a multipart context, and the build log lists them",
    () =>
      Effect.gen(function* () {
        const { dir, server } = yield* fastServer()
        const files = NodePath.join(dir, "files")
        yield* Effect.promise(async () => {
          await NodeFs.mkdir(NodePath.join(files, "tree", "nested"), { recursive: true })
          await NodeFs.writeFile(NodePath.join(files, "x.txt"), "hello context")
          await NodeFs.writeFile(NodePath.join(files, "tree", "nested", "deep.txt"), "deep")
          await NodeFs.writeFile(NodePath.join(files, "big.bin"), NodeCrypto.randomBytes(6 * 1024 * 1024))
          await NodeFs.writeFile(NodePath.join(files, "snap.txt"), "for the snapshot")
        })
        const daytona = new Daytona({ apiKey: Redacted.value(server.apiKey), apiUrl: server.apiUrl, target: "local" })
        const image = Image.debianSlim("3.12")
          .addLocalFile(NodePath.join(files, "x.txt"), "/app/x.txt")
          .addLocalDir(NodePath.join(files, "tree"), "/app/tree")
          .addLocalFile(NodePath.join(files, "big.bin"), "/app/big.bin")
        const logs: Array<string> = []
        const sandbox = yield* Effect.promise(() =>
          daytona.create({ image }, { timeout: 60, onSnapshotCreateLogs: (line) => logs.push(line) })
        )
        assert.strictEqual(sandbox.state, "started")
        const log = logs.join("\n")
        const archived = (path: string) => path.replace(/^\//, "")
        assert.include(log, archived(NodePath.join(files, "x.txt")))
        assert.include(log, archived(NodePath.join(files, "tree", "nested", "deep.txt")))
        assert.include(log, archived(NodePath.join(files, "big.bin")))
        assert.notInclude(log, "MISSING")
        const sizes = Array.from(log.matchAll(/context\.tar, (\d+) bytes/g), (match) => Number(match[1]))
        assert.strictEqual(sizes.length, 3)
        assert.isAbove(Math.max(...sizes), 6 * 1024 * 1024)
        const objects = yield* Effect.promise(() => NodeFs.readdir(NodePath.join(dir, "object-storage", "objects")))
        assert.strictEqual(objects.length, 3)

        const snapshot = yield* Effect.promise(() =>
          daytona.snapshot.create(
            {
              name: "with-context",
              image: Image.debianSlim("3.12").addLocalFile(NodePath.join(files, "snap.txt"), "/app/")
            },
            { timeout: 60 }
          )
        )
        assert.strictEqual(snapshot.state, "active")
        assert.strictEqual(snapshot.buildInfo?.contextHashes?.length, 1)
        const snapshotLog = yield* Effect.promise(async () => {
          const headers = { authorization: `Bearer ${Redacted.value(server.apiKey)}` }
          const where = await fetch(`${server.apiUrl}/snapshots/${snapshot.id}/build-logs-url`, { headers })
          const { url } = (await where.json()) as { url: string }
          return (await fetch(url, { headers })).text()
        })
        assert.include(snapshotLog, archived(NodePath.join(files, "snap.txt")))
        yield* nothingPending(dir)
      }).pipe(Effect.scoped),
    120_000
  )
})

describe("object storage: our SDK", () => {
  it.live(
    "create({ image }) uploads an Image's files once, the archive holds them as the system tar reads them, and the build log lists them",
    () =>
      Effect.gen(function* () {
        const { dir, server } = yield* fastServer()
        const files = NodePath.join(dir, "ours")
        yield* Effect.promise(async () => {
          await NodeFs.mkdir(NodePath.join(files, "tree", "nested"), { recursive: true })
          await NodeFs.writeFile(NodePath.join(files, "x.txt"), "hello from our SDK")
          await NodeFs.writeFile(NodePath.join(files, "tree", "nested", "deep.txt"), "deep")
          await NodeFs.writeFile(NodePath.join(files, "tree", "blob.bin"), NodeCrypto.randomBytes(3 * 1024 * 1024))
        })
        const context = yield* Layer.build(
          SdkDaytona.layer({ apiKey: server.apiKey, apiUrl: server.apiUrl, requestTimeout: "60 seconds" }).pipe(
            Layer.provide(Layer.mergeAll(NodeHttpClient.layerUndici, NodeFileSystem.layer))
          )
        )
        const daytona = Context.get(context, SdkDaytona.Daytona)
        const image = SdkImage.debianSlim("3.12").pipe(
          SdkImage.addLocalFile(NodePath.join(files, "x.txt"), "/app/x.txt"),
          SdkImage.addLocalDir(NodePath.join(files, "tree"), "/app/tree")
        )
        const sandbox = yield* daytona.create({ image })
        assert.strictEqual(sandbox.state, "started")
        const log = (yield* Stream.runCollect(sandbox.buildLogs)).pipe(Chunk.toReadonlyArray).join("\n")
        const archived = (path: string) => path.replace(/^\//, "")
        assert.include(log, archived(NodePath.join(files, "x.txt")))
        assert.include(log, archived(NodePath.join(files, "tree", "nested", "deep.txt")))
        assert.include(log, archived(NodePath.join(files, "tree", "blob.bin")))
        assert.notInclude(log, "MISSING")

        const stored = NodePath.join(dir, "object-storage", "objects")
        const objects = yield* Effect.promise(() => NodeFs.readdir(stored))
        assert.strictEqual(objects.length, 2)
        // The archives, unpacked by the system's tar, hold the files as they are on disk.
        const unpacked = NodePath.join(dir, "unpacked")
        yield* Effect.promise(() => NodeFs.mkdir(unpacked))
        for (const object of objects) {
          const result = NodeChildProcess.spawnSync("tar", ["-xf", NodePath.join(stored, object), "-C", unpacked])
          assert.strictEqual(result.status, 0, result.stderr.toString())
        }
        for (const file of ["x.txt", "tree/nested/deep.txt", "tree/blob.bin"]) {
          const [original, copy] = yield* Effect.promise(() =>
            Promise.all([
              NodeFs.readFile(NodePath.join(files, file)),
              NodeFs.readFile(NodePath.join(unpacked, archived(NodePath.join(files, file))))
            ])
          )
          assert.isTrue(original.equals(copy), file)
        }

        // The same files again: found under their hashes, not put a second time.
        const again = yield* daytona.create({ image })
        assert.strictEqual(again.state, "started")
        assert.deepStrictEqual((yield* Effect.promise(() => NodeFs.readdir(stored))).sort(), [...objects].sort())
        yield* nothingPending(dir)
      }).pipe(Effect.scoped),
    120_000
  )
})

describe("object storage internals", () => {
  const memoryTable = (): JsonTable => {
    const rows = new Map<string, string>()
    return {
      all: Effect.sync(() => Array.from(rows.values())),
      put: (id, data) => Effect.sync(() => void rows.set(id, data)),
      remove: (id) => Effect.sync(() => void rows.delete(id))
    }
  }

  it.scoped("uploads left incomplete are dropped after 24 hours, with their parts and their bytes", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const store = yield* ObjectStore.make(dir, memoryTable())
      const id = yield* store.initiate("local/late/context.tar", "application/x-tar")
      const file = store.tmpFile()
      yield* Effect.promise(() => NodeFs.writeFile(file, "part"))
      yield* store.reserve(4)
      yield* store.putPart(id, "local/late/context.tar", 1, { file, size: 4, md5: Buffer.alloc(16) })
      assert.deepStrictEqual([store.uploadsInProgress(), store.pendingBytes()], [1, ObjectStore.minimumCharge])
      yield* TestClock.adjust("23 hours")
      yield* store.sweep
      assert.strictEqual(store.uploadsInProgress(), 1)
      yield* TestClock.adjust("2 hours")
      yield* store.sweep
      assert.deepStrictEqual([store.uploadsInProgress(), store.pendingBytes()], [0, 0])
      assert.deepStrictEqual(yield* Effect.promise(() => NodeFs.readdir(NodePath.join(dir, "uploads"))), [])
    })
  )

  it.scoped("tar listings read ustar, PAX and GNU long names (shown cut), and say when a file is not an archive", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const long = `${"d".repeat(120)}/${"f".repeat(150)}.txt`
      const listOf = (format: string) =>
        Effect.promise(async () => {
          const root = NodePath.join(dir, format)
          await NodeFs.mkdir(NodePath.join(root, NodePath.dirname(long)), { recursive: true })
          await NodeFs.writeFile(NodePath.join(root, long), "x")
          await NodeFs.writeFile(NodePath.join(root, "short.txt"), "y")
          const archive = NodePath.join(dir, `${format}.tar`)
          NodeChildProcess.execFileSync("tar", [`--format=${format}`, "-cf", archive, "-C", root, "short.txt", long])
          return TarListing.list(archive, 10)
        })
      for (const format of ["posix", "gnu"]) {
        const listing = yield* listOf(format)
        assert.deepStrictEqual(
          [listing.names, listing.problem],
          [["short.txt", TarListing.shownName(long)], undefined],
          format
        )
      }
      const garbage = NodePath.join(dir, "garbage.tar")
      yield* Effect.promise(() => NodeFs.writeFile(garbage, Buffer.alloc(2048, 7)))
      const bad = yield* Effect.promise(() => TarListing.list(garbage, 10))
      assert.match(bad.problem ?? "", /not a tar header/)
    })
  )
  it.scoped("at most 64 bodies are received at once: the next answers 503 SlowDown until one ends", () =>
    Effect.gen(function* () {
      const store = yield* ObjectStore.make(yield* tempDir, memoryTable())
      for (let i = 0; i < ObjectStore.maxReceiving; i++) yield* store.admit
      const refused = yield* Effect.flip(store.admit)
      assert.deepStrictEqual([refused.status, refused.code], [503, "SlowDown"])
      yield* store.leave
      yield* store.admit
    })
  )

  it.scoped("empty bodies are charged 64 KiB each: at most 65,536 of them are held at once", () =>
    Effect.gen(function* () {
      const store = yield* ObjectStore.make(yield* tempDir, memoryTable())
      const fits = ObjectStore.maxPendingBytes / ObjectStore.minimumCharge
      for (let i = 0; i < fits; i++) yield* store.reserve(0)
      const refused = yield* Effect.flip(store.reserve(0))
      assert.strictEqual(refused.code, "EntityTooLarge")
      yield* store.release(0)
      yield* store.reserve(0)
    })
  )

  it("signatures of different byte lengths compare unequal instead of throwing", () => {
    assert.isFalse(S3Signature.sameSignature(`é${"a".repeat(63)}`, "a".repeat(64)))
    assert.isTrue(S3Signature.sameSignature("ab".repeat(32), "ab".repeat(32)))
  })

  /** One 512-byte tar header (ustar magic, checksum filled in). */
  const tarHeader = (name: string, type: string, size: number) => {
    const header = Buffer.alloc(512)
    header.write(name, 0, 100, "utf8")
    header.write("0000644\0", 100)
    header.write(`${size.toString(8).padStart(11, "0")}\0`, 124)
    header.write("00000000000\0", 136)
    header.write(type, 156)
    header.write("ustar\0" + "00", 257)
    header.fill(" ", 148, 156)
    let sum = 0
    for (const byte of header) sum += byte
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148)
    return header
  }
  const padded = (data: Buffer) => Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)])

  it.scoped(
    "PAX records with lengths that crawl one byte at a time are refused at once, not read in quadratic time",
    () =>
      Effect.gen(function* () {
        // The eighth attack probe: a 65,000-byte record of zeros ending in "1 " cost 725 ms of CPU
        // per header, without yielding (N headers in one archive, N times that per log view).
        const record = Buffer.from(`${"0".repeat(64_999)}1 `)
        const parts: Array<Buffer> = []
        for (let i = 0; i < 40; i++)
          parts.push(tarHeader("PaxHeader", "x", record.length), padded(record), tarHeader(`f${i}.txt`, "0", 0))
        parts.push(Buffer.alloc(1024))
        const archive = NodePath.join(yield* tempDir, "crawl.tar")
        yield* Effect.promise(() => NodeFs.writeFile(archive, Buffer.concat(parts)))
        const listing = yield* Effect.promise(() => TarListing.list(archive, 100))
        assert.deepStrictEqual(
          [listing.count, listing.names.slice(0, 2), listing.problem],
          [40, ["f0.txt", "f1.txt"], undefined]
        )
      }),
    20_000
  )

  it.scoped("names are shown with control characters escaped and cut at 256 characters: no forged log lines", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const root = NodePath.join(dir, "names")
      const forged = "evil\nBuild finished: FORGED\u001b[2J\rx"
      const long = "n".repeat(200)
      yield* Effect.promise(async () => {
        await NodeFs.mkdir(NodePath.join(root, long), { recursive: true })
        await NodeFs.writeFile(NodePath.join(root, forged), "x")
        await NodeFs.writeFile(NodePath.join(root, long, "m".repeat(200)), "y")
      })
      const archive = NodePath.join(dir, "names.tar")
      NodeChildProcess.execFileSync("tar", ["--format=posix", "-cf", archive, "-C", root, forged, long])
      const listing = yield* Effect.promise(() => TarListing.list(archive, 10))
      assert.include(listing.names, "evil\\x0aBuild finished: FORGED\\x1b[2J\\x0dx")
      for (const name of listing.names) {
        assert.notMatch(name, /[\u0000-\u001f]/)
        assert.isAtMost(name.length, 256)
      }
    })
  )
})
