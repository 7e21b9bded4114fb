/**
 * One declaration per endpoint of Daytona's wire contract: its method and path, the schemas of its
 * path parameters, query, body and answer, the statuses it answers on success and failure, and
 * whether a request to it may be replayed.
 *
 * The SDK builds every request from a declaration and decodes the answer with it, the local server
 * routes and validates with the same declaration, and the conformance test compares every declaration
 * with the contract snapshot read from Daytona's generated clients. Adding an endpoint is one
 * declaration here (in `ControlPlaneApi` or `ToolboxApi`), one SDK method and one server handler.
 *
 * @since 0.1.0
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import type {
  CommandTimeoutError,
  ConflictError,
  NotFoundError,
  StatusError,
  ValidationError as ValidationErrorType
} from "./DaytonaError.js"
import { ValidationError } from "./DaytonaError.js"
import * as WireSchema from "./WireSchema.js"

/**
 * The HTTP methods of the contract.
 *
 * @since 0.1.0
 * @category models
 */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/**
 * Which server an endpoint belongs to: the control plane (under the API URL) or the toolbox daemon
 * of one sandbox (under its toolbox proxy URL and id).
 *
 * @since 0.1.0
 * @category models
 */
export type Api = "control-plane" | "toolbox"

/**
 * What a repeated request does, which decides when the SDK may send it again after an ambiguous
 * failure (the connection dropped after sending, no answer in time, a body cut off, a 502/503/504):
 *
 * - `safe`: the same request has the same effect once or twice (reads, deletes, uploads of the same
 *   bytes to the same path, setters of a value): replayed after any transient failure.
 * - `convergent`: a request towards a desired state (start, stop, archive, a create carrying a unique
 *   label…): after an ambiguous failure the SDK reads the resource to learn whether it happened, and
 *   goes on from what it reads, or sends the request again when it shows that it did not happen. A
 *   call of such an endpoint must say how to read it (`reconcile`).
 * - `unsafe`: a second request does a second thing (run a command, commit): replayed only when it
 *   certainly never reached the server, or was throttled (429) before being handled; otherwise the
 *   error's `sent` says whether it may have run.
 *
 * @since 0.1.0
 * @category models
 */
export type Replay = "safe" | "convergent" | "unsafe"

/**
 * The failure statuses an endpoint declares. Authentication, authorisation, throttling and server
 * failures (401, 403, 429, 5xx) can come from any endpoint and need not be listed.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorStatus = 400 | 404 | 408 | 409 | 410 | 413 | 422

/**
 * The SDK error a declared failure status becomes: 400 and 422 a `ValidationError`, 404 a
 * `NotFoundError`, 408 a `CommandTimeoutError` (a toolbox command that ran out of time), 409 a
 * `ConflictError`. Any status an endpoint does not declare becomes an `UnexpectedResponseError`.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorOf<E extends ErrorStatus> =
  | (E extends 400 | 422 | 413 ? ValidationErrorType : never)
  | (E extends 404 | 410 ? NotFoundError : never)
  | (E extends 408 ? CommandTimeoutError : never)
  | (E extends 409 ? ConflictError : never)

/**
 * The `_tag` of each error a declared status becomes.
 *
 * @since 0.1.0
 * @category models
 */
export const errorTagOf: { readonly [S in ErrorStatus]: StatusError["_tag"] } = {
  400: "ValidationError",
  413: "ValidationError",
  422: "ValidationError",
  404: "NotFoundError",
  410: "NotFoundError",
  408: "CommandTimeoutError",
  409: "ConflictError"
}

/**
 * The encoded form of path parameters: one string per `{name}` of the path.
 *
 * @since 0.1.0
 * @category models
 */
export type EncodedParams = { readonly [name: string]: string }

/**
 * The encoded form of a query: each parameter absent, given once or repeated.
 *
 * @since 0.1.0
 * @category models
 */
export type EncodedQuery = { readonly [name: string]: string | ReadonlyArray<string> | undefined }

/**
 * A request without a body.
 *
 * @since 0.1.0
 * @category models
 */
export interface NoPayload {
  readonly _tag: "None"
}

/**
 * A JSON body described by a schema.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonPayload<S extends Schema.Schema.AnyNoContext> {
  readonly _tag: "Json"
  readonly schema: S
}

/**
 * A `multipart/form-data` body whose parts are built by hand (uploads stream their files), with the
 * names of its fields as the contract knows them.
 *
 * @since 0.1.0
 * @category models
 */
