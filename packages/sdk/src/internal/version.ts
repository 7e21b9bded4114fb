/** This package's version, sent in `User-Agent`. @internal */
export const sdkVersion = "0.1.0"

/**
 * The Daytona protocol version sent as `X-Daytona-SDK-Version`. The toolbox daemon picks its output
 * formats by this header (below 0.167.0 session logs lose the stdout/stderr split). @internal
 */
export const targetProtocolVersion = "0.190.0"
