import { Readable } from 'node:stream'
import type { RepoContext } from '../../context/repo-context.js'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import type { Snapshot } from '../../hooks/hook-types.js'
import { commitRoot } from '../../model/commit.js'
import type { Entry } from '../../model/entry.js'
import { isObjectId, sha256Hex } from '../../model/hash.js'
import type { TreeRef } from '../../model/tree-node.js'
import { resolveRevision } from '../../refs/resolve.js'
import { getOnBranch, hasStagedUnder, scanView, stagingTokens } from '../../staging/branch-view.js'
import type { BranchRecord } from '../../stores/ref-store.js'
import { getEntry } from '../../tree/tree-reader.js'
import { comparePaths, prefixUpperBound, validatePath, validatePrefix } from '../../util/paths.js'
import { guard, guardBatches, guardIterable } from '../guard.js'
import type { ListItem, ListOptions } from '../types.js'

// Reading paths at a ref: stat, get, streams and ranges, presigned URLs, listings, and the
// read-only snapshot of a commit that gates see.

/** How much of a ranged read one block-store request fetches. */
const RANGE_PIECE = 8 * 1024 * 1024
/** Whole objects up to this size are read in one request and verified in one hash. */
const SMALL_WHOLE_READ = 1024 * 1024

/** What a ref reads: a tree, and for a branch the staging tokens laid over it, newest first. */
export interface View {
  readonly root: TreeRef
  readonly tokens: string[]
  readonly branch?: BranchRecord
}

/**
 * What a ref reads: a branch reads through its staging area, any other revision reads its commit's
 * tree. One branch lookup, shared with revision resolution.
 */
export async function viewOf(ctx: RepoContext, ref: string): Promise<View> {
  if (typeof ref !== 'string' || !ref) throw new VarveError(ErrorCodes.INVALID_REF, 'a ref must be a non-empty string')
  const hasSuffix = /[~^]|@\{/.test(ref)
  // A full commit id is never a branch name (validateRefName): a pinned read skips the branch lookup.
  if (!hasSuffix && isObjectId(ref) && (await ctx.objects.hasCommit(ref))) return commitView(ctx, ref)
  const b = hasSuffix ? undefined : await ctx.refs.getBranch(ref)
  if (b) return { root: commitRoot(await ctx.objects.readCommit(b.head)), tokens: stagingTokens(b), branch: b }
  return commitView(ctx, await resolveRevision(ctx, ref, { notABranch: !hasSuffix }))
}

export async function commitView(ctx: RepoContext, commit: string): Promise<View> {
  return { root: commitRoot(await ctx.objects.readCommit(commit)), tokens: [] }
}

export async function statAt(ctx: RepoContext, view: View, ref: string, path: string): Promise<Entry> {
  validatePath(path)
  const entry = view.branch ? await getOnBranch(ctx, view.branch, path) : await getEntry(ctx.objects, view.root, path)
  if (!entry) throw new VarveError(ErrorCodes.NOT_FOUND, `${ref}:${path} not found`, { details: { ref, path } })
  return entry
}

async function readAt(ctx: RepoContext, view: View, ref: string, path: string): Promise<Uint8Array> {
  const entry = await statAt(ctx, view, ref, path)
  return ctx.objects.readData({ ...entry, path })
}

export function stat(ctx: RepoContext, ref: string, path: string): Promise<Entry> {
  return guard('stat', async () => statAt(ctx, await viewOf(ctx, ref), ref, path))
}

export function get(ctx: RepoContext, ref: string, path: string): Promise<Uint8Array> {
  return guard('get', async () => readAt(ctx, await viewOf(ctx, ref), ref, path))
}

export function getStream(ctx: RepoContext, ref: string, path: string): Promise<Readable> {
  return guard('getStream', async () => {
    const entry = await stat(ctx, ref, path)
    return Readable.from(await ctx.objects.readDataStream({ ...entry, path }), { objectMode: false })
  })
}

export function streamEntry(ctx: RepoContext, entry: Entry, range: { start?: number; end?: number }): Readable {
  return Readable.from(readEntry(ctx, entry, range), { objectMode: false })
}

export function readEntry(ctx: RepoContext, entry: Entry, options: { start?: number; end?: number; reuseBuffers?: boolean }): AsyncIterable<Uint8Array> {
  const objects = ctx.objects
  const start = options.start ?? 0
  const end = Math.min(options.end ?? entry.size, entry.size)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `invalid range [${start}, ${end}) of ${entry.size} bytes`)
  if (start === 0 && end === entry.size && entry.size <= SMALL_WHOLE_READ)
    // One plain read and one hash: a stream per small object costs more than the object.
    return guardIterable('streamEntry', async function* () {
      if (entry.external !== undefined) {
        yield await objects.readData(entry) // checked by the source's precondition (and the hash, when imported with one)
        return
      }
      const bytes = await objects.readDataRange(entry, 0, entry.size)
      if (bytes.byteLength !== entry.size || sha256Hex(bytes) !== entry.address)
        throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `data object ${entry.address} of ${entry.path} no longer matches its address`, {
          details: { object: entry.address, path: entry.path },
        })
      yield bytes
    })
  if (start === 0 && end === entry.size) {
    const reuseBuffers = options.reuseBuffers === true
    return guardIterable('streamEntry', async function* () {
      yield* await objects.readDataStream(entry, { reuseBuffers })
    })
  }
  return guardIterable('streamEntry', async function* () {
    for (let at = start; at < end; at += RANGE_PIECE) yield await objects.readDataRange(entry, at, Math.min(end, at + RANGE_PIECE))
  })
}

