/**
 * @since 0.1.0
 */

/**
 * The test layer.
 *
 * @since 0.1.0
 */
export * as DaytonaTest from "./DaytonaTest.js"

/**
 * Fault injection on the wire, between the SDK and the in-memory server.
 *
 * @since 0.1.0
 */
export * as Faults from "./Faults.js"

/**
 * An `HttpClient` that answers requests by running an `HttpApp` in the calling fiber.
 *
 * @since 0.1.0
 */
export * as InMemoryHttpClient from "./InMemoryHttpClient.js"

/**
 * A `WebSocketConnector` that connects the SDK's WebSockets (followed logs, terminals, interpreter runs) to an `HttpApp` in memory.
 *
 * @since 0.1.0
 */
export * as InMemoryWebSocket from "./InMemoryWebSocket.js"

/**
 * Which requests a fault applies to.
 *
 * @since 0.1.0
 */
export * as RequestMatch from "./RequestMatch.js"

/**
 * A `SandboxEngine` for tests that runs no processes.
 *
 * @since 0.1.0
 */
export * as ScriptedEngine from "./ScriptedEngine.js"
