/**
 * Tracing and metrics export of the example backend, chosen by `OTEL_EXPORTER`:
 *
 * - unset (the default): nothing is exported, and the SDK sends no trace headers (`traceparent`,
 *   `b3`) to Daytona, since the program has no tracer of its own;
 * - `console`: spans and metrics printed by OpenTelemetry's console exporters;
 * - `otlp`: spans and metrics sent over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT` (default
 *   `http://localhost:4318`), e.g. a local Jaeger or an OpenTelemetry collector.
 *
 * With an exporter, `@effect/opentelemetry` installs its tracer: the SDK's spans
 * (`daytona.<operation>`, `SandboxPool.lease`, …) become OpenTelemetry spans, requests to Daytona
 * carry their trace context, and Effect's metrics (the `daytona_*` ones among them) are read by the
 * metric reader.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import { ConsoleMetricExporter, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import type { MetricReader } from "@opentelemetry/sdk-metrics"
import * as Layer from "effect/Layer"

/** The service name spans and metrics are reported under. */
export const serviceName = "effect-daytona-example"

/** An OpenTelemetry SDK with the given span processor and metric reader. */
export const layer = (options: {
  readonly spanProcessor: SpanProcessor
  readonly metricReader?: MetricReader | undefined
}): Layer.Layer<never> =>
  Layer.discard(
    NodeSdk.layer(() => ({
      resource: { serviceName },
      spanProcessor: options.spanProcessor,
      metricReader: options.metricReader
    }))
  )

/** The exporters `OTEL_EXPORTER` names (see the module's documentation); nothing when unset. */
export const layerFromEnv = (env: NodeJS.ProcessEnv = process.env): Layer.Layer<never> => {
  const exporter = (env["OTEL_EXPORTER"] ?? "").trim()
  const exportIntervalMillis = 10_000
  if (exporter === "console") {
    return layer({
      spanProcessor: new BatchSpanProcessor(new ConsoleSpanExporter()),
      metricReader: new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis })
    })
  }
  if (exporter === "otlp") {
    return layer({
      spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()),
      metricReader: new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis })
    })
  }
  return Layer.empty
}
