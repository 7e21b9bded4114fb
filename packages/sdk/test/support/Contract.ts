/**
 * Compares endpoint declarations (`ControlPlaneApi`, `ToolboxApi`) with the contract snapshot kept in
 * `packages/sdk/contract/` (read from Daytona's generated clients by `scripts/contract`). Each
 * difference is an `Issue` whose `subject` names what differs, in the same words as
 * `ContractDeviations`: `endpoint`, `method`, `path`, `params.<name>`, `query.<name>`, `body`,
 * `body.<field path>`, `form`, `response`, `response.<field path>`.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import { readFileSync } from "node:fs"
import type * as Endpoint from "../../src/Endpoint.js"

// ---------------------------------------------------------------------------------------------
// The snapshot
// ---------------------------------------------------------------------------------------------

/** The canonical fields of an operation or model: `name` or `name?` → type text. */
export type Fields = Readonly<Record<string, string>>

/** One operation of the snapshot. */
export interface Operation {
  readonly group: string
  readonly method: string
  readonly path: string
  readonly deprecated: boolean
  readonly pathParams: Fields
  readonly query: Fields
  readonly headers: Fields
  readonly body?: string
  readonly form?: Fields
  readonly response: string
}

/** One model of the snapshot. */
export type Model =
  | { readonly kind: "object"; readonly fields: Fields }
  | { readonly kind: "enum"; readonly values: ReadonlyArray<string> }

/** The snapshot of one generated client. */
export interface Snapshot {
  readonly package: string
  readonly version: string
  readonly operations: Readonly<Record<string, Operation>>
  readonly models: Readonly<Record<string, Model>>
}

/** Reads a snapshot file kept beside the SDK's sources. */
export const loadSnapshot = (file: string): Snapshot =>
  JSON.parse(readFileSync(new URL(`../../contract/${file}`, import.meta.url), "utf8")) as Snapshot

// ---------------------------------------------------------------------------------------------
// The snapshot's type texts
// ---------------------------------------------------------------------------------------------

/** A parsed type of the snapshot. */
export type ContractType =
  | { readonly _tag: "Primitive"; readonly name: "string" | "number" | "boolean" | "date-time" | "binary" | "unknown" }
  | { readonly _tag: "Null" }
  | { readonly _tag: "Void" }
  | { readonly _tag: "Literal"; readonly value: string }
  | { readonly _tag: "Ref"; readonly name: string }
  | { readonly _tag: "Array"; readonly item: ContractType }
  | { readonly _tag: "Record"; readonly value: ContractType }
  | { readonly _tag: "Object"; readonly fields: Fields }
  | { readonly _tag: "Union"; readonly members: ReadonlyArray<ContractType> }

const primitives = new Set(["string", "number", "boolean", "date-time", "binary", "unknown"])

/** Parses the snapshot's canonical type grammar (see `scripts/contract/extract.ts`). */
export const parseType = (text: string): ContractType => {
  let at = 0
  const peek = () => text.slice(at)
  const skip = () => {
    while (text[at] === " ") at++
  }
  const expect = (token: string) => {
    skip()
    if (!text.startsWith(token, at)) throw new Error(`expected ${token} at ${at} in ${text}`)
    at += token.length
  }
  const union = (): ContractType => {
    const members = [postfix()]
    skip()
    while (text[at] === "|") {
      at++
      members.push(postfix())
      skip()
    }
    return members.length === 1 ? members[0]! : { _tag: "Union", members }
  }
  const postfix = (): ContractType => {
    let type = primary()
    while (text.startsWith("[]", at)) {
      at += 2
      type = { _tag: "Array", item: type }
    }
    return type
  }
  const primary = (): ContractType => {
    skip()
    if (text[at] === "(") {
      at++
      const inner = union()
      expect(")")
      return inner
    }
    if (text[at] === '"') {
      const end = text.indexOf('"', at + 1)
      const value = JSON.parse(text.slice(at, end + 1)) as string
      at = end + 1
      return { _tag: "Literal", value }
    }
    if (peek().startsWith("Record<string,")) {
      at += "Record<string,".length
      const value = union()
      expect(">")
      return { _tag: "Record", value }
    }
    if (text[at] === "{") {
      let depth = 0
      const start = at
      do {
        if (text[at] === "{") depth++
        if (text[at] === "}") depth--
        at++
      } while (depth > 0 && at < text.length)
      const inner = text.slice(start + 1, at - 1).trim()
      const fields: Record<string, string> = {}
      for (const part of splitTopLevel(inner, ";")) {
        const colon = part.indexOf(":")
        if (colon > 0) fields[part.slice(0, colon).trim()] = part.slice(colon + 1).trim()
      }
      return { _tag: "Object", fields }
    }
    const match = /^[A-Za-z_][\w-]*/.exec(peek())
    if (match === null) throw new Error(`cannot read a type at ${at} in ${text}`)
    at += match[0].length
    const name = match[0]
    if (name === "null") return { _tag: "Null" }
    if (name === "void") return { _tag: "Void" }
    if (primitives.has(name)) return { _tag: "Primitive", name: name as "string" }
    return { _tag: "Ref", name }
  }
  const parsed = union()
  skip()
  if (at !== text.length) throw new Error(`trailing text at ${at} in ${text}`)
  return parsed
}

