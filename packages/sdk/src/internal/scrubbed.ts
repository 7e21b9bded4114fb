import * as Effect from "effect/Effect"
import * as Transport from "./transport.js"

/**
 * Keeps values the caller sent (passwords, secret values) out of the errors of `self`: each
 * occurrence in an error's `message` or `body` becomes `<redacted>`. @internal
 */
export const scrubbed =
  (secrets: ReadonlyArray<string>) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    secrets.length === 0
      ? self
      : Effect.mapError(self, (error) => {
          if (typeof error !== "object" || error === null) return error
          const fields = error as unknown as Record<string, unknown>
          const clean: Record<string, unknown> = {}
          let changed = false
          for (const key of ["message", "body"]) {
            const value = fields[key]
            if (typeof value === "string") {
              const next = Transport.scrub(value, secrets)
              if (next !== value) changed = true
              clean[key] = next
            }
          }
          if (!changed) return error
          const Ctor = (error as { constructor: new (fields: Record<string, unknown>) => E }).constructor
          return new Ctor({ ...fields, ...clean })
        })
