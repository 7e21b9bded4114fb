/**
 * Schemas of Daytona's organization secrets (`/secret`): the bodies that create and update one, with
 * Daytona's validation rules, and the answers that describe one. A secret's value is write-only: no
 * answer ever carries it, only its opaque placeholder (`dtn_secret_<id>`), which a sandbox sees in
 * the environment variable the secret is mounted under.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional

/**
 * The pattern a secret's name must match: a letter or `_`, then letters, digits, `_` and `-`.
 *
 * @since 0.1.0
 * @category constants
 */
export const secretNamePattern = /^[a-zA-Z_][a-zA-Z0-9_-]*$/

const hostLabel = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/

/**
 * Whether `host` may be a secret's host: a hostname (`api.example.com`) or a wildcard of its
 * subdomains (`*.example.com`); no scheme, port or path.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSecretHost = (host: string): boolean => {
  const name = host.startsWith("*.") ? host.slice(2) : host
  if (name === "" || name.length > 253) return false
  return name.split(".").every((label) => hostLabel.test(label))
}

/**
 * The prefix of every secret placeholder; the secret's id follows it.
 *
 * @since 0.1.0
 * @category constants
 */
export const placeholderPrefix = "dtn_secret_"

const SecretName = WireSchema.string.pipe(
  WireSchema.nonEmpty,
  WireSchema.maxLength(255),
  Schema.filter((name) => secretNamePattern.test(name), {
    message: () => `$property must match ${secretNamePattern.source} regular expression`
  })
)

const SecretValue = WireSchema.string.pipe(WireSchema.nonEmpty, WireSchema.maxLength(65536))

const SecretHosts = WireSchema.array(
  WireSchema.string.pipe(
    Schema.filter(isSecretHost, {
      message: () => "each value in $container must be a hostname or a *. wildcard, without scheme, port or path"
    })
  )
).pipe(
  Schema.filter((hosts) => hosts.length <= 50, { message: () => "$property must contain no more than 50 elements" })
)

const Description = WireSchema.string.pipe(WireSchema.maxLength(1024))

/**
 * The body of `POST /secret`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CreateSecret = Schema.Struct({
  name: SecretName,
  value: SecretValue,
  description: optional(Description),
  hosts: optional(SecretHosts)
}).annotations({ identifier: "CreateSecret" })

/**
 * @since 0.1.0
 * @category models
 */
export type CreateSecret = typeof CreateSecret.Type

/**
 * The body of `PATCH /secret/{secretId}`: omitted fields are left unchanged.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateSecret = Schema.Struct({
  value: optional(SecretValue),
  description: optional(Description),
  hosts: optional(SecretHosts)
}).annotations({ identifier: "UpdateSecret" })

/**
 * @since 0.1.0
 * @category models
 */
export type UpdateSecret = typeof UpdateSecret.Type

/**
 * A secret as the API describes it: never its value.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SecretDto = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: optional(Schema.String),
  placeholder: Schema.String,
  hosts: Schema.Array(Schema.String),
  createdAt: Schema.String,
  updatedAt: Schema.String
}).annotations({ identifier: "Secret" })

/**
 * @since 0.1.0
 * @category models
 */
export type SecretDto = typeof SecretDto.Type

/**
 * One page of `GET /secret/paginated`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListSecretsResponse = Schema.Struct({
  items: Schema.Array(SecretDto),
  total: Schema.Number,
  nextCursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "ListSecretsResponse" })

/**
 * @since 0.1.0
 * @category models
 */
export type ListSecretsResponse = typeof ListSecretsResponse.Type

const EnvName = WireSchema.string.pipe(
  Schema.filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name), {
    message: () => "each key in $container must be a valid environment variable name"
  })
)

/**
 * Secrets to mount in a sandbox: one `{ ENV_NAME: secretName }` object per variable, as
 * `POST /sandbox` (`secrets`) and `PUT /sandbox/{id}/secrets` take them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SecretMounts = WireSchema.array(
  Schema.Record({
    key: EnvName,
    value: Schema.String.annotations({ message: () => "each value in $container must be a string" })
  })
)

/**
 * The body of `PUT /sandbox/{sandboxIdOrName}/secrets`: the whole set of mounted secrets (an empty
 * list detaches them all).
 *
 * @since 0.1.0
 * @category schemas
 */
export const UpdateSandboxSecrets = Schema.Struct({
  secrets: SecretMounts
}).annotations({ identifier: "UpdateSandboxSecrets" })

/**
 * @since 0.1.0
 * @category models
 */
export type UpdateSandboxSecrets = typeof UpdateSandboxSecrets.Type
