#!/usr/bin/env node
// Runs the CLI from its TypeScript sources: tsx compiles them as they load, so no build is needed.
import { register } from "tsx/esm/api"

register()
await import("../src/bin.ts")
