import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot, decodeCommit } from '../model/commit.js'
import type { Entry } from '../model/entry.js'
import { sha256Hex } from '../model/hash.js'
import { decodeTreeNode, splitStoredNode, type TreeNode, type TreeRef } from '../model/tree-node.js'
import { keys } from '../objects/keys.js'
import { checkPackedNode, type ObjectStore } from '../objects/object-store.js'
import { decodePackIndex, packFooterBytes, packIndexRange } from '../objects/pack.js'
import { mapLimit } from '../util/map-limit.js'
import { ByteBudget, RequestPool } from './request-pool.js'

/**
 * What data in flight may hold: 4 full packs. Measured at 100k files to MinIO: 64 MiB gave the speed of
 * 128 MiB (~10k files/s both ways) at 255/278 MiB peak RSS instead of 354/374.
 */
const MEMORY_BUDGET = 64 * 1024 * 1024
/** Node packs up to this size are held from their read to their write; larger ones are read twice. */
const HELD_NODE_PACK_BYTES = 1024 * 1024
const PACK_BYTES = 16 * 1024 * 1024
/** A loose object counts whole up to the 8 MiB a store holds in memory; a larger one streams, counted as half the budget so two run at once. */
const IN_MEMORY_BYTES = 8 * 1024 * 1024
const STREAMED_BYTES = 32 * 1024 * 1024

export interface TransferOptions {
  /** Data only under this prefix (a partial clone); commits and trees are always whole. */
  readonly prefix?: string
  /** No data at all (a lazy clone reads it from its origin when it is needed). */
  readonly lazy?: boolean
  /** The destination holds nothing yet (a fresh clone): nothing is looked up there first. */
  readonly fresh?: boolean
  /** Requests in flight on each side (default 64). */
  readonly width?: number
  readonly onProgress?: (progress: TransferProgress) => void
  readonly signal?: AbortSignal
}

export interface TransferProgress {
  readonly commits: number
  /** Tree-node packs and loose tree nodes copied. */
  readonly nodes: number
  /** Data objects copied (each object of a data pack counts). */
  readonly objects: number
  /** Data packs copied (each is one object on the destination). */
  readonly packs: number
  /** Bytes written to the destination. */
  readonly bytes: number
  /** Objects found already at the destination (their closure is there too). */
  readonly present: number
}

/**
 * Copies every object the given commits reach from one repository's objects to another's, by key
 * and only where missing (decision 0019). An object is written only after everything it refers to:
 * data before the node packs whose leaves name it, child packs before their parents, a commit after
 * its tree and its parents. So an object found at the destination has its whole closure there and
 * is not walked, which keeps a transfer's cost at the size of what is new, and a transfer killed at
 * any point leaves only whole objects whose closures are complete: running it again continues.
 *
 * `dst` is the destination's journaled object store (its write fence's view), so a concurrent
 * garbage collection there never takes what the transfer wrote or relied on before its refs move.
 */
export class Transfer {
  readonly #pool: RequestPool
  /**
   * Bytes held between a read and its write (a data pack, up to 16 MiB, counts whole; a loose object up
   * to the 8 MiB it is held in memory, larger ones stream): memory stays flat at any size.
   */
  readonly #memory = new ByteBudget(MEMORY_BUDGET)
  readonly #done = new Set<string>()
  readonly #running = new Map<string, Promise<void>>()
  readonly #progress = { commits: 0, nodes: 0, objects: 0, packs: 0, bytes: 0, present: 0 }
  /** Stops every request not yet sent once one copy failed (or the caller's signal fired): nothing runs on behind a failed call. */
  readonly #stop = new AbortController()
  #lastReport = 0

