/**
 * The GPU models a sandbox or snapshot can ask for.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { type Tolerant, tolerant } from "./WireSchema.js"

/**
 * GPU models a sandbox can ask for.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownGpuTypes = ["H100", "RTX-PRO-6000"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type GpuType = Tolerant<(typeof knownGpuTypes)[number]>

/**
 * @since 0.1.0
 * @category schemas
 */
export const GpuType = tolerant("GpuType", knownGpuTypes)

/**
 * A GPU type as a request must name it (one of the known types).
 *
 * @since 0.1.0
 * @category schemas
 */
export const GpuTypeName: Schema.Schema<GpuType, string> = GpuType.pipe(
  Schema.filter((name) => (knownGpuTypes as ReadonlyArray<string>).includes(name), {
    message: () => `each value in $container must be one of the following values: ${knownGpuTypes.join(", ")}`
  })
)
