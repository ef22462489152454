import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { keys } from '../objects/keys.js'
import type { RepoContext } from '../repository/context.js'
import type { ObjectInfo } from '../stores/block-store.js'
import { mapLimit } from '../util/map-limit.js'
import { markReachable } from './mark.js'

export interface GcOptions {
  /** Data of commits younger than this many days stays restorable (default 7). */
  readonly retainDays?: number
  /** Objects younger than this are never deleted: uploads in flight stay safe (default 3600). */
  readonly graceSeconds?: number
  /** Count what would be deleted, delete nothing. */
  readonly dryRun?: boolean
  readonly onProgress?: (p: { phase: 'mark' | 'sweep'; scanned: number; deleted: number }) => void
}

export interface GcResult {
  readonly scannedObjects: number
  readonly deletedObjects: number
  readonly deletedBytes: number
  readonly retainedCommits: number
  readonly liveDataObjects: number
  readonly dryRun: boolean
  readonly durationMs: number
}

const SWEPT = ['data/', 'tree/', 'commit/', 'blobs/', 'tmp/'] as const
const BATCH = 1000

/**
 * Deletes objects that nothing retained refers to (docs/decisions/0005-garbage-collection.md):
 * mark (refs, staging, ref log within retention, every reachable commit and tree, data of retained
 * commits), then sweep each object prefix, deleting unmarked objects older than the grace period.
 * Every candidate's age is read again right before it is deleted, so an object a writer reused
 * (and touched) in the meantime survives.
 */
export async function collectGarbage(ctx: RepoContext, options: GcOptions = {}): Promise<GcResult> {
  const t0 = performance.now()
  const retainDays = options.retainDays ?? 7
  const graceSeconds = options.graceSeconds ?? 3600
  if (!(retainDays >= 0) || !(graceSeconds >= 0)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'retainDays and graceSeconds must be >= 0')
  const now = ctx.clock.now()
  const marked = await markReachable(ctx.refs, ctx.objects, {
    retainSince: now - retainDays * 86_400_000,
    onProgress: (m) => options.onProgress?.({ phase: 'mark', scanned: m.commits + m.nodes, deleted: 0 }),
  })
  const youngSince = now - graceSeconds * 1000
  const liveBlobs = new Set<string>()
  let scanned = 0
  let deleted = 0
  let deletedBytes = 0
  let batch: ObjectInfo[] = []

  const flush = async () => {
    const candidates = batch
    batch = []
    if (!candidates.length) return
    // Re-read each age right before deleting: a writer may have reused (touched) it since the listing.
    const recheck = await mapLimit(candidates, 32, (c) => ctx.blocks.head(c.key))
    const stillOld = recheck.filter((now): now is ObjectInfo => !!now && now.lastModified < youngSince)
    if (!options.dryRun) {
      if (ctx.blocks.deleteMany) await ctx.blocks.deleteMany(stillOld.map((c) => c.key))
      else for (const c of stillOld) await ctx.blocks.delete(c.key)
    }
    deleted += stillOld.length
    deletedBytes += stillOld.reduce((n, c) => n + c.size, 0)
    options.onProgress?.({ phase: 'sweep', scanned, deleted })
  }

  for (const prefix of SWEPT) {
    for await (const info of ctx.blocks.list(prefix)) {
      scanned++
      if (await isLive(info.key)) continue
      if (info.lastModified >= youngSince) continue
      batch.push(info)
      if (batch.length >= BATCH) await flush()
    }
    await flush()
  }

  async function isLive(key: string): Promise<boolean> {
    const name = key.slice(key.lastIndexOf('/') + 1)
    if (key.startsWith('data/')) {
      if (!name.endsWith('.blob')) return marked.data.has(name)
      const address = name.slice(0, -'.blob'.length)
      if (!marked.data.has(address)) return false
      const pointer = await ctx.blocks.get(keys.dataPointer(address))
      const target = pointer && (JSON.parse(Buffer.from(pointer).toString('utf8')) as { key?: string }).key
      if (target) liveBlobs.add(target)
      return true
    }
    if (key.startsWith('tree/')) return marked.nodes.has(name)
    if (key.startsWith('commit/')) return marked.commits.has(name)
    if (key.startsWith('blobs/')) return liveBlobs.has(key)
    return false // tmp/: uploads that never finished
  }

  return {
    scannedObjects: scanned,
    deletedObjects: deleted,
    deletedBytes,
    retainedCommits: marked.retainedCommits,
    liveDataObjects: marked.data.size,
    dryRun: !!options.dryRun,
    durationMs: Math.round(performance.now() - t0),
  }
}
