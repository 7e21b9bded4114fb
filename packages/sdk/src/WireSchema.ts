/**
 * Schemas of the values on Daytona's wire, each annotated with the message Daytona's servers answer
 * when a request carries a wrong one (class-validator's wording, `$property` standing for the field's
 * dotted path), and the one function that turns a failed decode into those messages.
 *
 * The same schemas decode what the SDK receives, check what it sends before it sends it, and let the
 * local server reject bad requests with Daytona's messages: one set of rules for the three.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"

const message = (text: string) => ({ message: () => text })

/**
 * A string: "`$property` must be a string".
 *
 * @since 0.1.0
 * @category schemas
 */
export const string = Schema.String.annotations(message("$property must be a string"))

/**
 * A finite number: "`$property` must be a number conforming to the specified constraints".
 *
 * @since 0.1.0
 * @category schemas
 */
export const number = Schema.Number.annotations(
  message("$property must be a number conforming to the specified constraints")
).pipe(
  Schema.filter(
    (n) => Number.isFinite(n),
    message("$property must be a number conforming to the specified constraints")
  )
)

/**
 * An integer: "`$property` must be an integer number".
 *
 * @since 0.1.0
 * @category schemas
 */
export const integer = Schema.Number.annotations(message("$property must be an integer number")).pipe(
  Schema.filter((n) => Number.isInteger(n), message("$property must be an integer number"))
)

/**
 * A boolean: "`$property` must be a boolean value".
 *
 * @since 0.1.0
 * @category schemas
 */
export const boolean = Schema.Boolean.annotations(message("$property must be a boolean value"))

/**
 * A number at least `min`: "`$property` must not be less than `min`".
 *
 * @since 0.1.0
 * @category combinators
 */
export const min =
  (bound: number) =>
  <A extends number, I, R>(self: Schema.Schema<A, I, R>) =>
    self.pipe(Schema.filter((n) => n >= bound, message(`$property must not be less than ${bound}`)))

/**
 * A number at most `max`: "`$property` must not be greater than `max`".
 *
 * @since 0.1.0
 * @category combinators
 */
export const max =
  (bound: number) =>
  <A extends number, I, R>(self: Schema.Schema<A, I, R>) =>
    self.pipe(Schema.filter((n) => n <= bound, message(`$property must not be greater than ${bound}`)))

/**
 * A string that is not empty: "`$property` should not be empty".
 *
 * @since 0.1.0
 * @category combinators
 */
export const nonEmpty = <I, R>(self: Schema.Schema<string, I, R>) =>
  self.pipe(Schema.filter((s) => s !== "", message("$property should not be empty")))

/**
 * A string at most `length` characters long: "`$property` must be shorter than or equal to `length`
 * characters".
 *
 * @since 0.1.0
 * @category combinators
 */
export const maxLength =
  (length: number) =>
  <I, R>(self: Schema.Schema<string, I, R>) =>
    self.pipe(
      Schema.filter(
        (s) => s.length <= length,
        message(`$property must be shorter than or equal to ${length} characters`)
      )
    )

const unsafeDisplay =
  // eslint-disable-next-line no-control-regex
  /<[a-zA-Z/][^>]*>?|(https?|ftps?|sftp|ssh|wss?|file|ldaps?):\/\/|javascript:|data:|mailto:|tel:|www\.|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/i

/**
 * Whether a string passes Daytona's `IsSafeDisplayString`: no HTML tags, URLs or control characters.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSafeDisplayString = (value: string): boolean => !unsafeDisplay.test(value)

/**
 * A string that is safe to display (names): "`$property` must not contain HTML tags, URLs, or control
 * characters".
 *
 * @since 0.1.0
 * @category combinators
 */
export const safeDisplay = <I, R>(self: Schema.Schema<string, I, R>) =>
  self.pipe(
    Schema.filter(isSafeDisplayString, message("$property must not contain HTML tags, URLs, or control characters"))
  )

/**
 * An array: "`$property` must be an array".
 *
 * @since 0.1.0
 * @category constructors
 */
export const array = <A, I, R>(item: Schema.Schema<A, I, R>) =>
  Schema.Array(item).annotations(message("$property must be an array"))

/**
 * An object with the given fields: "`$property` must be an object".
 *
 * @since 0.1.0
 * @category constructors
 */
export const struct = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.Struct(fields).annotations(message("$property must be an object"))

/**
 * A string-to-string map (labels, environment variables): "`$property` must be an object", and
 * "each value in `$property` must be a string".
 *
 * @since 0.1.0
 * @category schemas
 */
export const StringMap = Schema.Record({
  key: Schema.String,
  value: Schema.String.annotations(message("each value in $container must be a string"))
}).annotations(message("$property must be an object"))

/** Each schema's nullable optional field, made once: a property signature holds no key, so fields share it. */
const optionalOf = new WeakMap<Schema.Schema.Any, Schema.PropertySignature.All>()

/**
 * An optional field that also accepts `null` for "not given", as class-validator's `@IsOptional()`
 * does; it decodes to the value or nothing. The field of one schema is made once and shared by every
 * struct that uses it (about 15 KB of allocations each time otherwise, ~300 times at import).
 *
 * @since 0.1.0
 * @category constructors
 */
