import { sameContent } from '../model/entry.js'
import type { TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
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
): Promise<{ changes: TreeChange[]; conflicts: Conflict[] }> {
  const changes: TreeChange[] = []
  const conflicts: Conflict[] = []
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
      if (strategy === 'source-wins') changes.push({ path: tc.path, entry: tc.right ?? null })
      else if (strategy === 'fail') conflicts.push({ path: tc.path, source: tc.type, dest: oc.type })
    }
    tn = await t.next()
  }
  return { changes, conflicts }
}

function sameResult(a: DiffEntry, b: DiffEntry): boolean {
  if (!a.right || !b.right) return !a.right && !b.right
  return sameContent(a.right, b.right)
}
