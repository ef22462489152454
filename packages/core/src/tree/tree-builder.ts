import type { Entry } from '../model/entry.js'
import type { ChildRef, TreeNode } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { boundaryModulus, pathHash } from './boundary.js'
import { NodePacker } from './node-packer.js'

interface LevelState {
  /** Items not yet closed into a node: entries on level 0, refs to level-(k-1) nodes above. */
  pending: (Entry | ChildRef)[]
  /** Items this level has received in total (a level that received none is above the root). */
  received: number
}

const MAX_WRITES_IN_FLIGHT = 16

/**
 * Builds a canonical tree from items fed in path order. Whole subtrees of an old tree can be fed as
 * one item when the levels below hold nothing pending and the subtree ends on a boundary of its
 * level: they are reused as they are, neither read nor written, which is what makes a commit cost
 * O(change). Whatever is fed, the result is the tree a from-scratch build of the same entries gives.
 */
export class TreeBuilder {
  readonly #levels: LevelState[] = []
  readonly #writes = new Set<Promise<unknown>>()
  /** Set when the repository packs tree nodes (format 2); otherwise each node is stored under its own key. */
  readonly #packer: NodePacker | undefined
  readonly #leafBits: number
  /** boundaryModulus per level, computed once: the boundary test runs for every entry fed. */
  readonly #moduli: number[] = []
  nodesWritten = 0
  nodesRead = 0

  constructor(private readonly store: ObjectStore) {
    const format = store.treeFormat
    this.#leafBits = format.leafBits
    this.#packer = format.packNodes ? new NodePacker(store) : undefined
  }

  #isBoundary(k: number, key: string): boolean {
    const m = (this.#moduli[k] ??= boundaryModulus(k, this.#leafBits))
    return pathHash(key) % m === 0
  }

  #level(k: number): LevelState {
    let st = this.#levels[k]
    if (!st) this.#levels[k] = st = { pending: [], received: 0 }
    return st
  }

  #emptyBelow(k: number): boolean {
    for (let i = 0; i <= k && i < this.#levels.length; i++) if (this.#levels[i]?.pending.length) return false
    return true
  }

  /**
   * Feeds the next entry. Returns a promise only when the entry closed a node (most entries do not),
   * so callers feeding millions of entries need not await each one: `const p = pushEntry(e); if (p) await p`.
   */
  pushEntry(entry: Entry): Promise<void> | undefined {
    return this.#push(0, entry, entry.path)
  }

  #push(k: number, item: Entry | ChildRef, key: string): Promise<void> | undefined {
    const st = this.#level(k)
    st.pending.push(item)
    st.received++
    return this.#isBoundary(k, key) ? this.#close(k) : undefined
  }

  async #close(k: number): Promise<void> {
    const st = this.#level(k)
    const ref = await this.#write(k, st.pending)
    st.pending = []
    await this.#push(k + 1, ref, ref.lastKey)
  }

  async #write(k: number, items: (Entry | ChildRef)[]): Promise<ChildRef> {
    let node: TreeNode
    let count: number
    let lastKey: string
    if (k === 0) {
      const entries = items as Entry[]
      node = { kind: 'leaf', entries }
      count = entries.length
      lastKey = entries.length ? entries[entries.length - 1]!.path : ''
    } else {
      const children = items as ChildRef[]
      node = { kind: 'inner', level: k, children }
      count = children.reduce((n, c) => n + c.count, 0)
      lastKey = children[children.length - 1]!.lastKey
    }
    this.nodesWritten++
    if (this.#packer) {
      const { id, at } = await this.#packer.add(node)
      return { lastKey, id, count, at }
    }
    const { id, written } = this.store.writeNodeDeferred(node)
    this.#writes.add(written)
    void written.finally(() => this.#writes.delete(written)).catch(() => {})
    if (this.#writes.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(this.#writes)
    return { lastKey, id, count }
  }

  /**
   * Feeds an unchanged subtree (a node at `level`). Reused whole when possible; otherwise opened and
   * its children fed one by one, recursively.
   */
  async feedNode(ref: ChildRef, level: number): Promise<void> {
    if (ref.count === 0) return
    if (this.#emptyBelow(level) && this.#isBoundary(level, ref.lastKey)) {
      await this.#push(level + 1, ref, ref.lastKey)
      return
    }
    const node = await this.store.readNode(ref)
    this.nodesRead++
    if (node.kind === 'leaf')
      for (const e of node.entries) {
        const closing = this.pushEntry(e)
        if (closing) await closing
      }
    else for (const child of node.children) await this.feedNode(child, level - 1)
  }

  /** Closes every level and returns the root (with its location when it is packed: a commit records it). */
  async finish(): Promise<ChildRef> {
    let root: ChildRef | undefined
    for (let k = 0; root === undefined; k++) {
      const st = this.#level(k)
      const isTop = !this.#levels.slice(k + 1).some((l) => l.received > 0)
      if (isTop) {
        if (k > 0 && st.pending.length === 1) root = st.pending[0] as ChildRef
        else root = await this.#write(k, st.pending)
        st.pending = []
      } else if (st.pending.length) {
        await this.#close(k)
      }
    }
    await Promise.all(this.#writes)
    await this.#packer?.finish()
    return root
  }
}