const splitTopLevel = (text: string, separator: string): ReadonlyArray<string> => {
  const parts: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "{" || c === "<" || c === "(") depth++
    if (c === "}" || c === ">" || c === ")") depth--
    if (c === separator && depth === 0) {
      parts.push(text.slice(start, i).trim())
      start = i + 1
    }
  }
  const last = text.slice(start).trim()
  if (last !== "") parts.push(last)
  return parts
}

/** A field key of the snapshot without its optional marker, and whether it is required. */
const fieldName = (key: string) =>
  key.endsWith("?") ? { name: key.slice(0, -1), required: false } : { name: key, required: true }

// ---------------------------------------------------------------------------------------------
// Our schemas as shapes
// ---------------------------------------------------------------------------------------------

/** The wire shape of one of our schemas. */
export type Shape =
  | {
      readonly _tag: "Primitive"
      readonly name: "string" | "number" | "boolean" | "unknown"
      readonly literals?: ReadonlyArray<string>
    }
  | { readonly _tag: "Array"; readonly item: Shape }
  | { readonly _tag: "Record"; readonly value: Shape }
  | { readonly _tag: "Struct"; readonly fields: ReadonlyArray<ShapeField> }
  | { readonly _tag: "Union"; readonly members: ReadonlyArray<Shape> }
  | { readonly _tag: "Null" }
  | { readonly _tag: "Undefined" }
  | { readonly _tag: "Other"; readonly detail: string }

/** One field of a struct shape. */
export interface ShapeField {
  readonly name: string
  readonly optional: boolean
  readonly shape: Shape
}

/** Which side of a schema is compared: what is decoded from the wire, or what the SDK holds and sends. */
export type Side = "encoded" | "type"

/** How many recursive (`Suspend`) levels of a schema are unfolded; deeper ones compare as unknown. */
const maxSuspends = 2

