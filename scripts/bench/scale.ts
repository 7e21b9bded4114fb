/**
 * The local server's scale rows of `pnpm bench` (alone with `pnpm bench --scale`): what a request
 * costs and how much memory the server holds as sandboxes accumulate. Requests are bare undici calls
 * from the driver process (the server is what is measured here, not a client).
 *
 * - One server as `pnpm bench` runs it (isolation auto): 10, 100 and 500 sandboxes existing, of which
 *   at most 50 started (the others stopped); at each level the server's RSS, the latency of a
 *   create (create → started, each new one stopped again after), of `GET /sandbox/{id}` and of a
 *   toolbox call, and the time to list every sandbox; at 500, 200 concurrent commands across 20
 *   started sandboxes (and, for comparison, 200 on one sandbox).
 * - One server with `--isolation none` (a start spawns no bwrap there, so 5,000 sandboxes can be
 *   created in a few minutes), again ≤ 50 started (a started sandbox holds its control group's
 *   files open): listing 500, 1,000 and 5,000 sandboxes, paging 200 at a time.
 */
import { Agent, request } from "undici"
import { type LocalServer, startServer } from "./server.js"
import { summarize, type Summary } from "./stats.js"

const MiB = 1024 * 1024
const maxStarted = 50

interface Sandbox {
  readonly id: string
  started: boolean
}

/** The figures at one population of the first server. */
export interface ScaleLevel {
  readonly existing: number
  readonly started: number
  readonly serverRss: number
  readonly create: Summary
  readonly get: Summary
  readonly toolboxCall: Summary
  /** Wall time of paging through every sandbox (`GET /sandbox?limit=200`), milliseconds per full listing. */
  readonly listAll: Summary
}

export interface ListLevel {
  readonly existing: number
  readonly pages: number
  readonly listAll: Summary
  /** One page of 200 (the first), milliseconds. */
  readonly firstPage: Summary
}

export interface ScaleResults {
  readonly isolation: string
  readonly transitionMs: number
  readonly levels: ReadonlyArray<ScaleLevel>
  readonly concurrentCommands: {
    readonly commands: number
    readonly across20: Summary
    readonly onOne: Summary
  }
  readonly list: { readonly isolation: string; readonly levels: ReadonlyArray<ListLevel> }
  readonly seconds: number
}

