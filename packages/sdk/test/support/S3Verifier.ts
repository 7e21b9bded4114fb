import { createHash, createHmac } from "node:crypto"

/** A server's check of a request's `Authorization` header, from the specification, with Node's crypto. */
export const verify = (
  method: string,
  url: URL,
  headers: Readonly<Record<string, string>>,
  secret: string
): boolean => {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      headers.authorization ?? ""
    )
  if (match === null) return false
  const [, , day = "", region = "", service = "", signedHeaders = "", signature] = match
  const encode = (text: string) =>
    encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
  const query = [...url.searchParams.entries()]
    .map(([key, value]) => `${encode(key)}=${encode(value)}`)
    .sort()
    .join("&")
  const names = signedHeaders.split(";")
  const canonical = [
    method,
    url.pathname,
    query,
    names.map((name) => `${name}:${(headers[name] ?? "").trim()}\n`).join(""),
    signedHeaders,
    headers["x-amz-content-sha256"]
  ].join("\n")
  const toSign = [
    "AWS4-HMAC-SHA256",
    headers["x-amz-date"],
    `${day}/${region}/${service}/aws4_request`,
    createHash("sha256").update(canonical).digest("hex")
  ].join("\n")
  const key = [day, region, service, "aws4_request"].reduce<Buffer>(
    (k, part) => createHmac("sha256", k).update(part).digest(),
    Buffer.from(`AWS4${secret}`)
  )
  return createHmac("sha256", key).update(toSign).digest("hex") === signature
}
