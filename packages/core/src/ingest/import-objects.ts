import { actorOf, authorship, mustGetBranch, stateOf } from '../commits/commit-staged.js'
import type { RepoContext } from '../context/repo-context.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot } from '../model/commit.js'
import type { TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { isDirty } from '../staging/branch-view.js'
import { stageChanges } from '../staging/stage-changes.js'
import type { StagedChange } from '../stores/ref-store.js'
import { LOST_RACE, retryOnLostRace } from '../util/retry.js'
import type { ImportOptions, ImportSummary } from './import-options.js'
import { planImport } from './import-plan.js'
import { ImportStats, importChanges, isPageEnd } from './import-changes.js'
import { applyInChunks, dropCheckpoint } from './import-checkpoint.js'

export type { ImportOptions, ImportSummary } from './import-options.js'

/** Imports a source's objects into a branch without copying them (decision 0017). */
export async function importObjects(ctx: RepoContext, branch: string, options: ImportOptions): Promise<ImportSummary> {
  const progress = { listed: 0 }
  try {
    return await importWith(ctx, branch, options, progress)
  } catch (err) {
    if (!options.signal?.aborted || VarveError.is(err, ErrorCodes.NOTHING_TO_COMMIT)) throw err
    throw new VarveError(
      ErrorCodes.UNAVAILABLE,
      `import into ${branch} interrupted after ${progress.listed} objects listed; run it again to continue from its last checkpoint`,
      { details: { branch, interrupted: true, listed: progress.listed }, cause: err },
    )
  }
}

async function importWith(ctx: RepoContext, branch: string, options: ImportOptions, progress: { listed: number }): Promise<ImportSummary> {
  const started = performance.now()
  const mode = options.mode ?? 'merge'
  if (mode !== 'merge' && mode !== 'replace') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `mode is merge or replace, not ${JSON.stringify(mode)}`)
  const dryRun = options.dryRun === true
  const commit = options.commit !== false
  await mustGetBranch(ctx, branch)
  const plan = await planImport(ctx, options)
  const stats = new ImportStats()
  Object.defineProperty(progress, 'listed', { get: () => stats.listed })
  const changesOf = (root: TreeRef, objects: ObjectStore, after?: string) => importChanges(objects, root, plan, mode, options, stats, after)
  const done = (extra: Partial<ImportSummary> = {}): ImportSummary => ({
    ...stats.summary(),
    dryRun,
    copied: options.copy === true && !dryRun,
    seconds: (performance.now() - started) / 1000,
    ...extra,
  })

  if (dryRun || !commit) {
    const b = await mustGetBranch(ctx, branch)
    const root = commitRoot(await ctx.objects.readCommit(b.head))
    let batch: StagedChange[] = []
    for await (const c of changesOf(root, ctx.objects)) {
      if (dryRun || isPageEnd(c)) continue
      batch.push(c)
      if (batch.length >= 10_000) {
        await stageChanges(ctx, branch, batch)
        batch = []
      }
    }
    if (batch.length) await stageChanges(ctx, branch, batch)
    return done(dryRun ? {} : { staged: true })
  }

  let resumedAfter: string | undefined
  // Inside the write fence: the nodes and the commit it writes survive a concurrent GC (decision 0006).
  const made = await ctx.fence.run((objects) =>
    retryOnLostRace(`import into ${branch}`, ctx.retry, ctx.random, async () => {
      stats.reset()
      const fenced = { ...ctx, objects }
      const b = await mustGetBranch(fenced, branch)
      if (await isDirty(fenced, b))
        throw new VarveError(ErrorCodes.DIRTY_BRANCH, `branch ${branch} has uncommitted changes: commit or reset them first, or import with commit: false`, {
          details: { branch },
        })
      const head = await objects.readCommit(b.head)
      const built = await applyInChunks(fenced, branch, head, options, plan, mode, stats, changesOf, (after) => (resumedAfter = after))
      if (built === 'stale-checkpoint') {
        resumedAfter = undefined
        return LOST_RACE
      }
      const { root, rootAt } = built
      if (root === head.root) {
        await dropCheckpoint(ctx, branch)
        return undefined
      }
      const made = await objects.writeCommit({
        parents: [b.head],
        root,
        ...(rootAt ? { rootAt } : {}),
        message: options.message ?? `Import ${options.source}${options.prefix ?? ''} into ${plan.dest || '/'}`,
        ...authorship(options.author ?? ctx.defaultAuthor, options.committer),
        metadata: { ...(options.metadata ?? {}), import: { source: options.source, mode, ...(options.copy ? { copy: true } : {}), ...stats.counts() } },
        createdAt: ctx.clock.now(),
        generation: head.generation + 1,
      })
      const gate = { branch, candidate: made.id, base: b.head }
      await ctx.gates.pre({ event: 'pre-commit', ...gate })
      const moved = await ctx.refs.updateBranch(
        b,
        { ...stateOf(b), head: made.id },
        { ref: `branch:${branch}`, old: b.head, new: made.id, operation: 'import', author: actorOf(made), message: made.message, at: made.createdAt },
      )
      if (!moved) return LOST_RACE
      await dropCheckpoint(ctx, branch)
      await ctx.gates.post({ event: 'post-commit', ...gate })
      return made
    }),
  )
  if (!made)
    throw new VarveError(ErrorCodes.NOTHING_TO_COMMIT, `nothing to commit on ${branch}: ${options.source} holds what the branch has`, {
      details: { branch, ...done() },
    })
  return done({ commit: made, ...(resumedAfter !== undefined ? { resumedAfter } : {}) })
}
