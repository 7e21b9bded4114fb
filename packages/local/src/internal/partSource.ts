import { badRequest } from "./daemonError.js"

/**
 * The bytes of one multipart part, read as an async iterator that remembers when it ended: the
 * iterator of a finished stream never answers again, so what is left of a part can be drained
 * (to keep the connection usable after a refused file) only while it has not ended.
 *
 * The multipart parser never ends a part whose body stops before its boundary (the read waits
 * forever), so once the request body has ended (`bodyEnded`), a read that gets nothing within a
 * second fails as an invalid form.
 */
export interface PartSource extends AsyncIterator<Uint8Array>, AsyncIterable<Uint8Array> {
  readonly ended: boolean
}

const truncatedGrace = 1000

export const partSource = (iterator: AsyncIterator<Uint8Array>, bodyEnded?: Promise<void>): PartSource => {
  let ended = false
  let bodyDone = false
  const waiting = new Set<() => void>()
  void bodyEnded?.then(() => {
    bodyDone = true
    for (const arm of waiting) arm()
  })
  const read = () =>
    new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const arm = () => {
        timer ??= setTimeout(
          () => reject(badRequest("invalid multipart form: the body ended inside a part")),
          truncatedGrace
        )
      }
      const settle = () => {
        clearTimeout(timer)
        waiting.delete(arm)
      }
      if (bodyDone) arm()
      else waiting.add(arm)
      iterator.next().then(
        (next) => {
          settle()
          resolve(next)
        },
        (error: unknown) => {
          settle()
          reject(error)
        }
      )
    })
  const source: PartSource = {
    get ended() {
      return ended
    },
    next: async () => {
      if (ended) return { done: true, value: undefined }
      try {
        const next = await read()
        if (next.done === true) ended = true
        return next
      } catch (error) {
        ended = true
        throw error
      }
    },
    [Symbol.asyncIterator]: () => source
  }
  return source
}

/** Reads and drops what is left of a part. */
export const drain = async (source: PartSource | undefined): Promise<void> => {
  if (source === undefined) return
  try {
    while (!source.ended && (await source.next()).done !== true) {
      // dropped
    }
  } catch {
    // the body ended badly: nothing more to read
  }
}
