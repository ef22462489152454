import { ForwardingBlockStore } from '@varve/core'

// Counts the requests an operation sends to the block store, so a benchmark can show what it touched.
export class CountingBlockStore extends ForwardingBlockStore {
  constructor(inner) {
    super(inner)
    this.reset()
  }
  reset() {
    this.counts = { get: 0, getRange: 0, put: 0, head: 0, list: 0, delete: 0, rename: 0, getStream: 0 }
  }
  put(...a) {
    this.counts.put++
    return super.put(...a)
  }
  get(...a) {
    this.counts.get++
    return super.get(...a)
  }
  getRange(...a) {
    this.counts.getRange++
    return super.getRange(...a)
  }
  getStream(...a) {
    this.counts.getStream++
    return super.getStream(...a)
  }
  head(...a) {
    this.counts.head++
    return super.head(...a)
  }
  delete(...a) {
    this.counts.delete++
    return super.delete(...a)
  }
  rename(...a) {
    this.counts.rename++
    return super.rename(...a)
  }
  list(...a) {
    this.counts.list++
    return super.list(...a)
  }
}
