import type { ListSecretsQuery } from "@effect-daytona/sdk/ControlPlaneApi"
import { placeholderPrefix, type CreateSecret, type SecretDto, type UpdateSecret } from "@effect-daytona/sdk/SecretDto"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as NodeCrypto from "node:crypto"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { LocalConfig } from "../LocalConfig.js"
import { type ControlPlaneError, badRequest, conflict, notFound } from "./controlPlaneError.js"
import { SandboxStore } from "./store.js"
import * as Transitions from "./transitions.js"

/**
 * The organization's secrets (`/secret`). A value is write-only: it is encrypted with AES-256-GCM
 * (the secret's id as associated data, so a ciphertext cannot be moved to another secret) before it
 * is stored, and decrypted only for the egress proxy, which puts it in place of the secret's
 * placeholder on a sandbox's outbound requests. The key is 32 random bytes in `<dataDir>/secrets.key`
 * (mode 0600, created at first use): a copy of the database alone reveals no value; the data
 * directory as a whole does, so it must stay the server's (it is never visible inside a sandbox).
 */

const SecretRecord = Schema.Struct({
  id: Schema.String,
  organizationId: Schema.String,
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  hosts: Schema.Array(Schema.String),
  /** base64 of IV (12 bytes), tag (16 bytes) and ciphertext. */
  sealed: Schema.String,
  createdAt: Schema.Number,
  updatedAt: Schema.Number
})

type SecretRecord = typeof SecretRecord.Type

const SecretRecordJson = Schema.parseJson(SecretRecord)
const decode = Schema.decodeUnknown(SecretRecordJson)
const encode = Schema.encode(SecretRecordJson)

/** A secret's placeholder: what a sandbox's environment variable holds. */
export const placeholderOf = (secretId: string) => `${placeholderPrefix}${secretId}`

/** A secret as the egress proxy uses it: what to look for, what to put instead, and where to. */
export interface RevealedSecret {
  readonly id: string
  readonly placeholder: string
  readonly value: string
  /** Hosts the value may go to; when empty, every host. */
  readonly hosts: ReadonlyArray<string>
}

const keyFile = (dataDir: string) => NodePath.join(dataDir, "secrets.key")

/** Reads the key, creating it (0600, exclusively) when there is none yet. */
const loadKey = async (dataDir: string): Promise<Buffer> => {
  const file = keyFile(dataDir)
  await NodeFs.mkdir(dataDir, { recursive: true })
  try {
    const handle = await NodeFs.open(file, "wx", 0o600)
    try {
      await handle.writeFile(NodeCrypto.randomBytes(32))
    } finally {
      await handle.close()
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
  }
  await NodeFs.chmod(file, 0o600)
  const key = await NodeFs.readFile(file)
  if (key.length !== 32) throw new Error(`${file} is not a 32-byte key`)
  return key
}

const seal = (key: Buffer, id: string, value: string): string => {
  const iv = NodeCrypto.randomBytes(12)
  const cipher = NodeCrypto.createCipheriv("aes-256-gcm", key, iv)
  cipher.setAAD(Buffer.from(id, "utf8"))
  const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")
}

const open = (key: Buffer, id: string, sealed: string): string => {
  const bytes = Buffer.from(sealed, "base64")
  const decipher = NodeCrypto.createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12))
  decipher.setAAD(Buffer.from(id, "utf8"))
  decipher.setAuthTag(bytes.subarray(12, 28))
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8")
}

const toDto = (r: SecretRecord): SecretDto => ({
  id: r.id,
  name: r.name,
  ...(r.description === null ? {} : { description: r.description }),
  placeholder: placeholderOf(r.id),
  hosts: r.hosts,
  createdAt: Transitions.iso(r.createdAt),
  updatedAt: Transitions.iso(r.updatedAt)
})

type SortValue = string | number

const sortValue = (r: SecretRecord, field: string): SortValue =>
  field === "name" ? r.name : field === "updatedAt" ? r.updatedAt : r.createdAt

