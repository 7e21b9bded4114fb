import { assert, describe, it } from "@effect/vitest"
import { UnexpectedResponseError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import * as Effect from "effect/Effect"
import * as NodeChildProcess from "node:child_process"
import { failureOf, sdkSandbox } from "./sdkHarness.js"

const installed = (command: string) =>
  NodeChildProcess.spawnSync("/bin/sh", ["-c", 'command -v "$0"', command]).status === 0

describe("toolbox LSP through the SDK", () => {
  it.live("a missing language server is a clear error naming what to install", () =>
    Effect.gen(function* () {
      const { sandbox, home } = yield* sdkSandbox()
      for (const [language, command] of [
        ["python", "pylsp"],
        ["typescript", "typescript-language-server"]
      ] as const) {
        const lsp = yield* sandbox.createLspServer(language, home)
        const error = yield* failureOf(lsp.start)
        if (installed(command)) {
          assert.instanceOf(error, UnexpectedResponseError)
          continue
        }
        assert.instanceOf(error, ValidationError)
        assert.include(error.message, `${command} is not installed on the local server`)
        assert.strictEqual(error.errorCode, "LSP_SERVER_NOT_INSTALLED")
        assert.instanceOf(yield* failureOf(lsp.documentSymbols(`${home}/main.py`)), ValidationError)
      }
    }).pipe(Effect.scoped)
  )
})
