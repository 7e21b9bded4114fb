/**
 * `pnpm bench [--quick]`: our SDK, the official Daytona SDK and bare undici requests side by side
 * against the same local server (started through its CLI as a separate process). Writes
 * `.bench/results.json` and `.bench/results.md` and prints the Markdown.
 *
 * Every client runs in a child process of its own (scripts/bench/client.ts), so its peak RSS is
 * its own; the server's peak RSS is read from /proc (VmHWM, reset between phases).
 *
 * `--quick` skips the 1 GiB transfers (for development only); `--scale` runs only the local
 * server's scale rows (scripts/bench/scale.ts), which a full run appends.
 */
import { execFile } from "node:child_process"
import { mkdir, mkdtemp, rm, statfs, writeFile } from "node:fs/promises"
import { freemem, tmpdir, totalmem } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { request } from "undici"
import type { ChildReport, ClientKind, LatencyResult, SandboxRef, Task, WaitsResult } from "./protocol.js"
import { buildClient, clientScriptOf, runClient } from "./clientProcess.js"
import { ourSdkDirVariable } from "./protocol.js"
import { createSandbox, sha256File, writeRandomFile } from "./fixtures.js"
import { startProxy } from "./proxy.js"
import { renderScale, scalePhase, type ScaleResults } from "./scale.js"
import { type LocalServer, startServer } from "./server.js"
import {
  buildOurSdk,
  coldImport,
  type ImportTiming,
  type InstalledSize,
  installedSize,
  installPackedSdk
} from "./size.js"
import { median, summarize, type Summary } from "./stats.js"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..")
const clientScript = clientScriptOf(root)
const outDir = join(root, ".bench")
const quick = process.argv.includes("--quick")
const scaleOnly = process.argv.includes("--scale")
const kinds: ReadonlyArray<ClientKind> = ["ours", "official", "undici"]
const labels: Record<ClientKind, string> = {
  ours: "@effect-daytona/sdk",
  official: "@daytona/sdk 0.216.0",
  undici: "undici (floor)"
}
const MiB = 1024 * 1024
/** Our SDK compiled from the current sources (see size.ts); the client children import it from here. */
const ourSdkBuildDir = join(outDir, "build/sdk")
/** A project outside the workspace with the packed SDK installed (see size.ts). */
const installedSdkDir = join(tmpdir(), "effect-daytona-bench-installed-sdk")
const mainTransitionMs = 20
const waitsTransitionMs = 500

