import type { Entry } from '../model/entry.js'
import { storedBackToBack, type ChildRef, type TreeNode, type TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { comparePaths } from '../util/paths.js'

/** How many reads (each of up to LEAVES_PER_READ sibling leaves) a scan keeps ahead, so I/O overlaps decoding. */
const READ_AHEAD = 8
const NO_CACHE = { cache: false } as const

/** The entry at `path`, or undefined. Reads one node per level (cached). */
export async function getEntry(store: ObjectStore, root: TreeRef, path: string): Promise<Entry | undefined> {
  let node = await store.readNode(root)
  for (;;) {
    if (node.kind === 'leaf') {
      const i = lowerBound(node.entries, path, (e) => e.path)
      const e = node.entries[i]
      return e && e.path === path ? e : undefined
    }
    const i = lowerBound(node.children, path, (c) => c.lastKey)
    const child = node.children[i]
    if (!child) return undefined
    node = await store.readNode(child)
  }
}

/** Number of entries in the tree, from the root alone. */
export async function countEntries(store: ObjectStore, root: TreeRef): Promise<number> {
  const node = await store.readNode(root)
  return node.kind === 'leaf' ? node.entries.length : node.children.reduce((n, c) => n + c.count, 0)
}

/**
 * Streams entries in path order as batches (slices of leaves), starting at the first path >= `from`
 * (or > `from` when `exclusive`). Batches keep per-entry overhead low for million-entry listings.
 */
export async function* scanEntries(store: ObjectStore, root: TreeRef, from = '', exclusive = false): AsyncGenerator<readonly Entry[]> {
  yield* scanNode(store, root, from, exclusive)
}

async function* scanNode(store: ObjectStore, ref: TreeRef, from: string, exclusive: boolean): AsyncGenerator<readonly Entry[]> {
  const node = await store.readNode(ref)
  if (node.kind === 'leaf') {
    const i = exclusive ? upperBound(node.entries, from, (e) => e.path) : lowerBound(node.entries, from, (e) => e.path)
    if (i < node.entries.length) yield i === 0 ? node.entries : node.entries.slice(i)
    return
  }
  const children = node.children
  const first = exclusive ? upperBound(children, from, (c) => c.lastKey) : lowerBound(children, from, (c) => c.lastKey)
  if (first >= children.length) return
  yield* scanNode(store, children[first]!, from, exclusive)
  if (node.level === 1) yield* scanLeaves(store, children, first + 1)
  else for (let i = first + 1; i < children.length; i++) yield* scanNode(store, children[i]!, '', false)
}

/** Sibling leaves stored back to back are read together, up to this many per read. */
const LEAVES_PER_READ = 16

async function* scanLeaves(store: ObjectStore, leaves: readonly ChildRef[], start: number): AsyncGenerator<readonly Entry[]> {
  const inflight: Promise<TreeNode[]>[] = []
  let next = start
  // The next run of leaves one range read can fetch (a bulk-built tree stores siblings back to back).
  const readRun = () => {
    let end = next + 1
    while (end < leaves.length && end - next < LEAVES_PER_READ && storedBackToBack(leaves[end - 1]!, leaves[end]!)) end++
    const run = leaves.slice(next, end)
    next = end
    const read = store.readAdjacentNodes(run, NO_CACHE)
    read.catch(() => {}) // raised where it is awaited; one that never is (the scan failed first) must not go unhandled
    return read
  }
  while (next < leaves.length && inflight.length < READ_AHEAD) inflight.push(readRun())
  while (inflight.length) {
    const nodes = await inflight.shift()!
    if (next < leaves.length) inflight.push(readRun())
    for (const node of nodes) if (node.kind === 'leaf' && node.entries.length) yield node.entries
  }
}

/** First index whose key >= target. */
export function lowerBound<T>(items: readonly T[], target: string, key: (t: T) => string): number {
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (comparePaths(key(items[mid]!), target) < 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First index whose key > target. */
export function upperBound<T>(items: readonly T[], target: string, key: (t: T) => string): number {
  let lo = 0
  let hi = items.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (comparePaths(key(items[mid]!), target) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}