  constructor(
    private readonly src: ObjectStore,
    private readonly dst: ObjectStore,
    private readonly options: TransferOptions = {},
  ) {
    if (options.signal) {
      const outer = options.signal
      if (outer.aborted) this.#stop.abort(outer.reason)
      else outer.addEventListener('abort', () => this.#stop.abort(outer.reason), { once: true })
    }
    this.#pool = new RequestPool(options.width ?? 64, this.#stop.signal)
  }

  get progress(): TransferProgress {
    return { ...this.#progress }
  }

  /** Copies the commits, their history and everything they reach that the destination lacks. */
  async commits(ids: readonly string[]): Promise<TransferProgress> {
    try {
      await Promise.all(ids.map((id) => this.#commit(id)))
    } catch (err) {
      this.#stop.abort(err)
      throw err
    }
    this.options.onProgress?.(this.progress)
    return this.progress
  }

  #once(key: string, copy: () => Promise<void>): Promise<void> {
    if (this.#done.has(key)) return Promise.resolve()
    let p = this.#running.get(key)
    if (!p) {
      p = copy().then(() => {
        this.#done.add(key)
        this.#running.delete(key)
      })
      this.#running.set(key, p)
    }
    return p
  }

  /** True when the destination has `key` (and so its closure): counted, and nothing more to do. */
  async #present(key: string): Promise<boolean> {
    if (this.options.fresh) return false
    const there = await this.#pool.run(() => this.dst.relyOnStored(key))
    if (there) this.#progress.present++
    return there
  }

  async #read(key: string, what: string): Promise<Uint8Array> {
    const bytes = await this.#pool.run(() => this.src.readStored(key))
    if (bytes === undefined) throw new VarveError(ErrorCodes.NOT_FOUND, `${what} is missing from the source repository (${key})`, { details: { key } })
    return bytes
  }

  async #write(key: string, bytes: Uint8Array): Promise<void> {
    await this.#pool.run(() => this.dst.copyStored(key, bytes))
    this.#progress.bytes += bytes.byteLength
    this.#report()
  }

  #report(): void {
    const now = Date.now()
    if (now - this.#lastReport < 200) return
    this.#lastReport = now
    this.options.onProgress?.(this.progress)
  }

  #commit(id: string): Promise<void> {
    const key = keys.commit(id)
    return this.#once(key, async () => {
      if (await this.#present(key)) return
      const bytes = await this.#read(key, `commit ${id}`)
      if (sha256Hex(bytes) !== id) throw corrupt(`commit ${id}`)
      const c = decodeCommit(bytes, id)
      await Promise.all([this.#tree(commitRoot(c)), ...c.parents.map((p) => this.#commit(p))])
      await this.#write(key, bytes)
      this.#progress.commits++
    })
  }

  #tree(ref: TreeRef): Promise<void> {
    if (typeof ref !== 'string' && ref.at?.pack.id !== undefined) return this.#nodePack(ref.at.pack.id)
    return this.#looseNode(typeof ref === 'string' ? ref : ref.id)
  }

