import type { ListSandboxesPaginatedQuery, ListSandboxesQuery } from "@effect-daytona/sdk/ControlPlaneApi"
import * as Effect from "effect/Effect"
import { badRequest } from "./controlPlaneError.js"
import { reportedState, type SandboxRecord } from "./record.js"

/** The filters both list endpoints share, decoded by their declarations. */
type Filters = typeof ListSandboxesQuery.Type | typeof ListSandboxesPaginatedQuery.Type

const prefix = (value: string, p: string | undefined) =>
  p === undefined || value.toLowerCase().startsWith(p.toLowerCase())

/** Applies every filter both list endpoints share. */
const filter = (
  records: ReadonlyArray<SandboxRecord>,
  query: Filters,
  regions: ReadonlyArray<string> | undefined,
  only: {
    readonly isPublic?: boolean | undefined
    readonly isRecoverable?: boolean | undefined
    readonly createdAtAfter?: Date | undefined
    readonly createdAtBefore?: Date | undefined
    readonly sandboxClasses?: ReadonlyArray<string> | undefined
    readonly autoDestroyAtAfter?: Date | undefined
    readonly autoDestroyAtBefore?: Date | undefined
    readonly includeWarm?: boolean | undefined
  }
): ReadonlyArray<SandboxRecord> => {
  const includeErroredDeleted = query.includeErroredDeleted ?? false
  const time = (date: Date | undefined) => date?.getTime()
  const [createdAfter, createdBefore] = [time(only.createdAtAfter), time(only.createdAtBefore)]
  const [eventAfter, eventBefore] = [time(query.lastEventAfter), time(query.lastEventBefore)]
  const [destroyAfter, destroyBefore] = [time(only.autoDestroyAtAfter), time(only.autoDestroyAtBefore)]
  return records.filter((r) => {
    if (r.state === "destroyed") return false
    // Unclaimed members of a warm pool are listed only when asked for.
    if (r.warmPoolId !== null && only.includeWarm !== true) return false
    if (destroyAfter !== undefined && (r.autoDestroyAt === null || r.autoDestroyAt < destroyAfter)) return false
    if (destroyBefore !== undefined && (r.autoDestroyAt === null || r.autoDestroyAt > destroyBefore)) return false
    const failed = r.state === "error" || r.state === "build_failed"
    if (failed && r.desiredState === "destroyed" && !includeErroredDeleted) return false
    if (!prefix(r.id, query.id) || !prefix(r.name, query.name)) return false
    if (query.labels !== undefined && !Object.entries(query.labels).every(([k, v]) => r.labels[k] === v)) return false
    if (query.states !== undefined && !query.states.includes(reportedState(r.state, r.desiredState))) return false
    if (query.snapshots !== undefined && (r.snapshot === null || !query.snapshots.includes(r.snapshot))) return false
    if (regions !== undefined && !regions.includes(r.target)) return false
    if (only.sandboxClasses !== undefined && !only.sandboxClasses.includes("container")) return false
    if (query.minCpu !== undefined && r.cpu < query.minCpu) return false
    if (query.maxCpu !== undefined && r.cpu > query.maxCpu) return false
    if (query.minMemoryGiB !== undefined && r.memory < query.minMemoryGiB) return false
    if (query.maxMemoryGiB !== undefined && r.memory > query.maxMemoryGiB) return false
    if (query.minDiskGiB !== undefined && r.disk < query.minDiskGiB) return false
    if (query.maxDiskGiB !== undefined && r.disk > query.maxDiskGiB) return false
    if (only.isPublic !== undefined && r.public !== only.isPublic) return false
    if (only.isRecoverable !== undefined && r.recoverable !== only.isRecoverable) return false
    if (createdAfter !== undefined && r.createdAt < createdAfter) return false
    if (createdBefore !== undefined && r.createdAt > createdBefore) return false
    if (eventAfter !== undefined && r.updatedAt < eventAfter) return false
    if (eventBefore !== undefined && r.updatedAt > eventBefore) return false
    return true
  })
}

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

/** `GET /sandbox`: cursor pagination, the cursor being base64 JSON `{sortValue, id}`. */
export const cursorPage = (records: ReadonlyArray<SandboxRecord>, query: typeof ListSandboxesQuery.Type) =>
  Effect.gen(function* () {
    const limit = query.limit ?? 100
    const sort = query.sort ?? "lastActivityAt"
    const sign = query.order === "asc" ? 1 : -1
    let after: readonly [SortValue, string] | undefined
    if (query.cursor !== undefined && query.cursor !== "") {
      try {
        const parsed: unknown = JSON.parse(Buffer.from(query.cursor, "base64").toString("utf8"))
        const { sortValue, id } = parsed as { sortValue: unknown; id: unknown }
        if (typeof id !== "string" || (typeof sortValue !== "string" && typeof sortValue !== "number"))
          throw new Error("bad cursor")
        after = [sortValue, id]
      } catch {
        return yield* badRequest("Invalid cursor provided")
      }
    }
    const keyed = filter(records, query, query.regionIds, query).map((r) => ({
      r,
      key: [sortValue(r, sort), r.id] as const
    }))
    // Only what follows the cursor is sorted: paging through N sandboxes sorts N/2 per page on average, not N.
    const start = (after === undefined ? keyed : keyed.filter((k) => sign * compare(k.key, after) > 0)).sort(
      (a, b) => sign * compare(a.key, b.key)
    )
    const page = start.slice(0, limit)
    const last = page[page.length - 1]
    const nextCursor =
      start.length > limit && last !== undefined
        ? Buffer.from(JSON.stringify({ sortValue: last.key[0], id: last.r.id })).toString("base64")
        : null
    return { items: page.map((k) => k.r), nextCursor }
  })

/** The deprecated `GET /sandbox/paginated`: numbered pages. */
export const numberedPage = (records: ReadonlyArray<SandboxRecord>, query: typeof ListSandboxesPaginatedQuery.Type) => {
  const page = query.page ?? 1
  const limit = query.limit ?? 100
  const sort = query.sort ?? "createdAt"
  const sign = query.order === "asc" ? 1 : -1
  const sorted = [...filter(records, query, query.regions, {})].sort(
    (a, b) => sign * compare([sortValue(a, sort), a.id], [sortValue(b, sort), b.id])
  )
  return {
    items: sorted.slice((page - 1) * limit, page * limit),
    total: sorted.length,
    page,
    totalPages: Math.ceil(sorted.length / limit)
  }
}
