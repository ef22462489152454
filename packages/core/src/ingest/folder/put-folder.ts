import { createReadStream } from 'node:fs'
import path from 'node:path'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import type { Entry } from '../../model/entry.js'
import { mapInOrder } from '../../util/map-in-order.js'
import { comparePaths, validateNewPath } from '../../util/paths.js'
import { PACKED_OBJECT_LIMIT, type PutManyItem, type PutManyOptions, type PutManySummary } from '../put-many.js'
import { ChecksumCache, type Known } from './checksum-cache.js'
import { FileReaderPool } from './file-reader.js'
import { walkFolder, type FileList, type LocalFile } from './local-files.js'

export interface PutFolderOptions {
  /** Files read at once (default 16, at most 256). */
  readonly concurrency?: number
  /** Store what symbolic links point to (default: they are skipped, and counted in the summary). */
  readonly followSymlinks?: boolean
  /**
   * The checksum cache: a SQLite file remembering each local file's stat and address, so an
   * unchanged file is neither read nor hashed next time (default: `$VARVE_CACHE_DIR/checksums.sqlite3`,
   * else `~/.cache/varve/checksums.sqlite3`); `false` reads every file whose branch path exists.
   */
  readonly checksumCache?: string | false
  /** Aborting stops reading files, stores and stages what was read; the summary says `interrupted`. */
  readonly signal?: AbortSignal
  /** Called once after the walk, with what the folder holds. */
  readonly onWalked?: (totals: { files: number; bytes: number }) => void
  /** Called as each file is settled (staged, or skipped as unchanged), with its size. */
  readonly onFile?: (bytes: number) => void
}

export interface PutFolderSummary {
  readonly files: number
  readonly uploaded: number
  readonly skipped: number
  readonly bytes: number
  readonly packs: number
  readonly seconds: number
  readonly interrupted: boolean
  /** Symbolic links not followed (and sockets, fifos, devices, broken links): not stored. */
  readonly symlinksNotFollowed: number
  readonly notFollowedExamples: readonly string[]
}

/** What putFolder needs of the repository: the branch's listing and putMany. */
export interface FolderTarget {
  list(branch: string, options: { prefix: string }): AsyncIterable<{ type: 'object' | 'prefix'; path: string; address?: string; size?: number }>
  putMany(branch: string, items: AsyncIterable<PutManyItem>, options: PutManyOptions): Promise<PutManySummary>
}

/** A file to store, and how: `check` files may be unchanged (their stat moved): hashed first, uploaded only if different. */
interface Pending {
  readonly file: LocalFile
  /** The file's absolute path (joined once). */
  readonly abs: string
  readonly dest: string
  readonly check?: string
}

/**
 * Puts a folder: one walk, one listing of the branch under the prefix (merged with the walk, both in
 * path order), the checksum cache to skip unchanged files without reading them, and `putMany` for
 * the rest, reading `concurrency` files at a time in reader threads.
 */
export async function putFolder(target: FolderTarget, branch: string, dir: string, prefix: string, options: PutFolderOptions = {}): Promise<PutFolderSummary> {
  const started = performance.now()
  const jobs = options.concurrency ?? 16
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `concurrency must be a whole number from 1 to 256, not ${JSON.stringify(options.concurrency)}`)
  const root = path.resolve(dir)
  const files = walkFolder(root, { followSymlinks: options.followSymlinks === true })
  checkDestinations(files, root, prefix)
  options.onWalked?.({ files: files.count, bytes: files.totalBytes })
  const cache = options.checksumCache === false ? undefined : new ChecksumCache(options.checksumCache)
  let skipped = 0
  const skip = (size: number) => {
    skipped++
    options.onFile?.(size)
  }
  try {
    const inFlight = new Map<string, Pending>()
    const pending = planUploads(target, branch, root, prefix, files, cache, skip)
    const result = await target.putMany(branch, readItems(pending, jobs, inFlight, cache, options.onFile, skip), {
      concurrency: jobs,
      ...(options.signal ? { signal: options.signal } : {}),
      onStaged: (entries: readonly Entry[]) => {
        const rows = []
        for (const e of entries) {
          const p = inFlight.get(e.path)
          if (!p) continue
          inFlight.delete(e.path)
          rows.push({ file: p.abs, stat: p.file, sha256: e.address })
        }
        cache?.rememberMany(rows)
      },
    })
    return {
      files: files.count,
      uploaded: result.files,
      skipped,
      bytes: result.bytes,
      packs: result.packs,
      seconds: (performance.now() - started) / 1000,
      interrupted: result.interrupted,
      symlinksNotFollowed: files.notFollowed,
      notFollowedExamples: files.notFollowedExamples,
    }
  } finally {
    cache?.close()
  }
}

