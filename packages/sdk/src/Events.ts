/**
 * Daytona's events: the state changes of the organization's sandboxes, snapshots and volumes that
 * the control plane pushes over its notification gateway (Socket.IO under the API's path,
 * `/api/socket.io/`), as a `Stream`, and the subscriptions the SDK's waits use instead of polling.
 *
 * Events need a {@link WebSocketConnector} provided to the layer that builds this service (on Node:
 * `WebSocketConnector.layer(WebSocket)` with `ws`'s class); without one, or when the server does not
 * serve the gateway, waits poll as before and `stream` fails with `UnsupportedError` or
 * `TransportError`. One connection serves every subscriber of a service; it is opened on the first
 * subscription, opened again when it drops, and closed 30 seconds after the last subscriber left.
 *
 * @since 0.1.0
 */
import * as Socket from "@effect/platform/Socket"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import { DaytonaConfig } from "./DaytonaConfig.js"
import { AuthenticationError, TransportError, UnsupportedError } from "./DaytonaError.js"
import * as SocketIo from "./internal/socketIo.js"
import * as Transport from "./internal/transport.js"
import { SandboxDto } from "./SandboxDto.js"
import { SandboxDesiredState, SandboxState } from "./SandboxState.js"
import { SnapshotDto, SnapshotState } from "./SnapshotDto.js"
import { VolumeDto, VolumeState } from "./VolumeDto.js"
import { WebSocketConnector } from "./WebSocketConnector.js"

/**
 * One event of the gateway, decoded. An event of a name this SDK does not know, or whose payload
 * does not fit, is kept as `Other` (never a failure).
 *
 * @since 0.1.0
 * @category models
 */
export type DaytonaEvent =
  | { readonly _tag: "SandboxCreated"; readonly sandbox: SandboxDto }
  | {
      readonly _tag: "SandboxStateUpdated"
      readonly sandbox: SandboxDto
      readonly oldState: SandboxState
      readonly newState: SandboxState
    }
  | {
      readonly _tag: "SandboxDesiredStateUpdated"
      readonly sandbox: SandboxDto
      readonly oldDesiredState: SandboxDesiredState
      readonly newDesiredState: SandboxDesiredState
    }
  | { readonly _tag: "SnapshotCreated"; readonly snapshot: SnapshotDto }
  | {
      readonly _tag: "SnapshotStateUpdated"
      readonly snapshot: SnapshotDto
      readonly oldState: SnapshotState
      readonly newState: SnapshotState
    }
  | { readonly _tag: "SnapshotRemoved"; readonly snapshotId: string }
  | { readonly _tag: "VolumeCreated"; readonly volume: VolumeDto }
  | {
      readonly _tag: "VolumeStateUpdated"
      readonly volume: VolumeDto
      readonly oldState: VolumeState
      readonly newState: VolumeState
    }
  | { readonly _tag: "VolumeLastUsedAtUpdated"; readonly volume: VolumeDto }
  | { readonly _tag: "Other"; readonly name: string; readonly data: unknown }

/**
 * One event name's decoder. The schema's parser is compiled on the first event of that name and
 * kept: a schema built per event would be compiled again for every event.
 */
const decoderOf = <A, I>(
  schema: Schema.Schema<A, I>,
  toEvent: (decoded: A) => DaytonaEvent
): ((data: unknown) => Option.Option<DaytonaEvent>) => {
  let decode: ((data: unknown) => Option.Option<A>) | undefined
  return (data) => Option.map((decode ??= Schema.decodeUnknownOption(schema))(data), toEvent)
}

