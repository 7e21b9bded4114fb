/**
 * A sandbox's resource usage: the time series the control plane keeps
 * (`GET /sandbox/{id}/telemetry/metrics`, OpenTelemetry metric names) and the latest sample its
 * toolbox reports (`GET /system/metrics`), both read as {@link SandboxMetrics}.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as WireSchema from "./WireSchema.js"

const optional = WireSchema.optional

/**
 * One sample of a sandbox's usage. Byte fields are in bytes; `cpuUsedPct` is the CPU time used over
 * the sample's window as a percentage of the sandbox's CPU limit (`cpuCount` cores).
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxMetrics {
  readonly cpuCount: number
  readonly cpuUsedPct: number
  readonly diskTotal: number
  readonly diskUsed: number
  readonly memTotal: number
  readonly memUsed: number
  readonly memCache: number
  readonly timestamp: Date
}

/**
 * The OpenTelemetry metric behind each field of {@link SandboxMetrics}, as Daytona names them.
 *
 * @since 0.1.0
 * @category constants
 */
export const metricNames = {
  "daytona.sandbox.cpu.utilization": "cpuUsedPct",
  "daytona.sandbox.cpu.limit": "cpuCount",
  "daytona.sandbox.memory.usage": "memUsed",
  "daytona.sandbox.memory.limit": "memTotal",
  "daytona.sandbox.memory.cache": "memCache",
  "daytona.sandbox.filesystem.usage": "diskUsed",
  "daytona.sandbox.filesystem.total": "diskTotal"
} as const satisfies Record<string, keyof Omit<SandboxMetrics, "timestamp">>

/**
 * One point of a metric's series.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MetricDataPoint = Schema.Struct({ timestamp: Schema.String, value: Schema.Number }).annotations({
  identifier: "MetricDataPoint"
})

/**
 * One metric's points.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MetricSeries = Schema.Struct({
  metricName: Schema.String,
  dataPoints: Schema.Array(MetricDataPoint)
}).annotations({ identifier: "MetricSeries" })

/**
 * The answer of `GET /sandbox/{sandboxId}/telemetry/metrics`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MetricsResponse = Schema.Struct({ series: Schema.Array(MetricSeries) }).annotations({
  identifier: "MetricsResponse"
})

/**
 * @since 0.1.0
 * @category models
 */
export type MetricsResponse = typeof MetricsResponse.Type

/**
 * The answer of the toolbox's `GET /system/metrics`: the latest sample, every field optional.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SystemMetrics = Schema.Struct({
  cpuCount: optional(Schema.Number),
  cpuUsedPct: optional(Schema.Number),
  diskFree: optional(Schema.Number),
  diskTotal: optional(Schema.Number),
  diskUsed: optional(Schema.Number),
  memCache: optional(Schema.Number),
  memTotal: optional(Schema.Number),
  memUsed: optional(Schema.Number),
  timestamp: optional(Schema.String),
  timestampUnix: optional(Schema.Number)
}).annotations({ identifier: "SystemMetrics" })

/**
 * @since 0.1.0
 * @category models
 */
export type SystemMetrics = typeof SystemMetrics.Type

/**
 * The series of a metrics answer as samples, one per timestamp in time order (a field no series
 * gives for that time is 0; metrics of other names are ignored).
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromSeries = (response: MetricsResponse): ReadonlyArray<SandboxMetrics> => {
  const buckets = new Map<string, Partial<Record<keyof Omit<SandboxMetrics, "timestamp">, number>>>()
  for (const series of response.series) {
    const field = (metricNames as Record<string, keyof Omit<SandboxMetrics, "timestamp"> | undefined>)[
      series.metricName
    ]
    if (field === undefined) continue
    for (const point of series.dataPoints) {
      const bucket = buckets.get(point.timestamp) ?? {}
      bucket[field] = point.value
      buckets.set(point.timestamp, bucket)
    }
  }
  return Array.from(buckets.entries())
    .map(([timestamp, values]) => ({
      cpuCount: values.cpuCount ?? 0,
      cpuUsedPct: values.cpuUsedPct ?? 0,
      diskTotal: values.diskTotal ?? 0,
      diskUsed: values.diskUsed ?? 0,
      memTotal: values.memTotal ?? 0,
      memUsed: values.memUsed ?? 0,
      memCache: values.memCache ?? 0,
      timestamp: new Date(timestamp)
    }))
    .sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime())
}

/**
 * The toolbox's latest sample as {@link SandboxMetrics} (an absent field is 0, an absent timestamp
 * is `now`).
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromSystemMetrics = (metrics: SystemMetrics, now: Date): SandboxMetrics => ({
  cpuCount: metrics.cpuCount ?? 0,
  cpuUsedPct: metrics.cpuUsedPct ?? 0,
  diskTotal: metrics.diskTotal ?? 0,
  diskUsed: metrics.diskUsed ?? 0,
  memTotal: metrics.memTotal ?? 0,
  memUsed: metrics.memUsed ?? 0,
  memCache: metrics.memCache ?? 0,
  timestamp: metrics.timestamp === undefined ? now : new Date(metrics.timestamp)
})
