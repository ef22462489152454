/**
 * Maps items through `fn` with at most `width` calls in flight, yielding results in input order.
 * Every call it started is settled before it returns or throws, also when one fails or the consumer
 * stops early: no request is left to reject unhandled (which would end the process).
 */
export async function* mapInOrder<T, R>(items: AsyncIterable<T> | Iterable<T>, width: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const inflight: Promise<R>[] = []
  const start = (item: T) => {
    const p = fn(item)
    p.catch(() => {}) // observed here; the error is raised in order by the await below
    inflight.push(p)
  }
  try {
    for await (const item of items) {
      start(item)
      if (inflight.length >= width) yield await inflight.shift()!
    }
    while (inflight.length) yield await inflight.shift()!
  } finally {
    await Promise.allSettled(inflight)
  }
}

/** Runs `fn` over items with at most `width` in flight; after a failure starts no more, waits for the rest, then throws the first error. */
export async function forEachLimit<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed = false
  let first: unknown
  const worker = async () => {
    while (next < items.length && !failed) {
      try {
        await fn(items[next++]!)
      } catch (err) {
        if (!failed) first = err
        failed = true
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker))
  if (failed) throw first
}