const started = performance.now()
const log = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`)

// ---------------------------------------------------------------------------------------------
// children
// ---------------------------------------------------------------------------------------------

const runChild = (kind: ClientKind, task: Task): Promise<ChildReport> =>
  runClient(clientScript, kind, task, {
    cwd: root,
    env: { DAYTONA_API_URL: "", [ourSdkDirVariable]: ourSdkBuildDir }
  })

/** Ends the run with the server's own output when it died under a client. */
const assertAlive = (server: LocalServer) => {
  const exit = server.exit()
  if (exit !== undefined) throw new Error(`the local server ${exit}; its output:\n${server.output().slice(-4000)}`)
}

// ---------------------------------------------------------------------------------------------
// direct calls from the driver (setup and cleanup only, never measured)
// ---------------------------------------------------------------------------------------------

const deleteRemote = async (server: LocalServer, sandbox: SandboxRef, path: string): Promise<void> => {
  const url = `${sandbox.toolboxProxyUrl.replace(/\/+$/, "")}/${sandbox.id}/files?path=${encodeURIComponent(path)}`
  const response = await request(url, { method: "DELETE", headers: { authorization: `Bearer ${server.apiKey}` } })
  await response.body.dump()
}

// ---------------------------------------------------------------------------------------------
// phases
// ---------------------------------------------------------------------------------------------

interface LatencyEntry {
  readonly ok: boolean
  readonly error?: string
  readonly small?: Summary
  /** Client CPU time per sequential small call (µs), median over the child processes. */
  readonly smallCpuMicros?: number
  readonly exec?: Summary
  readonly concurrent?: Record<string, Summary>
  readonly createToFirstCommand?: Summary
  readonly eventMode?: string
  readonly maxRss: number
}

const latencyPhase = async (server: LocalServer, sandbox: SandboxRef): Promise<Record<ClientKind, LatencyEntry>> => {
  const task: Task = {
    _tag: "latency",
    server: { apiUrl: server.apiUrl, apiKey: server.apiKey },
    sandbox,
    warmup: 50,
    calls: 200,
    concurrency: [50, 200],
    concurrencyRounds: 5,
    createRounds: 8
  }
  // Two passes in mirrored order (A B C, C B A), samples pooled, so that drift of a busy machine
  // or of the server's state over the phase does not favour whoever runs first.
  const order = [...kinds, ...[...kinds].reverse()]
  const pooled: Partial<Record<ClientKind, Array<LatencyResult>>> = {}
  const out: Partial<Record<ClientKind, LatencyEntry>> = {}
  const peak: Partial<Record<ClientKind, number>> = {}
  for (const kind of order) {
    if (out[kind] !== undefined) continue // failed in the first pass
    log(`latency: ${labels[kind]}`)
    const report = await runChild(kind, task)
    assertAlive(server)
    peak[kind] = Math.max(peak[kind] ?? 0, report.maxRss)
    if (!report.ok || report.result?._tag !== "latency") {
      out[kind] = { ok: false, error: report.error ?? "no result", maxRss: report.maxRss }
      log(`  FAILED: ${report.error}`)
      continue
    }
    ;(pooled[kind] ??= []).push(report.result)
  }
  for (const kind of kinds) {
    const runs = pooled[kind]
    if (out[kind] !== undefined || runs === undefined) continue
    const r: LatencyResult = {
      _tag: "latency",
      small: runs.flatMap((x) => x.small),
      smallCpuMicros: median(runs.map((x) => x.smallCpuMicros)),
      exec: runs.flatMap((x) => x.exec),
      concurrent: Object.fromEntries(
        Object.keys(runs[0]!.concurrent).map((n) => [n, runs.flatMap((x) => x.concurrent[n] ?? [])])
      ),
      createToFirstCommand: runs.flatMap((x) => x.createToFirstCommand),
      ...(runs[0]!.eventMode === undefined ? {} : { eventMode: runs[0]!.eventMode })
    }
    out[kind] = {
      ok: true,
      small: summarize(r.small),
      smallCpuMicros: r.smallCpuMicros,
      exec: summarize(r.exec),
      concurrent: Object.fromEntries(Object.entries(r.concurrent).map(([n, rounds]) => [n, summarize(rounds)])),
      createToFirstCommand: summarize(r.createToFirstCommand),
      ...(r.eventMode === undefined ? {} : { eventMode: r.eventMode }),
      maxRss: peak[kind] ?? 0
    }
  }
  return out as Record<ClientKind, LatencyEntry>
}

interface TransferEntry {
  readonly ok: boolean
  readonly error?: string
  readonly bytes: number
  readonly millis?: number
  readonly mbPerSecond?: number
  /** Client child: RSS once set up, and peak. */
  readonly clientRssReady: number
  readonly clientPeakRss: number
  /** Server: RSS before the transfer, peak during it (VmHWM after a reset). */
  readonly serverRssBefore: number
  readonly serverPeakRss: number
  readonly serverPeakReset: boolean
  readonly sha256Ok?: boolean
}

type Direction = "upload" | "download"
type TransferResults = Record<string, Record<Direction, Record<ClientKind, TransferEntry>>>

const transferPhase = async (
  server: LocalServer,
  sandbox: SandboxRef,
  work: string,
  sizes: ReadonlyArray<{ readonly name: string; readonly bytes: number }>
): Promise<TransferResults> => {
  const results: TransferResults = {}
  const info = { apiUrl: server.apiUrl, apiKey: server.apiKey }
  for (const [index, size] of sizes.entries()) {
    const source = join(work, `source-${size.name}.bin`)
    log(`transfer ${size.name}: generating ${source}`)
    const expected = await writeRandomFile(source, size.bytes)
    const perSize: Record<Direction, Partial<Record<ClientKind, TransferEntry>>> = { upload: {}, download: {} }
    // The first transfer after the latency phases meets a server holding their garbage: the order is
    // mirrored from one size to the next so that no client always goes first.
    for (const kind of index % 2 === 0 ? kinds : [...kinds].reverse()) {
      const remotePath = `bench/${kind}-${size.name}.bin`
      const localCopy = join(work, `download-${kind}-${size.name}.bin`)
      for (const direction of ["upload", "download"] as const) {
        if (direction === "download" && perSize.upload[kind]?.ok !== true) {
          perSize.download[kind] = {
            ok: false,
            error: "not run: the upload failed",
            bytes: size.bytes,
            clientRssReady: 0,
            clientPeakRss: 0,
            serverRssBefore: 0,
            serverPeakRss: 0,
            serverPeakReset: false
          }
          continue
        }
        log(`transfer ${size.name}: ${direction} with ${labels[kind]}`)
        const serverRssBefore = await server.rss()
        const serverPeakReset = await server.resetPeak()
        const task: Task =
          direction === "upload"
            ? { _tag: "upload", server: info, sandbox, localPath: source, remotePath }
            : { _tag: "download", server: info, sandbox, remotePath, localPath: localCopy }
        const report = await runChild(kind, task)
        assertAlive(server)
        const serverPeakRss = await server.peakRss()
        const base = {
          bytes: size.bytes,
          clientRssReady: report.rssReady,
          clientPeakRss: report.maxRss,
          serverRssBefore,
          serverPeakRss,
          serverPeakReset
        }
        if (!report.ok || report.result?._tag !== "transfer") {
          log(`  FAILED: ${report.error}`)
          perSize[direction][kind] = { ...base, ok: false, error: report.error ?? "no result" }
          continue
        }
        const { millis, bytes } = report.result
        let sha256Ok: boolean | undefined
        let error: string | undefined
        if (direction === "download") {
          sha256Ok = bytes === size.bytes && (await sha256File(localCopy)) === expected
          if (!sha256Ok) error = `round trip mismatch: ${bytes} bytes back, SHA-256 differs or size differs`
          await rm(localCopy, { force: true })
          await deleteRemote(server, sandbox, remotePath)
        }
        perSize[direction][kind] = {
          ...base,
          ok: error === undefined,
          ...(error === undefined ? {} : { error }),
          millis,
          mbPerSecond: size.bytes / MiB / (millis / 1000),
          ...(sha256Ok === undefined ? {} : { sha256Ok })
        }
        log(
          `  ${(size.bytes / MiB / (millis / 1000)).toFixed(0)} MiB/s, client peak ${(report.maxRss / MiB).toFixed(0)} MiB, server peak ${(serverPeakRss / MiB).toFixed(0)} MiB (${((serverPeakRss - serverRssBefore) / MiB).toFixed(0)} over its RSS before)${sha256Ok === undefined ? "" : `, sha256 ${sha256Ok ? "ok" : "MISMATCH"}`}`
        )
      }
    }
    await rm(source, { force: true })
    results[size.name] = perSize as Record<Direction, Record<ClientKind, TransferEntry>>
  }
  return results
}

interface WaitsEntry {
  readonly label: string
  readonly ok: boolean
  readonly error?: string
  readonly eventMode?: string
  readonly rounds: number
  /** GET /api/sandbox/{id} requests during create (median per round). */
  readonly createGets?: Summary
  readonly createMs?: Summary
  readonly stopGets?: Summary
  readonly stopMs?: Summary
  /** Socket.IO upgrade attempts over the whole child. */
  readonly socketIoAttempts?: number
}

const waitsPhase = async (): Promise<{ readonly transitionMs: number; readonly entries: Array<WaitsEntry> }> => {
  const server = await startServer({ root, transitionMs: waitsTransitionMs })
  const proxy = await startProxy(server.url)
  const entries: Array<WaitsEntry> = []
  try {
    const variants: ReadonlyArray<{ kind: ClientKind; label: string; deprecatedPolling: boolean }> = [
      { kind: "ours", label: labels.ours, deprecatedPolling: false },
      { kind: "official", label: `${labels.official} (default)`, deprecatedPolling: false },
      { kind: "official", label: `${labels.official} (useDeprecatedPolling)`, deprecatedPolling: true }
    ]
    for (const variant of variants) {
      log(`waits: ${variant.label}`)
      const from = proxy.log.length
      const report = await runChild(variant.kind, {
        _tag: "waits",
        server: { apiUrl: `${proxy.url}/api`, apiKey: server.apiKey },
        rounds: 5,
        deprecatedPolling: variant.deprecatedPolling
      })
      assertAlive(server)
      const seen = proxy.log.slice(from)
      if (!report.ok || report.result?._tag !== "waits") {
        log(`  FAILED: ${report.error}`)
        entries.push({ label: variant.label, ok: false, error: report.error ?? "no result", rounds: 0 })
        continue
      }
      const result: WaitsResult = report.result
      const getsIn = (id: string, from: number, to: number) =>
        seen.filter(
          (r) => r.method === "GET" && r.path.split("?")[0] === `/api/sandbox/${id}` && r.at >= from && r.at <= to
        ).length
      entries.push({
        label: variant.label,
        ok: true,
        ...(result.eventMode === undefined ? {} : { eventMode: result.eventMode }),
        rounds: result.rounds.length,
        createGets: summarize(result.rounds.map((r) => getsIn(r.sandboxId, r.createStart, r.createEnd))),
        createMs: summarize(result.rounds.map((r) => r.createEnd - r.createStart)),
        stopGets: summarize(result.rounds.map((r) => getsIn(r.sandboxId, r.stopStart, r.stopEnd))),
        stopMs: summarize(result.rounds.map((r) => r.stopEnd - r.stopStart)),
        socketIoAttempts: seen.filter((r) => r.path.includes("/socket.io/")).length
      })
    }
  } finally {
    await proxy.close()
    await server.stop()
  }
  return { transitionMs: waitsTransitionMs, entries }
}

const importPhase = async (): Promise<{
  readonly imports: Array<ImportTiming>
  readonly sizes: Array<InstalledSize>
  readonly buildDir: string
}> => {
  const buildDir = ourSdkBuildDir
  log("imports: compiling packages/sdk/src (tsconfig.build.json) into .bench/build/sdk for the client children")
  await buildOurSdk(root, buildDir)
  log(`imports: packing packages/sdk and installing the tarball with its peers in ${installedSdkDir}`)
  const installed = await installPackedSdk(root, installedSdkDir)
  const imports: Array<ImportTiming> = []
  const plan: ReadonlyArray<[string, ReadonlyArray<string>, "esm" | "cjs", string]> = [
    ["node baseline (no import)", [], "esm", root],
    ["@effect-daytona/sdk barrel (installed tarball)", ["@effect-daytona/sdk"], "esm", installed.project],
    [
      "@effect-daytona/sdk deep: @effect-daytona/sdk/Daytona",
      ["@effect-daytona/sdk/Daytona"],
      "esm",
      installed.project
    ],
    [
      "@effect-daytona/sdk user program: effect/Effect + sdk/Daytona + sdk/FileSystem + @effect/platform-node/NodeHttpClient",
      [
        "effect/Effect",
        "@effect-daytona/sdk/Daytona",
        "@effect-daytona/sdk/FileSystem",
        "@effect/platform-node/NodeHttpClient"
      ],
      "esm",
      installed.project
    ],
    [
      "floor of the user program: effect/Effect + @effect/platform-node/NodeHttpClient, no SDK",
      ["effect/Effect", "@effect/platform-node/NodeHttpClient"],
      "esm",
      installed.project
    ],
    ["@daytona/sdk (ESM import)", ["@daytona/sdk"], "esm", root],
    ["@daytona/sdk (CJS require)", ["@daytona/sdk"], "cjs", root],
    ["undici (ESM import)", ["undici"], "esm", root]
  ]
  for (const [label, specifiers, mode, cwd] of plan) {
    log(`imports: ${label}`)
    imports.push(await coldImport(label, specifiers, mode, cwd))
  }
  log("sizes: walking dependency closures")
  const nm = (name: string) => ({ dir: join(root, "node_modules", name) })
  const sizes = [
    await installedSize("@effect-daytona/sdk (packed tarball, installed) + peers effect, @effect/platform", [
      { dir: installed.sdkDir }
    ]),
    await installedSize("@effect-daytona/sdk + peers + @effect/platform-node (NodeHttpClient) and its peers", [
      { dir: installed.sdkDir },
      { dir: join(installed.project, "node_modules/@effect/platform-node") }
    ]),
    await installedSize("@daytona/sdk 0.216.0 + dependencies", [nm("@daytona/sdk")]),
    await installedSize("undici", [nm("undici")])
  ]
  return { imports, sizes, buildDir }
}

// ---------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------

const ms = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? "—" : x < 10 ? x.toFixed(2) : x.toFixed(1))
const mib = (bytes: number | undefined) =>
  bytes === undefined || bytes === 0 ? "—" : `${(bytes / MiB).toFixed(0)} MiB`
const ratio = (value: number | undefined, floor: number | undefined) =>
  value === undefined || floor === undefined || floor === 0 || Number.isNaN(value) || Number.isNaN(floor)
    ? "—"
    : `${(value / floor).toFixed(2)}×`

interface Row {
  readonly metric: string
  readonly cells: Record<ClientKind, string>
  readonly values: Partial<Record<ClientKind, number>>
}

const table = (title: string, note: string, rows: ReadonlyArray<Row>): string => {
  const header = `| ${title} | ${labels.ours} | ${labels.official} | ${labels.undici} | ours ÷ undici | official ÷ undici |`
  const lines = [
    header,
    "|---|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.metric} | ${r.cells.ours} | ${r.cells.official} | ${r.cells.undici} | ${ratio(r.values.ours, r.values.undici)} | ${ratio(r.values.official, r.values.undici)} |`
    )
  ]
  return `${lines.join("\n")}\n\n${note}\n`
}