const client = (server: LocalServer) => {
  const dispatcher = new Agent({ connections: 256 })
  const auth = { authorization: `Bearer ${server.apiKey}` }
  const call = async (method: "GET" | "POST", url: string, body?: unknown): Promise<unknown> => {
    const response = await request(url, {
      dispatcher,
      method,
      headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.body.text()
    if (response.statusCode >= 300) throw new Error(`${method} ${url} → ${response.statusCode}: ${text.slice(0, 300)}`)
    return text === "" ? undefined : (JSON.parse(text) as unknown)
  }
  const toolbox = (id: string, path: string) => `${server.url}/toolbox/${id}${path}`
  return {
    close: () => dispatcher.close(),
    create: async (): Promise<string> => {
      const dto = (await call("POST", `${server.apiUrl}/sandbox`, { labels: { bench: "scale" } })) as {
        id: string
        state: string
      }
      if (dto.state !== "started") throw new Error(`create answered ${dto.state}`)
      return dto.id
    },
    stop: (id: string) => call("POST", `${server.apiUrl}/sandbox/${id}/stop`),
    get: (id: string) => call("GET", `${server.apiUrl}/sandbox/${id}`),
    home: (id: string) => call("GET", toolbox(id, "/user-home-dir")),
    exec: (id: string) => call("POST", toolbox(id, "/process/execute"), { command: "echo hi" }),
    /** Pages through every sandbox; returns how many it saw and the pages it took. */
    listAll: async (): Promise<{ readonly count: number; readonly pages: number }> => {
      let cursor: string | null = null
      let count = 0
      let pages = 0
      do {
        const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`
        const page = (await call("GET", `${server.apiUrl}/sandbox?limit=200${query}`)) as {
          items: ReadonlyArray<unknown>
          nextCursor: string | null
        }
        count += page.items.length
        pages++
        cursor = page.nextCursor
      } while (cursor !== null)
      return { count, pages }
    },
    firstPage: () => call("GET", `${server.apiUrl}/sandbox?limit=200`)
  }
}

type Client = ReturnType<typeof client>

const timed = async (rounds: number, f: () => Promise<unknown>): Promise<Summary> => {
  const samples: Array<number> = []
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now()
    await f()
    samples.push(performance.now() - t0)
  }
  return summarize(samples)
}

/** Creates sandboxes, `concurrency` at a time, until `target` exist; keeps at most `started` of them running. */
const grow = async (c: Client, all: Array<Sandbox>, target: number, concurrency: number, started: number) => {
  const worker = async () => {
    while (all.length < target) {
      const slot: Sandbox = { id: "", started: true }
      all.push(slot)
      const id = await c.create()
      ;(slot as { id: string }).id = id
      if (all.filter((s) => s.started && s.id !== "").length > started) {
        slot.started = false
        await c.stop(id)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/** Waits until the started ones have left every transition (stops take `transitionMs`). */
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const scalePhase = async (root: string, log: (message: string) => void): Promise<ScaleResults> => {
  const t0 = performance.now()
  const transitionMs = 20
  const levels: Array<ScaleLevel> = []
  let concurrentCommands: ScaleResults["concurrentCommands"]
  let isolation: string
  {
    const server = await startServer({ root, transitionMs })
    isolation = server.isolation
    const c = client(server)
    const all: Array<Sandbox> = []
    try {
      for (const existing of [10, 100, 500]) {
        log(`scale: growing to ${existing} sandboxes (≤ ${maxStarted} started)`)
        await grow(c, all, existing, 4, maxStarted)
        await settle(500)
        const serverRss = await server.rss()
        const running = all.find((s) => s.started)!
        const get = await timed(50, () => c.get(running.id))
        const toolboxCall = await timed(50, () => c.home(running.id))
        const listAll = await timed(3, () => c.listAll())
        // Creates at this population: each new sandbox is stopped again, so no more than 50 run.
        const create = await timed(10, async () => {
          const id = await c.create()
          all.push({ id, started: false })
          await c.stop(id)
        })
        const level: ScaleLevel = {
          existing,
          started: all.filter((s) => s.started).length,
          serverRss,
          create,
          get,
          toolboxCall,
          listAll
        }
        levels.push(level)
        log(
          `  RSS ${(serverRss / MiB).toFixed(0)} MiB, create ${create.median.toFixed(1)} ms, get ${get.median.toFixed(2)} ms, toolbox ${toolboxCall.median.toFixed(2)} ms, list all ${listAll.median.toFixed(1)} ms`
        )
      }
      const twenty = all.filter((s) => s.started).slice(0, 20)
      log(`scale: 200 concurrent commands across ${twenty.length} sandboxes, and on one`)
      const commands = 200
      await Promise.all(Array.from({ length: commands }, (_, i) => c.exec(twenty[i % twenty.length]!.id))) // warm-up
      const across20 = await timed(5, () =>
        Promise.all(Array.from({ length: commands }, (_, i) => c.exec(twenty[i % twenty.length]!.id)))
      )
      const onOne = await timed(5, () => Promise.all(Array.from({ length: commands }, () => c.exec(twenty[0]!.id))))
      concurrentCommands = { commands, across20, onOne }
      log(`  across 20: ${across20.median.toFixed(0)} ms, on one: ${onOne.median.toFixed(0)} ms`)
    } finally {
      await c.close()
      await server.stop()
    }
  }
  const listLevels: Array<ListLevel> = []
  let listIsolation: string
  {
    const server = await startServer({ root, transitionMs, isolation: "none" })
    listIsolation = server.isolation
    const c = client(server)
    const all: Array<Sandbox> = []
    try {
      for (const existing of [500, 1000, 5000]) {
        log(`scale: growing to ${existing} sandboxes (isolation none)`)
        await grow(c, all, existing, 8, maxStarted)
        const firstPage = await timed(10, () => c.firstPage())
        let pages = 0
        const listAll = await timed(3, async () => {
          const seen = await c.listAll()
          if (seen.count !== all.length) throw new Error(`listed ${seen.count} of ${all.length} sandboxes`)
          pages = seen.pages
        })
        listLevels.push({ existing, pages, listAll, firstPage })
        log(`  first page ${firstPage.median.toFixed(1)} ms, all ${pages} pages ${listAll.median.toFixed(0)} ms`)
      }
    } finally {
      await c.close()
      await server.stop()
    }
  }
  return {
    isolation,
    transitionMs,
    levels,
    concurrentCommands,
    list: { isolation: listIsolation, levels: listLevels },
    seconds: (performance.now() - t0) / 1000
  }
}

const fixed = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1))

/** The scale rows as Markdown, with the cost per extra sandbox between the levels. */
export const renderScale = (r: ScaleResults): string => {
  const out: Array<string> = []
  out.push(
    [
      `| Local server at scale (isolation ${r.isolation}) | ${r.levels.map((l) => `${l.existing} existing (${l.started} started)`).join(" | ")} |`,
      `|---|${r.levels.map(() => "---:").join("|")}|`,
      `| server RSS (MiB) | ${r.levels.map((l) => (l.serverRss / MiB).toFixed(0)).join(" | ")} |`,
      `| create → started, median (ms) | ${r.levels.map((l) => fixed(l.create.median)).join(" | ")} |`,
      `| GET /sandbox/{id}, median (ms) | ${r.levels.map((l) => fixed(l.get.median)).join(" | ")} |`,
      `| toolbox GET /user-home-dir, median (ms) | ${r.levels.map((l) => fixed(l.toolboxCall.median)).join(" | ")} |`,
      `| list every sandbox (pages of 200), median (ms) | ${r.levels.map((l) => fixed(l.listAll.median)).join(" | ")} |`
    ].join("\n")
  )
  const [, hundred, fiveHundred] = r.levels
  if (hundred !== undefined && fiveHundred !== undefined) {
    const extra = fiveHundred.existing - hundred.existing
    out.push(
      `\nPer extra stopped sandbox (100 → 500 existing, 50 started in both): server RSS ${(((fiveHundred.serverRss - hundred.serverRss) / extra / 1024) | 0).toLocaleString("en")} KiB, create ${fixed(((fiveHundred.create.median - hundred.create.median) / extra) * 1000)} µs, GET /sandbox/{id} ${fixed(((fiveHundred.get.median - hundred.get.median) / extra) * 1000)} µs, toolbox call ${fixed(((fiveHundred.toolboxCall.median - hundred.toolboxCall.median) / extra) * 1000)} µs.`
    )
  }
  const cc = r.concurrentCommands
  out.push(
    `\n${cc.commands} concurrent \`executeCommand("echo hi")\` at 500 existing: across 20 started sandboxes ${fixed(cc.across20.median)} ms (p95 ${fixed(cc.across20.p95)}), all on one sandbox ${fixed(cc.onOne.median)} ms (p95 ${fixed(cc.onOne.p95)}); wall time of the batch, median of 5.`
  )
  out.push(
    [
      "",
      `| Listing (isolation ${r.list.isolation}) | ${r.list.levels.map((l) => `${l.existing.toLocaleString("en")} sandboxes`).join(" | ")} |`,
      `|---|${r.list.levels.map(() => "---:").join("|")}|`,
      `| first page of 200, median (ms) | ${r.list.levels.map((l) => fixed(l.firstPage.median)).join(" | ")} |`,
      `| every page, median (ms) | ${r.list.levels.map((l) => `${fixed(l.listAll.median)} (${l.pages} pages)`).join(" | ")} |`,
      `| every page, per sandbox (µs) | ${r.list.levels.map((l) => fixed((l.listAll.median / l.existing) * 1000)).join(" | ")} |`
    ].join("\n")
  )
  out.push(
    `\nScale phase: ${r.seconds.toFixed(0)} s; server transitions ${r.transitionMs} ms; requests are bare undici calls.\n`
  )
  return out.join("\n")
}
