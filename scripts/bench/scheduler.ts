/**
 * `tsx scripts/bench/scheduler.ts [--rounds <n>]`: whether Effect's scheduler is what makes our
 * SDK's 50 and 200 concurrent calls slower in wall time than the official SDK's.
 *
 * In one process, against one local server and one sandbox, it runs N concurrent `getUserHomeDir`
 * calls of our SDK (from the workspace sources) under Effect's default scheduler (a microtask
 * queue that falls back to `setTimeout(0)` after 2048 drains in a row) and under alternatives set
 * with `Effect.withScheduler`, interleaved round by round with bare undici calls as the floor. It
 * counts the `setTimeout(…, 0)` calls made during each batch (the default scheduler's fallback).
 * The official SDK runs in the same process too (its own rounds), for a comparison within one run.
 */
import * as Daytona from "@effect-daytona/sdk/Daytona"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Scheduler from "effect/Scheduler"
import { Agent, request } from "undici"
import { createSandbox } from "./fixtures.js"
import { startServer } from "./server.js"
import { summarize } from "./stats.js"
import { numberOption } from "./cli.js"
import { root } from "../package/layout.js"

const rounds = numberOption("--rounds", 15)

let zeroTimeouts = 0
const originalSetTimeout = globalThis.setTimeout
globalThis.setTimeout = ((handler: (...args: Array<unknown>) => void, ms?: number, ...args: Array<unknown>) => {
  if (ms === undefined || ms === 0) zeroTimeouts++
  return originalSetTimeout(handler, ms, ...args)
}) as typeof setTimeout

const main = async () => {
  const server = await startServer({ root, transitionMs: 20 })
  const dispatcher = new Agent()
  const auth = { authorization: `Bearer ${server.apiKey}` }
  const runtime = ManagedRuntime.make(
    Daytona.layer({ apiKey: Redacted.make(server.apiKey), apiUrl: server.apiUrl }).pipe(
      Layer.provide(NodeHttpClient.layerUndici)
    )
  )
  try {
    const { id } = await createSandbox(server, { bench: "scheduler" })
    const daytona = await runtime.runPromise(Daytona.Daytona)
    const sandbox = await runtime.runPromise(daytona.get(id))
    const batch = (n: number) =>
      Effect.all(
        Array.from({ length: n }, () => sandbox.getUserHomeDir),
        { concurrency: "unbounded", discard: true }
      )
    const { Daytona: OfficialDaytona } = await import("@daytona/sdk")
    const official = await new OfficialDaytona({ apiKey: server.apiKey, apiUrl: server.apiUrl, target: "local" }).get(
      id
    )
    const undiciCall = async () => {
      const response = await request(`${server.url}/toolbox/${id}/user-home-dir`, { dispatcher, headers: auth })
      await response.body.text()
    }
    const variants: Record<string, (n: number) => Promise<unknown>> = {
      "effect default (MixedScheduler 2048)": (n) => runtime.runPromise(batch(n)),
      "MixedScheduler, no setTimeout fallback": (n) =>
        runtime.runPromise(Effect.withScheduler(batch(n), new Scheduler.MixedScheduler(Number.MAX_SAFE_INTEGER))),
      "batched on setImmediate": (n) =>
        runtime.runPromise(
          Effect.withScheduler(
            batch(n),
            Scheduler.makeBatched((runBatch) => setImmediate(runBatch))
          )
        ),
      "official @daytona/sdk": (n) => Promise.all(Array.from({ length: n }, () => official.getUserHomeDir())),
      "undici (floor)": (n) => Promise.all(Array.from({ length: n }, undiciCall))
    }
    const names = Object.keys(variants)
    for (const n of [50, 200]) {
      const wall: Record<string, Array<number>> = {}
      const cpu: Record<string, Array<number>> = {}
      const timeouts: Record<string, Array<number>> = {}
      for (const name of names) await variants[name]!(n) // warm-up
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? names : [...names].reverse()
        for (const name of order) {
          zeroTimeouts = 0
          const cpu0 = process.cpuUsage()
          const t0 = performance.now()
          await variants[name]!(n)
          ;(wall[name] ??= []).push(performance.now() - t0)
          const used = process.cpuUsage(cpu0)
          ;(cpu[name] ??= []).push((used.user + used.system) / 1000)
          ;(timeouts[name] ??= []).push(zeroTimeouts)
        }
      }
      const floor = summarize(wall["undici (floor)"]!).median
      process.stdout.write(`\n${n} concurrent getUserHomeDir, ${rounds} rounds (mirrored order)\n`)
      process.stdout.write(
        `| variant | wall median ms | wall p95 | client CPU ms median | setTimeout(0) per batch | ÷ undici |\n`
      )
      process.stdout.write(`|---|---:|---:|---:|---:|---:|\n`)
      for (const name of names) {
        const w = summarize(wall[name]!)
        process.stdout.write(
          `| ${name} | ${w.median.toFixed(1)} | ${w.p95.toFixed(1)} | ${summarize(cpu[name]!).median.toFixed(1)} | ${summarize(timeouts[name]!).median} | ${(w.median / floor).toFixed(2)}× |\n`
        )
      }
    }
  } finally {
    await runtime.dispose()
    await dispatcher.close()
    await server.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
