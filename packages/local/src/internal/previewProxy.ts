import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import type { Duplex } from "node:stream"
import { badGateway, badRequest, internal, DaemonError, daemonErrorBody } from "./daemonError.js"
import { limitMessages } from "./webSocketLimit.js"
import { writeUpstreamHead } from "./upstreamHead.js"

/** A preview host: `{port}-{sandboxId or signed token}.localhost[:serverPort]` (the port is checked by the proxy). */
export const parseHost = (host: string | undefined): { readonly port: number; readonly label: string } | undefined => {
  const match = /^(\d{1,5})-([a-z0-9-]+)\.localhost(?::\d+)?$/i.exec(host ?? "")
  return match === null ? undefined : { port: Number(match[1]), label: match[2]!.toLowerCase() }
}

/** The credentials a preview request may carry (catalog §3.2). */
export interface Credentials {
  readonly bearer: string | undefined
  readonly previewToken: string | undefined
  readonly queryToken: string | undefined
}

/** Whether a preview request reaches the sandbox's port, or the toolbox error it is answered with. */
export type Decision =
  | {
      readonly _tag: "Allow"
      readonly sandboxId: string
      readonly port: number
      readonly stripAuthorization: boolean
    }
  | { readonly _tag: "Deny"; readonly error: DaemonError }

/** Decides a preview request for `port` of the sandbox (or signed token) named by the host's `label`. */
export type Authorize = (label: string, port: number, credentials: Credentials) => Promise<Decision>

/** A connection to the sandbox's own port, or why there is none. */
export type Connection =
  | { readonly _tag: "Connected"; readonly socket: NodeNet.Socket }
  | { readonly _tag: "Refused"; readonly error: DaemonError }

/** Connects to a port of a sandbox (never to anything else on the machine). */
export type Connect = (sandboxId: string, port: number) => Promise<Connection>

const validPort = (port: number) => Number.isInteger(port) && port >= 1 && port <= 65535

const invalidPort = (port: number) => badRequest(`invalid port ${port}: a preview port is between 1 and 65535`)

const authKey = "DAYTONA_SANDBOX_AUTH_KEY"
const previewTokenHeader = "x-daytona-preview-token"

const credentialsOf = (request: NodeHttp.IncomingMessage): { credentials: Credentials; path: string } => {
  const url = new URL(request.url ?? "/", "http://preview")
  const queryToken = url.searchParams.get(authKey) ?? undefined
  url.searchParams.delete(authKey)
  const header = request.headers[previewTokenHeader]
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "")?.[1]?.trim()
  return {
    credentials: { bearer, previewToken: Array.isArray(header) ? header[0] : header, queryToken },
    path: url.pathname + url.search
  }
}

/** The request's headers for the sandbox's port: the preview credentials removed. */
const forwardedHeaders = (request: NodeHttp.IncomingMessage, stripAuthorization: boolean): Array<string> => {
  const out: Array<string> = []
  const raw = request.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase()
    if (name === previewTokenHeader || (stripAuthorization && name === "authorization")) continue
    out.push(raw[i]!, raw[i + 1]!)
  }
  out.push("X-Forwarded-Host", request.headers.host ?? "")
  return out
}

const errorBody = (request: NodeHttp.IncomingMessage, error: DaemonError) =>
  JSON.stringify(
    daemonErrorBody(error, {
      path: new URL(request.url ?? "/", "http://preview").pathname,
      method: request.method ?? "GET",
      timestamp: new Date().toISOString()
    })
  )

const deny = (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse, error: DaemonError) => {
  if (response.headersSent) {
    response.destroy()
    return
  }
  const body = errorBody(request, error)
  response.writeHead(error.status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body)
  })
  response.end(body)
}

