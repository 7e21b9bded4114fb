/**
 * Effect's metrics (the SDK's `daytona_*` among them) in Prometheus' text exposition format, for a
 * `GET /metrics` endpoint: counters and gauges as they are, histograms as cumulative `_bucket`
 * series with `_sum` and `_count`, frequencies as one series per value.
 */
import * as Effect from "effect/Effect"
import type * as MetricLabel from "effect/MetricLabel"
import * as Metric from "effect/Metric"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"')

const labels = (tags: ReadonlyArray<MetricLabel.MetricLabel>, extra: ReadonlyArray<readonly [string, string]> = []) => {
  const all = [...tags.map((tag) => [tag.key, tag.value] as const), ...extra]
  return all.length === 0 ? "" : `{${all.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`
}

const number = (value: number | bigint) =>
  typeof value === "bigint" ? value.toString() : Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : "-Inf"

/** Every metric of Effect's global registry, as Prometheus text. */
export const render: Effect.Effect<string> = Effect.map(Metric.snapshot, (pairs) => {
  const families = new Map<string, { type: string; help: string; lines: Array<string> }>()
  const family = (name: string, type: string, description: Option.Option<string>) => {
    let found = families.get(name)
    if (found === undefined) {
      found = { type, help: Option.getOrElse(description, () => name), lines: [] }
      families.set(name, found)
    }
    return found.lines
  }
  for (const { metricKey: key, metricState: state } of pairs) {
    if (MetricState.isCounterState(state)) {
      family(key.name, "counter", key.description).push(`${key.name}${labels(key.tags)} ${number(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      family(key.name, "gauge", key.description).push(`${key.name}${labels(key.tags)} ${number(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      const lines = family(key.name, "histogram", key.description)
      for (const [boundary, count] of state.buckets) {
        lines.push(`${key.name}_bucket${labels(key.tags, [["le", number(boundary)]])} ${count}`)
      }
      if (!state.buckets.some(([boundary]) => boundary === Infinity)) {
        lines.push(`${key.name}_bucket${labels(key.tags, [["le", "+Inf"]])} ${state.count}`)
      }
      lines.push(`${key.name}_sum${labels(key.tags)} ${number(state.sum)}`)
      lines.push(`${key.name}_count${labels(key.tags)} ${state.count}`)
    } else if (MetricState.isFrequencyState(state)) {
      const lines = family(key.name, "counter", key.description)
      for (const [value, count] of state.occurrences) {
        lines.push(`${key.name}${labels(key.tags, [["value", value]])} ${count}`)
      }
    }
  }
  const out: Array<string> = []
  for (const [name, { help, lines, type }] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`# HELP ${name} ${help.replace(/\n/g, " ")}`, `# TYPE ${name} ${type}`, ...lines)
  }
  return out.join("\n") + "\n"
})
