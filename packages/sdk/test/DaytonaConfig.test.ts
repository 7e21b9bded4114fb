import { assert, describe, it } from "@effect/vitest"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { inspect } from "node:util"
import * as Daytona from "../src/Daytona.js"
import { DaytonaClient } from "../src/DaytonaClient.js"
import * as DaytonaConfig from "../src/DaytonaConfig.js"
import * as RetryPolicy from "../src/RetryPolicy.js"
import { makeFake } from "./support/FakeHttp.js"

// ---------------------------------------------------------------------------------------------
// Local helpers
// ---------------------------------------------------------------------------------------------

const key = "dtn_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"

const fromMap = (entries: Record<string, string>) => ConfigProvider.fromMap(new Map(Object.entries(entries)))

/** The configuration `layer` resolves. */
const fromOptions = (options: DaytonaConfig.Options) =>
  Effect.provide(DaytonaConfig.DaytonaConfig, DaytonaConfig.layer(options))

/** The configuration `layerConfig` resolves from an environment map. */
const fromEnv = (env: Record<string, string>, overrides?: DaytonaConfig.Options) =>
  DaytonaConfig.DaytonaConfig.pipe(
    Effect.provide(DaytonaConfig.layerConfig(overrides)),
    Effect.withConfigProvider(fromMap(env))
  )

/** Runs `self` and returns its typed failure, failing the test on success or defects. */
const failureOf = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<E, never, R> =>
  Effect.gen(function* () {
    const exit = yield* Effect.exit(self)
    if (Exit.isSuccess(exit)) return assert.fail("expected a failure, got a success")
    const failure = Cause.failureOption(exit.cause)
    if (Option.isNone(failure) || Cause.isDie(exit.cause)) {
      return assert.fail(`expected a typed failure only, got ${Cause.pretty(exit.cause)}`)
    }
    return failure.value
  })

const apiKeyOf = (config: DaytonaConfig.Service): string => {
  if (config.credentials._tag !== "ApiKey")
    return assert.fail(`expected ApiKey credentials, got ${config.credentials._tag}`)
  return Redacted.value(config.credentials.apiKey)
}

// ---------------------------------------------------------------------------------------------

