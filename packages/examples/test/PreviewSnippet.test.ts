import { DaytonaTest } from "@effect-daytona/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { servePreview } from "../src/previewSnippet.js"

describe("the README's preview snippet", () => {
  it.live(
    "serves over HTTP from a sandbox and answers its preview link once the server listens",
    () =>
      Effect.gen(function* () {
        const port = 20_000 + Math.floor(Math.random() * 20_000)
        const link = yield* servePreview(port)
        assert.include(link.url, `${port}-`)
        // The real engine without isolation shares the machine's network: the server is on its loopback.
        const answer = yield* Effect.promise(() =>
          fetch(`http://127.0.0.1:${port}/`).then((response) => response.status)
        )
        assert.strictEqual(answer, 200)
      }).pipe(Effect.scoped, Effect.provide(DaytonaTest.layer({ engine: "real" }))),
    60_000
  )
})
