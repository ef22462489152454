import { commitRoot, type Commit } from '../model/commit.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'
import { diffTrees, type DiffEntry } from '../tree/tree-diff.js'
import { scanEntries } from '../tree/tree-reader.js'
import { walkHistory, type LogOptions } from './history.js'

/**
 * What a commit changed under a prefix, against its first parent (a root commit: everything it
 * holds there). The diff is cut to the prefix and skips runs of equal nodes, so a commit costs the
 * nodes it changed under the prefix, never a walk of the whole tree.
 */
export async function* changesUnder(store: ObjectStore, commit: Commit, prefix: string): AsyncGenerator<DiffEntry> {
  const parent = commit.parents[0]
  if (parent !== undefined) {
    yield* diffTrees(store, commitRoot(await store.readCommit(parent)), commitRoot(commit), undefined, { prefix })
    return
  }
  for await (const batch of scanEntries(store, commitRoot(commit), prefix))
    for (const e of batch) {
      if (!e.path.startsWith(prefix)) return
      yield { path: e.path, type: 'added', right: e }
    }
}

/** Commits of `start`'s history that changed anything under `prefix`, newest first. */
export async function* historyOfPrefix(store: ObjectStore, start: string, prefix: string, options: LogOptions = {}): AsyncGenerator<Commit> {
  let left = options.limit ?? Infinity
  if (left <= 0) return
  for await (const c of walkHistory(store, start, { ...(options.firstParent ? { firstParent: true } : {}) })) {
    const changes = changesUnder(store, c, prefix)
    const touched = !(await changes.next()).done
    await changes.return(undefined)
    if (!touched) continue
    yield c
    if (--left <= 0) return
  }
}

export interface BlameLine {
  readonly path: string
  /** The commit that last changed the path (on the first-parent line of history). */
  readonly commit: Commit
  /** The entry as it is at the blamed revision. */
  readonly entry: Entry
}

/**
 * For each path under `prefix` at `start`, the newest first-parent commit that changed it. Streams a
 * line as soon as a path is settled (newest commits first) and stops walking once every path is.
 */
export async function* blamePrefix(store: ObjectStore, start: string, prefix: string): AsyncGenerator<BlameLine> {
  const head = await store.readCommit(start)
  const open = new Map<string, Entry>()
  scan: for await (const batch of scanEntries(store, commitRoot(head), prefix))
    for (const e of batch) {
      if (!e.path.startsWith(prefix)) break scan
      open.set(e.path, e)
    }
  if (!open.size) return
  for await (const c of walkHistory(store, start, { firstParent: true })) {
    for await (const d of changesUnder(store, c, prefix)) {
      const entry = open.get(d.path)
      if (entry === undefined) continue
      open.delete(d.path)
      yield { path: d.path, commit: c, entry }
    }
    if (!open.size) return
  }
}
