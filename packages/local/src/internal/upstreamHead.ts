import type * as NodeHttp from "node:http"

/**
 * Writes the status line and headers an upstream answered (a sandbox's port, an egress destination)
 * to `response`. Node's client accepts heads that its server refuses to write (a status below 100,
 * a character a header may not hold), and `writeHead` throws then, in an event listener where the
 * throw would end the whole local server: false says the head could not be relayed, and nothing was
 * written, so the caller can still answer 502.
 */
export const writeUpstreamHead = (
  response: NodeHttp.ServerResponse,
  answer: NodeHttp.IncomingMessage,
  headers: ReadonlyArray<string>
): boolean => {
  try {
    response.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers as Array<string>)
    return true
  } catch {
    return false
  }
}
