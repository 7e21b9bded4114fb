/**
 * This package's version, sent in `User-Agent`: the `version` of `packages/sdk/package.json`.
 * `pnpm release:version <version>` writes both; `test/Version.test.ts` and `pnpm pack:all` fail
 * when they differ. (Not imported from package.json: JSON modules warn on Node 20 and would put
 * the whole manifest into a user's bundle.) @internal
 */
export const sdkVersion = "0.1.0"

/**
 * The Daytona protocol version sent as `X-Daytona-SDK-Version`. The toolbox daemon picks its output
 * formats by this header (below 0.167.0 session logs lose the stdout/stderr split). @internal
 */
export const targetProtocolVersion = "0.190.0"
