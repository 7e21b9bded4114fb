/**
 * Compares every control-plane route and every schema field the SDK defines against Daytona's
 * OpenAPI file (`shared/spec/daytona-api.openapi.yaml`), so that drift is caught. The only
 * differences accepted are the ones listed in `ControlPlaneRoutes.deviations`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import { readFileSync } from "node:fs"
import { parse } from "yaml"
import * as Routes from "../src/ControlPlaneRoutes.js"
import { CreateBuildInfo, CreateSandbox } from "../src/CreateSandbox.js"
import { BuildInfo, SandboxDto, StringMap } from "../src/SandboxDto.js"
import { SshAccessValidationDto } from "../src/SshAccess.js"

// ---------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------

interface SpecSchema {
  readonly type?: string
  readonly nullable?: boolean
  readonly $ref?: string
  readonly allOf?: ReadonlyArray<SpecSchema>
  readonly items?: SpecSchema
  readonly properties?: Readonly<Record<string, SpecSchema>>
  readonly required?: ReadonlyArray<string>
  readonly additionalProperties?: SpecSchema | boolean
  readonly enum?: ReadonlyArray<unknown>
}

interface SpecParameter {
  readonly name: string
  readonly in: string
  readonly required?: boolean
}

interface SpecMedia {
  readonly content?: Readonly<Record<string, { readonly schema?: SpecSchema }>>
}

interface SpecOperation {
  readonly operationId?: string
  readonly parameters?: ReadonlyArray<SpecParameter>
  readonly requestBody?: SpecMedia
  readonly responses?: Readonly<Record<string, SpecMedia>>
}

interface Spec {
  readonly paths: Readonly<Record<string, Readonly<Record<string, SpecOperation>>>>
  readonly components: { readonly schemas: Readonly<Record<string, SpecSchema>> }
}

/** `shared/` sits beside the clone (here `/work/shared` next to `/work/main`; the same in CI). */
const specUrl = new URL("../../../../shared/spec/daytona-api.openapi.yaml", import.meta.url)

const loadSpec = (): Spec => {
  const parsed: unknown = parse(readFileSync(specUrl, "utf8"))
  if (typeof parsed !== "object" || parsed === null || !("paths" in parsed) || !("components" in parsed)) {
    throw new Error(`${specUrl.pathname} is not an OpenAPI document`)
  }
  return parsed as Spec
}

const spec = loadSpec()

// ---------------------------------------------------------------------------------------------
// Our schemas, as the wire sees them (the encoded side of each Effect Schema)
// ---------------------------------------------------------------------------------------------

type Kind = "string" | "number" | "boolean" | "array" | "struct" | "record" | "union" | "unknown"

interface Shape {
  readonly kind: Kind
  readonly nullable: boolean
  readonly element?: Shape
  readonly fields?: ReadonlyArray<Field>
  readonly value?: Shape
  readonly members?: ReadonlyArray<Shape>
  readonly detail?: string
}

interface Field {
  readonly name: string
  readonly optional: boolean
  readonly shape: Shape
}

const leaf = (kind: Kind, detail?: string): Shape => ({
  kind,
  nullable: false,
  ...(detail === undefined ? {} : { detail })
})

