/**
 * A declarative image builder: an immutable `Image` value that renders the same Dockerfile text as
 * Daytona's official SDKs, and that `Daytona.create({ image })` sends as `buildInfo`.
 *
 * ```ts
 * const image = Image.debianSlim("3.12").pipe(
 *   Image.pipInstall(["numpy", "pandas"]),
 *   Image.env({ MODE: "batch" }),
 *   Image.workdir("/home/daytona")
 * )
 * yield* daytona.create({ image })
 * ```
 *
 * Every function returns a new `Image`; none throws. Inputs that cannot be built (an unsupported Python
 * version, a line break in a quoted value, …) are recorded in `issues`, and `create` refuses such an image
 * with a `ValidationError` before any request. Functions that copy local files (`addLocalFile`,
 * `addLocalDir`, `pipInstallFromRequirements`, `COPY`/`ADD` lines in `dockerfileCommands`) record a
 * build-context entry: `create` (and `Snapshots.create`) archive each entry's path and upload it to
 * the organization's object storage before the build (see `BuildContext`), reading the files with
 * the platform's `FileSystem` (provide one, e.g. `NodeFileSystem.layer`). A path that does not exist
 * fails with a `ValidationError` before any request.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import { dual } from "effect/Function"
import * as Hash from "effect/Hash"
import * as Inspectable from "effect/Inspectable"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { ValidationError } from "./DaytonaError.js"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-daytona/sdk/Image")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * A local path the build copies from, as the official SDKs list it: the path on this machine and its
 * path inside the uploaded archive.
 *
 * @since 0.1.0
 * @category models
 */
export interface ContextEntry {
  readonly sourcePath: string
  readonly archivePath: string
}

/**
 * An image description: the Dockerfile text built so far, the local paths it copies from, and the
 * inputs that cannot be built. Immutable; compare with `Equal.equals`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Image extends Pipeable, Equal.Equal, Inspectable.Inspectable {
  readonly [TypeId]: TypeId
  /** The Dockerfile, each instruction ending with a newline. */
  readonly dockerfile: string
  /** Local paths the build copies from; `create` uploads them before the build (see `BuildContext`). */
  readonly context: ReadonlyArray<ContextEntry>
  /** Why this image cannot be built, if it cannot; `create` refuses an image with issues. */
  readonly issues: ReadonlyArray<string>
}

const sameEntries = (a: ReadonlyArray<ContextEntry>, b: ReadonlyArray<ContextEntry>) =>
  a.length === b.length &&
  a.every((entry, i) => entry.sourcePath === b[i]!.sourcePath && entry.archivePath === b[i]!.archivePath)

const sameStrings = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) =>
  a.length === b.length && a.every((item, i) => item === b[i])

const Proto = {
  [TypeId]: TypeId,
  pipe(this: Image) {
    return pipeArguments(this, arguments)
  },
  [Equal.symbol](this: Image, that: Equal.Equal): boolean {
    return (
      isImage(that) &&
      this.dockerfile === that.dockerfile &&
      sameEntries(this.context, that.context) &&
      sameStrings(this.issues, that.issues)
    )
  },
  [Hash.symbol](this: Image): number {
    const context = this.context.map((entry) => `${entry.sourcePath}\0${entry.archivePath}`)
    return Hash.string([this.dockerfile, ...context, ...this.issues].join("\0"))
  },
  toJSON(this: Image) {
    return { _id: "Image", dockerfile: this.dockerfile, context: this.context, issues: this.issues }
  },
  toString(this: Image) {
    return Inspectable.format(this.toJSON())
  },
  [Inspectable.NodeInspectSymbol](this: Image) {
    return this.toJSON()
  }
}

const make = (dockerfile: string, context: ReadonlyArray<ContextEntry>, issues: ReadonlyArray<string>): Image => {
  const image = Object.create(Proto) as { -readonly [K in keyof Image]: Image[K] }
  image.dockerfile = dockerfile
  image.context = Object.freeze(context.map((entry) => Object.freeze({ ...entry })))
  image.issues = Object.freeze([...issues])
  return Object.freeze(image)
}

