import { ErrorCodes, VarveError } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import { keys } from '../objects/keys.js'
import { StoredBlob } from '../objects/stored-blob.js'
import type { BlockStore, NativeMultipart, StoredPart } from '../stores/block-store.js'
import type { Clock, RandomSource } from '../util/clock.js'
import { PartHasher } from './part-hasher.js'

/** A multipart upload kept in the repository's store, readable by every process that opens it. */
export interface UploadRecord {
  readonly id: string
  readonly branch: string
  readonly path: string
  /** Who started it (a gateway writes the access key): counts uploads per key, checks who may go on. */
  readonly owner?: string
  readonly metadata?: Record<string, string>
  readonly contentType?: string
  readonly initiated: number
}

/** What the store records beside an upload: where its parts go. */
interface StoredRecord extends UploadRecord {
  readonly t: typeof RECORD_TAG
  readonly blob: string
  readonly storeUpload: string
}

export interface CreateUploadOptions {
  readonly owner?: string
  readonly metadata?: Record<string, string>
  readonly contentType?: string
}

export interface UploadsContext {
  readonly blocks: BlockStore
  readonly clock: Clock
  readonly random: RandomSource
  /** The checks a put makes before it reads any data (branch, path, metadata, protection). */
  readonly precheck: (branch: string, path: string, options: CreateUploadOptions) => Promise<void>
  /** Stages the completed upload's blob as `path` on `branch`. */
  readonly put: (branch: string, path: string, blob: StoredBlob, options: CreateUploadOptions) => Promise<Entry>
}

const RECORD_TAG = 'varve/upload:v1'
const ID = /^[0-9a-f]{32}$/
const MIN_PART = 5 * 1024 * 1024
const MAX_PART = 5 * 1024 ** 3
/** A part of unknown length is held in memory to learn it (stores want a length up front). */
const UNSIZED_PART_LIMIT = 64 * 1024 * 1024

const recordKey = (id: string) => `uploads/${id}.json`
const noSuchUpload = (id: string) =>
  new VarveError(ErrorCodes.NOT_FOUND, `no multipart upload ${id} (it may have been completed, aborted or expired)`, { details: { upload: id } })

/**
 * Multipart uploads whose parts live in the repository's store, in the store's own multipart upload
 * (S3's), with a small record beside it: any process that opens the repository (a gateway instance
 * behind a load balancer) can take a part, list parts, complete or abort (docs/decisions/0014).
 * Available where the block store has `multipart` (`supported`).
 */
export class Uploads {
  readonly #hashers = new Map<string, PartHasher>()

  constructor(private readonly ctx: UploadsContext) {}

  get supported(): boolean {
    return this.ctx.blocks.multipart !== undefined
  }

