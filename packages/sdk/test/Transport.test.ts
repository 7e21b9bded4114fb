import { assert, describe, it } from "@effect/vitest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { inspect } from "node:util"
import { DaytonaClient } from "../src/DaytonaClient.js"
import type * as DaytonaConfig from "../src/DaytonaConfig.js"
import * as Errors from "../src/DaytonaError.js"
import { sdkVersion } from "../src/internal/version.js"
import { ToolboxClient } from "../src/ToolboxClient.js"
import { apiKey, errorBody, type Handler, layerWith, makeFake, toolboxProxyUrl } from "./support/FakeHttp.js"

// ---------------------------------------------------------------------------------------------
// Local helpers (FakeHttp.ts belongs to everyone; these belong to this file)
// ---------------------------------------------------------------------------------------------

const target = { id: "sb-1", toolboxProxyUrl }

/** Runs `self` and returns its typed failure, failing the test on success, defects or interruption. */
const failureOf = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<E, never, R> =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(self)
    if (Exit.isSuccess(exit)) return assert.fail(`expected a failure, got a success`)
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure) || Cause.isDie(exit.cause) || Cause.isInterrupted(exit.cause)) {
      return assert.fail(`expected a typed failure only, got ${Cause.pretty(exit.cause)}`)
    }
    return failure.value
  })

/** The fields every response error carries, read uniformly (missing fields are `undefined`). */
const fieldsOf = (error: object) => {
  const r = error as Record<string, unknown>
  return {
    _tag: r["_tag"],
    message: r["message"],
    status: r["status"],
    method: r["method"],
    path: r["path"],
    errorCode: r["errorCode"],
    requestId: r["requestId"],
    body: r["body"]
  }
}

/** A GET on the control plane through the real DaytonaClient over a fresh fake. */
const controlPlane = (
  handler: Handler,
  request: HttpClientRequest.HttpClientRequest = HttpClientRequest.get("/sandbox/sb-1?verbose=true&token=q"),
  options: Partial<DaytonaConfig.Options> = {}
) =>
  Effect.gen(function* () {
    const fake = yield* makeFake(handler)
    const error = yield* failureOf(
      Effect.flatMap(DaytonaClient, (client) => client.send(request)).pipe(
        Effect.provide(layerWith(fake.client, options))
      )
    )
    return { error, requests: yield* fake.requests }
  })

/** A request to the sandbox's toolbox through the real ToolboxClient over a fresh fake. */
const toolbox = (
  handler: Handler,
  request: HttpClientRequest.HttpClientRequest = HttpClientRequest.get("/files/info?path=/home/daytona/x")
) =>
  Effect.gen(function* () {
    const fake = yield* makeFake(handler)
    const error = yield* failureOf(
      Effect.flatMap(ToolboxClient, (client) => client.send(target, request)).pipe(
        Effect.provide(layerWith(fake.client))
      )
    )
    return { error, requests: yield* fake.requests }
  })

type ErrorClass =
  | typeof Errors.ValidationError
  | typeof Errors.AuthenticationError
  | typeof Errors.AuthorizationError
  | typeof Errors.NotFoundError
  | typeof Errors.ConflictError
  | typeof Errors.RateLimitedError
  | typeof Errors.UnexpectedResponseError

const statusText: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}

// ---------------------------------------------------------------------------------------------

