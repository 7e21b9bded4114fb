import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs/promises"
import * as NodeHttp from "node:http"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import type * as LocalConfig from "../src/LocalConfig.js"
import { advance, asExecute, call, type Client, raw, serve } from "./utils.js"

/** Whether bubblewrap works on this machine. */
export const hasBwrap =
  NodeChildProcess.spawnSync("bwrap", ["--ro-bind", "/", "/", "--unshare-pid", "true"], { timeout: 5000 }).status === 0

/** CI installs bubblewrap, so there a missing bwrap must fail the isolation tests rather than leave them out. */
export const bwrapRequired = process.env["CI"] === "true"

/** A data directory in the user's home, as the default one is (removed when the scope closes). */
export const homeDataDir = Effect.acquireRelease(
  Effect.promise(async () => {
    const parent = NodePath.join(NodeOs.homedir(), ".cache")
    await NodeFs.mkdir(parent, { recursive: true })
    return NodeFs.mkdtemp(NodePath.join(parent, "daytona-local-attack-"))
  }),
  (dir) => Effect.promise(() => NodeFs.rm(dir, { recursive: true, force: true }))
)

/** A fresh server with a data directory in the user's home. */
export const attackServer = (extra: LocalConfig.Options = {}) =>
  Effect.gen(function* () {
    const dir = yield* homeDataDir
    const served = yield* serve(dir, { isolation: "bwrap", ...extra })
    return { dir, ...served }
  })

/** Runs a command in the sandbox through the toolbox (`sh -c` around `script`). */
export const sh = (client: Client, id: string, script: string, timeout?: number) =>
  Effect.map(
    call(client, "POST", `/toolbox/${id}/process/execute`, {
      command: `sh -c ${JSON.stringify(script)}`,
      ...(timeout === undefined ? {} : { timeout })
    }),
    asExecute
  )

/** A multipart body with one `file` part, as `files/upload` takes it. */
export const multipart = (content: string | Uint8Array, name = "file") => {
  const boundary = "attack-test-boundary"
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="x"\r\nContent-Type: application/octet-stream\r\n\r\n`
    ),
    Buffer.from(content),
    Buffer.from(`\r\n--${boundary}--\r\n`)
  ])
  return { body, contentType: `multipart/form-data; boundary=${boundary}` }
}

/** `POST /files/upload?path=` with one file. */
export const upload = (client: Client, id: string, path: string, content: string) => {
  const form = multipart(content)
  return raw(
    client,
    HttpClientRequest.post(`/toolbox/${id}/files/upload`).pipe(
      HttpClientRequest.setUrlParam("path", path),
      HttpClientRequest.bodyUint8Array(form.body, form.contentType)
    )
  )
}

/** `POST /files/bulk-upload` with one file, as the SDKs send it. */
export const bulkUpload = (client: Client, id: string, path: string, content: string) => {
  const boundary = "attack-bulk-boundary"
  const body = [
    `--${boundary}\r\nContent-Disposition: form-data; name="files[0].path"\r\n\r\n${path}\r\n`,
    `--${boundary}\r\nContent-Disposition: form-data; name="files[0].file"; filename="x"\r\nContent-Type: application/octet-stream\r\n\r\n${content}\r\n`,
    `--${boundary}--\r\n`
  ].join("")
  return raw(
    client,
    HttpClientRequest.post(`/toolbox/${id}/files/bulk-upload`).pipe(
      HttpClientRequest.bodyText(body, `multipart/form-data; boundary=${boundary}`)
    )
  )
}

/** A query string with each value encoded. */
export const query = (params: Record<string, string>) => new URLSearchParams(params).toString()

/** Host processes whose command line contains `needle`, with their uid. */
export const hostProcesses = (needle: string) =>
  Effect.promise(async () => {
    const found: Array<{ pid: number; uid: number; cmdline: string }> = []
    for (const name of await NodeFs.readdir("/proc")) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
      const cmdline = await NodeFs.readFile(`/proc/${name}/cmdline`, "utf8").catch(() => "")
      if (!cmdline.split("\u0000").join(" ").includes(needle)) continue
      const status = await NodeFs.readFile(`/proc/${name}/status`, "utf8").catch(() => "")
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1)
      found.push({ pid: Number(name), uid, cmdline: cmdline.split("\u0000").join(" ") })
    }
    return found
  })

/** Waits (real time, at most `millis`) until no host process's command line contains `needle`. */
export const untilGone = (needle: string, millis = 5000) =>
  Effect.gen(function* () {
    const deadline = Date.now() + millis
    while (Date.now() < deadline) {
      if ((yield* hostProcesses(needle)).length === 0) return true
      yield* realSleep(50)
    }
    return (yield* hostProcesses(needle)).length === 0
  })

export const realSleep = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

/** Deletes a sandbox and lets the TestClock run its transition. */
export const destroy = (client: Client, id: string) =>
  Effect.gen(function* () {
    yield* call(client, "DELETE", `/api/sandbox/${id}`)
    yield* advance("2 seconds")
    yield* call(client, "GET", `/api/sandbox/${id}`)
  })

/** Stops a sandbox and lets the TestClock run its transition. */
export const stopSandbox = (client: Client, id: string) =>
  Effect.gen(function* () {
    yield* call(client, "POST", `/api/sandbox/${id}/stop`)
    yield* advance("2 seconds")
    yield* call(client, "GET", `/api/sandbox/${id}`)
  })

/**
 * Runs a toolbox command with a server-side timeout of one second: the request is forked, given
 * real time to start its processes, then the TestClock is moved past the timeout.
 */
export const timedOut = (client: Client, id: string, script: string) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(
      call(client, "POST", `/toolbox/${id}/process/execute`, { command: `sh -c ${JSON.stringify(script)}`, timeout: 1 })
    )
    yield* realSleep(800)
    yield* advance("2 seconds")
    return yield* Fiber.join(fiber)
  })

export interface Reply {
  readonly status: number
  readonly body: string
}

/** A raw GET to the server's socket with an explicit Host (for preview hosts), on real time with a bound. */
export const getWithHost = (serverPort: number, host: string, path: string, headers: Record<string, string> = {}) =>
  Effect.async<Reply>((resume) => {
    const request = NodeHttp.get(
      { host: "127.0.0.1", port: serverPort, path, headers: { ...headers, host }, timeout: 10_000 },
      (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => (body += chunk))
        response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, body })))
      }
    )
    request.on("timeout", () => request.destroy(new Error("timeout")))
    request.on("error", (error) => resume(Effect.succeed({ status: -1, body: error.message })))
    return Effect.sync(() => request.destroy())
  })

/** A plain HTTP server on the host (outside every sandbox), closed with the scope. */
export const hostServer = Effect.acquireRelease(
  Effect.async<NodeHttp.Server & { port: number }>((resume) => {
    const server = NodeHttp.createServer((_request, response) => response.end("host service secret"))
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed(Object.assign(server, { port: (server.address() as { port: number }).port })))
    )
  }),
  (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)
