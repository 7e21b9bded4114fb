/**
 * The SDK's metrics: Effect `Metric`s in the global registry, updated by every request, wait and
 * sandbox pool, read with `Metric.snapshot` or exported by `@effect/opentelemetry`.
 *
 * | Name | Kind | Tags | What it counts |
 * |---|---|---|---|
 * | `daytona_requests_total` | counter | `operation`, `api`, `status` | HTTP attempts, each with its answer's status (`timeout` or `transport_error` when none came) |
 * | `daytona_request_duration_seconds` | histogram | `operation`, `api` | one attempt, from sending to the answer's head (and its body, when read in memory) |
 * | `daytona_retries_total` | counter | `operation`, `reason` | attempts sent again after a transient failure (`reason`: the status or error of the one before) |
 * | `daytona_wait_duration_seconds` | histogram | `operation`, `outcome` | waits for a sandbox state (`create`, `start`, `stop`, …; `outcome`: `done`, `timeout`, `failed`) |
 * | `daytona_sandboxes_created_total` | counter | | sandboxes `create` / `createScoped` handed out |
 * | `daytona_sandboxes_deleted_total` | counter | | deletes the server accepted |
 * | `daytona_sandboxes_live` | gauge | | sandboxes created by this process and not yet deleted by it |
 * | `daytona_bytes_sent_total` | counter | `api` | request body bytes (bodies of unknown length, such as form data, are not counted) |
 * | `daytona_bytes_received_total` | counter | `api` | bytes of successful answers' bodies, read in memory or as streams |
 * | `daytona_pool_sandboxes` | gauge | `pool`, `language` | sandboxes a pool holds, leased or idle |
 * | `daytona_pool_leased` | gauge | `pool`, `language` | sandboxes leased right now |
 * | `daytona_pool_leases_total` | counter | `pool`, `language`, `outcome` | leases ended: `returned`, `reset`, `discarded`, `failed`, `interrupted` |
 * | `daytona_pool_lease_wait_seconds` | histogram | `pool`, `language` | from asking for a lease to holding a healthy sandbox |
 * | `daytona_pool_health_check_failures_total` | counter | `pool`, `language` | sandboxes found unhealthy before a lease (and replaced) |
 * | `daytona_pool_creates_total` | counter | `pool`, `language`, `outcome` | creates for a pool: `ok`, `failed`, `quota` |
 *
 * `operation` is the operation id of Daytona's API (`createSandbox`, `executeCommand`, …, `undeclared`
 * for raw requests); `api` is `control-plane` or `toolbox`. Durations are in seconds.
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/** 5 ms to about 80 s, doubling. */
const durationBoundaries = MetricBoundaries.exponential({ start: 0.005, factor: 2, count: 15 })

/**
 * HTTP attempts, tagged `operation`, `api` and `status`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requests = Metric.counter("daytona_requests_total", {
  description: "HTTP attempts sent to Daytona, by operation, API and answer status",
  incremental: true
})

/**
 * Duration of one attempt in seconds, tagged `operation` and `api`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestDuration = Metric.histogram(
  "daytona_request_duration_seconds",
  durationBoundaries,
  "Duration of one HTTP attempt, in seconds"
)

/**
 * Attempts sent again after a transient failure, tagged `operation` and `reason`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries = Metric.counter("daytona_retries_total", {
  description: "Requests sent again after a transient failure, by operation and the failure before",
  incremental: true
})

/**
 * Waits for a sandbox state in seconds, tagged `operation` and `outcome`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const waitDuration = Metric.histogram(
  "daytona_wait_duration_seconds",
  durationBoundaries,
  "Duration of waits for a sandbox state, in seconds"
)

/**
 * Sandboxes handed out by `create` and `createScoped`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const sandboxesCreated = Metric.counter("daytona_sandboxes_created_total", {
  description: "Sandboxes created",
  incremental: true
})

/**
 * Sandbox deletes the server accepted.
 *
 * @since 0.1.0
 * @category metrics
 */
export const sandboxesDeleted = Metric.counter("daytona_sandboxes_deleted_total", {
  description: "Sandbox deletes the server accepted",
  incremental: true
})

/**
 * Sandboxes created by this process and not yet deleted by it.
 *
 * @since 0.1.0
 * @category metrics
 */
export const sandboxesLive = Metric.gauge("daytona_sandboxes_live", {
  description: "Sandboxes created by this process and not yet deleted by it"
})

/**
 * Request body bytes sent, tagged `api`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesSent = Metric.counter("daytona_bytes_sent_total", {
  description: "Request body bytes sent, by API",
  incremental: true
})

/**
 * Bytes of successful answers' bodies received, tagged `api`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const bytesReceived = Metric.counter("daytona_bytes_received_total", {
  description: "Bytes of successful answers' bodies received, by API",
  incremental: true
})

/**
 * Sandboxes a pool holds, leased or idle, tagged `pool` and `language`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolSandboxes = Metric.gauge("daytona_pool_sandboxes", {
  description: "Sandboxes a pool holds, leased or idle"
})

/**
 * Sandboxes leased right now, tagged `pool` and `language`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolLeased = Metric.gauge("daytona_pool_leased", { description: "Sandboxes leased from a pool" })

/**
 * Leases ended, tagged `pool`, `language` and `outcome`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolLeases = Metric.counter("daytona_pool_leases_total", {
  description: "Pool leases ended, by outcome",
  incremental: true
})

/**
 * Time from asking for a lease to holding a healthy sandbox, in seconds.
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolLeaseWait = Metric.histogram(
  "daytona_pool_lease_wait_seconds",
  durationBoundaries,
  "Time from asking a pool for a sandbox to holding a healthy one, in seconds"
)

/**
 * Pooled sandboxes found unhealthy before a lease.
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolHealthCheckFailures = Metric.counter("daytona_pool_health_check_failures_total", {
  description: "Pooled sandboxes found unhealthy before a lease and replaced",
  incremental: true
})

/**
 * Creates for a pool, tagged `pool`, `language` and `outcome`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const poolCreates = Metric.counter("daytona_pool_creates_total", {
  description: "Sandbox creates for a pool, by outcome",
  incremental: true
})

/**
 * The name of every metric above.
 *
 * @since 0.1.0
 * @category constants
 */
export const names: ReadonlyArray<string> = [
  "daytona_requests_total",
  "daytona_request_duration_seconds",
  "daytona_retries_total",
  "daytona_wait_duration_seconds",
  "daytona_sandboxes_created_total",
  "daytona_sandboxes_deleted_total",
  "daytona_sandboxes_live",
  "daytona_bytes_sent_total",
  "daytona_bytes_received_total",
  "daytona_pool_sandboxes",
  "daytona_pool_leased",
  "daytona_pool_leases_total",
  "daytona_pool_lease_wait_seconds",
  "daytona_pool_health_check_failures_total",
  "daytona_pool_creates_total"
]