const append = (
  self: Image,
  text: string,
  more: { readonly context?: ReadonlyArray<ContextEntry>; readonly issues?: ReadonlyArray<string> } = {}
): Image =>
  make(self.dockerfile + text, [...self.context, ...(more.context ?? [])], [...self.issues, ...(more.issues ?? [])])

/**
 * Whether a value is an `Image`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isImage = (u: unknown): u is Image => Predicate.hasProperty(u, TypeId)

const specialChars = /([A-Za-z]:)?([!#$&()*,:;<=>?@[\]^`{|}~])/g

/**
 * Quotes one word for a POSIX shell (and Docker's own word lexer), the way the official TypeScript SDK
 * does (`shell-quote`): `''` for the empty string; single quotes around words with whitespace, `"` or
 * `\`; double quotes around words with `'` (single quotes with `'"'"'` when they also hold `!`); otherwise
 * a backslash before each shell metacharacter. A line break cannot be quoted onto one Dockerfile line:
 * the functions that quote record such a value as an issue.
 *
 * @since 0.1.0
 * @category utils
 */
export const quote = (word: string): string => {
  if (word === "") return "''"
  if (word.includes("'")) {
    return word.includes("!")
      ? `'${word.split("'").join(`'"'"'`)}'`
      : `"${word.replace(/["$`\\]/g, (char) => `\\${char}`)}"`
  }
  if (/["\s\\]/.test(word)) return `'${word}'`
  return word.replace(specialChars, "$1\\$2")
}

/**
 * Quotes one argument inside double quotes, so that the shell passes exactly that argument.
 * The official SDKs add stray backslashes before `"` and `'` and let `$` and `` ` `` expand; this
 * escapes only what POSIX requires, so the text is theirs wherever theirs means the argument itself.
 */
const doubleQuote = (arg: string): string => `"${arg.replace(/\\(?=[\\"$`]|$)|["$`]/g, (char) => `\\${char}`)}"`

const lineBreak = /[\n\r\0]/

const unquotable = (what: string, values: ReadonlyArray<string>): ReadonlyArray<string> =>
  values
    .filter((value) => lineBreak.test(value))
    .map((value) => `${what}: ${JSON.stringify(value)} holds a line break or NUL, which a Dockerfile line cannot carry`)

/**
 * The Python series `debianSlim` builds on.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PythonVersion = Schema.Literal("3.9", "3.10", "3.11", "3.12", "3.13")

/**
 * @since 0.1.0
 * @category models
 */
export type PythonVersion = typeof PythonVersion.Type

const pythonMicro: Readonly<Record<PythonVersion, string>> = {
  "3.9": "3.9.22",
  "3.10": "3.10.17",
  "3.11": "3.11.12",
  "3.12": "3.12.10",
  "3.13": "3.13.3"
}

/**
 * An image from an existing one: `FROM <image>`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const base = (image: string): Image =>
  make(`FROM ${image}\n`, [], image.trim() === "" ? ["base: the image name is empty"] : unquotable("base", [image]))

/**
 * A Debian slim image with Python (default 3.13), build tools, an upgraded pip and non-interactive
 * debconf, as Daytona's SDKs build it. The series maps to a fixed micro version (3.9.22, 3.10.17,
 * 3.11.12, 3.12.10, 3.13.3). The parameter's type admits only these series; decode a string with the
 * `PythonVersion` schema. A version outside them (from untyped code) is recorded as an issue, so
 * `create` fails with a `ValidationError` instead of anything throwing.
 *
 * @since 0.1.0
 * @category constructors
 */
export const debianSlim = (pythonVersion?: PythonVersion): Image => {
  const series: string = pythonVersion ?? "3.13"
  const micro = Object.hasOwn(pythonMicro, series) ? pythonMicro[series as PythonVersion] : undefined
  return make(
    [
      `FROM python:${micro ?? series}-slim-bookworm`,
      "RUN apt-get update",
      "RUN apt-get install -y gcc gfortran build-essential",
      "RUN pip install --upgrade pip",
      "RUN echo 'debconf debconf/frontend select Noninteractive' | debconf-set-selections",
      ""
    ].join("\n"),
    [],
    micro === undefined
      ? [
          `debianSlim: unsupported Python version ${JSON.stringify(series)}; supported series: ${Object.keys(pythonMicro).join(", ")}`
        ]
      : []
  )
}

/**
 * Options of `pipInstall` and `pipInstallFromRequirements`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PipInstallOptions {
  readonly findLinks?: ReadonlyArray<string> | undefined
  readonly indexUrl?: string | undefined
  readonly extraIndexUrls?: ReadonlyArray<string> | undefined
  readonly pre?: boolean | undefined
  /** Appended as is (not quoted), for example `"--no-cache-dir"`. */
  readonly extraOptions?: string | undefined
}

const pipFlags = (options: PipInstallOptions): { readonly text: string; readonly values: ReadonlyArray<string> } => {
  const findLinks = options.findLinks ?? []
  const extraIndexUrls = options.extraIndexUrls ?? []
  const text = [
    ...findLinks.map((link) => ` --find-links ${quote(link)}`),
    options.indexUrl ? ` --index-url ${quote(options.indexUrl)}` : "",
    ...extraIndexUrls.map((url) => ` --extra-index-url ${quote(url)}`),
    options.pre === true ? " --pre" : "",
    options.extraOptions ? ` ${options.extraOptions}` : ""
  ].join("")
  return { text, values: [...findLinks, ...(options.indexUrl ? [options.indexUrl] : []), ...extraIndexUrls] }
}

const sortedByCodeUnit = (items: ReadonlyArray<string>) => [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))

/**
 * Installs Python packages: `RUN python -m pip install <packages sorted and shell-quoted> [flags]`. No
 * line for an empty list.
 *
 * @since 0.1.0
 * @category combinators
 */
export const pipInstall: {
  (packages: string | ReadonlyArray<string>, options?: PipInstallOptions): (self: Image) => Image
  (self: Image, packages: string | ReadonlyArray<string>, options?: PipInstallOptions): Image
} = dual(
  (args) => isImage(args[0]),
  (self: Image, packages: string | ReadonlyArray<string>, options: PipInstallOptions = {}): Image => {
    const list = typeof packages === "string" ? [packages] : packages
    if (list.length === 0) return self
    const flags = pipFlags(options)
    return append(self, `RUN python -m pip install ${sortedByCodeUnit(list).map(quote).join(" ")}${flags.text}\n`, {
      issues: unquotable("pipInstall", [...list, ...flags.values])
    })
  }
)

/**
 * Installs the packages of a local requirements file: `COPY <path> /.requirements.txt` then
 * `RUN python -m pip install -r /.requirements.txt [flags]`. The file is a build-context entry (see
 * the module's description). The path is kept as given (the official SDK expands
 * `~` and checks that the file exists).
 *
 * @since 0.1.0
 * @category combinators
 */
export const pipInstallFromRequirements: {
  (path: string, options?: PipInstallOptions): (self: Image) => Image
  (self: Image, path: string, options?: PipInstallOptions): Image
} = dual(
  (args) => isImage(args[0]),
  (self: Image, path: string, options: PipInstallOptions = {}): Image => {
    const flags = pipFlags(options)
    return append(
      self,
      `COPY ${path} /.requirements.txt\nRUN python -m pip install -r /.requirements.txt${flags.text}\n`,
      {
        context: [{ sourcePath: path, archivePath: path }],
        issues: unquotable("pipInstallFromRequirements", flags.values)
      }
    )
  }
)

const baseName = (path: string) =>
  path
    .replace(/[/\\]+$/, "")
    .split(/[/\\]/)
    .pop() ?? ""

/**
 * Copies a local file into the image: `COPY <local> <remote>`; a `remote` ending in `/` gets the file's
 * name appended. The file is a build-context entry (see the module's description).
 *
 * @since 0.1.0
 * @category combinators
 */
export const addLocalFile: {
  (localPath: string, remotePath: string): (self: Image) => Image
  (self: Image, localPath: string, remotePath: string): Image
} = dual(3, (self: Image, localPath: string, remotePath: string): Image => {
  const target = remotePath.endsWith("/") ? remotePath + baseName(localPath) : remotePath
  return append(self, `COPY ${localPath} ${target}\n`, { context: [{ sourcePath: localPath, archivePath: localPath }] })
})

/**
 * Copies a local directory into the image: `COPY <local> <remote>`. The directory is a build-context
 * entry (see the module's description).
 *
 * @since 0.1.0
 * @category combinators
 */
export const addLocalDir: {
  (localPath: string, remotePath: string): (self: Image) => Image
  (self: Image, localPath: string, remotePath: string): Image
} = dual(
  3,
  (self: Image, localPath: string, remotePath: string): Image =>
    append(self, `COPY ${localPath} ${remotePath}\n`, { context: [{ sourcePath: localPath, archivePath: localPath }] })
)

/**
 * Runs commands, one `RUN` each. A string is run as written (`RUN <cmd>`). An array is a list of
 * arguments, each in double quotes (`RUN "a" "b"`), escaped so the shell passes exactly those arguments
 * (the official SDKs leave `$` and `` ` `` live and add backslashes before `"` and `'`; the text is
 * identical to theirs for arguments without those characters).
 *
 * @since 0.1.0
 * @category combinators
 */
