import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot, type Commit } from '../model/commit.js'
import { packedRootOf } from '../model/tree-node.js'
import { newStagingToken, type RepoContext } from '../context/repo-context.js'
import { hasStagedChanges, mergedStaged } from '../staging/branch-view.js'
import type { BranchRecord } from '../stores/ref-store.js'
import { applyChanges } from '../tree/apply-changes.js'
import type { JsonValue } from '../util/canonical-json.js'
import { LOST_RACE, retryOnLostRace } from '../util/retry.js'

export interface CommitOptions {
  readonly message: string
  readonly author?: string
  /** Who commits on the author's behalf (recorded in the commit and as the ref log's actor); see Commit.committer. */
  readonly committer?: string
  readonly metadata?: Record<string, JsonValue>
  /** Commit even when nothing is staged (default false: NOTHING_TO_COMMIT). */
  readonly allowEmpty?: boolean
}

/**
 * Commits everything staged on a branch at this moment (docs/decisions/0003-staging.md):
 * 1. seal: atomically move the current staging token to the sealed list and open a fresh one, so
 *    writes that arrive from now on go to the next commit;
 * 2. apply the sealed changes to the head's tree (touching only changed nodes) and write the commit;
 * 3. compare-and-swap the head to the new commit and clear the sealed list, with its ref-log entry.
 * A crash between any two steps loses nothing: sealed tokens stay on the branch until a commit lands.
 */
export async function commitStaged(ctx: RepoContext, branch: string, options: CommitOptions): Promise<Commit> {
  return retryOnLostRace(`commit to ${branch}`, ctx.retry, ctx.random, async () => {
    let b = await mustGetBranch(ctx, branch)
    if (await hasStagedChanges(ctx, b.stagingToken)) {
      const sealed = { name: b.name, head: b.head, stagingToken: newStagingToken(ctx), sealedTokens: [b.stagingToken, ...b.sealedTokens] }
      if (!(await ctx.refs.updateBranch(b, sealed))) return LOST_RACE
      b = await mustGetBranch(ctx, branch)
    }
    if (b.sealedTokens.length === 0 && !options.allowEmpty)
      throw new VarveError(ErrorCodes.NOTHING_TO_COMMIT, `nothing to commit on ${branch}`, { details: { branch } })

    // Streamed from the ref store into the tree, a page at a time: a commit of a million staged
    // entries never holds them all.
    const parent = await ctx.objects.readCommit(b.head)
    const { root, tree } = await applyChanges(ctx.objects, commitRoot(parent), mergedStaged(ctx, b.sealedTokens))
    const rootAt = packedRootOf(tree)
    if (root === parent.root && !options.allowEmpty) {
      // Everything staged matched what was committed: clear it, and say so.
      if (!(await ctx.refs.updateBranch(b, { ...stateOf(b), sealedTokens: [] }))) return LOST_RACE
      await dropTokens(ctx, b.sealedTokens)
      throw new VarveError(ErrorCodes.NOTHING_TO_COMMIT, `nothing to commit on ${branch}: staged changes match the head`, {
        details: { branch },
      })
    }
    const commit = await ctx.objects.writeCommit({
      parents: [b.head],
      root,
      ...(rootAt ? { rootAt } : {}),
      message: options.message,
      ...authorship(options.author ?? ctx.defaultAuthor, options.committer),
      metadata: options.metadata ?? {},
      createdAt: ctx.clock.now(),
      generation: parent.generation + 1,
    })
    const gate = { branch, candidate: commit.id, base: b.head }
    await ctx.gates.pre({ event: 'pre-commit', ...gate }) // HOOK_FAILED: nothing moves, changes stay staged
    const moved = await ctx.refs.updateBranch(
      b,
      { ...stateOf(b), head: commit.id, sealedTokens: [] },
      { ref: `branch:${branch}`, old: b.head, new: commit.id, operation: 'commit', author: actorOf(commit), message: commit.message, at: commit.createdAt },
    )
    if (!moved) return LOST_RACE
    await dropTokens(ctx, b.sealedTokens)
    await ctx.gates.post({ event: 'post-commit', ...gate })
    return commit
  })
}

/** The author, and a committer only when someone else commits (so the usual commit is encoded as before). */
export function authorship(author: string, committer: string | undefined): { author: string; committer?: string } {
  return committer !== undefined && committer !== author ? { author, committer } : { author }
}

/** Who moved the ref: the committer when there is one. */
export const actorOf = (c: { author: string; committer?: string }): string => c.committer ?? c.author

export async function mustGetBranch(ctx: RepoContext, name: string): Promise<BranchRecord> {
  const b = await ctx.refs.getBranch(name)
  if (!b) throw new VarveError(ErrorCodes.NOT_FOUND, `branch ${name} not found`, { details: { branch: name } })
  return b
}

export const stateOf = (b: BranchRecord) => ({ name: b.name, head: b.head, stagingToken: b.stagingToken, sealedTokens: b.sealedTokens })

/** Best effort: a crash here leaves unreferenced staging rows, which GC removes. */
export async function dropTokens(ctx: RepoContext, tokens: readonly string[]): Promise<void> {
  for (const t of tokens) await ctx.refs.dropStaged(t).catch(() => {})
}