  #looseNode(id: string): Promise<void> {
    const key = keys.node(id)
    return this.#once(key, async () => {
      if (await this.#present(key)) return
      const bytes = await this.#read(key, `tree node ${id}`)
      const { content, locations } = splitStoredNode(bytes)
      if (sha256Hex(content) !== id) throw corrupt(`tree node ${id}`)
      await this.#copyAll(this.#refsOf([decodeTreeNode(content, id, locations)], undefined))
      await this.#write(key, bytes)
      this.#progress.nodes++
    })
  }

  /** A pack of tree nodes: every node in it is checked and its references copied first, not only the nodes this walk reached. */
  #nodePack(id: string): Promise<void> {
    const key = keys.pack(id)
    return this.#once(key, async () => {
      if (await this.#present(key)) return
      let bytes: Uint8Array | undefined = await this.#read(key, `pack ${id}`)
      const work = this.#refsOf(decodeNodePack(bytes, id), id)
      // A large pack is read again once what it refers to is copied, not held meanwhile: a clone of a
      // million entries would otherwise hold every node pack of its first commit (~10 × 16 MiB) at once.
      if (bytes.byteLength > HELD_NODE_PACK_BYTES) bytes = undefined
      await this.#copyAll(work)
      if (!bytes) {
        bytes = await this.#read(key, `pack ${id}`)
        packIndex(bytes, id) // the same pack: its index hashes to its id
      }
      await this.#write(key, bytes)
      this.#progress.nodes++
    })
  }

  /** What nodes refer to, as copies to run: other node packs, loose nodes, and the data their leaves name (the nodes need not stay alive). */
  #refsOf(nodes: readonly TreeNode[], inPack: string | undefined): (() => Promise<void>)[] {
    const nodePacks = new Set<string>()
    const looseNodes = new Set<string>()
    const dataPacks = new Set<string>()
    const loose = new Map<string, Entry>()
    for (const node of nodes) {
      if (node.kind === 'inner') {
        for (const c of node.children) {
          const pack = c.at?.pack.id
          if (pack === undefined) looseNodes.add(c.id)
          else if (pack !== inPack) nodePacks.add(pack)
        }
      } else if (!this.options.lazy) {
        for (const e of node.entries) {
          if (e.external !== undefined || (this.options.prefix && !e.path.startsWith(this.options.prefix))) continue
          if (e.pack !== undefined) dataPacks.add(e.pack)
          else if (!this.#done.has(e.address)) loose.set(e.address, e)
        }
      }
    }
    return [
      ...[...dataPacks].map((p) => () => this.#dataPack(p)),
      ...[...loose.values()].map((e) => () => this.#looseData(e)),
      ...[...looseNodes].map((n) => () => this.#looseNode(n)),
      ...[...nodePacks].map((p) => () => this.#nodePack(p)),
    ]
  }

  /** A bounded fan-out: a pack of 8,192 leaves may name half a million loose objects. */
  async #copyAll(work: readonly (() => Promise<void>)[]): Promise<void> {
    await mapLimit(work, 256, (w) => w())
  }

  #dataPack(id: string): Promise<void> {
    const key = keys.pack(id)
    return this.#once(key, async () => {
      if (await this.#present(key)) return
      await this.#memory.run(PACK_BYTES, async () => {
        // A lazy clone pushing elsewhere fetches what it never read from its own origin first.
        let bytes = await this.#pool.run(() => this.src.readStored(key))
        if (!bytes) {
          await this.src.fetchIfMissing({ address: id, size: 0, pack: id })
          bytes = await this.#read(key, `pack ${id}`)
        }
        const { kind, objects } = packIndex(bytes, id)
        if (kind !== 'data') throw corrupt(`pack ${id} (an entry names it as a data pack)`)
        // The objects' bytes are checked against their addresses whenever they are read, as everywhere.
        await this.#write(key, bytes)
        this.#progress.packs++
        this.#progress.objects += objects.length
      })
    })
  }

  #looseData(e: Entry): Promise<void> {
    return this.#once(e.address, async () => {
      const ref = { address: e.address, size: e.size, path: e.path }
      if (!this.options.fresh) {
        const there = await this.#pool.run(() =>
          this.dst.relyOn(ref).then(
            () => true,
            (err) => (VarveError.is(err, ErrorCodes.NOT_FOUND) ? false : Promise.reject(err)),
          ),
        )
        if (there) {
          this.#progress.present++
          return
        }
      }
      // The destination hashes what it writes; the address it gets is checked below.
      const written = await this.#memory.run(e.size <= IN_MEMORY_BYTES ? e.size : STREAMED_BYTES, () =>
        this.#pool.run(async () => this.dst.writeData(await this.src.readDataStream(ref, { unverified: true }))),
      )
      if (written.address !== e.address) throw corrupt(`data object ${e.address} (${e.path})`)
      this.#progress.objects++
      this.#progress.bytes += e.size
      this.#report()
    })
  }
}

/** Every node of a node pack, each checked against the pack's index (content against its id, locations against the trailer hash). */
function decodeNodePack(bytes: Uint8Array, id: string): TreeNode[] {
  const { kind, objects } = packIndex(bytes, id)
  if (kind !== 'nodes') throw corrupt(`pack ${id} (a tree names it as a node pack)`)
  return objects.map((o) => {
    const stored = bytes.subarray(o.offset, o.offset + o.size)
    checkPackedNode(stored, o, id)
    const { content, locations } = splitStoredNode(stored)
    return decodeTreeNode(content, o.address, locations, id)
  })
}

function packIndex(bytes: Uint8Array, id: string) {
  const { start, end } = packIndexRange(bytes.subarray(bytes.byteLength - packFooterBytes), bytes.byteLength, id)
  return decodePackIndex(bytes.subarray(start, end), id)
}

const corrupt = (what: string) =>
  new VarveError(ErrorCodes.CORRUPT_OBJECT, `${what} is corrupt in the source repository: its bytes do not match its id`, { details: { what } })