const render = (results: Results): string => {
  const out: Array<string> = []
  const l = results.latency
  const failed = (e: { ok: boolean; error?: string }) => (e.ok ? undefined : "FAILED")
  out.push(`# effect-daytona benchmark\n`)
  out.push(
    `${results.startedAt}; node ${results.node}; ${results.cpus} CPUs; ${(results.totalMemory / 1024 ** 3).toFixed(1)} GiB RAM; server isolation: ${results.server.isolation}; transitions ${mainTransitionMs} ms; ${results.quick ? "**--quick (no 1 GiB phase)**" : "full run"}; total ${results.totalSeconds.toFixed(0)} s.\n`
  )
  out.push(`Official SDK mode: ${l.official.eventMode ?? "unknown"}.\n`)
  const latencyRow = (metric: string, pick: (e: LatencyEntry) => Summary | undefined, q: "median" | "p95"): Row => {
    const values: Partial<Record<ClientKind, number>> = {}
    const cells = {} as Record<ClientKind, string>
    for (const kind of kinds) {
      const s = pick(l[kind])
      if (s !== undefined) values[kind] = s[q]
      cells[kind] = failed(l[kind]) ?? ms(s?.[q])
    }
    return { metric, cells, values }
  }
  const cpuRow: Row = {
    metric: "getUserHomeDir: client CPU per call (µs)",
    cells: Object.fromEntries(
      kinds.map((kind) => [kind, failed(l[kind]) ?? l[kind].smallCpuMicros?.toFixed(0) ?? "—"])
    ) as Record<ClientKind, string>,
    values: Object.fromEntries(kinds.map((kind) => [kind, l[kind].smallCpuMicros]))
  }
  out.push(
    table(
      "Latency (ms)",
      `Sequential calls after warm-up (${l.ours.small?.n ?? "?"} each, two child processes per client in mirrored order A B C C B A, samples pooled): GET /user-home-dir (\`getUserHomeDir\`) and POST /process/execute (\`executeCommand("echo hi")\`). Concurrent: wall time for N simultaneous getUserHomeDir calls (median/p95 of 10 rounds). create→first command: create() then executeCommand("true") done (16 rounds). Ratio = time ÷ undici time (lower is better).`,
      [
        latencyRow("getUserHomeDir median", (e) => e.small, "median"),
        latencyRow("getUserHomeDir p95", (e) => e.small, "p95"),
        cpuRow,
        latencyRow('executeCommand("echo hi") median', (e) => e.exec, "median"),
        latencyRow('executeCommand("echo hi") p95', (e) => e.exec, "p95"),
        latencyRow("50 concurrent, wall median", (e) => e.concurrent?.["50"], "median"),
        latencyRow("50 concurrent, wall p95", (e) => e.concurrent?.["50"], "p95"),
        latencyRow("200 concurrent, wall median", (e) => e.concurrent?.["200"], "median"),
        latencyRow("200 concurrent, wall p95", (e) => e.concurrent?.["200"], "p95"),
        latencyRow("create → first command median", (e) => e.createToFirstCommand, "median"),
        latencyRow("create → first command p95", (e) => e.createToFirstCommand, "p95")
      ]
    )
  )
  const transferRows: Array<Row> = []
  for (const [size, byDirection] of Object.entries(results.transfers)) {
    for (const direction of ["upload", "download"] as const) {
      const entries = byDirection[direction]
      const row = (metric: string, pick: (e: TransferEntry) => number | undefined, show: (x: number) => string) => {
        const values: Partial<Record<ClientKind, number>> = {}
        const cells = {} as Record<ClientKind, string>
        for (const kind of kinds) {
          const e = entries[kind]
          const v = pick(e)
          if (v !== undefined && e.ok) values[kind] = v
          cells[kind] =
            e.ok || v === undefined || v === 0 ? (v === undefined ? "FAILED" : show(v)) : `FAILED (${show(v)})`
        }
        return { metric, cells, values }
      }
      transferRows.push(
        row(`${size} ${direction}: time (ms)`, (e) => e.millis, ms),
        row(
          `${size} ${direction}: throughput (MiB/s)`,
          (e) => e.mbPerSecond,
          (x) => x.toFixed(0)
        ),
        row(`${size} ${direction}: client peak RSS`, (e) => e.clientPeakRss, mib),
        row(`${size} ${direction}: client RSS before transfer`, (e) => e.clientRssReady, mib),
        row(`${size} ${direction}: server peak RSS`, (e) => e.serverPeakRss, mib),
        row(`${size} ${direction}: server RSS before transfer`, (e) => e.serverRssBefore, mib)
      )
    }
  }
  const sizes = Object.keys(results.transfers).join(" and ")
  out.push(
    table(
      "Transfers",
      `${sizes} of random data, one child process per client and direction. Ours: \`fs.uploadFile(path, FileSystem.localFile(file))\` / \`fs.downloadFileTo\`; official: \`fs.uploadFile(localPath, remote)\` / \`fs.downloadFile(remote, localPath)\`; undici: chunked multipart to /files/bulk-upload streamed from disk / \`GET /files/download\` piped to disk. SHA-256 checked after each round trip. Client peak RSS = \`process.resourceUsage().maxRSS\` at exit; server peak RSS = VmHWM of the server process after \`clear_refs\` reset, which starts from the server's RSS before the transfer (the clients' order is mirrored from one size to the next) (${results.server.peakResetWorks ? "reset works" : "reset NOT permitted: the figure is the server's peak since start"}). Ratio = value ÷ undici value (throughput: higher is better; time and RSS: lower is better).`,
      transferRows
    )
  )
  const w = results.waits
  out.push(
    [
      `| Requests spent per wait (server transitions ${w.transitionMs} ms, via counting proxy) | mode | GET /sandbox/{id} during create (median) | create ms (median) | GET /sandbox/{id} during stop (median) | stop ms (median) | Socket.IO attempts |`,
      "|---|---|---:|---:|---:|---:|---:|",
      ...w.entries.map((e) =>
        e.ok
          ? `| ${e.label} | ${e.eventMode ?? "polling (100 ms, ×1.1 after 5 s, ≤ 1 s)"} | ${e.createGets?.median} | ${ms(e.createMs?.median)} | ${e.stopGets?.median} | ${ms(e.stopMs?.median)} | ${e.socketIoAttempts} |`
          : `| ${e.label} | FAILED: ${e.error} | | | | | |`
      )
    ].join("\n") +
      `\n\nThe local server, like Daytona, holds create until the sandbox has started (up to 30 s), so a create costs no poll; stop answers at once and the client polls until \`stopped\`. ${w.entries[0]?.rounds ?? 0} rounds each. The floor (undici) has no wait of its own.\n`
  )
  out.push(
    [
      "| Cold import (5 fresh node processes, median; page cache warm) | import ms | process wall ms |",
      "|---|---:|---:|",
      ...results.imports.map((i) => `| ${i.label} | ${ms(i.medianImportMs)} | ${ms(i.medianWallMs)} |`)
    ].join("\n") +
      `\n\nOur SDK is imported by its package names from its packed tarball installed in a project of its own in the system's temporary directory (the compiled JavaScript a user gets, not through tsx); the client children of every phase import the same JavaScript compiled from the current sources with its tsconfig.build.json.\n`
  )
  out.push(
    [
      "| Installed size (production dependency closure) | packages | apparent size | disk usage (du) | largest packages (apparent MB) |",
      "|---|---:|---:|---:|---|",
      ...results.sizes.map(
        (s) =>
          `| ${s.label} | ${s.packages} | ${(s.bytes / 1e6).toFixed(1)} MB | ${(s.diskBytes / 1e6).toFixed(1)} MB | ${s.largest
            .slice(0, 4)
            .map((p) => `${p.name} ${(p.bytes / 1e6).toFixed(1)}`)
            .join(", ")} |`
      )
    ].join("\n") +
      `\n\nMethod: walk \`dependencies\`, installed \`optionalDependencies\` and non-optional \`peerDependencies\` from each root through pnpm's layout (Node's lookup from each package's real directory), count each package once, and sum the apparent size of its files (like \`du --apparent-size\`) and their allocated blocks (like plain \`du\`, the method behind official-sdk-wire.md §1's 101 MB for 0.218 via npm). Ours is the packed tarball of packages/sdk (\`pnpm pack:all\`: JS, .d.ts, maps and the sources they point at) installed with pnpm in a project of its own outside the workspace with its peers at the workspace's versions; the others are this workspace's installs. An npm install may dedupe or pick versions differently.\n`
  )
  const failures: Array<string> = []
  for (const kind of kinds) if (!l[kind].ok) failures.push(`latency, ${labels[kind]}: ${l[kind].error}`)
  for (const [size, byDirection] of Object.entries(results.transfers))
    for (const direction of ["upload", "download"] as const)
      for (const kind of kinds) {
        const e = byDirection[direction][kind]
        if (!e.ok) failures.push(`${size} ${direction}, ${labels[kind]}: ${e.error}`)
      }
  for (const e of w.entries) if (!e.ok) failures.push(`waits, ${e.label}: ${e.error}`)
  out.push(renderScale(results.scale))
  if (failures.length > 0) out.push(`## Failures\n\n${failures.map((f) => `- ${f}`).join("\n")}\n`)
  return out.join("\n")
}

