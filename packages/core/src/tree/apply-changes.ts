import { sameContent, type Entry } from '../model/entry.js'
import { storedBackToBack, treeId, type ChildRef, type TreeNode, type TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { comparePaths } from '../util/paths.js'
import { TreeBuilder } from './tree-builder.js'
import { countEntries } from './tree-reader.js'

/** A put (entry) or delete (null) of one path. */
export interface TreeChange {
  readonly path: string
  readonly entry: Entry | null
}

export interface ApplyStats {
  readonly nodesRead: number
  readonly nodesWritten: number
}

/**
 * Changes in path order, read forward only: an array, or a stream (a commit's staged changes, read
 * from the ref store a page at a time, so a commit of a million staged entries never holds them all).
 */
export class ChangeCursor {
  #buffer: readonly TreeChange[]
  #i = 0
  readonly #source: AsyncIterator<TreeChange> | undefined
  #ended: boolean

  constructor(changes: readonly TreeChange[] | AsyncIterable<TreeChange>) {
    if (Array.isArray(changes)) {
      this.#buffer = changes
      this.#ended = true
      this.#source = undefined
    } else {
      this.#buffer = []
      this.#ended = false
      this.#source = (changes as AsyncIterable<TreeChange>)[Symbol.asyncIterator]()
    }
  }

  /** True when `fill` must be awaited before `peek` can answer. */
  get needsFill(): boolean {
    return this.#i >= this.#buffer.length && !this.#ended
  }

  async fill(): Promise<void> {
    if (!this.needsFill) return
    const next: TreeChange[] = []
    while (next.length < 1024) {
      const r = await this.#source!.next()
      if (r.done) {
        this.#ended = true
        break
      }
      next.push(r.value)
    }
    this.#buffer = next
    this.#i = 0
  }

  advance(): void {
    this.#i++
  }

  /** The changes read but not yet consumed, in order (for read-ahead: they are not consumed by this). */
  *buffered(): Generator<TreeChange> {
    for (let i = this.#i; i < this.#buffer.length; i++) yield this.#buffer[i]!
  }

  /** The next change if its path is within `upper` (undefined: no bound); call `fill` first when `needsFill`. */
  within(upper: string | undefined): TreeChange | undefined {
    const c = this.#buffer[this.#i]
    return c !== undefined && (upper === undefined || comparePaths(c.path, upper) <= 0) ? c : undefined
  }
}

/**
 * Returns the root of `root` with `changes` (sorted by path, one per path) applied. Only the nodes
 * on the paths to changed entries are read and rewritten; every other subtree is reused by id. The
 * changes are read forward once, so they may be a stream. `tree` is the new root as a commit records
 * it (its location when packed); `root` is its id.
 */
export async function applyChanges(
  store: ObjectStore,
  root: TreeRef,
  changes: readonly TreeChange[] | AsyncIterable<TreeChange>,
): Promise<{ root: string; tree: TreeRef; count: number; stats: ApplyStats }> {
  const cursor = new ChangeCursor(changes)
  await cursor.fill()
  if (cursor.within(undefined) === undefined)
    return { root: treeId(root), tree: root, count: await countEntries(store, root), stats: { nodesRead: 1, nodesWritten: 0 } }
  const builder = new TreeBuilder(store)
  const rootNode = await store.readNode(root)
  const rootLevel = rootNode.kind === 'leaf' ? 0 : rootNode.level
  const start: ChildRef = typeof root === 'string' ? { id: root, lastKey: '', count: -1 } : root
  await walk(store, builder, start, rootLevel, cursor, undefined)
  const built = await builder.finish()
  return { root: built.id, tree: built, count: built.count, stats: { nodesRead: builder.nodesRead, nodesWritten: builder.nodesWritten } }
}

/**
 * Applies the changes up to `upper` (undefined: all that are left) to the subtree `ref`: a subtree
 * with none is reused whole; a leaf is merged with them; an inner node hands each child the changes
 * up to its last key (the last child gets the rest up to `upper`).
 */
async function walk(
  store: ObjectStore,
  builder: TreeBuilder,
  ref: ChildRef,
  level: number,
  cursor: ChangeCursor,
  upper: string | undefined,
  read?: Promise<TreeNode>,
): Promise<void> {
  if (cursor.needsFill) await cursor.fill()
  if (cursor.within(upper) === undefined) return builder.feedNode(ref, level)
  const node = await (read ?? store.readNode(ref))
  builder.nodesRead++
  if (node.kind === 'leaf') return mergeLeaf(builder, node.entries, cursor, upper)
  const children = node.children
  const ahead = readTouched(store, children, cursor, upper)
  for (let i = 0; i < children.length; i++) {
    const child = children[i]!
    await walk(store, builder, child, level - 1, cursor, i === children.length - 1 ? upper : child.lastKey, ahead.get(i))
  }
}

/**
 * Starts reading, all at once, the children that buffered changes fall into: scattered changes
 * would otherwise wait for one cold node read after another. Only nodes the walk will read anyway.
 * Touched siblings stored back to back (a rewritten partition's leaves) come in one range read: on
 * S3 that is one request instead of one per leaf.
 */
function readTouched(store: ObjectStore, children: readonly ChildRef[], cursor: ChangeCursor, upper: string | undefined): Map<number, Promise<TreeNode>> {
  const touched: number[] = []
  let j = 0
  for (const c of cursor.buffered()) {
    if (upper !== undefined && comparePaths(c.path, upper) > 0) break
    while (j < children.length - 1 && comparePaths(children[j]!.lastKey, c.path) < 0) j++
    if (touched.at(-1) !== j) touched.push(j)
  }
  const reads = new Map<number, Promise<TreeNode>>()
  for (let k = 0; k < touched.length; ) {
    let end = k + 1
    while (end < touched.length && touched[end] === touched[end - 1]! + 1 && storedBackToBack(children[touched[end - 1]!]!, children[touched[end]!]!)) end++
    const run = touched.slice(k, end)
    const nodes = store.readAdjacentNodes(run.map((i) => children[i]!))
    nodes.catch(() => {}) // awaited (and its error raised) by the walk, or not needed
    run.forEach((i, n) =>
      reads.set(
        i,
        nodes.then((all) => all[n]!),
      ),
    )
    k = end
  }
  for (const read of reads.values()) read.catch(() => {})
  return reads
}

/**
 * Feeds a leaf's entries with the changes that fall in it applied. The entries before each change
 * are found by binary search and fed as they are: a scattered change costs O(log n) comparisons
 * in its leaf, not two per entry.
 */
async function mergeLeaf(builder: TreeBuilder, entries: readonly Entry[], cursor: ChangeCursor, upper: string | undefined): Promise<void> {
  let i = 0
  let closing: Promise<void> | undefined
  for (;;) {
    if (cursor.needsFill) await cursor.fill()
    const c = cursor.within(upper)
    if (c === undefined) break
    const at = lowerBoundFrom(entries, i, c.path)
    for (; i < at; i++) if ((closing = builder.pushEntry(entries[i]!))) await closing
    const e = entries[i]
    const same = e !== undefined && e.path === c.path
    // Re-putting identical content keeps the committed entry (and its timestamp): no change.
    if (c.entry !== null && (closing = builder.pushEntry(same && sameContent(e, c.entry) ? e : c.entry))) await closing
    if (same) i++
    cursor.advance()
  }
  for (; i < entries.length; i++) if ((closing = builder.pushEntry(entries[i]!))) await closing
}

/** First index >= from whose path is >= target. */
function lowerBoundFrom(entries: readonly Entry[], from: number, target: string): number {
  let lo = from
  let hi = entries.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (comparePaths(entries[mid]!.path, target) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Builds a tree from entries already in path order (an import, or a test fixture). */
export async function buildTree(store: ObjectStore, entries: Iterable<Entry> | AsyncIterable<Entry>): Promise<ChildRef> {
  const builder = new TreeBuilder(store)
  for await (const e of entries) {
    const closing = builder.pushEntry(e)
    if (closing) await closing
  }
  return builder.finish()
}

export async function emptyTree(store: ObjectStore): Promise<string> {
  return store.writeNode({ kind: 'leaf', entries: [] })
}
