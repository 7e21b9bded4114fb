import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { LocalConfig } from "../LocalConfig.js"
import { type SandboxRecord, SandboxRecordJson } from "./record.js"

export interface SshAccessRow {
  readonly id: string
  readonly token: string
  readonly sandboxId: string
  readonly expiresAt: number
  readonly createdAt: number
}

/** Rows of one kind (volumes, snapshots) stored as JSON documents keyed by id. */
export interface JsonTable {
  readonly all: Effect.Effect<ReadonlyArray<string>>
  readonly put: (id: string, data: string) => Effect.Effect<void>
  readonly remove: (id: string) => Effect.Effect<void>
}

/**
 * Durable state. Every write is committed before the call returns, so what a response
 * acknowledges survives a restart. Storage failures are defects: a caller cannot cause them.
 */
export interface Store {
  readonly all: Effect.Effect<ReadonlyArray<SandboxRecord>>
  readonly get: (id: string) => Effect.Effect<Option.Option<SandboxRecord>>
  readonly put: (record: SandboxRecord) => Effect.Effect<void>
  readonly remove: (id: string) => Effect.Effect<void>
  readonly volumes: JsonTable
  readonly snapshots: JsonTable
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

const decode = Schema.decodeUnknown(SandboxRecordJson)
const encode = Schema.encode(SandboxRecordJson)

const SshRow = Schema.Struct({
  id: Schema.String,
  token: Schema.String,
  sandbox_id: Schema.String,
  expires_at: Schema.Number,
  created_at: Schema.Number
})

export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  yield* Effect.promise(() => NodeFs.mkdir(config.dataDir, { recursive: true }))
  const sql = yield* SqliteClient.make({ filename: NodePath.join(config.dataDir, "daytona.db") })
  yield* sql`CREATE TABLE IF NOT EXISTS sandboxes (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS volumes (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS snapshots (id TEXT PRIMARY KEY, data TEXT NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS ssh_access (
    token TEXT PRIMARY KEY, id TEXT NOT NULL, sandbox_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL)`
  yield* sql`CREATE TABLE IF NOT EXISTS signed_preview (
    token TEXT NOT NULL, port INTEGER NOT NULL, sandbox_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (port, token))`

  const table = (name: "volumes" | "snapshots"): JsonTable => ({
    all: sql<{ data: string }>`SELECT data FROM ${sql(name)} ORDER BY rowid`.pipe(
      Effect.map((rows) => rows.map((row) => row.data)),
      Effect.orDie
    ),
    put: (id, data) =>
      sql`INSERT INTO ${sql(name)} (id, data) VALUES (${id}, ${data})
          ON CONFLICT (id) DO UPDATE SET data = excluded.data`.pipe(Effect.asVoid, Effect.orDie),
    remove: (id) => sql`DELETE FROM ${sql(name)} WHERE id = ${id}`.pipe(Effect.asVoid, Effect.orDie)
  })

  const store: Store = {
    all: sql<{ data: string }>`SELECT data FROM sandboxes`.pipe(
      Effect.flatMap((rows) => Effect.forEach(rows, (row) => decode(row.data))),
      Effect.orDie
    ),
    get: (id) =>
      sql<{ data: string }>`SELECT data FROM sandboxes WHERE id = ${id}`.pipe(
        Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeedNone : Effect.asSome(decode(rows[0]!.data)))),
        Effect.orDie
      ),
    put: (record) =>
      encode(record).pipe(
        Effect.flatMap(
          (data) =>
            sql`INSERT INTO sandboxes (id, data) VALUES (${record.id}, ${data})
                ON CONFLICT (id) DO UPDATE SET data = excluded.data`
        ),
        Effect.asVoid,
        Effect.orDie
      ),
    remove: (id) =>
      Effect.all([
        sql`DELETE FROM sandboxes WHERE id = ${id}`,
        sql`DELETE FROM ssh_access WHERE sandbox_id = ${id}`,
        sql`DELETE FROM signed_preview WHERE sandbox_id = ${id}`
      ]).pipe(Effect.asVoid, Effect.orDie),
    volumes: table("volumes"),
    snapshots: table("snapshots"),
    putSshAccess: (row) =>
      sql`INSERT INTO ssh_access (token, id, sandbox_id, expires_at, created_at)
          VALUES (${row.token}, ${row.id}, ${row.sandboxId}, ${row.expiresAt}, ${row.createdAt})`.pipe(
        Effect.asVoid,
        Effect.orDie
      ),
    sshAccessByToken: (token) =>
      sql`SELECT id, token, sandbox_id, expires_at, created_at FROM ssh_access WHERE token = ${token}`.pipe(
        Effect.flatMap((rows) =>
          rows.length === 0 ? Effect.succeedNone : Effect.asSome(Schema.decodeUnknown(SshRow)(rows[0]))
        ),
        Effect.map(
          Option.map((row) => ({
            id: row.id,
            token: row.token,
            sandboxId: row.sandbox_id,
            expiresAt: row.expires_at,
            createdAt: row.created_at
          }))
        ),
        Effect.orDie
      ),
    revokeSshAccess: (sandboxId, token) =>
      (token === undefined
        ? sql`DELETE FROM ssh_access WHERE sandbox_id = ${sandboxId}`
        : sql`DELETE FROM ssh_access WHERE sandbox_id = ${sandboxId} AND token = ${token}`
      ).pipe(Effect.asVoid, Effect.orDie),
    putSignedPreview: (token, port, sandboxId, expiresAt) =>
      sql`INSERT INTO signed_preview (token, port, sandbox_id, expires_at)
          VALUES (${token}, ${port}, ${sandboxId}, ${expiresAt})`.pipe(Effect.asVoid, Effect.orDie),
    signedPreview: (token, port) =>
      sql<{ sandbox_id: string; expires_at: number }>`SELECT sandbox_id, expires_at FROM signed_preview
          WHERE token = ${token} AND port = ${port}`.pipe(
        Effect.map((rows) =>
          rows.length === 0
            ? Option.none()
            : Option.some({ sandboxId: rows[0]!.sandbox_id, expiresAt: Number(rows[0]!.expires_at) })
        ),
        Effect.orDie
      ),
    expireSignedPreview: (sandboxId, port, token) =>
      sql`DELETE FROM signed_preview WHERE sandbox_id = ${sandboxId} AND port = ${port} AND token = ${token}`.pipe(
        Effect.asVoid,
        Effect.orDie
      )
  }
  return store
})

export const layer = Layer.scoped(SandboxStore, make).pipe(Layer.provide(Reactivity.layer))
