import type { BlockStore, ByteSource, NativeMultipart, ObjectInfo, PutOptions, RenameOptions, StreamOptions } from './block-store.js'

/**
 * Passes every call to another BlockStore. Extend it to wrap a store with a cross-cutting concern
 * (counting, fault injection, caching) by overriding only the calls that concern needs.
 */
export class ForwardingBlockStore implements BlockStore {
  constructor(readonly inner: BlockStore) {}
  get renameCopies(): boolean {
    return this.inner.renameCopies === true
  }
  get multipart(): NativeMultipart | undefined {
    return this.inner.multipart
  }
  get presignGet(): BlockStore['presignGet'] {
    return this.inner.presignGet?.bind(this.inner)
  }
  put(key: string, data: ByteSource, options?: PutOptions): Promise<boolean> {
    return this.inner.put(key, data, options)
  }
  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key)
  }
  getRange(key: string, start: number, end: number): Promise<Uint8Array | undefined> {
    return this.inner.getRange(key, start, end)
  }
  getStream(key: string, options?: StreamOptions): Promise<AsyncIterable<Uint8Array> | undefined> {
    return this.inner.getStream(key, options)
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key)
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key)
  }
  touch(key: string): Promise<boolean> {
    return this.inner.touch(key)
  }
  async deleteMany(keys: readonly string[]): Promise<void> {
    if (this.inner.deleteMany) return this.inner.deleteMany(keys)
    for (const k of keys) await this.inner.delete(k)
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix)
  }
  rename(from: string, to: string, options?: RenameOptions): Promise<void> {
    return this.inner.rename(from, to, options)
  }
  async sweepTemporary(olderThanMs: number): Promise<number> {
    return (await this.inner.sweepTemporary?.(olderThanMs)) ?? 0
  }
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}