const shapeOfAst = (ast: AST.AST, side: Side, suspends = 0): Shape => {
  const inner = (child: AST.AST) => shapeOfAst(child, side, suspends)
  switch (ast._tag) {
    case "StringKeyword":
    case "TemplateLiteral":
      return { _tag: "Primitive", name: "string" }
    case "NumberKeyword":
      return { _tag: "Primitive", name: "number" }
    case "BooleanKeyword":
      return { _tag: "Primitive", name: "boolean" }
    case "UnknownKeyword":
    case "AnyKeyword":
    case "ObjectKeyword":
      return { _tag: "Primitive", name: "unknown" }
    case "UndefinedKeyword":
    case "VoidKeyword":
      return { _tag: "Undefined" }
    case "Literal":
      return ast.literal === null
        ? { _tag: "Null" }
        : typeof ast.literal === "string"
          ? { _tag: "Primitive", name: "string", literals: [ast.literal] }
          : typeof ast.literal === "number"
            ? { _tag: "Primitive", name: "number" }
            : typeof ast.literal === "boolean"
              ? { _tag: "Primitive", name: "boolean" }
              : { _tag: "Other", detail: "bigint literal" }
    case "Enums":
      return ast.enums.every(([, value]) => typeof value === "string")
        ? { _tag: "Primitive", name: "string", literals: ast.enums.map(([, value]) => String(value)) }
        : { _tag: "Primitive", name: "number" }
    case "Refinement":
      return inner(ast.from)
    case "Transformation":
      return inner(side === "encoded" ? ast.from : ast.to)
    case "Suspend":
      return suspends >= maxSuspends ? { _tag: "Primitive", name: "unknown" } : shapeOfAst(ast.f(), side, suspends + 1)
    case "Declaration":
      return Option.getOrUndefined(AST.getIdentifierAnnotation(ast)) === "Date"
        ? { _tag: "Primitive", name: "string" }
        : { _tag: "Other", detail: "declaration" }
    case "TupleType": {
      const rest = ast.rest[0]
      return ast.elements.length === 0 && ast.rest.length === 1 && rest !== undefined
        ? { _tag: "Array", item: inner(rest.type) }
        : { _tag: "Other", detail: "tuple" }
    }
    case "TypeLiteral": {
      const index = ast.indexSignatures[0]
      if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 1 && index !== undefined) {
        return { _tag: "Record", value: inner(index.type) }
      }
      return {
        _tag: "Struct",
        fields: ast.propertySignatures.map((signature) => ({
          name: String(signature.name),
          optional: signature.isOptional,
          shape: inner(signature.type)
        }))
      }
    }
    case "Union": {
      const members = ast.types.map(inner)
      const literals = members.every((m) => m._tag === "Primitive" && m.name === "string" && m.literals !== undefined)
      if (literals) {
        return {
          _tag: "Primitive",
          name: "string",
          literals: members.flatMap((m) => (m._tag === "Primitive" ? (m.literals ?? []) : []))
        }
      }
      return members.length === 1 ? members[0]! : { _tag: "Union", members }
    }
    default:
      return { _tag: "Other", detail: ast._tag }
  }
}

/** The shape of a schema, on one side. */
export const shapeOf = (schema: Schema.Schema.Any, side: Side): Shape =>
  shapeOfAst(side === "encoded" ? AST.encodedAST(schema.ast) : AST.typeAST(schema.ast), side)

const withoutNullish = (shape: Shape): { readonly shape: Shape; readonly nullable: boolean } => {
  if (shape._tag !== "Union") return { shape, nullable: shape._tag === "Null" }
  const rest = shape.members.filter((m) => m._tag !== "Null" && m._tag !== "Undefined")
  const nullable = shape.members.some((m) => m._tag === "Null")
  return { shape: rest.length === 1 ? rest[0]! : { _tag: "Union", members: rest }, nullable }
}

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

/** One difference between a declaration and the contract. */
export interface Issue {
  readonly endpoint: string
  readonly subject: string
  readonly message: string
}

/** Which way a body travels: what the SDK sends (`request`) or what it receives (`response`). */
export type Direction = "request" | "response"

const primitiveMatches = (ours: Shape & { readonly _tag: "Primitive" }, theirs: string) =>
  ours.name === "unknown" ||
  theirs === "unknown" ||
  ours.name === theirs ||
  (ours.name === "string" && (theirs === "date-time" || theirs === "binary"))

