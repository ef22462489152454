import { dropTokens, mustGetBranch, stateOf } from '../../commits/commit-staged.js'
import { newStagingToken, type RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import { assertAllowed } from '../../hooks/branch-protection.js'
import { resolveRevision } from '../../refs/resolve.js'
import { hasStagedRows, isDirty, stagingTokens } from '../../staging/branch-view.js'
import type { BranchRecord, TagRecord } from '../../stores/ref-store.js'
import { validateRefName } from '../../util/ref-names.js'
import { LOST_RACE, retryOnLostRace } from '../../util/retry.js'
import { guard, guardIterable } from '../guard.js'
import type { BranchInfo } from '../types.js'

// Branches and tags: creating, listing, deleting, and moving a branch back (reset).

export function createBranch(ctx: RepoContext, name: string, options: { from?: string; author?: string }): Promise<BranchInfo> {
  return guard('createBranch', async () => {
    validateRefName(name)
    const from = options.from ?? ctx.defaultBranch
    const head = await resolveRevision(ctx, from)
    await ctx.gates.pre({ event: 'pre-create-branch', branch: name, candidate: head })
    await ctx.refs.createBranch(
      { name, head, stagingToken: newStagingToken(ctx), sealedTokens: [] },
      {
        ref: `branch:${name}`,
        old: null,
        new: head,
        operation: 'create',
        author: options.author ?? ctx.defaultAuthor,
        at: ctx.clock.now(),
        message: `from ${from}`,
      },
    )
    return { name, head }
  })
}

export function deleteBranch(ctx: RepoContext, name: string, options: { author?: string }): Promise<void> {
  return guard('deleteBranch', async () => {
    validateRefName(name)
    if (name === ctx.defaultBranch)
      throw new VarveError(ErrorCodes.DEFAULT_BRANCH, `${name} is the default branch and cannot be deleted`, { details: { branch: name } })
    await assertAllowed(ctx.refs, name, 'deletion')
    const tokens = await retryOnLostRace(`delete ${name}`, ctx.retry, ctx.random, async () => {
      const b = await mustGetBranch(ctx, name)
      await ctx.gates.pre({ event: 'pre-delete-branch', branch: name, candidate: b.head, base: b.head })
      const ok = await ctx.refs.deleteBranch(b, {
        ref: `branch:${name}`,
        old: b.head,
        new: null,
        operation: 'delete',
        author: options.author ?? ctx.defaultAuthor,
        at: ctx.clock.now(),
      })
      return ok ? stagingTokens(b) : LOST_RACE
    })
    await dropTokens(ctx, tokens)
  })
}

export function getBranch(ctx: RepoContext, name: string): Promise<BranchInfo & { dirty: boolean }> {
  return guard('getBranch', async () => {
    validateRefName(name)
    const b = await mustGetBranch(ctx, name)
    return { name: b.name, head: b.head, dirty: await isDirty(ctx, b) }
  })
}

export function listBranches(ctx: RepoContext): AsyncIterable<BranchInfo> {
  return guardIterable('branches', async function* () {
    for await (const b of ctx.refs.listBranches()) yield { name: b.name, head: b.head }
  })
}

export function createTag(ctx: RepoContext, name: string, revision: string, options: { author?: string }): Promise<TagRecord> {
  return guard('createTag', async () => {
    validateRefName(name, 'tag')
    const commit = await resolveRevision(ctx, revision)
    await ctx.gates.pre({ event: 'pre-create-tag', branch: name, candidate: commit })
    const tag = { name, commit, createdAt: ctx.clock.now() }
    await ctx.refs.createTag(tag, {
      ref: `tag:${name}`,
      old: null,
      new: commit,
      operation: 'create',
      author: options.author ?? ctx.defaultAuthor,
      at: tag.createdAt,
    })
    return tag
  })
}

export function deleteTag(ctx: RepoContext, name: string, options: { author?: string }): Promise<void> {
  return guard('deleteTag', async () => {
    validateRefName(name, 'tag')
    const tag = await ctx.refs.getTag(name)
    if (!tag) throw new VarveError(ErrorCodes.NOT_FOUND, `tag ${name} not found`, { details: { tag: name } })
    await ctx.refs.deleteTag(name, {
      ref: `tag:${name}`,
      old: tag.commit,
      new: null,
      operation: 'delete',
      author: options.author ?? ctx.defaultAuthor,
      at: ctx.clock.now(),
    })
  })
}

export function listTags(ctx: RepoContext): AsyncIterable<TagRecord> {
  return guardIterable('tags', () => ctx.refs.listTags())
}

export function resetBranch(ctx: RepoContext, branch: string, revision: string, options: { author?: string; discardChanges?: boolean }): Promise<BranchInfo> {
  return guard('reset', async () => {
    validateRefName(branch)
    const target = await resolveRevision(ctx, revision)
    await assertAllowed(ctx.refs, branch, 'reset')
    const dropped = await retryOnLostRace(`reset ${branch}`, ctx.retry, ctx.random, async () => {
      const b: BranchRecord = await mustGetBranch(ctx, branch)
      await ctx.gates.pre({ event: 'pre-reset', branch, candidate: target, base: b.head })
      const dirty = await isDirty(ctx, b)
      if (dirty && !options.discardChanges)
        throw new VarveError(ErrorCodes.DIRTY_BRANCH, `branch ${branch} has uncommitted changes (pass discardChanges to drop them)`, {
          details: { branch },
        })
      // Rows that change nothing against the old head would hide the target's content: start afresh.
      const fresh = dirty || (await hasStagedRows(ctx, b))
      const next = fresh ? { ...stateOf(b), head: target, stagingToken: newStagingToken(ctx), sealedTokens: [] } : { ...stateOf(b), head: target }
      const ok = await ctx.refs.updateBranch(b, next, {
        ref: `branch:${branch}`,
        old: b.head,
        new: target,
        operation: 'reset',
        author: options.author ?? ctx.defaultAuthor,
        at: ctx.clock.now(),
        message: `reset to ${revision}`,
      })
      return ok ? (fresh ? stagingTokens(b) : []) : LOST_RACE
    })
    await dropTokens(ctx, dropped)
    return { name: branch, head: target }
  })
}