/** Every destination is checked before anything is read: a bad name fails the put up front, naming the file. */
function checkDestinations(files: FileList, root: string, prefix: string): void {
  for (let i = 0; i < files.count; i++) {
    const rel = files.rel(i)
    try {
      validateNewPath(prefix + rel)
    } catch (err) {
      if (err instanceof VarveError) throw new VarveError(err.code, `${path.join(root, rel)}: ${err.message}`, { details: { ...err.details, file: path.join(root, rel) } })
      throw err
    }
  }
}

/**
 * Which files need reading, produced as they are needed: the walk merged with the branch's listing
 * under the prefix (both in path order). A file whose cached address (stat unchanged) is what the
 * branch has is skipped without being read.
 */
async function* planUploads(
  target: FolderTarget,
  branch: string,
  root: string,
  prefix: string,
  files: FileList,
  cache: ChecksumCache | undefined,
  onSkip: (size: number) => void,
): AsyncGenerator<Pending> {
  const listing = target.list(branch, { prefix })[Symbol.asyncIterator]()
  try {
    let cur = await listing.next()
    for (let i = 0; i < files.count; i++) {
      const file = files.at(i)
      const dest = prefix + file.rel
      while (!cur.done && (cur.value.type !== 'object' || comparePaths(cur.value.path, dest) < 0)) cur = await listing.next()
      const here = !cur.done && cur.value.type === 'object' && cur.value.path === dest ? cur.value : undefined
      // A different size is a change: no need to hash the file to tell.
      const current = here && here.size === file.size ? here.address : undefined
      const abs = path.join(root, file.rel)
      const known: Known | undefined = current ? (cache?.lookup(abs, file) ?? { sha256: current, trusted: false }) : undefined
      if (known && known.sha256 === current) {
        if (known.trusted) onSkip(file.size)
        else yield { file, abs, dest, check: current }
      } else yield { file, abs, dest }
    }
  } finally {
    await listing.return?.()
  }
}

/** Files read per message to a reader thread. */
const READ_BATCH = 64

async function* inBatches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = []
  for await (const item of items) {
    batch.push(item)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length) yield batch
}

/**
 * The files as putMany items, in order. Small files are read whole by a pool of reader threads, a
 * batch at a time; large ones are streamed. A `check` file whose bytes still hash to the branch's
 * address is skipped (and its cache row refreshed) instead of stored again.
 */
async function* readItems(
  pending: AsyncIterable<Pending>,
  jobs: number,
  inFlight: Map<string, Pending>,
  cache: ChecksumCache | undefined,
  onFile: ((bytes: number) => void) | undefined,
  onSkip: (size: number) => void,
): AsyncGenerator<PutManyItem> {
  const pool = new FileReaderPool()
  // Rows of files found unchanged by hashing, refreshed in batches.
  const refreshed: { file: string; stat: LocalFile; sha256: string }[] = []
  const readBatch = async (batch: Pending[]) => {
    const small = batch.filter((p) => p.file.size <= PACKED_OBJECT_LIMIT)
    const results = await pool.read(small.map((p) => ({ file: p.abs, size: p.file.size, ...(p.check ? { check: p.check } : {}) })))
    const bySmall = new Map(small.map((p, i) => [p, results[i]!]))
    return batch.map((p) => ({ p, r: bySmall.get(p) }))
  }
  try {
    for await (const batch of mapInOrder(inBatches(pending, READ_BATCH), Math.max(2, Math.ceil(jobs / 8)) * pool.size, readBatch)) {
      for (const { p, r } of batch) {
        const abs = p.abs
        if (r && 'error' in r)
          throw new VarveError(ErrorCodes.UNAVAILABLE, `cannot read ${abs} (${r.error.code}): ${r.error.message}`, { details: { path: p.dest, file: abs } })
        if (r && 'unchanged' in r) {
          onSkip(p.file.size)
          refreshed.push({ file: abs, stat: p.file, sha256: p.check! })
          if (refreshed.length >= 1000) cache?.rememberMany(refreshed.splice(0))
          continue
        }
        onFile?.(p.file.size)
        inFlight.set(p.dest, p)
        yield { path: p.dest, data: r ? r.bytes : createReadStream(abs, { highWaterMark: 1 << 20 }) }
      }
    }
    cache?.rememberMany(refreshed)
  } finally {
    await pool.close()
  }
}
