/**
 * Where Daytona is, who the caller is, and the budgets every request runs under.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { MissingCredentialsError, ValidationError } from "./DaytonaError.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * Daytona's cloud API.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultApiUrl = "https://app.daytona.io/api"

/**
 * How requests authenticate: an organization's API key, or a user's JWT with the organization it
 * acts for (sent as `X-Daytona-Organization-ID`).
 *
 * @since 0.1.0
 * @category models
 */
export type Credentials =
  | { readonly _tag: "ApiKey"; readonly apiKey: Redacted.Redacted<string> }
  | { readonly _tag: "Jwt"; readonly token: Redacted.Redacted<string>; readonly organizationId: string }

/**
 * The resolved configuration.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Base URL of the control plane, ending in `/api`, without a trailing slash. */
  readonly apiUrl: string
  readonly credentials: Credentials
  /** The region new sandboxes go to; the organization's default when absent. */
  readonly target: string | undefined
  /** How long one HTTP request may take to answer (headers), per attempt. */
  readonly requestTimeout: Duration.Duration
  /** Default deadline of an operation that waits (create, start, stop, resize…), request included. */
  readonly operationTimeout: Duration.Duration
  readonly retryPolicy: RetryPolicy.RetryPolicy
  /** The longest `Retry-After` the SDK honours; a longer one ends retrying with the error. */
  readonly maxRetryAfter: Duration.Duration
  /**
   * How often a toolbox WebSocket (a followed log) is pinged; a ping without a pong by the next one
   * ends the connection with an error. `Duration.infinity` turns the heartbeat off.
   */
  readonly socketHeartbeat: Duration.Duration
  /**
   * Whether requests carry trace propagation headers (`traceparent`, `b3`): `true` always, `false`
   * never, unset (the default) only when the program runs with a tracer of its own rather than
   * Effect's built-in one.
   */
  readonly tracePropagation?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class DaytonaConfig extends Context.Tag("@effect-daytona/sdk/DaytonaConfig")<DaytonaConfig, Service>() {}

/**
 * What a caller may configure. Only credentials are required.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly jwtToken?: Redacted.Redacted<string> | undefined
  readonly organizationId?: string | undefined
  readonly apiUrl?: string | undefined
  readonly target?: string | undefined
  /** Default: 60 seconds (Daytona holds create and start for up to 30 s). */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Default: 60 seconds, as in the official SDKs. */
  readonly operationTimeout?: Duration.DurationInput | undefined
  readonly retryPolicy?: RetryPolicy.RetryPolicy | undefined
  /** Default: 60 seconds. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
  /**
   * Default: 15 seconds, so a silent connection is noticed within 30 s. Needs a connector whose
   * sockets can ping (`ws`'s can; a browser's `WebSocket` cannot, and then there is no heartbeat).
   */
  readonly socketHeartbeat?: Duration.DurationInput | undefined
  /**
   * Trace propagation headers (`traceparent`, `b3`) on requests: `true` always, `false` never. Unset
   * (the default): only when the program runs with a tracer of its own (for example
   * `@effect/opentelemetry`'s), not with Effect's built-in tracer, whose spans nobody collects.
   */
  readonly tracePropagation?: boolean | undefined
}

const nonEmpty = (value: string | undefined): value is string => value !== undefined && value.trim() !== ""

const positiveDuration = (field: string, input: Duration.DurationInput | undefined, fallback: Duration.Duration) => {
  if (input === undefined) return Effect.succeed(fallback)
  if (typeof input === "number" && (!Number.isFinite(input) || input <= 0)) {
    return Effect.fail(new ValidationError({ field, message: `${field} must be a positive duration, got ${input}` }))
  }
  const duration = Option.getOrElse(Duration.decodeUnknown(input), () => Duration.zero)
  return Duration.greaterThan(duration, Duration.zero)
    ? Effect.succeed(duration)
    : Effect.fail(new ValidationError({ field, message: `${field} must be a positive duration` }))
}

