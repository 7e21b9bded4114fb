import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/**
 * Fails the stream with `onTimeout()` when `self` produces nothing for `duration` while it is being
 * read. Like `Stream.timeoutFail`, but without a timer and two forked fibers per pull, which cost a
 * body of many small chunks most of its throughput.
 *
 * `self` is read ahead by a fiber of its own, up to `capacity` chunks, so that its source keeps
 * flowing while the consumer works, and each pull gets all that was read ahead as one chunk. Only
 * that fiber's waits for `self` count towards the timeout; one watchdog fiber checks them, sleeping
 * until the current wait could expire.
 *
 * The read-ahead is a plain buffer with at most one waiting consumer and one waiting producer, not
 * an Effect `Queue`: the queue's offer, take and their bookkeeping, once per chunk of a download's
 * body, cost a 64 MiB download about a third of its client CPU above the body stream itself.
 *
 * @internal
 */
export const idleTimeout = <A, E, R, E2>(
  self: Stream.Stream<A, E, R>,
  duration: Duration.Duration,
  onTimeout: () => E2,
  capacity = 16
): Stream.Stream<A, E | E2, R> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const clock = yield* Effect.clock
      const millis = Duration.toMillis(duration)
      const buffer: Array<A> = []
      // Chunks read ahead since the consumer last took the buffer: the producer waits at `capacity`.
      let chunksAhead = 0
      // How the source ended (or the timeout), delivered once the buffer is taken.
      let ended: Exit.Exit<void, E | E2> | undefined
      let wakeConsumer: (() => void) | undefined
      let wakeProducer: (() => void) | undefined
      let waitingSince: number | undefined = clock.unsafeCurrentTimeMillis()
      const consumerWaits = () => buffer.length === 0 && ended === undefined
      const producerWaits = () => chunksAhead >= capacity
      const notifyConsumer = () => {
        const wake = wakeConsumer
        wakeConsumer = undefined
        wake?.()
      }
      const end = (exit: Exit.Exit<void, E | E2>) =>
        Effect.sync(() => {
          waitingSince = undefined
          ended ??= exit
          notifyConsumer()
        })
      // Waiting for the consumer (a full buffer) is not idleness of the source.
      const room = Effect.async<void>((resume) => {
        const resumed = () => {
          waitingSince = clock.unsafeCurrentTimeMillis()
          resume(Effect.void)
        }
        // Checked again here: the consumer may have taken the buffer since the producer looked.
        if (!producerWaits()) return resumed()
        wakeProducer = resumed
        return Effect.sync(() => {
          wakeProducer = undefined
        })
      })
      const producer = Stream.runForEachChunk(self, (chunk) => {
        waitingSince = undefined
        for (const a of chunk) buffer.push(a)
        chunksAhead += 1
        notifyConsumer()
        if (producerWaits()) return room
        waitingSince = clock.unsafeCurrentTimeMillis()
        return Effect.void
      }).pipe(Effect.exit, Effect.flatMap(end))
      // Interruptible even when the stream is read where interruptions are held off (a finaliser).
      const fiber = yield* Effect.forkScoped(Effect.interruptible(producer))
      const watchdog: Effect.Effect<void> = Effect.suspend(() => {
        const since = waitingSince
        const now = clock.unsafeCurrentTimeMillis()
        if (since !== undefined && now - since >= millis) {
          return Effect.zipRight(Fiber.interrupt(fiber), end(Exit.fail(onTimeout())))
        }
        return Effect.zipRight(Effect.sleep(since === undefined ? millis : since + millis - now), watchdog)
      })
      yield* Effect.forkScoped(Effect.interruptible(watchdog))
      const arrival = Effect.async<void>((resume) => {
        // Checked again here: the producer may have delivered since the consumer looked.
        if (!consumerWaits()) return resume(Effect.void)
        wakeConsumer = () => resume(Effect.void)
        return Effect.sync(() => {
          wakeConsumer = undefined
        })
      })
      const pull: Effect.Effect<Chunk.Chunk<A>, Option.Option<E | E2>> = Effect.suspend(() => {
        if (buffer.length > 0) {
          const taken = Chunk.unsafeFromArray(buffer.splice(0, buffer.length))
          chunksAhead = 0
          const wake = wakeProducer
          wakeProducer = undefined
          wake?.()
          return Effect.succeed(taken)
        }
        if (ended !== undefined) {
          return Exit.isSuccess(ended)
            ? Effect.fail(Option.none())
            : Effect.failCause(Cause.map(ended.cause, Option.some))
        }
        return Effect.zipRight(arrival, pull)
      })
      return Stream.repeatEffectChunkOption(pull)
    })
  )
