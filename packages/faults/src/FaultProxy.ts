/**
 * A fault proxy: a small Node HTTP server on 127.0.0.1 in front of the local Daytona server that
 * passes requests (and WebSocket upgrades) through, or breaks them on purpose, request by request.
 * The SDK under test talks to the proxy over real sockets, so what it meets are real network
 * faults: connections reset before or after the server handled the request, 429 with
 * `Retry-After`, 502/503, bodies that stall half-way, multipart downloads cut before their
 * closing boundary, and log WebSockets closed before the command ends.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as NodeHttp from "node:http"
import * as NodeNet from "node:net"

/**
 * What the proxy does with one request.
 *
 * - `Pass`: forwards it and relays the answer.
 * - `ResetBeforeForward`: drops the connection; the server never sees the request.
 * - `ResetAfterForward`: forwards it, waits for the server's whole answer, then drops the
 *   connection: the server did the work, the client never learns it.
 * - `Status`: answers `status` itself (with `Retry-After: retryAfter` when given), without
 *   forwarding.
 * - `StallBody`: forwards it, sends the answer's headers and part of its body, then nothing; with
 *   `resumeAfterMillis`, the rest of the body after that pause (a stall rather than a hang). For a
 *   WebSocket, the handshake passes and the server's frames are held for the pause (or for good).
 * - `CutBody`: forwards it, announces the whole length, sends half of the body and drops the
 *   connection. For a WebSocket, the connection is dropped after half the time `afterMillis`.
 * - `TruncateMultipart`: forwards it; a multipart answer loses its closing boundary (and the part
 *   before it is cut in the middle), then the body ends cleanly. Other answers pass.
 * - `CloseWebSocket`: for a WebSocket upgrade, the handshake passes, then the connection is
 *   dropped (`abort`, after `afterMillis` of relayed frames) or closed with a close frame of code
 *   `code` before any frame of the server is relayed (`close`). Plain requests pass.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | { readonly _tag: "Pass" }
  | { readonly _tag: "ResetBeforeForward" }
  | { readonly _tag: "ResetAfterForward" }
  | { readonly _tag: "Status"; readonly status: number; readonly retryAfter?: string | undefined }
  | { readonly _tag: "StallBody"; readonly resumeAfterMillis?: number | undefined }
  | { readonly _tag: "CutBody" }
  | { readonly _tag: "TruncateMultipart" }
  | {
      readonly _tag: "CloseWebSocket"
      readonly mode: "abort" | "close"
      readonly afterMillis?: number | undefined
      readonly code?: number | undefined
    }

/**
 * Constructors of {@link Fault}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const Fault = {
  pass: { _tag: "Pass" } as Fault,
  resetBeforeForward: { _tag: "ResetBeforeForward" } as Fault,
  resetAfterForward: { _tag: "ResetAfterForward" } as Fault,
  status: (status: number, retryAfter?: string): Fault =>
    retryAfter === undefined ? { _tag: "Status", status } : { _tag: "Status", status, retryAfter },
  stallBody: { _tag: "StallBody" } as Fault,
  stall: (millis: number): Fault => ({ _tag: "StallBody", resumeAfterMillis: millis }),
  cutBody: { _tag: "CutBody" } as Fault,
  truncateMultipart: { _tag: "TruncateMultipart" } as Fault,
  closeWebSocket: (mode: "abort" | "close", options: { readonly afterMillis?: number; readonly code?: number } = {}) =>
    ({ _tag: "CloseWebSocket", mode, ...options }) as Fault
} as const

/**
 * A request as the proxy sees it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestInfo {
  readonly method: string
  /** Path and query, as sent. */
  readonly url: string
  /** The path without the query. */
  readonly path: string
  readonly websocket: boolean
  /** The request's headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
}

/**
 * Which requests a rule applies to: a method, and a path tested by a `RegExp` (or ending with a
 * string).
 *
 * @since 0.1.0
 * @category models
 */
export interface Match {
  readonly method?: string | undefined
  readonly path?: string | RegExp | undefined
  readonly websocket?: boolean | undefined
}

/**
 * What the proxy did with one request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Recorded extends Omit<RequestInfo, "headers"> {
  readonly fault: Fault["_tag"]
  /** The server's status, when the request reached it and it answered. */
  upstreamStatus: number | undefined
}

