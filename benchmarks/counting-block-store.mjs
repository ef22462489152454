// Wraps any BlockStore and counts requests, so a benchmark can show how many objects an operation touched.
export class CountingBlockStore {
  constructor(inner) {
    this.inner = inner
    this.reset()
  }
  reset() {
    this.counts = { get: 0, put: 0, head: 0, list: 0, delete: 0, rename: 0, getStream: 0 }
  }
  snapshot() {
    return { ...this.counts }
  }
  put(k, d, o) { this.counts.put++; return this.inner.put(k, d, o) }
  get(k) { this.counts.get++; return this.inner.get(k) }
  getStream(k) { this.counts.getStream++; return this.inner.getStream(k) }
  head(k) { this.counts.head++; return this.inner.head(k) }
  delete(k) { this.counts.delete++; return this.inner.delete(k) }
  rename(a, b) { this.counts.rename++; return this.inner.rename(a, b) }
  list(p) { this.counts.list++; return this.inner.list(p) }
  close() { return this.inner.close?.() }
}
