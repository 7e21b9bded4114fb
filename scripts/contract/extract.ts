/**
 * Reads Daytona's wire contract out of its generated TypeScript clients (`@daytona/api-client`,
 * `@daytona/toolbox-api-client`: OpenAPI Generator's axios output, Apache-2.0) into a plain snapshot:
 * every operation (method, path, path / query / header parameters, body, form fields, answer) and
 * every model (object fields with their types and required-ness, enums with their values).
 *
 * The operations come from the `*ApiAxiosParamCreator` functions of `src/api/*.js` (where the
 * generator writes the path, the method and which parameter goes where) and their declarations in
 * `src/api/*.d.ts` (the parameter types and the answer's model). Models come from `src/models/*.d.ts`
 * and from the enums declared beside the APIs.
 *
 * Types are written in a small canonical grammar, stable under reformatting of the generated code:
 * `string`, `number`, `boolean`, `date-time`, `binary`, `unknown`, `null`, a model's name, `T[]`,
 * `Record<string, T>`, `{ a: T; b?: U }`, a quoted literal, and unions `A | B`.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import ts from "typescript"

/** A parameter or field: its canonical type; `?` ends the key of an optional one. */
export type Fields = Readonly<Record<string, string>>

/** One operation of the contract. */
export interface Operation {
  /** The generated API class the operation belongs to, e.g. `SandboxApi`. */
  readonly group: string
  readonly method: string
  /** The path template, parameters as `{name}`. */
  readonly path: string
  readonly deprecated: boolean
  readonly pathParams: Fields
  readonly query: Fields
  readonly headers: Fields
  /** The JSON body's type (`?` suffix when it may be omitted), when the operation takes one. */
  readonly body?: string
  /** The multipart form fields, when the operation sends a form. */
  readonly form?: Fields
  /** The answer's type; `void` when the generator declares none. */
  readonly response: string
}

/** A model: an object's fields, or an enum's values. */
export type Model =
  | { readonly kind: "object"; readonly fields: Fields }
  | { readonly kind: "enum"; readonly values: ReadonlyArray<string> }

/** The contract of one generated client package. */
export interface Snapshot {
  readonly package: string
  readonly version: string
  readonly operations: Readonly<Record<string, Operation>>
  readonly models: Readonly<Record<string, Model>>
}

/** Headers every operation sets for itself; they are not parameters. */
const ignoredHeaders = new Set(["Accept", "Content-Type"])

/** The generator's placeholder member of every enum, not a value the server sends. */
const isPlaceholderEnumValue = (value: string) => /^\d+$/.test(value) && value === "11184809"

const sortedRecord = <V>(entries: Iterable<readonly [string, V]>): Record<string, V> =>
  Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

const parse = (file: string) =>
  ts.createSourceFile(file, NodeFs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)

const propertyName = (name: ts.PropertyName): string =>
  ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) ? name.text : name.getText()

const walk = (node: ts.Node, visit: (node: ts.Node) => void): void => {
  visit(node)
  node.forEachChild((child) => walk(child, visit))
}

// -------------------------------------------------------------------------------------------
// Types
// -------------------------------------------------------------------------------------------

const wrapForArray = (type: string) => (type.includes(" | ") ? `(${type})` : type)

