import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as NodeDns from "node:dns/promises"
import * as NodeNet from "node:net"
import { LocalConfig } from "../LocalConfig.js"
import type { EgressOptions } from "../SandboxEngine.js"
import * as EgressProxy from "./egressProxy.js"
import * as EgressTrust from "./egressTrust.js"
import { type Address, type EgressPolicy, normalizeHost } from "./networkRules.js"

/**
 * Makes the egress proxy of each sandbox that needs one (secrets mounted, or an allow list): the
 * server's certificate authority (loaded from the data directory at first use), the resolver (the
 * configured host map first, then the system's), and a proxy reading the sandbox's rules afresh for
 * every connection and request, so a change of secrets or network settings applies at once.
 */
export const make = Effect.gen(function* () {
  const config = yield* LocalConfig
  let trust: Promise<EgressTrust.EgressTrust> | undefined

  const resolve = async (host: string): Promise<ReadonlyArray<Address>> => {
    const name = normalizeHost(host)
    const configured = config.egress.hosts[name]
    if (configured !== undefined)
      return [{ address: configured, family: NodeNet.isIPv6(configured) ? 6 : 4, configured: true }]
    const family = NodeNet.isIP(name)
    if (family !== 0) return [{ address: name, family: family === 6 ? 6 : 4, configured: false }]
    const found = await NodeDns.lookup(name, { all: true })
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4, configured: false }))
  }

  /** The proxy of one sandbox, its rules read through `policy`. */
  const optionsFor = (policy: () => Promise<EgressPolicy>): Effect.Effect<EgressOptions, Error> =>
    Effect.tryPromise({
      try: async () => {
        trust ??= EgressTrust.load(config.dataDir)
        const loaded = await trust.catch((error: unknown) => {
          trust = undefined
          throw error
        })
        const proxy = EgressProxy.make({
          policy,
          trust: loaded,
          resolve,
          upstreamCa: config.egress.trustedCertificates
        })
        return { accept: proxy.accept, close: proxy.close, caFile: loaded.caFile, bundleFile: loaded.bundleFile }
      },
      catch: (cause) => new Error(`cannot prepare the egress proxy: ${String(cause)}`)
    })

  return { optionsFor }
})

/** The egress proxies' factory. */
export interface Egress extends Effect.Effect.Success<typeof make> {}

/** Its tag. */
export class EgressService extends Context.Tag("@effect-daytona/local/internal/Egress")<EgressService, Egress>() {}

/** The factory, from the server's configuration. */
export const layer = Layer.effect(EgressService, make)
