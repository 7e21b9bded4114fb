/**
 * Writes the contract snapshot kept in the repository (`packages/sdk/contract/*.json`) from the
 * generated Daytona clients pinned in the root `package.json`. Run `pnpm contract:update` after a
 * deliberate bump of those pins; the diff of the JSON files is the change of Daytona's contract.
 * With `--check` it writes nothing and fails when the files differ from what it would write.
 */
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { contractPackages, snapshotFile } from "./packages.js"
import { extract, render } from "./extract.js"

const check = process.argv.includes("--check")
let stale = 0
for (const contract of contractPackages) {
  const snapshot = extract(contract.directory)
  if (snapshot.version !== contract.pinned) {
    throw new Error(`${contract.name} ${snapshot.version} is installed, but package.json pins ${contract.pinned}`)
  }
  const target = snapshotFile(contract.file)
  const text = render(snapshot)
  const current = NodeFs.existsSync(target) ? NodeFs.readFileSync(target, "utf8") : undefined
  if (current === text) {
    console.log(`${NodePath.basename(target)}: up to date (${contract.name} ${snapshot.version})`)
    continue
  }
  stale++
  if (check) {
    console.log(`${NodePath.basename(target)}: differs from ${contract.name} ${snapshot.version}`)
  } else {
    NodeFs.writeFileSync(target, text)
    const operations = Object.keys(snapshot.operations).length
    const models = Object.keys(snapshot.models).length
    console.log(
      `${NodePath.basename(target)}: written (${contract.name} ${snapshot.version}: ${operations} operations, ${models} models)`
    )
  }
}
if (check && stale > 0) process.exit(1)