/** The canonical text of a type node of the generated declarations. */
export const canonicalType = (node: ts.TypeNode): string => {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return "string"
    case ts.SyntaxKind.NumberKeyword:
      return "number"
    case ts.SyntaxKind.BooleanKeyword:
      return "boolean"
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
    case ts.SyntaxKind.ObjectKeyword:
      return "unknown"
    case ts.SyntaxKind.VoidKeyword:
      return "void"
  }
  if (ts.isLiteralTypeNode(node)) {
    if (node.literal.kind === ts.SyntaxKind.NullKeyword) return "null"
    if (ts.isStringLiteral(node.literal)) return JSON.stringify(node.literal.text)
    return node.literal.getText()
  }
  if (ts.isParenthesizedTypeNode(node)) return canonicalType(node.type)
  if (ts.isArrayTypeNode(node)) return `${wrapForArray(canonicalType(node.elementType))}[]`
  if (ts.isUnionTypeNode(node)) {
    const members = node.types.map(canonicalType)
    const rest = members.filter((member) => member !== "null")
    return rest.length < members.length ? [...rest, "null"].join(" | ") : members.join(" | ")
  }
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText()
    const args = node.typeArguments ?? []
    if (name === "Array" && args.length === 1) return `${wrapForArray(canonicalType(args[0]!))}[]`
    if (name === "Set" && args.length === 1) return `${wrapForArray(canonicalType(args[0]!))}[]`
    if (name === "Date") return "date-time"
    if (name === "File" || name === "Blob" || name === "Buffer") return "binary"
    if (name === "Record" && args.length === 2) return `Record<string, ${canonicalType(args[1]!)}>`
    if (name === "Promise" && args.length === 1) return canonicalType(args[0]!)
    return name
  }
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration)
    if (index !== undefined && node.members.length === 1 && index.type !== undefined) {
      return `Record<string, ${canonicalType(index.type)}>`
    }
    const fields = objectFields(node.members)
    return `{ ${Object.entries(fields)
      .map(([key, type]) => `${key}: ${type}`)
      .join("; ")} }`
  }
  return "unknown"
}

const objectFields = (members: ts.NodeArray<ts.TypeElement>): Record<string, string> =>
  sortedRecord(
    members.flatMap((member) =>
      ts.isPropertySignature(member) && member.type !== undefined
        ? [
            [
              `${propertyName(member.name)}${member.questionToken === undefined ? "" : "?"}`,
              canonicalType(member.type)
            ] as const
          ]
        : []
    )
  )

// -------------------------------------------------------------------------------------------
// Models
// -------------------------------------------------------------------------------------------

/** `export declare const X: { readonly A: "a"; … }` paired with `export type X = typeof X[keyof typeof X]`. */
const enumsOf = (source: ts.SourceFile): Array<readonly [string, Model]> => {
  const found: Array<readonly [string, Model]> = []
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue
    for (const declaration of statement.declarationList.declarations) {
      const type = declaration.type
      if (!ts.isIdentifier(declaration.name) || type === undefined || !ts.isTypeLiteralNode(type)) continue
      const values = type.members.flatMap((member) =>
        ts.isPropertySignature(member) &&
        member.type !== undefined &&
        ts.isLiteralTypeNode(member.type) &&
        ts.isStringLiteral(member.type.literal)
          ? [member.type.literal.text]
          : []
      )
      if (values.length === type.members.length && values.length > 0) {
        found.push([declaration.name.text, { kind: "enum", values: values.filter((v) => !isPlaceholderEnumValue(v)) }])
      }
    }
  }
  return found
}

const modelsOf = (source: ts.SourceFile): Array<readonly [string, Model]> => {
  const found: Array<readonly [string, Model]> = [...enumsOf(source)]
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement)) {
      found.push([statement.name.text, { kind: "object", fields: objectFields(statement.members) }])
    } else if (ts.isTypeAliasDeclaration(statement) && !ts.isTypeQueryNode(statement.type)) {
      const target = statement.type
      if (ts.isIndexedAccessTypeNode(target)) continue
      if (ts.isTypeLiteralNode(target)) {
        found.push([statement.name.text, { kind: "object", fields: objectFields(target.members) }])
      }
    }
  }
  return found
}

// -------------------------------------------------------------------------------------------
// Operations
// -------------------------------------------------------------------------------------------

interface Placement {
  readonly method: string
  readonly path: string
  readonly deprecated: boolean
  readonly query: ReadonlyArray<string>
  readonly headers: ReadonlyArray<readonly [header: string, parameter: string]>
  readonly body: string | undefined
  readonly form: ReadonlyArray<readonly [field: string, parameter: string]>
}

const stringArgument = (node: ts.Node | undefined): string | undefined =>
  node !== undefined && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) ? node.text : undefined

