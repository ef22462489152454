/** Maps items through `fn` with at most `width` calls in flight, yielding results in input order. */
export async function* mapInOrder<T, R>(items: AsyncIterable<T> | Iterable<T>, width: number, fn: (item: T) => Promise<R>): AsyncGenerator<R> {
  const inflight: Promise<R>[] = []
  for await (const item of items) {
    inflight.push(fn(item))
    if (inflight.length >= width) yield await inflight.shift()!
  }
  while (inflight.length) yield await inflight.shift()!
}

/** Runs `fn` over items with at most `width` in flight; rejects on the first failure. */
export async function forEachLimit<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker))
}
