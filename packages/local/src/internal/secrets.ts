import * as NodeCrypto from "node:crypto"

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

/** A random token of lowercase letters and digits (preview tokens, SSH tokens, signed URLs). */
export const randomToken = (length: number): string => {
  const bytes = NodeCrypto.randomBytes(length)
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("")
}

/** Compares secrets in constant time. */
export const sameSecret = (given: string, expected: string): boolean =>
  NodeCrypto.timingSafeEqual(
    NodeCrypto.createHash("sha256").update(given).digest(),
    NodeCrypto.createHash("sha256").update(expected).digest()
  )