/** Where each operation of one `*ApiAxiosParamCreator` puts its parameters. */
const placementsOf = (source: ts.SourceFile): Map<string, Placement> => {
  const placements = new Map<string, Placement>()
  walk(source, (node) => {
    if (!ts.isPropertyAssignment(node) || !ts.isArrowFunction(node.initializer)) return
    const fn = node.initializer
    let path: string | undefined
    let method: string | undefined
    let body: string | undefined
    const query: Array<string> = []
    const headers: Array<readonly [string, string]> = []
    const form: Array<readonly [string, string]> = []
    walk(fn.body, (inner) => {
      if (ts.isVariableDeclaration(inner) && inner.name.getText() === "localVarPath" && inner.initializer) {
        walk(inner.initializer, (part) => {
          if (path === undefined && ts.isNoSubstitutionTemplateLiteral(part)) path = part.text
        })
      }
      if (ts.isPropertyAssignment(inner) && propertyName(inner.name) === "method") {
        method = stringArgument(inner.initializer) ?? method
      }
      if (ts.isBinaryExpression(inner) && inner.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
        const left = inner.left
        if (ts.isElementAccessExpression(left)) {
          const target = left.expression.getText()
          const key = stringArgument(left.argumentExpression)
          if (key !== undefined && target === "localVarQueryParameter") query.push(key)
          if (key !== undefined && target === "localVarHeaderParameter" && !ignoredHeaders.has(key)) {
            let parameter: string | undefined
            walk(inner.right, (part) => {
              if (parameter === undefined && ts.isIdentifier(part) && part.text !== "String") parameter = part.text
            })
            headers.push([key, parameter ?? key])
          }
        }
      }
      if (ts.isCallExpression(inner)) {
        const callee = inner.expression
          .getText()
          .replace(/^\(0,\s*/, "")
          .replace(/\)$/, "")
        if (callee.endsWith("serializeDataIfNeeded")) body = inner.arguments[0]?.getText()
        if (callee === "localVarFormParams.append") {
          const field = stringArgument(inner.arguments[0])
          const value = inner.arguments[1]
          let parameter: string | undefined
          if (value !== undefined) {
            walk(value, (part) => {
              if (parameter === undefined && ts.isIdentifier(part) && part.text !== "JSON" && part.text !== "String")
                parameter = part.text
            })
          }
          if (field !== undefined) form.push([field, parameter ?? field])
        }
      }
    })
    if (path === undefined || method === undefined) return
    const deprecated = ts.getJSDocTags(node).some((tag) => tag.tagName.text === "deprecated")
    placements.set(propertyName(node.name), { method, path, deprecated, query, headers, body, form })
  })
  return placements
}

interface Signature {
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly type: string; readonly optional: boolean }>
}

/** The parameter list of each operation, from `export declare const XApiAxiosParamCreator: (…) => { op: (…) => … }`. */
const signaturesOf = (source: ts.SourceFile): Map<string, Signature> => {
  const signatures = new Map<string, Signature>()
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue
    for (const declaration of statement.declarationList.declarations) {
      if (!declaration.name.getText().endsWith("AxiosParamCreator")) continue
      const type = declaration.type
      if (type === undefined || !ts.isFunctionTypeNode(type) || !ts.isTypeLiteralNode(type.type)) continue
      for (const member of type.type.members) {
        if (!ts.isPropertySignature(member) || member.type === undefined || !ts.isFunctionTypeNode(member.type))
          continue
        signatures.set(propertyName(member.name), {
          parameters: member.type.parameters
            .filter((parameter) => parameter.name.getText() !== "options")
            .map((parameter) => ({
              name: parameter.name.getText(),
              type: parameter.type === undefined ? "unknown" : canonicalType(parameter.type),
              optional: parameter.questionToken !== undefined
            }))
        })
      }
    }
  }
  return signatures
}

