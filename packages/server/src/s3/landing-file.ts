import type { FileRange } from '@varve/core'
import { startEarlySync } from './early-sync.js'

/** Bytes handed on at a time (the hashing thread reads them back from the page cache). */
const PIECE = 8 * 1024 * 1024

/**
 * A PutObject body being written to a file beside a local repository, given to `repo.put` as ranges
 * of that file as they land (`localFiles(landing.ranges(), { adopt: true })`): the hashing thread reads
 * each range back while the next arrives, and the store then takes the file as the object. Each byte
 * is written once and never passes through the main thread as a hashing copy (the multipart path
 * works the same way, see assembly.ts). The ranges end only after `end()`, so a body that fails at its
 * end (a wrong checksum) fails the put.
 */
export class LandingFile {
  #written = 0
  #fed = 0
  #ended = false
  #failed: unknown
  #wake: (() => void) | undefined
  #flushing: Promise<void> | undefined

  constructor(readonly file: string) {}

  /** `bytes` more were written to the file. */
  grew(bytes: number): void {
    this.#written += bytes
    if (this.#written - this.#fed >= PIECE) {
      this.#poke()
      this.#flush()
    }
  }

  end(): void {
    this.#ended = true
    this.#poke()
  }

  fail(err: unknown): void {
    this.#failed = err
    this.#poke()
  }

  async *ranges(): AsyncGenerator<FileRange> {
    for (;;) {
      if (this.#failed !== undefined) throw this.#failed
      const ready = this.#written - this.#fed
      if (ready >= PIECE || (this.#ended && ready > 0)) {
        const start = this.#fed
        this.#fed = this.#written
        yield { file: this.file, start, end: this.#fed }
        continue
      }
      if (this.#ended) return
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }

  #poke(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  /** Starts writing what landed to disk (see startEarlySync). */
  #flush(): void {
    this.#flushing = startEarlySync(this.file, this.#flushing, () => (this.#flushing = undefined))
  }

  /** Waits for a sync in progress (before the file is removed or moved). */
  async settled(): Promise<void> {
    await this.#flushing
  }
}
