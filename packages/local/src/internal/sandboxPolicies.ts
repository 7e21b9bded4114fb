import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type { SandboxRecord } from "./record.js"
import { errored, ephemeral, type SandboxCore } from "./sandboxCore.js"
import * as SandboxRegistry from "./sandboxRegistry.js"

/**
 * What happens to sandboxes by themselves: auto-stop, auto-archive and auto-delete on the clock, the
 * purge of long-destroyed rows, and the recovery of every sandbox after a restart. `run` recovers,
 * then checks the policies every `lifecycleInterval` in a fiber of the current scope.
 */
export const make = (core: SandboxCore, warmPools: { readonly refillAll: Effect.Effect<void> }) => {
  const { config, store, engine, update, settledAll, begin, softDelete, timings: t } = core

  /** Enforces auto-stop, auto-archive and auto-delete, and purges long-destroyed rows. */
  const enforceLifecycle = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const all = yield* settledAll
    for (const r of all) {
      if (r.state === "destroyed") {
        if (r.destroyedAt !== null && now - r.destroyedAt >= 24 * 3600_000) yield* store.remove(r.id)
        continue
      }
      if (r.pending) continue
      // The TTL is wall-clock time, whatever the state; unclaimed warm sandboxes have none.
      if (r.autoDestroyAt !== null && now >= r.autoDestroyAt && r.desiredState !== "destroyed") {
        yield* update(r.id, (current, now) =>
          current.pending || current.autoDestroyAt === null || now < current.autoDestroyAt
            ? Effect.succeed(current)
            : Effect.succeed(softDelete(current, now))
        ).pipe(Effect.ignore)
        continue
      }
      if (r.warmPoolId !== null || errored(r)) continue
      const idle = now - r.lastActivityAt
      const due = (minutes: number) => minutes > 0 && idle >= minutes * 60_000
      const apply = (f: (r: SandboxRecord, now: number) => SandboxRecord) =>
        update(r.id, (current, now) =>
          current.pending || current.lastActivityAt !== r.lastActivityAt
            ? Effect.succeed(current)
            : Effect.succeed(f(current, now))
        ).pipe(Effect.ignore)
      if (r.state === "started" && due(r.autoStopInterval)) {
        yield* apply((c, now) => (ephemeral(c) ? softDelete(c, now) : begin(c, now, "stopped", t.stop)))
      } else if (r.state === "started" && due(r.autoPauseInterval)) {
        yield* apply((c, now) => begin(c, now, "paused", t.stop))
      } else if (r.state === "stopped" && r.desiredState === "stopped") {
        if (due(r.autoDeleteInterval)) yield* apply(softDelete)
        else if (!ephemeral(r) && due(r.autoArchiveInterval))
          yield* apply((c, now) => begin(c, now, "archived", t.archive, "archiving"))
      }
    }
  })

  /**
   * After a restart nothing runs: running sandboxes come back stopped, transitions are completed,
   * failed sandboxes keep their error.
   */
  const recoverAfterRestart = Effect.gen(function* () {
    const all = yield* store.all
    const now = yield* Clock.currentTimeMillis
    for (const r of all) {
      if (r.state === "destroyed") continue
      if (errored(r) && r.desiredState !== "destroyed") continue
      let next: SandboxRecord
      if (r.parentId !== null && r.state === "unknown" && r.dueAt === null && r.desiredState === "started") {
        // A fork whose files were being copied: the copy cannot be trusted.
        next = {
          ...r,
          state: "error",
          pending: false,
          errorReason: "the local server restarted while the fork's files were being copied",
          recoverable: false
        }
      } else if (r.desiredState === "destroyed") {
        yield* engine.destroy(r.id).pipe(Effect.orDie)
        SandboxRegistry.forget(engine, r.id)
        next = { ...r, state: "destroyed", pending: false, dueAt: null, destroyedAt: now }
      } else if (r.desiredState === "archived") {
        next = { ...r, state: "archived", pending: false, dueAt: null }
      } else if (r.state === "archived" && r.desiredState === "started") {
        next = { ...r, state: "archived", desiredState: "archived", pending: false, dueAt: null }
      } else if (r.state !== "stopped" || r.desiredState !== "stopped" || r.pending) {
        next = { ...r, state: "stopped", desiredState: "stopped", pending: false, dueAt: null }
      } else continue
      yield* store.put({ ...next, updatedAt: now, lastActivityAt: now })
    }
  })

  return {
    enforceLifecycle,
    run: Effect.gen(function* () {
      yield* recoverAfterRestart
      yield* warmPools.refillAll.pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("warm pool refill failed", cause)),
        Effect.forkScoped
      )
      yield* Effect.zipRight(enforceLifecycle, warmPools.refillAll).pipe(
        Effect.catchAllCause((cause) => Effect.logWarning("lifecycle check failed", cause)),
        Effect.repeat(Schedule.spaced(config.lifecycleInterval)),
        Effect.delay(config.lifecycleInterval),
        Effect.forkScoped
      )
    })
  }
}
