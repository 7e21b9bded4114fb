#!/usr/bin/env node
/**
 * `daytona-local serve [--port 3000] [--host 127.0.0.1] [--data-dir DIR] [--api-key KEY] [--isolation auto|none|bwrap] [--network auto|private|shared] [--limits auto|rlimits] [--transition-ms N]`
 *
 * `--transition-ms` sets how long every lifecycle transition takes (create, start, stop, …);
 * `--limits rlimits` keeps the server from creating control groups.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as LocalConfig from "./LocalConfig.js"
import * as LocalDaytona from "./LocalDaytona.js"
import * as SandboxEngine from "./SandboxEngine.js"

const usage = `usage: daytona-local serve [--port 3000] [--host 127.0.0.1] [--data-dir DIR] [--api-key KEY] [--isolation auto|none|bwrap] [--network auto|private|shared] [--limits auto|rlimits] [--transition-ms N] [--max-connections N]`

const parse = (args: ReadonlyArray<string>): LocalConfig.Options | string => {
  if (args[0] !== "serve") return usage
  const flags = new Map<string, string>()
  for (let i = 1; i < args.length; i++) {
    const [flag, inline] = args[i]!.split("=", 2)
    const value = inline ?? args[++i]
    if (flag === undefined || !flag.startsWith("--") || value === undefined) return usage
    flags.set(flag.slice(2), value)
  }
  const known = new Set([
    "port",
    "host",
    "data-dir",
    "api-key",
    "isolation",
    "network",
    "limits",
    "transition-ms",
    "max-connections"
  ])
  const unknown = [...flags.keys()].find((flag) => !known.has(flag))
  if (unknown !== undefined) return `unknown option --${unknown}\n${usage}`
  const port = Number(flags.get("port") ?? "3000")
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `invalid --port\n${usage}`
  const isolation = flags.get("isolation") ?? "auto"
  if (isolation !== "auto" && isolation !== "none" && isolation !== "bwrap") return `invalid --isolation\n${usage}`
  const sandboxNetwork = flags.get("network") ?? "auto"
  if (sandboxNetwork !== "auto" && sandboxNetwork !== "private" && sandboxNetwork !== "shared")
    return `invalid --network\n${usage}`
  const resourceLimits = flags.get("limits") ?? "auto"
  if (resourceLimits !== "auto" && resourceLimits !== "rlimits") return `invalid --limits\n${usage}`
  const connections = flags.get("max-connections")
  const maxConnections = connections === undefined ? undefined : Number(connections)
  if (maxConnections !== undefined && !(Number.isInteger(maxConnections) && maxConnections >= 1))
    return `invalid --max-connections\n${usage}`
  const transition = flags.get("transition-ms")
  const millis = transition === undefined ? undefined : Number(transition)
  if (millis !== undefined && !(Number.isInteger(millis) && millis >= 0)) return `invalid --transition-ms\n${usage}`
  const timings =
    millis === undefined
      ? undefined
      : Object.fromEntries(Object.keys(LocalConfig.defaultTimings).map((key) => [key, Duration.millis(millis)]))
  return {
    port,
    timings,
    host: flags.get("host"),
    dataDir: flags.get("data-dir"),
    apiKey: flags.get("api-key") ?? process.env.DAYTONA_LOCAL_API_KEY,
    isolation,
    sandboxNetwork,
    resourceLimits,
    maxConnections
  }
}

const options = parse(process.argv.slice(2))

const program =
  typeof options === "string"
    ? Console.error(options).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 2))))
    : Effect.gen(function* () {
        const generated = options.apiKey === undefined
        const server = yield* LocalDaytona.make(options)
        yield* Console.log(`daytona-local listening on ${server.url}`)
        yield* Console.log(`  DAYTONA_API_URL=${server.apiUrl}`)
        if (generated) yield* Console.log(`  DAYTONA_API_KEY=${Redacted.value(server.apiKey)}   (generated)`)
        yield* Console.log(`  data: ${server.dataDir}`)
        const notice = SandboxEngine.securityNotice(server.isolation)
        yield* Console.log(`  isolation: ${server.isolation}`)
        if (notice.warning !== undefined) yield* Console.log(`  WARNING: ${notice.warning}`)
        const limits = server.limits
        yield* Console.log(`  limits (${limits.mechanism}):`)
        for (const [name, limit] of [
          ["memory", limits.memory],
          ["processes", limits.processes],
          ["cpu", limits.cpu],
          ["file size", limits.fileSize],
          ["disk", limits.disk],
          ["networkBlockAll", limits.networkBlockAll],
          ["network allow lists", limits.networkAllowList],
          ["network", limits.networkIsolation]
        ] as const)
          yield* Console.log(`    ${name}: ${limit.how}`)
        if (limits.cgroupsUnavailable !== undefined)
          yield* Console.log(`    (no control groups: ${limits.cgroupsUnavailable})`)
        return yield* Effect.never
      }).pipe(Effect.scoped)

// The server runs every sandbox: an error thrown in some connection's event listener (each such
// path found so far was a bug, fixed where it was) must not end them all, which ending the process
// does (the reaper then kills every sandbox's processes). It is logged, loudly, and serving goes on.
process.on("uncaughtException", (error) => {
  console.error(
    "daytona-local: an error escaped its handler (a bug of the server: please report it); serving goes on:",
    error
  )
})

NodeRuntime.runMain(program)
