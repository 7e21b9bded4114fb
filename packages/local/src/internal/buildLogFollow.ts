import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** A build log as it is now: its lines so far, and whether the build has ended. */
export interface BuildLogState {
  readonly lines: ReadonlyArray<string>
  readonly done: boolean
}

/** How often a followed log is read again (on the Clock). */
export const followInterval = Duration.millis(500)

/**
 * A build log followed live (`?follow=true`): the lines written so far, then each new one as the
 * build writes it, read again every `followInterval`; the answer ends when the build has ended. A
 * log that cannot be read any more (its snapshot or sandbox deleted) ends the answer.
 */
interface Cursor {
  readonly sent: number
  readonly first: boolean
}

export const follow = <E>(read: Effect.Effect<BuildLogState, E>): Stream.Stream<string> =>
  Stream.paginateEffect({ sent: 0, first: true } as Cursor, (cursor) =>
    Effect.gen(function* (): Effect.fn.Return<readonly [ReadonlyArray<string>, Option.Option<Cursor>]> {
      if (!cursor.first) yield* Effect.sleep(followInterval)
      const state = yield* Effect.option(read)
      if (Option.isNone(state)) return [[], Option.none()] as const
      const fresh = state.value.lines.slice(cursor.sent)
      const next = { sent: state.value.lines.length, first: false }
      return [fresh, state.value.done ? Option.none() : Option.some(next)] as const
    })
  ).pipe(Stream.flatMap((lines) => Stream.fromIterable(lines.map((line) => `${line}\n`))))

/** The answer to a build-log request: the text so far, or followed when `follow=true`. */
export const respond = <E>(read: Effect.Effect<BuildLogState, E>, followed: boolean) =>
  followed
    ? Effect.succeed(
        HttpServerResponse.stream(Stream.encodeText(follow(read)), {
          contentType: "text/plain; charset=utf-8",
          headers: { "cache-control": "no-cache" }
        })
      )
    : Effect.map(read, (state) =>
        HttpServerResponse.text(state.lines.map((line) => `${line}\n`).join(""), {
          contentType: "text/plain; charset=utf-8"
        })
      )
