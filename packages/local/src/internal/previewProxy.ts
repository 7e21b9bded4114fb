import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"
import type { Duplex } from "node:stream"
import { badGateway, internal, type ToolboxError, toolboxErrorBody } from "./toolboxError.js"

/** A preview host: `{port}-{sandboxId or signed token}.localhost[:serverPort]`. */
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
  | { readonly _tag: "Allow"; readonly port: number; readonly stripAuthorization: boolean }
  | { readonly _tag: "Deny"; readonly error: ToolboxError }

/** Decides a preview request for `port` of the sandbox (or signed token) named by the host's `label`. */
export type Authorize = (label: string, port: number, credentials: Credentials) => Promise<Decision>

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

const errorBody = (request: NodeHttp.IncomingMessage, error: ToolboxError) =>
  JSON.stringify(
    toolboxErrorBody(error, {
      path: new URL(request.url ?? "/", "http://preview").pathname,
      method: request.method ?? "GET",
      timestamp: new Date().toISOString()
    })
  )

const deny = (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse, error: ToolboxError) => {
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

const denySocket = (request: NodeHttp.IncomingMessage, socket: Duplex, error: ToolboxError) => {
  const body = errorBody(request, error)
  socket.end(
    `HTTP/1.1 ${error.status} ${NodeHttp.STATUS_CODES[error.status] ?? "Error"}\r\n` +
      `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n` +
      body
  )
}

const unreachable = (port: number) => badGateway(`nothing answers on port ${port} in the sandbox`)

const failure = (error: unknown) => internal(String(error))

/** Forwards preview requests (plain HTTP and upgrades such as WebSockets) to the sandbox's port. */
export interface Proxy {
  readonly request: (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => void
  readonly upgrade: (request: NodeHttp.IncomingMessage, socket: Duplex, head: Buffer) => void
}

export const make = (authorize: Authorize): Proxy => ({
  request: (request, response) => {
    const target = parseHost(request.headers.host)!
    const { credentials, path } = credentialsOf(request)
    authorize(target.label, target.port, credentials).then(
      (decision) => {
        if (decision._tag === "Deny") {
          deny(request, response, decision.error)
          return
        }
        const upstream = NodeHttp.request(
          {
            host: "127.0.0.1",
            port: decision.port,
            method: request.method,
            path,
            headers: forwardedHeaders(request, decision.stripAuthorization)
          },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders)
            answer.pipe(response)
          }
        )
        upstream.on("error", () => deny(request, response, unreachable(decision.port)))
        response.on("close", () => upstream.destroy())
        request.pipe(upstream)
      },
      (error: unknown) => deny(request, response, failure(error))
    )
  },
  upgrade: (request, socket, head) => {
    const target = parseHost(request.headers.host)!
    const { credentials, path } = credentialsOf(request)
    socket.on("error", () => socket.destroy())
    authorize(target.label, target.port, credentials).then(
      (decision) => {
        if (decision._tag === "Deny") {
          denySocket(request, socket, decision.error)
          return
        }
        const upstream = NodeNet.connect(decision.port, "127.0.0.1")
        let connected = false
        upstream.once("connect", () => {
          connected = true
          const headers = forwardedHeaders(request, decision.stripAuthorization)
          const lines = [`${request.method ?? "GET"} ${path} HTTP/${request.httpVersion}`]
          for (let i = 0; i < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`)
          upstream.write(lines.join("\r\n") + "\r\n\r\n")
          if (head.length > 0) upstream.write(head)
          upstream.pipe(socket)
          socket.pipe(upstream)
        })
        upstream.on("error", () =>
          connected ? socket.destroy() : denySocket(request, socket, unreachable(decision.port))
        )
        upstream.on("close", () => socket.destroy())
        socket.on("close", () => upstream.destroy())
      },
      (error: unknown) => denySocket(request, socket, failure(error))
    )
  }
})

/**
 * The server's socket: requests whose Host is a preview host go to the preview proxy before the
 * HTTP application sees them (the application never handles them, so upgrades can be spliced).
 */
export class FrontServer extends NodeHttp.Server {
  proxy: Proxy | undefined = undefined

  override emit(event: string | symbol, ...args: Array<unknown>): boolean {
    if (event === "upgrade") {
      // @effect/platform-node's upgrade handler gives the raw socket no 'error' listener, so a
      // client that resets an upgrade it was refused (e.g. Socket.IO answered 401) crashed the
      // whole server with an unhandled ECONNRESET.
      const socket = args[1] as Duplex
      if (socket.listenerCount("error") === 0) socket.on("error", () => socket.destroy())
    }
    if ((event === "request" || event === "upgrade") && this.proxy !== undefined) {
      const request = args[0] as NodeHttp.IncomingMessage
      if (parseHost(request.headers.host) !== undefined) {
        if (event === "request") this.proxy.request(request, args[1] as NodeHttp.ServerResponse)
        else this.proxy.upgrade(request, args[1] as Duplex, args[2] as Buffer)
        return true
      }
    }
    return super.emit(event as string, ...args)
  }
}
