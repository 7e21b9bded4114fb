import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { SandboxEngine, type Service as Engine } from "../src/SandboxEngine.js"
import * as SandboxRegistry from "../src/internal/sandboxRegistry.js"

/**
 * The toolbox's state per sandbox (terminals, contexts, sessions, language servers, desktops) is
 * kept per engine and dropped when a sandbox is deleted, in every registry at once.
 */

// Only the engine's identity matters to a registry: it is the key of its entries.
const engineA = SandboxEngine.of({} as Engine)
const engineB = SandboxEngine.of({} as Engine)

describe("SandboxRegistry", () => {
  it.effect("an entry is made once per engine and sandbox, and forget drops it from every registry", () =>
    Effect.gen(function* () {
      let made = 0
      const terminals = SandboxRegistry.make(() => ({ n: ++made }))
      const desktops = SandboxRegistry.make((sandboxId) => ({ sandboxId }))
      const first = yield* terminals("s1").pipe(Effect.provideService(SandboxEngine, engineA))
      assert.strictEqual(yield* terminals("s1").pipe(Effect.provideService(SandboxEngine, engineA)), first)
      const other = yield* terminals("s1").pipe(Effect.provideService(SandboxEngine, engineB))
      assert.notStrictEqual(other, first, "another engine has entries of its own")
      yield* desktops("s1").pipe(Effect.provideService(SandboxEngine, engineA))
      assert.isUndefined(yield* terminals.peek("s2").pipe(Effect.provideService(SandboxEngine, engineA)))

      SandboxRegistry.forget(engineA, "s1")
      assert.isUndefined(yield* terminals.peek("s1").pipe(Effect.provideService(SandboxEngine, engineA)))
      assert.isUndefined(yield* desktops.peek("s1").pipe(Effect.provideService(SandboxEngine, engineA)))
      assert.strictEqual(yield* terminals.peek("s1").pipe(Effect.provideService(SandboxEngine, engineB)), other)
      assert.strictEqual(made, 2)
    })
  )
})
