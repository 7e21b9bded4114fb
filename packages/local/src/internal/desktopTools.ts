import * as NodeFs from "node:fs"
import { findExecutable, isExecutable } from "./executables.js"

/**
 * The programs the desktop of a sandbox is made of, each from a Debian package. The server looks
 * for them once, on the machine it runs on (the sandboxes see the machine's `/usr` read-only), and
 * runs them by the path it found, so what it reports is what it uses.
 */
export interface Tool {
  /** The program, as the error messages name it. */
  readonly program: string
  /** The Debian package that installs it. */
  readonly debianPackage: string
  /** Where it is looked for: a name searched in the tool path, or absolute candidates. */
  readonly lookup:
    | { readonly _tag: "Path"; readonly name: string }
    | { readonly _tag: "Files"; readonly files: ReadonlyArray<string>; readonly run: boolean }
}

/** Every tool the desktop uses. */
export const tools = {
  xvfb: { program: "Xvfb", debianPackage: "xvfb", lookup: { _tag: "Path", name: "Xvfb" } },
  python3: { program: "python3", debianPackage: "python3", lookup: { _tag: "Path", name: "python3" } },
  xdotool: { program: "xdotool", debianPackage: "xdotool", lookup: { _tag: "Path", name: "xdotool" } },
  ffmpeg: { program: "ffmpeg", debianPackage: "ffmpeg", lookup: { _tag: "Path", name: "ffmpeg" } },
  dbus: { program: "dbus-daemon", debianPackage: "dbus-daemon", lookup: { _tag: "Path", name: "dbus-daemon" } },
  atspiBus: {
    program: "at-spi-bus-launcher",
    debianPackage: "at-spi2-core",
    lookup: {
      _tag: "Files",
      files: ["/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher"],
      run: true
    }
  },
  python: {
    program: "python3 with PyGObject",
    debianPackage: "python3-gi",
    lookup: { _tag: "Files", files: ["/usr/lib/python3/dist-packages/gi/__init__.py"], run: false }
  },
  atspiTypelib: {
    program: "the AT-SPI GObject bindings (Atspi-2.0.typelib)",
    debianPackage: "gir1.2-atspi-2.0",
    lookup: {
      _tag: "Files",
      files: [
        "/usr/lib/x86_64-linux-gnu/girepository-1.0/Atspi-2.0.typelib",
        "/usr/lib/aarch64-linux-gnu/girepository-1.0/Atspi-2.0.typelib",
        "/usr/lib/girepository-1.0/Atspi-2.0.typelib"
      ],
      run: false
    }
  }
} as const satisfies Record<string, Tool>

/** A tool's key. */
export type ToolName = keyof typeof tools

/** The features of computer use and the tools each needs. */
export const features = {
  desktop: ["xvfb", "python3", "xdotool"],
  screenshots: ["xvfb", "python3", "xdotool", "ffmpeg"],
  recordings: ["xvfb", "python3", "ffmpeg"],
  accessibility: ["xvfb", "python3", "dbus", "atspiBus", "python", "atspiTypelib"]
} as const satisfies Record<string, ReadonlyArray<ToolName>>

/** A feature's key. */
export type Feature = keyof typeof features

/** What this machine has: each tool's path, when found. */
export interface Support {
  readonly paths: { readonly [K in ToolName]: string | undefined }
}

const readable = (file: string) => {
  try {
    return NodeFs.statSync(file).isFile()
  } catch {
    return false
  }
}

const find = (tool: Tool, searchPath: string): string | undefined => {
  if (tool.lookup._tag === "Files") return tool.lookup.files.find(tool.lookup.run ? isExecutable : readable)
  return findExecutable(tool.lookup.name, searchPath.split(":"))
}

/**
 * Looks for every tool: programs in `searchPath` (a `PATH`-like list; absolute directories only),
 * the others at their Debian locations, unless `searchPath` is given explicitly and is empty.
 */
export const detect = (searchPath: string): Support => {
  const paths = {} as Record<ToolName, string | undefined>
  for (const [name, tool] of Object.entries(tools) as Array<[ToolName, Tool]>) {
    paths[name] = searchPath === "" ? undefined : find(tool, searchPath)
  }
  return { paths }
}

/** The tools a feature needs that this machine lacks. */
export const missing = (support: Support, feature: Feature): ReadonlyArray<Tool> =>
  features[feature].filter((name) => support.paths[name] === undefined).map((name) => tools[name])

/** The sentence naming what to install for a feature, or `undefined` when nothing is missing. */
export const installHint = (support: Support, feature: Feature): string | undefined => {
  const lacking = missing(support, feature)
  if (lacking.length === 0) return undefined
  const packages = [...new Set(lacking.map((tool) => tool.debianPackage))]
  return `${lacking.map((tool) => `${tool.program} (Debian package ${tool.debianPackage})`).join(", ")} ${lacking.length === 1 ? "is" : "are"} not installed on the machine running the local server: install with \`apt-get install ${packages.join(" ")}\``
}

/** What `GET /api/config` reports: each feature, whether this machine supports it, and what to install otherwise. */
export const report = (support: Support) =>
  Object.fromEntries(
    (Object.keys(features) as Array<Feature>).map((feature) => {
      const hint = installHint(support, feature)
      return [
        feature,
        hint === undefined
          ? { supported: true }
          : {
              supported: false,
              missing: [...new Set(missing(support, feature).map((tool) => tool.debianPackage))],
              install: hint
            }
      ]
    })
  )