describe("Transport: status → error class (control plane)", () => {
  const table: ReadonlyArray<readonly [number, string, ErrorClass]> = [
    [400, "ValidationError", Errors.ValidationError],
    [422, "ValidationError", Errors.ValidationError],
    [401, "AuthenticationError", Errors.AuthenticationError],
    [403, "AuthorizationError", Errors.AuthorizationError],
    [404, "NotFoundError", Errors.NotFoundError],
    [409, "ConflictError", Errors.ConflictError],
    [429, "RateLimitedError", Errors.RateLimitedError],
    [408, "UnexpectedResponseError", Errors.UnexpectedResponseError],
    [410, "UnexpectedResponseError", Errors.UnexpectedResponseError],
    [500, "UnexpectedResponseError", Errors.UnexpectedResponseError],
    [502, "UnexpectedResponseError", Errors.UnexpectedResponseError],
    [503, "UnexpectedResponseError", Errors.UnexpectedResponseError],
    [504, "UnexpectedResponseError", Errors.UnexpectedResponseError]
  ]

  for (const [status, tag, constructor] of table) {
    it.effect(`${status} → ${tag} with status, method, path, errorCode, requestId and body`, () =>
      Effect.gen(function* () {
        const body = errorBody(status, statusText[status]!, `the server says ${status}`, "/api/sandbox/sb-1")
        const { error, requests } = yield* controlPlane(() => ({
          status,
          body,
          headers: { "x-request-id": `req-${status}` }
        }))
        assert.isTrue(error instanceof constructor, `not an instance of ${constructor.name}`)
        assert.isTrue(Errors.isDaytonaError(error))
        assert.deepStrictEqual(fieldsOf(error), {
          _tag: tag,
          message: `GET /api/sandbox/sb-1 → ${status}: the server says ${status}`,
          status,
          method: "GET",
          path: "/api/sandbox/sb-1",
          errorCode: statusText[status],
          requestId: `req-${status}`,
          body: JSON.stringify(body)
        })
        if (error._tag === "UnexpectedResponseError") assert.strictEqual(error.reason, "Status")
        // RetryPolicy.none in the fake layer: exactly one request.
        assert.strictEqual(requests.length, 1)
        assert.strictEqual(requests[0]!.path, "/api/sandbox/sb-1")
        assert.deepStrictEqual(requests[0]!.query, [
          ["verbose", "true"],
          ["token", "q"]
        ])
      })
    )
  }

  it.effect("429 carries retryAfter from Retry-After", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({
        status: 429,
        body: errorBody(429, "Too Many Requests", "ThrottlerException: Too Many Requests"),
        headers: { "retry-after": "7" }
      }))
      if (error._tag !== "RateLimitedError") return assert.fail(`got ${error._tag}`)
      assert.isDefined(error.retryAfter)
      assert.isTrue(Duration.equals(error.retryAfter!, Duration.seconds(7)))
      assert.strictEqual(error.message, "GET /api/sandbox/sb-1 → 429: ThrottlerException: Too Many Requests")
      assert.strictEqual(error.errorCode, "Too Many Requests")
    })
  )

  it.effect("429 without any Retry-After header has no retryAfter", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({ status: 429, body: errorBody(429, "Too Many Requests", "slow") }))
      if (error._tag !== "RateLimitedError") return assert.fail(`got ${error._tag}`)
      assert.isUndefined(error.retryAfter)
    })
  )

  it.effect("408 on the control plane is not a command timeout", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({ status: 408, body: errorBody(408, "Request Timeout", "slow") }))
      assert.strictEqual(error._tag, "UnexpectedResponseError")
      assert.notInstanceOf(error, Errors.CommandTimeoutError)
    })
  )

  it.effect("a POST failure reports the POST method and the path without the query", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(
        () => ({ status: 409, body: errorBody(409, "Conflict", "Sandbox state change in progress") }),
        HttpClientRequest.post("/sandbox/sb-1/start?force=true")
      )
      assert.deepStrictEqual(fieldsOf(error), {
        _tag: "ConflictError",
        message: "POST /api/sandbox/sb-1/start → 409: Sandbox state change in progress",
        status: 409,
        method: "POST",
        path: "/api/sandbox/sb-1/start",
        errorCode: "Conflict",
        requestId: undefined,
        body: JSON.stringify(errorBody(409, "Conflict", "Sandbox state change in progress"))
      })
    })
  )
})

