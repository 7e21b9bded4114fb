import * as NodeHttp from "node:http"
import * as NodeHttps from "node:https"
import * as NodeNet from "node:net"
import * as NodeTls from "node:tls"
import type { EgressTrust } from "./egressTrust.js"
import {
  type Address,
  type Decision,
  decide,
  type EgressPolicy,
  normalizeHost,
  secretsFor,
  substitute
} from "./networkRules.js"
import type { RevealedSecret } from "./secretVault.js"
import { writeUpstreamHead } from "./upstreamHead.js"

/**
 * Connections one sandbox may hold open to its proxy at once: each is a descriptor of the server,
 * whose limit every sandbox and the API share. Beyond it a new connection is closed at once.
 */
const maxClientConnections = 256
/** A connection that has sent no request head within this is closed. */
const headerMillis = 30_000
/** A connection (a tunnel included) on which nothing moves for this long is closed. */
const idleMillis = 10 * 60_000

/**
 * The egress proxy of one sandbox: an HTTP proxy (absolute-form requests and `CONNECT`) that is the
 * sandbox's only way out when it has secrets or network rules. Every destination is decided by the
 * sandbox's current rules (`networkRules.decide`). Towards a host that a mounted secret may go to,
 * placeholders in the request line and headers are replaced by the secret's value: in plain HTTP
 * directly, in HTTPS by terminating TLS with a certificate of the server's own authority (which the
 * sandbox trusts) and opening a verified TLS connection to the real host. `CONNECT` to any other
 * allowed host is a plain tunnel: the proxy never sees that traffic, and placeholders stay as they
 * are. Bodies are passed through unchanged. Nothing here is logged.
 */

/** What a sandbox's proxy reads for each connection and request. */
export interface ProxyDependencies {
  /** The sandbox's rules and mounted secrets, as they are now. */
  readonly policy: () => Promise<EgressPolicy>
  readonly trust: EgressTrust
  /** The addresses of a host (the server's host map first, then the system's resolver). */
  readonly resolve: (host: string) => Promise<ReadonlyArray<Address>>
  /** Certificates trusted for upstream HTTPS besides the system's (a private authority). */
  readonly upstreamCa: ReadonlyArray<string>
}

/** One sandbox's proxy: hand it each connection the sandbox opens; close it when the sandbox stops. */
export interface EgressProxy {
  readonly accept: (socket: NodeNet.Socket) => void
  readonly close: () => void
}

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade"
])

/** Raw headers without hop-by-hop ones (and those `Connection` names), placeholders replaced. */
const forwardedHeaders = (raw: ReadonlyArray<string>, secrets: ReadonlyArray<RevealedSecret>): Array<string> => {
  const named = new Set<string>()
  for (let i = 0; i + 1 < raw.length; i += 2)
    if (raw[i]!.toLowerCase() === "connection")
      for (const token of raw[i + 1]!.split(",")) named.add(token.trim().toLowerCase())
  const out: Array<string> = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (hopByHop.has(name) || named.has(name)) continue
    out.push(raw[i]!, substitute(raw[i + 1]!, secrets))
  }
  return out
}

const plainReply = (status: number, message: string) => {
  const body = `${message}\n`
  return (
    `HTTP/1.1 ${status} ${NodeHttp.STATUS_CODES[status] ?? "Error"}\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Daytona-Egress: refused\r\nConnection: close\r\n\r\n${body}`
  )
}

const reply = (res: NodeHttp.ServerResponse, status: number, message: string) => {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "x-daytona-egress": "refused" })
  res.end(`${message}\n`)
}

/** `host:port` of a CONNECT, IPv6 in brackets. */
const authority = (target: string): { readonly host: string; readonly port: number } | undefined => {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(target)
  if (match === null) return undefined
  const port = Number(match[2])
  return port >= 1 && port <= 65535 ? { host: normalizeHost(match[1]!), port } : undefined
}

