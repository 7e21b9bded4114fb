/**
 * @since 0.1.0
 */

/**
 * Settings of the local Daytona server.
 *
 * @since 0.1.0
 */
export * as LocalConfig from "./LocalConfig.js"

/**
 * The local Daytona server.
 *
 * @since 0.1.0
 */
export * as LocalDaytona from "./LocalDaytona.js"

/**
 * The local server started in the current process, and the SDK's `DaytonaConfig` pointing at it.
 *
 * @since 0.1.0
 */
export * as LocalDaytonaConfig from "./LocalDaytonaConfig.js"

/**
 * The machinery behind the routes.
 *
 * @since 0.1.0
 */
export * as SandboxEngine from "./SandboxEngine.js"

/**
 * A stateful Python interpreter inside a sandbox, as the engine hands it to the toolbox's interpreter routes.
 *
 * @since 0.1.0
 */
export * as SandboxInterpreter from "./SandboxInterpreter.js"

/**
 * A pseudo-terminal inside a sandbox, as the engine hands it to the toolbox's PTY routes.
 *
 * @since 0.1.0
 */
export * as SandboxTerminal from "./SandboxTerminal.js"
