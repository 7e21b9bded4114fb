import * as Effect from "effect/Effect"

/**
 * Pre-signed file URLs, as Daytona signs them: an HMAC-SHA256 with the sandbox's signing key of
 * `v1:files:<METHOD>:<path>:<expires>` (expires in epoch seconds, 0 for never), base64url without
 * padding, prefixed `v1_`. Computed with Web Crypto, so it runs on Node and in browsers. @internal
 */

/** The operations a file URL can be signed for. @internal */
export const fileOperations = {
  download: { method: "GET", path: "/files/download" },
  upload: { method: "POST", path: "/files/upload-v2" }
} as const

/** The text a file URL's signature covers. @internal */
export const canonical = (method: string, path: string, expires: number): string =>
  `v1:files:${method}:${path}:${expires}`

const base64Url = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return globalThis.btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

/** The signature of a file URL. @internal */
export const signature = (key: string, method: string, path: string, expires: number): Effect.Effect<string> =>
  Effect.promise(async () => {
    const encoder = new TextEncoder()
    const cryptoKey = await globalThis.crypto.subtle.importKey(
      "raw",
      encoder.encode(key),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"]
    )
    const mac = await globalThis.crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(canonical(method, path, expires)))
    return `v1_${base64Url(new Uint8Array(mac))}`
  })

/** A signed URL of a sandbox's toolbox. @internal */
export const signedUrl = (options: {
  readonly toolboxProxyUrl: string
  readonly sandboxId: string
  readonly operation: keyof typeof fileOperations
  readonly path: string
  readonly expires: number
  readonly key: string
}): Effect.Effect<string> => {
  const operation = fileOperations[options.operation]
  return Effect.map(signature(options.key, operation.method, options.path, options.expires), (sig) => {
    const query = new URLSearchParams({ path: options.path, expires: String(options.expires), signature: sig })
    return `${options.toolboxProxyUrl.replace(/\/+$/, "")}/${options.sandboxId}${operation.path}?${query.toString()}`
  })
}
