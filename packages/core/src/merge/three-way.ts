import { sameContent } from '../model/entry.js'
import type { TreeRef } from '../model/tree-node.js'
import type { Entry } from '../model/entry.js'
import type { ObjectStore } from '../objects/object-store.js'
import type { CompiledResolve } from './resolve-rules.js'
import type { TreeChange } from '../tree/apply-changes.js'
import { diffTrees, type DiffEntry } from '../tree/tree-diff.js'
import { comparePaths } from '../util/paths.js'

export type MergeStrategy = 'fail' | 'source-wins' | 'dest-wins'

export interface Conflict {
  readonly path: string
  /** What the source side did to the path since the base. */
  readonly source: DiffEntry['type']
  /** What the destination side did to the path since the base. */
  readonly dest: DiffEntry['type']
  /** The path's entry at the merge base, and on each side (absent where the side has no file). */
  readonly base?: Entry
  readonly sourceEntry?: Entry
  readonly destEntry?: Entry
}

/** A conflict a rule or the strategy settled, and how. */
export interface ResolvedConflict extends Conflict {
  readonly took: 'source' | 'dest'
  readonly by: 'rule' | 'strategy'
}

/**
 * The changes that bring `theirs`' edits (relative to `base`) onto `ours`, found by merging the two
 * diffs from the base. Both diffs skip unchanged subtrees, so the cost grows with what changed.
 * A path both sides changed to different results is a conflict; the strategy resolves it or lists it.
 */
export async function threeWayChanges(
  store: ObjectStore,
  base: TreeRef,
  theirs: TreeRef,
  ours: TreeRef,
  strategy: MergeStrategy,
  options: { resolve?: CompiledResolve; listResolved?: boolean } = {},
): Promise<{ changes: TreeChange[]; conflicts: Conflict[]; resolved: ResolvedConflict[]; resolvedCount: number }> {
  const { resolve, listResolved = false } = options
  let resolvedCount = 0
  const changes: TreeChange[] = []
  const conflicts: Conflict[] = []
  const resolved: ResolvedConflict[] = []
  const t = diffTrees(store, base, theirs)
  const o = diffTrees(store, base, ours)
  let tn = await t.next()
  let on = await o.next()
  while (!tn.done) {
    const tc = tn.value
    while (!on.done && comparePaths(on.value.path, tc.path) < 0) on = await o.next()
    const oc = !on.done && on.value.path === tc.path ? on.value : undefined
    if (!oc) changes.push({ path: tc.path, entry: tc.right ?? null })
    else if (!sameResult(tc, oc)) {
      const ruled = resolve?.sideFor(tc.path)
      const side = ruled ?? (strategy === 'source-wins' ? 'source' : strategy === 'dest-wins' ? 'dest' : undefined)
      const conflict: Conflict = {
        path: tc.path,
        source: tc.type,
        dest: oc.type,
        ...(tc.left ? { base: tc.left } : {}),
        ...(tc.right ? { sourceEntry: tc.right } : {}),
        ...(oc.right ? { destEntry: oc.right } : {}),
      }
      if (side === 'source') changes.push({ path: tc.path, entry: tc.right ?? null })
      if (side) {
        resolvedCount++
        if (listResolved) resolved.push({ ...conflict, took: side, by: ruled ? 'rule' : 'strategy' })
      } else conflicts.push(conflict)
    }
    tn = await t.next()
  }
  return { changes, conflicts, resolved, resolvedCount }
}

function sameResult(a: DiffEntry, b: DiffEntry): boolean {
  if (!a.right || !b.right) return !a.right && !b.right
  return sameContent(a.right, b.right)
}
