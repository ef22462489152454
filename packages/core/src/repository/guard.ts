import { VarveError, ErrorCodes } from '../errors/varve-error.js'

/**
 * The public boundary: every error that leaves the library is a VarveError. Storage and system
 * errors (EACCES, ENOSPC, a network failure) become UNAVAILABLE with the original as `cause`.
 */
export function toVarveError(operation: string, err: unknown): VarveError {
  if (err instanceof VarveError) return err
  const e = err as { code?: string; message?: string }
  const sys = typeof e?.code === 'string' ? ` (${e.code})` : ''
  return new VarveError(ErrorCodes.UNAVAILABLE, `${operation} failed${sys}: ${e?.message ?? String(err)}`, {
    cause: err,
    details: { operation },
  })
}

export async function guard<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw toVarveError(operation, err)
  }
}

export function guardIterable<T>(operation: string, fn: () => AsyncIterable<T>): AsyncIterable<T> {
  return {
    async *[Symbol.asyncIterator]() {
      try {
        yield* fn()
      } catch (err) {
        throw toVarveError(operation, err)
      }
    },
  }
}

/**
 * Serves items from batches an async generator produces: one resolved promise per item instead of an
 * async-generator hop per item, which is what keeps million-entry listings fast.
 */
export function guardBatches<T>(operation: string, fn: () => AsyncGenerator<readonly T[]>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      let batches: AsyncGenerator<readonly T[]> | undefined
      let batch: readonly T[] = []
      let i = 0
      return {
        async next(): Promise<IteratorResult<T>> {
          while (i >= batch.length) {
            try {
              batches ??= fn()
              const r = await batches.next()
              if (r.done) return { done: true, value: undefined }
              batch = r.value
              i = 0
            } catch (err) {
              throw toVarveError(operation, err)
            }
          }
          return { done: false, value: batch[i++]! }
        },
        async return(): Promise<IteratorResult<T>> {
          await batches?.return(undefined)
          return { done: true, value: undefined }
        },
      }
    },
  }
}
