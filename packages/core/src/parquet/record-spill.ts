import fs from 'node:fs'
import path from 'node:path'

/**
 * Fixed-size records of 32-bit words, split into partitions that are spilled to files in `dir` and
 * read back one partition at a time: memory holds the write buffers (bounded by `buffered` words in
 * all) and one partition.
 */
export class RecordSpill {
  readonly #files: (number | undefined)[]
  readonly #buffers: Uint32Array[]
  readonly #fill: number[]
  readonly #perBuffer: number

  constructor(
    private readonly dir: string,
    private readonly name: string,
    readonly words: number,
    readonly partitions: number,
    buffered = 4 * 1024 * 1024,
  ) {
    this.#perBuffer = Math.max(64, Math.floor(buffered / partitions / words)) * words
    this.#buffers = Array.from({ length: partitions }, () => new Uint32Array(this.#perBuffer))
    this.#fill = new Array(partitions).fill(0)
    this.#files = new Array(partitions).fill(undefined)
  }

  /** Appends one record (its first `words` values) to partition `p`. */
  add(p: number, record: ArrayLike<number>): void {
    const buf = this.#buffers[p]!
    let at = this.#fill[p]!
    for (let k = 0; k < this.words; k++) buf[at++] = record[k]!
    this.#fill[p] = at
    if (at === this.#perBuffer) this.#flush(p)
  }

  #flush(p: number): void {
    if (this.#fill[p] === 0) return
    const fd = (this.#files[p] ??= fs.openSync(path.join(this.dir, `${this.name}-${p}`), 'w+'))
    fs.writeSync(fd, this.#buffers[p]!, 0, this.#fill[p]! * 4)
    this.#fill[p] = 0
  }

  /** All records of partition `p`, read back (its file is then removed). */
  take(p: number): Uint32Array {
    this.#flush(p)
    const fd = this.#files[p]
    if (fd === undefined) return new Uint32Array(0)
    const size = fs.fstatSync(fd).size
    const out = new Uint32Array(size / 4)
    const bytes = new Uint8Array(out.buffer)
    for (let at = 0; at < size; ) at += fs.readSync(fd, bytes, at, size - at, at)
    fs.closeSync(fd)
    this.#files[p] = undefined
    fs.rmSync(path.join(this.dir, `${this.name}-${p}`), { force: true })
    return out
  }

  close(): void {
    for (let p = 0; p < this.partitions; p++) {
      const fd = this.#files[p]
      if (fd !== undefined) fs.closeSync(fd)
      this.#files[p] = undefined
    }
  }
}
