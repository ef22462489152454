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
 * Returns the root of `rootId` with `changes` (sorted by path, one per path) applied. Only the nodes
 * on the paths to changed entries are read and rewritten; every other subtree is reused by id.
 */
export async function applyChanges(
  store: ObjectStore,
  rootId: string,
  changes: readonly TreeChange[],
): Promise<{ root: string; count: number; stats: ApplyStats }> {
  if (changes.length === 0) return { root: rootId, count: await countEntries(store, rootId), stats: { nodesRead: 1, nodesWritten: 0 } }
  const builder = new TreeBuilder(store)
  const rootNode = await store.readNode(rootId)
  const rootLevel = rootNode.kind === 'leaf' ? 0 : rootNode.level
  await walk(store, builder, { id: rootId, lastKey: '', count: -1 }, rootLevel, changes, 0, changes.length)
  const root = await builder.finish()
  return { root: root.id, count: root.count, stats: { nodesRead: builder.nodesRead, nodesWritten: builder.nodesWritten } }
}

async function walk(
  store: ObjectStore,
  builder: TreeBuilder,
  ref: ChildRef,
  level: number,
  changes: readonly TreeChange[],
  lo: number,
  hi: number,
): Promise<void> {
  if (lo === hi) return builder.feedNode(ref, level)
  const node = await store.readNode(ref.id)
  builder.nodesRead++
  if (node.kind === 'leaf') return mergeLeaf(builder, node.entries, changes, lo, hi)
  const children = node.children
  let start = lo
  for (let i = 0; i < children.length; i++) {
    const child = children[i]!
    let end = start
    if (i === children.length - 1) end = hi
    else while (end < hi && comparePaths(changes[end]!.path, child.lastKey) <= 0) end++
    await walk(store, builder, child, level - 1, changes, start, end)
    start = end
  }
}

async function mergeLeaf(
  builder: TreeBuilder,
  entries: readonly Entry[],
  changes: readonly TreeChange[],
  lo: number,
  hi: number,
): Promise<void> {
  let i = 0
  let j = lo
  while (i < entries.length || j < hi) {
    const e = entries[i]
    const c = j < hi ? changes[j]! : undefined
    const cmp = e === undefined ? 1 : c === undefined ? -1 : comparePaths(e.path, c.path)
    if (cmp < 0) {
      await builder.pushEntry(e!)
      i++
    } else {
      // Re-putting identical content keeps the committed entry (and its timestamp): no change.
      if (c!.entry !== null) await builder.pushEntry(cmp === 0 && sameContent(e!, c!.entry) ? e! : c!.entry)
      if (cmp === 0) i++
      j++
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
