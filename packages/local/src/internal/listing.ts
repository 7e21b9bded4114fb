import * as Effect from "effect/Effect"
import { type ApiError, badRequest } from "./apiError.js"
import { reportedState, type SandboxRecord } from "./record.js"

/** Query parameters; a repeated key (or `key[]`) gives an array. */
export type Query = Readonly<Record<string, string | ReadonlyArray<string>>>

const one = (query: Query, key: string): string | undefined => {
  const value = query[key] ?? query[`${key}[]`]
  return value === undefined ? undefined : typeof value === "string" ? value : value[0]
}

const many = (query: Query, key: string): ReadonlyArray<string> | undefined => {
  const values = [query[key], query[`${key}[]`]].flatMap((v) =>
    v === undefined ? [] : typeof v === "string" ? [v] : v
  )
  return values.length === 0 ? undefined : values
}

const int = (query: Query, key: string, min: number, max?: number): Effect.Effect<number | undefined, ApiError> => {
  const raw = one(query, key)
  if (raw === undefined) return Effect.succeed(undefined)
  const value = +raw
  if (!Number.isInteger(value)) return Effect.fail(badRequest(`${key} must be an integer number`))
  if (value < min) return Effect.fail(badRequest(`${key} must not be less than ${min}`))
  if (max !== undefined && value > max) return Effect.fail(badRequest(`${key} must not be greater than ${max}`))
  return Effect.succeed(value)
}

const date = (query: Query, key: string): Effect.Effect<number | undefined, ApiError> => {
  const raw = one(query, key)
  if (raw === undefined) return Effect.succeed(undefined)
  const value = Date.parse(raw)
  return Number.isNaN(value)
    ? Effect.fail(badRequest(`${key} must be a valid ISO 8601 date string`))
    : Effect.succeed(value)
}

const bool = (query: Query, key: string): boolean | undefined => {
  const raw = one(query, key)
  return raw === undefined ? undefined : raw === "true"
}

const prefix = (value: string, p: string | undefined) =>
  p === undefined || value.toLowerCase().startsWith(p.toLowerCase())

/** Applies every filter both list endpoints share. */
const filter = (
  records: ReadonlyArray<SandboxRecord>,
  query: Query,
  regionKey: "regionIds" | "regions"
): Effect.Effect<ReadonlyArray<SandboxRecord>, ApiError> =>
  Effect.gen(function* () {
    let labels: Record<string, unknown> | undefined
    const rawLabels = one(query, "labels")
    if (rawLabels !== undefined) {
      try {
        const parsed: unknown = JSON.parse(rawLabels)
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object")
        labels = parsed as Record<string, unknown>
      } catch {
        return yield* badRequest("Invalid labels JSON format")
      }
    }
    const states = many(query, "states")
    if (states?.includes("destroyed"))
      return yield* badRequest("each value in states must be one of the following values, except destroyed")
    const [minCpu, maxCpu, minMemory, maxMemory, minDisk, maxDisk] = yield* Effect.all([
      int(query, "minCpu", 1),
      int(query, "maxCpu", 1),
      int(query, "minMemoryGiB", 1),
      int(query, "maxMemoryGiB", 1),
      int(query, "minDiskGiB", 1),
      int(query, "maxDiskGiB", 1)
    ])
    const [createdAfter, createdBefore, eventAfter, eventBefore] = yield* Effect.all([
      date(query, "createdAtAfter"),
      date(query, "createdAtBefore"),
      date(query, "lastEventAfter"),
      date(query, "lastEventBefore")
    ])
    const includeErroredDeleted = bool(query, "includeErroredDeleted") ?? false
    const snapshots = many(query, "snapshots")
    const regions = many(query, regionKey)
    const classes = many(query, "sandboxClasses")
    const isPublic = bool(query, "isPublic")
    const isRecoverable = bool(query, "isRecoverable")
    const id = one(query, "id")
    const name = one(query, "name")
    return records.filter((r) => {
      if (r.state === "destroyed") return false
      const failed = r.state === "error" || r.state === "build_failed"
      if (failed && r.desiredState === "destroyed" && !includeErroredDeleted) return false
      if (!prefix(r.id, id) || !prefix(r.name, name)) return false
      if (labels !== undefined && !Object.entries(labels).every(([k, v]) => r.labels[k] === v)) return false
      if (states !== undefined && !states.includes(reportedState(r.state, r.desiredState))) return false
      if (snapshots !== undefined && (r.snapshot === null || !snapshots.includes(r.snapshot))) return false
      if (regions !== undefined && !regions.includes(r.target)) return false
      if (classes !== undefined && !classes.includes("container")) return false
      if (minCpu !== undefined && r.cpu < minCpu) return false
      if (maxCpu !== undefined && r.cpu > maxCpu) return false
      if (minMemory !== undefined && r.memory < minMemory) return false
      if (maxMemory !== undefined && r.memory > maxMemory) return false
      if (minDisk !== undefined && r.disk < minDisk) return false
      if (maxDisk !== undefined && r.disk > maxDisk) return false
      if (isPublic !== undefined && r.public !== isPublic) return false
      if (isRecoverable !== undefined && r.recoverable !== isRecoverable) return false
      if (createdAfter !== undefined && r.createdAt < createdAfter) return false
      if (createdBefore !== undefined && r.createdAt > createdBefore) return false
      if (eventAfter !== undefined && r.updatedAt < eventAfter) return false
      if (eventBefore !== undefined && r.updatedAt > eventBefore) return false
      return true
    })
  })

