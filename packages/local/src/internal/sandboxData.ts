import type { UpdateSandboxSecrets } from "@effect-daytona/sdk/SecretDto"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as NodeCrypto from "node:crypto"
import { badRequest, type ControlPlaneError, notFound } from "./controlPlaneError.js"
import type { ObjectStorage } from "./objectStorage.js"
import { type SandboxRecord, secretsOf } from "./record.js"
import { type SandboxCore, visible } from "./sandboxCore.js"
import { placeholderOf, type SecretVault } from "./secretVault.js"
import { sameSecret } from "./secrets.js"

/**
 * What a sandbox holds besides its lifecycle: the secrets mounted in it (`PUT /secrets`), the
 * environment of the processes it starts from now on (`POST /env` of the toolbox), the key that
 * signs its file URLs, and where its build log is read.
 */

/** The environment variables that hold the placeholders of the sandbox's secrets. */
export const secretEnv = (r: SandboxRecord): Record<string, string> =>
  Object.fromEntries(secretsOf(r).map((mount) => [mount.env, placeholderOf(mount.secretId)]))

/**
 * The environment every new process of the sandbox gets: what `updateEnv` made of it since the
 * sandbox started, else its creation env with the secrets' placeholders.
 */
export const processEnvOf = (r: SandboxRecord): Record<string, string> =>
  r.processEnv === null || r.processEnv === undefined ? { ...r.env, ...secretEnv(r) } : { ...r.processEnv }

/** The canonical text a file URL's signature covers (Daytona's `v1:files:` scheme). */
export const signedText = (method: string, path: string, expires: number) => `v1:files:${method}:${path}:${expires}`

/** The signature of a file URL under `key`, as Daytona's SDKs compute it. */
export const fileUrlSignature = (key: string, method: string, path: string, expires: number) =>
  `v1_${NodeCrypto.createHmac("sha256", key)
    .update(signedText(method, path, expires))
    .digest("base64url")}`

/** Why a signed file URL is refused, or `undefined` when it is good. */
export const signedUrlProblem = (
  r: SandboxRecord,
  request: { readonly method: string; readonly path: string; readonly expires: string; readonly signature: string },
  nowSeconds: number
): string | undefined => {
  if (r.signingKey === null || r.signingKey === undefined) return "the sandbox has no signing key"
  if (!/^\d{1,12}$/.test(request.expires)) return "invalid expires"
  const expires = Number(request.expires)
  if (expires !== 0 && expires <= nowSeconds) return "the signed URL has expired"
  const expected = fileUrlSignature(r.signingKey, request.method, request.path, expires)
  return sameSecret(request.signature, expected) ? undefined : "invalid signature"
}

const newKey = () => NodeCrypto.randomBytes(32).toString("base64url")