const shapeOfEncoded = (ast: AST.AST): Shape | "null" | "undefined" => {
  switch (ast._tag) {
    case "StringKeyword":
    case "TemplateLiteral":
      return leaf("string")
    case "NumberKeyword":
      return leaf("number")
    case "BooleanKeyword":
      return leaf("boolean")
    case "UndefinedKeyword":
    case "VoidKeyword":
      return "undefined"
    case "Literal":
      return ast.literal === null
        ? "null"
        : typeof ast.literal === "string"
          ? leaf("string")
          : typeof ast.literal === "number"
            ? leaf("number")
            : typeof ast.literal === "boolean"
              ? leaf("boolean")
              : leaf("unknown", "bigint literal")
    case "Enums":
      return ast.enums.every(([, value]) => typeof value === "string") ? leaf("string") : leaf("number")
    case "Refinement":
      return shapeOfEncoded(ast.from)
    case "Transformation":
      return shapeOfEncoded(ast.from)
    case "Suspend":
      return shapeOfEncoded(ast.f())
    case "TupleType": {
      const rest = ast.rest[0]
      return ast.elements.length === 0 && ast.rest.length === 1 && rest !== undefined
        ? { kind: "array", nullable: false, element: shapeOf(rest.type) }
        : leaf("unknown", "tuple")
    }
    case "TypeLiteral": {
      const index = ast.indexSignatures[0]
      if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 1 && index !== undefined) {
        return { kind: "record", nullable: false, value: shapeOf(index.type) }
      }
      return {
        kind: "struct",
        nullable: false,
        fields: ast.propertySignatures.map((signature) => ({
          name: String(signature.name),
          optional: signature.isOptional,
          shape: shapeOf(signature.type)
        }))
      }
    }
    case "Union": {
      let nullable = false
      const members: Array<Shape> = []
      for (const member of ast.types) {
        const shape = shapeOfEncoded(member)
        if (shape === "null") nullable = true
        else if (shape !== "undefined") members.push(shape)
      }
      const only = members[0]
      if (members.length === 1 && only !== undefined) return { ...only, nullable: nullable || only.nullable }
      return { kind: "union", nullable, members }
    }
    default:
      return leaf("unknown", ast._tag)
  }
}

/** The wire shape of a schema AST (its encoded side). */
const shapeOf = (ast: AST.AST): Shape => {
  const shape = shapeOfEncoded(AST.encodedAST(ast))
  return shape === "null" || shape === "undefined" ? leaf("unknown", shape) : shape
}

// ---------------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------------

/** One difference between a route and the spec. `subject` uses the same names as `Deviation.subject`. */
interface Issue {
  readonly route: string
  readonly operationId: string
  readonly subject: string
  readonly message: string
}

type Direction = "request" | "response"

