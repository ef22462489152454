import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { validateMetadata, type Entry } from '../model/entry.js'
import { sha256Hex } from '../model/hash.js'
import { readHead, toChunks, type DataSource } from '../objects/byte-source.js'
import { PackBuilder } from '../objects/pack.js'
import type { RepoContext } from '../context/repo-context.js'
import { stageChanges } from '../staging/stage-changes.js'
import type { StagedChange } from '../stores/ref-store.js'
import { mapInOrder } from '../util/map-in-order.js'
import { validateNewPath } from '../util/paths.js'

/** Objects up to this size go into packs; larger ones are stored on their own, streamed. */
export const PACKED_OBJECT_LIMIT = 1024 * 1024
const PACK_BYTES = 16 * 1024 * 1024
const PACK_OBJECTS = 8192
/** A batch is also staged once this much large content waits in it. */
const LOOSE_BYTES_PER_BATCH = 256 * 1024 * 1024

export interface PutManyItem {
  readonly path: string
  readonly data: DataSource
  readonly metadata?: Record<string, string>
  readonly contentType?: string
}

export interface PutManyOptions {
  /** Items read and hashed at once (default 8, at most 256). */
  readonly concurrency?: number
  /**
   * Called after each batch is staged, with its entries: from then on a crash loses none of them.
   * (The CLI remembers checksums here.) A throw fails the call.
   */
  readonly onStaged?: (entries: readonly Entry[]) => void | Promise<void>
  /** Aborting stops reading items; what was read is stored and staged, and the summary says `interrupted`. */
  readonly signal?: AbortSignal
}

export interface PutManySummary {
  /** Items staged. */
  readonly files: number
  readonly bytes: number
  /** Packs written, and the objects in them (small content, stored together). */
  readonly packs: number
  readonly packedObjects: number
  /** Objects stored on their own (larger than the pack limit). */
  readonly looseObjects: number
  /** True when the signal stopped the call before the items ran out. */
  readonly interrupted: boolean
}

type Prepared = { readonly kind: 'small'; readonly entry: Entry; readonly bytes: Uint8Array } | { readonly kind: 'large'; readonly entry: Entry }

/** One staging transaction's worth: a pack being filled and the entries that go with it. */
class Batch {
  readonly pack = new PackBuilder(PACK_BYTES, PACK_OBJECTS)
  /** By path: a later item of the same path replaces an earlier one. */
  readonly entries = new Map<string, Entry>()
  /** Entries whose bytes are in this batch's pack (they get its id when it is sealed). */
  readonly packed = new Set<string>()
  /** Bytes of large objects (stored on their own) whose entries wait in this batch. */
  looseBytes = 0
}

/**
 * Stores and stages many items (docs/decisions/0007-packs.md). Small content is hashed and packed,
 * many objects to one stored pack; each batch (a pack and its entries) is written, then staged in
 * one ref-store write, in item order, so a later item of a path wins. A batch is the unit of
 * atomicity: a failure or a crash stages whole batches or nothing of them, never an entry whose
 * bytes are not stored. Runs inside the caller's write fence.
 */
