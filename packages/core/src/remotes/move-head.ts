import { stateOf } from '../commits/commit-staged.js'
import type { RepoContext } from '../context/repo-context.js'
import { newStagingToken } from '../context/repo-context.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { hasStagedRows, isDirty } from '../staging/branch-view.js'
import type { BranchRecord } from '../stores/ref-store.js'

/**
 * Moves a branch's head to a commit that arrived from elsewhere (a push, a pull's fast-forward) by
 * compare-and-swap; false when the branch moved meanwhile. Uncommitted changes are refused
 * (DIRTY_BRANCH: they were made against the old head); staged rows that change nothing would hide
 * the new head's content, so the branch then starts a fresh staging area, as a reset does.
 */
export async function moveHead(ctx: RepoContext, b: BranchRecord, head: string, log: { operation: string; author: string; message: string }): Promise<boolean> {
  if (await isDirty(ctx, b))
    throw new VarveError(ErrorCodes.DIRTY_BRANCH, `branch ${b.name} has uncommitted changes: commit or drop them first`, { details: { branch: b.name } })
  const fresh = await hasStagedRows(ctx, b)
  const next = fresh ? { ...stateOf(b), head, stagingToken: newStagingToken(ctx), sealedTokens: [] } : { ...stateOf(b), head }
  return ctx.refs.updateBranch(b, next, { ref: `branch:${b.name}`, old: b.head, new: head, at: ctx.clock.now(), ...log })
}
