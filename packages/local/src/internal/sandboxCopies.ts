import type { CreateSandboxSnapshot, ForkSandbox } from "@effect-daytona/sdk/CreateSandbox"
import type { SandboxDto } from "@effect-daytona/sdk/SandboxDto"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as NodeCrypto from "node:crypto"
import { type ControlPlaneError, badRequest, conflict, notFound, stateChangeInProgress } from "./controlPlaneError.js"
import type { SandboxRecord } from "./record.js"
import { errored, type SandboxCore, visible } from "./sandboxCore.js"
import * as SandboxFiles from "./sandboxFiles.js"
import { randomToken } from "./secrets.js"
import type { SnapshotsService } from "./snapshots.js"

/** How many ancestors Daytona follows up a chain of forks. */
const maxAncestors = 50
/** How many forks of one sandbox Daytona lists. */
const maxForks = 100

/**
 * Copies of a sandbox: a snapshot of its files (`POST /sandbox/{id}/snapshot`) that new sandboxes
 * start from, and forks (`POST /sandbox/{id}/fork`), new sandboxes from a copy of its files, with
 * their ancestry. The copy runs in the background, the sandbox `snapshotting` or `forking`
 * meanwhile (its processes frozen when it is started), then back to the state it was in.
 */
export const make = (
  core: SandboxCore,
  snapshots: SnapshotsService["Type"],
  background: FiberSet.FiberSet<unknown, unknown>
) => {
  const { store, engine, locked, find, findLocked, update, dto } = core

  /** The source of a copy: started or stopped, no transition under way. */
  const copyable = (r: SandboxRecord, what: string): Effect.Effect<SandboxRecord, ControlPlaneError> => {
    if (errored(r)) return Effect.fail(badRequest("Sandbox is in an errored state"))
    if (r.state !== "started" && r.state !== "stopped")
      return Effect.fail(badRequest(`Sandbox must be in started or stopped state to ${what}`))
    if (r.pending) return Effect.fail(stateChangeInProgress())
    return Effect.succeed(r)
  }

  /** The sandbox back in the state it was in before a copy, unless something else changed it since. */
  const copyDone = (id: string, during: "snapshotting" | "forking") =>
    update(id, (r) => Effect.succeed(r.state === during ? { ...r, state: r.desiredState, pending: false } : r)).pipe(
      Effect.ignore
    )

  const createSnapshot = (
    idOrName: string,
    body: CreateSandboxSnapshot
  ): Effect.Effect<SandboxDto, ControlPlaneError> =>
    Effect.gen(function* () {
      if (body.includeMemory === true) return yield* badRequest("includeMemory is only supported for Windows sandboxes")
      const source = yield* Effect.flatMap(findLocked(idOrName), (r) => copyable(r, "create a snapshot"))
      const snapshot = yield* snapshots.beginCapture(body.name, source)
      const taken = yield* update(source.id, (r) =>
        Effect.map(copyable(r, "create a snapshot"), (r) => ({
          ...r,
          state: "snapshotting",
          pending: true,
          dueAt: null
        }))
      ).pipe(Effect.tapError(() => snapshots.abandonCapture(snapshot.id)))
      const started = taken.desiredState === "started"
      yield* FiberSet.run(
        background,
        SandboxFiles.capture(core, taken.id, started, snapshot.image, taken.disk).pipe(
          Effect.matchEffect({
            onFailure: (error) => snapshots.captureFailed(snapshot.id, error.message),
            onSuccess: (copied) => snapshots.captured(snapshot.id, copied.bytes)
          }),
          Effect.zipRight(copyDone(taken.id, "snapshotting"))
        )
      )
      return dto(taken)
    })

  const fork = (idOrName: string, body: ForkSandbox): Effect.Effect<SandboxDto, ControlPlaneError> =>
    Effect.gen(function* () {
      const childId = NodeCrypto.randomUUID()
      const name = body.name ?? childId
      const { source, child } = yield* locked(
        Effect.gen(function* () {
          const source = yield* Effect.flatMap(find(idOrName), (r) => copyable(r, "fork"))
          const all = yield* store.all
          if (all.some((r) => r.name === name && r.state !== "destroyed"))
            return yield* conflict("Sandbox with this name already exists")
          yield* engine.provision(childId).pipe(Effect.orDie)
          const now = yield* Clock.currentTimeMillis
          // Daytona copies the source's settings, not its TTL, history or tokens.
          const child: SandboxRecord = {
            ...source,
            id: childId,
            name,
            state: "unknown",
            desiredState: "started",
            pending: true,
            dueAt: null,
            errorReason: null,
            recoverable: false,
            backupState: "None",
            buildInfo: null,
            authToken: randomToken(32),
            createdAt: now,
            updatedAt: now,
            lastActivityAt: now,
            destroyedAt: null,
            autoDestroyAt: null,
            parentId: source.id,
            warmPoolId: null,
            // A key of its own: a URL signed for the source must not open the fork's files.
            signingKey: null,
            processEnv: null
          }
          yield* store.put(child)
          const forking = { ...source, state: "forking", pending: true, dueAt: null, updatedAt: now }
          yield* store.put(forking)
          return { source: forking, child }
        })
      )
      yield* FiberSet.run(
        background,
        SandboxFiles.fork(core, source.id, source.desiredState === "started", child.id, source.disk).pipe(
          Effect.zipRight(copyDone(source.id, "forking"))
        )
      )
      return dto(child)
    })

  /** Every sandbox as stored (destroyed ones too, until they are purged), read under the lock. */
  const everything = core.settledAll

  const ancestors = (idOrName: string): Effect.Effect<ReadonlyArray<SandboxDto>, ControlPlaneError> =>
    Effect.gen(function* () {
      const r = yield* findLocked(idOrName)
      const all = yield* everything
      const chain: Array<SandboxRecord> = []
      const seen = new Set<string>([r.id])
      let parentId = r.parentId
      while (parentId !== null && chain.length < maxAncestors && !seen.has(parentId)) {
        const parent = all.find((candidate) => candidate.id === parentId)
        if (parent === undefined) break
        seen.add(parent.id)
        chain.push(parent)
        parentId = parent.parentId
      }
      return chain.reverse().map(dto)
    })

  const forks = (
    idOrName: string,
    includeDestroyed: boolean
  ): Effect.Effect<ReadonlyArray<SandboxDto>, ControlPlaneError> =>
    Effect.gen(function* () {
      const r = yield* findLocked(idOrName)
      const all = yield* everything
      return all
        .filter((child) => child.parentId === r.id && (includeDestroyed || visible(child)))
        .sort((a, b) => a.createdAt - b.createdAt)
        .slice(0, maxForks)
        .map(dto)
    })

  const parent = (idOrName: string): Effect.Effect<SandboxDto, ControlPlaneError> =>
    Effect.gen(function* () {
      const r = yield* findLocked(idOrName)
      const found = r.parentId === null ? undefined : (yield* everything).find((p) => p.id === r.parentId)
      return yield* Option.match(Option.fromNullable(found), {
        onNone: () => Effect.fail(notFound(`Sandbox with ID or name ${idOrName} has no fork parent`)),
        onSome: (p) => Effect.succeed(dto(p))
      })
    })

  return { createSnapshot, fork, ancestors, forks, parent }
}
