import * as NodeModule from "node:module"

const require = NodeModule.createRequire(import.meta.url)

/** Where a module installed with the local server lives (Node's resolution), or `undefined` if it is not installed. */
export const resolveInstalled = (id: string): string | undefined => {
  try {
    return require.resolve(id)
  } catch {
    return undefined
  }
}