const refName = (ref: string) => ref.replace(/^#\/components\/schemas\//, "")

/** Follows `$ref` and single-member `allOf` (how Nest writes a referenced enum or object). */
const resolve = (schema: SpecSchema, seen: ReadonlyArray<string> = []): SpecSchema => {
  if (schema.$ref !== undefined) {
    const name = refName(schema.$ref)
    const target = spec.components.schemas[name]
    if (target === undefined || seen.includes(name)) return {}
    const resolved = resolve(target, [...seen, name])
    return schema.nullable === true ? { ...resolved, nullable: true } : resolved
  }
  const only = schema.allOf?.[0]
  if (schema.allOf?.length === 1 && only !== undefined) {
    const resolved = resolve(only, seen)
    return schema.nullable === true ? { ...resolved, nullable: true } : resolved
  }
  return schema
}

const specKind = (schema: SpecSchema): string =>
  schema.type ??
  (schema.enum !== undefined
    ? "string"
    : schema.properties !== undefined || schema.additionalProperties !== undefined
      ? "object"
      : "unknown")

const compatible: Readonly<Record<Exclude<Kind, "union" | "unknown">, ReadonlyArray<string>>> = {
  string: ["string"],
  number: ["number", "integer"],
  boolean: ["boolean"],
  array: ["array"],
  struct: ["object"],
  record: ["object"]
}

const compareShape = (
  ours: Shape,
  theirsRaw: SpecSchema,
  direction: Direction,
  path: string,
  report: (subject: string, message: string) => void
): void => {
  const theirs = resolve(theirsRaw)
  const kind = specKind(theirs)
  if (ours.kind === "union") {
    for (const member of ours.members ?? []) compareShape(member, theirs, direction, path, report)
    return
  }
  if (ours.kind === "unknown") {
    report(path, `cannot check a schema of kind ${ours.detail ?? "unknown"}`)
    return
  }
  if (!compatible[ours.kind].includes(kind)) {
    report(path, `type ${ours.kind} is not compatible with the spec's ${kind}`)
    return
  }
  if (ours.kind === "array" && ours.element !== undefined) {
    compareShape(ours.element, theirs.items ?? {}, direction, path, report)
    if (ours.element.nullable && theirs.items !== undefined && resolve(theirs.items).nullable !== true) {
      report(path, "array elements may be null in our schema but not in the spec")
    }
    return
  }
  if (ours.kind === "record" && ours.value !== undefined) {
    const values = theirs.additionalProperties
    if (values === undefined || values === false) {
      report(path, "a map in our schema, but the spec's object allows no additional properties")
    } else if (values !== true) {
      compareShape(ours.value, values, direction, path, report)
    }
    return
  }
  if (ours.kind === "struct") {
    const properties = theirs.properties ?? {}
    const required = theirs.required ?? []
    const fields = ours.fields ?? []
    for (const field of fields) {
      const at = path === "" ? field.name : `${path}.${field.name}`
      const property = properties[field.name]
      if (property === undefined) {
        report(at, `field ${field.name} does not exist in the spec's schema`)
        continue
      }
      const specRequired = required.includes(field.name)
      if (direction === "response" && !field.optional && !specRequired) {
        report(at, "required in our schema but optional in the spec (the server may omit it)")
      }
      if (direction === "request" && field.optional && specRequired) {
        report(at, "required by the spec but optional in our schema (we may omit it)")
      }
      const specNullable = resolve(property).nullable === true
      if (field.shape.nullable && !specNullable && (direction === "request" || !field.optional)) {
        report(at, "nullable in our schema but not in the spec")
      }
      if (!field.shape.nullable && specNullable && direction === "response") {
        report(at, "nullable in the spec but our schema rejects null")
      }
      compareShape(field.shape, property, direction, at, report)
    }
    if (direction === "request") {
      for (const name of required) {
        if (!fields.some((field) => field.name === name)) {
          const at = path === "" ? name : `${path}.${name}`
          report(at, `the spec requires ${name} but our schema does not define it`)
        }
      }
    }
  }
}

const bodySchema = (media: SpecMedia | undefined): SpecSchema | undefined =>
  media?.content?.["application/json"]?.schema

/**
 * Every difference between one route and the spec, before deviations are applied. Subjects:
 * `path`, `operationId`, `params.<name>`, `query.<name>`, `status`, `request`, `response`, and
 * `request.<field path>` / `response.<field path>` for schema fields.
 */
const checkRoute = (name: string, route: Routes.Route): ReadonlyArray<Issue> => {
  const issues: Array<Issue> = []
  const report = (subject: string, message: string) =>
    issues.push({ route: name, operationId: route.operationId, subject, message })
  const operation = spec.paths[route.template]?.[route.method.toLowerCase()]
  if (operation === undefined) {
    report("path", `${route.method} ${route.template} does not exist in the spec`)
    return issues
  }
  if (operation.operationId !== route.operationId) {
    report("operationId", `the spec's operationId is ${operation.operationId ?? "(none)"}`)
  }
  const parameters = operation.parameters ?? []
  for (const param of route.params) {
    if (!route.template.includes(`{${param}}`)) report(`params.${param}`, `{${param}} is not in the path template`)
    if (!parameters.some((p) => p.in === "path" && p.name === param)) {
      report(`params.${param}`, `path parameter ${param} is not declared by the spec`)
    }
  }
  for (const query of route.query) {
    if (!parameters.some((p) => p.in === "query" && p.name === query)) {
      report(`query.${query}`, `query parameter ${query} is not declared by the spec for this operation`)
    }
  }
  for (const p of parameters) {
    if (p.in === "query" && p.required === true && !route.query.includes(p.name)) {
      report(`query.${p.name}`, `the spec requires query parameter ${p.name}`)
    }
  }
  const responses = operation.responses ?? {}
  const successes = Object.keys(responses).filter((status) => /^2\d\d$/.test(status))
  if (!successes.includes(String(route.status))) {
    report("status", `status ${route.status} but the spec answers ${successes.join(", ") || "(no 2xx)"}`)
  }
  const specRequest = bodySchema(operation.requestBody)
  if (route.request === undefined) {
    if (specRequest !== undefined)
      report("request", "the spec declares a JSON request body the route does not describe")
  } else if (specRequest === undefined) {
    report("request", "the route sends a JSON body the spec does not declare")
  } else {
    compareShape(shapeOf(route.request.ast), specRequest, "request", "", (at, message) =>
      report(at === "" ? "request" : `request.${at}`, message)
    )
  }
  const success = responses[String(route.status)] ?? (successes[0] === undefined ? undefined : responses[successes[0]])
  const specResponse = bodySchema(success)
  if (route.response !== undefined) {
    if (specResponse === undefined) {
      report("response", "the route decodes a JSON answer the spec does not declare")
    } else {
      compareShape(shapeOf(route.response.ast), specResponse, "response", "", (at, message) =>
        report(at === "" ? "response" : `response.${at}`, message)
      )
    }
  }
  return issues
}

/** The issues no deviation accounts for. */
const unexplained = (issues: ReadonlyArray<Issue>, deviations: ReadonlyArray<Routes.Deviation>): ReadonlyArray<Issue> =>
  issues.filter(
    (issue) =>
      !deviations.some(
        (deviation) => deviation.operationId === issue.operationId && deviation.subject === issue.subject
      )
  )

const describeIssues = (issues: ReadonlyArray<Issue>) =>
  issues
    .map((issue) => {
      const route = (Routes.allRoutes as Readonly<Record<string, Routes.Route>>)[issue.route]
      const where = route === undefined ? issue.route : `routes.${issue.route} (${route.method} ${route.template})`
      return `${where} [${issue.operationId}] ${issue.subject}: ${issue.message}`
    })
    .join("\n")

const allRoutes = Object.entries(Routes.allRoutes) as ReadonlyArray<readonly [string, Routes.Route]>

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe("spec conformance", () => {
  it("reads the spec from shared/spec", () => {
    assert.isTrue(specUrl.pathname.endsWith("/shared/spec/daytona-api.openapi.yaml"))
    assert.isAbove(Object.keys(spec.paths).length, 50)
    assert.isDefined(spec.components.schemas["Sandbox"])
  })

  for (const [name, route] of allRoutes) {
    it(`routes.${name}: ${route.method} ${route.template} matches the spec`, () => {
      const issues = unexplained(checkRoute(name, route), Routes.deviations)
      assert.strictEqual(issues.length, 0, `drift from daytona-api.openapi.yaml:\n${describeIssues(issues)}`)
    })
  }

  it("every deviation names a route the SDK calls", () => {
    const operationIds = allRoutes.map(([, route]) => route.operationId)
    const unknown = Routes.deviations.filter((deviation) => !operationIds.includes(deviation.operationId))
    assert.deepStrictEqual(unknown, [])
  })

  it("every status and field deviation is still needed (the spec really differs there)", () => {
    const issues = allRoutes.flatMap(([name, route]) => checkRoute(name, route))
    const stale = Routes.deviations.filter(
      (deviation) =>
        (deviation.subject === "status" || deviation.subject.includes(".")) &&
        !issues.some((issue) => issue.operationId === deviation.operationId && issue.subject === deviation.subject)
    )
    assert.deepStrictEqual(
      stale.map((deviation) => `${deviation.operationId} ${deviation.subject}`),
      []
    )
  })

  it("the deviations are exactly the known server behaviours", () => {
    assert.deepStrictEqual(
      Routes.deviations.map((deviation) => `${deviation.operationId} ${deviation.subject}`).sort(),
      [
        "expireSignedPortPreviewUrl status",
        "replaceLabels response",
        "setAutoArchiveInterval status",
        "setAutoDeleteInterval status",
        "setAutostopInterval status",
        "validateSshAccess response.sandboxId"
      ]
    )
  })
})

describe("spec conformance checker (self-check: it must catch drift)", () => {
  const getSandbox = Routes.routes.getSandbox

  const subjects = (issues: ReadonlyArray<Issue>) => issues.map((issue) => issue.subject).sort()

  it("the real getSandbox route is clean", () => {
    assert.deepStrictEqual(checkRoute("getSandbox", getSandbox), [])
  })

  it("catches a wrong field type, an unknown field, a wrongly required field and a nested mismatch", () => {
    const wrong = Schema.Struct({
      id: Schema.Number,
      name: Schema.String,
      bogusField: Schema.String,
      errorReason: Schema.String,
      buildInfo: Schema.optional(Schema.Struct({ snapshotRef: Schema.Number, createdAt: Schema.String })),
      labels: Schema.Record({ key: Schema.String, value: Schema.Number }),
      volumes: Schema.optional(Schema.Array(Schema.Struct({ volumeId: Schema.Boolean, mountPath: Schema.String })))
    })
    const issues = checkRoute("getSandbox", { ...getSandbox, response: wrong })
    assert.deepStrictEqual(subjects(issues), [
      "response.bogusField",
      "response.buildInfo.snapshotRef",
      "response.errorReason",
      "response.id",
      "response.labels",
      "response.volumes.volumeId"
    ])
    const message = describeIssues(issues)
    assert.include(message, "routes.getSandbox (GET /sandbox/{sandboxIdOrName}) [getSandbox] response.bogusField")
    assert.include(message, "response.id: type number is not compatible with the spec's string")
  })

  it("catches a wrong path, method, operationId, status, query parameter and path parameter", () => {
    assert.deepStrictEqual(subjects(checkRoute("x", { ...getSandbox, template: "/sandboxes/{sandboxIdOrName}" })), [
      "path"
    ])
    assert.deepStrictEqual(subjects(checkRoute("x", { ...getSandbox, method: "PUT" })), ["path"])
    assert.deepStrictEqual(
      subjects(
        checkRoute("x", {
          ...getSandbox,
          operationId: "fetchSandbox",
          status: 201,
          query: ["verbose", "nope"],
          params: ["sandboxIdOrName", "other"]
        })
      ),
      ["operationId", "params.other", "params.other", "query.nope", "status"]
    )
  })

  it("catches a missing required query parameter and an undeclared response body", () => {
    const validate = Routes.routes.validateSshAccess
    assert.deepStrictEqual(subjects(checkRoute("x", { ...validate, query: [] })), ["query.token", "response.sandboxId"])
    const expire = Routes.routes.expireSignedPortPreviewUrl
    assert.deepStrictEqual(subjects(checkRoute("x", { ...expire, status: 200, response: SandboxDto })), ["response"])
  })

  it("catches nullability: null where the spec never sends it needs a deviation", () => {
    const validate = Routes.routes.validateSshAccess
    const issues = checkRoute("validateSshAccess", validate)
    assert.deepStrictEqual(subjects(issues), ["response.sandboxId"])
    assert.deepStrictEqual(unexplained(issues, Routes.deviations), [])
    assert.isDefined(SshAccessValidationDto)
    const strict = Schema.Struct({ items: Schema.Array(Schema.String), nextCursor: Schema.String })
    assert.deepStrictEqual(subjects(checkRoute("x", { ...Routes.routes.listSandboxes, response: strict })), [
      "response.items",
      "response.nextCursor"
    ])
  })

  it("checks request bodies the other way round: a field the spec requires must be sent", () => {
    const createSandbox = Routes.routes.createSandbox
    assert.deepStrictEqual(checkRoute("createSandbox", createSandbox), [])
    const loose = Schema.Struct({
      ...CreateSandbox.fields,
      cpu: Schema.optional(Schema.String),
      buildInfo: Schema.optional(
        Schema.Struct({ ...CreateBuildInfo.fields, dockerfileContent: Schema.optional(Schema.String) })
      ),
      labels: Schema.optional(Schema.NullOr(StringMap))
    })
    assert.deepStrictEqual(subjects(checkRoute("createSandbox", { ...createSandbox, request: loose })), [
      "request.buildInfo.dockerfileContent",
      "request.cpu",
      "request.labels"
    ])
  })

  it("a number in our schema matches an integer in the spec, but a string does not", () => {
    const resize = Routes.routes.resizeSandbox
    assert.deepStrictEqual(checkRoute("resizeSandbox", resize), [])
    const wrong = Schema.Struct({ cpu: Schema.optional(Schema.String) })
    assert.deepStrictEqual(subjects(checkRoute("resizeSandbox", { ...resize, request: wrong })), ["request.cpu"])
  })

  it("walks transformations and refinements to the wire shape", () => {
    const refined = Schema.Struct({
      id: Schema.String.pipe(Schema.minLength(1)),
      cpu: Schema.NumberFromString,
      buildInfo: Schema.optionalWith(BuildInfo, { nullable: true })
    })
    const issues = checkRoute("getSandbox", { ...getSandbox, response: refined })
    assert.deepStrictEqual(subjects(issues), ["response.cpu"])
    assert.include(issues[0]!.message, "type string is not compatible with the spec's number")
  })
})
