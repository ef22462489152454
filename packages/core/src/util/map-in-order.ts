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
