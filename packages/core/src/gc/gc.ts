import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { keys } from '../objects/keys.js'
import type { RepoContext } from '../context/repo-context.js'
import type { ObjectInfo } from '../stores/block-store.js'
import { mapLimit } from '../util/map-limit.js'
import { readGcState, updateGcState, type GcState } from './gc-state.js'
import { markReachable, type Marked } from './mark.js'

export interface GcOptions {
  /** Data of commits younger than this many days stays restorable (default 7). */
  readonly retainDays?: number
  /** Objects younger than this are never collected, and ref moves this recent keep their data (default 3600). */
  readonly graceSeconds?: number
  /** Count what would be collected, change nothing. */
  readonly dryRun?: boolean
  readonly onProgress?: (p: { phase: 'mark' | 'quarantine' | 'purge'; scanned: number; deleted: number }) => void
}

export interface GcResult {
  readonly scannedObjects: number
  /** Objects deleted for good by this run (from quarantine). */
  readonly deletedObjects: number
  readonly deletedBytes: number
  /** Objects this run moved to quarantine (then deleted in the same run unless something referred to them again). */
  readonly quarantinedObjects: number
  /** Quarantined objects moved back because something refers to them again. */
  readonly restoredObjects: number
  /** Staging areas no branch refers to any more (a crash after a commit, a deleted branch), dropped. */
  readonly droppedStagingTokens: number
  /** The store's temporary files left by crashed writers, older than the grace period, removed. */
  readonly removedTempFiles: number
  readonly retainedCommits: number
  readonly liveDataObjects: number
  readonly dryRun: boolean
  readonly durationMs: number
}

const SWEPT = ['data/', 'packs/', 'tree/', 'commit/', 'blobs/', 'tmp/'] as const
const QUARANTINED = ['data/', 'packs/', 'tree/', 'commit/', 'tmp/', 'blobs/'] as const // blobs last: their pointers decide
const BATCH = 1000
const DAY_MS = 86_400_000

/**
 * Collects garbage with no lock, safe against any interleaving with writers
 * (docs/decisions/0006-gc-quarantine.md):
 * 1. mark what refs, pins, staging and recent ref moves reach;
 * 2. open a new epoch and *move* every unmarked object older than the grace period to that epoch's
 *    quarantine (reads fall back there), then close the epoch;
 * 3. mark again, and purge every epoch that was closed before this second mark began: a quarantined
 *    object that something refers to again is moved back, the rest is deleted. Objects of epochs
 *    that never closed (a crashed run) are only ever moved back.
 */