export interface MultipartPayload {
  readonly _tag: "Multipart"
  readonly fields: ReadonlyArray<string>
}

/**
 * What a request carries.
 *
 * @since 0.1.0
 * @category models
 */
export type Payload = NoPayload | JsonPayload<Schema.Schema.AnyNoContext> | MultipartPayload

/**
 * A JSON answer described by a schema.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonSuccess<S extends Schema.Schema.AnyNoContext> {
  readonly _tag: "Json"
  readonly schema: S
}

/**
 * An answer that is not JSON: nothing worth reading (`Empty`), raw bytes read as a stream
 * (`Binary`, downloads), a multipart body read as a stream (`Multipart`, bulk downloads), plain text
 * (`Text`), or an upgrade to a WebSocket (`WebSocket`: followed logs, terminals).
 *
 * @since 0.1.0
 * @category models
 */
export interface OtherSuccess<Tag extends "Empty" | "Binary" | "Multipart" | "Text" | "WebSocket"> {
  readonly _tag: Tag
}

/**
 * What a successful answer carries.
 *
 * @since 0.1.0
 * @category models
 */
export type Success =
  | JsonSuccess<Schema.Schema.AnyNoContext>
  | OtherSuccess<"Empty" | "Binary" | "Multipart" | "Text" | "WebSocket">

/**
 * The declaration of one endpoint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint<
  Name extends string = string,
  Params extends Schema.Schema.AnyNoContext = Schema.Schema.AnyNoContext,
  Query extends Schema.Schema.AnyNoContext = Schema.Schema.AnyNoContext,
  Body extends Payload = Payload,
  Answer extends Success = Success,
  E extends ErrorStatus = ErrorStatus,
  R extends Replay = Replay
> {
  /** The contract's operation id (the generated clients' method name). */
  readonly name: Name
  readonly api: Api
  readonly method: Method
  /** The path template, parameters written `{name}`: relative to the API URL, or to the sandbox's toolbox. */
  readonly path: string
  /** The path parameters; each encodes to a string. */
  readonly params: Params
  /** The query; each parameter encodes to a string or several. */
  readonly query: Query
  readonly payload: Body
  readonly success: Answer
  /** The status of a successful answer (what the real server sends, which its spec sometimes misstates). */
  readonly status: number
  readonly errors: ReadonlyArray<E>
  readonly replay: R
  /**
   * The status a replay answers when an earlier attempt, whose answer was lost, already did the
   * work: 404 for a delete (gone is what was asked), 409 for a create under a key the caller chose.
   * Such an answer to a replay is the call's success; to a first attempt it stays an error.
   */
  readonly alreadyDone: ErrorStatus | undefined
}

/**
 * Any declaration.
 *
 * @since 0.1.0
 * @category models
 */
export type Any = Endpoint<
  string,
  Schema.Schema.AnyNoContext,
  Schema.Schema.AnyNoContext,
  Payload,
  Success,
  ErrorStatus,
  Replay
>

/**
 * The decoded path parameters of a declaration.
 *
 * @since 0.1.0
 * @category type-level
 */
export type ParamsOf<T extends Any> = Schema.Schema.Type<T["params"]>

/**
 * The decoded query of a declaration.
 *
 * @since 0.1.0
 * @category type-level
 */
export type QueryOf<T extends Any> = Schema.Schema.Type<T["query"]>

/**
 * The decoded body of a declaration (`undefined` when it takes no JSON body).
 *
 * @since 0.1.0
 * @category type-level
 */
export type BodyOf<T extends Any> = T["payload"] extends JsonPayload<infer S> ? Schema.Schema.Type<S> : undefined

/**
 * The decoded answer of a declaration: its JSON, its text, or nothing.
 *
 * @since 0.1.0
 * @category type-level
 */
export type SuccessOf<T extends Any> =
  T["success"] extends JsonSuccess<infer S>
    ? Schema.Schema.Type<S>
    : T["success"] extends OtherSuccess<"Text">
      ? string
      : void

/**
 * The answer of a declaration as it is on the wire (what a server sends).
 *
 * @since 0.1.0
 * @category type-level
 */
export type EncodedSuccessOf<T extends Any> =
  T["success"] extends JsonSuccess<infer S>
    ? Schema.Schema.Encoded<S>
    : T["success"] extends OtherSuccess<"Text">
      ? string
      : void

