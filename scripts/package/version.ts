/**
 * `pnpm release:version <version>`: sets the version of every published package (they are released
 * together), the SDK's `User-Agent` version (`packages/sdk/src/internal/version.ts`), and opens a
 * section for it at the top of each package's CHANGELOG.md when there is none. The changes are
 * then described in those sections by hand, before `pnpm pack:all`.
 */
import { readFile, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { packageDir, publishedPackages, root } from "./layout.js"

const versionFile = join(root, "packages/sdk/src/internal/version.ts")

const main = async () => {
  const version = process.argv[2]
  if (version === undefined || !/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) {
    throw new Error("usage: pnpm release:version <major.minor.patch[-prerelease]>")
  }
  for (const pkg of publishedPackages) {
    const manifestPath = join(packageDir(pkg), "package.json")
    const text = await readFile(manifestPath, "utf8")
    const updated = text.replace(/^(  "version": )"[^"]*"/m, `$1"${version}"`)
    if (updated === text && !text.includes(`"version": "${version}"`))
      throw new Error(`no version field in ${manifestPath}`)
    await writeFile(manifestPath, updated)

    const changelogPath = join(packageDir(pkg), "CHANGELOG.md")
    const changelog = await readFile(changelogPath, "utf8")
    if (!new RegExp(`^## ${version.replace(/\./g, "\\.")}( |$)`, "m").test(changelog)) {
      const at = changelog.search(/^## /m)
      const section = `## ${version} (unreleased)\n\n`
      await writeFile(
        changelogPath,
        at === -1 ? `${changelog.trimEnd()}\n\n${section}` : changelog.slice(0, at) + section + changelog.slice(at)
      )
    }
  }
  const source = await readFile(versionFile, "utf8")
  const stamped = source.replace(/^export const sdkVersion = "[^"]*"/m, `export const sdkVersion = "${version}"`)
  if (!stamped.includes(`export const sdkVersion = "${version}"`)) throw new Error(`no sdkVersion in ${versionFile}`)
  await writeFile(versionFile, stamped)
  console.log(
    `version ${version}: ${publishedPackages.map((p) => `packages/${p.folder}`).join(", ")} and the SDK's User-Agent`
  )
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
