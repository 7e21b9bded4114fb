import { CreateSandbox } from "@effect-daytona/sdk/CreateSandbox"
import { CreateSnapshot, CreateVolume } from "@effect-daytona/sdk/SnapshotDto"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { type ApiError, badRequest } from "./apiError.js"

type Kind = "string" | "number" | "boolean" | "object" | "array"

const kindMessage = (field: string, kind: Kind): string => {
  switch (kind) {
    case "string":
      return `${field} must be a string`
    case "number":
      return `${field} must be a number conforming to the specified constraints`
    case "boolean":
      return `${field} must be a boolean value`
    case "object":
      return `${field} must be an object`
    case "array":
      return `${field} must be an array`
  }
}

const hasKind = (value: unknown, kind: Kind): boolean => {
  switch (kind) {
    case "number":
      return typeof value === "number" && Number.isFinite(value)
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value)
    case "array":
      return Array.isArray(value)
    default:
      return typeof value === kind
  }
}

export const isRecord = (value: unknown): value is Record<string, unknown> => hasKind(value, "object")

const unsafeDisplay =
  // eslint-disable-next-line no-control-regex
  /<[a-zA-Z/][^>]*>?|(https?|ftps?|sftp|ssh|wss?|file|ldaps?):\/\/|javascript:|data:|mailto:|tel:|www\.|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/i

/** Daytona's `IsSafeDisplayString`: no HTML tags, URLs or control characters. */
export const isSafeDisplayString = (value: string): boolean => !unsafeDisplay.test(value)

/**
 * Checks fields in the order class-validator reports them and joins the messages with ", ", as
 * Daytona's API does.
 */
export class Checker {
  readonly messages: Array<string> = []
  constructor(readonly body: Record<string, unknown>) {}
  field(
    name: string,
    kind: Kind,
    options: { readonly min?: number; readonly max?: number; readonly safe?: boolean; readonly notEmpty?: boolean } = {}
  ): this {
    const value = this.body[name]
    if (value === undefined || value === null) return this
    if (!hasKind(value, kind)) {
      this.messages.push(kindMessage(name, kind))
      return this
    }
    if (typeof value === "number") {
      if (options.min !== undefined && value < options.min)
        this.messages.push(`${name} must not be less than ${options.min}`)
      if (options.max !== undefined && value > options.max)
        this.messages.push(`${name} must not be greater than ${options.max}`)
    }
    if (typeof value === "string") {
      if (options.notEmpty === true && value === "") this.messages.push(`${name} should not be empty`)
      if (options.safe === true && !isSafeDisplayString(value))
        this.messages.push(`${name} must not contain HTML tags, URLs, or control characters`)
    }
    return this
  }
  stringMap(name: string): this {
    const value = this.body[name]
    if (value === undefined || value === null) return this
    if (!isRecord(value)) this.messages.push(kindMessage(name, "object"))
    else if (Object.values(value).some((v) => typeof v !== "string"))
      this.messages.push(`each value in ${name} must be a string`)
    return this
  }
  push(message: string): this {
    this.messages.push(message)
    return this
  }
  done<A, I>(schema: Schema.Schema<A, I>): Effect.Effect<A, ApiError> {
    if (this.messages.length > 0) return Effect.fail(badRequest(this.messages.join(", ")))
    return Schema.decodeUnknown(schema)(this.body).pipe(
      Effect.mapError((error) => badRequest(ParseResult.TreeFormatter.formatErrorSync(error)))
    )
  }
}

const nested = (checker: Checker, prefix: string, body: unknown, fields: ReadonlyArray<readonly [string, Kind]>) => {
  if (!isRecord(body)) return
  for (const [name, kind] of fields) {
    const value = body[name]
    if (value === undefined || value === null) continue
    if (!hasKind(value, kind)) checker.push(kindMessage(`${prefix}.${name}`, kind))
  }
}

/** Validates `POST /sandbox` with class-validator's messages, then decodes it with the SDK's schema. */
export const createSandbox = (body: unknown): Effect.Effect<CreateSandbox, ApiError> => {
  if (!isRecord(body)) return Effect.fail(badRequest("Request body must be a JSON object"))
  const input = { ...body }
  // `@Transform` wraps a scalar gpuType into an array.
  if (typeof input.gpuType === "string") input.gpuType = [input.gpuType]
  const checker = new Checker(input)
    .field("name", "string", { safe: true })
    .field("snapshot", "string")
    .field("user", "string")
    .stringMap("env")
    .stringMap("labels")
    .field("public", "boolean")
    .field("networkBlockAll", "boolean")
    .field("networkAllowList", "string")
    .field("domainAllowList", "string")
    .field("target", "string")
    .field("cpu", "number", { min: 0 })
    .field("gpu", "number", { min: 0, max: 1 })
    .field("gpuType", "array")
    .field("memory", "number", { min: 0 })
    .field("disk", "number", { min: 0 })
    .field("autoStopInterval", "number")
    .field("autoArchiveInterval", "number")
    .field("autoDeleteInterval", "number")
    .field("volumes", "array")
    .field("buildInfo", "object")
    .field("linkedSandbox", "string")
  if (Array.isArray(input.gpuType)) {
    if (input.gpuType.length === 0) checker.push("gpuType must contain at least 1 elements")
    if (input.gpuType.some((t) => t !== "H100" && t !== "RTX-PRO-6000"))
      checker.push("each value in gpuType must be one of the following values: H100, RTX-PRO-6000")
  }
  if (Array.isArray(input.volumes)) {
    input.volumes.forEach((volume, i) => {
      if (!isRecord(volume)) {
        checker.push(`volumes.${i} must be an object`)
        return
      }
      nested(checker, `volumes.${i}`, volume, [
        ["volumeId", "string"],
        ["mountPath", "string"],
        ["subpath", "string"]
      ])
      if (volume.volumeId === undefined || volume.volumeId === "")
        checker.push(`volumes.${i}.volumeId should not be empty`)
      if (volume.mountPath === undefined) checker.push(`volumes.${i}.mountPath must be a string`)
    })
  }
  if (isRecord(input.buildInfo)) {
    const dockerfile = input.buildInfo.dockerfileContent
    if (dockerfile === undefined || dockerfile === "") checker.push("buildInfo.dockerfileContent should not be empty")
    nested(checker, "buildInfo", input.buildInfo, [
      ["dockerfileContent", "string"],
      ["contextHashes", "array"]
    ])
  }
  return checker.done(CreateSandbox)
}

