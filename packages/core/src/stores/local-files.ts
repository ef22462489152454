import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { copyFileOffThread, type FileRange, type OffThreadSha256 } from '../util/off-thread-sha256.js'

export type { FileRange }

export interface LocalFilesOptions {
  /**
   * The caller gives the files up: when the content is exactly bytes [0, n) of one file, a store on
   * the same disk may cut that file to n bytes and move it into place instead of copying it.
   */
  readonly adopt?: boolean
}

/**
 * Content given as local files (or byte ranges of them) to be concatenated, named as they become
 * ready (e.g. the parts of an upload as they arrive). To any store it is an ordinary byte stream, but a
 * store on the local disk writes it with `writeTo`: the files are copied (or adopted) and hashed on the
 * hashing thread, so a gigabyte never passes through the main thread, neither as reads nor as a
 * gigabyte of short-lived buffers to collect.
 */
export class LocalFiles implements AsyncIterable<Uint8Array> {
  #hash: OffThreadSha256 | undefined
  #size = 0

  constructor(
    private readonly files: AsyncIterable<string | FileRange> | Iterable<string | FileRange>,
    readonly options: LocalFilesOptions = {},
  ) {}

  /** The same files, hashed into `hash` as they are read or copied (used once, by the object store). */
  hashedWith(hash: OffThreadSha256): LocalFiles {
    const bound = new LocalFiles(this.files, this.options)
    bound.#hash = hash
    return bound
  }

  /** Bytes read, copied or adopted so far. */
  get size(): number {
    return this.#size
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for await (const item of this.files) {
      const { file, start = 0, end } = rangeOf(item)
      if (end !== undefined && end <= start) continue
      const stream = fs.createReadStream(file, { highWaterMark: 1024 * 1024, start, ...(end !== undefined ? { end: end - 1 } : {}) })
      let n = 0
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (this.#hash) await this.#hash.update(chunk)
        this.#size += chunk.byteLength
        n += chunk.byteLength
        yield chunk
      }
      if (end !== undefined && n !== end - start) throw Object.assign(new Error(`${file} ends before byte ${end}`), { code: 'ESHORT' })
    }
  }

  /**
   * Writes the content to a new file at `target` (which must not exist): adopted when the options
   * allow and it is a prefix of one file, else copied. `flush` may start a sync as a copy grows (one at
   * a time, awaited before the descriptor closes); the caller syncs the target once this returns.
   */
  async writeTo(target: string, flush: (fd: number, size: number) => Promise<void> | undefined = () => undefined): Promise<void> {
    let flushing: Promise<void> | undefined
    let candidate: string | undefined // the file being adopted, read (hashed) up to `at`
    let at = 0
    let fd: number | undefined
    const openTarget = async () => {
      fd = await openFd(target, 'wx')
    }
    try {
      const items = (Symbol.asyncIterator in this.files ? this.files[Symbol.asyncIterator]() : this.files[Symbol.iterator]()) as
        | AsyncIterator<string | FileRange>
        | Iterator<string | FileRange>
      let next = await items.next()
      while (!next.done) {
        const range = rangeOf(next.value)
        const start = range.start ?? 0
        if (range.end !== undefined && range.end <= start) {
          next = await items.next()
          continue
        }
        if (fd === undefined && this.options.adopt) {
          if (candidate === undefined ? start === 0 : range.file === candidate && start === at) {
            candidate = range.file
            at += await this.#read(range, null)
            this.#size = at
            next = await items.next()
            continue
          }
        }
        next = await items.next() // one ahead: whether this range is the last decides how it is written
        if (fd === undefined && this.options.adopt) {
          if (candidate !== undefined && next.done) {
            // The last range comes from another file (an upload's short last part): it is written
            // after the prefix in the candidate, which is ours to change, and the candidate adopted.
            const into = await openFd(candidate, 'r+')
            try {
              at += await this.#read(range, into, at)
            } finally {
              await closeFd(into)
            }
            this.#size = at
            break
          }
        }
        if (fd === undefined) {
          await openTarget()
          if (candidate !== undefined) await copyFileOffThread({ file: candidate, start: 0, end: at }, fd!) // already hashed
        }
        this.#size += await this.#read(range, fd!)
        if (!flushing) flushing = flush(fd!, this.#size)?.finally(() => (flushing = undefined))
      }
      await flushing // its failure fails the write
      if (fd !== undefined) return
      if (candidate === undefined) return void (await fsp.writeFile(target, new Uint8Array(0), { flag: 'wx' }))
      await fsp.truncate(candidate, at)
      try {
        await fsp.link(candidate, target) // never replaces a target; the candidate name goes below
        await fsp.unlink(candidate)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err
        await openTarget()
        await copyFileOffThread({ file: candidate, start: 0, end: at }, fd!)
      }
    } finally {
      await flushing?.catch(() => {}) // before the descriptor closes (its number could be reused)
      if (fd !== undefined) await closeFd(fd)
    }
  }

  async #read(range: FileRange, fd: number | null, to: number | null = null): Promise<number> {
    if (this.#hash) return this.#hash.copyFile(range, fd, to)
    if (fd !== null) return copyFileOffThread(range, fd, to)
    const size = (await fsp.stat(range.file)).size
    const end = range.end ?? size
    if (end > size) throw Object.assign(new Error(`${range.file} ends before byte ${end}`), { code: 'ESHORT' })
    return end - (range.start ?? 0)
  }
}

const openFd = (file: string, flags: string) => new Promise<number>((resolve, reject) => fs.open(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))))
const closeFd = (fd: number) => new Promise<void>((resolve) => fs.close(fd, () => resolve()))
const rangeOf = (item: string | FileRange): FileRange => (typeof item === 'string' ? { file: item } : item)

/** Content that is the concatenation of these local files (or ranges of them), read only when stored. */
export const localFiles = (files: AsyncIterable<string | FileRange> | Iterable<string | FileRange>, options: LocalFilesOptions = {}): LocalFiles =>
  new LocalFiles(files, options)