describe("Transport: status → error class (toolbox)", () => {
  const toolboxBody = (statusCode: number, code: string, message: string) => ({
    statusCode,
    message,
    code,
    timestamp: "2026-11-29T12:00:00Z",
    path: "/files/info",
    method: "GET"
  })

  const table: ReadonlyArray<readonly [number, string, string]> = [
    [400, "BAD_REQUEST", "ValidationError"],
    [401, "UNAUTHORIZED", "AuthenticationError"],
    [403, "FORBIDDEN", "AuthorizationError"],
    [404, "NOT_FOUND", "NotFoundError"],
    [408, "REQUEST_TIMEOUT", "CommandTimeoutError"],
    [409, "CONFLICT", "ConflictError"],
    [410, "GONE", "UnexpectedResponseError"],
    [422, "UNPROCESSABLE_ENTITY", "ValidationError"],
    [500, "INTERNAL_SERVER_ERROR", "UnexpectedResponseError"]
  ]

  for (const [status, code, tag] of table) {
    it.effect(`toolbox ${status} {statusCode,message,code,…} → ${tag}, errorCode ${code}`, () =>
      Effect.gen(function* () {
        const body = toolboxBody(status, code, `daemon says ${code}`)
        const { error, requests } = yield* toolbox(() => ({ status, body, headers: { "x-request-id": "tb-req" } }))
        assert.deepStrictEqual(fieldsOf(error), {
          _tag: tag,
          message: `GET /toolbox/sb-1/files/info → ${status}: daemon says ${code}`,
          status,
          method: "GET",
          path: "/toolbox/sb-1/files/info",
          errorCode: code,
          requestId: "tb-req",
          body: JSON.stringify(body)
        })
        assert.strictEqual(requests.length, 1)
        assert.strictEqual(requests[0]!.url.origin + requests[0]!.path, `${toolboxProxyUrl}/sb-1/files/info`)
      })
    )
  }

  it.effect("toolbox 408 without a body is still a CommandTimeoutError", () =>
    Effect.gen(function* () {
      const { error } = yield* toolbox(() => ({ status: 408 }))
      assert.instanceOf(error, Errors.CommandTimeoutError)
      assert.strictEqual(error.message, "GET /toolbox/sb-1/files/info → 408: no error message")
    })
  )

  it.effect("toolbox empty-body 400 (AbortWithError) is a ValidationError with no body or code", () =>
    Effect.gen(function* () {
      const { error } = yield* toolbox(() => ({ status: 400 }), HttpClientRequest.post("/process/session/s1/exec"))
      assert.deepStrictEqual(fieldsOf(error), {
        _tag: "ValidationError",
        message: "POST /toolbox/sb-1/process/session/s1/exec → 400: no error message",
        status: 400,
        method: "POST",
        path: "/toolbox/sb-1/process/session/s1/exec",
        errorCode: undefined,
        requestId: undefined,
        body: undefined
      })
    })
  )
})

describe("Transport: error bodies", () => {
  it.effect("errorCode prefers code, then error_code, then error", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string | undefined]> = [
        [{ code: "A", error_code: "B", error: "C", message: "m" }, "A"],
        [{ error_code: "B", error: "C", message: "m" }, "B"],
        [{ error: "C", message: "m" }, "C"],
        [{ code: 42, error_code: "B", message: "m" }, "B"],
        [{ message: "m" }, undefined]
      ]
      for (const [body, expected] of cases) {
        const { error } = yield* controlPlane(() => ({ status: 404, body }))
        assert.strictEqual(fieldsOf(error).errorCode, expected, JSON.stringify(body))
      }
    })
  )

  it.effect("array messages are joined with ', '", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({
        status: 400,
        body: {
          statusCode: 400,
          error: "Bad Request",
          message: ["cpu must not be less than 0", "name must not contain HTML tags"]
        }
      }))
      assert.strictEqual(
        error.message,
        "GET /api/sandbox/sb-1 → 400: cpu must not be less than 0, name must not contain HTML tags"
      )
    })
  )

  it.effect("a body with only `error` uses it as the message", () =>
    Effect.gen(function* () {
      const { error } = yield* toolbox(() => ({ status: 500, body: { error: "pty not found" } }))
      assert.strictEqual(error.message, "GET /toolbox/sb-1/files/info → 500: pty not found")
      assert.strictEqual(fieldsOf(error).errorCode, "pty not found")
    })
  )

  it.effect("an empty body is tolerated", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({ status: 503 }))
      assert.deepStrictEqual(fieldsOf(error), {
        _tag: "UnexpectedResponseError",
        message: "GET /api/sandbox/sb-1 → 503: no error message",
        status: 503,
        method: "GET",
        path: "/api/sandbox/sb-1",
        errorCode: undefined,
        requestId: undefined,
        body: undefined
      })
    })
  )

  it.effect("a whitespace-only body is tolerated", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({ status: 502, body: "  \n" }))
      assert.strictEqual(error.message, "GET /api/sandbox/sb-1 → 502: no error message")
      assert.strictEqual(fieldsOf(error).body, "  \n")
    })
  )

  it.effect("a non-JSON body (proxy HTML) is kept as the message and the excerpt", () =>
    Effect.gen(function* () {
      const html = "<html><body>502 Bad Gateway</body></html>"
      const { error } = yield* controlPlane(() => ({
        status: 502,
        body: html,
        headers: { "content-type": "text/html" }
      }))
      assert.deepStrictEqual(fieldsOf(error), {
        _tag: "UnexpectedResponseError",
        message: `GET /api/sandbox/sb-1 → 502: ${html}`,
        status: 502,
        method: "GET",
        path: "/api/sandbox/sb-1",
        errorCode: undefined,
        requestId: undefined,
        body: html
      })
    })
  )

  it.effect("JSON that is not an object (an array, a string) is tolerated", () =>
    Effect.gen(function* () {
      const first = yield* controlPlane(() => ({ status: 500, body: "[1,2]" }))
      assert.strictEqual(first.error.message, "GET /api/sandbox/sb-1 → 500: [1,2]")
      assert.isUndefined(fieldsOf(first.error).errorCode)
      const second = yield* controlPlane(() => ({ status: 500, body: '"oops"' }))
      assert.strictEqual(second.error.message, 'GET /api/sandbox/sb-1 → 500: "oops"')
    })
  )

  it.effect("the body excerpt is bounded (1024 chars) and a raw message to 200 chars", () =>
    Effect.gen(function* () {
      const long = "x".repeat(5000)
      const { error } = yield* controlPlane(() => ({ status: 500, body: long }))
      assert.strictEqual(fieldsOf(error).body, "x".repeat(1024))
      assert.strictEqual(error.message, `GET /api/sandbox/sb-1 → 500: ${"x".repeat(200)}`)
    })
  )
})

