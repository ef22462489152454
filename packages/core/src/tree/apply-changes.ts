import { sameContent, type Entry } from '../model/entry.js'
import type { ChildRef } from '../model/tree-node.js'
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

  /** The next change if its path is within `upper` (undefined: no bound); call `fill` first when `needsFill`. */
  within(upper: string | undefined): TreeChange | undefined {
    const c = this.#buffer[this.#i]
    return c !== undefined && (upper === undefined || comparePaths(c.path, upper) <= 0) ? c : undefined
  }
}

/**
 * Returns the root of `rootId` with `changes` (sorted by path, one per path) applied. Only the nodes
 * on the paths to changed entries are read and rewritten; every other subtree is reused by id. The
 * changes are read forward once, so they may be a stream.
 */
export async function applyChanges(
  store: ObjectStore,
  rootId: string,
  changes: readonly TreeChange[] | AsyncIterable<TreeChange>,
): Promise<{ root: string; count: number; stats: ApplyStats }> {
  const cursor = new ChangeCursor(changes)
  await cursor.fill()
  if (cursor.within(undefined) === undefined)
    return { root: rootId, count: await countEntries(store, rootId), stats: { nodesRead: 1, nodesWritten: 0 } }
  const builder = new TreeBuilder(store)
  const rootNode = await store.readNode(rootId)
  const rootLevel = rootNode.kind === 'leaf' ? 0 : rootNode.level
  await walk(store, builder, { id: rootId, lastKey: '', count: -1 }, rootLevel, cursor, undefined)
  const root = await builder.finish()
  return { root: root.id, count: root.count, stats: { nodesRead: builder.nodesRead, nodesWritten: builder.nodesWritten } }
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
): Promise<void> {
  if (cursor.needsFill) await cursor.fill()
  if (cursor.within(upper) === undefined) return builder.feedNode(ref, level)
  const node = await store.readNode(ref.id)
  builder.nodesRead++
  if (node.kind === 'leaf') return mergeLeaf(builder, node.entries, cursor, upper)
  const children = node.children
  for (let i = 0; i < children.length; i++) {
    const child = children[i]!
    await walk(store, builder, child, level - 1, cursor, i === children.length - 1 ? upper : child.lastKey)
  }
}

async function mergeLeaf(builder: TreeBuilder, entries: readonly Entry[], cursor: ChangeCursor, upper: string | undefined): Promise<void> {
  let i = 0
  for (;;) {
    const e = entries[i]
    if (cursor.needsFill) await cursor.fill()
    const c = cursor.within(upper)
    if (e === undefined && c === undefined) return
    const cmp = e === undefined ? 1 : c === undefined ? -1 : comparePaths(e.path, c.path)
    if (cmp < 0) {
      await builder.pushEntry(e!)
      i++
    } else {
      // Re-putting identical content keeps the committed entry (and its timestamp): no change.
      if (c!.entry !== null) await builder.pushEntry(cmp === 0 && sameContent(e!, c!.entry) ? e! : c!.entry)
      if (cmp === 0) i++
      cursor.advance()
    }
  }
}

/** Builds a tree from entries already in path order (an import, or a test fixture). */
export async function buildTree(store: ObjectStore, entries: Iterable<Entry> | AsyncIterable<Entry>): Promise<ChildRef> {
  const builder = new TreeBuilder(store)
  for await (const e of entries) await builder.pushEntry(e)
  return builder.finish()
}

export async function emptyTree(store: ObjectStore): Promise<string> {
  return store.writeNode({ kind: 'leaf', entries: [] })
}
