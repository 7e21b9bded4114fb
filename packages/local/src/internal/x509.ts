import * as NodeCrypto from "node:crypto"
import * as NodeNet from "node:net"

/**
 * Just enough of X.509 to issue certificates with Node's crypto: DER encoding of the structures of
 * RFC 5280, ECDSA P-256 keys, SHA-256 signatures. Used for the egress proxy's certificate authority
 * and the per-host certificates it presents when it intercepts HTTPS.
 */

const encodeLength = (length: number): Buffer => {
  if (length < 0x80) return Buffer.from([length])
  const bytes: Array<number> = []
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

const tlv = (tag: number, ...content: ReadonlyArray<Buffer>): Buffer => {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body])
}

const sequence = (...items: ReadonlyArray<Buffer>) => tlv(0x30, ...items)
const set = (...items: ReadonlyArray<Buffer>) => tlv(0x31, ...items)
const explicit = (n: number, item: Buffer) => tlv(0xa0 + n, item)
const octets = (value: Buffer) => tlv(0x04, value)
const bits = (value: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), value)
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]))
const utf8 = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"))

const integer = (value: Buffer): Buffer => {
  let start = 0
  while (start < value.length - 1 && value[start] === 0 && (value[start + 1]! & 0x80) === 0) start++
  const trimmed = value.subarray(start)
  return tlv(0x02, (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed)
}

const oid = (dotted: string): Buffer => {
  const parts = dotted.split(".").map(Number)
  const bytes = [40 * parts[0]! + parts[1]!]
  for (const part of parts.slice(2)) {
    const chunk: Array<number> = [part & 0x7f]
    for (let rest = Math.floor(part / 128); rest > 0; rest = Math.floor(rest / 128)) chunk.unshift(0x80 | (rest & 0x7f))
    bytes.push(...chunk)
  }
  return tlv(0x06, Buffer.from(bytes))
}

/** UTCTime up to 2049, GeneralizedTime after, as RFC 5280 requires. */
const time = (date: Date): Buffer => {
  const iso = date.toISOString().replace(/[-:T]/g, "").slice(0, 14)
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`))
}

const ids = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35"
}

const name = (commonName: string, organization: string) =>
  sequence(
    set(sequence(oid(ids.organization), utf8(organization))),
    set(sequence(oid(ids.commonName), utf8(commonName)))
  )

const extension = (id: string, critical: boolean, value: Buffer) =>
  sequence(oid(id), ...(critical ? [boolean(true)] : []), octets(value))

/** The SHA-1 of a public key's bits, as subject and authority key identifiers are usually made. */
const keyIdentifier = (publicKey: NodeCrypto.KeyObject): Buffer => {
  const spki = publicKey.export({ type: "spki", format: "der" })
  // The key's BIT STRING is the last element of the SubjectPublicKeyInfo sequence.
  return NodeCrypto.createHash("sha1")
    .update(spki.subarray(spki.length - 65))
    .digest()
}

/** What a certificate says and who signs it. */
export interface CertificateRequest {
  readonly subject: string
  readonly organization: string
  readonly publicKey: NodeCrypto.KeyObject
  readonly issuer: {
    readonly name: string
    readonly key: NodeCrypto.KeyObject
    readonly publicKey: NodeCrypto.KeyObject
  }
  readonly notBefore: Date
  readonly notAfter: Date
  /** A certificate authority (may sign certificates), else a server's certificate for `hosts`. */
  readonly authority: boolean
  readonly hosts?: ReadonlyArray<string> | undefined
}

const subjectAltName = (hosts: ReadonlyArray<string>) =>
  sequence(
    ...hosts.map((host) => {
      const family = NodeNet.isIP(host)
      if (family === 4) return tlv(0x87, Buffer.from(host.split(".").map(Number)))
      if (family === 6) return tlv(0x87, ipv6Bytes(host))
      return tlv(0x82, Buffer.from(host, "ascii"))
    })
  )

const ipv6Bytes = (address: string): Buffer => {
  const [head = "", tail = ""] = address.split("::")
  const left = head === "" ? [] : head.split(":")
  const right = address.includes("::") ? (tail === "" ? [] : tail.split(":")) : []
  const groups = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
  return Buffer.from(groups.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]))
}

/** Issues a certificate (PEM) signed by the issuer's key with ECDSA and SHA-256. */
export const issue = (request: CertificateRequest): string => {
  const algorithm = sequence(oid(ids.ecdsaWithSha256))
  const serial = NodeCrypto.randomBytes(16)
  serial[0] = serial[0]! & 0x7f
  const extensions = request.authority
    ? [
        extension(ids.basicConstraints, true, sequence(boolean(true))),
        extension(ids.keyUsage, true, bits(Buffer.from([0x86]), 1)),
        extension(ids.subjectKeyIdentifier, false, octets(keyIdentifier(request.publicKey)))
      ]
    : [
        extension(ids.basicConstraints, true, sequence()),
        extension(ids.keyUsage, true, bits(Buffer.from([0x80]), 7)),
        extension(ids.extKeyUsage, false, sequence(oid(ids.serverAuth))),
        extension(ids.subjectAltName, false, subjectAltName(request.hosts ?? [])),
        extension(ids.subjectKeyIdentifier, false, octets(keyIdentifier(request.publicKey))),
        extension(ids.authorityKeyIdentifier, false, sequence(tlv(0x80, keyIdentifier(request.issuer.publicKey))))
      ]
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    algorithm,
    name(request.issuer.name, request.organization),
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.subject, request.organization),
    request.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, sequence(...extensions))
  )
  const signature = NodeCrypto.sign("sha256", tbs, request.issuer.key)
  const der = sequence(tbs, algorithm, bits(signature))
  const base64 = der.toString("base64").replace(/(.{64})/g, "$1\n")
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`
}
