import type { Bucket, BucketObject, BucketPutOptions, BucketRead, GetOptions, ListPage, ListPageOptions, PutMode } from '../buckets/bucket.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { ByteSource } from '../stores/block-store.js'

/** How often each fault strikes, from 0 to 1 (each request draws independently). */
export interface FaultRates {
  /** The request fails before the store sees it (a 503 after the SDK's retries, a refused connection). */
  readonly before?: number
  /** The store applies the request, then the answer is lost (a timeout): the caller sees a failure. */
  readonly after?: number
  /**
   * A write is applied, its answer lost, and the SDK sends it again: a conditional write then meets
   * its own first attempt and is refused (412), though it happened.
   */
  readonly retriedWrite?: number
  /** A conditional write refused without being applied (S3's 409 ConditionalRequestConflict). */
  readonly conflict?: number
  /** A listing page cut short at 1-3 entries (pagination on every listing). */
  readonly shortPage?: number
}

export interface FaultCounts {
  before: number
  after: number
  retriedWrite: number
  conflict: number
  shortPage: number
}

/**
 * A Bucket that injects the faults object stores show (decision 0020) into the requests it passes to
 * another one, from a seeded generator so a failing run can be replayed. The ref protocol is tested
 * once over this wrapper for every store.
 */
export class FaultyBucket implements Bucket {
  readonly url: string
  readonly counts: FaultCounts = { before: 0, after: 0, retriedWrite: 0, conflict: 0, shortPage: 0 }
  rates: FaultRates
  readonly #inner: Bucket
  #seed: number

  constructor(inner: Bucket, rates: FaultRates, seed = 1) {
    this.#inner = inner
    this.url = inner.url
    this.rates = rates
    this.#seed = seed >>> 0
  }

  /** mulberry32: small, seeded, good enough to spread faults. */
  #random(): number {
    this.#seed = (this.#seed + 0x6d2b79f5) >>> 0
    let t = this.#seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  #strikes(kind: keyof FaultRates): boolean {
    const hit = this.#random() < (this.rates[kind] ?? 0)
    if (hit) this.counts[kind]++
    return hit
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#strikes('before')) throw injected(what, 'before the store saw it')
    const out = await fn()
    if (this.#strikes('after')) throw injected(what, 'after the store applied it (the answer was lost)')
    return out
  }

  async put(key: string, body: ByteSource, mode: PutMode = 'overwrite', options?: BucketPutOptions): Promise<string | undefined> {
    const conditional = mode !== 'overwrite'
    if (conditional && this.#strikes('conflict')) return undefined
    return this.#call(`put ${key}`, async () => {
      const bytes = body instanceof Uint8Array ? body : await readAll(body)
      const first = await this.#inner.put(key, bytes, mode, options)
      if (first !== undefined && this.#strikes('retriedWrite')) return this.#inner.put(key, bytes, mode, options)
      return first
    })
  }

  get(key: string, options?: GetOptions): Promise<BucketRead | undefined> {
    return this.#call(`get ${key}`, () => this.#inner.get(key, options))
  }

  getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    return this.#call(`get ${key}`, () => this.#inner.getStream(key))
  }

  head(key: string): Promise<BucketObject | undefined> {
    return this.#call(`head ${key}`, () => this.#inner.head(key))
  }

  listPage(prefix: string, options: ListPageOptions = {}): Promise<ListPage> {
    const short = this.#strikes('shortPage') ? { maxKeys: Math.min(options.maxKeys ?? 1000, 1 + Math.floor(this.#random() * 3)) } : {}
    return this.#call(`list ${prefix}`, () => this.#inner.listPage(prefix, { ...options, ...short }))
  }

  delete(key: string): Promise<void> {
    return this.#call(`delete ${key}`, () => this.#inner.delete(key))
  }

  async close(): Promise<void> {
    await this.#inner.close?.()
  }
}

const injected = (what: string, when: string) =>
  new VarveError(ErrorCodes.UNAVAILABLE, `injected fault: ${what} failed ${when}`, { details: { injected: true } })

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of body) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}
