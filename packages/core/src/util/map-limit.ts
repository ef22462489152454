/**
 * Maps items through `fn` with at most `width` calls in flight; results in input order. After a
 * failure it starts no more calls, waits for those in flight, then throws the first error: no call is
 * left running (or rejecting unhandled) behind the caller's back.
 */
export async function mapLimit<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  let failed = false
  let first: unknown
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++
      try {
        out[i] = await fn(items[i]!)
      } catch (err) {
        if (!failed) first = err
        failed = true
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker))
  if (failed) throw first
  return out
}
