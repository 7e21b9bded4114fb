/**
 * A counting reverse proxy in front of the local server: every request (and WebSocket upgrade) is
 * logged with its arrival time, then forwarded unchanged. Used only for the request-count phase,
 * so it adds nothing to the latency figures.
 */
import { createServer, request as httpRequest } from "node:http"
import type { AddressInfo } from "node:net"
import { connect } from "node:net"

export interface LoggedRequest {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly upgrade: boolean
}

export interface CountingProxy {
  readonly url: string
  readonly log: ReadonlyArray<LoggedRequest>
  readonly close: () => Promise<void>
}

export const startProxy = async (target: string): Promise<CountingProxy> => {
  const upstream = new URL(target)
  const log: Array<LoggedRequest> = []
  const server = createServer((req, res) => {
    log.push({ at: Date.now(), method: req.method ?? "GET", path: req.url ?? "/", upgrade: false })
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host }
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
    )
    forward.on("error", (error) => {
      if (!res.headersSent) res.writeHead(502)
      res.end(String(error))
    })
    req.pipe(forward)
  })
  server.on("upgrade", (req, socket, head) => {
    log.push({ at: Date.now(), method: req.method ?? "GET", path: req.url ?? "/", upgrade: true })
    const raw = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`]
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
      raw.write(lines.join("\r\n") + "\r\n\r\n")
      if (head.length > 0) raw.write(head)
      raw.pipe(socket)
      socket.pipe(raw)
    })
    raw.on("error", () => socket.destroy())
    socket.on("error", () => raw.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
