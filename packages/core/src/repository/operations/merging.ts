import { mergeBase } from '../../commits/history.js'
import type { RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import { assertAllowed, getProtection } from '../../hooks/branch-protection.js'
import { applyThreeWayToBranch } from '../../merge/apply-to-branch.js'
import { compileResolve } from '../../merge/resolve-rules.js'
import { commitRoot, type Commit } from '../../model/commit.js'
import type { TreeRef } from '../../model/tree-node.js'
import { resolveRevision } from '../../refs/resolve.js'
import { emptyTree } from '../../tree/apply-changes.js'
import type { JsonValue } from '../../util/canonical-json.js'
import { validateRefName } from '../../util/ref-names.js'
import { guard } from '../guard.js'
import { approvalRequired } from '../merge-requests.js'
import type { ApplyCommitOptions, MergeOptions, MergeResult } from '../types.js'
import { checkPerson, checkStrategy } from './checks.js'

// Merging a revision into a branch, and replaying one commit onto a branch (revert, cherry-pick).

export function merge(ctx: RepoContext, source: string, destination: string, options: MergeOptions): Promise<MergeResult> {
  return guard('merge', async () => {
    validateRefName(destination)
    if (!options.dryRun) {
      const rules = await getProtection(ctx.refs, destination)
      if (rules?.requireMergeRequest)
        throw approvalRequired(destination, { required: rules.requiredApprovals, counted: [], stale: [], satisfied: false }, { source })
    }
    const src = await resolveRevision(ctx, source)
    return mergeCommitInto(ctx, src, source, destination, options)
  })
}

/** Merges commit `src` (named `label` in messages and hooks) into `destination`, with no approval rule. */
export async function mergeCommitInto(ctx: RepoContext, src: string, label: string, destination: string, options: MergeOptions): Promise<MergeResult> {
  validateRefName(destination)
  const strategy = checkStrategy(options.strategy)
  const resolve = compileResolve(options.resolve)
  const srcCommit = await ctx.objects.readCommit(src)
  const author = options.author ?? ctx.defaultAuthor
  const result = await applyThreeWayToBranch(
    ctx,
    destination,
    async (head) => {
      const base = await mergeBase(ctx.objects, src, head.id)
      if (base === src) return 'up-to-date'
      const baseRoot = base ? commitRoot(await ctx.objects.readCommit(base)) : await emptyTree(ctx.objects)
      return {
        baseRoot,
        theirsRoot: commitRoot(srcCommit),
        parents: (h) => [h, src],
        strategy,
        author,
        operation: 'merge',
        source: label,
        ...(options.committer !== undefined ? { committer: checkPerson(options.committer, 'committer') } : {}),
        ...(resolve ? { resolve } : {}),
        message: options.message ?? `Merge ${label} into ${destination}`,
        metadata: {
          ...(options.metadata ?? {}),
          'varve.merge.source': label,
          'varve.merge.strategy': strategy,
          ...(options.resolve ? { 'varve.merge.resolve': options.resolve.map((r) => ({ paths: r.paths, take: r.take })) as JsonValue } : {}),
        },
      }
    },
    options.dryRun ? { dryRun: true } : {},
  )
  return options.dryRun ? { ...result, dryRun: true } : result
}

export function revert(
  ctx: RepoContext,
  branch: string,
  revision: string,
  options: ApplyCommitOptions & { parent?: number; dryRun?: boolean },
): Promise<Commit | MergeResult> {
  return guard('revert', () =>
    replayOnto(ctx, branch, revision, 'revert', options, async (target) => {
      const parentId = target.parents[(options.parent ?? 1) - 1]
      if (!parentId) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `commit ${target.id.slice(0, 12)} has no parent ${options.parent ?? 1} to revert to`)
      const parent = await ctx.objects.readCommit(parentId)
      return {
        baseRoot: commitRoot(target),
        theirsRoot: commitRoot(parent),
        message: `Revert "${target.message}"`,
        metadata: { 'varve.revert.commit': target.id },
      }
    }),
  )
}

export function cherryPick(
  ctx: RepoContext,
  branch: string,
  revision: string,
  options: ApplyCommitOptions & { dryRun?: boolean },
): Promise<Commit | MergeResult> {
  return guard('cherryPick', () =>
    replayOnto(ctx, branch, revision, 'cherry-pick', options, async (target) => ({
      baseRoot: target.parents[0] ? commitRoot(await ctx.objects.readCommit(target.parents[0])) : await emptyTree(ctx.objects),
      theirsRoot: commitRoot(target),
      message: target.message,
      metadata: { 'varve.cherry-pick.commit': target.id },
    })),
  )
}

/**
 * Revert and cherry-pick: one new commit on the branch bringing the edits base -> theirs that
 * `sides` derives from the target commit, with the caller's strategy, rules, message and metadata.
 */
async function replayOnto(
  ctx: RepoContext,
  branch: string,
  revision: string,
  operation: 'revert' | 'cherry-pick',
  options: ApplyCommitOptions & { dryRun?: boolean },
  sides: (target: Commit) => Promise<{ baseRoot: TreeRef; theirsRoot: TreeRef; message: string; metadata: Record<string, JsonValue> }>,
): Promise<Commit | MergeResult> {
  validateRefName(branch)
  await assertAllowed(ctx.refs, branch, 'directCommits')
  const strategy = checkStrategy(options.strategy)
  const resolve = compileResolve(options.resolve)
  const target = await ctx.objects.readCommit(await resolveRevision(ctx, revision))
  const { baseRoot, theirsRoot, message, metadata } = await sides(target)
  const r = await applyThreeWayToBranch(
    ctx,
    branch,
    async () => ({
      baseRoot,
      theirsRoot,
      parents: (h) => [h],
      strategy,
      author: options.author ?? ctx.defaultAuthor,
      operation,
      ...(options.committer !== undefined ? { committer: checkPerson(options.committer, 'committer') } : {}),
      ...(resolve ? { resolve } : {}),
      message: options.message ?? message,
      metadata: { ...(options.metadata ?? {}), ...metadata },
    }),
    options.dryRun ? { dryRun: true } : {},
  )
  return options.dryRun ? { ...r, dryRun: true } : r.commit
}