type SortValue = string | number

const sortValue = (r: SandboxRecord, field: string): SortValue => {
  switch (field) {
    case "name":
      return r.name
    case "cpu":
      return r.cpu
    case "memoryGib":
      return r.memory
    case "diskGib":
      return r.disk
    case "createdAt":
      return r.createdAt
    case "updatedAt":
      return r.updatedAt
    case "id":
      return r.id
    case "state":
      return reportedState(r.state, r.desiredState)
    case "snapshot":
      return r.snapshot ?? ""
    case "region":
      return r.target
    default:
      return r.lastActivityAt
  }
}

const compare = (a: readonly [SortValue, string], b: readonly [SortValue, string]): number =>
  a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0

const sorting = (query: Query, fields: ReadonlyArray<string>, fallback: string) => {
  const sort = one(query, "sort") ?? fallback
  const order = one(query, "order") ?? "desc"
  if (!fields.includes(sort))
    return Effect.fail(badRequest(`sort must be one of the following values: ${fields.join(", ")}`))
  if (order !== "asc" && order !== "desc")
    return Effect.fail(badRequest("order must be one of the following values: asc, desc"))
  return Effect.succeed({ sort, sign: order === "asc" ? 1 : -1 })
}

const cursorFields = ["name", "cpu", "memoryGib", "diskGib", "lastActivityAt", "createdAt"]

/** `GET /sandbox`: cursor pagination, the cursor being base64 JSON `{sortValue, id}`. */
export const cursorPage = (records: ReadonlyArray<SandboxRecord>, query: Query) =>
  Effect.gen(function* () {
    const limit = (yield* int(query, "limit", 1, 200)) ?? 100
    const { sign, sort } = yield* sorting(query, cursorFields, "lastActivityAt")
    const rawCursor = one(query, "cursor")
    let after: readonly [SortValue, string] | undefined
    if (rawCursor !== undefined && rawCursor !== "") {
      try {
        const parsed: unknown = JSON.parse(Buffer.from(rawCursor, "base64").toString("utf8"))
        const { sortValue, id } = parsed as { sortValue: unknown; id: unknown }
        if (typeof id !== "string" || (typeof sortValue !== "string" && typeof sortValue !== "number"))
          throw new Error("bad cursor")
        after = [sortValue, id]
      } catch {
        return yield* badRequest("Invalid cursor provided")
      }
    }
    const keyed = (yield* filter(records, query, "regionIds"))
      .map((r) => ({ r, key: [sortValue(r, sort), r.id] as const }))
      .sort((a, b) => sign * compare(a.key, b.key))
    const start = after === undefined ? keyed : keyed.filter((k) => sign * compare(k.key, after) > 0)
    const page = start.slice(0, limit)
    const last = page[page.length - 1]
    const nextCursor =
      start.length > limit && last !== undefined
        ? Buffer.from(JSON.stringify({ sortValue: last.key[0], id: last.r.id })).toString("base64")
        : null
    return { items: page.map((k) => k.r), nextCursor }
  })

const pageFields = ["id", "name", "state", "snapshot", "region", "updatedAt", "createdAt", "lastActivityAt"]

/** The deprecated `GET /sandbox/paginated`: numbered pages. */
export const numberedPage = (records: ReadonlyArray<SandboxRecord>, query: Query) =>
  Effect.gen(function* () {
    const page = (yield* int(query, "page", 1)) ?? 1
    const limit = (yield* int(query, "limit", 1, 200)) ?? 100
    const { sign, sort } = yield* sorting(query, pageFields, "createdAt")
    const sorted = [...(yield* filter(records, query, "regions"))].sort(
      (a, b) => sign * compare([sortValue(a, sort), a.id], [sortValue(b, sort), b.id])
    )
    return {
      items: sorted.slice((page - 1) * limit, page * limit),
      total: sorted.length,
      page,
      totalPages: Math.ceil(sorted.length / limit)
    }
  })
