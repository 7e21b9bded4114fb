import * as NodeCrypto from "node:crypto"
import * as NodeFsSync from "node:fs"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import * as NodeTls from "node:tls"
import { issue } from "./x509.js"

/**
 * The egress proxy's certificate authority, one per server (per data directory): an ECDSA P-256 key
 * in `<dataDir>/egress/ca-key.pem` (mode 0600, never visible inside a sandbox) and its certificate,
 * made with Node's crypto on first use. Sandboxes that go through the proxy trust it (the machine's
 * bundle plus this certificate), so the proxy can stand in for a host whose requests need a
 * secret's value; it then presents a certificate for that host, issued on demand and kept in memory.
 */

/** Where the machine's CA bundle lives (Debian's path); the sandboxes' copy adds the proxy's CA to it. */
export const systemBundle = "/etc/ssl/certs/ca-certificates.crt"

const organization = "effect-daytona local server"
const authorityName = "daytona-local egress CA"

/** The authority, and what sandboxes need to trust it. */
export interface EgressTrust {
  /** The authority's certificate alone (PEM file). */
  readonly caFile: string
  /** The machine's bundle followed by the authority's certificate (PEM file). */
  readonly bundleFile: string
  /** The authority's certificate. */
  readonly caPem: string
  /** A TLS context presenting a certificate for `host`, issued by the authority. */
  readonly contextFor: (host: string) => NodeTls.SecureContext
}

const readIfExists = (file: string) => NodeFs.readFile(file, "utf8").catch(() => undefined)

const writePrivate = async (file: string, content: string) => {
  const handle = await NodeFs.open(file, "wx", 0o600)
  try {
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
}

/** Loads the authority of `dataDir`, creating it when there is none. */
export const load = async (dataDir: string): Promise<EgressTrust> => {
  const dir = NodePath.join(dataDir, "egress")
  await NodeFs.mkdir(dir, { recursive: true, mode: 0o755 })
  const keyFile = NodePath.join(dir, "ca-key.pem")
  const caFile = NodePath.join(dir, "ca.pem")
  const bundleFile = NodePath.join(dir, "ca-bundle.pem")
  let keyPem = await readIfExists(keyFile)
  let caPem = await readIfExists(caFile)
  if (keyPem === undefined || caPem === undefined) {
    const pair = NodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
    const now = Date.now()
    keyPem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
    caPem = issue({
      subject: authorityName,
      organization,
      publicKey: pair.publicKey,
      issuer: { name: authorityName, key: pair.privateKey, publicKey: pair.publicKey },
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 10 * 365 * 86400_000),
      authority: true
    })
    await NodeFs.rm(keyFile, { force: true })
    await writePrivate(keyFile, keyPem)
    await NodeFs.writeFile(caFile, caPem, { mode: 0o644 })
  }
  await NodeFs.chmod(keyFile, 0o600)
  const system = (await readIfExists(systemBundle)) ?? ""
  const bundle = `${system.trimEnd()}${system === "" ? "" : "\n"}${caPem}`
  await NodeFs.writeFile(bundleFile, bundle, { mode: 0o644 })
  await NodeFs.chmod(bundleFile, 0o644)
  await NodeFs.chmod(caFile, 0o644)

  const caKey = NodeCrypto.createPrivateKey(keyPem)
  const caPublic = NodeCrypto.createPublicKey(caKey)
  const leaf = NodeCrypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  const leafKeyPem = leaf.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
  const contexts = new Map<string, { readonly context: NodeTls.SecureContext; readonly issuedAt: number }>()
  const ca = caPem

  const contextFor = (host: string): NodeTls.SecureContext => {
    const now = Date.now()
    const cached = contexts.get(host)
    if (cached !== undefined && now - cached.issuedAt < 7 * 86400_000) return cached.context
    const cert = issue({
      subject: host.length <= 64 ? host : "egress proxy",
      organization,
      publicKey: leaf.publicKey,
      issuer: { name: authorityName, key: caKey, publicKey: caPublic },
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 30 * 86400_000),
      authority: false,
      hosts: [host]
    })
    const context = NodeTls.createSecureContext({ cert: `${cert}${ca}`, key: leafKeyPem })
    if (contexts.size >= 1000) contexts.clear()
    contexts.set(host, { context, issuedAt: now })
    return context
  }

  return { caFile, bundleFile, caPem: ca, contextFor }
}

/** Whether the machine has the CA bundle the sandboxes' copy replaces. */
export const hasSystemBundle = (): boolean => NodeFsSync.existsSync(systemBundle)