export const make = (core: SandboxCore, vault: SecretVault, storage: ObjectStorage) => {
  const { update, dto, findLocked, serverUrl, locked, load } = core

  /** The record with its mounted secrets replaced; a running sandbox's new processes see the change. */
  const withSecrets = (
    r: SandboxRecord,
    mounts: ReadonlyArray<{ readonly env: string; readonly secretId: string }>
  ) => {
    if (r.processEnv === null || r.processEnv === undefined) return { ...r, secrets: mounts }
    const rest = { ...r.processEnv }
    for (const old of secretsOf(r)) if (rest[old.env] === placeholderOf(old.secretId)) delete rest[old.env]
    return {
      ...r,
      secrets: mounts,
      processEnv: { ...rest, ...Object.fromEntries(mounts.map((m) => [m.env, placeholderOf(m.secretId)])) }
    }
  }

  /** `{ ENV: secretName }` entries as mounts, each name resolved to its secret (400 for an unknown one). */
  const resolveMounts = (secrets: UpdateSandboxSecrets["secrets"]) =>
    Effect.gen(function* () {
      const pairs = secrets.flatMap((entry) => Object.entries(entry))
      if (pairs.length === 0) return []
      const seen = new Set<string>()
      for (const [env] of pairs) {
        if (seen.has(env)) return yield* badRequest(`Environment variable ${env} is mounted twice`)
        seen.add(env)
      }
      const ids = yield* vault.resolveNames(pairs.map(([, name]) => name))
      return pairs.map(([env], i) => ({ env, secretId: ids[i]! }))
    })

  const updateSecrets = (idOrName: string, body: UpdateSandboxSecrets) =>
    Effect.gen(function* () {
      const mounts = yield* resolveMounts(body.secrets)
      const r = yield* update(idOrName, (r) => Effect.succeed(withSecrets(r, mounts)))
      return dto(r)
    })

  const signingKey = (id: string): Effect.Effect<string, ControlPlaneError> =>
    Effect.gen(function* () {
      const r = yield* findLocked(id)
      if (r.signingKey !== null && r.signingKey !== undefined) return r.signingKey
      const stored = yield* update(r.id, (current) =>
        Effect.succeed(
          current.signingKey === null || current.signingKey === undefined
            ? { ...current, signingKey: newKey() }
            : current
        )
      )
      return stored.signingKey!
    })

  const rotateSigningKey = (id: string): Effect.Effect<string, ControlPlaneError> =>
    Effect.map(
      update(id, (r) => Effect.succeed({ ...r, signingKey: newKey() })),
      (r) => r.signingKey!
    )

  const buildLogsUrl = (idOrName: string) =>
    Effect.flatMap(findLocked(idOrName), (r) =>
      r.buildInfo === null
        ? Effect.fail(notFound(`Sandbox ${idOrName} was not built from an image: it has no build logs`))
        : Effect.succeed({ url: `${serverUrl}/sandboxes/${r.id}/build-logs` })
    )

  /**
   * The build log of a sandbox created from an image: its contexts as the object storage holds
   * them, then the Dockerfile's steps (none is run here).
   */
  const buildLogState = (id: string) =>
    Effect.flatMap(findLocked(id), (r) => {
      if (r.buildInfo === null)
        return Effect.fail(notFound(`Sandbox ${id} was not built from an image: it has no build logs`))
      const steps = r.buildInfo.dockerfileContent
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"))
      const building = r.state === "pending_build" || r.state === "building_snapshot"
      const snapshotRef = r.buildInfo.snapshotRef
      return Effect.map(storage.describeContexts(r.buildInfo.contextHashes), (contexts) => ({
        lines: [
          `Building the image of sandbox ${r.id} (${snapshotRef})`,
          ...contexts,
          ...(r.state === "pending_build" ? [] : steps.map((line, i) => `Step ${i + 1}/${steps.length} : ${line}`)),
          ...(building ? [] : [`Build finished: the sandbox is ${r.state} (the local server runs no Dockerfile)`])
        ],
        done: !building
      }))
    })

  /** `POST /env` of the toolbox: sets and unsets variables of the processes started from now on. */
  const updateEnv = (id: string, set: Readonly<Record<string, string>>, unset: ReadonlyArray<string>) =>
    Effect.map(
      update(id, (r) => {
        const next = processEnvOf(r)
        for (const name of unset) delete next[name]
        return Effect.succeed({ ...r, processEnv: { ...next, ...set } })
      }),
      processEnvOf
    )

  /**
   * Whether a request without the API key is let through by its signature: the sandbox (by id only)
   * must exist, and the signature must be its current key's over this method, path and expiry,
   * not yet expired.
   */
  const signedRequestAllowed = (
    sandboxId: string,
    request: { readonly method: string; readonly path: string; readonly expires: string; readonly signature: string }
  ): Effect.Effect<boolean> =>
    Effect.gen(function* () {
      const found = yield* locked(load(sandboxId))
      if (Option.isNone(found) || !visible(found.value)) return false
      const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
      return signedUrlProblem(found.value, request, now) === undefined
    })

  return {
    resolveMounts,
    updateSecrets,
    signingKey,
    rotateSigningKey,
    buildLogsUrl,
    buildLogState,
    updateEnv,
    signedRequestAllowed
  }
}
