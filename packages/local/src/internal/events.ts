import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import type * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"

/**
 * The events Daytona's notification gateway sends, as the server's parts publish them: the name
 * of the Socket.IO event (`sandbox.state.updated`, …), the organization whose room receives it,
 * and its payload as the gateway emits it.
 */
export interface ServerEvent {
  readonly name: string
  readonly organizationId: string
  readonly payload: unknown
}

/** Daytona's event names. */
export const eventNames = {
  sandboxCreated: "sandbox.created",
  sandboxStateUpdated: "sandbox.state.updated",
  sandboxDesiredStateUpdated: "sandbox.desired-state.updated",
  snapshotCreated: "snapshot.created",
  snapshotStateUpdated: "snapshot.state.updated",
  snapshotRemoved: "snapshot.removed",
  volumeCreated: "volume.created",
  volumeStateUpdated: "volume.state.updated"
} as const

/** Where state changes are published, for whoever listens (the Socket.IO gateway). */
export interface Bus {
  readonly publish: (event: ServerEvent) => Effect.Effect<void>
  readonly subscribe: Effect.Effect<Queue.Dequeue<ServerEvent>, never, Scope.Scope>
}

export class EventBus extends Context.Tag("@effect-daytona/local/internal/EventBus")<EventBus, Bus>() {}

/** A bus with no bound: publishing never waits; a listener that falls behind only holds memory. */
export const layer = Layer.scoped(
  EventBus,
  Effect.gen(function* () {
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<ServerEvent>(), PubSub.shutdown)
    return {
      publish: (event) => Effect.asVoid(PubSub.publish(pubsub, event)),
      subscribe: PubSub.subscribe(pubsub)
    }
  })
)

/**
 * Announces the records of one kind (snapshots, volumes) as their rows are written: `created` for a
 * row it has not seen, `stateUpdated` (`{ [key]: dto, oldState, newState }`) when a write changes the
 * state it last saw. Rows read from the store are `seen` first, so that a restart announces nothing.
 */
export const stateAnnouncer = <R extends { readonly id: string; readonly state: string }>(
  bus: Bus,
  options: {
    readonly created: string
    readonly stateUpdated: string
    readonly key: "snapshot" | "volume"
    readonly organizationId: (record: R) => string
    readonly dto: (record: R) => unknown
  }
) => {
  const last = new Map<string, string>()
  return {
    seen: (record: R): void => {
      if (!last.has(record.id)) last.set(record.id, record.state)
    },
    written: (record: R): Effect.Effect<void> =>
      Effect.suspend(() => {
        const before = last.get(record.id)
        last.set(record.id, record.state)
        const organizationId = options.organizationId(record)
        if (before === undefined)
          return bus.publish({ name: options.created, organizationId, payload: options.dto(record) })
        if (before === record.state) return Effect.void
        return bus.publish({
          name: options.stateUpdated,
          organizationId,
          payload: { [options.key]: options.dto(record), oldState: before, newState: record.state }
        })
      }),
    forget: (id: string): void => {
      last.delete(id)
    }
  }
}
