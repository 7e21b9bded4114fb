/**
 * An `HttpClient` that answers requests by running an `HttpApp` in the calling fiber: no socket,
 * no port, no event-loop round trip through the network stack. Each request becomes a web
 * `Request`, is given to the app as its `HttpServerRequest`, and the app's `HttpServerResponse`
 * comes back as the client's response (bodies, streams and multipart included).
 *
 * Because the app runs in the caller's fiber, it reads the caller's `Clock`: under `TestClock`,
 * a server that sleeps before answering answers when the test adjusts the clock. Interrupting the
 * request (a timeout, a cancelled fiber) interrupts the app's handling of it.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/**
 * The app the client serves: every service it needs already provided but the request itself.
 *
 * @since 0.1.0
 * @category models
 */
export type App = Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>

/**
 * A request on its way to the app, with what the client knows of it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Exchange {
  readonly request: HttpClientRequest.HttpClientRequest
  readonly url: URL
  /** Runs the app on the request and returns its response. */
  readonly forward: Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The origin the app answers for, e.g. `http://daytona.test`; requests elsewhere fail as unreachable. */
  readonly origin: string
  /**
   * Sees every request before the app does and decides what happens: forward it (the default),
   * answer it itself, delay it, fail it. Used for fault injection.
   */
  readonly intercept?:
    | ((exchange: Exchange) => Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError>)
    | undefined
}

const bodylessMethods: ReadonlySet<string> = new Set(["GET", "HEAD"])

/** The client's request as a web `Request`; stream bodies stay streams. */
const toWebRequest = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal
): Effect.Effect<Request, HttpClientError.RequestError> =>
  Effect.flatMap(Effect.runtime<never>(), (runtime) =>
    Effect.try({
      try: () => {
        const headers = new Headers(request.headers)
        headers.delete("content-length")
        const init: RequestInit & { duplex?: "half" } = { method: request.method, headers, signal }
        const body = request.body
        if (!bodylessMethods.has(request.method)) {
          switch (body._tag) {
            case "Raw":
              init.body = body.body as BodyInit
              break
            case "Uint8Array":
              init.body = body.body as BodyInit
              break
            case "FormData":
              init.body = body.formData
              break
            case "Stream":
              init.body = Stream.toReadableStreamRuntime(body.stream, runtime)
              init.duplex = "half"
              break
            case "Empty":
              break
          }
        }
        return new Request(url, init)
      },
      catch: (cause) =>
        new HttpClientError.RequestError({ request, reason: "Encode", cause, description: "cannot encode the body" })
    })
  )

/** Runs the app; a failure or defect of the app answers 500, as a server would. */
const serve = (
  app: App,
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  signal: AbortSignal
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.gen(function* () {
    const web = yield* toWebRequest(request, url, signal)
    const response = yield* app.pipe(
      Effect.provideService(HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(web)),
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : Effect.succeed(HttpServerResponse.text(Cause.pretty(cause), { status: 500 }))
      )
    )
    const runtime = yield* Effect.runtime<never>()
    return HttpClientResponse.fromWeb(
      request,
      HttpServerResponse.toWeb(response, { withoutBody: request.method === "HEAD", runtime })
    )
  })

/**
 * An `HttpClient` served by `app`, in memory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (app: App, options: Options): HttpClient.HttpClient => {
  const origin = new URL(options.origin).origin
  return HttpClient.make((request, url, signal) => {
    if (url.origin !== origin) {
      return Effect.fail(
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${url.hostname}`), { code: "ENOTFOUND" }),
          description: `the in-memory client only serves ${origin}`
        })
      )
    }
    const forward = serve(app, request, url, signal)
    return options.intercept === undefined ? forward : options.intercept({ request, url, forward })
  })
}
