// Over 400 lines on purpose: the one class through which every object is written and read (data,
// packs, tree nodes, commits), so caching, verification and the write fence's quarantine stay in one place.
import { isShared, OffThreadSha256 } from '../util/off-thread-sha256.js'
import { LocalFiles } from '../stores/local-files.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { decodeCommit, makeCommit, type Commit, type CommitFields } from '../model/commit.js'
import type { DataRef } from '../model/entry.js'
import { sha256Hex } from '../model/hash.js'
import {
  decodeTreeNode,
  encodeNodeLocations,
  encodeTreeNode,
  splitStoredNode,
  storedBackToBack,
  storedNodeBytes,
  type ChildRef,
  type TreeNode,
} from '../model/tree-node.js'
import type { BlockStore, StreamOptions } from '../stores/block-store.js'
import type { RandomSource } from '../util/clock.js'
import { LruCache } from '../util/lru-cache.js'
import { readHead, toChunks, type DataSource } from './byte-source.js'
import { keys } from './keys.js'
import { StoredBlob } from './stored-blob.js'
import { decodePackIndex, packFooterBytes, packIndexRange, type EncodedPack, type PackedObject } from './pack.js'
import type { WriteJournal, JournalEntry } from './write-journal.js'
import {
  importedObjectChanged,
  importedObjectMissing,
  isContentAddressed,
  type ExternalLocator,
  type ExternalSource,
  type SourceResolver,
} from '../sources/external-source.js'

/** Objects up to this size are hashed in memory and written once; larger ones stream through a temp key. */
const IN_MEMORY_LIMIT = 8 * 1024 * 1024

export interface ObjectStoreOptions {
  readonly random: RandomSource
  /** Bytes of decoded tree nodes and commits kept in memory (default 64 MiB). */
  readonly cacheBytes?: number
  /**
   * Garbage-collection epochs whose quarantine may hold objects, newest first: a read that misses
   * an object's key looks there (docs/decisions/0006-gc-quarantine.md). None when absent.
   */
  readonly quarantineEpochs?: () => Promise<readonly number[]>
  /** How trees are shaped and stored (the repository's format); default: format 1's. */
  readonly tree?: TreeFormat
  /** Opens the sources imported entries are read from (decision 0017); without it they are refused. */
  readonly sources?: SourceResolver
  /**
   * Called when a data object (or its pack) is stored nowhere here: a partial or lazy clone fetches it
   * from its origin and returns true (the read is tried again), or throws the error that explains why
   * it is not here (decision 0019). Absent: the object is reported missing.
   */
  readonly fetchMissing?: (ref: DataRef) => Promise<boolean>
}

/** How a repository's trees are built (docs/decisions/0008-node-packs.md). */
export interface TreeFormat {
  /** Leaves average 2^leafBits entries. */
  readonly leafBits: number
  /** New nodes of a tree build go into packs (the root stays under its own key). */
  readonly packNodes: boolean
}

export const FORMAT_1_TREES: TreeFormat = { leafBits: 8, packNodes: false }

/**
 * Content-addressed objects over a BlockStore: data (SHA-256 of the bytes, computed while streaming),
 * tree nodes and commits. Every read re-hashes what it got, so silent corruption is raised as
 * CORRUPT_OBJECT instead of being returned. Decoded nodes and commits are cached: they never change.
 */
export class ObjectStore {
  readonly #cache: LruCache<string, TreeNode | Commit>
  /** Blob keys of large objects on stores without rename (pointers never change). */
  readonly #blobOf: Map<string, string>
  /** Set on a view made by `journaled`: every object written or reused is recorded in it. */
  readonly #journal: WriteJournal | undefined

  constructor(
    readonly blocks: BlockStore,
    private readonly options: ObjectStoreOptions,
    shared?: { cache: LruCache<string, TreeNode | Commit>; blobOf: Map<string, string>; journal: WriteJournal },
  ) {
    this.#cache = shared?.cache ?? new LruCache(options.cacheBytes ?? 64 * 1024 * 1024)
    this.#blobOf = shared?.blobOf ?? new Map()
    this.#journal = shared?.journal
  }

  /**
   * A view of this store (same cache) that records every object an operation writes or reuses in
   * `journal`, so the operation can make sure they are all still stored once its ref moved
   * (`ensureStored`, docs/decisions/0006-gc-quarantine.md). Passed explicitly rather than through
   * AsyncLocalStorage, whose promise hooks slowed every await of the process by ~15%.
   */
  get treeFormat(): TreeFormat {
    return this.options.tree ?? FORMAT_1_TREES
  }

