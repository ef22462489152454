import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { BlockStore, ByteSource, ObjectInfo, PutOptions } from '../stores/block-store.js'
import { mapInOrder } from '../util/map-in-order.js'
import { listAll, type Bucket } from './bucket.js'

const PARALLEL = 32

/**
 * The block store of any Bucket (Azure Blob, GCS, ...): content-addressed objects and the few
 * temporary keys the engine renames. Put-if-absent is a `create` put, so two writers of one address
 * store it once. A rename is a server-side copy where the store has one, then a delete; the engine
 * avoids renaming large uploads (`renameCopies`).
 */
export class BucketBlockStore implements BlockStore {
  readonly renameCopies = true
  /** Every read is a fresh buffer from the store's response. */
  readonly ownedReads = true
  readonly bucket: Bucket
  readonly presignGet: BlockStore['presignGet']
  readonly #ownsBucket: boolean

  /** `ownsBucket`: close() closes the bucket too (default true). */
  constructor(bucket: Bucket, options: { readonly ownsBucket?: boolean } = {}) {
    this.bucket = bucket
    this.#ownsBucket = options.ownsBucket ?? true
    this.presignGet = bucket.presignGet ? (key, o) => bucket.presignGet!(key, o) : undefined
  }

  async put(key: string, data: ByteSource, options: PutOptions = {}): Promise<boolean> {
    return (await this.bucket.put(key, data, options.ifAbsent ? 'create' : 'overwrite')) !== undefined
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.bucket.get(key))?.bytes
  }

  async getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    if (end <= start) return (await this.bucket.head(key)) ? new Uint8Array(0) : undefined
    return (await this.bucket.get(key, { range: [start, end] }))?.bytes
  }

  getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    return this.bucket.getStream(key)
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const o = await this.bucket.head(key)
    return o && { key, size: o.size, lastModified: o.lastModified }
  }

  delete(key: string): Promise<void> {
    return this.bucket.delete(key)
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    if (this.bucket.deleteMany) return this.bucket.deleteMany(keys)
    for await (const _ of mapInOrder(keys, PARALLEL, (k) => this.bucket.delete(k))) void _
  }

  /** A rewrite of the same bytes (stores have no touch); kept for tools, the engine does not call it. */
  async touch(key: string): Promise<boolean> {
    const r = await this.bucket.get(key)
    if (!r) return false
    return (await this.bucket.put(key, r.bytes, { update: r.version })) !== undefined || (await this.bucket.head(key)) !== undefined
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const o of listAll(this.bucket, prefix)) yield { key: o.key, size: o.size, lastModified: o.lastModified }
  }

  async rename(from: string, to: string): Promise<void> {
    // The target is content-addressed: when it exists it holds the same bytes and is kept.
    if (!(await this.bucket.head(to))) {
      let copied: boolean
      if (this.bucket.copy) copied = await this.bucket.copy(from, to)
      else {
        const r = await this.bucket.get(from)
        copied = r !== undefined
        if (r) await this.bucket.put(to, r.bytes, 'create')
      }
      if (!copied) throw new VarveError(ErrorCodes.NOT_FOUND, `cannot rename ${this.bucket.url}${from}: it does not exist`, { details: { key: from } })
    }
    await this.bucket.delete(from)
  }

  async close(): Promise<void> {
    if (this.#ownsBucket) await this.bucket.close?.()
  }
}