describe("Transport: secrets", () => {
  const leaks = (error: object, secret: string) => {
    const r = error as Record<string, unknown>
    const texts = [
      String(error),
      (error as Error).message,
      JSON.stringify(error),
      inspect(error, { depth: 5 }),
      ...Object.values(r).map((v) => (typeof v === "string" ? v : ""))
    ]
    return texts.some((text) => text.includes(secret))
  }

  it.effect("the API key echoed in an error body is scrubbed from message, body, errorCode", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({
        status: 401,
        body: { statusCode: 401, code: `bad-${apiKey}`, message: `Invalid credentials: Bearer ${apiKey}` }
      }))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.isFalse(leaks(error, apiKey))
      assert.strictEqual(error.message, "GET /api/sandbox/sb-1 → 401: Invalid credentials: Bearer <redacted>")
      assert.strictEqual(fieldsOf(error).errorCode, "bad-<redacted>")
      assert.include(String(fieldsOf(error).body), "<redacted>")
    })
  )

  it.effect("the API key echoed in a non-JSON body is scrubbed", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({ status: 500, body: `token=${apiKey};` }))
      assert.isFalse(leaks(error, apiKey))
      assert.strictEqual(error.message, "GET /api/sandbox/sb-1 → 500: token=<redacted>;")
    })
  )

  it.effect("the API key echoed in the toolbox body is scrubbed", () =>
    Effect.gen(function* () {
      const { error } = yield* toolbox(() => ({
        status: 408,
        body: { statusCode: 408, code: "REQUEST_TIMEOUT", message: `echo ${apiKey} timed out` }
      }))
      assert.strictEqual(error._tag, "CommandTimeoutError")
      assert.isFalse(leaks(error, apiKey))
    })
  )

  it.effect("a JWT echoed in a body is scrubbed too", () =>
    Effect.gen(function* () {
      const jwt = "eyJhbGciOiJSUzI1NiJ9.payload.signature"
      const { error } = yield* controlPlane(
        () => ({ status: 403, body: errorBody(403, "Forbidden", `token ${jwt} lacks org`) }),
        HttpClientRequest.get("/sandbox"),
        { apiKey: undefined, jwtToken: Redacted.make(jwt), organizationId: "org-1" }
      )
      assert.strictEqual(error._tag, "AuthorizationError")
      assert.isFalse(leaks(error, jwt))
    })
  )

  it.effect("the API key echoed in an undecodable 2xx body is scrubbed (excerpt and message)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: { id: apiKey } }))
      const error = yield* failureOf(
        Effect.flatMap(DaytonaClient, (client) =>
          client.json(HttpClientRequest.get("/sandbox/sb-1"), Schema.Struct({ id: Schema.Number }))
        ).pipe(Effect.provide(layerWith(fake.client)))
      )
      assert.strictEqual(error._tag, "UnexpectedResponseError")
      assert.isFalse(leaks(error, apiKey))
    })
  )

  it.effect("the API key never appears in a timeout or transport error", () =>
    Effect.gen(function* () {
      const reset = yield* controlPlane(() => ({ transportError: "reset" }))
      assert.strictEqual(reset.error._tag, "TransportError")
      assert.isFalse(leaks(reset.error, apiKey))
    })
  )
})