/** The answer's model and the class of each operation, from `export declare class XApi { op(…): Promise<AxiosResponse<T, …>> }`. */
const responsesOf = (source: ts.SourceFile): Map<string, { readonly group: string; readonly response: string }> => {
  const responses = new Map<string, { readonly group: string; readonly response: string }>()
  for (const statement of source.statements) {
    if (!ts.isClassDeclaration(statement) || statement.name === undefined) continue
    for (const member of statement.members) {
      if (!ts.isMethodDeclaration(member) || member.type === undefined) continue
      let response = "void"
      walk(member.type, (node) => {
        const isAxiosResponse =
          (ts.isTypeReferenceNode(node) && node.typeName.getText().endsWith("AxiosResponse")) ||
          (ts.isImportTypeNode(node) && node.qualifier?.getText() === "AxiosResponse")
        if (isAxiosResponse) {
          const first = (node as ts.TypeReferenceNode | ts.ImportTypeNode).typeArguments?.[0]
          if (first !== undefined) response = canonicalType(first)
        }
      })
      responses.set(propertyName(member.name), { group: statement.name.text, response })
    }
  }
  return responses
}

const operationsOf = (apiJs: string, apiDts: string): Array<readonly [string, Operation]> => {
  const placements = placementsOf(parse(apiJs))
  const declarations = parse(apiDts)
  const signatures = signaturesOf(declarations)
  const responses = responsesOf(declarations)
  return [...placements].map(([name, placement]) => {
    const signature = signatures.get(name)
    const answer = responses.get(name)
    if (signature === undefined || answer === undefined) {
      throw new Error(`${apiDts}: no declaration for operation ${name}`)
    }
    const parameter = (parameterName: string) => {
      const found = signature.parameters.find((p) => p.name === parameterName)
      if (found === undefined) throw new Error(`${apiDts}: ${name} has no parameter ${parameterName}`)
      return found
    }
    const key = (field: string, parameterName: string) => `${field}${parameter(parameterName).optional ? "?" : ""}`
    const pathNames = [...placement.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!)
    const body = placement.body === undefined ? undefined : parameter(placement.body)
    const operation: Operation = {
      group: answer.group,
      method: placement.method,
      path: placement.path,
      deprecated: placement.deprecated,
      pathParams: sortedRecord(pathNames.map((p) => [p, parameter(p).type] as const)),
      query: sortedRecord(placement.query.map((q) => [key(q, q), parameter(q).type] as const)),
      headers: sortedRecord(placement.headers.map(([header, p]) => [key(header, p), parameter(p).type] as const)),
      ...(body === undefined ? {} : { body: `${body.type}${body.optional ? "?" : ""}` }),
      ...(placement.form.length === 0
        ? {}
        : { form: sortedRecord(placement.form.map(([field, p]) => [key(field, p), parameter(p).type] as const)) }),
      response: answer.response
    }
    return [name, operation] as const
  })
}

// -------------------------------------------------------------------------------------------
// The package
// -------------------------------------------------------------------------------------------

/** The snapshot of one installed generated client, read from its directory. */
export const extract = (packageDir: string): Snapshot => {
  const manifest = JSON.parse(NodeFs.readFileSync(NodePath.join(packageDir, "package.json"), "utf8")) as {
    readonly name: string
    readonly version: string
  }
  const apiDir = NodePath.join(packageDir, "src", "api")
  const modelDir = NodePath.join(packageDir, "src", "models")
  const operations: Array<readonly [string, Operation]> = []
  const models: Array<readonly [string, Model]> = []
  for (const file of NodeFs.readdirSync(apiDir)
    .filter((f) => f.endsWith("-api.js"))
    .sort()) {
    const base = NodePath.join(apiDir, file.replace(/\.js$/, ""))
    for (const [name, operation] of operationsOf(`${base}.js`, `${base}.d.ts`)) {
      if (operations.some(([existing]) => existing === name)) throw new Error(`operation ${name} is declared twice`)
      operations.push([name, operation])
    }
    models.push(...enumsOf(parse(`${base}.d.ts`)))
  }
  for (const file of NodeFs.readdirSync(modelDir)
    .filter((f) => f.endsWith(".d.ts") && f !== "index.d.ts")
    .sort()) {
    models.push(...modelsOf(parse(NodePath.join(modelDir, file))))
  }
  return {
    package: manifest.name,
    version: manifest.version,
    operations: sortedRecord(operations),
    models: sortedRecord(models)
  }
}

/** The snapshot as it is kept in the repository: stable key order, two-space indent, final newline. */
export const render = (snapshot: Snapshot): string => `${JSON.stringify(snapshot, null, 2)}\n`
