import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { workerExecArgv } from '../../util/worker-exec-argv.js'

export interface ReadJob {
  readonly file: string
  /** The size the walk saw (the read buffer's size). */
  readonly size: number
  /** The address the file had: when its bytes still hash to it, the result is `unchanged`. */
  readonly check?: string
}

export type ReadResult = { readonly bytes: Uint8Array } | { readonly unchanged: true } | { readonly error: { readonly code: string; readonly message: string } }

/**
 * Reads many small files in worker threads, a batch per message, so a folder of 100k files is read
 * at the speed of the disk instead of at the speed of one JS thread dispatching 400k file-system calls.
 */
export class FileReaderPool {
  readonly #workers: Worker[]
  readonly #waiting = new Map<number, { resolve: (r: ReadResult[]) => void; reject: (e: Error) => void }>()
  #next = 0
  #id = 0

  /** Threads a pool has unless told otherwise: one per core, at most 4. */
  static defaultSize(): number {
    return Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length))
  }

  constructor(size = FileReaderPool.defaultSize()) {
    this.#workers = Array.from({ length: size }, () => {
      const w = new Worker(new URL('./file-reader-worker.js', import.meta.url), { execArgv: workerExecArgv() })
      w.on('message', (m: { id: number; results: ReadResult[] }) => {
        const waiter = this.#waiting.get(m.id)
        this.#waiting.delete(m.id)
        waiter?.resolve(m.results)
      })
      w.on('error', (err) => this.#failAll(err))
      return w
    })
  }

  get size(): number {
    return this.#workers.length
  }

  /** Reads a batch of files on the next worker; results in job order. */
  read(jobs: readonly ReadJob[]): Promise<ReadResult[]> {
    const id = ++this.#id
    const worker = this.#workers[this.#next++ % this.#workers.length]!
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject })
      worker.postMessage({ id, jobs })
    })
  }

  #failAll(err: Error): void {
    for (const w of this.#waiting.values()) w.reject(err)
    this.#waiting.clear()
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()))
  }
}