describe("DaytonaConfig.layer(options)", () => {
  it.effect("resolves defaults: URL, 60 s budgets, default retry policy, no target", () =>
    Effect.gen(function* () {
      const config = yield* fromOptions({ apiKey: Redacted.make(key) })
      assert.strictEqual(config.apiUrl, "https://app.daytona.io/api")
      assert.strictEqual(DaytonaConfig.defaultApiUrl, "https://app.daytona.io/api")
      assert.strictEqual(apiKeyOf(config), key)
      assert.isUndefined(config.target)
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.seconds(60)))
      assert.isTrue(Duration.equals(config.operationTimeout, Duration.seconds(60)))
      assert.isTrue(Duration.equals(config.maxRetryAfter, Duration.seconds(60)))
      assert.strictEqual(config.retryPolicy, RetryPolicy.defaultPolicy)
    })
  )

  it.effect("takes every option given", () =>
    Effect.gen(function* () {
      const config = yield* fromOptions({
        apiKey: Redacted.make(key),
        apiUrl: "http://127.0.0.1:3986/api",
        target: "eu",
        requestTimeout: "15 seconds",
        operationTimeout: Duration.minutes(3),
        maxRetryAfter: 5_000,
        retryPolicy: RetryPolicy.none
      })
      assert.strictEqual(config.apiUrl, "http://127.0.0.1:3986/api")
      assert.strictEqual(config.target, "eu")
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.seconds(15)))
      assert.isTrue(Duration.equals(config.operationTimeout, Duration.minutes(3)))
      assert.isTrue(Duration.equals(config.maxRetryAfter, Duration.seconds(5)))
      assert.strictEqual(config.retryPolicy, RetryPolicy.none)
    })
  )

  it.effect("trailing slashes are removed from the API URL", () =>
    Effect.gen(function* () {
      for (const [input, expected] of [
        ["https://daytona.example/api/", "https://daytona.example/api"],
        ["https://daytona.example/api///", "https://daytona.example/api"],
        ["  https://daytona.example/api  ", "https://daytona.example/api"]
      ] as const) {
        const config = yield* fromOptions({ apiKey: Redacted.make(key), apiUrl: input })
        assert.strictEqual(config.apiUrl, expected, input)
      }
    })
  )

  it.effect("an empty apiUrl or target falls back to the defaults", () =>
    Effect.gen(function* () {
      const config = yield* fromOptions({ apiKey: Redacted.make(key), apiUrl: "  ", target: "" })
      assert.strictEqual(config.apiUrl, "https://app.daytona.io/api")
      assert.isUndefined(config.target)
    })
  )

  it.effect("an apiUrl that is not a URL is a ValidationError on apiUrl", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(fromOptions({ apiKey: Redacted.make(key), apiUrl: "daytona.example/api" }))
      if (error._tag !== "ValidationError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.field, "apiUrl")
      assert.strictEqual(error.message, "apiUrl is not a URL: daytona.example/api")
    })
  )

  it.effect("no credentials → MissingCredentialsError naming the option", () =>
    Effect.gen(function* () {
      for (const options of [{}, { apiKey: Redacted.make("") }, { apiKey: Redacted.make("   ") }]) {
        const error = yield* failureOf(fromOptions(options))
        if (error._tag !== "MissingCredentialsError") return assert.fail(`got ${error._tag}`)
        assert.strictEqual(error.variable, "apiKey")
      }
    })
  )

  it.effect("a JWT needs an organization id", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(fromOptions({ jwtToken: Redacted.make(jwt) }))
      if (error._tag !== "MissingCredentialsError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.variable, "organizationId")
      assert.strictEqual(error.message, "organizationId is required with a JWT (jwtToken)")
      assert.notInclude(error.message, jwt)
    })
  )

  it.effect("a JWT with an organization id gives Jwt credentials", () =>
    Effect.gen(function* () {
      const config = yield* fromOptions({ jwtToken: Redacted.make(jwt), organizationId: "org-7" })
      if (config.credentials._tag !== "Jwt") return assert.fail(`got ${config.credentials._tag}`)
      assert.strictEqual(Redacted.value(config.credentials.token), jwt)
      assert.strictEqual(config.credentials.organizationId, "org-7")
    })
  )

  it.effect("an API key takes precedence over a JWT", () =>
    Effect.gen(function* () {
      const config = yield* fromOptions({
        apiKey: Redacted.make(key),
        jwtToken: Redacted.make(jwt),
        organizationId: "o"
      })
      assert.strictEqual(apiKeyOf(config), key)
    })
  )

  describe("invalid durations are ValidationErrors naming the field", () => {
    const invalid: ReadonlyArray<readonly [string, Duration.DurationInput]> = [
      ["0", 0],
      ["-1", -1],
      ["NaN", Number.NaN],
      ["Infinity (number)", Number.POSITIVE_INFINITY],
      ['"-5 seconds"', "-5 seconds"],
      ['"0 seconds"', "0 seconds"],
      ["Duration.zero", Duration.zero],
      ['"soon" (not a duration)', "soon" as Duration.DurationInput]
    ]
    for (const field of ["requestTimeout", "operationTimeout", "maxRetryAfter"] as const) {
      for (const [name, input] of invalid) {
        it.effect(`${field}: ${name}`, () =>
          Effect.gen(function* () {
            const error = yield* failureOf(fromOptions({ apiKey: Redacted.make(key), [field]: input }))
            if (error._tag !== "ValidationError") return assert.fail(`got ${error._tag}`)
            assert.strictEqual(error.field, field)
            assert.include(error.message, `${field} must be a positive duration`)
          })
        )
      }
    }
  })
})

