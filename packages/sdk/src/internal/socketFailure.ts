import type * as Socket from "@effect/platform/Socket"
import type * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import {
  type ApiError,
  type ConflictError,
  type NotFoundError,
  RequestTimeoutError,
  TransportError,
  type ValidationError
} from "../DaytonaError.js"
import * as Transport from "./transport.js"

/** What a toolbox WebSocket that failed to open or broke off becomes. */
export type SocketFailure = ApiError | NotFoundError | ValidationError | ConflictError

const causeText = (cause: unknown): string =>
  cause instanceof Error
    ? cause.message
    : Predicate.hasProperty(cause, "message") && typeof cause.message === "string"
      ? cause.message
      : Predicate.hasProperty(cause, "error") && cause.error instanceof Error
        ? cause.error.message
        : String(cause)

/**
 * The SDK error for a socket failure other than a close frame: a handshake the server refused with a
 * status becomes that status's error (`ws` reports it as "Unexpected server response: N"), a handshake
 * that took too long a `RequestTimeoutError`, anything else a `TransportError` (`sent` once the
 * connection was open). `what` names the stream in messages.
 */
export const fromSocketError = (
  error: Socket.SocketGenericError,
  path: string,
  openTimeout: Duration.Duration,
  what: string
): SocketFailure => {
  if (error.reason === "OpenTimeout") return new RequestTimeoutError({ method: "GET", path, timeout: openTimeout })
  const text = causeText(error.cause)
  const status = /Unexpected server response: (\d{3})/.exec(text)
  if (error.reason === "Open" && status !== null) {
    const mapped = Transport.errorFromResponse({
      side: "toolbox",
      status: Number(status[1]),
      method: "GET",
      path,
      headers: {},
      bodyText: "",
      retryAfter: undefined,
      secrets: []
    })
    if (mapped._tag !== "CommandTimeoutError") return mapped
  }
  return new TransportError({
    reason: "Connection",
    method: "GET",
    path,
    sent: error.reason !== "Open",
    description: `${what} ${error.reason.toLowerCase()} failure: ${text}`,
    cause: error.cause
  })
}