export const runCommands: {
  (...commands: ReadonlyArray<string | ReadonlyArray<string>>): (self: Image) => Image
  (self: Image, ...commands: ReadonlyArray<string | ReadonlyArray<string>>): Image
} = dual(
  (args) => isImage(args[0]),
  (self: Image, ...commands: ReadonlyArray<string | ReadonlyArray<string>>): Image =>
    commands.reduce<Image>((image, command) => {
      const args = typeof command === "string" ? [] : command
      const text = typeof command === "string" ? command : args.map(doubleQuote).join(" ")
      const issues = [
        ...(text.trim() === "" ? ["runCommands: an empty command"] : []),
        ...unquotable("runCommands", args)
      ]
      return append(image, `RUN ${text}\n`, { issues })
    }, self)
)

const envKey = /^[^\s=]+$/

/**
 * Sets environment variables, one `ENV KEY=<shell-quoted value>` per key, in the record's order.
 *
 * @since 0.1.0
 * @category combinators
 */
export const env: {
  (vars: Readonly<Record<string, string>>): (self: Image) => Image
  (self: Image, vars: Readonly<Record<string, string>>): Image
} = dual(2, (self: Image, vars: Readonly<Record<string, string>>): Image => {
  const entries = Object.entries(vars)
  const issues = entries.flatMap(
    ([key, value]): ReadonlyArray<string> => [
      ...(envKey.test(key) ? [] : [`env: ${JSON.stringify(key)} is not a variable name`]),
      ...(typeof value === "string" ? unquotable("env", [value]) : [`env: the value of ${key} is not a string`])
    ]
  )
  return append(self, entries.map(([key, value]) => `ENV ${key}=${quote(String(value))}\n`).join(""), { issues })
})