describe("Transport: headers", () => {
  const sendOk = (options: Partial<DaytonaConfig.Options> = {}) =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      yield* Effect.gen(function* () {
        const cp = yield* DaytonaClient
        const tb = yield* ToolboxClient
        yield* cp.discard(HttpClientRequest.get("/sandbox"))
        yield* tb.send(target, HttpClientRequest.get("/files?path=/tmp"))
      }).pipe(Effect.provide(layerWith(fake.client, options)))
      return yield* fake.requests
    })

  it.effect("API key: Bearer, source, protocol version, user agent, no organization header", () =>
    Effect.gen(function* () {
      const requests = yield* sendOk()
      assert.strictEqual(requests.length, 2)
      assert.strictEqual(requests[0]!.url.href, "https://daytona.test/api/sandbox")
      assert.strictEqual(requests[1]!.url.href, `${toolboxProxyUrl}/sb-1/files?path=/tmp`)
      for (const request of requests) {
        assert.strictEqual(request.headers["authorization"], `Bearer ${apiKey}`)
        assert.strictEqual(request.headers["x-daytona-source"], "effect-daytona")
        assert.strictEqual(request.headers["x-daytona-sdk-version"], "0.190.0")
        assert.strictEqual(request.headers["user-agent"], `effect-daytona/${sdkVersion}`)
        assert.match(request.headers["user-agent"]!, /^effect-daytona\/\d+\.\d+\.\d+/)
        assert.isUndefined(request.headers["x-daytona-organization-id"])
      }
    })
  )

  it.effect("JWT: Bearer <jwt> and x-daytona-organization-id on both sides", () =>
    Effect.gen(function* () {
      const requests = yield* sendOk({
        apiKey: undefined,
        jwtToken: Redacted.make("eyJ.jwt.token"),
        organizationId: "org-42"
      })
      assert.strictEqual(requests.length, 2)
      for (const request of requests) {
        assert.strictEqual(request.headers["authorization"], "Bearer eyJ.jwt.token")
        assert.strictEqual(request.headers["x-daytona-organization-id"], "org-42")
        assert.strictEqual(request.headers["x-daytona-source"], "effect-daytona")
        assert.strictEqual(request.headers["x-daytona-sdk-version"], "0.190.0")
      }
    })
  )

  it.effect("an API key wins over a JWT and sends no organization header", () =>
    Effect.gen(function* () {
      const requests = yield* sendOk({ jwtToken: Redacted.make("eyJ.jwt.token"), organizationId: "org-42" })
      assert.strictEqual(requests[0]!.headers["authorization"], `Bearer ${apiKey}`)
      assert.isUndefined(requests[0]!.headers["x-daytona-organization-id"])
    })
  )

  it.effect("a caller-set Authorization is replaced by the configured credentials", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      yield* Effect.flatMap(DaytonaClient, (client) =>
        client.discard(
          HttpClientRequest.get("/sandbox").pipe(HttpClientRequest.setHeader("authorization", "Bearer other"))
        )
      ).pipe(Effect.provide(layerWith(fake.client)))
      const requests = yield* fake.requests
      assert.strictEqual(requests[0]!.headers["authorization"], `Bearer ${apiKey}`)
    })
  )
})

