/**
 * Schemas of SSH access tokens.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * An SSH access token and the command that uses it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SshAccessDto = Schema.Struct({
  id: Schema.String,
  sandboxId: Schema.String,
  token: Schema.String,
  expiresAt: Schema.String,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  sshCommand: Schema.String
}).annotations({ identifier: "SshAccessDto" })

/**
 * @since 0.1.0
 * @category models
 */
export type SshAccessDto = typeof SshAccessDto.Type

/**
 * Whether an SSH token is valid. The server sends `sandboxId: null` for an invalid token although
 * its spec says the field is a string.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SshAccessValidationDto = Schema.Struct({
  valid: Schema.Boolean,
  sandboxId: Schema.NullOr(Schema.String)
}).annotations({ identifier: "SshAccessValidationDto" })

/**
 * @since 0.1.0
 * @category models
 */
export type SshAccessValidationDto = typeof SshAccessValidationDto.Type
