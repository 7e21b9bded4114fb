/**
 * The bytes of one multipart part, read as an async iterator that remembers when it ended: the
 * iterator of a finished stream never answers again, so what is left of a part can be drained
 * (to keep the connection usable after a refused file) only while it has not ended.
 */
export interface PartSource extends AsyncIterator<Uint8Array>, AsyncIterable<Uint8Array> {
  readonly ended: boolean
}

export const partSource = (iterator: AsyncIterator<Uint8Array>): PartSource => {
  let ended = false
  const source: PartSource = {
    get ended() {
      return ended
    },
    next: async () => {
      if (ended) return { done: true, value: undefined }
      try {
        const next = await iterator.next()
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