interface Results {
  readonly startedAt: string
  readonly node: string
  readonly cpus: number
  readonly totalMemory: number
  readonly quick: boolean
  readonly totalSeconds: number
  readonly server: { readonly isolation: string; readonly peakResetWorks: boolean; readonly transitionMs: number }
  readonly latency: Record<ClientKind, LatencyEntry>
  readonly transfers: TransferResults
  readonly waits: { readonly transitionMs: number; readonly entries: Array<WaitsEntry> }
  readonly imports: Array<ImportTiming>
  readonly sizes: Array<InstalledSize>
  readonly scale: ScaleResults
}

// ---------------------------------------------------------------------------------------------

/** `--scale`: the scale rows alone, written to `.bench/scale.json` and `.bench/scale.md`. */
const scaleMain = async () => {
  const startedAt = new Date().toISOString()
  await mkdir(outDir, { recursive: true })
  const scale = await scalePhase(root, log)
  const markdown = `# effect-daytona benchmark: local server at scale\n\n${startedAt}; node ${process.version}.\n\n${renderScale(scale)}`
  await writeFile(
    join(outDir, "scale.json"),
    JSON.stringify({ startedAt, node: process.version, scale }, null, 2) + "\n"
  )
  await writeFile(join(outDir, "scale.md"), markdown)
  process.stdout.write(markdown)
  log(`wrote .bench/scale.json and .bench/scale.md`)
}