export async function collectGarbage(ctx: RepoContext, options: GcOptions = {}): Promise<GcResult> {
  const t0 = performance.now()
  const retainDays = options.retainDays ?? 7
  const graceSeconds = options.graceSeconds ?? 3600
  if (!(retainDays >= 0) || !(graceSeconds >= 0) || !Number.isFinite(retainDays) || !Number.isFinite(graceSeconds))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'retainDays and graceSeconds must be finite numbers >= 0')
  await refuseWithoutBranches(ctx)
  const counts = { scanned: 0, quarantined: 0, restored: 0, deleted: 0, deletedBytes: 0 }
  const mark = async () => {
    const now = ctx.clock.now()
    return markReachable(ctx.refs, ctx.objects, {
      retainSince: now - retainDays * DAY_MS,
      movesSince: now - graceSeconds * 1000,
      onProgress: (m) => options.onProgress?.({ phase: 'mark', scanned: m.commits + m.nodes, deleted: 0 }),
    })
  }

  const retainSince = ctx.clock.now() - retainDays * DAY_MS
  const first = await mark()
  const youngSince = ctx.clock.now() - graceSeconds * 1000
  const epoch = options.dryRun ? undefined : await openEpoch(ctx)
  let liveBlobs = new Set<string>()
  let superseded = false
  let batch: ObjectInfo[] = []
  const flush = async () => {
    const moving = batch
    batch = []
    if (!moving.length) return
    if (epoch !== undefined) {
      // Fenced: a run whose epoch was taken over (it stalled, another run started) stops moving.
      const { state } = await readGcState(ctx.refs)
      if (state.epoch !== epoch || !state.quarantining) {
        superseded = true
        return
      }
      await mapLimit(moving, 16, async (o) => {
        try {
          await ctx.blocks.rename(o.key, keys.quarantine(epoch, o.key), { size: o.size })
          counts.quarantined++
        } catch (err) {
          if (await ctx.blocks.head(o.key)) throw err // a real failure; a vanished object was moved by another run
        }
      })
    } else {
      // Dry run: what this run would move, and then delete (nothing refers to it).
      counts.quarantined += moving.length
      counts.deleted += moving.length
      counts.deletedBytes += moving.reduce((n, o) => n + o.size, 0)
    }
    options.onProgress?.({ phase: 'quarantine', scanned: counts.scanned, deleted: counts.quarantined })
  }
  for (const prefix of SWEPT) {
    for await (const info of ctx.blocks.list(prefix)) {
      if (superseded) break
      counts.scanned++
      if (await isLive(ctx, first, info.key, liveBlobs)) continue
      if (info.lastModified >= youngSince) {
        // A young pointer keeps its blob: a blob is quarantined only with its pointer, or with none.
        if (info.key.endsWith('.blob')) await addBlobTarget(ctx, info.key, liveBlobs)
        continue
      }
      batch.push(info)
      if (batch.length >= BATCH) await flush()
    }
    await flush()
  }
  if (epoch !== undefined && !superseded) await closeEpoch(ctx, epoch)

  // Purge: only epochs closed before the second mark began may lose objects.
  const closed = (await readGcState(ctx.refs)).state
  const second = options.dryRun ? first : await mark()
  liveBlobs = new Set<string>()
  const emptied = await purgeQuarantine(ctx, closed, second, liveBlobs, counts, options)
  if (!options.dryRun) await forgetEpochs(ctx, closed, emptied, retainSince)
  const detachedTokens = await dropDetachedTokens(ctx, youngSince, !!options.dryRun)
  const tempFiles = options.dryRun ? 0 : ((await ctx.blocks.sweepTemporary?.(graceSeconds * 1000)) ?? 0)

  return {
    scannedObjects: counts.scanned,
    deletedObjects: counts.deleted,
    deletedBytes: counts.deletedBytes,
    quarantinedObjects: counts.quarantined,
    restoredObjects: counts.restored,
    droppedStagingTokens: detachedTokens,
    removedTempFiles: tempFiles,
    retainedCommits: second.retainedCommits,
    liveDataObjects: second.data.size,
    dryRun: !!options.dryRun,
    durationMs: Math.round(performance.now() - t0),
  }
}

/**
 * Drops staging tokens that no branch refers to and that are older than the grace period (a token's
 * name carries its creation time). Tokens are listed before branches: a token a branch took up after
 * the listing is younger than the grace period, so it is never a candidate.
 */
async function dropDetachedTokens(ctx: RepoContext, youngSince: number, dryRun: boolean): Promise<number> {
  const tokens: string[] = []
  for await (const t of ctx.refs.listStagingTokens()) {
    const born = tokenTime(t)
    if (born !== undefined && born < youngSince) tokens.push(t)
    if (tokens.length >= 100_000) break
  }
  if (!tokens.length) return 0
  const used = new Set<string>()
  for await (const b of ctx.refs.listBranches()) for (const t of [b.stagingToken, ...b.sealedTokens]) used.add(t)
  const detached = tokens.filter((t) => !used.has(t))
  if (!dryRun) for (const t of detached) await ctx.refs.dropStaged(t)
  return detached.length
}

/** When a token (`st-<ms in base 36>-<random>`) was made, or undefined for a name of another shape. */
function tokenTime(token: string): number | undefined {
  const m = /^st-([0-9a-z]+)-/.exec(token)
  const t = m ? parseInt(m[1]!, 36) : NaN
  return Number.isFinite(t) ? t : undefined
}

/** A repository with no branch is a lost or foreign ref store: collecting would delete everything. */
async function refuseWithoutBranches(ctx: RepoContext): Promise<void> {
  for await (const _ of ctx.refs.listBranches()) return
  throw new VarveError(
    ErrorCodes.NOT_A_REPOSITORY,
    'refusing to collect garbage: the ref store has no branch, so every object would look unreachable (is the ref store lost or replaced?)',
  )
}

async function openEpoch(ctx: RepoContext): Promise<number> {
  const s = await updateGcState(ctx.refs, (s) => ({ ...s, epoch: s.epoch + 1, quarantining: true, pending: [...s.pending, s.epoch + 1] }))
  return s!.epoch
}

async function closeEpoch(ctx: RepoContext, epoch: number): Promise<void> {
  await updateGcState(ctx.refs, (s) => (s.epoch === epoch && s.quarantining ? { ...s, quarantining: false, completed: [...s.completed, epoch] } : undefined))
}

