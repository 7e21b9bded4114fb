import * as NodeChildProcess from "node:child_process"
import * as NodeNet from "node:net"
import { childStdio } from "./spawn.js"

/**
 * Where a sandbox reaches its egress proxy. Under bubblewrap a sandbox with secrets or network rules
 * has a network namespace of its own with only a loopback interface; the proxy's listening socket
 * is made inside that namespace (by a short-lived helper entering it) and handed to the server, which
 * accepts on it from then on: no process of the server stays in the sandbox, and the socket is the
 * only thing in the namespace that leads out. Without isolation the proxy listens on a loopback port
 * of the machine, which is a convenience, not a boundary.
 */

/** The proxy's port on the sandbox's loopback. */
export const egressPort = 3128

/** Where the proxy's certificate authority is, inside an isolated sandbox. */
export const trustDirectoryInside = "/run/daytona-local"

/** The helper: listens in the namespace it was started in, hands the socket over, exits. */
const listenProgram = `const s=require("net").createServer();s.once("error",(e)=>{process.send({ok:false,error:String(e.code||e.message)});process.exit(1)});s.listen(${egressPort},"127.0.0.1",()=>process.send({ok:true},s,()=>{s.close();process.exit(0)}))`

/**
 * A server listening on `127.0.0.1:3128` of the network namespace `enter` (a command prefix such as
 * `nsenter --target <pid> --net --`) leads into.
 */
export const listenInNamespace = (enter: ReadonlyArray<string>): Promise<NodeNet.Server> =>
  new Promise((resolve, reject) => {
    const argv = [...enter, process.execPath, "-e", listenProgram]
    const child = NodeChildProcess.spawn(argv[0]!, argv.slice(1), {
      stdio: childStdio(["ignore", "ignore", "pipe"], ["ipc"])
    })
    let stderr = ""
    let settled = false
    const timer = setTimeout(() => fail("the egress listener did not start within 10 s"), 10_000)
    const fail = (reason: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      if (child.exitCode === null) child.kill("SIGKILL")
      reject(new Error(reason))
    }
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("message", (message: { ok?: unknown; error?: unknown }, handle: unknown) => {
      if (settled) return
      if (message.ok === true && handle instanceof NodeNet.Server) {
        settled = true
        clearTimeout(timer)
        resolve(handle)
      } else fail(`the egress listener could not listen: ${String(message.error ?? "no socket")}`)
    })
    child.once("error", (error) => fail(error.message))
    child.once("exit", () => fail(`the egress listener ended: ${stderr.trim() || "no socket"}`))
  })

/** A server on a free loopback port of the machine (isolation `none`). */
export const listenOnHost = (): Promise<{ readonly server: NodeNet.Server; readonly port: number }> =>
  new Promise((resolve, reject) => {
    const server = NodeNet.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as NodeNet.AddressInfo).port }))
  })

/**
 * The environment that points a sandbox's programs at the proxy and makes them trust its
 * authority: the usual proxy variables (loopback excluded: it is the sandbox's own), and the CA
 * bundle for OpenSSL, curl, Python's `requests`, git and Node.
 */
export const egressEnv = (port: number, caFile: string, bundleFile: string): Record<string, string> => {
  const proxy = `http://127.0.0.1:${port}`
  const local = "localhost,127.0.0.1,::1"
  return {
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: local,
    no_proxy: local,
    SSL_CERT_FILE: bundleFile,
    CURL_CA_BUNDLE: bundleFile,
    REQUESTS_CA_BUNDLE: bundleFile,
    GIT_SSL_CAINFO: bundleFile,
    NODE_EXTRA_CA_CERTS: caFile
  }
}