const main = async () => {
  await buildClient(root)
  const startedAt = new Date().toISOString()
  await mkdir(outDir, { recursive: true })
  const tmp = tmpdir()
  const fsInfo = await statfs(tmp)
  const freeDisk = fsInfo.bavail * fsInfo.bsize
  const sizes = [{ name: "64 MiB", bytes: 64 * MiB }, ...(quick ? [] : [{ name: "1 GiB", bytes: 1024 * MiB }])]
  // Source + server copy + downloaded copy of the largest file at once, with a margin.
  const needed = 4 * Math.max(...sizes.map((s) => s.bytes))
  log(
    `free disk in ${tmp}: ${(freeDisk / 1024 ** 3).toFixed(1)} GiB (need ~${(needed / 1024 ** 3).toFixed(1)} GiB); free memory ${(freemem() / 1024 ** 3).toFixed(1)} GiB`
  )
  if (freeDisk < needed) throw new Error(`not enough disk space in ${tmp} for the transfer phase`)
  const cpus = (await promisify(execFile)("nproc")).stdout.trim()

  const { imports, sizes: installed } = await importPhase()

  const work = await mkdtemp(join(tmp, "effect-daytona-bench-"))
  const server = await startServer({ root, transitionMs: mainTransitionMs })
  log(`server ${server.url} (pid ${server.pid}, isolation ${server.isolation})`)
  let latency: Record<ClientKind, LatencyEntry>
  let transfers: TransferResults
  let peakResetWorks = false
  try {
    const sandbox = await createSandbox(server, { "code-toolbox-language": "python", bench: "shared" })
    latency = await latencyPhase(server, sandbox)
    peakResetWorks = await server.resetPeak()
    transfers = await transferPhase(server, sandbox, work, sizes)
  } finally {
    await server.stop()
    await rm(work, { recursive: true, force: true })
  }
  const waits = await waitsPhase()
  const scale = await scalePhase(root, log)

  const results: Results = {
    startedAt,
    node: process.version,
    cpus: Number(cpus),
    totalMemory: totalmem(),
    quick,
    totalSeconds: (performance.now() - started) / 1000,
    server: { isolation: server.isolation, peakResetWorks, transitionMs: mainTransitionMs },
    latency,
    transfers,
    waits,
    imports,
    sizes: installed,
    scale
  }
  const markdown = render(results)
  await writeFile(join(outDir, "results.json"), JSON.stringify(results, null, 2) + "\n")
  await writeFile(join(outDir, "results.md"), markdown)
  process.stdout.write(markdown)
  log(`wrote .bench/results.json and .bench/results.md`)
}

;(scaleOnly ? scaleMain() : main()).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