/** Compares one of our shapes with a type of the contract, reporting each difference. */
export const compareType = (
  snapshot: Snapshot,
  ours: Shape,
  theirsType: ContractType,
  direction: Direction,
  at: string,
  report: (subject: string, message: string) => void,
  seen: ReadonlySet<string> = new Set()
): void => {
  const theirsNullable = theirsType._tag === "Union" && theirsType.members.some((m) => m._tag === "Null")
  const theirsCore =
    theirsType._tag === "Union"
      ? (() => {
          const rest = theirsType.members.filter((m) => m._tag !== "Null")
          return rest.length === 1 ? rest[0]! : ({ _tag: "Union", members: rest } as const)
        })()
      : theirsType
  const { shape, nullable } = withoutNullish(ours)
  if (direction === "response" && theirsNullable && !nullable)
    report(at, "the contract may send null, which our schema rejects")
  if (theirsCore._tag === "Ref") {
    const model = snapshot.models[theirsCore.name]
    if (model === undefined) {
      report(at, `the contract names a model ${theirsCore.name} it does not define`)
      return
    }
    if (model.kind === "enum") {
      if (shape._tag !== "Primitive" || shape.name !== "string") {
        report(at, `the contract's ${theirsCore.name} is an enumeration of strings; ours is ${describe(shape)}`)
        return
      }
      if (direction === "request" && shape.literals !== undefined) {
        const unknown = shape.literals.filter((value) => !model.values.includes(value))
        if (unknown.length > 0)
          report(at, `sends values the contract's ${theirsCore.name} does not have: ${unknown.join(", ")}`)
      }
      return
    }
    if (seen.has(theirsCore.name)) return
    compareFields(snapshot, shape, model.fields, direction, at, report, new Set([...seen, theirsCore.name]))
    return
  }
  switch (theirsCore._tag) {
    case "Primitive":
      if (shape._tag === "Primitive" && primitiveMatches(shape, theirsCore.name)) return
      if (theirsCore.name === "unknown") return
      report(at, `type ${describe(shape)} is not compatible with the contract's ${theirsCore.name}`)
      return
    case "Literal":
      if (shape._tag === "Primitive" && shape.name === "string") return
      report(at, `type ${describe(shape)} is not compatible with the contract's literal ${theirsCore.value}`)
      return
    case "Array":
      if (shape._tag !== "Array") {
        report(at, `type ${describe(shape)} is not compatible with the contract's array`)
        return
      }
      compareType(snapshot, shape.item, theirsCore.item, direction, at, report, seen)
      return
    case "Record":
      if (shape._tag === "Record") {
        compareType(snapshot, shape.value, theirsCore.value, direction, at, report, seen)
        return
      }
      if (shape._tag === "Struct") return
      report(at, `type ${describe(shape)} is not compatible with the contract's map`)
      return
    case "Object":
      compareFields(snapshot, shape, theirsCore.fields, direction, at, report, seen)
      return
    case "Union":
      if (shape._tag === "Primitive" && shape.name === "unknown") return
      report(at, `the contract's type is a union this checker does not compare (ours: ${describe(shape)})`)
      return
    case "Null":
    case "Void":
      report(at, `the contract has no value here; ours is ${describe(shape)}`)
      return
  }
}

const compareFields = (
  snapshot: Snapshot,
  shape: Shape,
  fields: Fields,
  direction: Direction,
  at: string,
  report: (subject: string, message: string) => void,
  seen: ReadonlySet<string>
) => {
  if (shape._tag === "Record" || (shape._tag === "Primitive" && shape.name === "unknown")) return
  if (shape._tag !== "Struct") {
    report(at, `type ${describe(shape)} is not compatible with the contract's object`)
    return
  }
  const theirs = new Map(
    Object.entries(fields).map(([key, type]) => [fieldName(key).name, { ...fieldName(key), type }])
  )
  for (const field of shape.fields) {
    const where = at === "" ? field.name : `${at}.${field.name}`
    const property = theirs.get(field.name)
    if (property === undefined) {
      report(where, `field ${field.name} does not exist in the contract`)
      continue
    }
    if (direction === "response" && !field.optional && !property.required) {
      report(where, "required in our schema but optional in the contract (the server may omit it)")
    }
    if (direction === "request" && field.optional && property.required) {
      report(where, "required by the contract but optional in our schema (we may omit it)")
    }
    compareType(snapshot, field.shape, parseType(property.type), direction, where, report, seen)
  }
  if (direction === "request") {
    for (const property of theirs.values()) {
      if (property.required && !shape.fields.some((field) => field.name === property.name)) {
        report(
          at === "" ? property.name : `${at}.${property.name}`,
          `the contract requires ${property.name}, which we never send`
        )
      }
    }
  }
}

const describe = (shape: Shape): string => {
  switch (shape._tag) {
    case "Primitive":
      return shape.name
    case "Array":
      return `${describe(shape.item)}[]`
    case "Record":
      return `Record<string, ${describe(shape.value)}>`
    case "Struct":
      return "object"
    case "Union":
      return shape.members.map(describe).join(" | ")
    case "Null":
      return "null"
    case "Undefined":
      return "undefined"
    case "Other":
      return shape.detail
  }
}

const structFields = (schema: Schema.Schema.Any, side: Side): ReadonlyArray<ShapeField> => {
  const shape = shapeOf(schema, side)
  return shape._tag === "Struct" ? shape.fields : []
}

