import { createHash } from 'node:crypto'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { decodeCommit, makeCommit, type Commit, type CommitFields } from '../model/commit.js'
import { sha256Hex } from '../model/hash.js'
import { decodeTreeNode, encodeTreeNode, type TreeNode } from '../model/tree-node.js'
import type { BlockStore } from '../stores/block-store.js'
import type { RandomSource } from '../util/clock.js'
import { LruCache } from '../util/lru-cache.js'
import { readHead, toChunks, type DataSource } from './byte-source.js'
import { keys } from './keys.js'

/** Objects up to this size are hashed in memory and written once; larger ones stream through a temp key. */
const IN_MEMORY_LIMIT = 8 * 1024 * 1024

export interface ObjectStoreOptions {
  readonly random: RandomSource
  /** Bytes of decoded tree nodes and commits kept in memory (default 64 MiB). */
  readonly cacheBytes?: number
}

/**
 * Content-addressed objects over a BlockStore: data (SHA-256 of the bytes, computed while streaming),
 * tree nodes and commits. Every read re-hashes what it got, so silent corruption is raised as
 * CORRUPT_OBJECT instead of being returned. Decoded nodes and commits are cached: they never change.
 */
export class ObjectStore {
  readonly #cache: LruCache<string, TreeNode | Commit>

  constructor(readonly blocks: BlockStore, private readonly options: ObjectStoreOptions) {
    this.#cache = new LruCache(options.cacheBytes ?? 64 * 1024 * 1024)
  }

  async writeData(source: DataSource): Promise<{ address: string; size: number }> {
    const chunks = toChunks(source)
    if (chunks instanceof Uint8Array) return this.#writeSmall(chunks)
    const { head, headBytes, rest } = await readHead(chunks, IN_MEMORY_LIMIT)
    if (rest === null) return this.#writeSmall(head.length === 1 ? head[0]! : Buffer.concat(head, headBytes))
    return this.#writeLarge(head, rest)
  }

