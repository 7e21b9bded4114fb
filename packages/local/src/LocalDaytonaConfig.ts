/**
 * The local server started in the current process, and the SDK's `DaytonaConfig` pointing at it:
 * provide this layer (with an `HttpClient` and `Daytona.layerWithoutConfig`) and a program written
 * for real Daytona runs against the local server unchanged.
 *
 * @since 0.1.0
 */
import * as DaytonaConfig from "@effect-daytona/sdk/DaytonaConfig"
import type { MissingCredentialsError, ValidationError } from "@effect-daytona/sdk/DaytonaError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as LocalDaytona from "./LocalDaytona.js"
import type * as LocalConfig from "./LocalConfig.js"

/**
 * Starts the server on a free port of 127.0.0.1 for the lifetime of the layer and provides both
 * the running server's details and a `DaytonaConfig` for it. `sdk` options (timeouts, retry
 * policy) are passed through to the SDK's configuration.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: LocalConfig.Options = {},
  sdk: Omit<DaytonaConfig.Options, "apiKey" | "apiUrl" | "jwtToken" | "organizationId"> = {}
): Layer.Layer<
  LocalDaytona.LocalDaytona | DaytonaConfig.DaytonaConfig,
  LocalDaytona.StartError | MissingCredentialsError | ValidationError
> =>
  Layer.effect(
    DaytonaConfig.DaytonaConfig,
    Effect.flatMap(LocalDaytona.LocalDaytona, (local) =>
      DaytonaConfig.make({ ...sdk, apiKey: local.apiKey, apiUrl: local.apiUrl })
    )
  ).pipe(Layer.provideMerge(LocalDaytona.layer(options)))
