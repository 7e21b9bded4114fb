import * as NodeNet from "node:net"
import type { RevealedSecret } from "./secretVault.js"

/**
 * What a sandbox's outbound traffic may do, as the egress proxy decides it: `networkBlockAll`,
 * `networkAllowList` (IPv4 CIDRs) and `domainAllowList` (names and `*.` wildcards), and which secret
 * values go in place of their placeholders towards which hosts. Pure functions, no I/O.
 */

/** An IPv4 network: its address as a number and its prefix length. */
export interface Cidr {
  readonly base: number
  readonly bits: number
}

/** The rules of one sandbox, read when a connection or request is decided. */
export interface EgressPolicy {
  readonly blockAll: boolean
  readonly networks: ReadonlyArray<Cidr>
  readonly domains: ReadonlyArray<string>
  /** The secrets the sandbox mounts, with their values. */
  readonly secrets: ReadonlyArray<RevealedSecret>
}

/** A resolved address of a destination; `configured` when it came from the server's own host map. */
export interface Address {
  readonly address: string
  readonly family: 4 | 6
  readonly configured: boolean
}

/** The proxy's verdict on one destination. */
export type Decision =
  | { readonly _tag: "Allow"; readonly address: Address }
  | { readonly _tag: "Deny"; readonly reason: string }

const entries = (list: string | null | undefined): Array<string> =>
  (list ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")

const ipv4Number = (address: string): number => address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0)

/** The networks of a `networkAllowList` (validated on the way in; anything else is skipped). */
export const parseNetworks = (list: string | null | undefined): Array<Cidr> =>
  entries(list).flatMap((entry) => {
    const [address = "", bits = ""] = entry.split("/")
    if (NodeNet.isIPv4(address) && /^\d{1,2}$/.test(bits) && Number(bits) <= 32) {
      const prefix = Number(bits)
      const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
      return [{ base: (ipv4Number(address) & mask) >>> 0, bits: prefix }]
    }
    return []
  })

/** The names of a `domainAllowList`, lowercased. */
export const parseDomains = (list: string | null | undefined): Array<string> =>
  entries(list).map((entry) => entry.toLowerCase())

/** A host name as compared: lowercase, without a final dot or IPv6 brackets. */
export const normalizeHost = (host: string): string =>
  host
    .toLowerCase()
    .replace(/\.$/, "")
    .replace(/^\[(.*)\]$/, "$1")

/** Whether `host` matches `pattern`: the same name, or for `*.example.com` any name below it. */
export const hostMatches = (pattern: string, host: string): boolean => {
  const p = normalizeHost(pattern)
  const h = normalizeHost(host)
  if (p.startsWith("*.")) return h.endsWith(p.slice(1)) && h.length > p.length - 1
  return p === h
}

/** Whether an IPv4 address is inside a network. */
export const inNetwork = (address: string, network: Cidr): boolean => {
  if (!NodeNet.isIPv4(address)) return false
  const mask = network.bits === 0 ? 0 : (0xffffffff << (32 - network.bits)) >>> 0
  return (ipv4Number(address) & mask) >>> 0 === network.base
}

/**
 * 127.0.0.0/8 and 0.0.0.0/8, and in IPv6 `::/96` (`::`, `::1` and the IPv4-compatible form); an
 * IPv4-mapped address (`::ffff:7f00:1`) is checked against the IPv4 ranges. Matched on the address's
 * bytes, so no spelling (`0:0:0:0:0:0:0:1`, `[::ffff:0:0]`, `0::`) gets through.
 */
const loopbackRanges = (() => {
  const ranges = new NodeNet.BlockList()
  ranges.addSubnet("127.0.0.0", 8, "ipv4")
  ranges.addSubnet("0.0.0.0", 8, "ipv4")
  ranges.addSubnet("::", 96, "ipv6")
  return ranges
})()

/**
 * The machine's own loopback and unspecified addresses: inside a sandbox they mean the sandbox
 * itself. What is not an address at all counts as one, so that it is refused.
 */
export const isLoopback = (address: string): boolean => {
  const family = NodeNet.isIP(address)
  return family === 0 || loopbackRanges.check(address, family === 4 ? "ipv4" : "ipv6")
}

/**
 * Decides a destination: `networkBlockAll` refuses everything; with an allow list, the name must
 * match `domainAllowList` or one of its addresses must be in `networkAllowList` (the connection then
 * goes to that address, so a name cannot be allowed on one address and reached on another);
 * without one, any address. The machine's loopback is never a destination unless the server's own
 * host map put it there.
 */
export const decide = (policy: EgressPolicy, host: string, addresses: ReadonlyArray<Address>): Decision => {
  if (policy.blockAll) return { _tag: "Deny", reason: "networkBlockAll is set for this sandbox" }
  const usable = addresses.filter((a) => a.configured || !isLoopback(a.address))
  if (usable.length === 0)
    return {
      _tag: "Deny",
      reason:
        addresses.length === 0
          ? `${host} does not resolve`
          : `${host} is this machine's loopback, which sandboxes do not reach through the egress proxy`
    }
  const restricted = policy.networks.length > 0 || policy.domains.length > 0
  if (!restricted || policy.domains.some((domain) => hostMatches(domain, host)))
    return { _tag: "Allow", address: usable[0]! }
  const inList = usable.find((a) => policy.networks.some((network) => inNetwork(a.address, network)))
  return inList === undefined
    ? { _tag: "Deny", reason: `${host} is not allowed by the sandbox's networkAllowList or domainAllowList` }
    : { _tag: "Allow", address: inList }
}

/** The secrets whose value may go to `host`: those restricted to it, and the unrestricted ones. */
export const secretsFor = (policy: EgressPolicy, host: string): ReadonlyArray<RevealedSecret> =>
  policy.secrets.filter((secret) => secret.hosts.length === 0 || secret.hosts.some((h) => hostMatches(h, host)))

/** `text` with every placeholder of `secrets` replaced by its value. */
export const substitute = (text: string, secrets: ReadonlyArray<RevealedSecret>): string => {
  let out = text
  for (const secret of secrets)
    if (out.includes(secret.placeholder)) out = out.split(secret.placeholder).join(secret.value)
  return out
}
