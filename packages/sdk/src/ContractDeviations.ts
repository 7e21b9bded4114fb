/**
 * Every place where an endpoint declaration deliberately differs from the contract snapshot of
 * Daytona's generated clients (`packages/sdk/contract/`), with what really happens and why. The
 * conformance test accepts exactly these differences: a new difference fails it, and so does a
 * deviation that is no longer needed.
 *
 * @since 0.1.0
 */

/**
 * One deliberate difference.
 *
 * @since 0.1.0
 * @category models
 */
export interface Deviation {
  /** The declaration's `name` (the contract's operation id, or our own name for an extension). */
  readonly endpoint: string
  /**
   * What differs: `endpoint` (not in the contract at all), `method`, `path`, `params.<name>`,
   * `query.<name>`, `body[.<field path>]`, `form`, `response[.<field path>]`.
   */
  readonly subject: string
  /** What the contract says. */
  readonly contract: string
  /** What the declaration does instead, and why. */
  readonly ours: string
}

/**
 * Every deliberate difference from the 0.216 contract.
 *
 * @since 0.1.0
 * @category constants
 */
export const deviations: ReadonlyArray<Deviation> = [
  {
    endpoint: "replaceLabels",
    subject: "response",
    contract: "SandboxLabels",
    ours: "the whole Sandbox, as Daytona's server answers (a superset); the SDK decodes either"
  },
  ...(["executeCommand", "codeRun"] as const).map(
    (endpoint): Deviation => ({
      endpoint,
      subject: "response.code",
      contract: "no such field",
      ours: "also read: daemons before 0.150 named the exit code `code`"
    })
  ),
  {
    endpoint: "uploadFileLegacy",
    subject: "endpoint",
    contract: "absent since the daemon's upload-v2",
    ours: "POST /files/upload?path= with the part `file`, served by the local server for clients of older daemons"
  },
  {
    endpoint: "createAndConnectPtySession",
    subject: "endpoint",
    contract: "absent from the 0.216 generated client",
    ours: "GET /process/pty/create-connect?id=&cols=&rows=&cwd= upgraded to a WebSocket (the environment in an `X-Daytona-Pty-Envs~` subprotocol): Daytona's daemon serves it and the official SDK 0.216's createPty opens it, so the local server serves it too"
  }
]
