import type { RepoContext } from '../context/repo-context.js'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { commitRoot, type Commit, type PackedRoot } from '../model/commit.js'
import { packedRootOf, type TreeRef } from '../model/tree-node.js'
import type { ObjectStore } from '../objects/object-store.js'
import { applyChanges, type TreeChange } from '../tree/apply-changes.js'
import type { ImportOptions } from './import-options.js'
import type { Plan } from './import-plan.js'
import { isPageEnd, type ImportStats, type PageEnd } from './import-changes.js'

// Checkpoints: an import applies its changes a slice at a time and records the tree so far, so a crash or Ctrl-C loses at most a slice.

/** Listed objects between checkpoints: an interrupted import continues from the last one. */
const CHECKPOINT_EVERY = 100_000
const checkpointKey = (branch: string) => `import-checkpoint/${branch}`

interface Checkpoint {
  readonly source: string
  readonly prefix: string
  readonly inventory: string
  readonly dest: string
  readonly mode: string
  readonly hash: boolean
  readonly copy: boolean
  /** The branch head the import started from. */
  readonly head: string
  /** The tree so far: the head's with every change up to `lastKey` applied. */
  readonly root: string
  readonly rootAt?: PackedRoot
  readonly lastKey: string
  readonly stats: ReturnType<ImportStats['summary']>
}

/**
 * Applies the import's changes to the head's tree a slice at a time (a slice ends at a listed page
 * after CHECKPOINT_EVERY objects), recording after each the tree so far and the last key in a
 * checkpoint setting. Started again over the same head with the same source, destination and mode,
 * it continues after that key on that tree: the trees are canonical, so the result is the tree an
 * uninterrupted import builds. A checkpoint whose nodes are gone (collected) is dropped.
 */
export async function applyInChunks(
  ctx: RepoContext,
  branch: string,
  head: Commit,
  options: ImportOptions,
  plan: Plan,
  mode: string,
  stats: ImportStats,
  changesOf: (root: TreeRef, objects: ObjectStore, after?: string) => AsyncGenerator<TreeChange | PageEnd>,
  onResume: (after: string) => void,
): Promise<{ root: string; rootAt?: PackedRoot } | 'stale-checkpoint'> {
  const every = options.checkpointEvery ?? CHECKPOINT_EVERY
  if (!Number.isSafeInteger(every) || every < 1) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'checkpointEvery must be a whole number of objects')
  const same = {
    source: options.source,
    prefix: options.prefix ?? '',
    inventory: options.inventory ?? '',
    dest: plan.dest,
    mode,
    hash: options.hash === true,
    copy: options.copy === true,
    head: head.id,
  }
  let at: { root: string; rootAt?: PackedRoot } = { root: head.root, ...(head.rootAt ? { rootAt: head.rootAt } : {}) }
  let after: string | undefined
  const saved = await readCheckpoint(ctx, branch)
  if (saved && Object.entries(same).every(([k, v]) => saved[k as keyof Checkpoint] === v)) {
    const resumed = { root: saved.root, ...(saved.rootAt ? { rootAt: saved.rootAt } : {}) }
    if (
      await ctx.objects.readNode(commitRoot(resumed)).then(
        () => true,
        () => false,
      )
    ) {
      at = resumed
      after = saved.lastKey
      onResume(after)
      Object.assign(stats, saved.stats, { skippedExamples: [...saved.stats.skippedExamples] })
    }
  }
  const changes = changesOf(commitRoot(head), ctx.objects, after)
  let finished = false
  const resumed = after !== undefined
  try {
    while (!finished) {
      let lastKey: string | undefined
      const listedAtStart = stats.listed
      // One slice of the shared change stream: up to the first page end past CHECKPOINT_EVERY objects.
      const slice = async function* (): AsyncGenerator<TreeChange> {
        for (;;) {
          const r = await changes.next()
          if (r.done) {
            finished = true
            return
          }
          if (!isPageEnd(r.value)) {
            yield r.value
            continue
          }
          lastKey = r.value.pageEnd
          if (stats.listed - listedAtStart >= every) return
        }
      }
      const before = at.root
      const { root, tree } = await applyChanges(ctx.objects, commitRoot(at), slice())
      const rootAt = packedRootOf(tree)
      at = { root, ...(rootAt ? { rootAt } : {}) }
      // A slice that changed nothing moves no checkpoint: an unchanged re-import writes nothing at all
      // (run again after a crash, it re-lists from the last slice that changed something).
      if (!finished && lastKey !== undefined && root !== before) {
        const checkpoint: Checkpoint = { ...same, ...at, lastKey, stats: stats.summary() }
        await ctx.refs.setSetting(checkpointKey(branch), JSON.stringify(checkpoint))
      }
    }
  } catch (err) {
    // The checkpoint's tree lost nodes to gc (its grace period passed): start over from the head.
    if (resumed && VarveError.is(err, ErrorCodes.NOT_FOUND) && (err as VarveError).details.source === undefined) {
      await dropCheckpoint(ctx, branch)
      return 'stale-checkpoint'
    }
    throw err
  } finally {
    await changes.return(undefined)
  }
  return at
}

async function readCheckpoint(ctx: RepoContext, branch: string): Promise<Checkpoint | undefined> {
  const raw = await ctx.refs.getSetting(checkpointKey(branch))
  if (raw === undefined) return undefined
  try {
    return JSON.parse(raw) as Checkpoint
  } catch {
    return undefined
  }
}

export async function dropCheckpoint(ctx: RepoContext, branch: string): Promise<void> {
  if ((await ctx.refs.getSetting(checkpointKey(branch))) !== undefined) await ctx.refs.setSetting(checkpointKey(branch), null)
}
