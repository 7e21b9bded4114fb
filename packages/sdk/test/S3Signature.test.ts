import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as S3Signature from "../src/internal/s3Signature.js"
import { verify } from "./support/S3Verifier.js"

/** The credentials and time of the Signature V4 examples in Amazon S3's API reference. */
const example = {
  credentials: {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
  },
  date: new Date("2013-05-24T00:00:00Z"),
  region: "us-east-1",
  service: "s3"
} as const

describe("S3 Signature V4", () => {
  it.effect("GET Object (with Range) gives the signature of AWS's example", () =>
    Effect.gen(function* () {
      const signed = yield* S3Signature.sign({
        ...example,
        method: "GET",
        url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"),
        headers: { Range: "bytes=0-9" },
        payloadHash: S3Signature.emptyPayloadHash
      })
      assert.strictEqual(
        signed.canonicalRequest,
        [
          "GET",
          "/test.txt",
          "",
          "host:examplebucket.s3.amazonaws.com",
          "range:bytes=0-9",
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
          "x-amz-date:20130524T000000Z",
          "",
          "host;range;x-amz-content-sha256;x-amz-date",
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        ].join("\n")
      )
      assert.strictEqual(
        signed.stringToSign,
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" +
          "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
      )
      assert.strictEqual(signed.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
      assert.strictEqual(
        signed.headers.authorization,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
          "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, " +
          "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
      )
      assert.isUndefined(signed.headers.host)
    })
  )

  it.effect("PUT Object (a `$` in the key, more headers) gives the signature of AWS's example", () =>
    Effect.gen(function* () {
      const signed = yield* S3Signature.sign({
        ...example,
        method: "PUT",
        url: new URL("https://examplebucket.s3.amazonaws.com/test$file.text"),
        headers: { Date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
        payloadHash: yield* S3Signature.sha256Hex("Welcome to Amazon S3.")
      })
      assert.strictEqual(signed.canonicalRequest.split("\n")[1], "/test%24file.text")
      assert.strictEqual(
        signed.stringToSign.split("\n")[3],
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"
      )
      assert.strictEqual(signed.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    })
  )

  it.effect(
    "GET Bucket (list objects, a query) and GET Bucket Lifecycle (a bare parameter) give AWS's signatures",
    () =>
      Effect.gen(function* () {
        const list = yield* S3Signature.sign({
          ...example,
          method: "GET",
          url: new URL("https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2"),
          payloadHash: S3Signature.emptyPayloadHash
        })
        assert.strictEqual(list.canonicalRequest.split("\n")[2], "max-keys=2&prefix=J")
        assert.strictEqual(list.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
        const lifecycle = yield* S3Signature.sign({
          ...example,
          method: "GET",
          url: new URL("https://examplebucket.s3.amazonaws.com/?lifecycle"),
          payloadHash: S3Signature.emptyPayloadHash
        })
        assert.strictEqual(lifecycle.canonicalRequest.split("\n")[2], "lifecycle=")
        assert.strictEqual(lifecycle.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
      })
  )

  it.effect("a request signed with a session token passes a verifier written from the specification", () =>
    Effect.gen(function* () {
      const credentials = { accessKeyId: "AKID", secretAccessKey: "secret/key+x", sessionToken: "token==" }
      const url = new URL("http://storage.test:9000/s3-prefix/bucket?list-type=2&prefix=org%2Fab%20c%2F&max-keys=1")
      const signed = yield* S3Signature.sign({
        method: "GET",
        url,
        payloadHash: S3Signature.unsignedPayload,
        region: "eu-central-1",
        service: "s3",
        credentials,
        date: new Date("2026-12-03T11:22:33.456Z")
      })
      assert.strictEqual(signed.headers["x-amz-security-token"], "token==")
      assert.strictEqual(signed.headers["x-amz-date"], "20261203T112233Z")
      assert.strictEqual(signed.headers["x-amz-content-sha256"], "UNSIGNED-PAYLOAD")
      assert.isTrue(verify("GET", url, { ...signed.headers, host: url.host }, credentials.secretAccessKey))
      assert.isFalse(
        verify("GET", url, { ...signed.headers, host: url.host, "x-amz-security-token": "other" }, "secret/key+x")
      )
      assert.isFalse(verify("PUT", url, { ...signed.headers, host: url.host }, credentials.secretAccessKey))
    })
  )
})
