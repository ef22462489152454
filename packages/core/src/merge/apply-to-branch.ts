import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot, type Commit } from '../model/commit.js'
import { packedRootOf, treeId, type TreeRef } from '../model/tree-node.js'
import { actorOf, authorship, dropTokens, mustGetBranch, stateOf } from '../commits/commit-staged.js'
import { newStagingToken } from '../context/repo-context.js'
import type { RepoContext } from '../context/repo-context.js'
import { hasStagedRows, isDirty, stagingTokens } from '../staging/branch-view.js'
import { applyChanges } from '../tree/apply-changes.js'
import type { JsonValue } from '../util/canonical-json.js'
import { LOST_RACE, retryOnLostRace } from '../util/retry.js'
import { validatePath } from '../util/paths.js'
import { threeWayChanges, type Conflict, type MergeStrategy, type ResolvedConflict } from './three-way.js'
import type { CompiledResolve } from './resolve-rules.js'
import type { HookRun } from '../hooks/hook-types.js'
import { conflictRowCounter, type ConflictRows } from './conflict-rows.js'

export interface ThreeWayPlan {
  /** Trees: the common base, the side whose edits are brought in. */
  readonly baseRoot: TreeRef
  readonly theirsRoot: TreeRef
  readonly parents: (head: string) => string[]
  readonly message: string
  readonly author: string
  /** Who commits on the author's behalf (see Commit.committer). */
  readonly committer?: string
  readonly metadata: Record<string, JsonValue>
  readonly strategy: MergeStrategy
  /** Per-path rules, tried before the strategy. */
  readonly resolve?: CompiledResolve
  readonly operation: 'merge' | 'revert' | 'cherry-pick'
  /** What is merged in, for the hooks' context. */
  readonly source?: string
}

export interface ApplyOptions {
  /**
   * Compute the result and run the pre-hooks, but move nothing. Conflicts are then returned, not
   * thrown, each with both sides' entries and, for Parquet, the row counts; with conflicts left no
   * commit is written and no gate runs.
   */
  readonly dryRun?: boolean
}

export interface ApplyResult {
  /** The new commit (for a dry run: as it would be; with conflicts left: the unchanged head). */
  readonly commit: Commit
  readonly upToDate: boolean
  /** Dry run only: what still conflicts. */
  readonly conflicts?: (Conflict & { rows?: ConflictRows })[]
  /** Dry run only: what the rules or the strategy settled, and which side each took. */
  readonly resolved?: (ResolvedConflict & { rows?: ConflictRows })[]
  /** Dry run only: the pre-merge (or pre-commit) gate runs, all passed (a failure throws HOOK_FAILED). */
  readonly gateRuns?: HookRun[]
}

/**
 * Brings the edits `base -> theirs` onto a clean branch as one new commit, retrying from a fresh read
 * when another writer moves the branch first. Used by merge, revert and cherry-pick.
 */
export async function applyThreeWayToBranch(
  outer: RepoContext,
  branch: string,
  plan: (head: Commit) => Promise<ThreeWayPlan | 'up-to-date'>,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  // Inside the write fence: the nodes and the commit it writes survive a concurrent GC (decision 0006).
  return outer.fence.run((objects) =>
    retryOnLostRace(`${branch}`, outer.retry, outer.random, async () => {
      const ctx = { ...outer, objects }
      const b = await mustGetBranch(ctx, branch)
      if (await isDirty(ctx, b))
        throw new VarveError(ErrorCodes.DIRTY_BRANCH, `branch ${branch} has uncommitted changes: commit or reset them first`, {
          details: { branch },
        })
      const head = await ctx.objects.readCommit(b.head)
      const p = await plan(head)
      if (p === 'up-to-date') return { commit: head, upToDate: true }
      const dryRun = options.dryRun === true
      const { changes, conflicts, resolved } = await threeWayChanges(ctx.objects, p.baseRoot, p.theirsRoot, commitRoot(head), p.strategy, {
        ...(p.resolve ? { resolve: p.resolve } : {}),
        listResolved: dryRun,
      })
      const withRowCounts = conflictRowCounter(ctx.objects)
      if (conflicts.length && dryRun)
        return { commit: head, upToDate: false, conflicts: await withRowCounts(conflicts), resolved: await withRowCounts(resolved) }
      if (conflicts.length) throw mergeConflict(branch, p.operation, conflicts, p.source)
      // Paths stored before control characters were refused (or by hand) are not copied onward.
      for (const c of changes) validatePath(c.path)
      // When the branch has not changed since the base, base + (base -> theirs) is their tree itself
      // (trees are canonical): reuse it instead of rebuilding the same nodes.
      const { root, tree } =
        treeId(p.baseRoot) === head.root && changes.length > 0
          ? { root: treeId(p.theirsRoot), tree: p.theirsRoot }
          : await applyChanges(ctx.objects, commitRoot(head), changes)
      const rootAt = packedRootOf(tree)
      const parents = p.parents(head.id)
      const generation = 1 + Math.max(...(await Promise.all(parents.map(async (id) => (await ctx.objects.readCommit(id)).generation))))
      const commit = await ctx.objects.writeCommit({
        parents,
        root,
        ...(rootAt ? { rootAt } : {}),
        message: p.message,
        ...authorship(p.author, p.committer),
        metadata: p.metadata,
        createdAt: ctx.clock.now(),
        generation,
      })
      const isMerge = p.operation === 'merge'
      const gate = { branch, candidate: commit.id, base: b.head, ...(p.source !== undefined ? { source: p.source } : {}) }
      const gateRuns = (await ctx.gates.pre({ event: isMerge ? 'pre-merge' : 'pre-commit', ...gate, ...(dryRun ? { dryRun: true } : {}) })) as HookRun[]
      if (dryRun) return { commit, upToDate: false, conflicts: [], resolved: await withRowCounts(resolved), gateRuns }
      // Staged rows equal to the old head would hide the new head's content: the move starts a fresh
      // staging area (a writer staging meanwhile notices the new token and stages again, decision 0003).
      const stale = await hasStagedRows(ctx, b)
      const next = stale ? { ...stateOf(b), head: commit.id, stagingToken: newStagingToken(ctx), sealedTokens: [] } : { ...stateOf(b), head: commit.id }
      const moved = await ctx.refs.updateBranch(b, next, {
        ref: `branch:${branch}`,
        old: b.head,
        new: commit.id,
        operation: p.operation,
        author: actorOf(commit),
        message: p.message,
        at: commit.createdAt,
      })
      if (!moved) return LOST_RACE
      if (stale) await dropTokens(ctx, stagingTokens(b))
      await ctx.gates.post({ event: isMerge ? 'post-merge' : 'post-commit', ...gate })
      return { commit, upToDate: false }
    }),
  )
}

/** VarveError MERGE_CONFLICT listing the paths (the first 5 in the message, all in `details.conflicts`). */
export function mergeConflict(branch: string, operation: string, conflicts: readonly Conflict[], source: string | undefined): VarveError {
  const shown = conflicts
    .slice(0, 5)
    .map((c) => c.path)
    .join(', ')
  const more = conflicts.length > 5 ? ` and ${conflicts.length - 5} more` : ''
  return new VarveError(
    ErrorCodes.MERGE_CONFLICT,
    `${operation} into ${branch}: ${conflicts.length} path${conflicts.length === 1 ? '' : 's'} conflict (${shown}${more})`,
    { details: { branch, operation, ...(source !== undefined ? { source } : {}), conflicts } },
  )
}
