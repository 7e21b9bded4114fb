/**
 * Records what a run leaves behind that a secret could leak into: every log line (through a
 * `Logger`), every span with its attributes, events and exit (through a `Tracer`), and every error
 * the run produced (`String(error)`, its message, its JSON and its full inspection). `leaks(secret)`
 * lists where a secret appears.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Tracer from "effect/Tracer"
import * as NodeUtil from "node:util"

/**
 * A span as the recording tracer kept it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedSpan extends Tracer.Span {
  readonly events: ReadonlyArray<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Recorder {
  /** Every log line, formatted as the default logger would plus the full cause. */
  readonly logs: ReadonlyArray<string>
  readonly spans: ReadonlyArray<RecordedSpan>
  /** The texts of every recorded error. */
  readonly errors: ReadonlyArray<string>
  /** A logger that records (and prints nothing). */
  readonly logger: Logger.Logger<unknown, void>
  readonly tracer: Tracer.Tracer
  /** Both, as a layer replacing the default logger and the tracer. */
  readonly layer: Layer.Layer<never>
  /** Keeps every text of an exit's failures and defects (a success records nothing). */
  readonly recordExit: (exit: Exit.Exit<unknown, unknown>) => void
  /** Keeps every text of an error. */
  readonly recordError: (error: unknown) => void
  /** Where `secret` appears: a description of each place. */
  readonly leaks: (secret: string) => ReadonlyArray<string>
}

const safeJson = (value: unknown): string => {
  const seen = new WeakSet<object>()
  try {
    return (
      JSON.stringify(value, (_key, inner: unknown) => {
        if (typeof inner === "bigint") return inner.toString()
        if (typeof inner === "object" && inner !== null) {
          if (seen.has(inner)) return "[circular]"
          seen.add(inner)
        }
        return inner
      }) ?? "undefined"
    )
  } catch (error) {
    return `[unserializable: ${String(error)}]`
  }
}

const inspect = (value: unknown): string => NodeUtil.inspect(value, { depth: 12, getters: true, showHidden: false })

/** Every text a value shows: `String`, message, JSON, inspection. */
export const textsOf = (value: unknown): ReadonlyArray<string> => {
  const texts = [inspect(value), safeJson(value)]
  try {
    texts.push(String(value))
  } catch {
    // a value without a string form
  }
  if (typeof value === "object" && value !== null && "message" in value) texts.push(String(value.message))
  return texts
}

/**
 * A new, empty recorder.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Recorder => {
  const logs: Array<string> = []
  const spans: Array<RecordedSpan> = []
  const errors: Array<string> = []

  const logger = Logger.make<unknown, void>((options) => {
    const line = Logger.logfmtLogger.log(options)
    const parts = [line, ...textsOf(options.message)]
    if (!Cause.isEmpty(options.cause)) parts.push(Cause.pretty(options.cause, { renderErrorCause: true }))
    for (const [key, value] of options.annotations) parts.push(`${key}=${safeJson(value)}`)
    logs.push(parts.join("\n"))
  })

  const endTexts = new WeakMap<RecordedSpan, ReadonlyArray<string>>()
  const failures: Array<unknown> = []
  let counter = 0
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const attributes = new Map<string, unknown>(Object.entries(options?.attributes ?? {}))
      const events: Array<{ readonly name: string; readonly attributes: Record<string, unknown> | undefined }> = []
      const allLinks = [...links]
      const id = (++counter).toString(16).padStart(16, "0")
      const parentSpan = Option.getOrUndefined(parent)
      const span: RecordedSpan = {
        _tag: "Span",
        name,
        spanId: id,
        traceId: parentSpan?.traceId ?? id.padStart(32, "0"),
        parent,
        context,
        status: { _tag: "Started", startTime },
        attributes,
        links: allLinks,
        sampled: true,
        kind,
        events,
        end(endTime, exit) {
          ;(this as { status: Tracer.SpanStatus }).status = { _tag: "Ended", startTime, endTime, exit }
          // Rendered now, inside the fiber, as an exporter does when a span ends.
          endTexts.set(span, spanTexts(span))
        },
        attribute(key, value) {
          attributes.set(key, value)
        },
        event(eventName, _startTime, eventAttributes) {
          events.push({ name: eventName, attributes: eventAttributes })
        },
        addLinks(more) {
          allLinks.push(...more)
        }
      }
      spans.push(span)
      return span
    },
    context: (f) => f()
  })

  const recordError = (error: unknown) => {
    errors.push(...textsOf(error))
  }

  const recordExit = (exit: Exit.Exit<unknown, unknown>) => {
    if (Exit.isSuccess(exit)) return
    errors.push(Cause.pretty(exit.cause, { renderErrorCause: true }))
    for (const failure of Cause.failures(exit.cause)) recordError(failure)
    for (const defect of Cause.defects(exit.cause)) recordError(defect)
    failures.push(...Cause.failures(exit.cause), ...Cause.defects(exit.cause))
  }

  function spanTexts(span: RecordedSpan): ReadonlyArray<string> {
    const texts = [span.name]
    for (const [key, value] of span.attributes) texts.push(key, ...textsOf(value))
    for (const event of span.events) texts.push(event.name, safeJson(event.attributes))
    // A failed span's exit as exporters record it (message and stack of each error). Not a full
    // inspection: @effect/platform's own `http.client` spans end with `HttpClientError`s that hold
    // the request, Authorization header included, unredacted outside a logging context.
    if (span.status._tag === "Ended" && Exit.isFailure(span.status.exit)) {
      texts.push(Cause.pretty(span.status.exit.cause, { renderErrorCause: true }))
    }
    return texts
  }

  return {
    logs,
    spans,
    errors,
    logger,
    tracer,
    layer: Layer.mergeAll(Logger.replace(Logger.defaultLogger, logger), Layer.setTracer(tracer)),
    recordExit,
    recordError,
    leaks: (secret) => {
      const found: Array<string> = []
      logs.forEach((line, i) => {
        if (line.includes(secret)) found.push(`log line ${i}: ${line.slice(0, 200)}`)
      })
      for (const span of spans) {
        const text = (endTexts.get(span) ?? spanTexts(span)).find((text) => text.includes(secret))
        if (text !== undefined) {
          const at = text.indexOf(secret)
          found.push(`span ${span.name}: …${text.slice(Math.max(0, at - 1500), at + 100)}`)
        }
      }
      errors.forEach((text, i) => {
        if (text.includes(secret)) found.push(`error text ${i}: ${text.slice(0, 200)}`)
      })
      // The SDK's errors again, rendered outside any fiber (as \`console.log(error)\` after runPromise does).
      failures.forEach((failure, i) => {
        const text = textsOf(failure).find((t) => t.includes(secret))
        if (text !== undefined) found.push(`error ${i} outside a fiber: ${text.slice(0, 300)}`)
      })
      return found
    }
  }
}