/**
 * The declared failure statuses of a declaration.
 *
 * @since 0.1.0
 * @category type-level
 */
export type ErrorsOf<T extends Any> = T["errors"][number]

type Optional<Key extends string, V> = {} extends V ? { readonly [K in Key]?: V } : { readonly [K in Key]: V }

/**
 * What a call of a declaration takes: its path parameters, its query and its body; a part that has
 * no required field may be left out.
 *
 * @since 0.1.0
 * @category models
 */
export type Input<T extends Any> = Optional<"params", ParamsOf<T>> &
  Optional<"query", QueryOf<T>> &
  (T["payload"] extends JsonPayload<infer S> ? { readonly payload: Schema.Schema.Type<S> } : {})

const NoFields = Schema.Struct({})

/**
 * Declares an endpoint of one API. Without `params` and `query` they take nothing; without `payload`
 * the request has no body; without `success` the answer is not read. `replay` defaults to `safe` for
 * GET, PUT and DELETE and `unsafe` otherwise; `alreadyDone` to 404 for DELETE; `status` to 200.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make =
  (api: Api) =>
  <
    const Name extends string,
    Params extends Schema.Schema.AnyNoContext = typeof NoFields,
    Query extends Schema.Schema.AnyNoContext = typeof NoFields,
    Body extends Payload = NoPayload,
    Answer extends Success = OtherSuccess<"Empty">,
    const E extends ErrorStatus = never,
    const R extends Replay = Replay
  >(options: {
    readonly name: Name
    readonly method: Method
    readonly path: string
    readonly params?: Params
    readonly query?: Query
    readonly payload?: Body
    readonly success?: Answer
    readonly status?: number
    readonly errors?: ReadonlyArray<E>
    readonly replay?: R
    readonly alreadyDone?: ErrorStatus
  }): Endpoint<Name, Params, Query, Body, Answer, E, R> => {
    const names = [...options.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!)
    const params = (options.params ?? NoFields) as Params
    const declared = paramNames(params)
    if (names.length !== declared.length || names.some((name) => !declared.includes(name))) {
      throw new Error(`${options.name}: the path ${options.path} and its params (${declared.join(", ")}) differ`)
    }
    return {
      name: options.name,
      api,
      method: options.method,
      path: options.path,
      params,
      query: (options.query ?? NoFields) as Query,
      payload: (options.payload ?? { _tag: "None" }) as Body,
      success: (options.success ?? { _tag: "Empty" }) as Answer,
      status: options.status ?? 200,
      errors: options.errors ?? [],
      replay: (options.replay ?? (options.method === "POST" || options.method === "PATCH" ? "unsafe" : "safe")) as R,
      alreadyDone: options.alreadyDone ?? (options.method === "DELETE" ? 404 : undefined)
    }
  }

const paramNames = (schema: Schema.Schema.Any): ReadonlyArray<string> => {
  // The encoded side's AST alone: `Schema.encodedSchema` would also build a schema class around it.
  const ast = SchemaAST.encodedAST(schema.ast)
  return ast._tag === "TypeLiteral" ? ast.propertySignatures.map((p) => String(p.name)) : []
}

/**
 * A JSON body or answer described by a schema.
 *
 * @since 0.1.0
 * @category constructors
 */
export const json = <S extends Schema.Schema.AnyNoContext>(schema: S): JsonPayload<S> & JsonSuccess<S> => ({
  _tag: "Json",
  schema
})

/**
 * A multipart body whose parts are written by hand, with the contract's names of its fields.
 *
 * @since 0.1.0
 * @category constructors
 */
export const multipart = (...fields: ReadonlyArray<string>): MultipartPayload => ({ _tag: "Multipart", fields })

/**
 * An answer of raw bytes, read as a stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const binary: OtherSuccess<"Binary"> = { _tag: "Binary" }

/**
 * A multipart answer, read as a stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const multipartAnswer: OtherSuccess<"Multipart"> = { _tag: "Multipart" }

/**
 * A plain-text answer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const text: OtherSuccess<"Text"> = { _tag: "Text" }

/**
 * An upgrade to a WebSocket.
 *
 * @since 0.1.0
 * @category constructors
 */
export const webSocket: OtherSuccess<"WebSocket"> = { _tag: "WebSocket" }