const decoders: Record<string, (data: unknown) => Option.Option<DaytonaEvent>> = {
  "sandbox.created": decoderOf(SandboxDto, (sandbox) => ({ _tag: "SandboxCreated", sandbox })),
  "sandbox.state.updated": decoderOf(
    Schema.Struct({ sandbox: SandboxDto, oldState: SandboxState, newState: SandboxState }),
    (event) => ({ _tag: "SandboxStateUpdated", ...event })
  ),
  "sandbox.desired-state.updated": decoderOf(
    Schema.Struct({ sandbox: SandboxDto, oldDesiredState: SandboxDesiredState, newDesiredState: SandboxDesiredState }),
    (event) => ({ _tag: "SandboxDesiredStateUpdated", ...event })
  ),
  "snapshot.created": decoderOf(SnapshotDto, (snapshot) => ({ _tag: "SnapshotCreated", snapshot })),
  "snapshot.state.updated": decoderOf(
    Schema.Struct({ snapshot: SnapshotDto, oldState: SnapshotState, newState: SnapshotState }),
    (event) => ({ _tag: "SnapshotStateUpdated", ...event })
  ),
  "snapshot.removed": (data) =>
    typeof data === "string" ? Option.some({ _tag: "SnapshotRemoved", snapshotId: data }) : Option.none(),
  "volume.created": decoderOf(VolumeDto, (volume) => ({ _tag: "VolumeCreated", volume })),
  "volume.state.updated": decoderOf(
    Schema.Struct({ volume: VolumeDto, oldState: VolumeState, newState: VolumeState }),
    (event) => ({ _tag: "VolumeStateUpdated", ...event })
  ),
  "volume.last-used-at.updated": decoderOf(VolumeDto, (volume) => ({ _tag: "VolumeLastUsedAtUpdated", volume }))
}

/**
 * Decodes one event of the gateway by its name.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeEvent = (name: string, data: unknown): DaytonaEvent =>
  Option.getOrElse(decoders[name]?.(data) ?? Option.none(), (): DaytonaEvent => ({ _tag: "Other", name, data }))

/**
 * The sandbox an event is about, as it now is (a creation or a change of state).
 *
 * @since 0.1.0
 * @category getters
 */
export const sandboxOf = (event: DaytonaEvent): Option.Option<SandboxDto> =>
  event._tag === "SandboxCreated" || event._tag === "SandboxStateUpdated" || event._tag === "SandboxDesiredStateUpdated"
    ? Option.some(event.sandbox)
    : Option.none()

/**
 * The snapshot an event is about, as it now is.
 *
 * @since 0.1.0
 * @category getters
 */
export const snapshotOf = (event: DaytonaEvent): Option.Option<SnapshotDto> =>
  event._tag === "SnapshotCreated" || event._tag === "SnapshotStateUpdated"
    ? Option.some(event.snapshot)
    : Option.none()

/**
 * The volume an event is about, as it now is.
 *
 * @since 0.1.0
 * @category getters
 */
export const volumeOf = (event: DaytonaEvent): Option.Option<VolumeDto> =>
  event._tag === "VolumeCreated" || event._tag === "VolumeStateUpdated" || event._tag === "VolumeLastUsedAtUpdated"
    ? Option.some(event.volume)
    : Option.none()

/**
 * Why events cannot be received: no connector was provided (`UnsupportedError`), the gateway refused
 * the credentials (`AuthenticationError`), or it cannot be reached, or the connection was lost and
 * could not be opened again (`TransportError`).
 *
 * @since 0.1.0
 * @category models
 */
export type EventsError = UnsupportedError | AuthenticationError | TransportError

/**
 * What a subscription receives: an event, a `Gap` (the connection dropped: events may be missed
 * until it is live again) or `Lost` (it could not be opened again: no more events come).
 *
 * @since 0.1.0
 * @category models
 */
export type Notice =
  | { readonly _tag: "Event"; readonly event: DaytonaEvent }
  | { readonly _tag: "Gap" }
  | { readonly _tag: "Lost"; readonly error: EventsError }

/**
 * A subscription to the events, from the moment it was made until its scope closes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Subscription {
  /**
   * Waits until the connection is live (true: every event from now on arrives) or events are not
   * available (false: poll instead). Bounded by the connection's own timeouts.
   */
  readonly live: Effect.Effect<boolean>
  /** The next notice, in order. */
  readonly next: Effect.Effect<Notice>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether a connector was provided, so that events can be tried at all. */
  readonly available: boolean
  /**
   * Every event the gateway sends the organization from now on, until the stream is interrupted.
   * A connection that drops is opened again (events sent meanwhile are missed); one that cannot be
   * opened ends the stream with its error.
   */
  readonly stream: Stream.Stream<DaytonaEvent, EventsError>
  /** A subscription for the current scope (what the SDK's waits use). */
  readonly subscribe: Effect.Effect<Subscription, never, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Events extends Context.Tag("@effect-daytona/sdk/Events")<Events, Service>() {}

/** How long opening the connection, or the gateway's confirmation of the session, may take. */
const connectTimeout = Duration.seconds(5)
/** How long the connection stays open after the last subscriber left. */
const linger = Duration.seconds(30)
/** How long the SDK does not try again after events turned out unavailable. */
const cooldown = Duration.minutes(1)
/** How many times a connection that was live is opened again before events are given up. */
const maxReconnects = 5

