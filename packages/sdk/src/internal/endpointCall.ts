import type * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import { type ApiError, TransportError, type ValidationError } from "../DaytonaError.js"
import * as Endpoint from "../Endpoint.js"
import { expectStatus } from "./expect.js"
import * as Telemetry from "./telemetry.js"
import * as Transport from "./transport.js"

/** Per-call options of a declared endpoint: the transport's, and the body of a multipart request. @internal */
export interface CallOptions extends Omit<Transport.SendOptions, "idempotent"> {
  /** The body of an endpoint whose payload is multipart (built by the caller, often streamed). */
  readonly body?: HttpBody.HttpBody | undefined
  /** Header parameters of the contract (`X-Daytona-Organization-ID`, …). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * How a call of a `convergent` endpoint learns, after an ambiguous failure, whether its request
 * took effect. @internal
 */
export interface Reconcile<A> {
  /**
   * Reads the resource: `Some` with the answer to go on with when the request took effect (or is
   * under way), `None` when it shows that it did not (the request is then sent again, paced by the
   * retry policy). When the read itself fails, the call fails with the ambiguous error.
   */
  readonly reconcile: Effect.Effect<Option.Option<A>, unknown>
}

/**
 * The options a call of `T` takes: a `convergent` endpoint's call must say how to reconcile; the
 * others' options are optional. @internal
 */
export type CallOptionsArgs<T extends Endpoint.Any> = T["replay"] extends "convergent"
  ? [options: CallOptions & Reconcile<Endpoint.SuccessOf<T>>]
  : [options?: CallOptions]

/** What a call of `T` can fail with. @internal */
export type CallError<T extends Endpoint.Any> = ApiError | ValidationError | Endpoint.ErrorOf<Endpoint.ErrorsOf<T>>

/** The transport's replay rule of a declared endpoint. @internal */
export const ruleOf = (endpoint: Endpoint.Any): Transport.ReplayRule => ({
  replay: endpoint.replay,
  alreadyDone: endpoint.alreadyDone
})

/**
 * Sends a call of a declared endpoint under `base` and hands back the response: statuses the
 * endpoint does not declare become `UnexpectedResponseError`. The transport replays it by its
 * declaration (a `convergent` endpoint's response is handed back unreconciled: use {@link call}).
 * @internal
 */
export const execute = <T extends Endpoint.Any>(
  transport: Transport.Transport,
  base: string,
  endpoint: T,
  input: Endpoint.Input<T>,
  options: CallOptions = {}
): Effect.Effect<HttpClientResponse.HttpClientResponse, CallError<T>> => {
  const tags = endpoint.errors.map((status) => Endpoint.errorTagOf[status])
  return Endpoint.request(endpoint, input).pipe(
    Effect.flatMap((request) =>
      transport.send(
        HttpClientRequest.prependUrl(
          request.pipe(
            options.body === undefined ? (r) => r : HttpClientRequest.setBody(options.body),
            options.headers === undefined ? (r) => r : HttpClientRequest.setHeaders(options.headers)
          ),
          base
        ),
        {
          timeout: options.timeout,
          retry: options.retry,
          stream: options.stream,
          rule: ruleOf(endpoint),
          operation: Telemetry.operationOf(endpoint.name, input)
        }
      )
    ),
    expectStatus(...tags)
  ) as Effect.Effect<HttpClientResponse.HttpClientResponse, CallError<T>>
}

const decode = <T extends Endpoint.Any>(
  endpoint: T,
  secrets: ReadonlyArray<string>,
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>> => {
  const success: Endpoint.Success = endpoint.success
  switch (success._tag) {
    case "Json":
      return Transport.decodeJson(success.schema, secrets)(response) as Effect.Effect<
        Endpoint.SuccessOf<T>,
        CallError<T>
      >
    case "Text":
      return Transport.readText(response) as Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>>
    default:
      return Effect.as(Transport.discardBody(response), undefined as Endpoint.SuccessOf<T>)
  }
}

/** An error that hides an earlier attempt which may have run says so. */
const mayHaveRun = <E>(error: E): E =>
  error instanceof TransportError && !error.sent ? (new TransportError({ ...error, sent: true }) as E) : error

/**
 * Runs `once` (one send of a convergent request, with the transport's own replays of what never
 * ran) until it succeeds, or an ambiguous failure is reconciled: the resource read shows the request
 * took effect (its answer is the read's), or shows it did not and the policy allows another send.
 * @internal
 */
export const converge = <A, E>(
  transport: Transport.Transport,
  once: Effect.Effect<A, E>,
  reconcile: Effect.Effect<Option.Option<A>, unknown>,
  options: { readonly retry?: boolean | undefined } = {}
): Effect.Effect<A, E> =>
  Effect.gen(function* () {
    const driver = yield* Schedule.driver(transport.schedule)
    let ambiguous = false
    for (let attempt = 1; ; attempt++) {
      const result = yield* Effect.either(once)
      if (Either.isRight(result)) return result.right
      const failure = result.left
      if (!Transport.isAmbiguous(failure)) return yield* Effect.fail(ambiguous ? mayHaveRun(failure) : failure)
      ambiguous = true
      const seen = yield* Effect.either(reconcile)
      if (Either.isLeft(seen)) return yield* Effect.fail(failure)
      if (Option.isSome(seen.right)) return seen.right.value
      if (options.retry === false) return yield* Effect.fail(failure)
      const next = yield* Effect.either(
        driver.next({ error: failure as unknown as ApiError, attempt, retryAfter: undefined })
      )
      if (Either.isLeft(next)) return yield* Effect.fail(failure)
    }
  })

/**
 * Sends a call and decodes its answer: JSON by the declared schema, text as text, anything else
 * drained. A `convergent` endpoint's ambiguous failures are reconciled (see {@link converge}).
 * @internal
 */
export const call = <T extends Endpoint.Any>(
  transport: Transport.Transport,
  base: string,
  secrets: ReadonlyArray<string>,
  endpoint: T,
  input: Endpoint.Input<T>,
  ...args: CallOptionsArgs<T>
): Effect.Effect<Endpoint.SuccessOf<T>, CallError<T>> => {
  const options: CallOptions & Partial<Reconcile<Endpoint.SuccessOf<T>>> = args[0] ?? {}
  const once = Effect.flatMap(execute(transport, base, endpoint, input, options), (response) =>
    decode(endpoint, secrets, response)
  )
  if (endpoint.replay !== "convergent") return once
  if (options.reconcile === undefined) {
    return Effect.dieMessage(`${endpoint.name} is convergent: its call must say how to reconcile`)
  }
  return converge(transport, once, options.reconcile, { retry: options.retry })
}