  #native(): NativeMultipart {
    const m = this.ctx.blocks.multipart
    if (!m) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, "this repository's store has no multipart uploads of its own (S3 has): upload with put")
    return m
  }

  async create(branch: string, path: string, options: CreateUploadOptions = {}): Promise<UploadRecord> {
    const native = this.#native()
    await this.ctx.precheck(branch, path, options)
    const id = this.ctx.random.hex(16)
    const blob = keys.blob(`${this.ctx.clock.now()}-${this.ctx.random.hex(12)}`)
    const storeUpload = await native.create(blob)
    const record: StoredRecord = {
      t: RECORD_TAG,
      id,
      branch,
      path,
      initiated: this.ctx.clock.now(),
      blob,
      storeUpload,
      ...(options.owner !== undefined ? { owner: options.owner } : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...(options.contentType ? { contentType: options.contentType } : {}),
    }
    await this.ctx.blocks.put(recordKey(id), new TextEncoder().encode(JSON.stringify(record)), { ifAbsent: true })
    return publicRecord(record)
  }

  async get(id: string): Promise<UploadRecord> {
    return publicRecord(await this.#record(id))
  }

  async #record(id: string): Promise<StoredRecord> {
    if (!ID.test(id)) throw noSuchUpload(id)
    const bytes = await this.ctx.blocks.get(recordKey(id))
    if (!bytes) throw noSuchUpload(id)
    const r = JSON.parse(new TextDecoder().decode(bytes)) as StoredRecord
    if (r.t !== RECORD_TAG || r.id !== id) throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `upload record ${id} is damaged`, { details: { upload: id } })
    return r
  }

  /**
   * Stores part n (1..10,000). `size` is its length when known (then a body of another length fails);
   * a part of unknown length is read into memory first (at most 64 MiB). Returns the part's ETag.
   */
  async uploadPart(id: string, n: number, data: AsyncIterable<Uint8Array> | Uint8Array, size?: number): Promise<{ etag: string; size: number }> {
    if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a part number is an integer from 1 to 10000')
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0 || size > MAX_PART))
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a part holds at most ${MAX_PART} bytes`)
    const record = await this.#record(id)
    const native = this.#native()
    if (size === undefined) {
      const held: Uint8Array[] = []
      let read = 0
      for await (const c of data instanceof Uint8Array ? [data] : data) {
        read += c.byteLength
        if (read > UNSIZED_PART_LIMIT)
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `a part of unknown length may hold at most ${UNSIZED_PART_LIMIT} bytes: send its length`)
        held.push(c)
      }
      data = Buffer.concat(held)
      size = read
    }
    const length = size
    // The part's bytes, kept for the in-order hash (PartHasher) as they pass to the store.
    const chunks: Uint8Array[] = []
    async function* counted(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
      let seen = 0
      for await (const c of source) {
        seen += c.byteLength
        if (seen > length) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `the part holds more bytes than its length (${length})`)
        chunks.push(c)
        yield c
      }
      if (seen !== length) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `the part holds ${seen} bytes, its length is ${length}`)
    }
    if (data instanceof Uint8Array) {
      if (data.byteLength !== length) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `the part holds ${data.byteLength} bytes, its length is ${length}`)
      chunks.push(data)
    }
    const etag = await native.uploadPart(record.blob, record.storeUpload, n, data instanceof Uint8Array ? data : counted(data), length)
    this.#hasher(id).stored(n, etag, chunks, size)
    return { etag, size }
  }

  #hasher(id: string): PartHasher {
    let h = this.#hashers.get(id)
    if (!h || h.dead) {
      const now = Date.now()
      for (const [k, other] of this.#hashers) if (other.dead || other.idle(now)) other.drop(), this.#hashers.delete(k)
      this.#hashers.set(id, (h = new PartHasher()))
    }
    return h
  }

  /** The parts stored so far, in part order. */
  async parts(id: string): Promise<StoredPart[]> {
    const record = await this.#record(id)
    const parts = await this.#native().listParts(record.blob, record.storeUpload)
    if (!parts) throw noSuchUpload(id)
    return parts
  }

  /**
   * Assembles the listed parts (ascending, each as last uploaded: its ETag) and stages the object like
   * a put; then the upload is gone. Completing again after the store assembled the object but before
   * it was staged (a crash, a failed gate) stages it without the parts.
   */
  async complete(id: string, parts: readonly { n: number; etag: string }[]): Promise<Entry> {
    const record = await this.#record(id)
    const native = this.#native()
    if (!parts.length) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'a multipart upload completes with at least one part')
    for (let i = 1; i < parts.length; i++)
      if (parts[i]!.n <= parts[i - 1]!.n)
        throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'the parts of a multipart upload are listed in ascending order', { details: { reason: 'order' } })
    const stored = await native.listParts(record.blob, record.storeUpload)
    let known: { sha256: string; size: number } | undefined
    if (stored) {
      const byNumber = new Map(stored.map((p) => [p.n, p]))
      parts.forEach((p, i) => {
        const s = byNumber.get(p.n)
        if (!s || s.etag !== p.etag.replace(/"/g, ''))
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `part ${p.n} was not uploaded, or its ETag does not match`, {
            details: { reason: 'part', part: p.n },
          })
        if (i < parts.length - 1 && s.size < MIN_PART)
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `part ${p.n} holds ${s.size} bytes: every part but the last holds at least 5 MiB`, {
            details: { reason: 'too-small', part: p.n },
          })
      })
      const listed = parts.map((p) => ({ n: p.n, etag: p.etag.replace(/"/g, '') }))
      known = (await this.#hashers.get(id)?.result(listed)) ?? undefined
      this.#hashers.delete(id)
      await native.complete(record.blob, record.storeUpload, listed)
    } else if (!(await this.ctx.blocks.head(record.blob))) throw noSuchUpload(id)
    const entry = await this.ctx.put(record.branch, record.path, new StoredBlob(record.blob, known), optionsOf(record))
    await this.ctx.blocks.delete(recordKey(id))
    return entry
  }

  async abort(id: string): Promise<void> {
    const record = await this.#record(id)
    this.#hashers.get(id)?.drop()
    this.#hashers.delete(id)
    await this.#native().abort(record.blob, record.storeUpload)
    await this.ctx.blocks.delete(recordKey(id))
  }

  /** Every upload in progress (one read per upload). */
  async *list(): AsyncIterable<UploadRecord> {
    for await (const r of this.#records()) yield publicRecord(r)
  }

  async *#records(): AsyncIterable<StoredRecord> {
    for await (const o of this.ctx.blocks.list('uploads/')) {
      const m = /^uploads\/([0-9a-f]{32})\.json$/.exec(o.key)
      if (!m) continue
      const r = await this.#record(m[1]!).catch((e) => (VarveError.is(e, ErrorCodes.NOT_FOUND) ? undefined : Promise.reject(e)))
      if (r) yield r
    }
  }

  /**
   * Aborts uploads with no part stored for `olderThanMs` (S3's AbortIncompleteMultipartUpload): an
   * abandoned upload otherwise holds its parts in the store forever. Returns the ids aborted.
   */
  async expire(olderThanMs: number): Promise<string[]> {
    if (!this.supported) return []
    const now = this.ctx.clock.now()
    const aborted: string[] = []
    for await (const record of this.#records()) {
      if (now - record.initiated < olderThanMs) continue
      const parts = (await this.#native().listParts(record.blob, record.storeUpload)) ?? []
      const last = Math.max(record.initiated, ...parts.map((p) => p.lastModified))
      if (now - last < olderThanMs) continue
      await this.abort(record.id).catch((e) => (VarveError.is(e, ErrorCodes.NOT_FOUND) ? undefined : Promise.reject(e)))
      aborted.push(record.id)
    }
    return aborted
  }
}

function publicRecord(r: StoredRecord): UploadRecord {
  const { t: _t, blob: _b, storeUpload: _s, ...rest } = r
  return rest
}

function optionsOf(r: UploadRecord): CreateUploadOptions {
  return { ...(r.metadata ? { metadata: r.metadata } : {}), ...(r.contentType ? { contentType: r.contentType } : {}) }
}