export const make = (deps: ProxyDependencies): EgressProxy => {
  const sockets = new Set<NodeNet.Socket>()
  const track = (socket: NodeNet.Socket) => {
    sockets.add(socket)
    socket.on("error", () => {})
    socket.once("close", () => sockets.delete(socket))
  }
  const upstreamCa = deps.upstreamCa.length === 0 ? undefined : [...NodeTls.rootCertificates, ...deps.upstreamCa]

  const verdict = async (host: string): Promise<{ readonly policy: EgressPolicy; readonly decision: Decision }> => {
    const policy = await deps.policy()
    if (policy.blockAll) return { policy, decision: decide(policy, host, []) }
    const addresses = await deps.resolve(host).catch(() => [] as ReadonlyArray<Address>)
    return { policy, decision: decide(policy, host, addresses) }
  }

  /** Sends one request on to its destination and its answer back; placeholders replaced for `host`. */
  const forward = (
    req: NodeHttp.IncomingMessage,
    res: NodeHttp.ServerResponse,
    target: { readonly host: string; readonly port: number; readonly address: Address; readonly tls: boolean },
    path: string,
    secrets: ReadonlyArray<RevealedSecret>
  ) => {
    const options: NodeHttps.RequestOptions = {
      host: target.address.address,
      family: target.address.family,
      port: target.port,
      method: req.method ?? "GET",
      path: substitute(path, secrets),
      headers: forwardedHeaders(req.rawHeaders, secrets) as unknown as NodeHttp.OutgoingHttpHeaders,
      setHost: false,
      agent: false,
      timeout: 30_000
    }
    const upstream = target.tls
      ? NodeHttps.request({
          ...options,
          ...(NodeNet.isIP(target.host) === 0 ? { servername: target.host } : {}),
          ...(upstreamCa === undefined ? {} : { ca: upstreamCa })
        })
      : NodeHttp.request(options)
    upstream.on("response", (answer) => {
      const headers: Array<string> = []
      for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2)
        if (!hopByHop.has(answer.rawHeaders[i]!.toLowerCase()))
          headers.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!)
      if (!writeUpstreamHead(res, answer, headers)) {
        reply(
          res,
          502,
          `the egress proxy could not relay the answer of ${target.host}: its status or a header is invalid`
        )
        upstream.destroy()
        return
      }
      answer.pipe(res)
      answer.on("error", () => res.destroy())
    })
    upstream.on("timeout", () => upstream.destroy(new Error("no answer within 30 s")))
    upstream.on("error", (error) =>
      reply(res, 502, `the egress proxy could not reach ${target.host}: ${error.message}`)
    )
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy()
    })
    req.pipe(upstream)
  }

  /** Plain HTTP: absolute-form requests (`GET http://host/path`). */
  const onRequest = (req: NodeHttp.IncomingMessage, res: NodeHttp.ServerResponse) => {
    req.socket.setTimeout(idleMillis)
    let url: URL
    try {
      url = new URL(req.url ?? "")
    } catch {
      return reply(res, 400, "this is the sandbox's egress proxy: send proxy requests (absolute URLs, or CONNECT)")
    }
    if (url.protocol !== "http:")
      return reply(res, 400, `the egress proxy relays http:// requests, not ${url.protocol}`)
    const host = normalizeHost(url.hostname)
    const port = url.port === "" ? 80 : Number(url.port)
    void verdict(host).then(
      ({ policy, decision }) => {
        if (decision._tag === "Deny") return reply(res, 403, `egress refused: ${decision.reason}`)
        forward(
          req,
          res,
          { host, port, address: decision.address, tls: false },
          `${url.pathname}${url.search}`,
          secretsFor(policy, host)
        )
      },
      () => reply(res, 502, "the egress proxy could not read the sandbox's rules")
    )
  }

  const noUpgrade = (_req: NodeHttp.IncomingMessage, socket: NodeNet.Socket | NodeTls.TLSSocket) => {
    socket.on("error", () => {})
    socket.end(plainReply(501, "protocol upgrades are not relayed when the egress proxy substitutes secrets"))
  }

  /** HTTPS to a host a secret may go to: TLS ends here, each request is sent on over a verified connection. */
  const intercept = (
    socket: NodeNet.Socket,
    head: Buffer,
    target: { readonly host: string; readonly port: number; readonly address: Address }
  ) => {
    if (head.length > 0) socket.unshift(head)
    const tls = new NodeTls.TLSSocket(socket, {
      isServer: true,
      secureContext: deps.trust.contextFor(target.host),
      ALPNProtocols: ["http/1.1"]
    })
    track(tls)
    const inner = NodeHttp.createServer()
    inner.on("request", (req: NodeHttp.IncomingMessage, res: NodeHttp.ServerResponse) => {
      void deps.policy().then(
        (policy) => {
          const decision = decide(policy, target.host, [target.address])
          if (decision._tag === "Deny") return reply(res, 403, `egress refused: ${decision.reason}`)
          forward(req, res, { ...target, tls: true }, req.url ?? "/", secretsFor(policy, target.host))
        },
        () => reply(res, 502, "the egress proxy could not read the sandbox's rules")
      )
    })
    inner.on("upgrade", noUpgrade)
    inner.on("clientError", (_error, client) => client.destroy())
    inner.emit("connection", tls)
  }

  const tunnel = (socket: NodeNet.Socket, head: Buffer, address: Address, port: number) => {
    const upstream = NodeNet.connect({ host: address.address, family: address.family, port })
    upstream.setTimeout(30_000, () => upstream.destroy(new Error("timeout")))
    track(upstream)
    upstream.once("connect", () => {
      upstream.setTimeout(0)
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      if (head.length > 0) upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    upstream.once("error", (error) => {
      if (socket.writable && upstream.bytesRead === 0 && !socket.destroyed)
        socket.end(plainReply(502, `the egress proxy could not reach the destination: ${error.message}`))
      else socket.destroy()
    })
    upstream.once("close", () => socket.destroy())
    socket.once("close", () => upstream.destroy())
  }

  const onConnect = (req: NodeHttp.IncomingMessage, socket: NodeNet.Socket, head: Buffer) => {
    track(socket)
    socket.setTimeout(idleMillis)
    const target = authority(req.url ?? "")
    if (target === undefined) {
      socket.end(plainReply(400, "CONNECT needs host:port"))
      return
    }
    void verdict(target.host).then(
      ({ policy, decision }) => {
        if (decision._tag === "Deny") {
          socket.end(plainReply(403, `egress refused: ${decision.reason}`))
          return
        }
        if (secretsFor(policy, target.host).length === 0) {
          tunnel(socket, head, decision.address, target.port)
          return
        }
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n")
        intercept(socket, head, { ...target, address: decision.address })
      },
      () => socket.end(plainReply(502, "the egress proxy could not read the sandbox's rules"))
    )
  }

  const server = NodeHttp.createServer()
  server.on("request", onRequest)
  server.on("connect", onConnect)
  server.on("upgrade", noUpgrade)
  server.on("clientError", (_error, socket) => socket.destroy())

  // The sandbox's own connections to the proxy: each holds a descriptor of the server.
  const clients = new Set<NodeNet.Socket>()
  return {
    accept: (socket) => {
      track(socket)
      if (clients.size >= maxClientConnections) {
        socket.destroy()
        return
      }
      clients.add(socket)
      socket.once("close", () => clients.delete(socket))
      // Until a request arrives the socket only holds a descriptor; after, it may idle longer.
      socket.setTimeout(headerMillis, () => socket.destroy())
      server.emit("connection", socket)
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    }
  }
}