export function presignEntry(
  ctx: RepoContext,
  entry: Entry,
  options: { expiresSeconds?: number },
): Promise<{ url: string; range?: { start: number; end: number } } | undefined> {
  return guard('presignEntry', async () => {
    const presign = ctx.blocks.presignGet
    if (!presign) return undefined
    const at = await ctx.objects.locate(entry)
    if (!at) return undefined
    const expiresSeconds = options.expiresSeconds ?? 300
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > 7 * 24 * 3600)
      throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'expiresSeconds is a whole number of seconds from 1 to 604800 (7 days)')
    const whole = entry.pack === undefined
    const url = await presign.call(ctx.blocks, at.key, { expiresSeconds, ...(whole ? {} : { range: [at.start, at.end] as const }) })
    return whole ? { url } : { url, range: { start: at.start, end: at.end } }
  })
}

export function list(ctx: RepoContext, ref: string, options: ListOptions): AsyncIterable<ListItem> {
  return guardBatches('list', () => listBatches(ctx, () => viewOf(ctx, ref), options))
}

/** `view` is called after the options are validated, so a bad option never leaves a lookup in flight. */
async function* listBatches(ctx: RepoContext, view: () => Promise<View>, options: ListOptions): AsyncGenerator<ListItem[]> {
  const prefix = validatePrefix(options.prefix)
  const delimiter = options.delimiter ?? ''
  if (typeof delimiter !== 'string') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'delimiter must be a string')
  let left = options.limit ?? Infinity
  const { root, tokens: all } = await view()
  // A folder listing seeks past every common prefix it gives, and each seek on a branch asks its
  // staging areas again: when nothing is staged under the prefix (asked once, now), the committed
  // tree alone is listed (a page of 100 folders was 100 staging queries).
  const tokens = delimiter && all.length && !(await hasStagedUnder(ctx, all, prefix)) ? [] : all
  let from = prefix
  let exclusive = false
  if (options.after !== undefined && comparePaths(options.after, prefix) >= 0) {
    from = options.after
    exclusive = true
  }
  let lastPrefix: string | undefined
  for (;;) {
    let reseek = false
    for await (const batch of scanView(ctx, root, tokens, { from, exclusive, prefix })) {
      const out: ListItem[] = []
      let ended = false
      for (const e of batch) {
        if (left <= 0 || (!e.path.startsWith(prefix) && comparePaths(e.path, prefix) > 0)) {
          ended = true
          break
        }
        if (!e.path.startsWith(prefix)) continue
        const cut = delimiter ? e.path.indexOf(delimiter, prefix.length) : -1
        if (cut >= 0) {
          const common = e.path.slice(0, cut + delimiter.length)
          if (common === lastPrefix) continue
          lastPrefix = common
          left--
          out.push({ type: 'prefix', path: common })
          // Skip everything under the common prefix without reading it: seek past it.
          from = prefixUpperBound(common)
          exclusive = true
          reseek = true
          break
        }
        left--
        out.push(toListItem(e))
      }
      if (out.length) yield out
      if (ended) return
      if (reseek) break
    }
    if (!reseek) return
  }
}

/**
 * A listed entry is the entry itself: a reader hands it on as it is (readDataset, diffTable,
 * contracts), so no field may be left out (copying fields one by one once dropped where packed
 * bytes are, and every reader of a listing failed on packed data).
 */
function toListItem(e: Entry): ListItem {
  return { type: 'object', ...e }
}

/** A read-only view of one commit, as hooks see it. */
export function snapshotOf(ctx: RepoContext, commit: string): Snapshot {
  // The commit is known: read its tree directly, with no ref resolution (this runs on every gate).
  const view = () => commitView(ctx, commit)
  return {
    commit,
    list: (o = {}) => guardBatches('list', () => listBatches(ctx, view, o)),
    get: (path) => guard('get', async () => readAt(ctx, await view(), commit, path)),
    stat: (path) => guard('stat', async () => statAt(ctx, await view(), commit, path)),
  }
}
