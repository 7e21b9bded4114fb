import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as NodeCrypto from "node:crypto"

/**
 * Temporary credentials of the object storage, as `GET /object-storage/push-access` issues them:
 * a random access key id, secret and session token, bound to an organization, valid for
 * `lifetimeMillis`. They are kept in memory only: a restarted server has forgotten them, and a
 * client asks for new ones (Daytona's SDK does before every build).
 */

/** How long issued credentials are valid: one hour. */
export const lifetimeMillis = 60 * 60 * 1000

/** The most credentials alive at once; issuing one more forgets the oldest. */
const maxLive = 10_000

/** Issued credentials. Times are epoch milliseconds. */
export interface Credentials {
  readonly accessKey: string
  readonly secret: string
  readonly sessionToken: string
  readonly organizationId: string
  readonly expiresAt: number
}

const random = (bytes: number) => NodeCrypto.randomBytes(bytes).toString("base64url")

/** The credentials issued by this server while it runs. */
export const make = () => {
  /** By access key, oldest first (a `Map` keeps insertion order). */
  const live = new Map<string, Credentials>()

  const issue = (organizationId: string) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      for (const [key, credentials] of live) if (credentials.expiresAt <= now) live.delete(key)
      while (live.size >= maxLive) live.delete(live.keys().next().value!)
      const credentials: Credentials = {
        accessKey: `LOCAL${NodeCrypto.randomBytes(10).toString("hex").toUpperCase()}`,
        secret: random(30),
        sessionToken: random(48),
        organizationId,
        expiresAt: now + lifetimeMillis
      }
      live.set(credentials.accessKey, credentials)
      return credentials
    })

  /** The credentials of an access key, expired or not; `undefined` for a key this server never issued. */
  const lookup = (accessKey: string): Credentials | undefined => live.get(accessKey)

  return { issue, lookup }
}

/** The issued credentials. */
export type CredentialStore = ReturnType<typeof make>
