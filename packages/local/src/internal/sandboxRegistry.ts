import * as Effect from "effect/Effect"
import { SandboxEngine, type Service as Engine } from "../SandboxEngine.js"

/**
 * State the toolbox keeps per sandbox (terminals, interpreter contexts), kept per engine so that two
 * servers in one process never share it.
 */
export const make = <A>() => {
  const registries = new WeakMap<Engine, Map<string, Map<string, A>>>()
  return (sandboxId: string): Effect.Effect<Map<string, A>, never, SandboxEngine> =>
    Effect.map(SandboxEngine, (engine) => {
      let bySandbox = registries.get(engine)
      if (bySandbox === undefined) registries.set(engine, (bySandbox = new Map()))
      let entries = bySandbox.get(sandboxId)
      if (entries === undefined) bySandbox.set(sandboxId, (entries = new Map()))
      return entries
    })
}