/**
 * Decides the fault of each request that no queued rule claimed.
 *
 * @since 0.1.0
 * @category models
 */
export type Policy = (request: RequestInfo) => Fault

/**
 * @since 0.1.0
 * @category models
 */
export interface FaultProxy {
  /** The proxy's base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string
  /** Where requests go: the real server's base URL. Must be set before the first request. */
  readonly setUpstream: (url: string) => Effect.Effect<void>
  /** The next `times` (default 1) requests matching `match` get `fault`. Rules are used oldest first. */
  readonly failNext: (
    match: Match,
    fault: Fault,
    options?: { readonly times?: number | undefined }
  ) => Effect.Effect<void>
  /** The fault of every request no rule claims (default: pass). */
  readonly setPolicy: (policy: Policy) => Effect.Effect<void>
  /** Drops the rules not yet used and sets the policy back to pass. */
  readonly clear: Effect.Effect<void>
  /** Every request so far, oldest first. */
  readonly requests: Effect.Effect<ReadonlyArray<Recorded>>
  /** Forgets the recorded requests. */
  readonly clearRequests: Effect.Effect<void>
}

interface Rule {
  readonly match: Match
  readonly fault: Fault
  remaining: number
}

const matches = (match: Match, request: RequestInfo): boolean =>
  (match.method === undefined || match.method.toUpperCase() === request.method) &&
  (match.websocket === undefined || match.websocket === request.websocket) &&
  (match.path === undefined ||
    (typeof match.path === "string" ? request.path.endsWith(match.path) : match.path.test(request.path)))

/** The index just before the closing delimiter `--boundary--` of a multipart body, if found. */
const closingDelimiterAt = (body: Buffer, boundary: string): number => body.lastIndexOf(`--${boundary}--`)

const boundaryOf = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined || !/^multipart\//i.test(contentType.trim())) return undefined
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return match === null ? undefined : (match[1] ?? match[2])
}

const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te"])

const statusText: Record<number, string> = {
  429: "ThrottlerException: Too Many Requests",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout"
}