const resolve = (
  options: Options,
  names: { readonly apiKey: string; readonly jwtToken: string; readonly organizationId: string }
): Effect.Effect<Service, MissingCredentialsError | ValidationError> =>
  Effect.gen(function* () {
    const apiKey = options.apiKey !== undefined && nonEmpty(Redacted.value(options.apiKey)) ? options.apiKey : undefined
    const jwt =
      options.jwtToken !== undefined && nonEmpty(Redacted.value(options.jwtToken)) ? options.jwtToken : undefined
    let credentials: Credentials
    if (apiKey !== undefined) {
      credentials = { _tag: "ApiKey", apiKey }
    } else if (jwt !== undefined) {
      if (!nonEmpty(options.organizationId)) {
        return yield* new MissingCredentialsError({
          variable: names.organizationId,
          message: `${names.organizationId} is required with a JWT (${names.jwtToken})`
        })
      }
      credentials = { _tag: "Jwt", token: jwt, organizationId: options.organizationId }
    } else {
      return yield* new MissingCredentialsError({
        variable: names.apiKey,
        message: `${names.apiKey} is not set (or set ${names.jwtToken} together with ${names.organizationId})`
      })
    }
    const apiUrl = (nonEmpty(options.apiUrl) ? options.apiUrl.trim() : defaultApiUrl).replace(/\/+$/, "")
    if (!URL.canParse(apiUrl)) {
      return yield* new ValidationError({ field: "apiUrl", message: `apiUrl is not a URL: ${apiUrl}` })
    }
    return {
      apiUrl,
      credentials,
      target: nonEmpty(options.target) ? options.target : undefined,
      requestTimeout: yield* positiveDuration("requestTimeout", options.requestTimeout, Duration.seconds(60)),
      operationTimeout: yield* positiveDuration("operationTimeout", options.operationTimeout, Duration.seconds(60)),
      retryPolicy: options.retryPolicy ?? RetryPolicy.defaultPolicy,
      maxRetryAfter: yield* positiveDuration("maxRetryAfter", options.maxRetryAfter, Duration.seconds(60)),
      socketHeartbeat: yield* positiveDuration("socketHeartbeat", options.socketHeartbeat, Duration.seconds(15)),
      tracePropagation: options.tracePropagation
    }
  })

/**
 * Resolves options into a configuration, failing when credentials are missing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, MissingCredentialsError | ValidationError> =>
  resolve(options, { apiKey: "apiKey", jwtToken: "jwtToken", organizationId: "organizationId" })

/**
 * A layer from explicit options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<DaytonaConfig, MissingCredentialsError | ValidationError> =>
  Layer.effect(DaytonaConfig, make(options))

/**
 * The environment variables `layerConfig` reads.
 *
 * @since 0.1.0
 * @category constants
 */
export const environment = {
  apiKey: "DAYTONA_API_KEY",
  apiUrl: "DAYTONA_API_URL",
  target: "DAYTONA_TARGET",
  jwtToken: "DAYTONA_JWT_TOKEN",
  organizationId: "DAYTONA_ORGANIZATION_ID"
} as const

const optionalConfig = <A>(config: Config.Config<A>) => Config.map(Config.option(config), Option.getOrUndefined)

/**
 * The configuration read through Effect's `Config` (by default the process environment):
 * `DAYTONA_API_KEY`, `DAYTONA_API_URL` (default `https://app.daytona.io/api`), `DAYTONA_TARGET`,
 * `DAYTONA_JWT_TOKEN` and `DAYTONA_ORGANIZATION_ID`. Options given here take precedence over the
 * environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides: Options = {}
): Layer.Layer<DaytonaConfig, ConfigError.ConfigError | MissingCredentialsError | ValidationError> =>
  Layer.effect(
    DaytonaConfig,
    Effect.gen(function* () {
      const env = yield* Config.all({
        apiKey: optionalConfig(Config.redacted(environment.apiKey)),
        apiUrl: optionalConfig(Config.string(environment.apiUrl)),
        target: optionalConfig(Config.string(environment.target)),
        jwtToken: optionalConfig(Config.redacted(environment.jwtToken)),
        organizationId: optionalConfig(Config.string(environment.organizationId))
      })
      const merged: Options = {
        ...overrides,
        apiKey: overrides.apiKey ?? env.apiKey,
        apiUrl: overrides.apiUrl ?? env.apiUrl,
        target: overrides.target ?? env.target,
        jwtToken: overrides.jwtToken ?? env.jwtToken,
        organizationId: overrides.organizationId ?? env.organizationId
      }
      return yield* resolve(merged, environment)
    })
  )