type Status =
  | { readonly _tag: "Idle" }
  | { readonly _tag: "Connecting" }
  | { readonly _tag: "Live" }
  | { readonly _tag: "Unavailable"; readonly until: number; readonly error: EventsError }

const noConnector = new UnsupportedError({
  feature: "events",
  message:
    "events need a WebSocketConnector provided to the Daytona layer (on Node: WebSocketConnector.layer(WebSocket) with ws's class)"
})

/** A service that never has events: waits poll, the stream fails with `UnsupportedError`. */
const unavailable: Service = {
  available: false,
  stream: Stream.fail(noConnector),
  subscribe: Effect.succeed({ live: Effect.succeed(false), next: Effect.never })
}

/**
 * Builds the service over the configuration and, when one is in the context, a
 * {@link WebSocketConnector}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<Service, never, DaytonaConfig | Scope.Scope> = Effect.gen(function* () {
  const config = yield* DaytonaConfig
  const connector = yield* Effect.serviceOption(WebSocketConnector)
  if (Option.isNone(connector)) return unavailable
  const connect = connector.value
  const scope = yield* Effect.scope
  const credentials = config.credentials
  const token = Redacted.value(credentials._tag === "ApiKey" ? credentials.apiKey : credentials.token)
  const base = new URL(config.apiUrl)
  const path = `${base.pathname.replace(/\/$/, "")}/socket.io/`
  const query =
    credentials._tag === "Jwt"
      ? `${SocketIo.transportQuery}&organizationId=${encodeURIComponent(credentials.organizationId)}`
      : SocketIo.transportQuery
  const url = `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}${path}?${query}`

  const status = yield* SubscriptionRef.make<Status>({ _tag: "Idle" })
  const queues = new Set<Queue.Queue<Notice>>()
  let connection: Fiber.RuntimeFiber<void> | undefined
  let lingering: Fiber.RuntimeFiber<void> | undefined

  const broadcast = (notice: Notice) =>
    Effect.forEach(Array.from(queues), (queue) => Queue.offer(queue, notice), { discard: true })

  const transportError = (description: string, cause?: unknown) =>
    new TransportError({
      reason: "Connection",
      method: "GET",
      path,
      sent: true,
      description,
      ...(cause === undefined ? {} : { cause })
    })

  /** One session: `wasLive` when the gateway confirmed it; `error` says why it ended. */
  const session = Effect.gen(function* () {
    let wasLive = false
    let refused: string | undefined
    const socket = yield* Socket.fromWebSocket(
      Effect.acquireRelease(
        Effect.sync(() => connect(url, { headers: Transport.defaultHeaders(config) })),
        (ws) => Effect.sync(() => ws.close(1000))
      ),
      { openTimeout: connectTimeout, closeCodeIsError: () => true }
    )
    const ended = yield* Effect.either(
      SocketIo.run(
        socket,
        { token },
        (frame) => {
          switch (frame._tag) {
            case "Connected":
              wasLive = true
              return SubscriptionRef.set(status, { _tag: "Live" })
            case "Refused":
              refused = frame.reason
              return Effect.void
            case "Event":
              // Nobody listens while the connection lingers: such events are not decoded.
              return queues.size === 0
                ? Effect.void
                : broadcast({ _tag: "Event", event: decodeEvent(frame.name, frame.data) })
          }
        },
        connectTimeout
      )
    )
    const error: EventsError =
      refused !== undefined
        ? new AuthenticationError({
            message: `the event gateway refused the connection: ${refused}`,
            status: 401,
            method: "GET",
            path
          })
        : Either.isLeft(ended)
          ? transportError(
              wasLive
                ? "the event gateway's connection was lost"
                : "the event gateway could not be reached (the server may not serve Daytona's events)",
              ended.left
            )
          : transportError("the event gateway closed the connection")
    return { wasLive, error }
  }).pipe(Effect.scoped)

  const giveUp = (error: EventsError) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* SubscriptionRef.set(status, { _tag: "Unavailable", until: now + Duration.toMillis(cooldown), error })
      yield* broadcast({ _tag: "Lost", error })
    })

  /** Opens the connection, again after each drop (paced by the retry policy), until it cannot. */
  const maintain = Effect.gen(function* () {
    let everLive = false
    let failures = 0
    const driver = yield* Schedule.driver(config.retryPolicy)
    while (true) {
      yield* SubscriptionRef.set(status, { _tag: "Connecting" })
      const { error, wasLive } = yield* session
      if (wasLive) {
        everLive = true
        failures = 0
        yield* broadcast({ _tag: "Gap" })
      }
      if (error._tag === "AuthenticationError" || !everLive || ++failures > maxReconnects) return yield* giveUp(error)
      const next = yield* Effect.either(driver.next({ error, attempt: failures, retryAfter: undefined }))
      if (Either.isLeft(next)) return yield* giveUp(error)
    }
  })

  /** Starts the connection when none is running and events are not known to be unavailable. */
  const ensure = Effect.gen(function* () {
    if (connection !== undefined) return
    const current = yield* SubscriptionRef.get(status)
    const now = yield* Clock.currentTimeMillis
    if (current._tag === "Unavailable" && now < current.until) return
    // Before the fork: a subscriber waiting for `live` must not read a stale state.
    yield* SubscriptionRef.set(status, { _tag: "Connecting" })
    // Forked from a subscription's acquisition, which is uninterruptible: the fiber must not be.
    connection = yield* maintain.pipe(
      Effect.ensuring(Effect.sync(() => (connection = undefined))),
      Effect.interruptible,
      Effect.forkIn(scope)
    )
  })

  const release = (queue: Queue.Queue<Notice>) =>
    Effect.gen(function* () {
      queues.delete(queue)
      yield* Queue.shutdown(queue)
      if (queues.size > 0 || lingering !== undefined) return
      lingering = yield* Effect.sleep(linger).pipe(
        Effect.zipRight(
          Effect.suspend(() => {
            if (queues.size > 0 || connection === undefined) return Effect.void
            const running = connection
            connection = undefined
            return Fiber.interrupt(running).pipe(Effect.zipRight(SubscriptionRef.set(status, { _tag: "Idle" })))
          })
        ),
        Effect.ensuring(Effect.sync(() => (lingering = undefined))),
        // Forked from a subscription's release, which is uninterruptible: the fiber must not be.
        Effect.interruptible,
        Effect.forkIn(scope)
      )
    })

  const settled = (s: Status) => s._tag === "Live" || s._tag === "Unavailable"
  // The status is read first: a stream of its changes costs ~1 ms of CPU, and is needed only
  // while a connection is being opened.
  const live = Effect.flatMap(SubscriptionRef.get(status), (current) =>
    settled(current)
      ? Effect.succeed(current._tag === "Live")
      : status.changes.pipe(
          Stream.filter(settled),
          Stream.runHead,
          Effect.map((s) => Option.isSome(s) && s.value._tag === "Live")
        )
  )

  const subscribe: Service["subscribe"] = Effect.acquireRelease(
    Effect.gen(function* () {
      if (lingering !== undefined) yield* Fiber.interrupt(lingering)
      const queue = yield* Queue.unbounded<Notice>()
      queues.add(queue)
      yield* ensure
      return queue
    }),
    release
  ).pipe(Effect.map((queue): Subscription => ({ live, next: Queue.take(queue) })))

  const stream: Service["stream"] = Stream.unwrapScoped(
    Effect.gen(function* () {
      const subscription = yield* subscribe
      if (!(yield* subscription.live)) {
        const current = yield* SubscriptionRef.get(status)
        return Stream.fail(current._tag === "Unavailable" ? current.error : transportError("events are not available"))
      }
      return Stream.repeatEffect(subscription.next).pipe(
        Stream.mapEffect(
          (notice): Effect.Effect<Option.Option<DaytonaEvent>, EventsError> =>
            notice._tag === "Event"
              ? Effect.succeed(Option.some(notice.event))
              : notice._tag === "Lost"
                ? Effect.fail(notice.error)
                : Effect.succeed(Option.none())
        ),
        Stream.filterMap((event) => event)
      )
    })
  )

  yield* Effect.addFinalizer(() =>
    Effect.suspend(() => (connection === undefined ? Effect.void : Fiber.interrupt(connection)))
  )
  return { available: true, stream, subscribe }
})

/**
 * The service as a layer: needs `DaytonaConfig`; uses a {@link WebSocketConnector} when the context
 * that builds it has one.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<Events, never, DaytonaConfig> = Layer.scoped(Events, make)

/**
 * A service with no events (waits poll): for programs that must not open the gateway's connection.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNone: Layer.Layer<Events> = Layer.succeed(Events, unavailable)