/** Drops purged epochs from the state: closed ones that were processed, and unclosed ones found empty. */
async function forgetEpochs(ctx: RepoContext, closed: GcState, emptied: ReadonlySet<number>, retainSince: number): Promise<void> {
  const done = new Set([...closed.completed, ...emptied])
  await updateGcState(ctx.refs, (s) => ({
    ...s,
    collectedBefore: Math.max(s.collectedBefore ?? -Infinity, retainSince),
    completed: s.completed.filter((e) => !done.has(e)),
    pending: s.pending.filter((e) => !done.has(e) || (e === s.epoch && s.quarantining)),
  }))
}

/**
 * Moves back what is referenced again, deletes the rest of closed epochs, moves back everything of
 * unclosed ones. Returns the unclosed epochs that held nothing.
 */
async function purgeQuarantine(
  ctx: RepoContext,
  closed: GcState,
  marked: Marked,
  liveBlobs: Set<string>,
  counts: { scanned: number; restored: number; deleted: number; deletedBytes: number },
  options: GcOptions,
): Promise<Set<number>> {
  const emptied = new Set<number>()
  const epochs = new Set<number>(closed.pending)
  for await (const info of ctx.blocks.list('quarantine/')) {
    // Also epochs no state names (a superseded run that moved after it was taken over).
    const e = Number(info.key.split('/')[1])
    if (Number.isInteger(e)) epochs.add(e)
    if (epochs.size > 10_000) break
  }
  for (const epoch of [...epochs].sort((a, b) => a - b)) {
    if (closed.quarantining && epoch === closed.epoch) continue // still being filled by a live run
    const deletable = closed.completed.includes(epoch)
    const base = keys.quarantineEpoch(epoch)
    let found = 0
    let doomed: ObjectInfo[] = []
    const flush = async () => {
      const d = doomed
      doomed = []
      if (!d.length || options.dryRun) return
      if (ctx.blocks.deleteMany) await ctx.blocks.deleteMany(d.map((o) => o.key))
      else for (const o of d) await ctx.blocks.delete(o.key)
    }
    for (const prefix of QUARANTINED)
      for await (const info of ctx.blocks.list(base + prefix)) {
        found++
        counts.scanned++
        const original = info.key.slice(base.length)
        if (!deletable || (await isLive(ctx, marked, original, liveBlobs, info.key))) {
          if (!options.dryRun)
            await ctx.blocks.rename(info.key, original, { size: info.size }).catch(async (err) => {
              if (await ctx.blocks.head(info.key)) throw err // else a writer restored it first
            })
          counts.restored++
        } else {
          doomed.push(info)
          counts.deleted++
          counts.deletedBytes += info.size
          if (doomed.length >= BATCH) await flush()
        }
        options.onProgress?.({ phase: 'purge', scanned: counts.scanned, deleted: counts.deleted })
      }
    await flush()
    if (!deletable && found === 0) emptied.add(epoch)
  }
  return emptied
}

/**
 * Whether an object (by its key outside quarantine) is still needed. Blob pointers that are live name
 * their blobs live, so `blobs/` must be judged after `data/`. `storedAt` is where the object is now.
 */
async function isLive(ctx: RepoContext, marked: Marked, key: string, liveBlobs: Set<string>, storedAt = key): Promise<boolean> {
  const name = key.slice(key.lastIndexOf('/') + 1)
  if (key.startsWith('data/')) {
    if (!name.endsWith('.blob')) return marked.data.has(name)
    const address = name.slice(0, -'.blob'.length)
    if (!marked.data.has(address)) return false
    await addBlobTarget(ctx, storedAt, liveBlobs)
    return true
  }
  if (key.startsWith('packs/')) return marked.packs.has(name)
  if (key.startsWith('tree/')) return marked.nodes.has(name)
  if (key.startsWith('commit/')) return marked.commits.has(name)
  if (key.startsWith('blobs/')) return liveBlobs.has(key)
  return false // tmp/: uploads that never finished
}

async function addBlobTarget(ctx: RepoContext, pointerKey: string, liveBlobs: Set<string>): Promise<void> {
  const pointer = await ctx.blocks.get(pointerKey)
  let target: string | undefined
  try {
    target = pointer && (JSON.parse(Buffer.from(pointer).toString('utf8')) as { key?: string }).key
  } catch {
    return // a damaged pointer names nothing; verify reports it
  }
  if (typeof target === 'string') liveBlobs.add(target)
}
