/**
 * What the bench driver (run.ts) asks a client child process (client.ts) to do, and what the
 * child answers: one JSON line on stdout, prefixed with `RESULT `.
 */

/** The clients `pnpm bench` compares. */
export type ClientKind = "ours" | "official" | "undici"

/**
 * What a client child can be: a compared client, or `platform`: `@effect/platform`'s undici client
 * (`NodeHttpClient.layerUndici`) with no SDK above it, the floor our SDK stands on (`floor.ts`).
 */
export type ChildKind = ClientKind | "platform"

export interface ServerInfo {
  /** The control plane, e.g. `http://127.0.0.1:41234/api`. */
  readonly apiUrl: string
  readonly apiKey: string
}

export interface SandboxRef {
  readonly id: string
  readonly toolboxProxyUrl: string
}

export type Task =
  | {
      readonly _tag: "latency"
      readonly server: ServerInfo
      readonly sandbox: SandboxRef
      readonly warmup: number
      readonly calls: number
      /** Sequential `executeCommand` calls (default: `calls`). */
      readonly execCalls?: number
      readonly concurrency: ReadonlyArray<number>
      readonly concurrencyRounds: number
      readonly createRounds: number
    }
  | {
      readonly _tag: "upload"
      readonly server: ServerInfo
      readonly sandbox: SandboxRef
      readonly localPath: string
      readonly remotePath: string
    }
  | {
      readonly _tag: "download"
      readonly server: ServerInfo
      readonly sandbox: SandboxRef
      readonly remotePath: string
      readonly localPath: string
    }
  | {
      readonly _tag: "waits"
      readonly server: ServerInfo
      readonly rounds: number
      /** Official SDK only: force its plain polling mode (`useDeprecatedPolling`). */
      readonly deprecatedPolling: boolean
    }
  | { readonly _tag: "idle" }

/** Phase boundaries (Date.now()) of one create → command → stop round, for the counting proxy. */
export interface WaitRound {
  readonly sandboxId: string
  readonly createStart: number
  readonly createEnd: number
  readonly stopStart: number
  readonly stopEnd: number
}

export interface LatencyResult {
  readonly _tag: "latency"
  /** Milliseconds per call. */
  readonly small: ReadonlyArray<number>
  /** Client CPU time (user + system) per sequential small call, microseconds: independent of the machine's load. */
  readonly smallCpuMicros: number
  readonly exec: ReadonlyArray<number>
  /** Concurrency level → wall milliseconds of each round. */
  readonly concurrent: Record<string, ReadonlyArray<number>>
  /** create → executeCommand("true") done, milliseconds per round. */
  readonly createToFirstCommand: ReadonlyArray<number>
  readonly eventMode?: string
}

export interface TransferResult {
  readonly _tag: "transfer"
  readonly bytes: number
  readonly millis: number
  /** Client CPU time (user + system) spent on the transfer, microseconds. */
  readonly cpuMicros: number
}

export interface WaitsResult {
  readonly _tag: "waits"
  readonly rounds: ReadonlyArray<WaitRound>
  readonly eventMode?: string
}

export interface IdleResult {
  readonly _tag: "idle"
}

export type Outcome = LatencyResult | TransferResult | WaitsResult | IdleResult

export interface ChildReport {
  readonly ok: boolean
  readonly result?: Outcome
  readonly error?: string
  /** RSS (bytes) once modules are loaded and the client is set up, before the work. */
  readonly rssReady: number
  /** Peak RSS of the child process (bytes), from `process.resourceUsage().maxRSS`. */
  readonly maxRss: number
}

export const resultPrefix = "RESULT "

/** Environment variable naming the directory of our SDK compiled to JavaScript (run.ts builds it). */
export const ourSdkDirVariable = "BENCH_EFFECT_DAYTONA_SDK_DIR"
