import type { PortPreviewUrl, SignedPortPreviewUrl } from "@effect-daytona/sdk/PreviewUrl"
import type { SshAccessDto, SshAccessValidationDto } from "@effect-daytona/sdk/SshAccess"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as NodeCrypto from "node:crypto"
import type { ControlPlaneError } from "./controlPlaneError.js"
import type * as Preview from "./previewProxy.js"
import type { SandboxRecord } from "./record.js"
import { type SandboxCore, visible } from "./sandboxCore.js"
import { randomToken, sameSecret } from "./secrets.js"
import * as DaemonError from "./daemonError.js"

/** Ports Daytona keeps private even on a public sandbox (its daemon's own). */
const reservedPorts = new Set([2280, 22222, 33333])

/**
 * Access to sandboxes from outside: preview links and signed preview URLs, SSH tokens, and the checks
 * the toolbox and the preview proxy make before a request reaches a sandbox.
 */
export const make = (core: SandboxCore) => {
  const { config, store, engine, serverUrl, locked, dto, load, findLocked } = core
  const previewHost = (() => {
    const url = new URL(serverUrl)
    return { protocol: url.protocol, port: url.port === "" ? "" : `:${url.port}` }
  })()

  const previewUrl = (idOrName: string, p: number): Effect.Effect<PortPreviewUrl, ControlPlaneError> =>
    Effect.gen(function* () {
      const r = yield* findLocked(idOrName)
      return {
        sandboxId: r.id,
        url: `${previewHost.protocol}//${p}-${r.id}.localhost${previewHost.port}`,
        token: r.authToken
      }
    })

  const signedPreviewUrl = (
    idOrName: string,
    p: number,
    expiresInSeconds: number | undefined
  ): Effect.Effect<SignedPortPreviewUrl, ControlPlaneError> =>
    Effect.gen(function* () {
      const expires = expiresInSeconds ?? 60
      const r = yield* findLocked(idOrName)
      const token = randomToken(16)
      const now = yield* Clock.currentTimeMillis
      yield* store.putSignedPreview(token, p, r.id, now + expires * 1000)
      return {
        sandboxId: r.id,
        port: p,
        token,
        url: `${previewHost.protocol}//${p}-${token}.localhost${previewHost.port}`
      }
    })

  const expireSignedPreviewUrl = (idOrName: string, p: number, token: string) =>
    Effect.gen(function* () {
      const r = yield* findLocked(idOrName)
      yield* store.expireSignedPreview(r.id, p, token)
    })

  const sshHost = new URL(serverUrl).hostname
  const createSshAccess = (
    idOrName: string,
    expiresInMinutes: number | undefined
  ): Effect.Effect<SshAccessDto, ControlPlaneError> =>
    Effect.gen(function* () {
      const minutes = expiresInMinutes ?? 60
      const r = yield* findLocked(idOrName)
      const now = yield* Clock.currentTimeMillis
      yield* store.revokeSshAccess(r.id)
      const row = {
        id: NodeCrypto.randomUUID(),
        token: randomToken(32),
        sandboxId: r.id,
        expiresAt: now + minutes * 60_000,
        createdAt: now
      }
      yield* store.putSshAccess(row)
      const created = new Date(now).toISOString()
      return {
        id: row.id,
        sandboxId: r.id,
        token: row.token,
        expiresAt: new Date(row.expiresAt).toISOString(),
        createdAt: created,
        updatedAt: created,
        sshCommand: `ssh -p 2222 ${row.token}@${sshHost}`
      }
    })

  const revokeSshAccess = (idOrName: string, token: string | undefined) =>
    Effect.gen(function* () {
      const r = yield* findLocked(idOrName)
      yield* store.revokeSshAccess(r.id, token)
      return dto(r)
    })

  const validateSshAccess = (token: string): Effect.Effect<SshAccessValidationDto> =>
    Effect.gen(function* () {
      const row = yield* store.sshAccessByToken(token)
      const now = yield* Clock.currentTimeMillis
      if (Option.isNone(row) || row.value.expiresAt <= now) return { valid: false, sandboxId: null }
      const r = yield* locked(load(row.value.sandboxId))
      return Option.isSome(r) && visible(r.value)
        ? { valid: true, sandboxId: r.value.id }
        : { valid: false, sandboxId: null }
    })

  /**
   * Moves a sandbox's last activity to `now`, reading and writing under one lock so that a change
   * made since the caller read the sandbox (a delete, a stop) is kept.
   */
  const recordActivity = (id: string, now: number) =>
    locked(
      Effect.flatMap(
        load(id),
        Option.match({
          onNone: () => Effect.void,
          onSome: (current) => (visible(current) ? store.put({ ...current, lastActivityAt: now }) : Effect.void)
        })
      )
    )

  /** The sandbox a toolbox request addresses, which must be started (answers like the runner). */
  const running = (id: string): Effect.Effect<SandboxRecord, DaemonError.DaemonError> =>
    Effect.gen(function* () {
      const r = yield* locked(load(id))
      if (Option.isNone(r) || !visible(r.value)) return yield* DaemonError.notFound("sandbox container not found")
      const isRunning = yield* engine.isRunning(id)
      if (r.value.state !== "started" || !isRunning) return yield* DaemonError.sandboxNotStarted(id)
      const now = yield* Clock.currentTimeMillis
      yield* recordActivity(id, now)
      return { ...r.value, lastActivityAt: now }
    })

  /**
   * Whether a preview request may reach a sandbox's port (catalog §3.2): a public sandbox (except
   * on reserved ports), the API key, the sandbox's preview token in the header or the query, or a
   * host label that is an unexpired signed token for that port. The sandbox must be started.
   */
  const previewAccess = (
    label: string,
    port: number,
    credentials: Preview.Credentials
  ): Effect.Effect<Preview.Decision> =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const signed = yield* store.signedPreview(label, port)
      const signedValid = Option.isSome(signed) && signed.value.expiresAt > now
      const id = signedValid ? signed.value.sandboxId : label
      const found = yield* locked(load(id))
      if (Option.isNone(found) || !visible(found.value))
        return { _tag: "Deny", error: DaemonError.notFound(`sandbox ${id} not found`) } as const
      const r = found.value
      const bearer = credentials.bearer !== undefined && sameSecret(credentials.bearer, Redacted.value(config.apiKey))
      const token = [credentials.previewToken, credentials.queryToken].some(
        (given) => given !== undefined && sameSecret(given, r.authToken)
      )
      const open = r.public && !reservedPorts.has(port)
      if (!(signedValid || open || bearer || token))
        return {
          _tag: "Deny",
          error: DaemonError.unauthorized("authentication failed: a preview token is required for a private sandbox")
        } as const
      if (r.state !== "started" || !(yield* engine.isRunning(r.id)))
        return { _tag: "Deny", error: DaemonError.sandboxNotStarted(r.id) } as const
      yield* recordActivity(r.id, now)
      return { _tag: "Allow", sandboxId: r.id, port, stripAuthorization: bearer } as const
    })

  return {
    previewHost,
    previewUrl,
    signedPreviewUrl,
    expireSignedPreviewUrl,
    createSshAccess,
    revokeSshAccess,
    validateSshAccess,
    running,
    previewAccess
  }
}