/**
 * Every difference between one declaration and the contract, before deviations are applied.
 */
export const checkEndpoint = (snapshot: Snapshot, endpoint: Endpoint.Any): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  const report = (subject: string, message: string) => issues.push({ endpoint: endpoint.name, subject, message })
  const operation = snapshot.operations[endpoint.name]
  if (operation === undefined) {
    report("endpoint", `${snapshot.package} ${snapshot.version} has no operation ${endpoint.name}`)
    return issues
  }
  if (operation.method !== endpoint.method) report("method", `the contract's method is ${operation.method}`)
  if (operation.path !== endpoint.path) report("path", `the contract's path is ${operation.path}`)

  const params = structFields(endpoint.params, "type")
  for (const param of params) {
    const theirs = operation.pathParams[param.name]
    if (theirs === undefined) report(`params.${param.name}`, `the contract has no path parameter ${param.name}`)
    else compareType(snapshot, param.shape, parseType(theirs), "request", `params.${param.name}`, report)
  }

  const query = structFields(endpoint.query, "type")
  const encodedQuery = structFields(endpoint.query, "encoded")
  const theirsQuery = new Map(
    Object.entries(operation.query).map(([key, type]) => [fieldName(key).name, { ...fieldName(key), type }])
  )
  for (const param of query) {
    const theirs = theirsQuery.get(param.name)
    if (theirs === undefined) {
      report(`query.${param.name}`, `the contract has no query parameter ${param.name}`)
      continue
    }
    if (param.optional && theirs.required)
      report(`query.${param.name}`, "required by the contract but optional in ours")
    const { shape } = withoutNullish(param.shape)
    const onWire = encodedQuery.find((field) => field.name === param.name)
    const typeIssues: Array<string> = []
    compareType(snapshot, shape, parseType(theirs.type), "request", `query.${param.name}`, (_, m) => typeIssues.push(m))
    const wireIssues: Array<string> = []
    if (onWire !== undefined) {
      compareType(snapshot, withoutNullish(onWire.shape).shape, parseType(theirs.type), "request", "", (_, m) =>
        wireIssues.push(m)
      )
    }
    // A query value is text on the wire: what we decode it to, or the text itself, must fit the contract.
    if (typeIssues.length > 0 && (onWire === undefined || wireIssues.length > 0)) {
      for (const message of typeIssues) report(`query.${param.name}`, message)
    }
  }
  for (const theirs of theirsQuery.values()) {
    if (theirs.required && !query.some((param) => param.name === theirs.name)) {
      report(`query.${theirs.name}`, `the contract requires query parameter ${theirs.name}`)
    }
  }

  const payload = endpoint.payload
  if (payload._tag === "Json") {
    if (operation.body === undefined) report("body", "we send a JSON body the contract does not declare")
    else
      compareType(
        snapshot,
        shapeOf(payload.schema, "type"),
        parseType(operation.body.replace(/\?$/, "")),
        "request",
        "body",
        (s, m) => report(s, m)
      )
  } else if (payload._tag === "Multipart") {
    if (operation.form !== undefined) {
      const theirs = Object.keys(operation.form)
        .map((key) => fieldName(key).name)
        .sort()
      const ours = [...payload.fields].sort()
      if (theirs.join(",") !== ours.join(",")) report("form", `the contract's form fields are ${theirs.join(", ")}`)
    }
  } else if (operation.body !== undefined && !operation.body.endsWith("?")) {
    report("body", `the contract requires a ${operation.body} body we do not send`)
  }

  const success = endpoint.success
  const response = parseType(operation.response)
  if (success._tag === "Json") {
    if (response._tag === "Void") report("response", "we decode a JSON answer the contract does not declare")
    else compareType(snapshot, shapeOf(success.schema, "encoded"), response, "response", "response", report)
  } else if (success._tag === "Binary" && !(response._tag === "Primitive" && response.name === "binary")) {
    report("response", `we read bytes; the contract's answer is ${operation.response}`)
  }
  return issues
}

/** A readable list of issues for an assertion message. */
export const describeIssues = (issues: ReadonlyArray<Issue>): string =>
  issues.map((issue) => `${issue.endpoint} ${issue.subject}: ${issue.message}`).join("\n")
