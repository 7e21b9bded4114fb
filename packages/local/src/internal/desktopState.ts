import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as SandboxRegistry from "./sandboxRegistry.js"

/**
 * One process of a sandbox's desktop (the X server, the accessibility bus): started inside the
 * sandbox through the engine, so it lives in the sandbox's namespaces and control group and dies
 * with it.
 */
export interface DesktopProcess {
  readonly name: string
  /** The order of start (lower first), as the daemon reports it. */
  readonly priority: number
  /** Its pid as the sandbox sees it, once its wrapper has written it. */
  pid: number | undefined
  running: boolean
  /** The fiber that waits for it; interrupting it kills the process with everything it started. */
  fiber: Fiber.RuntimeFiber<void> | undefined
  /** Settles when the process has ended (after each start). */
  ended: Promise<void>
}

/** A screen recording of a sandbox's desktop, as the server knows it. */
export interface RecordingState {
  readonly id: string
  readonly fileName: string
  /** Its path as the sandbox sees it. */
  readonly filePath: string
  readonly startTime: string
  status: "recording" | "completed" | "failed"
  endTime: string | undefined
  durationSeconds: number | undefined
  sizeBytes: number | undefined
  /** The ffmpeg process while it records. */
  process: DesktopProcess | undefined
}

/** Everything the server holds for the desktop of one sandbox. */
export interface DesktopState {
  readonly sandboxId: string
  /** The X display (`:0`), once the X server has said which it took. */
  display: string | undefined
  width: number
  height: number
  /** Where the desktop's logs live (`~/.daytona/computeruse`), as the sandbox sees it. */
  logDir: string
  /** Where screenshots are written before the server reads them, as the sandbox sees it. */
  scratchDir: string
  readonly processes: Map<string, DesktopProcess>
  readonly recordings: Map<string, RecordingState>
  /** The accessibility bus's address, once it runs. */
  busAddress: string | undefined
  /**
   * Counts the starts and stops of the desktop's processes, so that a request whose tool failed can
   * tell whether the desktop was stopped or restarted while it ran.
   */
  generation: number
  /** Serialises start, stop and restart. */
  readonly lock: Effect.Semaphore
}

/** The desktop state of a sandbox, created empty the first time. */
export const desktopOf = SandboxRegistry.make(
  (sandboxId): DesktopState => ({
    sandboxId,
    display: undefined,
    width: 0,
    height: 0,
    logDir: "",
    scratchDir: "",
    processes: new Map(),
    recordings: new Map(),
    busAddress: undefined,
    generation: 0,
    lock: Effect.unsafeMakeSemaphore(1)
  })
)

/** Whether the X server of a desktop runs. */
export const displayRunning = (state: DesktopState): boolean =>
  state.display !== undefined && state.processes.get("xvfb")?.running === true

/**
 * The variables a sandbox's commands get while its desktop runs, so that what they start opens its
 * windows there (as Daytona's daemon sets `DISPLAY` for every process it starts).
 */
export const desktopEnv = (sandboxId: string) =>
  Effect.map(desktopOf.peek(sandboxId), (state): Readonly<Record<string, string>> => {
    if (state === undefined || !displayRunning(state)) return {}
    return {
      DISPLAY: state.display!,
      ...(state.busAddress === undefined ? {} : { DBUS_SESSION_BUS_ADDRESS: state.busAddress })
    }
  })
