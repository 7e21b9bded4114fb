/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as DaytonaTest from "./DaytonaTest.js"

/**
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"

/**
 * @since 0.1.0
 */
export * as InMemoryHttpClient from "./InMemoryHttpClient.js"

/**
 * @since 0.1.0
 */
export * as RequestMatch from "./RequestMatch.js"

/**
 * @since 0.1.0
 */
export * as ScriptedEngine from "./ScriptedEngine.js"
