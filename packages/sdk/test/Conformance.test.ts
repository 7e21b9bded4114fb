/**
 * Every endpoint declaration (`ControlPlaneApi`, `ToolboxApi`) against the contract snapshot kept in
 * `packages/sdk/contract/`, which is itself checked against Daytona's generated clients pinned in the
 * root manifest. The only differences accepted are those listed in `ContractDeviations`.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import { extract, render } from "../../../scripts/contract/extract.js"
import { contractPackages } from "../../../scripts/contract/packages.js"
import * as ContractDeviations from "../src/ContractDeviations.js"
import * as ControlPlaneApi from "../src/ControlPlaneApi.js"
import * as Endpoint from "../src/Endpoint.js"
import { SandboxDto } from "../src/SandboxDto.js"
import * as ToolboxApi from "../src/ToolboxApi.js"
import * as Contract from "./support/Contract.js"

const controlPlane = Contract.loadSnapshot("daytona-api.json")
const toolbox = Contract.loadSnapshot("daytona-toolbox-api.json")

const declarations: ReadonlyArray<readonly [Contract.Snapshot, Endpoint.Any]> = [
  ...Object.values(ControlPlaneApi.endpoints).map((endpoint) => [controlPlane, endpoint as Endpoint.Any] as const),
  ...Object.values(ToolboxApi.endpoints).map((endpoint) => [toolbox, endpoint as Endpoint.Any] as const)
]

const key = (issue: { readonly endpoint: string; readonly subject: string }) => `${issue.endpoint} ${issue.subject}`

const unexplained = (issues: ReadonlyArray<Contract.Issue>) =>
  issues.filter((issue) => !ContractDeviations.deviations.some((deviation) => key(deviation) === key(issue)))

describe("the contract snapshot", () => {
  for (const contract of contractPackages) {
    it(`${contract.file} is what ${contract.name} ${contract.pinned} contains`, () => {
      const kept = readFileSync(new URL(`../contract/${contract.file}`, import.meta.url), "utf8")
      assert.strictEqual(
        kept,
        render(extract(contract.directory)),
        `the snapshot differs from ${contract.name}: run pnpm contract:update and review the diff`
      )
      assert.strictEqual((JSON.parse(kept) as { version: string }).version, contract.pinned)
    })
  }

  it("holds the operations of today's Daytona (pause, fork, PTY, interpreter, computer use)", () => {
    for (const name of ["forkSandbox", "createSandboxSnapshot", "getSandbox", "listSecrets"]) {
      assert.isDefined(controlPlane.operations[name], name)
    }
    for (const name of ["createPtySession", "executeInterpreterCode", "takeScreenshot", "getSystemMetrics"]) {
      assert.isDefined(toolbox.operations[name], name)
    }
  })
})

describe("endpoint declarations against the contract", () => {
  for (const [snapshot, endpoint] of declarations) {
    it(`${endpoint.api} ${endpoint.name}: ${endpoint.method} ${endpoint.path}`, () => {
      const issues = unexplained(Contract.checkEndpoint(snapshot, endpoint))
      assert.strictEqual(
        issues.length,
        0,
        `drift from ${snapshot.package} ${snapshot.version}:\n${Contract.describeIssues(issues)}`
      )
    })
  }

  it("every deviation is about a declared endpoint and is still needed", () => {
    const found = declarations.flatMap(([snapshot, endpoint]) => Contract.checkEndpoint(snapshot, endpoint)).map(key)
    const stale = ContractDeviations.deviations.filter((deviation) => !found.includes(key(deviation)))
    assert.deepStrictEqual(stale.map(key), [])
  })

  it("each API declares every operation once and every method and path once", () => {
    for (const api of ["control-plane", "toolbox"] as const) {
      const mine = declarations.filter(([, endpoint]) => endpoint.api === api).map(([, endpoint]) => endpoint)
      const names = mine.map((endpoint) => endpoint.name)
      assert.strictEqual(new Set(names).size, names.length, `${api}: a name is declared twice`)
      const routes = mine.map((endpoint) => `${endpoint.method} ${endpoint.path}`)
      assert.strictEqual(new Set(routes).size, routes.length, `${api}: a route is declared twice`)
    }
  })

  it("replays by default only what is safe: no create or command is replayable", () => {
    const replayable = declarations.filter(([, endpoint]) => endpoint.replay === "safe").map(([, e]) => e.name)
    for (const name of [
      "createSandbox",
      "createSnapshot",
      "executeCommand",
      "codeRun",
      "sessionExecuteCommand",
      "commitChanges"
    ]) {
      assert.notInclude(replayable, name)
    }
  })
})

describe("the contract checker (it must catch drift)", () => {
  const getSandbox = ControlPlaneApi.getSandbox as Endpoint.Any
  const subjects = (issues: ReadonlyArray<Contract.Issue>) => issues.map((issue) => issue.subject).sort()
  const withSuccess = (endpoint: Endpoint.Any, schema: Schema.Schema.Any): Endpoint.Any => ({
    ...endpoint,
    success: Endpoint.json(schema as Schema.Schema<unknown, unknown>)
  })

  it("a declaration that matches has no issue", () => {
    assert.deepStrictEqual(Contract.checkEndpoint(controlPlane, getSandbox), [])
  })

  it("catches a wrong field type, an unknown field, a wrongly required field, a nested mismatch and null", () => {
    const wrong = Schema.Struct({
      id: Schema.Number,
      name: Schema.String,
      bogusField: Schema.String,
      errorReason: Schema.String,
      buildInfo: Schema.optional(Schema.Struct({ snapshotRef: Schema.Number, createdAt: Schema.String })),
      labels: Schema.Record({ key: Schema.String, value: Schema.Number }),
      volumes: Schema.optional(Schema.Array(Schema.Struct({ volumeId: Schema.Boolean, mountPath: Schema.String })))
    })
    assert.deepStrictEqual(subjects(Contract.checkEndpoint(controlPlane, withSuccess(getSandbox, wrong))), [
      "response.bogusField",
      "response.buildInfo.snapshotRef",
      "response.errorReason",
      "response.id",
      "response.labels",
      "response.volumes.volumeId"
    ])
  })

  it("catches a wrong name, method, path, path parameter and query parameter", () => {
    assert.deepStrictEqual(subjects(Contract.checkEndpoint(controlPlane, { ...getSandbox, name: "fetchSandbox" })), [
      "endpoint"
    ])
    assert.deepStrictEqual(subjects(Contract.checkEndpoint(controlPlane, { ...getSandbox, method: "PUT" })), ["method"])
    assert.deepStrictEqual(
      subjects(Contract.checkEndpoint(controlPlane, { ...getSandbox, path: "/sandboxes/{sandboxIdOrName}" })),
      ["path"]
    )
    const extra = {
      ...getSandbox,
      params: Schema.Struct({ sandboxIdOrName: Schema.String, other: Schema.String }),
      query: Schema.Struct({ nope: Schema.optional(Schema.String), verbose: Schema.optional(Schema.String) })
    } as unknown as Endpoint.Any
    assert.deepStrictEqual(subjects(Contract.checkEndpoint(controlPlane, extra)), [
      "params.other",
      "query.nope",
      "query.verbose"
    ])
  })

  it("catches a missing required query parameter and a body the contract does not take", () => {
    const validate = ControlPlaneApi.validateSshAccess as Endpoint.Any
    assert.deepStrictEqual(
      subjects(
        Contract.checkEndpoint(controlPlane, { ...validate, query: Schema.Struct({}) } as unknown as Endpoint.Any)
      ),
      ["query.token"]
    )
    const withBody = { ...getSandbox, payload: Endpoint.json(SandboxDto) } as Endpoint.Any
    assert.deepStrictEqual(subjects(Contract.checkEndpoint(controlPlane, withBody)), ["body"])
  })

  it("checks request bodies the other way round: what the contract requires must be sent, nothing unknown", () => {
    const create = ControlPlaneApi.createSandbox as Endpoint.Any
    const loose = Schema.Struct({
      name: Schema.optional(Schema.String),
      cpu: Schema.optional(Schema.String),
      invented: Schema.optional(Schema.String),
      gpuType: Schema.optional(Schema.Array(Schema.Literal("H100", "B200")))
    })
    assert.deepStrictEqual(
      subjects(Contract.checkEndpoint(controlPlane, { ...create, payload: Endpoint.json(loose) } as Endpoint.Any)),
      ["body.cpu", "body.gpuType", "body.invented"]
    )
    const volume = ControlPlaneApi.createVolume as Endpoint.Any
    assert.deepStrictEqual(
      subjects(
        Contract.checkEndpoint(controlPlane, { ...volume, payload: Endpoint.json(Schema.Struct({})) } as Endpoint.Any)
      ),
      ["body.name"]
    )
  })
})
