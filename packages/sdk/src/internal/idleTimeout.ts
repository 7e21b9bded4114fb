import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import * as Take from "effect/Take"

/**
 * Fails the stream with `onTimeout()` when `self` produces nothing for `duration` while it is being
 * read. Like `Stream.timeoutFail`, but without a timer and two forked fibers per pull, which cost a
 * body of many small chunks most of its throughput.
 *
 * `self` is read ahead by a fiber of its own into a queue of `capacity` chunks, so that its source
 * keeps flowing while the consumer works, and each pull gets all that was read ahead as one chunk.
 * Only that fiber's waits for `self` count towards the timeout; one watchdog fiber checks them,
 * sleeping until the current wait could expire.
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
      const queue = yield* Effect.acquireRelease(Queue.bounded<Take.Take<A, E | E2>>(capacity), Queue.shutdown)
      let waitingSince: number | undefined = clock.unsafeCurrentTimeMillis()
      // Waiting for the consumer (a full queue) is not idleness of the source.
      const finish = (take: Take.Take<A, E | E2>) =>
        Effect.suspend(() => {
          waitingSince = undefined
          return Queue.offer(queue, take)
        })
      const producer = Stream.runForEachChunk(self, (chunk) => {
        waitingSince = undefined
        return Effect.zipRight(
          Queue.offer(queue, Take.chunk(chunk)),
          Effect.sync(() => {
            waitingSince = clock.unsafeCurrentTimeMillis()
          })
        )
      }).pipe(
        Effect.matchCauseEffect({
          onSuccess: () => finish(Take.end),
          onFailure: (cause) => finish(Take.failCause(cause))
        })
      )
      // Interruptible even when the stream is read where interruptions are held off (a finaliser).
      const fiber = yield* Effect.forkScoped(Effect.interruptible(producer))
      const watchdog: Effect.Effect<void> = Effect.suspend(() => {
        const since = waitingSince
        const now = clock.unsafeCurrentTimeMillis()
        if (since !== undefined && now - since >= millis) {
          return Effect.zipRight(Fiber.interrupt(fiber), Queue.offer(queue, Take.fail(onTimeout())))
        }
        return Effect.zipRight(Effect.sleep(since === undefined ? millis : since + millis - now), watchdog)
      })
      yield* Effect.forkScoped(Effect.interruptible(watchdog))
      // Each pull takes everything read ahead so far, so that a slow consumer works in larger batches.
      let last: Effect.Effect<never, Option.Option<E | E2>> | undefined
      const pull = Effect.suspend(() =>
        last !== undefined
          ? last
          : Effect.flatMap(Queue.takeBetween(queue, 1, capacity), (takes) => {
              const out: Array<A> = []
              for (const take of takes) {
                if (last !== undefined) break
                Take.match(take, {
                  onEnd: () => {
                    last = Effect.fail(Option.none())
                  },
                  onFailure: (cause) => {
                    last = Effect.failCause(Cause.map(cause, Option.some))
                  },
                  onSuccess: (chunk) => {
                    for (const a of chunk) out.push(a)
                  }
                })
              }
              return out.length === 0 && last !== undefined ? last : Effect.succeed(Chunk.unsafeFromArray(out))
            })
      )
      return Stream.repeatEffectChunkOption(pull)
    })
  )