  journaled(journal: WriteJournal): ObjectStore {
    return new ObjectStore(this.blocks, this.options, { cache: this.#cache, blobOf: this.#blobOf, journal })
  }

  async writeData(source: DataSource): Promise<{ address: string; size: number }> {
    if (source instanceof LocalFiles) return this.#writeFiles(source)
    if (source instanceof StoredBlob) return this.#adoptBlob(source)
    const chunks = toChunks(source)
    if (chunks instanceof Uint8Array) return this.#writeSmall(chunks)
    const { head, headBytes, rest } = await readHead(chunks, IN_MEMORY_LIMIT)
    if (rest === null) return this.#writeSmall(head.length === 1 ? head[0]! : Buffer.concat(head, headBytes))
    return this.#writeLarge(head, rest)
  }

  async #writeSmall(bytes: Uint8Array): Promise<{ address: string; size: number }> {
    const address = sha256Hex(bytes)
    this.#record({ key: keys.data(address), bytes })
    await this.blocks.put(keys.data(address), bytes, { ifAbsent: true })
    return { address, size: bytes.byteLength }
  }

  async #writeLarge(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): Promise<{ address: string; size: number }> {
    const hash = new OffThreadSha256()
    let size = 0
    async function* hashed(): AsyncIterable<Uint8Array> {
      for (const chunk of head) {
        await hash.update(chunk)
        size += chunk.byteLength
        yield chunk
      }
      for (;;) {
        const { done, value } = await rest.next()
        if (done) return
        if (!(value instanceof Uint8Array)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'stream chunks must be bytes (Uint8Array/Buffer)')
        await hash.update(value)
        size += value.byteLength
        yield value
      }
    }
    return this.#land(hash, hashed(), () => size)
  }

