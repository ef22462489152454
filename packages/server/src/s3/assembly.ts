import path from 'node:path'
import { localFiles, type Entry, type FileRange, type Repository } from '@varve/core'
import { startEarlySync } from './early-sync.js'

// Multipart uploads wait in the upload folder (one folder per upload: its target and its parts), so a
// 5 GiB upload never sits in memory. A part whose size fits the upload's part size (the first part's
// size: clients cut every part but the last alike) is written straight into the upload's `data` file
// at its place, (n - 1) x part size; any other part (larger, of unknown length, or an upload of a
// part already in place) waits in a file of its own. Each part's record (`part-NNNNN.json`: where its
// bytes are, their size, its ETag) is renamed into place once its bytes are written: the record is
// the part. Parts of an upload that is never completed stay until Abort.

export interface UploadMeta {
  readonly bucket: string
  readonly key: string
  readonly ref: string
  readonly path: string
  readonly accessKey: string | null
  readonly metadata?: Record<string, string>
  readonly contentType?: string
  readonly initiated: number
}

/** Where a part's bytes are: at `offset` in the upload's data file, or in a file of its own. */
export interface PartRecord {
  readonly n: number
  readonly etag: string
  readonly size: number
  readonly modified: number
  readonly offset?: number
  readonly file?: string
}

const MIN_PART = 5 * 1024 * 1024
export const partName = (n: number) => `part-${String(n).padStart(5, '0')}`
export const dataFile = (dir: string) => path.join(dir, 'data')
export const rangeOfPart = (dir: string, p: PartRecord): FileRange =>
  p.file !== undefined ? { file: path.join(dir, p.file), start: 0, end: p.size } : { file: dataFile(dir), start: p.offset!, end: p.offset! + p.size }

/**
 * An upload's object, assembled while its parts arrive: a `repo.put` fed the parts in order, each as
 * soon as it is stored, so hashing the object overlaps the upload instead of following Complete. When
 * Complete lists exactly parts 1..N as they were uploaded and they all sit in place in the data file
 * (the common case), the store takes that file as the object: its bytes are written once. Any other
 * list, a part uploaded again after the feed read it, Abort or shutdown cancels the feed (the put
 * fails, nothing is staged), and Complete then writes the object from the records.
 */
export class Assembly {
  readonly #stored = new Map<number, PartRecord>()
  readonly #read = new Set<number>()
  /** Parts whose place in the data file a request is writing now. */
  readonly #writing = new Set<number>()
  #partSize: number | undefined
  #flushing: Promise<void> | undefined
  #wake: (() => void) | undefined
  #last: number | undefined
  #cancelled = false
  readonly done: Promise<Entry>

  constructor(
    repo: Repository,
    readonly meta: UploadMeta,
    readonly dir: string,
  ) {
    this.done = repo.put(meta.ref, meta.path, localFiles(this.#feed(), { adopt: true }), putOptions(meta))
    this.done.catch(() => {}) // awaited by Complete; a cancelled feed's failure is expected
  }

  async *#feed(): AsyncGenerator<FileRange> {
    for (let n = 1; ; n++) {
      for (;;) {
        if (this.#cancelled) throw new Error('the assembly of this upload was cancelled')
        if (this.#last !== undefined && n > this.#last) return
        if (this.#stored.has(n)) break
        await new Promise<void>((resolve) => (this.#wake = resolve))
      }
      this.#read.add(n)
      yield rangeOfPart(this.dir, this.#stored.get(n)!)
    }
  }

  #poke(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /**
   * The offset in the data file where part n of `size` bytes goes, or undefined when it must go to a
   * file of its own: its size is unknown or larger than the part size, or that place holds (or is
   * being written with) an earlier upload of it, which must stay intact until this one is complete.
   */
  place(n: number, size: number | undefined): number | undefined {
    if (this.#cancelled || size === undefined || size === 0) return undefined
    // Only a part of S3's smallest part size or more sets the size: a smaller one is the last part,
    // which may come first. (Until the size is set parts wait in files; a last part in a file is
    // still appended to the data file at Complete.)
    if (this.#partSize === undefined && size >= MIN_PART) this.#partSize = size
    if (this.#partSize === undefined) return undefined
    if (size > this.#partSize || this.#writing.has(n) || this.#stored.get(n)?.offset !== undefined) return undefined
    this.#writing.add(n)
    return (n - 1) * this.#partSize
  }

  /** The write to part n's place ended (stored or not). */
  placed(n: number): void {
    this.#writing.delete(n)
  }

  /** A part's record is in place. */
  partStored(p: PartRecord): void {
    if (this.#read.has(p.n)) return this.cancel() // what the feed read is no longer that part
    this.#stored.set(p.n, p)
    this.#poke()
    if (p.offset !== undefined) this.#flush()
  }

  /**
   * Starts writing the data file's bytes to disk (one sync at a time) as parts land in it: the store
   * syncs the object before it is acknowledged, and a gigabyte left to that last sync took seconds.
   */
  #flush(): void {
    if (this.#cancelled) return
    this.#flushing = startEarlySync(dataFile(this.dir), this.#flushing, () => (this.#flushing = undefined))
  }

  /** Complete listed these parts: true when the feed delivers exactly them (then await `done`). */
  finish(listed: readonly { n: number; etag: string }[]): boolean {
    if (this.#cancelled || !listed.every((p, i) => p.n === i + 1 && this.#stored.get(p.n)?.etag === p.etag)) return false
    this.#last = listed.length
    this.#poke()
    return true
  }

  cancel(): void {
    this.#cancelled = true
    this.#poke()
  }
}

export const putOptions = (meta: UploadMeta) => ({
  ...(meta.metadata ? { metadata: meta.metadata } : {}),
  ...(meta.contentType ? { contentType: meta.contentType } : {}),
})
