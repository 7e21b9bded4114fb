/**
 * The packages that are published, and where their pieces live: the workspace package, the staged
 * package directory (`publishConfig.directory`) and, inside it, the compiled output and the copied
 * sources that the source maps point at.
 */
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** The repository root. */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..")

/** Where `pnpm pack:all` writes the tarballs. */
export const tarballDir = join(root, ".pack")

/** A package that is published to npm. */
export interface PublishedPackage {
  /** The folder under `packages/`. */
  readonly folder: string
  /** Its command-line entry points: bin name → the module of `src/` that runs it. */
  readonly bins: Readonly<Record<string, string>>
  /** Whether its compiled modules are joined into bundles behind their public paths (see bundle.ts). */
  readonly bundled: boolean
}

/** The published packages, dependencies first. */
export const publishedPackages: ReadonlyArray<PublishedPackage> = [
  { folder: "sdk", bins: {}, bundled: true },
  { folder: "local", bins: { "daytona-local": "bin" }, bundled: false },
  { folder: "testing", bins: {}, bundled: false }
]

/** The workspace package's directory. */
export const packageDir = (pkg: PublishedPackage): string => join(root, "packages", pkg.folder)

/** The workspace package's sources. */
export const sourceDir = (pkg: PublishedPackage): string => join(packageDir(pkg), "src")

/** The staged package: what the tarball holds, as its `publishConfig.directory` names it. */
export const stageDir = (pkg: PublishedPackage): string => join(packageDir(pkg), "dist")

/** Inside a package: compiled JavaScript, declarations and maps. */
export const compiledFolder = "dist"

/** Inside a package: the TypeScript sources the maps point at. */
export const copiedSourcesFolder = "src"
