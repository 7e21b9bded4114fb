import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as NodePath from "node:path"
import { LocalConfig } from "../LocalConfig.js"
import * as ObjectStore from "./objectStore.js"
import * as S3Credentials from "./s3Credentials.js"
import { ServerUrl } from "./serverUrl.js"
import { SandboxStore } from "./store.js"
import * as TarListing from "./tarListing.js"

/**
 * The object storage where clients put an image's build context before naming it by hash in a
 * create (`buildInfo.contextHashes`), as Daytona's SDKs do: `GET /api/object-storage/push-access`
 * issues temporary credentials for an S3-compatible subset served at `/object-storage` (see
 * `objectStorageRoutes.ts`), one bucket, path-style, its objects in the data directory.
 */

/** The path under which the S3-compatible service is served; `storageUrl` ends with it. */
export const pathPrefix = "/object-storage"
/** The one bucket. */
export const bucket = "daytona-build-context"
/** The region requests must be signed for. */
export const region = "us-east-1"

/** The object key of a build context: `<organizationId>/<hash>/context.tar`. */
export const contextKey = (organizationId: string, hash: string) => `${organizationId}/${hash}/context.tar`

/** How many entry names of one context the build log shows. */
const namesShown = 100
/** How many contexts of one build the build log describes. */
const contextsShown = 50

const hostPattern = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/

/**
 * The origin a client reached the server at: its `Host` header when it is a plain host name or
 * address with an optional port, else the server's own URL (the scheme is always the server's).
 */
export const originFor = (serverUrl: string, host: string | undefined): string => {
  const own = new URL(serverUrl)
  return host !== undefined && hostPattern.test(host) ? `${own.protocol}//${host}` : own.origin
}

/**
 * The object storage of the data directory, with the credentials it accepts; uploads left
 * incomplete are swept every 10 minutes (on the Clock) while it runs.
 */
export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  const serverUrl = yield* ServerUrl
  const table = (yield* SandboxStore).objects
  const store = yield* ObjectStore.make(NodePath.join(config.dataDir, "object-storage"), table)
  const credentials = S3Credentials.make()
  yield* Effect.forkScoped(Effect.repeat(store.sweep, Schedule.spaced("10 minutes")))
  /** Listings of context archives by their file (a new upload is a new file), so a followed log reads each once. */
  const listings = new Map<string, Promise<TarListing.TarListing>>()

  /** The storage URL for a request whose `Host` header is `host`. */
  const storageUrl = (host: string | undefined) => `${originFor(serverUrl, host)}${pathPrefix}`

  /** `GET /object-storage/push-access` for a request whose `Host` header is `host`. */
  const pushAccess = (host: string | undefined) =>
    Effect.map(credentials.issue(config.organizationId), (issued) => ({
      accessKey: issued.accessKey,
      secret: Redacted.make(issued.secret),
      sessionToken: Redacted.make(issued.sessionToken),
      storageUrl: storageUrl(host),
      organizationId: issued.organizationId,
      region,
      bucket
    }))

  /**
   * Why a build naming contexts that were never uploaded is refused, or `undefined` when every one
   * is there: Daytona's builder would find nothing to copy, and a build that silently lacks its
   * files is worse than a clear 400.
   */
  const missingContexts = (hashes: ReadonlyArray<string>): string | undefined => {
    const missing = hashes.filter((hash) => store.head(contextKey(config.organizationId, hash)) === undefined)
    if (missing.length === 0) return undefined
    const keys = missing.slice(0, 5).map((hash) => contextKey(config.organizationId, hash))
    return `Build context not found in the object storage: ${keys.join(", ")}${
      missing.length > 5 ? ` and ${missing.length - 5} more` : ""
    }. Upload it first (GET /api/object-storage/push-access)`
  }

  const listing = (meta: ObjectStore.ObjectMeta) =>
    Effect.gen(function* () {
      // The promise is kept, not its result: concurrent views of one log share one reading.
      let read = listings.get(meta.file)
      if (read === undefined) {
        read = TarListing.list(store.pathOf(meta), namesShown).catch(
          (): TarListing.TarListing => ({ names: [], count: 0, cut: false, problem: "the object could not be read" })
        )
        if (listings.size >= 256) listings.clear()
        listings.set(meta.file, read)
      }
      const pending = read
      return yield* Effect.promise(() => pending)
    })

  /** Build-log lines that say, for each context hash, whether its archive arrived, its size and its entries. */
  const describeContexts = (hashes: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const distinct = Array.from(new Set(hashes))
      for (const given of distinct.slice(0, contextsShown)) {
        const key = contextKey(config.organizationId, given)
        const hash = TarListing.shownName(given)
        const meta = store.head(key)
        if (meta === undefined) {
          lines.push(`Context ${hash}: MISSING, no object ${TarListing.shownName(key)} in the object storage`)
          continue
        }
        const read = yield* listing(meta)
        lines.push(
          `Context ${hash}: ${TarListing.shownName(key)}, ${meta.size} bytes, ${read.count} entries${read.cut ? " or more" : ""}`
        )
        for (const name of read.names) lines.push(`  ${name}`)
        if (read.count > read.names.length) lines.push(`  … and ${read.count - read.names.length} more`)
        if (read.problem !== undefined) lines.push(`  (not a readable tar archive: ${read.problem})`)
      }
      if (distinct.length > contextsShown) lines.push(`… and ${distinct.length - contextsShown} more contexts`)
      return lines
    })

  return {
    store,
    credentials,
    pushAccess,
    storageUrl,
    missingContexts,
    describeContexts
  }
})

/** The object storage service. */
export interface ObjectStorage extends Effect.Effect.Success<typeof make> {}

/** The object storage service's tag. */
export class ObjectStorageService extends Context.Tag("@effect-daytona/local/internal/ObjectStorage")<
  ObjectStorageService,
  ObjectStorage
>() {}

/** The object storage, its files under `<dataDir>/object-storage`. */
export const layer = Layer.scoped(ObjectStorageService, make)
