import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"

let builtInTracer: Tracer.Tracer | undefined

/** Effect's own tracer, the one a program runs with when it installed none. @internal */
export const builtIn = (): Tracer.Tracer => (builtInTracer ??= Effect.runSync(Effect.tracer))

/**
 * Whether `fiber` runs with a tracer of the program's own (an exporter such as
 * `@effect/opentelemetry`'s), whose spans something collects; Effect's built-in tracer keeps them
 * nowhere. @internal
 */
export const collected = <A, E>(fiber: Fiber.RuntimeFiber<A, E>): boolean =>
  Context.get(fiber.getFiberRef(DefaultServices.currentServices), Tracer.Tracer) !== builtIn()

/**
 * `Effect.withSpan` for the SDK's method spans, made only when the program runs with a tracer of its
 * own. Under the built-in tracer nothing collects a span, and a small call's two spans (this one and
 * its request's) were a quarter of what the call allocated. @internal
 */
export const withSpan =
  (name: string, options: Tracer.SpanOptions) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.withFiberRuntime((fiber) => (collected(fiber) ? Effect.withSpan(self, name, options) : self))

/** {@link withSpan} for a stream: its span covers the whole run, when a tracer collects it. @internal */
export const withStreamSpan =
  (name: string, options: Tracer.SpanOptions) =>
  <A, E, R>(self: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
    Stream.unwrap(
      Effect.withFiberRuntime((fiber) => Effect.succeed(collected(fiber) ? Stream.withSpan(self, name, options) : self))
    )
