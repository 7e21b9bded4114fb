import type { MetricsResponse, SystemMetrics } from "@effect-daytona/sdk/SandboxMetrics"
import { metricNames } from "@effect-daytona/sdk/SandboxMetrics"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { type ControlPlaneError, badRequest } from "./controlPlaneError.js"
import type { SandboxRecord } from "./record.js"
import type { SandboxCore } from "./sandboxCore.js"
import * as SandboxFs from "./sandboxFs.js"

const GiB = 1024 ** 3

/** How long samples are kept. */
const retention = 24 * 3600_000

/** One sample of a sandbox's usage, as Daytona's metrics name its parts (bytes, CPU percent). */
interface Sample {
  readonly at: number
  readonly cpuUsedPct: number
  readonly cpuCount: number
  readonly memUsed: number
  readonly memTotal: number
  readonly memCache: number
  readonly diskUsed: number
  readonly diskTotal: number
}

type Field = Exclude<keyof Sample, "at">

/**
 * Resource metrics of sandboxes, sampled on the clock (every `lifecycleInterval`) while they are
 * started or paused: CPU from the time their processes spent since the previous sample (a
 * percentage of the CPU they were given), memory as the resident memory of their processes, disk
 * as what their own files take. Samples are kept in memory for a day; a restart loses them. The
 * page cache is not measured (`memCache` is 0).
 */
export const make = (core: SandboxCore) => {
  const { engine, config, findLocked } = core
  const samples = new Map<string, Array<Sample>>()
  /** The CPU time of each sandbox's processes at its last sample, to measure the next window. */
  const lastCpu = new Map<string, { readonly at: number; readonly seconds: number }>()

  const measure = (r: SandboxRecord, at: number) =>
    Effect.gen(function* () {
      const usage = yield* engine.usage(r.id)
      if (usage === undefined) return undefined
      const disk = yield* Effect.promise(() => SandboxFs.usage(engine.view(r.id)).catch(() => 0))
      const previous = lastCpu.get(r.id)
      const window = previous === undefined ? 0 : (at - previous.at) / 1000
      const spent = previous === undefined ? 0 : usage.cpuSeconds - previous.seconds
      const cpuUsedPct = window > 0 && r.cpu > 0 ? Math.min(100, Math.max(0, (spent / window / r.cpu) * 100)) : 0
      return {
        sample: {
          at,
          cpuUsedPct,
          cpuCount: r.cpu,
          memUsed: usage.memoryBytes,
          memTotal: Math.round(r.memory * GiB),
          memCache: 0,
          diskUsed: disk,
          diskTotal: Math.round(r.disk * GiB)
        } satisfies Sample,
        cpuSeconds: usage.cpuSeconds
      }
    })

  /** Samples every started or paused sandbox, and forgets the others. */
  const sampleAll = Effect.gen(function* () {
    const at = yield* Clock.currentTimeMillis
    const all = yield* core.settledAll
    const live = new Set<string>()
    for (const r of all) {
      if (r.state !== "started" && r.state !== "paused") continue
      const measured = yield* measure(r, at)
      if (measured === undefined) continue
      live.add(r.id)
      lastCpu.set(r.id, { at, seconds: measured.cpuSeconds })
      const kept = (samples.get(r.id) ?? []).filter((s) => s.at > at - retention)
      kept.push(measured.sample)
      samples.set(r.id, kept)
    }
    for (const id of lastCpu.keys()) if (!live.has(id)) lastCpu.delete(id)
    for (const id of samples.keys()) if (!all.some((r) => r.id === id)) samples.delete(id)
  })

  /** `GET /sandbox/{id}/telemetry/metrics`: the samples between `from` and `to`, one series per metric. */
  const range = (
    idOrName: string,
    from: Date,
    to: Date,
    names: ReadonlyArray<string> | undefined
  ): Effect.Effect<MetricsResponse, ControlPlaneError> =>
    Effect.gen(function* () {
      if (from.getTime() > to.getTime()) return yield* badRequest("from must not be after to")
      const r = yield* findLocked(idOrName)
      const inRange = (samples.get(r.id) ?? []).filter((s) => s.at >= from.getTime() && s.at <= to.getTime())
      const wanted = Object.entries(metricNames).filter(([name]) => names === undefined || names.includes(name))
      return {
        series: wanted.map(([metricName, field]) => ({
          metricName,
          dataPoints: inRange.map((s) => ({ timestamp: new Date(s.at).toISOString(), value: s[field as Field] }))
        }))
      }
    })

  /** The toolbox's `GET /system/metrics`: memory and disk now, CPU over the last sampled window. */
  const latest = (r: SandboxRecord): Effect.Effect<SystemMetrics> =>
    Effect.gen(function* () {
      const at = yield* Clock.currentTimeMillis
      const measured = yield* measure(r, at)
      const last = samples.get(r.id)?.at(-1)
      const now = measured?.sample
      return {
        cpuCount: r.cpu,
        cpuUsedPct: last?.cpuUsedPct ?? 0,
        memUsed: now?.memUsed ?? 0,
        memTotal: Math.round(r.memory * GiB),
        memCache: 0,
        diskUsed: now?.diskUsed ?? 0,
        diskTotal: Math.round(r.disk * GiB),
        diskFree: Math.max(0, Math.round(r.disk * GiB) - (now?.diskUsed ?? 0)),
        timestamp: new Date(at).toISOString(),
        timestampUnix: Math.floor(at / 1000)
      }
    })

  return {
    range,
    latest,
    sampleAll,
    run: sampleAll.pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("metrics sampling failed", cause)),
      Effect.repeat(Schedule.spaced(config.lifecycleInterval)),
      Effect.forkScoped,
      Effect.asVoid
    )
  }
}