describe("Transport: bodies of successful responses", () => {
  const Dto = Schema.Struct({ id: Schema.String, cpu: Schema.Number })

  const decode = (reply: ReturnType<Handler>) =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => reply)
      return yield* Effect.flatMap(DaytonaClient, (client) =>
        client.json(HttpClientRequest.get("/sandbox/sb-1"), Dto)
      ).pipe(Effect.provide(layerWith(fake.client)))
    })

  it.effect("a matching body decodes", () =>
    Effect.gen(function* () {
      const value = yield* decode({ status: 200, body: { id: "sb-1", cpu: 2, extra: true } })
      assert.deepStrictEqual(value, { id: "sb-1", cpu: 2 })
    })
  )

  it.effect("a body that does not match the schema → UnexpectedResponseError InvalidBody, no ParseError", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(decode({ status: 200, body: { id: "sb-1", cpu: "two" } }))
      assert.strictEqual(error._tag, "UnexpectedResponseError")
      if (error._tag !== "UnexpectedResponseError") return
      assert.strictEqual(error.reason, "InvalidBody")
      assert.strictEqual(error.status, 200)
      assert.strictEqual(error.method, "GET")
      assert.strictEqual(error.path, "/api/sandbox/sb-1")
      assert.strictEqual(error.body, JSON.stringify({ id: "sb-1", cpu: "two" }))
      assert.include(error.message, "GET /api/sandbox/sb-1 → 200: the response does not match the contract")
      assert.include(error.message, "cpu")
    })
  )

  it.effect("a body that is not JSON → InvalidBody", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(decode({ status: 200, body: "<html>login</html>" }))
      assert.deepStrictEqual(
        { ...fieldsOf(error), reason: (error as Errors.UnexpectedResponseError).reason },
        {
          _tag: "UnexpectedResponseError",
          message: "GET /api/sandbox/sb-1 → 200: the response does not match the contract: the body is not JSON",
          status: 200,
          method: "GET",
          path: "/api/sandbox/sb-1",
          errorCode: undefined,
          requestId: undefined,
          body: "<html>login</html>",
          reason: "InvalidBody"
        }
      )
    })
  )

  it.effect("an empty 2xx body where JSON is expected → InvalidBody without an excerpt", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(decode({ status: 201 }))
      assert.strictEqual(error._tag, "UnexpectedResponseError")
      assert.strictEqual((error as Errors.UnexpectedResponseError).reason, "InvalidBody")
      assert.strictEqual((error as Errors.UnexpectedResponseError).status, 201)
      assert.isUndefined((error as Errors.UnexpectedResponseError).body)
    })
  )

  it.effect("no HttpClientError or ParseError escapes: every failure is a member of the family", () =>
    Effect.gen(function* () {
      const replies: ReadonlyArray<ReturnType<Handler>> = [
        { status: 200, body: "nope" },
        { status: 200, body: { id: 1 } },
        { status: 500, body: "nope" },
        { transportError: "refused" },
        { transportError: "reset" }
      ]
      for (const reply of replies) {
        const error = yield* failureOf(decode(reply))
        assert.isTrue(Errors.isDaytonaError(error), `not a Daytona error: ${String(error)}`)
        assert.notInclude(["RequestError", "ResponseError", "ParseError", "UnknownException"], error._tag)
      }
    })
  )

  it.effect("toolbox json: InvalidBody with the toolbox path", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: [] }))
      const error = yield* failureOf(
        Effect.flatMap(ToolboxClient, (client) => client.json(target, HttpClientRequest.get("/files/info"), Dto)).pipe(
          Effect.provide(layerWith(fake.client))
        )
      )
      assert.strictEqual(error._tag, "UnexpectedResponseError")
      assert.strictEqual((error as Errors.UnexpectedResponseError).reason, "InvalidBody")
      assert.strictEqual((error as Errors.UnexpectedResponseError).path, "/toolbox/sb-1/files/info")
    })
  )
})

describe("Transport: connection failures", () => {
  it.effect("connection refused → TransportError Connection, sent: false", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({ transportError: "refused" }))
      if (error._tag !== "TransportError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.reason, "Connection")
      assert.strictEqual(error.sent, false)
      assert.strictEqual(error.method, "GET")
      assert.strictEqual(error.path, "/api/sandbox/sb-1")
      assert.include(error.message, "GET /api/sandbox/sb-1: connection failure")
    })
  )

  it.effect("connection reset → TransportError Connection, sent: true", () =>
    Effect.gen(function* () {
      const { error } = yield* controlPlane(() => ({ transportError: "reset" }))
      if (error._tag !== "TransportError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.reason, "Connection")
      assert.strictEqual(error.sent, true)
    })
  )
})

