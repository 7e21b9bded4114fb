import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import type * as Events from "../Events.js"
import type { SandboxDto } from "../SandboxDto.js"
import * as Wait from "../Wait.js"

/** The sandbox of id `id` as an event shows it, when the event is about that sandbox. */
export const pickSandbox =
  (id: string) =>
  (event: Events.DaytonaEvent): Option.Option<SandboxDto> =>
    (event._tag === "SandboxCreated" ||
      event._tag === "SandboxStateUpdated" ||
      event._tag === "SandboxDesiredStateUpdated") &&
    event.sandbox.id === id
      ? Option.some(event.sandbox)
      : Option.none()

/**
 * A wait that listens instead of polling when events are available: it subscribes (and waits for the
 * connection to be live) before it sends its request, so every change after the request arrives as
 * an event; it reads the resource only to start from a known state (when it sends no request) and
 * after a gap in the events (a dropped connection opened again); it falls back to polling
 * (`Wait.poll`, with its missed-poll rule) when events are not available or are lost. Events older
 * than the state it started from are ignored. The caller bounds it with its deadline.
 */
export const wait = <A extends { readonly updatedAt?: string | undefined }, B, E1, E2, E3>(options: {
  readonly events: Events.Service | undefined
  /** What starts the awaited change; its answer is the first state decided on. */
  readonly request?: Effect.Effect<A, E1> | undefined
  /** The state already in hand, decided on first when there is no request (a cached state may be stale). */
  readonly initial?: A | undefined
  /** One read of the resource, given the first state seen (which names it). */
  readonly read: (first: A | undefined) => Effect.Effect<A, E2>
  /** The resource an event shows, when the event is about the awaited one. */
  readonly pick: (event: Events.DaytonaEvent, first: A | undefined) => Option.Option<A>
  readonly decide: (a: A) => Wait.Decision<B, E3>
  readonly schedule?: Schedule.Schedule<unknown> | undefined
  /** Sees every state decided on that an event brought (to report the last one on a deadline). */
  readonly observe?: ((a: A) => Effect.Effect<unknown>) | undefined
}): Effect.Effect<B, E1 | E2 | E3> =>
  Effect.scoped(
    Effect.gen(function* () {
      const events = options.events
      const subscription = events !== undefined && events.available ? yield* events.subscribe : undefined
      const live = subscription === undefined ? false : yield* subscription.live
      let first: A | undefined
      if (options.request !== undefined) {
        first = yield* options.request
        const decision = options.decide(first)
        if (decision._tag === "Done") return decision.value
        if (decision._tag === "Fail") return yield* Effect.fail(decision.error)
      } else if (options.initial !== undefined) {
        const decision = options.decide(options.initial)
        if (decision._tag === "Done") return decision.value
      }
      const poll = Wait.poll(options.read(first ?? options.initial), {
        decide: options.decide,
        schedule: options.schedule
      })
      if (subscription === undefined || !live) return yield* poll
      // One read that counts: a missed one is read again on the schedule, as polls are.
      const reread = Effect.flatMap(
        Wait.poll(options.read(first ?? options.initial), { decide: Wait.done, schedule: options.schedule }),
        (seen) => {
          first ??= seen
          return Effect.succeed(options.decide(seen))
        }
      )
      if (first === undefined) {
        const decision = yield* reread
        if (decision._tag === "Done") return decision.value
        if (decision._tag === "Fail") return yield* Effect.fail(decision.error)
      }
      const startedAt = (a: A | undefined) => (a?.updatedAt === undefined ? undefined : Date.parse(a.updatedAt))
      while (true) {
        const notice = yield* subscription.next
        let decision: Wait.Decision<B, E3>
        switch (notice._tag) {
          case "Lost":
            return yield* poll
          case "Gap":
            if (!(yield* subscription.live)) return yield* poll
            decision = yield* reread
            break
          case "Event": {
            const seen = options.pick(notice.event, first)
            if (Option.isNone(seen)) continue
            const since = startedAt(first)
            const at = startedAt(seen.value)
            if (since !== undefined && at !== undefined && at < since) continue
            if (options.observe !== undefined) yield* options.observe(seen.value)
            decision = options.decide(seen.value)
          }
        }
        if (decision._tag === "Done") return decision.value
        if (decision._tag === "Fail") return yield* Effect.fail(decision.error)
      }
    })
  )
