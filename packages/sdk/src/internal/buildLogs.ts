import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { type ApiError, type StatusError, TransportError } from "../DaytonaError.js"
import { expectStatus } from "./expect.js"
import * as Transport from "./transport.js"

/**
 * A build log followed live: `GET <url>?follow=true`, read as it is written, one element per line,
 * until the server ends the answer (the build reached a final state). Values of `secrets` never
 * appear in a line. A connection that breaks off ends the stream with a `TransportError`; the log
 * is not resumed. @internal
 */
export const follow = <E>(
  send: (
    request: HttpClientRequest.HttpClientRequest,
    options: Transport.SendOptions
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, E>,
  url: string,
  secrets: ReadonlyArray<string>
) =>
  Stream.unwrap(
    send(HttpClientRequest.get(url).pipe(HttpClientRequest.setUrlParam("follow", "true")), { stream: true }).pipe(
      expectStatus("NotFoundError", "ValidationError"),
      Effect.map((response) =>
        response.stream.pipe(
          Stream.mapError(
            (error) =>
              new TransportError({
                reason: "Body",
                method: "GET",
                path: new URL(response.request.url).pathname,
                sent: true,
                description: error.description ?? "the build log broke off",
                cause: error.cause
              })
          ),
          Stream.decodeText(),
          Stream.splitLines,
          Stream.map((line) => Transport.scrub(line, secrets))
        )
      )
    )
  )

/** What following a build log can fail with. @internal */
export type FollowError = ApiError | Extract<StatusError, { readonly _tag: "NotFoundError" | "ValidationError" }>
