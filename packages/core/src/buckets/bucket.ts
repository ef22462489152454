import type { ByteSource } from '../stores/block-store.js'

/**
 * How a put treats an object already at the key (the shape of arrow-rs `object_store`'s `PutMode`):
 * - `'overwrite'`: replaces whatever is there;
 * - `'create'`: writes only if no object has the key (S3/Azure `If-None-Match: *`, GCS `ifGenerationMatch=0`);
 * - `{ update: version }`: replaces the object only while its version is still `version` (S3/Azure
 *   `If-Match: <etag>`, GCS `ifGenerationMatch=<generation>`); a missing object fails the condition.
 */
export type PutMode = 'overwrite' | 'create' | { readonly update: string }

export interface BucketObject {
  /** The key relative to the bucket's prefix. */
  readonly key: string
  readonly size: number
  /** The store's version of the object (an ETag, a GCS generation): changes on every write. */
  readonly version: string
  /** When the object was last written, in ms since the epoch. */
  readonly lastModified: number
}

export interface BucketRead {
  readonly bytes: Uint8Array
  readonly version: string
}

export interface ListPageOptions {
  /** With '/', keys below the next '/' after the prefix are folded into `prefixes`. */
  readonly delimiter?: '/'
  /** The `next` of the previous page. */
  readonly token?: string
  /** At most this many entries in the page (a store may return fewer). */
  readonly maxKeys?: number
}

export interface ListPage {
  /** In key order. */
  readonly objects: readonly BucketObject[]
  /** With a delimiter: the common prefixes (relative, ending in '/'), in order. */
  readonly prefixes: readonly string[]
  /** Present when more pages follow. */
  readonly next?: string | undefined
}

export interface GetOptions {
  /** Bytes [start, end) only (end clamped to the size; a start at or past the end gives no bytes). */
  readonly range?: readonly [number, number]
  /** Read only this version: undefined when the object has another one (or none). */
  readonly ifVersion?: string
}

export interface BucketPutOptions {
  readonly contentType?: string
}

/**
 * The few operations of an object store that Varve's protocols need (decision 0020). An adapter
 * (S3, Azure Blob, GCS, ...) implements it over its SDK, under one key prefix; keys here are relative
 * to that prefix. Failures are VarveErrors (`NOT_FOUND` for a missing bucket, `PERMISSION_DENIED`,
 * `UNAVAILABLE` after the SDK's own retries); a lost precondition is not a failure but a result.
 */
export interface Bucket {
  /** The location, for messages: `s3://bucket/prefix/`, `az://account/container/prefix/`, `gs://bucket/prefix/`. */
  readonly url: string
  /**
   * Stores `body` under `key` as one object (a reader sees all of it or none; a ref-sized body goes
   * up in one request, never as a multipart upload). Returns the new version, or undefined when the
   * mode's precondition failed: an object existed (`create`), or the version differed or the object
   * was gone (`update`). A store's "conditional request conflict" (S3's 409) is such a failure too.
   */
  put(key: string, body: ByteSource, mode?: PutMode, options?: BucketPutOptions): Promise<string | undefined>
  /** The object (or a range of it) with its version, or undefined when there is none. */
  get(key: string, options?: GetOptions): Promise<BucketRead | undefined>
  /** The object as a stream of fresh chunks, or undefined when there is none. */
  getStream(key: string): Promise<AsyncIterable<Uint8Array> | undefined>
  head(key: string): Promise<BucketObject | undefined>
  /** One page of the keys starting with `prefix` (a raw string prefix), in key order. */
  listPage(prefix: string, options?: ListPageOptions): Promise<ListPage>
  /** Removes the object; a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Removes many objects in few requests where the store can; missing keys are not an error. */
  deleteMany?(keys: readonly string[]): Promise<void>
  /** A server-side copy onto `to` (overwriting); false when `from` does not exist. */
  copy?(from: string, to: string): Promise<boolean>
  /** A URL reading the object without credentials (see BlockStore.presignGet). */
  presignGet?(key: string, options: { readonly expiresSeconds: number; readonly range?: readonly [number, number] }): Promise<string>
  close?(): Promise<void>
}

/** Every object under `prefix`, page after page, in key order. */
export async function* listAll(bucket: Bucket, prefix: string): AsyncGenerator<BucketObject> {
  let token: string | undefined
  do {
    const page = await bucket.listPage(prefix, token ? { token } : {})
    yield* page.objects
    token = page.next
  } while (token)
}

/** The common prefixes one level below `prefix` (with delimiter '/'), page after page. */
export async function* listPrefixes(bucket: Bucket, prefix: string): AsyncGenerator<string> {
  let token: string | undefined
  do {
    const page = await bucket.listPage(prefix, { delimiter: '/', ...(token ? { token } : {}) })
    yield* page.prefixes
    token = page.next
  } while (token)
}

/**
 * What a read of no bytes gives (a range ending at or before its start, or starting past the end):
 * the object's version, or undefined when there is none or it has another version than `ifVersion`.
 */
export async function emptyRead(bucket: Bucket, key: string, ifVersion?: string): Promise<BucketRead | undefined> {
  const h = await bucket.head(key)
  return h && (!ifVersion || h.version === ifVersion) ? { bytes: new Uint8Array(0), version: h.version } : undefined
}
