export interface StoreFixture<S> {
  readonly store: S
  /** Removes everything the fixture created. */
  cleanup(): Promise<void>
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}

/** A test body run against a fresh fixture, cleaned up whatever happens. */
export const withFixture =
  <S>(make: () => Promise<StoreFixture<S>>, fn: (store: S) => Promise<void>) =>
  async () => {
    const f = await make()
    try {
      await fn(f.store)
    } finally {
      await f.cleanup()
    }
  }
