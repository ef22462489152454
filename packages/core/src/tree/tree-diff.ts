import { sameContent, type Entry } from '../model/entry.js'
import { treeId, type ChildRef, type TreeNode, type TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { comparePaths } from '../util/paths.js'

export type ChangeType = 'added' | 'removed' | 'changed'

export interface DiffEntry {
  readonly path: string
  readonly type: ChangeType
  /** The entry on the left (older) side; absent for 'added'. */
  readonly left?: Entry
  /** The entry on the right (newer) side; absent for 'removed'. */
  readonly right?: Entry
}

export interface DiffCounters {
  nodesRead: number
}

export interface DiffTreesOptions {
  /** Only paths under this prefix: runs of nodes wholly before or after it are never read. */
  readonly prefix?: string
}

/**
 * Streams the differences between two trees in path order. Both sides are walked level by level and
 * cut at boundaries they share; a run of children with equal ids on both sides is skipped unread,
 * so the cost grows with the number of changed nodes, not with the size of the trees.
 */
export async function* diffTrees(
  store: ObjectStore,
  leftRoot: TreeRef,
  rightRoot: TreeRef,
  counters: DiffCounters = { nodesRead: 0 },
  options: DiffTreesOptions = {},
): AsyncGenerator<DiffEntry> {
  if (treeId(leftRoot) === treeId(rightRoot)) return
  const prefix = options.prefix ?? ''
  let left: ChildRef[] = [asRef(leftRoot)]
  let right: ChildRef[] = [asRef(rightRoot)]
  let ll = level(await read(store, leftRoot, counters))
  let rl = level(await read(store, rightRoot, counters))
  // Open the taller side until both lists hold nodes of one level.
  // (with a prefix, only the children that can hold paths under it: an empty side against a big
  // tree must not open the whole tree)
  while (ll > rl) {
    left = within(await children(store, left, counters), prefix)
    ll--
  }
  while (rl > ll) {
    right = within(await children(store, right, counters), prefix)
    rl--
  }
  left = await realKeys(store, left, counters)
  right = await realKeys(store, right, counters)
  for await (const d of diffRuns(store, left, right, ll, counters, prefix)) {
    if (d.path.startsWith(prefix)) yield d
    else if (comparePaths(d.path, prefix) > 0) return
  }
}

const asRef = (t: TreeRef): ChildRef => (typeof t === 'string' ? { id: t, lastKey: '', count: -1 } : { ...t, lastKey: '', count: -1 })

async function read(store: ObjectStore, ref: TreeRef, counters: DiffCounters): Promise<TreeNode> {
  counters.nodesRead++
  return store.readNode(ref)
}

const level = (n: TreeNode) => (n.kind === 'leaf' ? 0 : n.level)

/** Roots come without their last key; fill it in so runs can be cut at shared boundaries. */
async function realKeys(store: ObjectStore, refs: ChildRef[], counters: DiffCounters): Promise<ChildRef[]> {
  return Promise.all(
    refs.map(async (r) => {
      if (r.count !== -1) return r
      const n = await read(store, r, counters)
      if (n.kind === 'leaf') return { ...r, lastKey: n.entries.at(-1)?.path ?? '', count: n.entries.length }
      return { ...r, lastKey: n.children.at(-1)!.lastKey, count: n.children.reduce((s, c) => s + c.count, 0) }
    }),
  )
}

/**
 * The run of sibling refs (in key order) that can hold paths under `prefix`: from the first whose last
 * key reaches the prefix, up to the first that starts after every path under it. Trimming both sides
 * of a diff alike keeps it exact under the prefix: outside it, nothing is compared.
 */
function within(refs: readonly ChildRef[], prefix: string): ChildRef[] {
  if (!prefix) return refs as ChildRef[]
  let start = 0
  while (start < refs.length && refs[start]!.count !== -1 && comparePaths(refs[start]!.lastKey, prefix) < 0) start++
  let end = start + 1
  while (end < refs.length && !isPast(refs[end - 1]!, prefix)) end++
  return refs.slice(start, Math.min(end, refs.length))
}

/** Whether every path after this ref's last key is past the prefix (a root's unknown last key is not). */
const isPast = (ref: ChildRef, prefix: string) => ref.count !== -1 && !ref.lastKey.startsWith(prefix) && comparePaths(ref.lastKey, prefix) > 0

async function children(store: ObjectStore, refs: readonly ChildRef[], counters: DiffCounters): Promise<ChildRef[]> {
  const out: ChildRef[] = []
  for (const node of await Promise.all(refs.map((r) => read(store, r, counters)))) if (node.kind === 'inner') out.push(...node.children)
  return out
}

async function entriesOf(store: ObjectStore, refs: readonly ChildRef[], counters: DiffCounters): Promise<Entry[]> {
  const out: Entry[] = []
  for (const node of await Promise.all(refs.map((r) => read(store, r, counters)))) if (node.kind === 'leaf') out.push(...node.entries)
  return out
}

async function* diffRuns(
  store: ObjectStore,
  a: readonly ChildRef[],
  b: readonly ChildRef[],
  lvl: number,
  counters: DiffCounters,
  prefix: string,
): AsyncGenerator<DiffEntry> {
  let i = 0
  let j = 0
  // Keys of a group lie in (the previous group's last key, this group's last key].
  let previousLast: string | undefined
  while (i < a.length || j < b.length) {
    const ga: ChildRef[] = []
    const gb: ChildRef[] = []
    if (i < a.length && j < b.length) {
      ga.push(a[i++]!)
      gb.push(b[j++]!)
      // Grow the shorter-reaching side until both groups end on the same key (a shared boundary).
      for (;;) {
        const cmp = comparePaths(ga.at(-1)!.lastKey, gb.at(-1)!.lastKey)
        if (cmp === 0) break
        if (cmp < 0) {
          if (i < a.length) ga.push(a[i++]!)
          else {
            while (j < b.length) gb.push(b[j++]!)
            break
          }
        } else if (j < b.length) gb.push(b[j++]!)
        else {
          while (i < a.length) ga.push(a[i++]!)
          break
        }
      }
    } else {
      while (i < a.length) ga.push(a[i++]!)
      while (j < b.length) gb.push(b[j++]!)
    }
    const lower = previousLast
    const lastA = ga.at(-1)?.lastKey
    const lastB = gb.at(-1)?.lastKey
    previousLast = lastA === undefined ? lastB : lastB === undefined || comparePaths(lastA, lastB) >= 0 ? lastA : lastB
    if (prefix) {
      if (lower !== undefined && !lower.startsWith(prefix) && comparePaths(lower, prefix) > 0) return // past the prefix
      if (comparePaths(previousLast!, prefix) < 0) continue // wholly before it
    }
    const ta = within(ga, prefix)
    const tb = within(gb, prefix)
    if (ta.length === 1 && tb.length === 1 && ta[0]!.id === tb[0]!.id) continue
    if (!ta.length && !tb.length) continue
    if (lvl === 0) yield* diffEntries(await entriesOf(store, ta, counters), await entriesOf(store, tb, counters))
    else
      yield* diffRuns(
        store,
        within(await children(store, ta, counters), prefix),
        within(await children(store, tb, counters), prefix),
        lvl - 1,
        counters,
        prefix,
      )
  }
}

function* diffEntries(a: readonly Entry[], b: readonly Entry[]): Generator<DiffEntry> {
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    const x = a[i]
    const y = b[j]
    const cmp = x === undefined ? 1 : y === undefined ? -1 : comparePaths(x.path, y.path)
    if (cmp < 0) {
      yield { path: x!.path, type: 'removed', left: x! }
      i++
    } else if (cmp > 0) {
      yield { path: y!.path, type: 'added', right: y! }
      j++
    } else {
      if (!sameContent(x!, y!)) yield { path: x!.path, type: 'changed', left: x!, right: y! }
      i++
      j++
    }
  }
}