/**
 * Fills a path template with encoded parameters, each URI-encoded.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fillPath = (template: string, params: EncodedParams): string =>
  template.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ""))

/**
 * The router form of a path template (`{name}` becomes `:name`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const routerPath = (template: string): string => template.replace(/\{([^}]+)\}/g, ":$1")

const invalidInput = (endpoint: Any, part: string) => (error: ParseResult.ParseError) => {
  const field = WireSchema.firstField(error)
  return new ValidationError({
    message: `${endpoint.name}: invalid ${part}: ${WireSchema.messages(error).join(", ")}`,
    ...(field === undefined ? {} : { field })
  })
}

/**
 * Builds the request of a call: the path filled, the query and the JSON body encoded with the
 * declaration's schemas (a value they reject is a `ValidationError`, before anything is sent). The URL
 * is relative: the client prepends its base. A multipart body is the caller's to set.
 *
 * @since 0.1.0
 * @category constructors
 */
export const request = <T extends Any>(
  endpoint: T,
  input: Input<T>
): Effect.Effect<HttpClientRequest.HttpClientRequest, ValidationError> =>
  Effect.suspend(() => requestEither(endpoint, input))

const encoders = new WeakMap<
  Schema.Schema.AnyNoContext,
  (u: unknown) => Either.Either<unknown, ParseResult.ParseError>
>()

/** The declaration's encoder of a part, made once per schema (a struct without fields encodes nothing). */
const encoderOf = (schema: Schema.Schema.AnyNoContext) => {
  let encode = encoders.get(schema)
  if (encode === undefined) {
    const ast = schema.ast
    const encodeEither = Schema.encodeUnknownEither(schema)
    encode =
      ast._tag === "TypeLiteral" && ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0
        ? (u) => (Predicate.isRecord(u) && Object.keys(u).length === 0 ? Either.right({}) : encodeEither(u))
        : encodeEither
    encoders.set(schema, encode)
  }
  return encode
}

const requestEither = <T extends Any>(
  endpoint: T,
  input: Input<T>
): Either.Either<HttpClientRequest.HttpClientRequest, ValidationError> => {
  const given = input as { readonly params?: unknown; readonly query?: unknown; readonly payload?: unknown }
  const params = encoderOf(endpoint.params)(given.params ?? {})
  if (Either.isLeft(params)) return Either.left(invalidInput(endpoint, "path parameters")(params.left))
  const query = encoderOf(endpoint.query)(given.query ?? {})
  if (Either.isLeft(query)) return Either.left(invalidInput(endpoint, "query")(query.left))
  let built = HttpClientRequest.make(endpoint.method)(fillPath(endpoint.path, params.right as EncodedParams))
  for (const [name, value] of Object.entries(query.right as EncodedQuery)) {
    if (value !== undefined) built = HttpClientRequest.appendUrlParams(built, { [name]: value })
  }
  if (endpoint.payload._tag === "Json") {
    const body = encoderOf(endpoint.payload.schema)(given.payload)
    if (Either.isLeft(body)) return Either.left(invalidInput(endpoint, "body")(body.left))
    built = HttpClientRequest.bodyUnsafeJson(built, body.right)
  }
  return Either.right(built)
}

/**
 * Decodes path parameters as a server receives them.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeParams = <T extends Any>(
  endpoint: T,
  raw: Readonly<Record<string, string | undefined>>
): Effect.Effect<ParamsOf<T>, ParseResult.ParseError> =>
  Schema.decodeUnknown(endpoint.params, { errors: "all" })(raw) as Effect.Effect<ParamsOf<T>, ParseResult.ParseError>

/**
 * Decodes a query as a server receives it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeQuery = <T extends Any>(
  endpoint: T,
  raw: Readonly<Record<string, string | ReadonlyArray<string>>>
): Effect.Effect<QueryOf<T>, ParseResult.ParseError> =>
  Schema.decodeUnknown(endpoint.query, { errors: "all" })(raw) as Effect.Effect<QueryOf<T>, ParseResult.ParseError>

/**
 * Decodes a JSON body as a server receives it (every wrong field reported, unknown fields dropped).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodePayload = <T extends Any>(
  endpoint: T,
  body: unknown
): Effect.Effect<BodyOf<T>, ParseResult.ParseError> =>
  endpoint.payload._tag === "Json"
    ? (Schema.decodeUnknown(endpoint.payload.schema, { errors: "all", onExcessProperty: "ignore" })(
        body
      ) as Effect.Effect<BodyOf<T>, ParseResult.ParseError>)
    : Effect.die(new Error(`${endpoint.name}: the endpoint does not take a JSON body`))