describe("Transport: request timeout", () => {
  it.effect("a hanging request fails with RequestTimeoutError after exactly requestTimeout", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ hang: true }))
      const fiber = yield* Effect.fork(
        failureOf(
          Effect.flatMap(DaytonaClient, (client) => client.send(HttpClientRequest.get("/sandbox/sb-1?x=1"))).pipe(
            Effect.provide(layerWith(fake.client, { requestTimeout: "30 seconds" }))
          )
        )
      )
      yield* TestClock.adjust(Duration.millis(29_999))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "failed before the request timeout")
      yield* TestClock.adjust(Duration.millis(1))
      const error = yield* Fiber.join(fiber)
      if (error._tag !== "RequestTimeoutError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.method, "GET")
      assert.strictEqual(error.path, "/api/sandbox/sb-1")
      assert.isTrue(Duration.equals(error.timeout, Duration.seconds(30)))
      assert.strictEqual(error.message, "GET /api/sandbox/sb-1: no response within 30s (request timeout)")
      assert.strictEqual((yield* fake.requests).length, 1)
    })
  )

  it.effect("a request made where interruption is off (a scope's finaliser) still times out", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ hang: true }))
      const fiber = yield* Effect.fork(
        Effect.uninterruptible(
          failureOf(
            Effect.flatMap(DaytonaClient, (client) => client.send(HttpClientRequest.del("/sandbox/sb-1"))).pipe(
              Effect.provide(layerWith(fake.client, { requestTimeout: "5 seconds" }))
            )
          )
        )
      )
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RequestTimeoutError")
    })
  )

  it.effect("an interruption arriving where interruption is off does not cut the request short", () =>
    Effect.gen(function* () {
      const answered = yield* Deferred.make<number>()
      const slow = HttpClient.make((request) =>
        Effect.sleep("2 seconds").pipe(
          Effect.as(HttpClientResponse.fromWeb(request, new Response(null, { status: 204 }))),
          Effect.tap(() => Deferred.succeed(answered, 204))
        )
      )
      const outcome = yield* Deferred.make<number, unknown>()
      const fiber = yield* Effect.fork(
        Effect.uninterruptible(
          Effect.flatMap(DaytonaClient, (client) => client.send(HttpClientRequest.del("/sandbox/sb-1"))).pipe(
            Effect.provide(layerWith(slow, { requestTimeout: "5 seconds" })),
            Effect.map((response) => response.status),
            Effect.exit,
            Effect.flatMap((exit) => Deferred.done(outcome, exit))
          )
        )
      )
      yield* TestClock.adjust("1 second")
      const interruption = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Deferred.await(answered), 204)
      assert.strictEqual(yield* Deferred.await(outcome), 204)
      yield* Fiber.join(interruption)
    })
  )

  it.effect("the default request timeout is 60 seconds", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ hang: true }))
      const fiber = yield* Effect.fork(
        failureOf(
          Effect.flatMap(DaytonaClient, (client) => client.send(HttpClientRequest.get("/sandbox"))).pipe(
            Effect.provide(layerWith(fake.client))
          )
        )
      )
      yield* TestClock.adjust("59999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "RequestTimeoutError")
    })
  )

  it.effect("a per-request timeout overrides the configured one (toolbox)", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ hang: true }))
      const fiber = yield* Effect.fork(
        failureOf(
          Effect.flatMap(ToolboxClient, (client) =>
            client.send(target, HttpClientRequest.get("/files"), { timeout: Duration.seconds(5) })
          ).pipe(Effect.provide(layerWith(fake.client, { requestTimeout: "30 seconds" })))
        )
      )
      yield* TestClock.adjust("4999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      if (error._tag !== "RequestTimeoutError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.path, "/toolbox/sb-1/files")
      assert.isTrue(Duration.equals(error.timeout, Duration.seconds(5)))
    })
  )

  it.effect("a response before the timeout succeeds", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 204 }))
      const response = yield* Effect.flatMap(DaytonaClient, (client) =>
        client.send(HttpClientRequest.del("/sandbox/sb-1"))
      ).pipe(Effect.provide(layerWith(fake.client, { requestTimeout: "1 second" })))
      assert.strictEqual(response.status, 204)
    })
  )
})
