import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlSchema from "@effect/sql/SqlSchema"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Str from "effect/String"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { LocalConfig } from "../LocalConfig.js"
import { fromStored, type SandboxRecord, SandboxRecordJson } from "./record.js"

const SandboxRow = Schema.Struct({ data: SandboxRecordJson })
const JsonRow = Schema.Struct({ data: Schema.String })

/** An SSH access row; the client maps its snake_case columns to these names and back. */
const SshAccess = Schema.Struct({
  id: Schema.String,
  token: Schema.String,
  sandboxId: Schema.String,
  expiresAt: Schema.Number,
  createdAt: Schema.Number
})

const SignedPreview = Schema.Struct({
  token: Schema.String,
  port: Schema.Number,
  sandboxId: Schema.String,
  expiresAt: Schema.Number
})

/** An SSH access token of a sandbox. Times are epoch milliseconds. */
export type SshAccessRow = typeof SshAccess.Type

/** Rows of one kind (volumes, snapshots) stored as JSON documents keyed by id. */
export interface JsonTable {
  readonly all: Effect.Effect<ReadonlyArray<string>>
  readonly put: (id: string, data: string) => Effect.Effect<void>
  readonly remove: (id: string) => Effect.Effect<void>
}

/**
 * Durable state. Every write is committed before the call returns, so what a response
 * acknowledges survives a restart; a sandbox and everything that refers to it go in one
 * transaction. Rows are read and written through schemas (`SqlSchema`), never mapped by hand.
 * Storage failures are defects: a caller cannot cause them.
 *
 * Sandboxes are read from memory: the table is decoded once when the store opens, and every write
 * updates that copy once it is committed. Lists, creates (whose name must be free) and lookups by
 * name read every sandbox, and decoding every row's JSON on each of them made a list of 5,000
 * cost 25 pages × 5,000 decodes.
 */
export interface Store {
  readonly all: Effect.Effect<ReadonlyArray<SandboxRecord>>
  readonly get: (id: string) => Effect.Effect<Option.Option<SandboxRecord>>
  readonly put: (record: SandboxRecord) => Effect.Effect<void>
  readonly remove: (id: string) => Effect.Effect<void>
  readonly volumes: JsonTable
  readonly snapshots: JsonTable
  /** Organization secrets, their values encrypted (see `secretVault.ts`). */
  readonly secrets: JsonTable
  readonly warmPools: JsonTable
  /** The object storage's objects by key (see `objectStore.ts`). */
  readonly objects: JsonTable
  readonly putSshAccess: (row: SshAccessRow) => Effect.Effect<void>
  readonly sshAccessByToken: (token: string) => Effect.Effect<Option.Option<SshAccessRow>>
  readonly revokeSshAccess: (sandboxId: string, token?: string) => Effect.Effect<void>
  readonly putSignedPreview: (token: string, port: number, sandboxId: string, expiresAt: number) => Effect.Effect<void>
  readonly expireSignedPreview: (sandboxId: string, port: number, token: string) => Effect.Effect<void>
  readonly signedPreview: (
    token: string,
    port: number
  ) => Effect.Effect<Option.Option<{ readonly sandboxId: string; readonly expiresAt: number }>>
}

export class SandboxStore extends Context.Tag("@effect-daytona/local/internal/SandboxStore")<SandboxStore, Store>() {}

/** A storage failure is a defect: no request can cause one, and none can be answered sensibly. */
const orDie = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.orDie(effect)

/**
 * Makes the database readable by its owner only (tokens, environments and SSH tokens are in it):
 * created 0600 when new, so that SQLite gives its journal files the same mode, and set to 0600
 * (with the journal files there are) when a server before this one made it world-readable.
 */
