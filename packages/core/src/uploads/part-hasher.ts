import { OffThreadSha256 } from '../util/off-thread-sha256.js'

/** Parts held back, waiting for an earlier part, per upload and for the whole process. */
const UPLOAD_WINDOW = 256 * 1024 * 1024
const PROCESS_WINDOW = 1024 * 1024 * 1024
/** A hasher that saw no part for this long is dropped (its parts went to other instances). */
const IDLE_MS = 10 * 60_000

/**
 * Hashes an upload's parts in part order as this process stores them, so Complete need not read the
 * object back to learn its address. Parts arrive in parallel and out of order: a part that comes
 * before its predecessors waits in memory (bounded) until they are hashed. Whenever it cannot follow
 * (a part went to another instance, a window overflowed, a part was uploaded again after it was
 * hashed), `result` returns undefined and the caller reads the object once instead: this is a
 * shortcut, never a source of truth beyond the bytes it saw stored.
 */
export class PartHasher {
  static #held = 0
  readonly #hash = new OffThreadSha256()
  readonly #waiting = new Map<number, { etag: string; chunks: Uint8Array[]; size: number }>()
  readonly #etags: string[] = []
  #chain: Promise<void> = Promise.resolve()
  #waitingBytes = 0
  #size = 0
  #dead = false
  lastUsed = Date.now()

  get dead(): boolean {
    return this.#dead
  }

  /** Part n was stored with this ETag; `chunks` are its bytes (kept only until they are hashed). */
  stored(n: number, etag: string, chunks: Uint8Array[], size: number): void {
    this.lastUsed = Date.now()
    if (this.#dead) return
    const next = this.#etags.length + 1
    if (n < next) return // uploaded again after it was hashed: the ETag check in result() refuses the shortcut
    const replaced = this.#waiting.get(n)
    if (replaced) this.#release(replaced.size)
    if (n > next) {
      if (this.#waitingBytes + size > UPLOAD_WINDOW || PartHasher.#held + size > PROCESS_WINDOW) return this.drop()
      this.#waiting.set(n, { etag, chunks, size })
      this.#waitingBytes += size
      PartHasher.#held += size
      return
    }
    this.#feed(etag, chunks, size)
    for (let k = n + 1; this.#waiting.has(k); k++) {
      const w = this.#waiting.get(k)!
      this.#waiting.delete(k)
      this.#release(w.size)
      this.#feed(w.etag, w.chunks, w.size)
    }
  }

  #feed(etag: string, chunks: Uint8Array[], size: number): void {
    this.#etags.push(etag)
    this.#size += size
    this.#chain = this.#chain.then(async () => {
      for (const c of chunks) await this.#hash.update(c)
    })
  }

  #release(size: number): void {
    this.#waitingBytes -= size
    PartHasher.#held -= size
  }

  /** The object's SHA-256 and size when exactly these parts, as stored, were hashed in order. */
  async result(parts: readonly { n: number; etag: string }[]): Promise<{ sha256: string; size: number } | undefined> {
    if (this.#dead || this.#waiting.size > 0 || parts.length !== this.#etags.length || !parts.every((p, i) => p.n === i + 1 && p.etag === this.#etags[i])) {
      this.drop()
      return undefined
    }
    this.#dead = true
    try {
      await this.#chain
      return { sha256: await this.#hash.digest(), size: this.#size }
    } catch {
      return undefined
    }
  }

  drop(): void {
    if (this.#dead) return
    this.#dead = true
    for (const w of this.#waiting.values()) this.#release(w.size)
    this.#waiting.clear()
    void this.#chain.then(
      () => this.#hash.abandon(),
      () => this.#hash.abandon(),
    )
  }

  idle(now: number): boolean {
    return now - this.lastUsed > IDLE_MS
  }
}