const denySocket = (request: NodeHttp.IncomingMessage, socket: Duplex, error: DaemonError) => {
  const body = errorBody(request, error)
  socket.end(
    `HTTP/1.1 ${error.status} ${NodeHttp.STATUS_CODES[error.status] ?? "Error"}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
      body
  )
}

const failure = (error: unknown) =>
  error instanceof DaemonError ? error : internal("the preview request could not be handled")

/** Forwards preview requests (plain HTTP and upgrades such as WebSockets) to the sandbox's port. */
export interface Proxy {
  readonly request: (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => void
  readonly upgrade: (request: NodeHttp.IncomingMessage, socket: Duplex, head: Buffer) => void
}

/** Authorizes a preview request, then connects to the sandbox's port; `use` gets the connection. */
const reach = (
  authorize: Authorize,
  connect: Connect,
  request: NodeHttp.IncomingMessage,
  refuse: (error: DaemonError) => void,
  use: (socket: NodeNet.Socket, decision: Extract<Decision, { _tag: "Allow" }>, path: string) => void
) => {
  const target = parseHost(request.headers.host)!
  if (!validPort(target.port)) return refuse(invalidPort(target.port))
  const { credentials, path } = credentialsOf(request)
  authorize(target.label, target.port, credentials)
    .then(async (decision) => {
      if (decision._tag === "Deny") return refuse(decision.error)
      const connection = await connect(decision.sandboxId, decision.port)
      if (connection._tag === "Refused") return refuse(connection.error)
      use(connection.socket, decision, path)
    })
    .catch((error: unknown) => refuse(failure(error)))
}

export const make = (authorize: Authorize, connect: Connect): Proxy => ({
  request: (request, response) => {
    response.on("error", () => {})
    reach(
      authorize,
      connect,
      request,
      (error) => deny(request, response, error),
      (socket, decision, path) => {
        const upstream = NodeHttp.request(
          {
            createConnection: () => socket,
            method: request.method,
            path,
            headers: forwardedHeaders(request, decision.stripAuthorization)
          },
          (answer) => {
            if (!writeUpstreamHead(response, answer, answer.rawHeaders)) {
              deny(
                request,
                response,
                badGateway(`the sandbox's port ${decision.port} answered a status or header that cannot be relayed`)
              )
              upstream.destroy()
              return
            }
            answer.pipe(response)
            answer.on("error", () => response.destroy())
          }
        )
        upstream.on("error", () =>
          deny(request, response, badGateway(`the sandbox's port ${decision.port} closed the connection`))
        )
        response.on("close", () => upstream.destroy())
        request.pipe(upstream)
      }
    )
  },
  upgrade: (request, socket, head) => {
    socket.on("error", () => socket.destroy())
    reach(
      authorize,
      connect,
      request,
      (error) => denySocket(request, socket, error),
      (upstream, decision, path) => {
        const headers = forwardedHeaders(request, decision.stripAuthorization)
        const lines = [`${request.method ?? "GET"} ${path} HTTP/${request.httpVersion}`]
        for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`)
        upstream.on("error", () => socket.destroy())
        upstream.write(lines.join("\r\n") + "\r\n\r\n")
        if (head.length > 0) upstream.write(head)
        upstream.pipe(socket)
        socket.pipe(upstream)
        upstream.resume()
        upstream.on("close", () => socket.destroy())
        socket.on("close", () => upstream.destroy())
      }
    )
  }
})

const startingMessage = "the local server is starting: retry in a moment"

/** The answer to a request that arrives before the application is attached (or after it is detached). */
const starting = (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => {
  const path = new URL(request.url ?? "/", "http://local").pathname
  const toolbox = path === "/toolbox" || path.startsWith("/toolbox/")
  const timestamp = new Date().toISOString()
  const error = new DaemonError({ status: 503, code: "SERVICE_UNAVAILABLE", message: startingMessage })
  const body = JSON.stringify(
    toolbox
      ? daemonErrorBody(error, { path, method: request.method ?? "GET", timestamp })
      : { statusCode: 503, message: startingMessage, error: "Service Unavailable", path, timestamp }
  )
  response.on("error", () => {})
  request.resume()
  response.writeHead(503, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "retry-after": "1",
    connection: "close"
  })
  response.end(body)
}

/** How long a new connection has to bring its first request's head. */
const firstRequestMillis = 20_000

/** The socket's timer that ends it when its first request has not come in time. */
const firstRequestTimer = Symbol("firstRequestTimer")

/**
 * The server's socket: requests whose Host is a preview host go to the preview proxy before the
 * HTTP application sees them (the application never handles them, so upgrades can be spliced).
 * It listens before the application is ready (its address is part of the configuration), so until
 * then every request is answered 503 with `Retry-After`, never accepted and left unanswered.
 */
export class FrontServer extends NodeHttp.Server {
  /**
   * `maxConnections` bounds the connections held at once; a new connection must bring a whole
   * request head within 20 s (Node's `headersTimeout` does not apply to one that sends nothing), so
   * connections that send nothing are shed quickly.
   */
  constructor(maxConnections: number) {
    super({ headersTimeout: firstRequestMillis, connectionsCheckingInterval: 1_000 })
    this.maxConnections = maxConnections
    let warnedAt = 0
    this.on("drop", () => {
      if (Date.now() - warnedAt < 60_000) return
      warnedAt = Date.now()
      console.error(`daytona-local: ${maxConnections} connections are open; new ones are closed until some end`)
    })
  }

  proxy: Proxy | undefined = undefined
  /** Daytona's event gateway (Socket.IO), which takes the requests and upgrades on its path. */
  events:
    | {
        readonly handles: (url: string | undefined) => boolean
        readonly request: (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => void
        readonly upgrade: (request: NodeHttp.IncomingMessage, socket: Duplex, head: Buffer) => void
      }
    | undefined = undefined

  override emit(event: string | symbol, ...args: Array<unknown>): boolean {
    if (event === "connection") {
      const socket = args[0] as Duplex & { [firstRequestTimer]?: NodeJS.Timeout }
      const timer = setTimeout(() => socket.destroy(), firstRequestMillis).unref()
      socket[firstRequestTimer] = timer
      socket.once("close", () => clearTimeout(timer))
    }
    if (event === "request" || event === "upgrade") {
      const socket = (args[0] as NodeHttp.IncomingMessage).socket as Duplex & { [firstRequestTimer]?: NodeJS.Timeout }
      clearTimeout(socket[firstRequestTimer])
    }
    if (event === "upgrade") {
      // @effect/platform-node's upgrade handler gives the raw socket no 'error' listener, so a
      // client that resets an upgrade it was refused (e.g. Socket.IO answered 401) crashed the
      // whole server with an unhandled ECONNRESET.
      const socket = args[1] as Duplex
      if (socket.listenerCount("error") === 0) socket.on("error", () => socket.destroy())
    }
    if (event === "request" || event === "upgrade") {
      const request = args[0] as NodeHttp.IncomingMessage
      if (this.proxy !== undefined && parseHost(request.headers.host) !== undefined) {
        if (event === "request") this.proxy.request(request, args[1] as NodeHttp.ServerResponse)
        else this.proxy.upgrade(request, args[1] as Duplex, args[2] as Buffer)
        return true
      }
      if (this.events !== undefined && this.events.handles(request.url)) {
        if (event === "request") this.events.request(request, args[1] as NodeHttp.ServerResponse)
        else this.events.upgrade(request, args[1] as Duplex, args[2] as Buffer)
        return true
      }
      if (this.listenerCount(event) === 0) {
        if (event === "request") starting(request, args[1] as NodeHttp.ServerResponse)
        else
          denySocket(
            request,
            args[1] as Duplex,
            new DaemonError({ status: 503, code: "SERVICE_UNAVAILABLE", message: startingMessage })
          )
        return true
      }
    }
    // What is left is a toolbox route: its WebSocket messages are bounded as its HTTP bodies are.
    if (event === "upgrade") limitMessages(args[1] as Duplex)
    return super.emit(event as string, ...args)
  }
}
