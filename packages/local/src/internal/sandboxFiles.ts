import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as SandboxCopy from "./sandboxCopy.js"
import type { SandboxCore } from "./sandboxCore.js"

/**
 * A sandbox's files as snapshots of sandboxes and forks use them: filled from an image or from
 * another sandbox before the new sandbox first starts, and captured from a sandbox whose processes
 * are frozen meanwhile (a consistent copy its processes cannot race). A new sandbox being filled is
 * `creating` with no step due; once filled its start is due, and when filling fails it is in
 * `error` with why.
 */

const GiB = 1024 ** 3

/** The most a copy of a sandbox of `disk` GiB may hold. */
export const limitOf = (disk: number) => Math.round(disk * GiB)

const reason = (cause: unknown) =>
  cause instanceof SandboxCopy.CopyFailure
    ? cause.message
    : `the files could not be copied (${(cause as { code?: unknown })?.code ?? "unknown error"})`

/** Starts a new sandbox once its files are in place, or fails it with why they are not. */
const settleFilled = (core: SandboxCore, id: string, filled: Effect.Effect<unknown, unknown>, what: string) =>
  Effect.either(filled).pipe(
    Effect.flatMap((result) =>
      core.update(id, (r, now) =>
        Effect.succeed(
          r.state !== "unknown" || r.desiredState !== "started"
            ? r
            : result._tag === "Right"
              ? { ...r, dueAt: now + Duration.toMillis(core.timings.create) }
              : {
                  ...r,
                  state: "error",
                  pending: false,
                  dueAt: null,
                  errorReason: `${what}: ${reason(result.left)}`,
                  recoverable: false
                }
        )
      )
    ),
    Effect.ignore
  )

/** Fills a new sandbox (provisioned, `creating` with no step due) from an image, then starts it. */
export const fillFromImage = (core: SandboxCore, id: string, image: string, disk: number) =>
  settleFilled(
    core,
    id,
    Effect.tryPromise({
      try: () => SandboxCopy.restore(image, core.engine.view(id), limitOf(disk)),
      catch: (cause) => cause
    }),
    "its snapshot's files could not be restored"
  )

/**
 * Runs `use` on a sandbox's files with its processes frozen when it is started (thawed after,
 * whatever happened). A sandbox that cannot be frozen is copied as it runs.
 */
export const whileFrozen = <A, E>(core: SandboxCore, id: string, started: boolean, use: Effect.Effect<A, E>) =>
  started
    ? Effect.acquireUseRelease(
        core.engine.pause(id).pipe(
          Effect.as(true),
          Effect.orElseSucceed(() => false)
        ),
        () => use,
        (frozen) => (frozen ? Effect.ignore(core.engine.resume(id)) : Effect.void)
      )
    : use

/** Captures a sandbox's files into a new image directory, frozen meanwhile when it is started. */
export const capture = (core: SandboxCore, id: string, started: boolean, image: string, disk: number) =>
  whileFrozen(
    core,
    id,
    started,
    Effect.tryPromise({
      try: () => SandboxCopy.capture(core.engine.view(id), image, limitOf(disk)),
      catch: (cause) => new SandboxCopy.CopyFailure(reason(cause))
    })
  )

/** Copies a sandbox's files into a new one (the source frozen meanwhile when started), then starts the new one. */
export const fork = (core: SandboxCore, sourceId: string, started: boolean, childId: string, disk: number) =>
  settleFilled(
    core,
    childId,
    whileFrozen(
      core,
      sourceId,
      started,
      Effect.tryPromise({
        try: () => SandboxCopy.copyBetween(core.engine.view(sourceId), core.engine.view(childId), limitOf(disk)),
        catch: (cause) => cause
      })
    ),
    "its parent's files could not be copied"
  )
