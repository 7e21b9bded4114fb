/**
 * What the bench scripts set up on the local server before they measure, with bare undici calls:
 * a started sandbox, a local file of random data to send, and the checksum of what came back.
 */
import { createHash, randomFillSync } from "node:crypto"
import { createReadStream, createWriteStream } from "node:fs"
import { request } from "undici"
import type { SandboxRef, ServerInfo } from "./protocol.js"

const MiB = 1024 * 1024

/** Creates a sandbox and returns it once started (the local server answers a create when it has started). */
export const createSandbox = async (
  server: ServerInfo,
  labels: Readonly<Record<string, string>> = { "code-toolbox-language": "python" }
): Promise<SandboxRef> => {
  const response = await request(`${server.apiUrl}/sandbox`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ labels })
  })
  const dto = (await response.body.json()) as { id: string; toolboxProxyUrl: string; state: string }
  if (response.statusCode !== 200 || dto.state !== "started")
    throw new Error(`create → ${response.statusCode}: ${JSON.stringify(dto)}`)
  return { id: dto.id, toolboxProxyUrl: dto.toolboxProxyUrl }
}

/** Writes `bytes` of random data in 1 MiB chunks (never held whole in memory); returns its SHA-256. */
export const writeRandomFile = async (path: string, bytes: number): Promise<string> => {
  const hash = createHash("sha256")
  const out = createWriteStream(path)
  for (let written = 0; written < bytes; written += MiB) {
    // A new chunk each time: the stream may still hold the last one when `write` returns.
    const piece = randomFillSync(Buffer.allocUnsafe(Math.min(MiB, bytes - written)))
    hash.update(piece)
    if (!out.write(piece)) await new Promise<void>((r) => out.once("drain", () => r()))
  }
  await new Promise<void>((r, j) => out.end((error?: Error | null) => (error ? j(error) : r())))
  return hash.digest("hex")
}

/** The SHA-256 of a local file, read in 4 MiB chunks. */
export const sha256File = async (path: string): Promise<string> => {
  const hash = createHash("sha256")
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * MiB })) hash.update(chunk as Buffer)
  return hash.digest("hex")
}
