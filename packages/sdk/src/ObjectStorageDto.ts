/**
 * Schemas of Daytona's object storage access: the temporary credentials with which a client puts an
 * image's build context (a tar archive of local files) where Daytona's builder reads it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The answer of `GET /object-storage/push-access`: an S3-compatible endpoint, bucket and region, and
 * temporary credentials (the secret and session token stay `Redacted` once decoded) that may write
 * under the organization's prefix (`<organizationId>/<context hash>/context.tar`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const StorageAccess = Schema.Struct({
  accessKey: Schema.String,
  secret: Schema.Redacted(Schema.String),
  sessionToken: Schema.Redacted(Schema.String),
  storageUrl: Schema.String,
  organizationId: Schema.String,
  region: Schema.String,
  bucket: Schema.String
}).annotations({ identifier: "StorageAccessDto" })

/**
 * @since 0.1.0
 * @category models
 */
export type StorageAccess = typeof StorageAccess.Type
