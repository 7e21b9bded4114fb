/**
 * The local server serves exactly the declared endpoints: every route it mounts under `/api` and
 * `/toolbox/{sandboxId}` is a declaration of `ControlPlaneApi` or `ToolboxApi` (which the SDK's
 * conformance test checks against Daytona's contract), and every declaration is served.
 */
import * as ControlPlaneApi from "@effect-daytona/sdk/ControlPlaneApi"
import * as Endpoint from "@effect-daytona/sdk/Endpoint"
import * as ToolboxApi from "@effect-daytona/sdk/ToolboxApi"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as ControlPlane from "../src/internal/controlPlane.js"
import * as Toolbox from "../src/internal/toolbox.js"

const routesOf = (router: { readonly routes: Chunk.Chunk<{ readonly method: string; readonly path: string }> }) =>
  Chunk.toReadonlyArray(router.routes)
    .map((route) => `${route.method} ${route.path}`)
    .sort()

const declared = (endpoints: Readonly<Record<string, Endpoint.Any>>, prefix: string) =>
  Object.values(endpoints)
    .map((endpoint) => `${endpoint.method} ${prefix}${Endpoint.routerPath(endpoint.path)}`)
    .sort()

describe("the server's routes are the declared endpoints", () => {
  it("control plane: every route under /api is a ControlPlaneApi declaration, and every one is served", () => {
    assert.deepStrictEqual(routesOf(ControlPlane.router), declared(ControlPlaneApi.endpoints, ""))
  })

  it("toolbox: every route under /toolbox/{sandboxId} is a ToolboxApi declaration, and every one is served", () => {
    assert.deepStrictEqual(routesOf(Toolbox.router), declared(ToolboxApi.endpoints, "/:sandboxId"))
  })
})
