/**
 * The Secrets service: the organization's secrets (`/secret`). A secret's value is write-only: it
 * is given as `Redacted` (or a string), sent once in a request body and never answered, logged,
 * put in a span or kept in an error. A sandbox that mounts a secret (`CreateOptions.secrets`,
 * `Sandbox.updateSecrets`) sees only its placeholder (`dtn_secret_<id>`); the real value is put in
 * place of the placeholder on the sandbox's outbound requests to the secret's hosts.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Chunk from "effect/Chunk"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as ControlPlaneApi from "./ControlPlaneApi.js"
import * as DaytonaClient from "./DaytonaClient.js"
import type * as DaytonaConfig from "./DaytonaConfig.js"
import { type ApiError, type ConflictError, type NotFoundError, ValidationError } from "./DaytonaError.js"
import { scrubbed } from "./internal/scrubbed.js"
import type { ListSecretsResponse, SecretDto } from "./SecretDto.js"
import * as Spans from "./internal/spans.js"

/**
 * A secret as the API describes it: its id, name, description, placeholder and hosts, never its
 * value.
 *
 * @since 0.1.0
 * @category models
 */
export type Secret = SecretDto

/**
 * A secret's value: kept `Redacted` by the SDK whichever form it is given in.
 *
 * @since 0.1.0
 * @category models
 */
export type SecretValue = string | Redacted.Redacted<string>

/**
 * Options of {@link Service.create}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateOptions {
  /** Unique in the organization; `^[a-zA-Z_][a-zA-Z0-9_-]*$`. */
  readonly name: string
  readonly value: SecretValue
  readonly description?: string | undefined
  /**
   * Hosts the value may be sent to: hostnames (`api.example.com`) or wildcards of subdomains
   * (`*.example.com`), no ports. Omitted: the secret is unrestricted.
   */
  readonly hosts?: ReadonlyArray<string> | undefined
}

/**
 * Options of {@link Service.update}: omitted fields are left unchanged.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateOptions {
  readonly value?: SecretValue | undefined
  readonly description?: string | undefined
  readonly hosts?: ReadonlyArray<string> | undefined
}

/**
 * Filters and order of the secret list.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListQuery {
  /** Secrets whose name contains this text. */
  readonly name?: string | undefined
  readonly sort?: "name" | "createdAt" | "updatedAt" | undefined
  readonly order?: "asc" | "desc" | undefined
  /** Secrets per page (1–200; the server's default is 100). */
  readonly limit?: number | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Every secret matching the query, page after page (`GET /secret/paginated`). */
  readonly list: (query?: ListQuery) => Stream.Stream<Secret, ApiError | ValidationError>
  /** One page of the list; pass `nextCursor` back as `cursor` for the next. */
  readonly listPage: (
    query?: ListQuery & { readonly cursor?: string | undefined }
  ) => Effect.Effect<ListSecretsResponse, ApiError | ValidationError>
  /** Reads a secret by id. */
  readonly get: (secretId: string) => Effect.Effect<Secret, ApiError | NotFoundError | ValidationError>
  /** Creates a secret; a name already taken is a `ConflictError`. */
  readonly create: (options: CreateOptions) => Effect.Effect<Secret, ApiError | ConflictError | ValidationError>
  /** Changes a secret's value, description or hosts. */
  readonly update: (
    secretId: string,
    options: UpdateOptions
  ) => Effect.Effect<Secret, ApiError | NotFoundError | ValidationError>
  /** Deletes a secret: sandboxes that mount it no longer get its value substituted. */
  readonly delete: (secretId: string) => Effect.Effect<void, ApiError | NotFoundError | ValidationError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Secrets extends Context.Tag("@effect-daytona/sdk/Secrets")<Secrets, Service>() {}

const reveal = (value: SecretValue): string => (Redacted.isRedacted(value) ? Redacted.value(value) : value)

const requiredId = (secretId: string) =>
  secretId.trim() === ""
    ? Effect.fail(new ValidationError({ field: "secretId", message: "a secret id is required" }))
    : Effect.void

/**
 * Builds the service over the control-plane client.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, DaytonaClient.DaytonaClient> = Effect.gen(function* () {
  const client = yield* DaytonaClient.DaytonaClient

  const listPage: Service["listPage"] = (query = {}) =>
    client
      .call(ControlPlaneApi.listSecretsPaginated, {
        query: {
          ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          ...(query.limit === undefined ? {} : { limit: query.limit }),
          ...(query.name === undefined ? {} : { name: query.name }),
          ...(query.sort === undefined ? {} : { sort: query.sort }),
          ...(query.order === undefined ? {} : { order: query.order })
        }
      })
      .pipe(Spans.withSpan("Secrets.listPage", { captureStackTrace: false }))

  return {
    list: (query = {}) =>
      Stream.paginateChunkEffect(Option.none<string>(), (cursor) =>
        listPage({ ...query, ...(Option.isSome(cursor) ? { cursor: cursor.value } : {}) }).pipe(
          Effect.map(
            (page) =>
              [
                Chunk.fromIterable(page.items),
                page.nextCursor === null || page.nextCursor === "" || page.items.length === 0
                  ? Option.none()
                  : Option.some(Option.some(page.nextCursor))
              ] as const
          )
        )
      ),
    listPage,
    get: (secretId) =>
      requiredId(secretId).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.getSecret, { params: { secretId } })),
        Spans.withSpan("Secrets.get", { captureStackTrace: false, attributes: { "daytona.secret.id": secretId } })
      ),
    create: (options) => {
      const value = reveal(options.value)
      return client
        .call(ControlPlaneApi.createSecret, {
          payload: {
            name: options.name,
            value,
            ...(options.description === undefined ? {} : { description: options.description }),
            ...(options.hosts === undefined ? {} : { hosts: options.hosts })
          }
        })
        .pipe(
          scrubbed([value]),
          Spans.withSpan("Secrets.create", {
            captureStackTrace: false,
            attributes: { "daytona.secret.name": options.name }
          })
        )
    },
    update: (secretId, options) => {
      const value = options.value === undefined ? undefined : reveal(options.value)
      return requiredId(secretId).pipe(
        Effect.zipRight(
          client.call(ControlPlaneApi.updateSecret, {
            params: { secretId },
            payload: {
              ...(value === undefined ? {} : { value }),
              ...(options.description === undefined ? {} : { description: options.description }),
              ...(options.hosts === undefined ? {} : { hosts: options.hosts })
            }
          })
        ),
        scrubbed(value === undefined ? [] : [value]),
        Spans.withSpan("Secrets.update", { captureStackTrace: false, attributes: { "daytona.secret.id": secretId } })
      )
    },
    delete: (secretId) =>
      requiredId(secretId).pipe(
        Effect.zipRight(client.call(ControlPlaneApi.deleteSecret, { params: { secretId } })),
        Spans.withSpan("Secrets.delete", { captureStackTrace: false, attributes: { "daytona.secret.id": secretId } })
      )
  }
})

/**
 * The service over a control-plane client provided from outside.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Secrets, never, DaytonaClient.DaytonaClient> = Layer.effect(Secrets, make)

/**
 * The service with its own control-plane client: needs `DaytonaConfig` and an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWithClient: Layer.Layer<Secrets, never, HttpClient.HttpClient | DaytonaConfig.DaytonaConfig> =
  Layer.provide(layer, DaytonaClient.layer)
