import type { ListSandboxesQuery } from "@effect-daytona/sdk/ControlPlaneApi"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Listing from "../src/internal/listing.js"
import { reportedState, type SandboxRecord } from "../src/internal/record.js"
import { record } from "./records.js"

type Query = typeof ListSandboxesQuery.Type
type SortField = NonNullable<Query["sort"]>

const sortFields: ReadonlyArray<SortField> = ["name", "cpu", "memoryGib", "diskGib", "lastActivityAt", "createdAt"]

/** A small deterministic generator (mulberry32), so that a failure names its seed. */
const generator = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Sandboxes with few distinct values per field, so that ties (broken by id) are common. */
const randomRecords = (next: () => number, count: number): Array<SandboxRecord> =>
  Array.from({ length: count }, (_, i) => {
    const state = ["started", "stopped", "archived"][Math.floor(next() * 3)]!
    return record(`id-${Math.floor(next() * 1e6)}-${i}`, `n${Math.floor(next() * 5)}`, state, {
      cpu: 1 + Math.floor(next() * 3),
      memory: 1 + Math.floor(next() * 3),
      disk: 3 + Math.floor(next() * 3),
      createdAt: Math.floor(next() * 4),
      lastActivityAt: Math.floor(next() * 4)
    })
  })

/** What a list query answers, by definition: the matching sandboxes sorted by (field, id). */
const reference = (records: ReadonlyArray<SandboxRecord>, query: Query): ReadonlyArray<string> => {
  const field = query.sort ?? "lastActivityAt"
  const value = (r: SandboxRecord): string | number =>
    field === "name"
      ? r.name
      : field === "cpu"
        ? r.cpu
        : field === "memoryGib"
          ? r.memory
          : field === "diskGib"
            ? r.disk
            : field === "createdAt"
              ? r.createdAt
              : r.lastActivityAt
  const sign = query.order === "asc" ? 1 : -1
  return records
    .filter((r) => query.name === undefined || r.name.startsWith(query.name))
    .filter((r) => query.states === undefined || query.states.includes(reportedState(r.state, r.desiredState)))
    .sort((a, b) => {
      const [va, vb] = [value(a), value(b)]
      return sign * (va < vb ? -1 : va > vb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
    })
    .map((r) => r.id)
}

const randomQuery = (next: () => number): Query => ({
  limit: 1 + Math.floor(next() * 7),
  sort: sortFields[Math.floor(next() * sortFields.length)]!,
  order: next() < 0.5 ? "asc" : "desc",
  ...(next() < 0.3 ? { name: `n${Math.floor(next() * 5)}` } : {}),
  ...(next() < 0.3 ? { states: ["started"] } : {})
})

/** Every page of a query, following each page's cursor, over `recordsAt(page)`. */
const walk = (recordsAt: (page: number) => ReadonlyArray<SandboxRecord>, query: Query) =>
  Effect.gen(function* () {
    const ids: Array<string> = []
    let cursor: string | null = null
    for (let page = 0; page < 1_000; page++) {
      const answer: { readonly items: ReadonlyArray<SandboxRecord>; readonly nextCursor: string | null } =
        yield* Listing.cursorPage(recordsAt(page), cursor === null ? query : { ...query, cursor })
      assert.isAtMost(answer.items.length, query.limit!)
      ids.push(...answer.items.map((r) => r.id))
      cursor = answer.nextCursor
      if (cursor === null) return ids
    }
    return assert.fail("the pages never ended")
  })

describe("sandbox listing (cursor pages)", () => {
  it.effect("paging through every sandbox gives each once, in the query's order (property, 200 cases)", () =>
    Effect.gen(function* () {
      for (let seed = 1; seed <= 200; seed++) {
        const next = generator(seed)
        const records = randomRecords(next, Math.floor(next() * 40))
        const query = randomQuery(next)
        const expected = reference(records, query)
        // The same array on every page, then a copy per page.
        const kept = yield* walk(() => records, query)
        assert.deepStrictEqual(kept, expected, `seed ${seed}, query ${JSON.stringify(query)}`)
        const copied = yield* walk(() => [...records], query)
        assert.deepStrictEqual(copied, expected, `seed ${seed} (copies), query ${JSON.stringify(query)}`)
      }
    })
  )

  it.effect("a sandbox that changes between two pages is seen as it is now", () =>
    Effect.gen(function* () {
      const before = Array.from({ length: 6 }, (_, i) => record(`id-${i}`, `name-${i}`))
      // Between the first and the second page, id-0 is renamed to sort last and id-5 to sort first.
      const after = before.map((r) =>
        r.id === "id-0" ? { ...r, name: "name-9" } : r.id === "id-5" ? { ...r, name: "name-00" } : r
      )
      const query: Query = { limit: 2, sort: "name", order: "asc" }
      const ids = yield* walk((page) => (page === 0 ? before : after), query)
      assert.deepStrictEqual(ids, ["id-0", "id-1", "id-2", "id-3", "id-4", "id-0"])
    })
  )

  it.effect("a cursor that does not decode is a 400", () =>
    Effect.gen(function* () {
      const error = yield* Listing.cursorPage([record("a", "a")], { cursor: "zzz" }).pipe(Effect.flip)
      assert.include(JSON.stringify(error), "Invalid cursor provided")
    })
  )
})
