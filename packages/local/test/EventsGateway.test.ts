import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { WebSocket } from "ws"
import { asApiError, clientLayer, raw, serve, tempDir } from "./utils.js"

/** Opens a WebSocket and reports how the upgrade ended: opened, or the HTTP status it was refused with. */
const upgrade = (url: string) =>
  Effect.async<{ readonly opened: boolean; readonly status: number | undefined }>((resume) => {
    const socket = new WebSocket(url)
    socket.on("open", () => {
      socket.close()
      resume(Effect.succeed({ opened: true, status: undefined }))
    })
    socket.on("unexpected-response", (_request, response) => {
      response.resume()
      socket.terminate()
      resume(Effect.succeed({ opened: false, status: response.statusCode }))
    })
    socket.on("error", () => resume(Effect.succeed({ opened: false, status: undefined })))
  })

describe("Daytona's event gateway (Socket.IO)", () => {
  it.scoped("is not served: 404 at once on every transport, with no key asked, so clients fall back to polling", () =>
    Effect.gen(function* () {
      const { anonymous, server } = yield* serve(yield* tempDir)
      for (const query of ["?EIO=4&transport=polling", "?EIO=4&transport=websocket&organizationId=x", ""]) {
        const answer = yield* raw(anonymous, HttpClientRequest.get(`/api/socket.io/${query}`))
        assert.strictEqual(answer.status, 404, query)
        assert.include(asApiError(answer).message, "does not serve events")
      }
      const ws = yield* upgrade(`${server.url.replace(/^http/, "ws")}/api/socket.io/?EIO=4&transport=websocket`)
      assert.deepStrictEqual(ws, { opened: false, status: 404 })
      // Other unknown routes still need the key.
      const other = yield* raw(anonymous, HttpClientRequest.get("/api/socket.ionic"))
      assert.strictEqual(other.status, 401)
    }).pipe(Effect.provide(clientLayer))
  )
})