  async #writeSmall(bytes: Uint8Array): Promise<{ address: string; size: number }> {
    const address = sha256Hex(bytes)
    // Reused content is touched, so a concurrent GC's grace period protects it until it is committed.
    if (!(await this.blocks.put(keys.data(address), bytes, { ifAbsent: true }))) await this.blocks.touch(keys.data(address))
    return { address, size: bytes.byteLength }
  }

  async #writeLarge(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): Promise<{ address: string; size: number }> {
    const hash = createHash('sha256')
    let size = 0
    async function* hashed(): AsyncIterable<Uint8Array> {
      for (const chunk of head) {
        hash.update(chunk)
        size += chunk.byteLength
        yield chunk
      }
      for (;;) {
        const { done, value } = await rest.next()
        if (done) return
        if (!(value instanceof Uint8Array))
          throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'stream chunks must be bytes (Uint8Array/Buffer)')
        hash.update(value)
        size += value.byteLength
        yield value
      }
    }
    const name = `${Date.now()}-${this.options.random.hex(12)}`
    // Where rename copies every byte, the upload lands at its final physical key and is pointed to.
    const landing = this.blocks.renameCopies ? keys.blob(name) : keys.temp(name)
    try {
      await this.blocks.put(landing, hashed())
    } catch (err) {
      await this.blocks.delete(landing).catch(() => {})
      throw err
    }
    const address = hash.digest('hex')
    if (await this.#touchData(address)) await this.blocks.delete(landing)
    else if (!this.blocks.renameCopies) await this.blocks.rename(landing, keys.data(address))
    else if (!(await this.blocks.put(keys.dataPointer(address), encodePointer(landing, size), { ifAbsent: true })))
      await this.blocks.delete(landing) // another writer stored the same content first
    return { address, size }
  }

  /** The key holding an object's bytes: its content address, or the blob a pointer names. */
  async #locate(address: string, path?: string): Promise<string> {
    if (!this.blocks.renameCopies) return keys.data(address)
    if (await this.blocks.head(keys.data(address))) return keys.data(address)
    const pointer = await this.blocks.get(keys.dataPointer(address))
    if (!pointer) throw missing('data object', address, path)
    return decodePointer(pointer, address)
  }

  /** Refreshes an existing object's (and its blob's) lastModified; false when the content is new. */
  async #touchData(address: string): Promise<boolean> {
    if (await this.blocks.touch(keys.data(address))) return true
    if (!this.blocks.renameCopies) return false
    const pointer = await this.blocks.get(keys.dataPointer(address))
    if (!pointer) return false
    await this.blocks.touch(decodePointer(pointer, address))
    return this.blocks.touch(keys.dataPointer(address))
  }

  async hasData(address: string): Promise<boolean> {
    if ((await this.blocks.head(keys.data(address))) !== undefined) return true
    return !!this.blocks.renameCopies && (await this.blocks.head(keys.dataPointer(address))) !== undefined
  }

  async readData(address: string, path?: string): Promise<Uint8Array> {
    let bytes = await this.blocks.get(keys.data(address))
    if (bytes === undefined && this.blocks.renameCopies) bytes = await this.blocks.get(await this.#locate(address, path))
    if (bytes === undefined) throw missing('data object', address, path)
    if (sha256Hex(bytes) !== address) throw corrupt('data object', address, path)
    return bytes
  }

  /**
   * Bytes [start, end) of a data object. Not verified against the address (that needs every byte):
   * for footer-only checks; `verify` and full reads do verify.
   */
  async readDataRange(address: string, start: number, end: number, path?: string): Promise<Uint8Array> {
    const bytes = await this.blocks.getRange(await this.#locate(address, path), start, end)
    if (bytes === undefined) throw missing('data object', address, path)
    return bytes
  }

  /** Streams an object; the stream fails with CORRUPT_OBJECT at its end if the bytes do not match. */
  async readDataStream(address: string, path?: string): Promise<AsyncIterable<Uint8Array>> {
    const stream = await this.blocks.getStream(await this.#locate(address, path))
    if (stream === undefined) throw missing('data object', address, path)
    return (async function* verified() {
      const hash = createHash('sha256')
      for await (const chunk of stream) {
        hash.update(chunk)
        yield chunk
      }
      if (hash.digest('hex') !== address) throw corrupt('data object', address, path)
    })()
  }

  /** Computes the node's id now and writes it in the background; await `written` before relying on it. */
  writeNodeDeferred(node: TreeNode): { id: string; written: Promise<unknown> } {
    const bytes = encodeTreeNode(node)
    const id = sha256Hex(bytes)
    this.#cache.set(id, node, bytes.byteLength)
    const key = keys.node(id)
    return { id, written: this.blocks.put(key, bytes, { ifAbsent: true }).then((created) => created || this.blocks.touch(key)) }
  }

  async writeNode(node: TreeNode): Promise<string> {
    const { id, written } = this.writeNodeDeferred(node)
    await written
    return id
  }

  /**
   * A tree node by id. `cache: false` is for sequential scans: a full listing would otherwise push every
   * leaf through the cache, evicting the inner nodes that point reads need and loading the GC.
   */
  async readNode(id: string, options: { cache?: boolean } = {}): Promise<TreeNode> {
    const hit = this.#cache.get(id)
    if (hit !== undefined) return hit as TreeNode
    const bytes = await this.blocks.get(keys.node(id))
    if (bytes === undefined) throw missing('tree node', id)
    if (sha256Hex(bytes) !== id) throw corrupt('tree node', id)
    const node = decodeTreeNode(bytes, id)
    if (options.cache !== false) this.#cache.set(id, node, bytes.byteLength)
    return node
  }

  async writeCommit(fields: CommitFields): Promise<Commit> {
    const { commit, bytes } = makeCommit(fields)
    if (!(await this.blocks.put(keys.commit(commit.id), bytes, { ifAbsent: true }))) await this.blocks.touch(keys.commit(commit.id))
    this.#cache.set(commit.id, commit, bytes.byteLength)
    return commit
  }

  async readCommit(id: string): Promise<Commit> {
    const hit = this.#cache.get(id)
    if (hit !== undefined) return hit as Commit
    const bytes = await this.blocks.get(keys.commit(id))
    if (bytes === undefined) throw missing('commit', id)
    if (sha256Hex(bytes) !== id) throw corrupt('commit', id)
    const commit = decodeCommit(bytes, id)
    this.#cache.set(id, commit, bytes.byteLength)
    return commit
  }

  async hasCommit(id: string): Promise<boolean> {
    return this.#cache.get(id) !== undefined || (await this.blocks.head(keys.commit(id))) !== undefined
  }

  /** Ids of stored commits that start with `hexPrefix` (at least 2 hex digits). */
  async *commitIdsWithPrefix(hexPrefix: string): AsyncIterable<string> {
    for await (const info of this.blocks.list(keys.commitPrefix(hexPrefix))) yield info.key.slice(info.key.lastIndexOf('/') + 1)
  }
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

function missing(kind: string, id: string, path?: string) {
  return new VarveError(ErrorCodes.NOT_FOUND, `${kind} ${id}${path ? ` (${path})` : ''} is missing from the block store`, {
    details: { object: id, ...(path ? { path } : {}) },
  })
}

function corrupt(kind: string, id: string, path?: string) {
  return new VarveError(
    ErrorCodes.CORRUPT_OBJECT,
    `${kind} ${id}${path ? ` (${path})` : ''} is corrupt: its bytes no longer hash to its address`,
    { details: { object: id, ...(path ? { path } : {}) } },
  )
}