  /** Local files, concatenated: a local store copies them on the hashing thread (LocalFiles). */
  async #writeFiles(files: LocalFiles): Promise<{ address: string; size: number }> {
    const hash = new OffThreadSha256()
    const bound = files.hashedWith(hash)
    return this.#land(hash, bound, () => bound.size)
  }

  /**
   * Uploads `bytes` (hashed into `hash` as they are consumed) to a landing key, then gives them their
   * address: renamed into place, pointed to, or dropped for the copy already stored.
   */
  async #land(hash: OffThreadSha256, bytes: AsyncIterable<Uint8Array>, sizeOf: () => number): Promise<{ address: string; size: number }> {
    const name = `${Date.now()}-${this.options.random.hex(12)}`
    // Where rename copies every byte, the upload lands at its final physical key and is pointed to.
    const landing = this.blocks.renameCopies ? keys.blob(name) : keys.temp(name)
    try {
      await this.blocks.put(landing, bytes)
    } catch (err) {
      hash.abandon()
      await this.blocks.delete(landing).catch(() => {})
      throw err
    }
    return this.#place(landing, await hash.digest(), sizeOf())
  }

  /**
   * Gives a blob already in the store (a completed native multipart upload) its content address: it is
   * hashed by reading it unless its writer hashed it on the way in, then pointed to like an upload.
   */
  async #adoptBlob(source: StoredBlob): Promise<{ address: string; size: number }> {
    const info = await this.blocks.head(source.key)
    if (!info) throw new VarveError(ErrorCodes.NOT_FOUND, `uploaded blob ${source.key} is not in the store`, { details: { key: source.key } })
    if (source.known && source.known.size === info.size) return this.#place(source.key, source.known.sha256, info.size)
    const hash = new OffThreadSha256()
    try {
      const stream = await this.blocks.getStream(source.key)
      if (!stream) throw new VarveError(ErrorCodes.NOT_FOUND, `uploaded blob ${source.key} is not in the store`, { details: { key: source.key } })
      for await (const chunk of stream) await hash.update(chunk)
    } catch (err) {
      hash.abandon()
      throw err
    }
    return this.#place(source.key, await hash.digest(), info.size)
  }

  /** Gives bytes stored at `landing` their address: renamed into place, pointed to, or dropped for the copy already stored. */
  async #place(landing: string, address: string, size: number): Promise<{ address: string; size: number }> {
    const journal = this.#journal
    let existing = await this.#storedKeyOf(address)
    // Store ours unless the content is already there. Losing the pointer race to another writer makes
    // it reused content; if that copy vanished again in between (gc), try once more.
    for (let attempt = 0; !existing && attempt < 3; attempt++) {
      if (!this.blocks.renameCopies) {
        await this.blocks.rename(landing, keys.data(address))
        journal?.record({ key: keys.data(address) })
        return { address, size }
      }
      const pointer = encodePointer(landing, size)
      if (await this.blocks.put(keys.dataPointer(address), pointer, { ifAbsent: true })) {
        journal?.record({ key: keys.dataPointer(address), bytes: pointer })
        journal?.record({ key: landing })
        return { address, size }
      }
      existing = await this.#storedKeyOf(address)
    }
    if (!existing)
      throw new VarveError(ErrorCodes.UNAVAILABLE, `object ${address} kept vanishing while it was stored; repeat the operation`, {
        details: { object: address },
      })
    if (!journal) {
      await this.blocks.delete(landing).catch(() => {})
      return { address, size }
    }
    // Reused content. Our upload stays until the operation settles, so it can stand in for the stored
    // copy if garbage collection takes that one meanwhile (decision 0006).
    journal.retain(landing)
    if (existing.pointer) journal.record({ key: keys.dataPointer(address), bytes: existing.pointer })
    journal.record({ key: existing.key, copyFrom: landing })
    return { address, size }
  }

  /**
   * Relies on data already stored, for an entry that names it without writing it (a copy): finds it,
   * moves it back if garbage collection quarantined it, and journals what it found so the write fence
   * makes sure of it again before the operation returns (decision 0006). NOT_FOUND when it is gone.
   */
  async relyOn(ref: DataRef): Promise<void> {
    // An imported object is someone else's: nothing of the repository's store to keep.
    if (ref.external !== undefined) return
    if (ref.pack !== undefined) {
      const key = keys.pack(ref.pack)
      if (!(await this.blocks.head(key)) && !(await this.#restoreFromQuarantine(key))) throw missing('pack', ref.pack, ref.path)
      this.#record({ key })
      return
    }
    let stored = await this.#storedKeyOf(ref.address)
    if (
      !stored &&
      ((await this.#restoreFromQuarantine(keys.data(ref.address))) ||
        (this.blocks.renameCopies && (await this.#restoreFromQuarantine(keys.dataPointer(ref.address)))))
    )
      stored = await this.#storedKeyOf(ref.address)
    if (stored && stored.key !== keys.data(ref.address) && !(await this.blocks.head(stored.key)) && !(await this.#restoreFromQuarantine(stored.key)))
      stored = undefined
    if (!stored) throw missing('data object', ref.address, ref.path)
    if (stored.pointer) this.#record({ key: keys.dataPointer(ref.address), bytes: stored.pointer })
    this.#record({ key: stored.key })
  }

  /**
   * The stored object and byte range holding a data object's bytes now: its own key, the blob its
   * pointer names, or its place in a pack. Undefined when it is not at its key (quarantined by gc,
   * or gone): a reader then goes through `readData*`, which also looks in the quarantine.
   */
  async locate(ref: DataRef): Promise<{ key: string; start: number; end: number } | undefined> {
    if (ref.external !== undefined) return undefined
    if (ref.pack !== undefined) {
      const key = keys.pack(ref.pack)
      return (await this.blocks.head(key)) ? { key, start: ref.offset ?? 0, end: (ref.offset ?? 0) + ref.size } : undefined
    }
    const stored = await this.#storedKeyOf(ref.address)
    if (!stored) return undefined
    if (stored.key !== keys.data(ref.address) && !(await this.blocks.head(stored.key))) return undefined
    return { key: stored.key, start: 0, end: ref.size }
  }

  /** Where the bytes of `address` are stored now (its own key, or the blob its pointer names), if anywhere. */
  async #storedKeyOf(address: string): Promise<{ key: string; pointer?: Uint8Array } | undefined> {
    if (await this.blocks.head(keys.data(address))) return { key: keys.data(address) }
    if (!this.blocks.renameCopies) return undefined
    const pointer = await this.blocks.get(keys.dataPointer(address))
    return pointer ? { key: decodePointer(pointer, address), pointer } : undefined
  }

  #record(entry: JournalEntry): void {
    this.#journal?.record(entry)
  }

  /**
   * Makes sure a journaled object is stored under its key: there already, restored from a
   * garbage-collection quarantine, or written again from the bytes the operation kept.
   */
  async ensureStored(entry: JournalEntry, journal: WriteJournal): Promise<void> {
    if (await this.blocks.head(entry.key)) return
    if (await this.#restoreFromQuarantine(entry.key)) return
    if (entry.bytes) {
      await this.blocks.put(entry.key, entry.bytes, { ifAbsent: true })
      return
    }
    if (entry.copyFrom && journal.release(entry.copyFrom)) {
      if ((await this.blocks.head(entry.copyFrom)) || (await this.#restoreFromQuarantine(entry.copyFrom))) {
        await this.blocks.rename(entry.copyFrom, entry.key)
        return
      }
    }
    throw new VarveError(
      ErrorCodes.UNAVAILABLE,
      `object ${entry.key} was collected while this operation ran (it stalled for longer than two garbage collections); repeat the operation`,
      { details: { key: entry.key } },
    )
  }

  /** Where garbage collection quarantined `key`, newest pending epoch first, if it did. */
  async #quarantinedKey(key: string): Promise<string | undefined> {
    for (const epoch of (await this.options.quarantineEpochs?.()) ?? []) {
      const q = keys.quarantine(epoch, key)
      if (await this.blocks.head(q)) return q
    }
    return undefined
  }

  /** Moves `key` back from quarantine; true when it is stored under `key` after. */
  async #restoreFromQuarantine(key: string): Promise<boolean> {
    const q = await this.#quarantinedKey(key)
    if (!q) return false
    // A concurrent restore or purge may win the race: what counts is whether `key` exists now.
    await this.blocks.rename(q, key).catch(() => {})
    return (await this.blocks.head(key)) !== undefined
  }

  /** The key an object's bytes can be read from: its own, or where garbage collection quarantined it. */
  async #readableKey(key: string): Promise<string | undefined> {
    // Looked at again after a miss in both places, as in #readOrQuarantined.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.blocks.head(key)) return key
      const q = await this.#quarantinedKey(key)
      if (q !== undefined) return q
    }
    return undefined
  }

  /** The object's bytes from its key or, when it is quarantined, from there. */
  async #getBytes(key: string): Promise<Uint8Array | undefined> {
    return this.#readOrQuarantined(key, (k) => this.blocks.get(k))
  }

  /** `read` of `key`, or, when the key holds nothing, of where garbage collection quarantined it. */
  async #readOrQuarantined<T>(key: string, read: (key: string) => Promise<T | undefined>): Promise<T | undefined> {
    // An object moving between its key and its quarantine (a writer restoring it, a collector
    // quarantining it) is in neither for the instant between the two reads: a miss in both is
    // looked at again before it counts (seen: a collector's mark failing on a pack a writer restored).
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await read(key)
      if (r !== undefined) return r
      const q = await this.#quarantinedKey(key)
      const inQuarantine = q === undefined ? undefined : await read(q)
      if (inQuarantine !== undefined) return inQuarantine
    }
    return undefined
  }

  /** The key holding an object's bytes: its content address, or the blob a pointer names (or their quarantine). */
  async #locate(address: string, path?: string): Promise<string> {
    const own = await this.#readableKey(keys.data(address))
    if (own) return own
    if (this.blocks.renameCopies) {
      const pointer = await this.#getBytes(keys.dataPointer(address))
      if (pointer) {
        const blob = await this.#readableKey(decodePointer(pointer, address))
        if (blob) return blob
      }
    }
    throw missing('data object', address, path)
  }

  async hasData(ref: DataRef): Promise<boolean> {
    if (ref.external !== undefined) {
      const state = await withPath((await this.#source(ref.external, ref.path)).check(ref.external), ref.external, ref.path)
      if (state === 'changed') throw importedObjectChanged(ref.external, ref.path)
      return state === 'ok'
    }
    if (ref.pack !== undefined) return (await this.#readableKey(keys.pack(ref.pack))) !== undefined
    try {
      await this.#locate(ref.address)
      return true
    } catch (err) {
      if (VarveError.is(err, 'NOT_FOUND')) return false
      throw err
    }
  }

  /** Asks `fetchMissing` (a partial or lazy clone's origin) for data stored nowhere here; false when nothing fetches it. */
  async fetchIfMissing(ref: DataRef): Promise<boolean> {
    return (await this.options.fetchMissing?.(ref)) ?? false
  }

  /**
   * The stored bytes under `key` (a pack, a commit, a loose tree node), from its key or its quarantine,
   * unchecked: a transfer copies them as they are and checks what it decodes (decision 0019).
   */
  async readStored(key: string): Promise<Uint8Array | undefined> {
    return this.#getBytes(key)
  }

  /**
   * True when `key` is stored under its own key here; journaled, so the write fence keeps it. A copy
   * only in a quarantine counts as absent: a transfer then copies it again with what it refers to.
   */
  async relyOnStored(key: string): Promise<boolean> {
    if (!(await this.blocks.head(key))) return false
    this.#record({ key })
    return true
  }

  /** Stores bytes copied from another repository under the same key (journaled; small ones with their bytes). */
  async copyStored(key: string, bytes: Uint8Array): Promise<void> {
    this.#record(bytes.byteLength <= 64 * 1024 ? { key, bytes } : { key })
    await this.blocks.put(key, bytes, { ifAbsent: true })
  }

  /** Stores a pack (decision 0007); its objects are then readable through entries that name it. */
  async writePack(pack: EncodedPack): Promise<void> {
    const key = keys.pack(pack.id)
    // Recorded by key only: a batch journal holding every pack's bytes would hold the whole upload.
    this.#record({ key })
    await this.blocks.put(key, pack.bytes, { ifAbsent: true })
  }

  /**
   * A pack's own index, checked against the pack id (verify --full): a damaged footer or index is
   * CORRUPT_OBJECT even where no entry's bytes are damaged; NOT_FOUND when the pack is gone. For a
   * node pack (decision 0008) every node is checked too: its content against its id, the locations
   * stored after it against the index.
   */
  async readPackIndex(id: string): Promise<PackedObject[]> {
    const info = await this.#readOrQuarantined(keys.pack(id), (k) => this.blocks.head(k))
    if (!info) throw missing('pack', id)
    const key = info.key
    const footer = await this.blocks.getRange(key, info.size - packFooterBytes, info.size)
    if (!footer) throw missing('pack', id)
    const { start, end } = packIndexRange(footer, info.size, id)
    const index = await this.blocks.getRange(key, start, end)
    if (!index) throw missing('pack', id)
    const { kind, objects } = decodePackIndex(index, id)
    if (kind === 'nodes') {
      const bytes = await this.blocks.get(key)
      if (!bytes) throw missing('pack', id)
      for (const o of objects) checkPackedNode(bytes.subarray(o.offset, o.offset + o.size), o, id)
    }
    return objects
  }

  /** The whole content, verified against its address. */
  async readData(ref: DataRef): Promise<Uint8Array> {
    if (ref.external !== undefined) {
      const bytes = await withPath((await this.#source(ref.external, ref.path)).read(ref.external), ref.external, ref.path)
      this.#checkImported(ref, ref.external, bytes.byteLength, isContentAddressed(ref.external, ref.address, ref.size) ? sha256Hex(bytes) : undefined)
      return bytes
    }
    const bytes = ref.pack !== undefined ? await this.#readPacked(ref, 0, ref.size) : await this.#readFrom(ref, (key) => this.blocks.get(key))
    if (sha256Hex(bytes) !== ref.address) throw corrupt('data object', ref.address, ref.path)
    return bytes
  }

  /** True when data reads return buffers the caller alone holds (the block store's `ownedReads`). */
  get ownedReads(): boolean {
    return this.blocks.ownedReads === true
  }

  /**
   * Bytes [start, end) of a data object. Not verified against the address (that needs every byte):
   * for footer-only checks; `verify` and full reads do verify.
   */
  async readDataRange(ref: DataRef, start: number, end: number): Promise<Uint8Array> {
    if (ref.external !== undefined) {
      const from = Math.min(Math.max(0, start), ref.size)
      const to = Math.min(Math.max(from, end), ref.size)
      if (from === to) return new Uint8Array(0)
      return withPath((await this.#source(ref.external, ref.path)).read(ref.external, { start: from, end: to }), ref.external, ref.path)
    }
    if (ref.pack !== undefined) return this.#readPacked(ref, start, end)
    return this.#readFrom(ref, (key) => this.blocks.getRange(key, start, end))
  }

  /** Bytes [start, end) of a packed object (clamped to it): one range read of its pack, or of its quarantine. */
  async #readPacked(ref: DataRef, start: number, end: number): Promise<Uint8Array> {
    const base = ref.offset ?? 0
    const from = base + Math.min(Math.max(0, start), ref.size)
    const to = base + Math.min(Math.max(start, end), ref.size)
    const read = () => this.#readOrQuarantined(keys.pack(ref.pack!), (k) => this.blocks.getRange(k, from, to))
    const bytes = (await read()) ?? ((await this.options.fetchMissing?.(ref)) ? await read() : undefined)
    if (bytes === undefined) throw missing('pack', ref.pack!, ref.path)
    return bytes
  }

  /**
   * Bytes of `address`, in the fewest requests: its own key (or, on stores without rename, the blob
   * its pointer names, remembered once seen); only a miss there looks in garbage-collection quarantine.
   */
  async #readFrom<T>(ref: DataRef, read: (key: string) => Promise<T | undefined>): Promise<T> {
    const { address, path } = ref
    const known = this.#blobOf.get(address)
    const first = await read(known ?? keys.data(address))
    if (first !== undefined) return first
    if (this.blocks.renameCopies && !known) {
      const pointer = await this.blocks.get(keys.dataPointer(address))
      if (pointer) {
        const blob = decodePointer(pointer, address)
        if (this.#blobOf.size >= 10_000) this.#blobOf.clear()
        this.#blobOf.set(address, blob)
        const r = await read(blob)
        if (r !== undefined) return r
      }
    }
    const r = await read(await this.#locateOrFetch(ref))
    if (r === undefined) throw missing('data object', address, path)
    return r
  }

  /** `#locate`, and when the object is stored nowhere here, once more after `fetchMissing` brought it. */
  async #locateOrFetch(ref: DataRef): Promise<string> {
    try {
      return await this.#locate(ref.address, ref.path)
    } catch (err) {
      if (!VarveError.is(err, ErrorCodes.NOT_FOUND) || !this.options.fetchMissing || !(await this.options.fetchMissing(ref))) throw err
      return this.#locate(ref.address, ref.path)
    }
  }

  /**
   * Streams an object; the stream fails with CORRUPT_OBJECT at its end if the bytes do not match.
   * With `reuseBuffers` the chunks may be buffers the store reuses: each stays valid only until the
   * one after next is requested (write it out before), and reading then allocates nothing per chunk.
   * `unverified`: the bytes as stored, for a caller that checks them itself (a transfer re-hashes them as it writes).
   */
  async readDataStream(ref: DataRef, options: StreamOptions & { unverified?: boolean } = {}): Promise<AsyncIterable<Uint8Array>> {
    const { address, path } = ref
    if (ref.external !== undefined) return this.#streamImported(ref, ref.external)
    const stream = ref.pack !== undefined ? [await this.#readPacked(ref, 0, ref.size)] : await this.#readFrom(ref, (key) => this.blocks.getStream(key, options))
    // A copy into another store re-hashes what it writes and checks the address there: hashing here too would halve its speed.
    if (options.unverified) return Array.isArray(stream) ? toAsync(stream) : stream
    return (async function* verified() {
      const hash = new OffThreadSha256()
      const chunks = Array.isArray(stream) ? stream.values() : stream[Symbol.asyncIterator]()
      // Shared chunks are hashed in place while the consumer writes them. A store reusing buffers
      // overwrites a chunk two reads later, so the worker must be done with it before that read.
      const hashing: Promise<void>[] = []
      let read = false
      try {
        for (;;) {
          if (hashing.length >= 2) await hashing.shift()
          const { done, value } = await chunks.next()
          if (done) break
          const hashed = hash.update(value)
          if (isShared(value)) {
            hashed.catch(() => {}) // awaited in turn below, or dropped with the stream
            hashing.push(hashed)
          } else await hashed
          yield value
        }
        await Promise.all(hashing)
        read = true
      } finally {
        if (!read) {
          hash.abandon()
          await chunks.return?.()
        }
      }
      if ((await hash.digest()) !== address) throw corrupt('data object', address, path)
    })()
  }

  /** The source an imported entry is read from; UNSUPPORTED_FORMAT where this store reads no sources. */
  async #source(at: ExternalLocator, path: string | undefined): Promise<ExternalSource> {
    if (!this.options.sources)
      throw new VarveError(ErrorCodes.UNSUPPORTED_FORMAT, `${path ?? at.key} is imported from ${at.source}, and this store reads no sources`, {
        details: { ...(path !== undefined ? { path } : {}), source: at.source },
      })
    return withPath(this.options.sources(at.source), at, path)
  }

  /** The source answered the precondition; a size or hash that still differs means it did not honour it. */
  #checkImported(ref: DataRef, at: ExternalLocator, size: number, sha256: string | undefined): void {
    if (size !== ref.size || (sha256 !== undefined && sha256 !== ref.address)) throw importedObjectChanged(at, ref.path)
  }

  /** An imported object's bytes as they stream (checked against the size, and the hash when it has one). */
  async #streamImported(ref: DataRef, at: ExternalLocator): Promise<AsyncIterable<Uint8Array>> {
    const chunks = await withPath((await this.#source(at, ref.path)).stream(at), at, ref.path)
    const hashed = isContentAddressed(at, ref.address, ref.size)
    const check = (size: number, sha256: string | undefined) => this.#checkImported(ref, at, size, sha256)
    return (async function* checked() {
      const hash = hashed ? new OffThreadSha256() : undefined
      let size = 0
      let read = false
      try {
        for await (const chunk of chunks) {
          size += chunk.byteLength
          await hash?.update(chunk)
          yield chunk
        }
        read = true
      } finally {
        if (!read) hash?.abandon()
      }
      check(size, hash ? await hash.digest() : undefined)
    })()
  }

  /** Computes the node's id now and writes it in the background; await `written` before relying on it. */
  writeNodeDeferred(node: TreeNode): { id: string; written: Promise<unknown> } {
    const content = encodeTreeNode(node)
    const id = sha256Hex(content)
    const bytes = storedNodeBytes(content, encodeNodeLocations(node, undefined))
    this.#cache.set(id, node, bytes.byteLength)
    const key = keys.node(id)
    this.#record({ key, bytes })
    return { id, written: this.blocks.put(key, bytes, { ifAbsent: true }) }
  }

  async writeNode(node: TreeNode): Promise<string> {
    const { id, written } = this.writeNodeDeferred(node)
    await written
    return id
  }

  /** Keeps a node just written to a (sealed) pack in the cache: later walks of its tree read it first. */
  rememberNode(id: string, node: TreeNode, bytes: number, pack: string, offset: number): void {
    this.#cache.set(nodeCacheKey(id, node, pack, offset), node, bytes)
  }

  /**
   * Stores `ref`'s node under its own key, its packed children named by pack id: a commit's root is
   * found by id alone. Returns the ref without a location.
   */
  async writeNodeLoose(ref: ChildRef): Promise<ChildRef> {
    const node = await this.readNode(ref)
    const bytes = storedNodeBytes(encodeTreeNode(node), encodeNodeLocations(node, undefined))
    const key = keys.node(ref.id)
    this.#record({ key, bytes })
    await this.blocks.put(key, bytes, { ifAbsent: true })
    return { lastKey: ref.lastKey, id: ref.id, count: ref.count }
  }

  /**
   * A tree node, by id (stored under its own key) or by a child ref (which may name the pack holding
   * it). `cache: false` is for sequential scans: a full listing would otherwise push every leaf
   * through the cache, evicting the inner nodes that point reads need and loading the GC.
   */
  async readNode(ref: string | ChildRef, options: { cache?: boolean } = {}): Promise<TreeNode> {
    const id = typeof ref === 'string' ? ref : ref.id
    const at = typeof ref === 'string' ? undefined : ref.at
    const hit = this.#cache.get(id) ?? (at?.pack.id !== undefined ? this.#cache.get(packedInnerKey(id, at.pack.id, at.offset)) : undefined)
    if (hit !== undefined) return hit as TreeNode
    if (at !== undefined) return (await this.#readPackedRun([ref as ChildRef], options.cache !== false))[0]!
    const bytes = await this.#getBytes(keys.node(id))
    if (bytes === undefined) throw missing('tree node', id)
    return this.#decodeNode(bytes, id, undefined, 0, options.cache !== false)
  }

  #decodeNode(bytes: Uint8Array, id: string, pack: string | undefined, offset: number, cache: boolean): TreeNode {
    const { content, locations } = splitStoredNode(bytes)
    if (sha256Hex(content) !== id) throw corrupt('tree node', id)
    const node = decodeTreeNode(content, id, locations, pack)
    if (cache) this.#cache.set(pack === undefined ? id : nodeCacheKey(id, node, pack, offset), node, bytes.byteLength)
    return node
  }

  /**
   * Nodes stored back to back in one pack (each ref's range starts where the previous one ends), in
   * one range read: a listing reads a run of sibling leaves this way. Any other list is read node by node.
   */
  async readAdjacentNodes(refs: readonly ChildRef[], options: { cache?: boolean } = {}): Promise<TreeNode[]> {
    const adjacent = refs.length > 1 && refs[0]!.at?.pack.id !== undefined && refs.every((r, i) => i === 0 || storedBackToBack(refs[i - 1]!, r))
    if (!adjacent) return Promise.all(refs.map((r) => this.readNode(r, options)))
    return this.#readPackedRun(refs, options.cache !== false)
  }

  /** Packed nodes stored back to back (one node, or a run): one range read of their pack, each node checked. */
  async #readPackedRun(refs: readonly ChildRef[], cache: boolean): Promise<TreeNode[]> {
    const first = refs[0]!.at!
    const last = refs[refs.length - 1]!.at!
    const pack = first.pack.id
    if (pack === undefined) throw new Error(`tree node ${refs[0]!.id} is in a pack that is still being written`)
    const bytes = await this.#readOrQuarantined(keys.pack(pack), (k) => this.blocks.getRange(k, first.offset, last.offset + last.size))
    if (bytes === undefined) throw missing('pack', pack, undefined, `holding tree node ${refs[0]!.id}`, { node: refs[0]!.id })
    return refs.map((r) => {
      const start = r.at!.offset - first.offset
      return this.#decodeNode(bytes.subarray(start, start + r.at!.size), r.id, pack, r.at!.offset, cache)
    })
  }

  async writeCommit(fields: CommitFields): Promise<Commit> {
    const { commit, bytes } = makeCommit(fields)
    this.#record({ key: keys.commit(commit.id), bytes })
    await this.blocks.put(keys.commit(commit.id), bytes, { ifAbsent: true })
    this.#cache.set(commit.id, commit, bytes.byteLength)
    return commit
  }

  async readCommit(id: string): Promise<Commit> {
    const hit = this.#cache.get(id)
    if (hit !== undefined) return hit as Commit
    const bytes = await this.#getBytes(keys.commit(id))
    if (bytes === undefined) throw missing('commit', id)
    if (sha256Hex(bytes) !== id) throw corrupt('commit', id)
    const commit = decodeCommit(bytes, id)
    this.#cache.set(id, commit, bytes.byteLength)
    return commit
  }

  async hasCommit(id: string): Promise<boolean> {
    return this.#cache.get(id) !== undefined || (await this.#readableKey(keys.commit(id))) !== undefined
  }

  /** Ids of stored commits that start with `hexPrefix` (at least 2 hex digits). */
  async *commitIdsWithPrefix(hexPrefix: string): AsyncIterable<string> {
    for await (const info of this.blocks.list(keys.commitPrefix(hexPrefix))) yield info.key.slice(info.key.lastIndexOf('/') + 1)
  }
}

/**
 * Where a node is cached. A leaf decodes the same wherever it is stored: by id. A packed inner node
 * carries its children's locations, which differ between copies of one id in different packs, and a
 * copy's pack may be collected while another copy lives on: by id and location, so a cached copy
 * never sends a read to another copy's (possibly collected) packs.
 */
function nodeCacheKey(id: string, node: TreeNode, pack: string, offset: number): string {
  return node.kind === 'leaf' ? id : packedInnerKey(id, pack, offset)
}

const packedInnerKey = (id: string, pack: string, offset: number) => `${id}@${pack}:${offset}`

/** A node as a node pack stores it: its content hashes to its id, what follows to the index's trailer hash. */
export function checkPackedNode(stored: Uint8Array, o: PackedObject, pack: string): void {
  const { content, locations } = splitStoredNode(stored)
  const trailer = locations === undefined ? undefined : sha256Hex(stored.subarray(content.byteLength))
  if (stored.byteLength !== o.size || sha256Hex(content) !== o.address || trailer !== o.trailer)
    throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `pack ${pack} is corrupt: tree node ${o.address} does not match the pack index`, {
      details: { pack, object: o.address },
    })
}

const POINTER_TAG = 'varve/blob-pointer:v1'

function encodePointer(key: string, size: number): Uint8Array {
  return Buffer.from(JSON.stringify({ t: POINTER_TAG, key, size }))
}

function decodePointer(bytes: Uint8Array, address: string): string {
  try {
    const p = JSON.parse(Buffer.from(bytes).toString('utf8')) as { t?: string; key?: string }
    if (p.t === POINTER_TAG && typeof p.key === 'string') return p.key
  } catch {
    /* fall through */
  }
  throw corrupt('blob pointer', address)
}

function missing(kind: string, id: string, path?: string, what = '', more: Record<string, string> = {}) {
  return new VarveError(ErrorCodes.NOT_FOUND, `${kind} ${id}${path ? ` (${path})` : ''}${what ? ` ${what}` : ''} is missing from the block store`, {
    details: { object: id, ...(path ? { path } : {}), ...more },
  })
}

function corrupt(kind: string, id: string, path?: string) {
  return new VarveError(ErrorCodes.CORRUPT_OBJECT, `${kind} ${id}${path ? ` (${path})` : ''} is corrupt: its bytes no longer hash to its address`, {
    details: { object: id, ...(path ? { path } : {}) },
  })
}

/** A source's refusal, said with the entry's path (the source knows only its key). */
async function withPath<T>(p: Promise<T>, at: ExternalLocator, path: string | undefined): Promise<T> {
  try {
    return await p
  } catch (err) {
    if (path === undefined) throw err
    if (VarveError.is(err, ErrorCodes.IMPORTED_OBJECT_CHANGED)) throw importedObjectChanged(at, path)
    if (VarveError.is(err, ErrorCodes.NOT_FOUND) && (err as VarveError).details.source === at.source) throw importedObjectMissing(at, path)
    throw err
  }
}

async function* toAsync(chunks: readonly Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* chunks
}