/**
 * Sets the working directory: `WORKDIR <shell-quoted path>`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const workdir: {
  (path: string): (self: Image) => Image
  (self: Image, path: string): Image
} = dual(
  2,
  (self: Image, path: string): Image =>
    append(self, `WORKDIR ${quote(path)}\n`, { issues: unquotable("workdir", [path]) })
)

const execForm = (args: ReadonlyArray<string>) => `[${args.map((arg) => JSON.stringify(arg)).join(", ")}]`

/**
 * Sets the entrypoint in exec form: `ENTRYPOINT ["a", "b"]`. Each argument is a JSON string (the
 * official SDKs do not escape `"` or `\`; the text is identical to theirs for arguments without them).
 *
 * @since 0.1.0
 * @category combinators
 */
export const entrypoint: {
  (args: ReadonlyArray<string>): (self: Image) => Image
  (self: Image, args: ReadonlyArray<string>): Image
} = dual(2, (self: Image, args: ReadonlyArray<string>): Image => append(self, `ENTRYPOINT ${execForm(args)}\n`))

/**
 * Sets the default command in exec form: `CMD ["a", "b"]`, quoted like `entrypoint`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const cmd: {
  (args: ReadonlyArray<string>): (self: Image) => Image
  (self: Image, args: ReadonlyArray<string>): Image
} = dual(2, (self: Image, args: ReadonlyArray<string>): Image => append(self, `CMD ${execForm(args)}\n`))

const urlSource = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i

const copySources = (line: string): ReadonlyArray<string> => {
  const match = /^\s*(COPY|ADD)\s+(.*)$/i.exec(line)
  if (match === null || match[2]!.includes("<<")) return []
  const rest = match[2]!.trim()
  let words: ReadonlyArray<string> = rest.split(/\s+/)
  const flags = words.filter((word) => word.startsWith("--"))
  if (flags.some((flag) => flag.toLowerCase().startsWith("--from="))) return []
  words = words.filter((word) => !word.startsWith("--"))
  const jsonStart = rest.indexOf("[")
  if (words[0]?.startsWith("[") === true && jsonStart >= 0) {
    try {
      const parsed: unknown = JSON.parse(rest.slice(jsonStart))
      if (Array.isArray(parsed) && parsed.every(Predicate.isString)) words = parsed
    } catch {
      return []
    }
  }
  const sources = words.slice(0, -1)
  return match[1]!.toUpperCase() === "ADD" ? sources.filter((source) => !urlSource.test(source)) : sources
}

/**
 * Appends raw Dockerfile lines, joined with newlines. The local sources of `COPY` and `ADD` lines
 * (not `COPY --from=…`, not heredocs, not URLs) are recorded as build-context entries, as written (the
 * official SDK expands their globs; its `contextDir` parameter is not offered).
 *
 * @since 0.1.0
 * @category combinators
 */
