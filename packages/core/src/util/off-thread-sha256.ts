import { createHash, type Hash } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { workerExecArgv } from './worker-exec-argv.js'

// SHA-256 of a long stream, computed on a worker thread. A gigabyte costs the thread that streams it
// ~0.7 s of hashing; here the hash runs beside the I/O on another core. Two ways in:
//   - ordinary bytes are copied (~0.1 s/GiB) into a pool of slots in one SharedArrayBuffer that the
//     worker reads in place, so the caller's buffers are never detached and may be reused as soon as
//     `update` resolves. The pool bounds memory (POOL x PIECE for the whole process); when the worker
//     is behind, `update` waits for a free slot: that is the backpressure.
//   - bytes already in shared memory (a reader's reused buffers) are hashed in place, with no copy;
//     `update` then resolves when the worker is done with them, and only then may they be reused.
// Messages carry numbers, not buffers: a transferred buffer would count as a fresh allocation on the
// way back, and the collections that provokes cost more than the hash.

const PIECE = 1024 * 1024
const POOL = 8

// Eval'd, so it needs no file of its own next to the compiled module and runs the same from sources.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const fs = require('node:fs')
const copyBuffer = Buffer.allocUnsafeSlow(${PIECE})
const pool = new Uint8Array(workerData.pool)
const hashes = new Map()
const hashOf = (id) => { let h = hashes.get(id); if (!h) hashes.set(id, (h = createHash('sha256'))); return h }
parentPort.on('message', (m) => {
  if (m.op === 'slot') {
    hashOf(m.id).update(pool.subarray(m.slot * ${PIECE}, m.slot * ${PIECE} + m.length))
    parentPort.postMessage({ op: 'slot', slot: m.slot })
  } else if (m.op === 'view') {
    hashOf(m.id).update(m.view)
    parentPort.postMessage({ op: 'view', ticket: m.ticket })
  } else if (m.op === 'digest') {
    const h = hashOf(m.id)
    hashes.delete(m.id)
    parentPort.postMessage({ op: 'digest', id: m.id, hex: h.digest('hex') })
  } else if (m.op === 'copy') {
    // Bytes [start, end) of a local file, hashed into stream id (0: none) and, when fd is set,
    // appended to that open file: no byte passes through the main thread.
    let fd = -1
    try {
      const h = m.id ? hashOf(m.id) : undefined
      fd = fs.openSync(m.file, 'r')
      let at = m.start
      for (;;) {
        const want = Math.min(copyBuffer.length, m.end === null ? copyBuffer.length : m.end - at)
        if (want <= 0) break
        const n = fs.readSync(fd, copyBuffer, 0, want, at)
        if (n === 0) break
        const piece = copyBuffer.subarray(0, n)
        if (h) h.update(piece)
        if (m.fd !== null)
          for (let done = 0; done < n; ) done += fs.writeSync(m.fd, piece, done, n - done, m.to === null ? null : m.to + (at - m.start) + done)
        at += n
      }
      if (m.end !== null && at !== m.end) throw Object.assign(new Error(m.file + ' ends at ' + at + ', before ' + m.end), { code: 'ESHORT' })
      parentPort.postMessage({ op: 'copied', ticket: m.ticket, bytes: at - m.start })
    } catch (err) {
      parentPort.postMessage({ op: 'copied', ticket: m.ticket, error: String(err && err.message), code: err && err.code })
    } finally {
      if (fd >= 0) fs.closeSync(fd)
    }
  } else if (m.op === 'drop') hashes.delete(m.id)
})
`

type Reply =
  | { op: 'slot'; slot: number }
  | { op: 'view'; ticket: number }
  | { op: 'digest'; id: number; hex: string }
  | { op: 'copied'; ticket: number; bytes?: number; error?: string; code?: string }
type Waiter = { resolve: (v: never) => void; reject: (e: Error) => void }

class HashThread {
  readonly pool = new SharedArrayBuffer(POOL * PIECE)
  readonly #worker: Worker
  readonly #free = Array.from({ length: POOL }, (_, i) => i)
  readonly #waitingForSlot: ((slot: number) => void)[] = []
  readonly #pending = new Map<string, Waiter>()
  #next = 1
  #failed: Error | undefined
  /** Streams open on it (to spread streams over the threads). */
  #open = 0
  /**
   * Replies awaited. The worker keeps the process alive only while one is: a stream its reader
   * dropped midway must not keep a process from exiting, and an awaited digest must.
   */
  #awaited = 0
  #holding: ReturnType<typeof setInterval> | undefined

  constructor(onExit: () => void) {
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: workerExecArgv(), workerData: { pool: this.pool } })
    this.#worker.on('message', (m: Reply) => {
      if (--this.#awaited === 0) this.#release()
      if (m.op === 'slot') return this.giveSlot(m.slot)
      const key = m.op === 'digest' ? `d${m.id}` : `v${m.ticket}`
      const w = this.#pending.get(key)
      this.#pending.delete(key)
      if (m.op === 'copied' && m.error !== undefined) w?.reject(Object.assign(new Error(m.error), { code: m.code }))
      else w?.resolve((m.op === 'digest' ? m.hex : m.op === 'copied' ? m.bytes : undefined) as never)
    })
    const fail = (err: Error) => {
      this.#failed ??= err
      for (const w of this.#pending.values()) w.reject(err)
      this.#pending.clear()
      this.#awaited = 0
      this.#release()
      onExit()
    }
    this.#worker.on('error', fail)
    this.#worker.on('exit', (code) => fail(new Error(`the hashing thread exited (code ${code})`)))
    // Last: on Node 20 a 'message' listener added after unref() references the worker again.
    this.#worker.unref()
  }

  get openCount(): number {
    return this.#open
  }

  open(): number {
    if (this.#failed) throw this.#failed
    this.#open++
    return this.#next++
  }

  close(id: number, drop: boolean): void {
    if (drop && !this.#failed) this.#worker.postMessage({ op: 'drop', id })
    this.#open--
  }

  /** Posts a message the worker answers. */
  #ask(message: object): void {
    // The worker stays unreferenced; an idle timer holds the process while a reply is awaited.
    if (this.#awaited++ === 0) this.#holding = setInterval(() => {}, 1 << 30)
    this.#worker.postMessage(message)
  }

  #release(): void {
    clearInterval(this.#holding)
    this.#holding = undefined
  }

  takeSlot(): number | Promise<number> {
    if (this.#failed) throw this.#failed
    return this.#free.pop() ?? new Promise((resolve) => this.#waitingForSlot.push(resolve))
  }

  /** A slot back to the pool (from the worker, or from a stream abandoned before sending it). */
  giveSlot(slot: number): void {
    const w = this.#waitingForSlot.shift()
    if (w) w(slot)
    else this.#free.push(slot)
  }

  sendSlot(id: number, slot: number, length: number): void {
    if (this.#failed) throw this.#failed
    this.#ask({ op: 'slot', id, slot, length })
  }

  sendView(id: number, view: Uint8Array): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed)
    const ticket = this.#next++
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(`v${ticket}`, { resolve, reject })
      this.#ask({ op: 'view', id, ticket, view })
    })
  }

  /**
   * Reads bytes [range.start, range.end) of `file` (to its end without `end`), hashed into stream
   * `id` (0: none) and appended to the open descriptor `fd` (null: read only), or written at offset
   * `to` of it; resolves with the count.
   */
  copy(id: number, range: FileRange, fd: number | null, to: number | null = null): Promise<number> {
    if (this.#failed) return Promise.reject(this.#failed)
    const ticket = this.#next++
    return new Promise<number>((resolve, reject) => {
      this.#pending.set(`v${ticket}`, { resolve, reject })
      this.#ask({ op: 'copy', id, ticket, file: range.file, start: range.start ?? 0, end: range.end ?? null, fd, to })
    })
  }

  digest(id: number): Promise<string> {
    if (this.#failed) return Promise.reject(this.#failed)
    return new Promise<string>((resolve, reject) => {
      this.#pending.set(`d${id}`, { resolve, reject })
      this.#ask({ op: 'digest', id })
    })
  }
}

// Two threads, each stream on the one with fewer open: a long file job (hashing a gigabyte of an
// upload's parts) must not hold up the short hashes a request waits on before it is answered.
const THREADS = 2
const threads: (HashThread | undefined)[] = new Array(THREADS).fill(undefined)
function hashThread(): HashThread {
  let best = 0
  for (let i = 0; i < THREADS; i++) {
    const t = (threads[i] ??= new HashThread(() => (threads[i] = undefined))) // a failed one is replaced by the next stream
    if (t.openCount < threads[best]!.openCount) best = i
  }
  return threads[best]!
}

/** True when `bytes` live in shared memory (then `OffThreadSha256.update` hashes them in place). */
export const isShared = (bytes: Uint8Array): boolean => bytes.buffer instanceof SharedArrayBuffer

/**
 * An incremental SHA-256 that hashes on a worker thread; streams shorter than one piece are hashed
 * inline and never wake it. Call `update` in order; each call resolves when its bytes may be reused
 * (copied, or for shared memory, hashed). `digest` resolves with the hex digest; a stream abandoned
 * midway calls `abandon` so the worker forgets it.
 */
export class OffThreadSha256 {
  #thread: HashThread | undefined
  #id = 0
  #slot: number | undefined
  #fill = 0
  #inline: Hash | undefined = createHash('sha256')
  #held: Uint8Array[] = []
  #heldBytes = 0
  #ended = false

  update(chunk: Uint8Array): Promise<void> {
    if (this.#inline) {
      if (this.#heldBytes + chunk.byteLength < PIECE) {
        // Held (copied: the caller may reuse its buffer) until a piece's worth has come.
        this.#inline.update(chunk)
        this.#held.push(Uint8Array.prototype.slice.call(chunk))
        this.#heldBytes += chunk.byteLength
        return Promise.resolve()
      }
      return this.#toThread(chunk)
    }
    return this.#send(chunk)
  }

  async #toThread(chunk: Uint8Array): Promise<void> {
    this.#inline = undefined
    this.#thread = hashThread()
    this.#id = this.#thread.open()
    const held = this.#held
    this.#held = []
    for (const h of held) await this.#copy(h)
    await this.#send(chunk)
  }

  /**
   * Hashes bytes of a local file into this stream on the worker thread and appends them to the open
   * descriptor `fd` (null: hash only), or writes them at offset `to` of it; the bytes never enter this
   * thread. Resolves with their count.
   */
  async copyFile(range: FileRange, fd: number | null, to: number | null = null): Promise<number> {
    if (this.#inline) await this.#toThread(new Uint8Array(0))
    if (this.#fill) this.#flush()
    return this.#thread!.copy(this.#id, range, fd, to)
  }

  #send(chunk: Uint8Array): Promise<void> {
    if (!isShared(chunk)) return this.#copy(chunk)
    if (this.#fill) this.#flush() // keep the order: what was copied before goes first
    return this.#thread!.sendView(this.#id, chunk)
  }

  async #copy(chunk: Uint8Array): Promise<void> {
    const t = this.#thread!
    for (let at = 0; at < chunk.byteLength; ) {
      this.#slot ??= await t.takeSlot()
      const n = Math.min(chunk.byteLength - at, PIECE - this.#fill)
      new Uint8Array(t.pool, this.#slot * PIECE + this.#fill, n).set(chunk.subarray(at, at + n))
      this.#fill += n
      at += n
      if (this.#fill === PIECE) this.#flush()
    }
  }

  #flush(): void {
    const slot = this.#slot!
    const n = this.#fill
    this.#slot = undefined
    this.#fill = 0
    this.#thread!.sendSlot(this.#id, slot, n)
  }

  async digest(): Promise<string> {
    this.#ended = true
    if (this.#inline) return this.#inline.digest('hex')
    const t = this.#thread!
    try {
      if (this.#fill) this.#flush()
      return await t.digest(this.#id)
    } finally {
      t.close(this.#id, false)
    }
  }

  /** Forget a stream that will not be digested (its source failed or its reader stopped). */
  abandon(): void {
    if (this.#ended) return
    this.#ended = true
    if (!this.#thread) return
    if (this.#slot !== undefined) this.#thread.giveSlot(this.#slot)
    this.#slot = undefined
    this.#thread.close(this.#id, true)
  }
}

/** Appends bytes of a local file to an open descriptor on the hashing thread, hashing nothing. */
export function copyFileOffThread(range: FileRange, fd: number, to: number | null = null): Promise<number> {
  const t = hashThread()
  const id = t.open()
  return t.copy(0, range, fd, to).finally(() => t.close(id, false))
}

/** Bytes [start, end) of a local file; from 0 and to its end when not given. */
export interface FileRange {
  readonly file: string
  readonly start?: number
  readonly end?: number
}
