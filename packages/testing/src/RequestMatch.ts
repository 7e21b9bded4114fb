/**
 * Which requests a fault applies to: by HTTP method, by path, or by the name of a control-plane
 * operation from the SDK's route table (`ControlPlaneRoutes.allRoutes`), so that a test says
 * `{ operation: "getSandbox" }` instead of spelling a path with an id in it.
 *
 * @since 0.1.0
 */
import * as ControlPlaneRoutes from "@effect-daytona/sdk/ControlPlaneRoutes"

/**
 * The name of a control-plane operation, as in `ControlPlaneRoutes.allRoutes`.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = keyof typeof ControlPlaneRoutes.allRoutes

/**
 * A request pattern; every given field must match, and an empty pattern matches every request.
 *
 * - `method`: the HTTP method (case-insensitive).
 * - `path`: a string matches a URL path that equals it or ends with it (`"/process/execute"` matches
 *   `/toolbox/<id>/process/execute`); a `RegExp` is tested against the path. Query strings are not
 *   part of the path.
 * - `operation`: a control-plane operation (`"createSandbox"`, `"getSandbox"`, …).
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
  /** The control-plane operation, when the path is one of `ControlPlaneRoutes.allRoutes`. */
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
const compiled: ReadonlyArray<CompiledRoute> = (
  Object.entries(ControlPlaneRoutes.allRoutes) as ReadonlyArray<[Operation, ControlPlaneRoutes.Route]>
)
  .map(([name, route]) => {
    const parts = route.template.split(/\{[^}]+\}/)
    return {
      name,
      method: route.method,
      pattern: new RegExp(`^${parts.map(escape).join("[^/]+")}$`),
      params: parts.length - 1
    }
  })
  .sort((a, b) => a.params - b.params)

/**
 * The control-plane operation a request calls, given its method and the path under the API base
 * URL (`/api` removed).
 *
 * @since 0.1.0
 * @category utils
 */
export const operationOf = (method: string, apiPath: string): Operation | undefined => {
  const upper = method.toUpperCase()
  return compiled.find((route) => route.method === upper && route.pattern.test(apiPath))?.name
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
