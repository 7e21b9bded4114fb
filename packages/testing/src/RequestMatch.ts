/**
 * Which requests a fault applies to: by HTTP method, by path, or by the name of a declared endpoint
 * (`ControlPlaneApi.endpoints`, `ToolboxApi.endpoints`), so that a test says
 * `{ operation: "getSandbox" }` or `{ operation: "executeCommand" }` instead of spelling a path with
 * an id in it.
 *
 * @since 0.1.0
 */
import * as ControlPlaneApi from "@effect-daytona/sdk/ControlPlaneApi"
import type * as Endpoint from "@effect-daytona/sdk/Endpoint"
import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"

/**
 * The name of a declared endpoint: a key of `ControlPlaneApi.endpoints` or `ToolboxApi.endpoints`.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = keyof typeof ControlPlaneApi.endpoints | keyof typeof ToolboxApi.endpoints

/**
 * A request pattern; every given field must match, and an empty pattern matches every request.
 *
 * - `method`: the HTTP method (case-insensitive).
 * - `path`: a string matches a URL path that equals it or ends with it (`"/process/execute"` matches
 *   `/toolbox/<id>/process/execute`); a `RegExp` is tested against the path. Query strings are not
 *   part of the path.
 * - `operation`: a declared endpoint (`"createSandbox"`, `"getSandbox"`, `"executeCommand"`, …).
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestMatch {
  readonly method?: string | undefined
  readonly path?: string | RegExp | undefined
  readonly operation?: Operation | undefined
}

/**
 * What a request is, as far as matching goes.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestInfo {
  readonly method: string
  /** The URL's path, e.g. `/api/sandbox/abc` or `/toolbox/abc/process/execute`. */
  readonly path: string
  /** The declared endpoint the request calls, when it is one. */
  readonly operation: Operation | undefined
}

interface CompiledRoute {
  readonly name: Operation
  readonly method: string
  readonly pattern: RegExp
  readonly params: number
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Literal routes first (`/sandbox/paginated` before `/sandbox/{id}`), so each path has one operation. */
const compile = (endpoints: Readonly<Record<string, Endpoint.Any>>): ReadonlyArray<CompiledRoute> =>
  Object.entries(endpoints)
    .map(([name, endpoint]) => {
      const parts = endpoint.path.split(/\{[^}]+\}/)
      return {
        name: name as Operation,
        method: endpoint.method,
        pattern: new RegExp(`^${parts.map(escape).join("[^/]+")}$`),
        params: parts.length - 1
      }
    })
    .sort((a, b) => a.params - b.params)

const controlPlane = compile(ControlPlaneApi.endpoints)
const toolbox = compile(ToolboxApi.endpoints)

/**
 * The control-plane endpoint a request calls, given its method and the path under the API base URL
 * (`/api` removed).
 *
 * @since 0.1.0
 * @category utils
 */
export const operationOf = (method: string, apiPath: string): Operation | undefined => {
  const upper = method.toUpperCase()
  return controlPlane.find((route) => route.method === upper && route.pattern.test(apiPath))?.name
}

/**
 * The toolbox endpoint a request calls, given its method and the path under the sandbox's toolbox
 * (`/toolbox/{sandboxId}` removed).
 *
 * @since 0.1.0
 * @category utils
 */
export const toolboxOperationOf = (method: string, toolboxPath: string): Operation | undefined => {
  const upper = method.toUpperCase()
  return toolbox.find((route) => route.method === upper && route.pattern.test(toolboxPath))?.name
}

/**
 * Whether a request matches a pattern.
 *
 * @since 0.1.0
 * @category utils
 */
export const matches = (match: RequestMatch, request: RequestInfo): boolean => {
  if (match.method !== undefined && match.method.toUpperCase() !== request.method.toUpperCase()) return false
  if (match.operation !== undefined && match.operation !== request.operation) return false
  if (match.path !== undefined) {
    if (typeof match.path === "string") {
      if (request.path !== match.path && !request.path.endsWith(match.path)) return false
    } else if (!match.path.test(request.path)) return false
  }
  return true
}