export const optional = <S extends Schema.Schema.Any>(schema: S): Schema.optionalWith<S, { nullable: true }> => {
  const made = optionalOf.get(schema) as Schema.optionalWith<S, { nullable: true }> | undefined
  if (made !== undefined) return made
  const field = Schema.optionalWith(schema, { nullable: true })
  optionalOf.set(schema, field)
  return field
}

/**
 * A path or query parameter holding an integer, as NestJS's `ParseIntPipe` reads it: "Validation failed
 * (numeric string is expected)".
 *
 * @since 0.1.0
 * @category schemas
 */
export const IntegerFromString = Schema.NumberFromString.annotations(
  message("Validation failed (numeric string is expected)")
).pipe(Schema.filter((n) => Number.isInteger(n), message("Validation failed (numeric string is expected)")))

/**
 * A query parameter holding a boolean: `true` or `false`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BooleanFromString = Schema.transformOrFail(Schema.String, Schema.Boolean, {
  strict: true,
  decode: (text, _, ast) =>
    text === "true" || text === "false"
      ? ParseResult.succeed(text === "true")
      : ParseResult.fail(new ParseResult.Type(ast, text, "$property must be a boolean value")),
  encode: (value) => ParseResult.succeed(value ? "true" : "false")
})

/**
 * A query parameter holding a date (ISO 8601 on the wire).
 *
 * @since 0.1.0
 * @category schemas
 */
export const DateFromString = Schema.Date.annotations(message("$property must be a valid ISO 8601 date string"))

/**
 * A query parameter that may be repeated: one value or several, always decoded to an array.
 *
 * @since 0.1.0
 * @category constructors
 */
export const repeated = <A, R>(item: Schema.Schema<A, string, R>) =>
  Schema.transform(Schema.Union(Schema.String, Schema.Array(Schema.String)), Schema.Array(item), {
    strict: true,
    decode: (value) => (typeof value === "string" ? [value] : value),
    encode: (values) => values
  })

const pathText = (path: ReadonlyArray<PropertyKey>) => path.map(String).join(".")

/** What an optional field's other alternatives say when the value is wrong: not worth reporting. */
const isAlternativeOfOptional = (issue: ParseResult.ArrayFormatterIssue) =>
  /^Expected (undefined|null), actual /.test(issue.message)

const isDefaultMessage = (issue: ParseResult.ArrayFormatterIssue) => /^Expected /.test(issue.message)

const isDefaultMissing = (issue: ParseResult.ArrayFormatterIssue) =>
  issue._tag === "Missing" && issue.message === "is missing"

/**
 * The messages of a failed decode, in Daytona's wording: each failure with `$property` replaced by the
 * field's dotted path (`volumes.0.mountPath`) and `$container` by its parent's. The alternatives an
 * optional field offers (`undefined`, `null`) are not reported; a failure no schema annotated is
 * reported as "`path` is invalid" (or Effect's own message when it concerns the whole value), a
 * required field that is absent as "`path` is required" unless its `missingMessage` says otherwise.
 *
 * @since 0.1.0
 * @category formatting
 */
export const messages = (error: ParseResult.ParseError): ReadonlyArray<string> => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const relevant = issues.filter((issue) => !isAlternativeOfOptional(issue))
  const chosen = relevant.length > 0 ? relevant : issues.slice(0, 1)
  const texts = chosen.map((issue) =>
    isDefaultMissing(issue)
      ? `${pathText(issue.path)} is required`
      : isDefaultMessage(issue)
        ? issue.path.length === 0
          ? issue.message
          : `${pathText(issue.path)} is invalid`
        : issue.message
            .replaceAll("$property", pathText(issue.path))
            .replaceAll("$container", pathText(issue.path.slice(0, -1)))
  )
  return [...new Set(texts)]
}

/**
 * The first field a failed decode names, when it names one.
 *
 * @since 0.1.0
 * @category formatting
 */
export const firstField = (error: ParseResult.ParseError): string | undefined =>
  Option.getOrUndefined(
    Option.fromNullable(
      ParseResult.ArrayFormatter.formatErrorSync(error).find((issue) => issue.path.length > 0)?.path
    ).pipe(Option.map(pathText))
  )

/**
 * Whether a schema's wire form has no fields (an empty struct): such a parameter set may be left out.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isEmptyStruct = (schema: Schema.Schema.Any): boolean => {
  const ast = AST.encodedAST(schema.ast)
  return ast._tag === "TypeLiteral" && ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0
}

/**
 * An enumeration whose known values are listed but which accepts any string.
 *
 * @since 0.1.0
 * @category models
 */
export type Tolerant<Known extends string> = Known | (string & {})

/**
 * A schema for an enumeration that keeps unknown values as they are.
 *
 * @since 0.1.0
 * @category constructors
 */
export const tolerant = <const Known extends ReadonlyArray<string>>(
  identifier: string,
  known: Known
): Schema.Schema<Tolerant<Known[number]>, string> =>
  Schema.String.annotations({
    identifier,
    description: `One of ${known.join(", ")}; unknown values are kept as they are.`
  }) as Schema.Schema<Tolerant<Known[number]>, string>
