import { defineConfig } from "vitest/config"

/** Settings every package's test project shares. */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    fakeTimers: { toFake: undefined },
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
