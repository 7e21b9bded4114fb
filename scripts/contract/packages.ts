/**
 * The generated Daytona clients the contract snapshot is read from, and where each snapshot is kept.
 */
import { createRequire } from "node:module"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { fileURLToPath } from "node:url"

const root = NodePath.resolve(NodePath.dirname(fileURLToPath(import.meta.url)), "../..")
const require = createRequire(NodePath.join(root, "package.json"))
const manifest = JSON.parse(NodeFs.readFileSync(NodePath.join(root, "package.json"), "utf8")) as {
  readonly devDependencies: Readonly<Record<string, string>>
}

/** One generated client: its npm name, the exact version the root manifest pins, where it is installed. */
export interface ContractPackage {
  readonly name: string
  readonly pinned: string
  readonly directory: string
  /** The snapshot's file name under `packages/sdk/contract/`. */
  readonly file: string
}

const contractPackage = (name: string, file: string): ContractPackage => {
  const pinned = manifest.devDependencies[name]
  if (pinned === undefined || !/^\d+\.\d+\.\d+$/.test(pinned)) {
    throw new Error(`the root package.json must pin ${name} to an exact version`)
  }
  return { name, pinned, directory: NodePath.dirname(require.resolve(`${name}/package.json`)), file }
}

/** The control plane's and the toolbox daemon's clients. */
export const contractPackages: ReadonlyArray<ContractPackage> = [
  contractPackage("@daytona/api-client", "daytona-api.json"),
  contractPackage("@daytona/toolbox-api-client", "daytona-toolbox-api.json")
]

/** Where a snapshot file is kept. */
export const snapshotFile = (file: string) => NodePath.join(root, "packages", "sdk", "contract", file)
