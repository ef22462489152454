import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { RepoContext } from '../context/repo-context.js'
import type { StagedChange } from '../stores/ref-store.js'

/**
 * Writes changes into a branch's staging area. If a commit sealed the token while we wrote, the
 * changes may have missed that commit, so they are written again into the branch's new token:
 * staged writes are never lost, at worst staged twice with the same content (a no-op for the tree).
 */
export async function stageChanges(ctx: RepoContext, branch: string, changes: readonly StagedChange[]): Promise<void> {
  for (let attempt = 0; attempt < ctx.retry.attempts; attempt++) {
    const before = await ctx.refs.getBranch(branch)
    if (!before) throw new VarveError(ErrorCodes.NOT_FOUND, `branch ${branch} not found`, { details: { branch } })
    await ctx.refs.putStaged(before.stagingToken, changes)
    const after = await ctx.refs.getBranch(branch)
    if (!after) throw new VarveError(ErrorCodes.NOT_FOUND, `branch ${branch} was deleted while writing to it`, { details: { branch } })
    if (after.stagingToken === before.stagingToken) return
  }
  throw new VarveError(ErrorCodes.CONFLICT, `staging on ${branch} kept racing with commits`, { details: { branch } })
}
