import fs from 'node:fs'
import path from 'node:path'

/** Hashes per partition: one partition is sorted in memory at a time (8 MiB). */
const PARTITION_HASHES = 1024 * 1024
/** Hashes buffered across all partitions before they are written to their files (16 MiB). */
const BUFFERED_HASHES = 2 * 1024 * 1024

/**
 * 64-bit hashes collected with bounded memory, to find the ones that occur more than once: split
 * by their top bits into partitions sized to fit in memory, spilled to files in `dir` when there is
 * more than one, then each partition sorted on its own. Memory stays near 24 MiB whatever the count
 * (10M hashes: 16 partitions of ~0.6M).
 */
export class HashPartitions {
  readonly #dir: string
  readonly #shift: number
  readonly #buffers: Uint32Array[]
  readonly #fill: number[]
  readonly #files: (number | undefined)[]
  readonly #flushAt: number

  /** `expected`: about how many hashes will be added (sizes the partitions). */
  constructor(dir: string, expected: number, sizes: { partition?: number; buffered?: number } = {}) {
    this.#dir = dir
    const perPartition = sizes.partition ?? PARTITION_HASHES
    let partitions = 1
    while (partitions < 4096 && expected / partitions > perPartition) partitions *= 2
    this.#shift = 32 - Math.log2(partitions)
    const buffered = sizes.buffered ?? BUFFERED_HASHES
    this.#flushAt = partitions === 1 ? Math.max(1024, expected + 1) : Math.max(64, Math.min(64 * 1024, Math.floor(buffered / partitions)))
    this.#buffers = Array.from({ length: partitions }, () => new Uint32Array(2 * Math.min(this.#flushAt, 1024)))
    this.#fill = new Array(partitions).fill(0)
    this.#files = new Array(partitions).fill(undefined)
  }

  get partitions(): number {
    return this.#buffers.length
  }

  add(lo: number, hi: number): void {
    const p = this.#shift === 32 ? 0 : hi >>> this.#shift
    let buf = this.#buffers[p]!
    const at = this.#fill[p]!
    if (2 * at === buf.length) {
      if (at >= this.#flushAt) {
        this.#spill(p)
        return this.add(lo, hi)
      }
      const grown = new Uint32Array(Math.min(buf.length * 2, 2 * this.#flushAt))
      grown.set(buf)
      buf = this.#buffers[p] = grown
    }
    buf[2 * at] = lo
    buf[2 * at + 1] = hi
    this.#fill[p] = at + 1
  }

  #spill(p: number): void {
    const fd = (this.#files[p] ??= fs.openSync(path.join(this.#dir, `hashes-${p}`), 'w+'))
    const buf = this.#buffers[p]!
    fs.writeSync(fd, buf, 0, this.#fill[p]! * 8)
    this.#fill[p] = 0
  }

  /**
   * Hashes found more than once, partition by partition, each once (as [lo, hi] pairs). Each
   * partition is read back whole and sorted natively as unsigned 64-bit numbers.
   */
  *repeated(): Generator<[number, number]> {
    for (let p = 0; p < this.#buffers.length; p++) {
      const fd = this.#files[p]
      let all: BigUint64Array
      if (fd === undefined) {
        all = new BigUint64Array(this.#buffers[p]!.buffer, 0, this.#fill[p]!)
      } else {
        this.#spill(p)
        const size = fs.fstatSync(fd).size
        all = new BigUint64Array(size / 8)
        const bytes = new Uint8Array(all.buffer)
        for (let at = 0; at < size; ) at += fs.readSync(fd, bytes, at, size - at, at)
        fs.closeSync(fd)
        this.#files[p] = undefined
        fs.rmSync(path.join(this.#dir, `hashes-${p}`), { force: true })
      }
      this.#buffers[p] = new Uint32Array(0) // freed: only one partition is in memory at a time
      all.sort()
      const words = new Uint32Array(all.buffer, all.byteOffset, all.length * 2)
      for (let i = 1; i < all.length; i++) {
        if (words[2 * i] !== words[2 * i - 2] || words[2 * i + 1] !== words[2 * i - 1]) continue
        if (i >= 2 && words[2 * i - 2] === words[2 * i - 4] && words[2 * i - 1] === words[2 * i - 3]) continue
        yield [words[2 * i]!, words[2 * i + 1]!]
      }
    }
  }

  close(): void {
    for (let p = 0; p < this.#files.length; p++) {
      const fd = this.#files[p]
      if (fd !== undefined) fs.closeSync(fd)
      this.#files[p] = undefined
    }
  }
}