describe("DaytonaConfig.layerConfig()", () => {
  it.effect("reads DAYTONA_API_KEY, defaults the URL, no target", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ DAYTONA_API_KEY: key })
      assert.strictEqual(apiKeyOf(config), key)
      assert.strictEqual(config.apiUrl, "https://app.daytona.io/api")
      assert.isUndefined(config.target)
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.seconds(60)))
    })
  )

  it.effect("reads DAYTONA_API_URL (trailing slash removed) and DAYTONA_TARGET", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({
        DAYTONA_API_KEY: key,
        DAYTONA_API_URL: "http://localhost:3986/api/",
        DAYTONA_TARGET: "us"
      })
      assert.strictEqual(config.apiUrl, "http://localhost:3986/api")
      assert.strictEqual(config.target, "us")
    })
  )

  it.effect("reads DAYTONA_JWT_TOKEN with DAYTONA_ORGANIZATION_ID", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ DAYTONA_JWT_TOKEN: jwt, DAYTONA_ORGANIZATION_ID: "org-9" })
      if (config.credentials._tag !== "Jwt") return assert.fail(`got ${config.credentials._tag}`)
      assert.strictEqual(Redacted.value(config.credentials.token), jwt)
      assert.strictEqual(config.credentials.organizationId, "org-9")
    })
  )

  it.effect("no key → MissingCredentialsError naming DAYTONA_API_KEY", () =>
    Effect.gen(function* () {
      for (const env of [{}, { DAYTONA_API_KEY: "" }, { DAYTONA_API_URL: "http://localhost/api" }]) {
        const error = yield* failureOf(fromEnv(env))
        if (error._tag !== "MissingCredentialsError") return assert.fail(`got ${error._tag}`)
        assert.strictEqual(error.variable, "DAYTONA_API_KEY")
        assert.strictEqual(
          error.message,
          "DAYTONA_API_KEY is not set (or set DAYTONA_JWT_TOKEN together with DAYTONA_ORGANIZATION_ID)"
        )
      }
    })
  )

  it.effect("a JWT without an organization → MissingCredentialsError naming DAYTONA_ORGANIZATION_ID", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(fromEnv({ DAYTONA_JWT_TOKEN: jwt }))
      if (error._tag !== "MissingCredentialsError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.variable, "DAYTONA_ORGANIZATION_ID")
      assert.strictEqual(error.message, "DAYTONA_ORGANIZATION_ID is required with a JWT (DAYTONA_JWT_TOKEN)")
      assert.notInclude(error.message, jwt)
    })
  )

  it.effect("overrides take precedence over the environment", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv(
        { DAYTONA_API_KEY: "dtn_from_env_0000", DAYTONA_API_URL: "https://env.example/api", DAYTONA_TARGET: "us" },
        {
          apiKey: Redacted.make(key),
          apiUrl: "https://override.example/api/",
          target: "eu",
          requestTimeout: "5 seconds"
        }
      )
      assert.strictEqual(apiKeyOf(config), key)
      assert.strictEqual(config.apiUrl, "https://override.example/api")
      assert.strictEqual(config.target, "eu")
      assert.isTrue(Duration.equals(config.requestTimeout, Duration.seconds(5)))
    })
  )

  it.effect("overrides fill in what the environment lacks", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ DAYTONA_API_URL: "https://env.example/api" }, { apiKey: Redacted.make(key) })
      assert.strictEqual(apiKeyOf(config), key)
      assert.strictEqual(config.apiUrl, "https://env.example/api")
    })
  )

  it.effect("works with Layer.setConfigProvider too", () =>
    Effect.gen(function* () {
      const layer = DaytonaConfig.layerConfig().pipe(
        Layer.provide(Layer.setConfigProvider(fromMap({ DAYTONA_API_KEY: key, DAYTONA_TARGET: "eu" })))
      )
      const config = yield* Effect.provide(DaytonaConfig.DaytonaConfig, layer)
      assert.strictEqual(apiKeyOf(config), key)
      assert.strictEqual(config.target, "eu")
    })
  )

  it.effect("an invalid duration override is rejected", () =>
    Effect.gen(function* () {
      const error = yield* failureOf(fromEnv({ DAYTONA_API_KEY: key }, { operationTimeout: -5 }))
      if (error._tag !== "ValidationError") return assert.fail(`got ${error._tag}`)
      assert.strictEqual(error.field, "operationTimeout")
    })
  )

  it.effect("Daytona.layerConfig sends the environment's credentials and URL", () =>
    Effect.gen(function* () {
      const fake = yield* makeFake(() => ({ status: 200, body: {} }))
      yield* Effect.flatMap(DaytonaClient, (client) => client.discard(HttpClientRequest.get("/sandbox"))).pipe(
        Effect.provide(
          Daytona.layerConfig({ retryPolicy: RetryPolicy.none }).pipe(
            Layer.provide(Layer.succeed(HttpClient.HttpClient, fake.client))
          )
        ),
        Effect.withConfigProvider(
          fromMap({
            DAYTONA_JWT_TOKEN: jwt,
            DAYTONA_ORGANIZATION_ID: "org-env",
            DAYTONA_API_URL: "https://self-hosted.example/api/"
          })
        )
      )
      const requests = yield* fake.requests
      assert.strictEqual(requests.length, 1)
      assert.strictEqual(requests[0]!.url.href, "https://self-hosted.example/api/sandbox")
      assert.strictEqual(requests[0]!.headers["authorization"], `Bearer ${jwt}`)
      assert.strictEqual(requests[0]!.headers["x-daytona-organization-id"], "org-env")
    })
  )
})

describe("DaytonaConfig: secrets stay redacted", () => {
  it.effect("the API key does not show in String, JSON or inspect of the configuration", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ DAYTONA_API_KEY: key })
      if (config.credentials._tag !== "ApiKey") return assert.fail("expected ApiKey")
      assert.isTrue(Redacted.isRedacted(config.credentials.apiKey))
      assert.strictEqual(String(config.credentials.apiKey), "<redacted>")
      for (const text of [
        String(config),
        JSON.stringify(config),
        JSON.stringify(config.credentials),
        inspect(config, { depth: 10 }),
        `${config.credentials.apiKey}`
      ]) {
        assert.notInclude(text, key)
      }
      assert.include(JSON.stringify(config.credentials), "<redacted>")
    })
  )

  it.effect("the JWT does not show either", () =>
    Effect.gen(function* () {
      const config = yield* fromEnv({ DAYTONA_JWT_TOKEN: jwt, DAYTONA_ORGANIZATION_ID: "org-1" })
      if (config.credentials._tag !== "Jwt") return assert.fail("expected Jwt")
      assert.isTrue(Redacted.isRedacted(config.credentials.token))
      for (const text of [String(config), JSON.stringify(config), inspect(config, { depth: 10 })]) {
        assert.notInclude(text, jwt)
      }
      // The organization id is not a secret.
      assert.include(JSON.stringify(config), "org-1")
    })
  )
})