/**
 * Starts the proxy on 127.0.0.1 and a free port for the lifetime of the scope. Every socket it
 * holds (stalled answers included) is destroyed when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<FaultProxy, never, Scope.Scope> = Effect.gen(function* () {
  let upstream: URL | undefined
  let policy: Policy = () => Fault.pass
  let rules: Array<Rule> = []
  let recorded: Array<Recorded> = []
  const sockets = new Set<NodeNet.Socket>()
  const agent = new NodeHttp.Agent({ keepAlive: true, maxSockets: 64 })

  const track = (socket: NodeNet.Socket) => {
    sockets.add(socket)
    socket.on("error", () => {})
    socket.once("close", () => sockets.delete(socket))
  }

  const decide = (request: RequestInfo): Fault => {
    for (const rule of rules) {
      if (rule.remaining > 0 && matches(rule.match, request)) {
        rule.remaining--
        rules = rules.filter((r) => r.remaining > 0)
        return rule.fault
      }
    }
    return policy(request)
  }

  const infoOf = (request: NodeHttp.IncomingMessage, websocket: boolean): RequestInfo => {
    const url = request.url ?? "/"
    return {
      method: (request.method ?? "GET").toUpperCase(),
      url,
      path: url.split("?")[0]!,
      websocket,
      headers: request.headers
    }
  }

  /** Forwards a request and resolves with the server's answer (head and whole body). */
  const forward = (request: NodeHttp.IncomingMessage, body: Buffer) =>
    new Promise<{ readonly status: number; readonly headers: NodeHttp.IncomingHttpHeaders; readonly body: Buffer }>(
      (resolve, reject) => {
        const target = upstream
        if (target === undefined) return reject(new Error("the fault proxy has no upstream"))
        const headers = { ...request.headers }
        delete headers["content-length"]
        delete headers["transfer-encoding"]
        headers["content-length"] = String(body.length)
        const out = NodeHttp.request(
          {
            host: target.hostname,
            port: Number(target.port),
            method: request.method,
            path: request.url,
            headers,
            agent
          },
          (answer) => {
            const chunks: Array<Buffer> = []
            answer.on("data", (chunk: Buffer) => chunks.push(chunk))
            answer.on("end", () =>
              resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) })
            )
            answer.on("error", reject)
          }
        )
        out.on("error", reject)
        out.end(body)
      }
    )

  const readBody = (request: NodeHttp.IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Array<Buffer> = []
      request.on("data", (chunk: Buffer) => chunks.push(chunk))
      request.on("end", () => resolve(Buffer.concat(chunks)))
      request.on("error", reject)
    })

  const relayHeaders = (headers: NodeHttp.IncomingHttpHeaders, drop: ReadonlyArray<string> = []) => {
    const out: Record<string, string | Array<string>> = {}
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || hopByHop.has(name) || drop.includes(name)) continue
      out[name] = value
    }
    return out
  }

  const onRequest = (request: NodeHttp.IncomingMessage, response: NodeHttp.ServerResponse) => {
    const info = infoOf(request, false)
    const fault = decide(info)
    const { headers: _headers, ...summary } = info
    const entry: Recorded = { ...summary, fault: fault._tag, upstreamStatus: undefined }
    recorded.push(entry)
    const socket = request.socket
    if (fault._tag === "ResetBeforeForward") {
      socket.destroy()
      return
    }
    void readBody(request)
      .then(async (body) => {
        if (fault._tag === "Status") {
          const text = JSON.stringify({
            statusCode: fault.status,
            message: statusText[fault.status] ?? "injected by the fault proxy",
            error: statusText[fault.status] ?? "Error"
          })
          response.writeHead(fault.status, {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(text),
            ...(fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter })
          })
          response.end(text)
          return
        }
        const answer = await forward(request, body)
        entry.upstreamStatus = answer.status
        switch (fault._tag) {
          case "ResetAfterForward": {
            socket.destroy()
            return
          }
          case "StallBody": {
            const resume = fault.resumeAfterMillis
            if (resume !== undefined && answer.body.length < 2) {
              // Nothing to split in so short a body: the whole answer waits.
              setTimeout(() => {
                response.writeHead(answer.status, {
                  ...relayHeaders(answer.headers, ["content-length"]),
                  "content-length": String(answer.body.length)
                })
                response.end(answer.body)
              }, resume)
              return
            }
            // The whole length is announced, half is sent, the rest comes after the pause or never.
            const half = Math.max(1, Math.floor(answer.body.length / 2))
            response.writeHead(answer.status, {
              ...relayHeaders(answer.headers, ["content-length"]),
              "content-length": String(Math.max(answer.body.length, 2))
            })
            response.write(answer.body.subarray(0, Math.min(half, answer.body.length)))
            if (resume !== undefined) setTimeout(() => response.end(answer.body.subarray(half)), resume)
            return
          }
          case "CutBody": {
            // The whole length is announced, half is sent, then the connection drops.
            const half = Math.floor(answer.body.length / 2)
            response.writeHead(answer.status, {
              ...relayHeaders(answer.headers, ["content-length"]),
              "content-length": String(Math.max(answer.body.length, 1))
            })
            response.write(answer.body.subarray(0, half), () => socket.destroy())
            return
          }
          case "TruncateMultipart": {
            const boundary = boundaryOf(answer.headers["content-type"])
            const closing = boundary === undefined ? -1 : closingDelimiterAt(answer.body, boundary)
            if (boundary !== undefined && closing > 0) {
              // Cut before the closing delimiter and half-way into the last part's content.
              const lastPart = answer.body.lastIndexOf(`--${boundary}\r\n`, closing - 1)
              const contentStart = lastPart < 0 ? -1 : answer.body.indexOf("\r\n\r\n", lastPart)
              const cut =
                contentStart < 0 || contentStart + 4 >= closing
                  ? closing
                  : contentStart + 4 + Math.floor((closing - contentStart - 4) / 2)
              response.writeHead(answer.status, relayHeaders(answer.headers, ["content-length"]))
              response.end(answer.body.subarray(0, cut))
              return
            }
            break
          }
          default:
            break
        }
        response.writeHead(answer.status, {
          ...relayHeaders(answer.headers, ["content-length"]),
          "content-length": String(answer.body.length)
        })
        response.end(answer.body)
      })
      .catch(() => {
        socket.destroy()
      })
  }

  const onUpgrade = (request: NodeHttp.IncomingMessage, client: NodeNet.Socket, head: Buffer) => {
    track(client)
    const info = infoOf(request, true)
    const fault = decide(info)
    const { headers: _headers, ...summary } = info
    const entry: Recorded = { ...summary, fault: fault._tag, upstreamStatus: undefined }
    recorded.push(entry)
    const target = upstream
    if (fault._tag === "ResetBeforeForward" || target === undefined) {
      client.destroy()
      return
    }
    if (fault._tag === "Status") {
      const text = JSON.stringify({ statusCode: fault.status, message: statusText[fault.status] ?? "injected" })
      client.end(
        `HTTP/1.1 ${fault.status} ${statusText[fault.status] ?? "Error"}\r\n` +
          `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
          (fault.retryAfter === undefined ? "" : `retry-after: ${fault.retryAfter}\r\n`) +
          `connection: close\r\n\r\n${text}`
      )
      return
    }
    const server = NodeNet.connect(Number(target.port), target.hostname)
    track(server)
    const closeBoth = () => {
      client.destroy()
      server.destroy()
    }
    client.once("close", () => server.destroy())
    server.once("close", () => client.destroy())
    server.once("connect", () => {
      let raw = `${request.method} ${request.url} HTTP/1.1\r\n`
      for (let i = 0; i < request.rawHeaders.length; i += 2) {
        raw += `${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}\r\n`
      }
      server.write(raw + "\r\n")
      if (head.length > 0) server.write(head)
      client.pipe(server)
      if (
        fault._tag !== "CloseWebSocket" &&
        fault._tag !== "ResetAfterForward" &&
        fault._tag !== "StallBody" &&
        fault._tag !== "CutBody"
      ) {
        server.pipe(client)
        return
      }
      // Read the server's handshake answer ourselves, then apply the fault.
      let pending = Buffer.alloc(0)
      const onData = (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk])
        const end = pending.indexOf("\r\n\r\n")
        if (end < 0) return
        server.off("data", onData)
        server.pause()
        const handshake = pending.subarray(0, end + 4)
        const rest = pending.subarray(end + 4)
        entry.upstreamStatus = Number(/^HTTP\/1\.1 (\d{3})/.exec(handshake.toString("latin1"))?.[1] ?? 0)
        if (fault._tag === "ResetAfterForward") return closeBoth()
        if (fault._tag === "StallBody") {
          client.write(handshake)
          if (fault.resumeAfterMillis !== undefined) {
            setTimeout(() => {
              if (rest.length > 0) client.write(rest)
              server.pipe(client)
              server.resume()
            }, fault.resumeAfterMillis)
          }
          return
        }
        if (fault._tag === "CutBody") {
          client.write(handshake)
          if (rest.length > 0) client.write(rest)
          server.pipe(client)
          server.resume()
          setTimeout(closeBoth, 150)
          return
        }
        if (fault._tag !== "CloseWebSocket") return closeBoth()
        client.write(handshake)
        if (fault.mode === "close") {
          const code = fault.code ?? 1000
          client.end(Buffer.from([0x88, 0x02, (code >> 8) & 0xff, code & 0xff]))
          server.destroy()
          return
        }
        if (rest.length > 0) client.write(rest)
        server.pipe(client)
        server.resume()
        setTimeout(closeBoth, fault.afterMillis ?? 0)
      }
      server.on("data", onData)
    })
  }

  const httpServer = NodeHttp.createServer({ keepAliveTimeout: 30_000 })
  httpServer.on("connection", track)
  httpServer.on("request", onRequest)
  httpServer.on("upgrade", onUpgrade)
  httpServer.on("clientError", (_error, socket) => socket.destroy())

  const port = yield* Effect.acquireRelease(
    Effect.async<number>((resume) => {
      httpServer.listen(0, "127.0.0.1", () => {
        const address = httpServer.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        agent.destroy()
        httpServer.close(() => resume(Effect.void))
        httpServer.closeAllConnections()
      })
  )

  return {
    url: `http://127.0.0.1:${port}`,
    setUpstream: (url) =>
      Effect.sync(() => {
        upstream = new URL(url)
      }),
    failNext: (match, fault, options) =>
      Effect.sync(() => {
        rules.push({ match, fault, remaining: options?.times ?? 1 })
      }),
    setPolicy: (next) =>
      Effect.sync(() => {
        policy = next
      }),
    clear: Effect.sync(() => {
      rules = []
      policy = () => Fault.pass
    }),
    requests: Effect.sync(() => recorded.slice()),
    clearRequests: Effect.sync(() => {
      recorded = []
    })
  }
})