const ownerOnly = async (filename: string) => {
  await (await NodeFs.open(filename, "a", 0o600)).close()
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`, `${filename}-journal`])
    await NodeFs.chmod(file, 0o600).catch(() => undefined)
}

export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  const filename = NodePath.join(config.dataDir, "daytona.db")
  yield* Effect.promise(async () => {
    await NodeFs.mkdir(config.dataDir, { recursive: true })
    await ownerOnly(filename)
  })
  const sql = yield* SqliteClient.make({
    filename,
    transformQueryNames: Str.camelToSnake,
    transformResultNames: Str.snakeToCamel
  })
  yield* sql`CREATE TABLE IF NOT EXISTS sandboxes (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS volumes (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS snapshots (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS secrets (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS warm_pools (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS objects (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS ssh_access (
    token TEXT PRIMARY KEY, id TEXT NOT NULL, sandbox_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS signed_preview (
    token TEXT NOT NULL, port INTEGER NOT NULL, sandbox_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (port, token))`

  const table = (name: "volumes" | "snapshots" | "secrets" | "warm_pools" | "objects"): JsonTable => {
    const all = SqlSchema.findAll({
      Request: Schema.Void,
      Result: JsonRow,
      execute: () => sql`SELECT data FROM ${sql(name)} ORDER BY rowid`
    })
    return {
      all: all(undefined).pipe(
        Effect.map((rows) => rows.map((row) => row.data)),
        orDie
      ),
      put: (id, data) =>
        sql`INSERT INTO ${sql(name)} ${sql.insert({ id, data })}
            ON CONFLICT (id) DO UPDATE SET data = excluded.data`.pipe(Effect.asVoid, orDie),
      remove: (id) => sql`DELETE FROM ${sql(name)} WHERE id = ${id}`.pipe(Effect.asVoid, orDie)
    }
  }

  const allSandboxes = SqlSchema.findAll({
    Request: Schema.Void,
    Result: SandboxRow,
    execute: () => sql`SELECT data FROM sandboxes ORDER BY rowid`
  })
  const putSandbox = SqlSchema.void({
    Request: Schema.Struct({ id: Schema.String, data: SandboxRecordJson }),
    execute: (row) => sql`INSERT INTO sandboxes ${sql.insert(row)} ON CONFLICT (id) DO UPDATE SET data = excluded.data`
  })
  const sshByToken = SqlSchema.findOne({
    Request: Schema.Struct({ token: Schema.String }),
    Result: SshAccess,
    execute: ({ token }) =>
      sql`SELECT id, token, sandbox_id, expires_at, created_at FROM ssh_access WHERE token = ${token}`
  })
  const putSsh = SqlSchema.void({
    Request: SshAccess,
    execute: (row) => sql`INSERT INTO ssh_access ${sql.insert(row)}`
  })
  const signedPreviewOf = SqlSchema.findOne({
    Request: Schema.Struct({ token: Schema.String, port: Schema.Number }),
    Result: SignedPreview,
    execute: ({ port, token }) =>
      sql`SELECT token, port, sandbox_id, expires_at FROM signed_preview WHERE token = ${token} AND port = ${port}`
  })
  const putSignedPreview = SqlSchema.void({
    Request: SignedPreview,
    execute: (row) => sql`INSERT INTO signed_preview ${sql.insert(row)}`
  })

  /** Every stored sandbox by id, in the table's order (an update keeps a row's place, as the rowid does). */
  const sandboxes = new Map<string, SandboxRecord>()
  for (const row of yield* allSandboxes(undefined).pipe(orDie)) sandboxes.set(row.data.id, fromStored(row.data))

  const store: Store = {
    all: Effect.sync(() => Array.from(sandboxes.values())),
    get: (id) => Effect.sync(() => Option.fromNullable(sandboxes.get(id))),
    put: (record) =>
      putSandbox({ id: record.id, data: record }).pipe(
        orDie,
        Effect.tap(() => {
          sandboxes.set(record.id, record)
        })
      ),
    remove: (id) =>
      sql
        .withTransaction(
          Effect.all([
            sql`DELETE FROM sandboxes WHERE id = ${id}`,
            sql`DELETE FROM ssh_access WHERE sandbox_id = ${id}`,
            sql`DELETE FROM signed_preview WHERE sandbox_id = ${id}`
          ])
        )
        .pipe(
          orDie,
          Effect.tap(() => {
            sandboxes.delete(id)
          }),
          Effect.asVoid
        ),
    volumes: table("volumes"),
    snapshots: table("snapshots"),
    secrets: table("secrets"),
    warmPools: table("warm_pools"),
    objects: table("objects"),
    putSshAccess: (row) => putSsh(row).pipe(orDie),
    sshAccessByToken: (token) => sshByToken({ token }).pipe(orDie),
    revokeSshAccess: (sandboxId, token) =>
      (token === undefined
        ? sql`DELETE FROM ssh_access WHERE sandbox_id = ${sandboxId}`
        : sql`DELETE FROM ssh_access WHERE sandbox_id = ${sandboxId} AND token = ${token}`
      ).pipe(Effect.asVoid, orDie),
    putSignedPreview: (token, port, sandboxId, expiresAt) =>
      putSignedPreview({ token, port, sandboxId, expiresAt }).pipe(orDie),
    signedPreview: (token, port) =>
      signedPreviewOf({ token, port }).pipe(
        Effect.map(Option.map((row) => ({ sandboxId: row.sandboxId, expiresAt: row.expiresAt }))),
        orDie
      ),
    expireSignedPreview: (sandboxId, port, token) =>
      sql`DELETE FROM signed_preview WHERE sandbox_id = ${sandboxId} AND port = ${port} AND token = ${token}`.pipe(
        Effect.asVoid,
        orDie
      )
  }
  return store
})

export const layer = Layer.scoped(SandboxStore, make).pipe(Layer.provide(Reactivity.layer))