export async function putMany(
  ctx: RepoContext,
  branch: string,
  items: AsyncIterable<PutManyItem> | Iterable<PutManyItem>,
  options: PutManyOptions = {},
): Promise<PutManySummary> {
  const concurrency = Math.min(256, Math.max(1, Math.floor(options.concurrency ?? 8)))
  if (!Number.isFinite(concurrency)) throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'concurrency must be a number from 1 to 256')
  const signal = options.signal
  const totals = { files: 0, bytes: 0, packs: 0, packedObjects: 0, looseObjects: 0 }
  // Packs are written in parallel (on S3 an upload takes a while: more in flight at higher
  // concurrency); staging is chained in batch order. Each pack in flight holds up to 16 MiB.
  const maxWriting = Math.min(4, Math.max(2, Math.ceil(concurrency / 8)))
  const writing = new Set<Promise<void>>()
  let staged: Promise<void> = Promise.resolve()
  let failure: unknown

  const seal = (batch: Batch) => {
    if (batch.entries.size === 0) return
    const encoded = batch.pack.count ? batch.pack.encode() : undefined
    const stored = encoded ? ctx.objects.writePack(encoded) : Promise.resolve()
    const order = staged
    // Chained now, in batch order, whichever pack finishes uploading first.
    const done = (async () => {
      await stored
      await order
      const changes: StagedChange[] = []
      const entries: Entry[] = []
      for (const [path, e] of batch.entries) {
        const entry = batch.packed.has(path) ? { ...e, pack: encoded!.id } : e
        entries.push(entry)
        changes.push({ path, entry })
      }
      await stageChanges(ctx, branch, changes)
      totals.files += entries.length
      for (const e of entries) totals.bytes += e.size
      if (encoded) {
        totals.packs++
        totals.packedObjects += encoded.objects.length
      }
      await options.onStaged?.(entries)
    })()
    staged = done
    const tracked = done
      .catch((err) => {
        failure ??= err
      })
      .finally(() => writing.delete(tracked))
    writing.add(tracked)
  }

  let batch = new Batch()
  /** Seals the batch being filled and starts the next, waiting while too many packs are in flight. */
  const nextBatch = async () => {
    seal(batch)
    batch = new Batch()
    while (writing.size >= maxWriting) await Promise.race(writing)
  }
  let interrupted = false
  const source = async function* () {
    for await (const item of items) {
      if (signal?.aborted) {
        interrupted = true
        return
      }
      if (failure) return
      yield item
    }
  }
  try {
    for await (const r of mapInOrder(source(), concurrency, (item) => prepare(ctx, item))) {
      if (failure) break
      if (r.kind === 'large') {
        totals.looseObjects++
        batch.packed.delete(r.entry.path)
        batch.entries.set(r.entry.path, r.entry)
        batch.looseBytes += r.entry.size
        // Large files are staged every so often too, so a crash or an abort keeps what was uploaded.
        if (batch.looseBytes >= LOOSE_BYTES_PER_BATCH || batch.entries.size >= PACK_OBJECTS) await nextBatch()
        continue
      }
      if (!batch.pack.fits(r.bytes.byteLength)) await nextBatch()
      const offset = batch.pack.add(r.entry.address, r.bytes)
      batch.entries.set(r.entry.path, { ...r.entry, offset })
      batch.packed.add(r.entry.path)
    }
  } catch (err) {
    // The batch being filled is dropped (nothing of it was staged); batches already sealed finish.
    await Promise.allSettled([...writing])
    throw withStaged(err, totals.files)
  }
  if (!failure) seal(batch)
  while (writing.size) await Promise.race(writing)
  if (failure) throw withStaged(failure, totals.files)
  return { ...totals, interrupted }
}

/** Validates an item and reads its content: small content hashed in memory, large content stored streamed. */
async function prepare(ctx: RepoContext, item: PutManyItem): Promise<Prepared> {
  if (!item || typeof item !== 'object') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, 'each item must be { path, data }')
  const path = validateNewPath(item.path)
  const metadata = validateMetadata(item.metadata)
  if (item.contentType !== undefined && typeof item.contentType !== 'string')
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `contentType of ${path} must be a string`, { details: { path } })
  const base = {
    path,
    lastModified: ctx.clock.now(),
    ...(item.contentType ? { contentType: item.contentType } : {}),
    ...(metadata ? { metadata } : {}),
  }
  try {
    let chunks = toChunks(item.data)
    if (!(chunks instanceof Uint8Array)) {
      const { head, headBytes, rest } = await readHead(chunks, PACKED_OBJECT_LIMIT + 1)
      if (rest === null) chunks = head.length === 1 ? head[0]! : Buffer.concat(head, headBytes)
      else {
        const { address, size } = await ctx.objects.writeData(concatStreams(head, rest))
        return { kind: 'large', entry: { ...base, address, size } }
      }
    }
    if (chunks.byteLength > PACKED_OBJECT_LIMIT) {
      const { address, size } = await ctx.objects.writeData(chunks)
      return { kind: 'large', entry: { ...base, address, size } }
    }
    return { kind: 'small', entry: { ...base, address: sha256Hex(chunks), size: chunks.byteLength }, bytes: chunks }
  } catch (err) {
    if (err instanceof VarveError && err.details?.path !== undefined) throw err
    const e = err as { code?: string; message?: string }
    const code = err instanceof VarveError ? err.code : ErrorCodes.UNAVAILABLE
    throw new VarveError(
      code,
      `cannot read ${path}${typeof e?.code === 'string' && !(err instanceof VarveError) ? ` (${e.code})` : ''}: ${e?.message ?? String(err)}`,
      {
        cause: err,
        details: { path },
      },
    )
  }
}

async function* concatStreams(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* head
  for (;;) {
    const { done, value } = await rest.next()
    if (done) return
    yield value
  }
}

/** The error, telling how many items of the call were staged before it (whole batches). */
function withStaged(err: unknown, staged: number): unknown {
  if (!(err instanceof VarveError)) return err
  return new VarveError(err.code, staged ? `${err.message} (${staged} earlier items were staged; the rest was not)` : err.message, {
    cause: err.cause,
    details: { ...err.details, staged },
  })
}
