import * as Context from "effect/Context"

/** The public base URL of the server, e.g. `http://127.0.0.1:3000`; known once the socket is bound. */
export class ServerUrl extends Context.Tag("@effect-daytona/local/internal/ServerUrl")<ServerUrl, string>() {}
