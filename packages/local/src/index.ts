/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as LocalConfig from "./LocalConfig.js"

/**
 * @since 0.1.0
 */
export * as LocalDaytona from "./LocalDaytona.js"

/**
 * @since 0.1.0
 */
export * as SandboxEngine from "./SandboxEngine.js"
