/**
 * Schemas of preview links: the URL of a sandbox port and the token that opens it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The preview link of a port. For a private sandbox, send `token` as `X-Daytona-Preview-Token`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PortPreviewUrl = Schema.Struct({
  sandboxId: Schema.String,
  url: Schema.String,
  token: Schema.String
}).annotations({ identifier: "PortPreviewUrl" })

/**
 * @since 0.1.0
 * @category models
 */
export type PortPreviewUrl = typeof PortPreviewUrl.Type

/**
 * A preview URL that carries its own short-lived token and needs no header.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SignedPortPreviewUrl = Schema.Struct({
  sandboxId: Schema.String,
  port: Schema.Number,
  token: Schema.String,
  url: Schema.String
}).annotations({ identifier: "SignedPortPreviewUrl" })

/**
 * @since 0.1.0
 * @category models
 */
export type SignedPortPreviewUrl = typeof SignedPortPreviewUrl.Type