const compare = (a: readonly [SortValue, string], b: readonly [SortValue, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0

export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  const store = yield* SandboxStore
  const key = yield* Effect.promise(() => loadKey(config.dataDir))
  const locked = (yield* Effect.makeSemaphore(1)).withPermits(1)

  const all = Effect.flatMap(store.secrets.all, (rows) => Effect.forEach(rows, (row) => Effect.orDie(decode(row))))

  const put = (r: SecretRecord) =>
    encode(r).pipe(
      Effect.orDie,
      Effect.flatMap((data) => store.secrets.put(r.id, data))
    )

  const byId = (records: ReadonlyArray<SecretRecord>, id: string): Effect.Effect<SecretRecord, ControlPlaneError> => {
    const found = records.find((r) => r.id === id)
    return found === undefined ? Effect.fail(notFound(`Secret with ID ${id} not found`)) : Effect.succeed(found)
  }

  const list = Effect.map(all, (records) => records.map(toDto))

  const listPage = (query: typeof ListSecretsQuery.Type) =>
    Effect.gen(function* () {
      const limit = query.limit ?? 100
      const sort = query.sort ?? "createdAt"
      const sign = query.order === "asc" ? 1 : -1
      let after: readonly [SortValue, string] | undefined
      if (query.cursor !== undefined && query.cursor !== "") {
        try {
          const parsed = JSON.parse(Buffer.from(query.cursor, "base64").toString("utf8")) as unknown
          const { v, id } = parsed as { v: unknown; id: unknown }
          if (typeof id !== "string" || (typeof v !== "string" && typeof v !== "number")) throw new Error("bad cursor")
          after = [v, id]
        } catch {
          return yield* badRequest("Invalid cursor provided")
        }
      }
      const name = query.name?.toLowerCase()
      const matching = (yield* all).filter((r) => name === undefined || r.name.toLowerCase().includes(name))
      const keyed = matching
        .map((r) => ({ r, key: [sortValue(r, sort), r.id] as const }))
        .sort((a, b) => sign * compare(a.key, b.key))
      const rest = after === undefined ? keyed : keyed.filter((k) => sign * compare(k.key, after) > 0)
      const page = rest.slice(0, limit)
      const last = page[page.length - 1]
      return {
        items: page.map((k) => toDto(k.r)),
        total: matching.length,
        nextCursor:
          rest.length > limit && last !== undefined
            ? Buffer.from(JSON.stringify({ v: last.key[0], id: last.r.id })).toString("base64")
            : null
      }
    })

  const get = (id: string) => Effect.flatMap(all, (records) => byId(records, id)).pipe(Effect.map(toDto))

  const create = (body: CreateSecret) =>
    locked(
      Effect.gen(function* () {
        const records = yield* all
        if (records.some((r) => r.name === body.name))
          return yield* conflict(`Secret with name ${body.name} already exists`)
        const now = yield* Clock.currentTimeMillis
        const id = NodeCrypto.randomUUID()
        const record: SecretRecord = {
          id,
          organizationId: config.organizationId,
          name: body.name,
          description: body.description ?? null,
          hosts: body.hosts ?? [],
          sealed: seal(key, id, body.value),
          createdAt: now,
          updatedAt: now
        }
        yield* put(record)
        return toDto(record)
      })
    )

  const update = (id: string, body: UpdateSecret) =>
    locked(
      Effect.gen(function* () {
        const r = yield* byId(yield* all, id)
        const now = yield* Clock.currentTimeMillis
        const updated: SecretRecord = {
          ...r,
          ...(body.description === undefined ? {} : { description: body.description }),
          ...(body.hosts === undefined ? {} : { hosts: body.hosts }),
          ...(body.value === undefined ? {} : { sealed: seal(key, id, body.value) }),
          updatedAt: now
        }
        yield* put(updated)
        return toDto(updated)
      })
    )

  const remove = (id: string) =>
    locked(
      Effect.gen(function* () {
        yield* byId(yield* all, id)
        yield* store.secrets.remove(id)
      })
    )

  /** The ids of the named secrets, or a 400 naming the first that does not exist. */
  const resolveNames = (names: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const records = yield* all
      return yield* Effect.forEach(names, (name) => {
        const found = records.find((r) => r.name === name)
        return found === undefined
          ? Effect.fail(badRequest(`Secret with name ${name} not found`))
          : Effect.succeed(found.id)
      })
    })

  /**
   * The values of the given secrets, for the egress proxy only; secrets deleted since are left out.
   * A value that does not decrypt (a key replaced by hand) is left out too, never guessed.
   */
  const reveal = (ids: ReadonlyArray<string>): Effect.Effect<ReadonlyArray<RevealedSecret>> =>
    Effect.map(all, (records) =>
      records.flatMap((r) => {
        if (!ids.includes(r.id)) return []
        try {
          return [{ id: r.id, placeholder: placeholderOf(r.id), value: open(key, r.id, r.sealed), hosts: r.hosts }]
        } catch {
          return []
        }
      })
    )

  return { list, listPage, get, create, update, remove, resolveNames, reveal }
})

export interface SecretVault extends Effect.Effect.Success<typeof make> {}

export class SecretVaultService extends Context.Tag("@effect-daytona/local/internal/SecretVault")<
  SecretVaultService,
  SecretVault
>() {}

export const layer = Layer.effect(SecretVaultService, make)
