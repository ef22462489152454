/**
 * Bytes by key. Keys are '/'-separated ASCII (`[A-Za-z0-9._-]` segments); the engine chooses them.
 * Everything the engine stores here is immutable once written, except the temporary keys it renames.
 */
export type ByteSource = Uint8Array | AsyncIterable<Uint8Array>

export interface ObjectInfo {
  readonly key: string
  readonly size: number
  /** When the object was written, in ms since the epoch (used by garbage collection's grace period). */
  readonly lastModified: number
}

export interface PutOptions {
  /** Write only if no object has this key; returns false (and writes nothing) when one does. */
  readonly ifAbsent?: boolean
}

export interface RenameOptions {
  /** The object's size when the caller knows it (from a listing): saves a store without rename a HEAD. */
  readonly size?: number
}

export interface StreamOptions {
  readonly reuseBuffers?: boolean
}

/** One stored part of a native multipart upload. */
export interface StoredPart {
  readonly n: number
  /** The store's ETag of the part (without quotes). */
  readonly etag: string
  readonly size: number
  readonly lastModified: number
}

/**
 * A store's own multipart uploads (S3's): parts written by any process to an upload only the store
 * holds, assembled into one object at `complete`. Lets a gateway's instances share uploads
 * (docs/decisions/0014-uploads-in-the-store.md).
 */
export interface NativeMultipart {
  /** Starts an upload that will become the object `key`; returns the store's upload id. */
  create(key: string): Promise<string>
  /** Stores part `n` (1..10,000) of `size` bytes; returns its ETag. */
  uploadPart(key: string, uploadId: string, n: number, data: ByteSource, size: number): Promise<string>
  /** The parts stored so far in part order, or undefined when the store has no such upload. */
  listParts(key: string, uploadId: string): Promise<StoredPart[] | undefined>
  /** Assembles the listed parts into the object `key`. */
  complete(key: string, uploadId: string, parts: readonly { readonly n: number; readonly etag: string }[]): Promise<void>
  /** Drops the upload and its parts (an unknown upload is not an error). */
  abort(key: string, uploadId: string): Promise<void>
}

export interface BlockStore {
  /** Present on stores with their own multipart uploads (S3): see NativeMultipart. */
  readonly multipart?: NativeMultipart | undefined
  /**
   * True when `rename` copies the bytes (object stores have no rename). Large uploads then stay where
   * they were written and the content address gets a small pointer instead (docs/decisions/0004).
   */
  readonly renameCopies?: boolean
  /**
   * True when `get` and `getRange` return bytes no one else holds (a fresh buffer per call), so a
   * caller may hand them to a worker thread without copying. Absent means false: a store that
   * caches or shares its buffers must not set it (a wrapper does not inherit it).
   */
  readonly ownedReads?: boolean
  /**
   * Stores `data` under `key`. A reader never sees a partial object: after a crash the key holds
   * either nothing or all of the bytes. Returns false only for `ifAbsent` when the key existed.
   */
  put(key: string, data: ByteSource, options?: PutOptions): Promise<boolean>
  /** The whole object, or undefined when there is none. */
  get(key: string): Promise<Uint8Array | undefined>
  /**
   * Bytes [start, end) of the object (end is clamped to its size), or undefined when there is none.
   * Lets checks read a Parquet footer without reading the data pages.
   */
  getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined>
  /**
   * The object as a stream of chunks, or undefined when there is none. With `reuseBuffers` a store may
   * read into a few buffers of shared memory that it reuses: a chunk then stays valid only until two
   * more have been requested (stores that ignore the option give fresh chunks, which is also correct).
   */
  getStream(key: string, options?: StreamOptions): Promise<AsyncIterable<Uint8Array> | undefined>
  head(key: string): Promise<ObjectInfo | undefined>
  /** Removes the object; removing a missing key is not an error. */
  delete(key: string): Promise<void>
  /** Removes many objects (S3: batched requests); missing keys are not an error. */
  deleteMany?(keys: readonly string[]): Promise<void>
  /**
   * Refreshes the object's lastModified (false when it does not exist). The engine no longer relies
   * on it (writers are protected by the gc fence, decision 0006); kept for tools and compatibility.
   */
  touch(key: string): Promise<boolean>
  /** Every object whose key starts with `prefix` (a raw string prefix, not a folder), in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>
  /**
   * Gives the object at `from` the key `to` and removes `from`. If `to` already exists it is kept
   * (callers only rename onto content-addressed keys, where equal keys mean equal bytes).
   */
  rename(from: string, to: string, options?: RenameOptions): Promise<void>
  /**
   * A URL that reads the object (bytes [start, end) when `range` is given: then the request must send
   * that `Range` header) without credentials for `expiresSeconds`: a gateway redirects large reads
   * there (S3: a presigned GET). Stores that cannot hand out URLs leave it out.
   */
  readonly presignGet?: ((key: string, options: { readonly expiresSeconds: number; readonly range?: readonly [number, number] }) => Promise<string>) | undefined
  /**
   * Removes the store's own temporary files older than `olderThanMs` (left by crashed writers);
   * returns how many. Stores without such files need not implement it.
   */
  sweepTemporary?(olderThanMs: number): Promise<number>
  close?(): Promise<void>
}
