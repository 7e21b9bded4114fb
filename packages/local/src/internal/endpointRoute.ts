import * as Endpoint from "@effect-daytona/sdk/Endpoint"
import * as WireSchema from "@effect-daytona/sdk/WireSchema"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as ParseResult from "effect/ParseResult"
import { readBody } from "./http.js"

/** What a handler receives: the request's parts, decoded and checked by the endpoint's declaration. */
export interface Input<T extends Endpoint.Any> {
  readonly params: Endpoint.ParamsOf<T>
  readonly query: Endpoint.QueryOf<T>
  readonly payload: Endpoint.BodyOf<T>
}

/** Why a request does not fit its declaration, for the API to phrase in its own error body. */
export interface Rejection {
  /** The messages of each wrong part, in Daytona's wording. */
  readonly messages: ReadonlyArray<string>
  /** The request's body was not JSON, or not an object where one is declared. */
  readonly malformed?: string | undefined
}

/** Reads query parameters as the endpoint expects them: `key[]` (a form some clients send) is `key`. */
const normalizedQuery = (raw: Readonly<Record<string, string | ReadonlyArray<string>>>) => {
  const out: Record<string, string | ReadonlyArray<string>> = {}
  for (const [key, value] of Object.entries(raw)) {
    const name = key.endsWith("[]") ? key.slice(0, -2) : key
    const previous = out[name]
    const values = typeof value === "string" ? [value] : value
    out[name] =
      previous === undefined
        ? values.length === 1
          ? values[0]!
          : values
        : [...(typeof previous === "string" ? [previous] : previous), ...values]
  }
  return out
}

const rejected = (error: ParseResult.ParseError): Rejection => ({ messages: WireSchema.messages(error) })

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Decodes a request's path parameters, query and JSON body with an endpoint's declaration. A body is
 * read only when the declaration takes JSON; a multipart or streamed body is left to the handler.
 */
export const decodeInput = <T extends Endpoint.Any>(
  endpoint: T
): Effect.Effect<
  Input<T>,
  Rejection,
  HttpServerRequest.HttpServerRequest | HttpServerRequest.ParsedSearchParams | HttpRouter.RouteContext
> =>
  Effect.gen(function* () {
    const rawParams = yield* HttpRouter.params
    const rawQuery = yield* HttpServerRequest.ParsedSearchParams
    const params = yield* Endpoint.decodeParams(endpoint, rawParams).pipe(Effect.mapError(rejected))
    const query = yield* Endpoint.decodeQuery(endpoint, normalizedQuery(rawQuery)).pipe(Effect.mapError(rejected))
    if (endpoint.payload._tag !== "Json") {
      return { params, query, payload: undefined as Endpoint.BodyOf<T> }
    }
    const body = yield* readBody.pipe(
      Effect.mapError((error): Rejection => ({ messages: [], malformed: error.message }))
    )
    if (!isRecord(body)) {
      return yield* Effect.fail<Rejection>({ messages: [], malformed: "Request body must be a JSON object" })
    }
    const payload = yield* Endpoint.decodePayload(endpoint, body).pipe(Effect.mapError(rejected))
    return { params, query, payload }
  })

/**
 * The answer for a handler's result: a response it built itself as it is, else the declared answer in
 * its wire form (the handler's type guarantees it fits the declaration's encoded side) with the
 * declared status: JSON, text, or nothing.
 */
export const respond = <T extends Endpoint.Any>(
  endpoint: T,
  result: Endpoint.EncodedSuccessOf<T> | HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  if (HttpServerResponse.isServerResponse(result)) return result
  switch (endpoint.success._tag) {
    case "Json":
      return HttpServerResponse.unsafeJson(result, { status: endpoint.status })
    case "Text":
      return HttpServerResponse.text(String(result), { status: endpoint.status })
    default:
      return HttpServerResponse.empty({ status: endpoint.status })
  }
}

/** The router path of a declaration. */
export const routerPath = (endpoint: Endpoint.Any) => Endpoint.routerPath(endpoint.path) as HttpRouter.PathInput