export const dockerfileCommands: {
  (lines: ReadonlyArray<string>): (self: Image) => Image
  (self: Image, lines: ReadonlyArray<string>): Image
} = dual(2, (self: Image, lines: ReadonlyArray<string>): Image => {
  const sources = lines.flatMap((line) => line.split("\n")).flatMap(copySources)
  return append(self, `${lines.join("\n")}\n`, {
    context: sources.map((source) => ({ sourcePath: source, archivePath: source }))
  })
})

/**
 * The `buildInfo` that `POST /sandbox` and `POST /snapshots` take for this image, or a
 * `ValidationError` (field `image`) when the image has issues. An image with a build context needs
 * the hashes of its uploaded entries (`BuildContext.upload`, which `create` runs by itself): without
 * them it is refused, since the build could not find the files it copies.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toBuildInfo = (
  self: Image,
  contextHashes?: ReadonlyArray<string>
): Either.Either<
  { readonly dockerfileContent: string; readonly contextHashes?: ReadonlyArray<string> },
  ValidationError
> => {
  if (self.issues.length > 0) {
    return Either.left(
      new ValidationError({ field: "image", message: `the image cannot be built: ${self.issues.join("; ")}` })
    )
  }
  if (self.context.length > 0 && contextHashes === undefined) {
    const paths = [...new Set(self.context.map((entry) => entry.sourcePath))]
    return Either.left(
      new ValidationError({
        field: "image",
        message:
          `the image copies local paths (${paths.join(", ")}): upload them first (BuildContext.upload) ` +
          "and pass their hashes, or give the image to create, which uploads them"
      })
    )
  }
  return Either.right({
    dockerfileContent: self.dockerfile,
    ...(contextHashes === undefined || contextHashes.length === 0 ? {} : { contextHashes })
  })
}