/** Validates `POST /snapshots` with class-validator's messages, then decodes it with the SDK's schema. */
export const createSnapshot = (body: unknown): Effect.Effect<CreateSnapshot, ApiError> => {
  if (!isRecord(body)) return Effect.fail(badRequest("Request body must be a JSON object"))
  const checker = new Checker(body)
  if (body.name === undefined || body.name === null) checker.push("name must be a string")
  checker
    .field("name", "string", { safe: true })
    .field("imageName", "string")
    .field("entrypoint", "array")
    .field("cpu", "number", { min: 0 })
    .field("gpu", "number", { min: 0, max: 1 })
    .field("gpuType", "array")
    .field("memory", "number", { min: 0 })
    .field("disk", "number", { min: 0 })
    .field("buildInfo", "object")
    .field("regionId", "string")
    .field("sandboxClass", "string")
  if (Array.isArray(body.entrypoint) && body.entrypoint.some((part) => typeof part !== "string"))
    checker.push("each value in entrypoint must be a string")
  if (Array.isArray(body.gpuType)) {
    if (body.gpuType.length !== 1) checker.push("gpuType must contain exactly 1 element")
    if (body.gpuType.some((t) => t !== "H100" && t !== "RTX-PRO-6000"))
      checker.push("each value in gpuType must be one of the following values: H100, RTX-PRO-6000")
  }
  if (isRecord(body.buildInfo)) {
    const dockerfile = body.buildInfo.dockerfileContent
    if (dockerfile === undefined || dockerfile === "") checker.push("buildInfo.dockerfileContent should not be empty")
    nested(checker, "buildInfo", body.buildInfo, [
      ["dockerfileContent", "string"],
      ["contextHashes", "array"]
    ])
  }
  return checker.done(CreateSnapshot)
}

/** Validates `POST /volumes`: `name` is a string that is safe to display. */
export const createVolume = (body: unknown): Effect.Effect<CreateVolume, ApiError> => {
  if (!isRecord(body)) return Effect.fail(badRequest("Request body must be a JSON object"))
  const checker = new Checker(body)
  if (body.name === undefined || body.name === null) checker.push("name must be a string")
  return checker.field("name", "string", { safe: true }).done(CreateVolume)
}

/** Node's `+value` coercion followed by an integer check, as NestJS path and query pipes do. */
export const integerParam = (name: string, raw: string | undefined): Effect.Effect<number, ApiError> => {
  const value = raw === undefined || raw === "" ? NaN : Number(raw)
  return Number.isInteger(value)
    ? Effect.succeed(value)
    : Effect.fail(badRequest(`Validation failed (numeric string is expected) for ${name}`))
}

const cidr = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/
const domain = /^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,}$/

/** The non-empty entries of a comma-separated list, trimmed. */
const commaSeparated = (value: string) =>
  value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")

/** Validates a comma-separated IPv4 CIDR allow list (at most 10 entries). */
export const networkAllowList = (value: string): Effect.Effect<void, ApiError> => {
  const entries = commaSeparated(value)
  if (entries.length > 10) return Effect.fail(badRequest("Network allow list cannot contain more than 10 networks"))
  for (const entry of entries) {
    const match = cidr.exec(entry)
    if (match === null) return Effect.fail(badRequest(`Invalid network format: "${entry}". Expected CIDR notation`))
    const octets = match.slice(1, 5).map(Number)
    const prefix = Number(match[5])
    if (octets.some((octet) => octet > 255)) return Effect.fail(badRequest(`Invalid IP address: "${entry}"`))
    if (prefix > 32) return Effect.fail(badRequest(`Invalid CIDR prefix length: "${entry}"`))
  }
  return Effect.void
}

/** Validates a comma-separated domain allow list (at most 10 entries). */
export const domainAllowList = (value: string): Effect.Effect<void, ApiError> => {
  const entries = commaSeparated(value)
  if (entries.length > 10) return Effect.fail(badRequest("Domain allow list cannot contain more than 10 domains"))
  const invalid = entries.find((entry) => !domain.test(entry))
  return invalid === undefined ? Effect.void : Effect.fail(badRequest(`Invalid domain format: "${invalid}"`))
}
