import * as Effect from "effect/Effect"
import { SandboxEngine, type Service as Engine } from "../SandboxEngine.js"

/**
 * State the toolbox keeps per sandbox (terminals, interpreter contexts, process sessions, language
 * servers, desktops), kept per engine so that two servers in one process never share it, and
 * dropped when the sandbox is deleted ({@link forget}).
 */

/** Every registry made, to forget a deleted sandbox in all of them. */
const forgetters = new Set<(engine: Engine, sandboxId: string) => void>()

/**
 * A registry whose entry for a sandbox is made by `initial` the first time it is asked for;
 * `peek` reads it without making it.
 */
export const make = <A>(initial: (sandboxId: string) => A) => {
  const registries = new WeakMap<Engine, Map<string, A>>()
  forgetters.add((engine, sandboxId) => void registries.get(engine)?.delete(sandboxId))
  const entryOf = (sandboxId: string): Effect.Effect<A, never, SandboxEngine> =>
    Effect.map(SandboxEngine, (engine) => {
      let bySandbox = registries.get(engine)
      if (bySandbox === undefined) registries.set(engine, (bySandbox = new Map()))
      let entry = bySandbox.get(sandboxId)
      if (entry === undefined) bySandbox.set(sandboxId, (entry = initial(sandboxId)))
      return entry
    })
  const peek = (sandboxId: string): Effect.Effect<A | undefined, never, SandboxEngine> =>
    Effect.map(SandboxEngine, (engine) => registries.get(engine)?.get(sandboxId))
  return Object.assign(entryOf, { peek })
}

/** Drops what every registry holds for a deleted sandbox (its processes are gone with it). */
export const forget = (engine: Engine, sandboxId: string): void => {
  for (const forgetter of forgetters) forgetter(engine, sandboxId)
}
