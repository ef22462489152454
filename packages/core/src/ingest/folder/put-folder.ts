import { createReadStream } from 'node:fs'
import path from 'node:path'
import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import type { Entry } from '../../model/entry.js'
import { mapInOrder } from '../../util/map-in-order.js'
import { OffThreadSha256 } from '../../util/off-thread-sha256.js'
import { comparePaths, validateNewPath } from '../../util/paths.js'
import { PACKED_OBJECT_LIMIT, type PutManyItem, type PutManyOptions, type PutManySummary } from '../put-many.js'
import { FolderIndex, type Known } from './folder-index.js'
import { FileReaderPool } from './file-reader.js'
import type { FileList, LocalFile } from './local-files.js'
import { walkOffThread } from './walk-off-thread.js'

export interface PutFolderOptions {
  /** Files read at once (default 16, at most 256). */
  readonly concurrency?: number
  /** Store what symbolic links point to (default: they are skipped, and counted in the summary). */
  readonly followSymlinks?: boolean
  /**
   * Where the checksum cache lives: per folder, an index of each file's stat and address (as git's
   * index), so an unchanged file is neither read nor hashed next time (default: `$VARVE_CACHE_DIR`,
   * else `~/.cache/varve`); `false` keeps none, and hashes every file whose branch path exists.
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

/** A listed item of the branch, as putFolder reads it. */
type Listed = { type: 'object' | 'prefix'; path: string; address?: string; size?: number }

/** What putFolder needs of the repository: the branch's listing and putMany. */
export interface FolderTarget {
  list(branch: string, options: { prefix: string }): AsyncIterable<Listed>
  putMany(branch: string, items: AsyncIterable<PutManyItem>, options: PutManyOptions): Promise<PutManySummary>
}

/** A file to store, and how: `check` files may be unchanged (their stat moved): hashed first, uploaded only if different. */
interface Pending {
  /** The file's place in the walk. */
  readonly i: number
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
  // The folder is walked in a thread of its own while this one reads the branch's listing.
  const walking = walkOffThread(root, { followSymlinks: options.followSymlinks === true })
  const listing = prefetch(target.list(branch, { prefix }), walking, PREFETCH)
  let files: FileList
  try {
    files = await walking
    checkDestinations(files, root, prefix)
  } catch (err) {
    await listing.return()
    throw err
  }
  options.onWalked?.({ files: files.count, bytes: files.totalBytes })
  const index = options.checksumCache === false ? undefined : new FolderIndex(root, options.checksumCache)
  // What is known of each file after this put (its address), by walk position: written as the new index.
  const learnt = new Knowledge(files.count)
  let skipped = 0
  const skip = (p: { i: number; file: LocalFile }, sha256: string, trusted = false) => {
    skipped++
    learnt.set(p.i, sha256, trusted)
    options.onFile?.(p.file.size)
  }
  try {
    const inFlight = new Map<string, Pending>()
    const pending = planUploads(listing, root, prefix, files, index, skip)
    const result = await target.putMany(branch, readItems(pending, jobs, inFlight, options.onFile, skip), {
      concurrency: jobs,
      ...(options.signal ? { signal: options.signal } : {}),
      onStaged: (entries: readonly Entry[]) => {
        for (const e of entries) {
          const p = inFlight.get(e.path)
          if (!p) continue
          inFlight.delete(e.path)
          learnt.set(p.i, e.address)
        }
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
    // Also after a failure or an interruption: what was staged or found unchanged is known.
    // Unless every file was known by its stat alone: then the index already says all it would.
    if (index && learnt.trusted < files.count)
      index.write(
        files.count,
        (i) => files.at(i),
        (i) => learnt.get(i),
      )
  }
}

/** SHA-256 addresses by walk position, in one flat buffer (a million files: 32 MB, no objects). */
class Knowledge {
  readonly #sha: Buffer
  readonly #has: Uint8Array
  constructor(count: number) {
    this.#sha = Buffer.alloc(count * 32)
    this.#has = new Uint8Array(count)
  }
  /** Files known by a trusted index record (their stat unchanged). */
  trusted = 0
  set(i: number, sha256: string, trusted = false): void {
    this.#sha.write(sha256, i * 32, 'hex')
    this.#has[i] = 1
    if (trusted) this.trusted++
  }
  get(i: number): string | undefined {
    return this.#has[i] ? this.#sha.toString('hex', i * 32, i * 32 + 32) : undefined
  }
}

/** Every destination is checked before anything is read: a bad name fails the put up front, naming the file. */
function checkDestinations(files: FileList, root: string, prefix: string): void {
  for (let i = 0; i < files.count; i++) {
    const rel = files.rel(i)
    try {
      validateNewPath(prefix + rel)
    } catch (err) {
      if (err instanceof VarveError)
        throw new VarveError(err.code, `${path.join(root, rel)}: ${err.message}`, { details: { ...err.details, file: path.join(root, rel) } })
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
  listing: AsyncIterator<Listed>,
  root: string,
  prefix: string,
  files: FileList,
  index: FolderIndex | undefined,
  onSkip: (p: { i: number; file: LocalFile }, sha256: string, trusted?: boolean) => void,
): AsyncGenerator<Pending> {
  const known = index?.reader()
  const base = root.endsWith(path.sep) ? root : root + path.sep
  try {
    let cur = await listing.next()
    for (let i = 0; i < files.count; i++) {
      const file = files.at(i)
      const dest = prefix + file.rel
      while (!cur.done && (cur.value.type !== 'object' || comparePaths(cur.value.path, dest) < 0)) cur = await listing.next()
      const here = !cur.done && cur.value.type === 'object' && cur.value.path === dest ? cur.value : undefined
      // A different size is a change: no need to hash the file to tell.
      const current = here && here.size === file.size ? here.address : undefined
      const abs = base + file.rel
      const cached: Known | undefined = current ? (known?.lookup(file.rel, file) ?? { sha256: current, trusted: false }) : undefined
      if (cached && cached.sha256 === current) {
        if (cached.trusted) onSkip({ i, file }, current, true)
        else yield { i, file, abs, dest, check: current }
      } else yield { i, file, abs, dest }
    }
  } finally {
    await listing.return?.()
  }
}

/** Listed entries read ahead while the folder is walked (each ~200 bytes). */
const PREFETCH = 250_000

/**
 * Reads `items` ahead into memory until `until` settles (or `cap` are held), then serves what was
 * read before reading on: work that overlaps something the caller waits for anyway.
 */
function prefetch<T>(items: AsyncIterable<T>, until: Promise<unknown>, cap: number): AsyncIterator<T> & { return(): Promise<IteratorResult<T>> } {
  const it = items[Symbol.asyncIterator]()
  const ahead: IteratorResult<T>[] = []
  let served = 0
  let stop = false
  void until.then(
    () => (stop = true),
    () => (stop = true),
  )
  const pump = (async () => {
    while (!stop && ahead.length < cap) {
      const r = await it.next()
      ahead.push(r)
      if (r.done) return
    }
  })()
  pump.catch(() => {}) // surfaces on the next `next()`
  return {
    async next() {
      await pump
      if (served < ahead.length) {
        const r = ahead[served++]!
        if (served === ahead.length) ahead.length = served = 0
        return r
      }
      return it.next()
    },
    async return() {
      stop = true
      await pump.catch(() => {})
      await it.return?.()
      return { done: true, value: undefined }
    },
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
  onFile: ((bytes: number) => void) | undefined,
  onSkip: (p: Pending, sha256: string) => void,
): AsyncGenerator<PutManyItem> {
  // Started on the first file to read: an unchanged re-put starts no thread.
  let pool: FileReaderPool | undefined
  const readBatch = async (batch: Pending[]) => {
    const small = batch.filter((p) => p.file.size <= PACKED_OBJECT_LIMIT)
    pool ??= new FileReaderPool()
    const results = await pool.read(small.map((p) => ({ file: p.abs, size: p.file.size, ...(p.check ? { check: p.check } : {}) })))
    const bySmall = new Map(small.map((p, i) => [p, results[i]!]))
    return batch.map((p) => ({ p, r: bySmall.get(p) }))
  }
  try {
    for await (const batch of mapInOrder(inBatches(pending, READ_BATCH), Math.max(2, Math.ceil(jobs / 8)) * FileReaderPool.defaultSize(), readBatch)) {
      for (const { p, r } of batch) {
        const abs = p.abs
        if (r && 'error' in r)
          throw new VarveError(ErrorCodes.UNAVAILABLE, `cannot read ${abs} (${r.error.code}): ${r.error.message}`, { details: { path: p.dest, file: abs } })
        // A large file is hashed where it lies (on the hashing thread) before it is streamed: the
        // same size and a stat the index cannot vouch for (a racy one) is usually the same bytes.
        if ((r && 'unchanged' in r) || (!r && p.check && (await hashLocalFile(abs)) === p.check)) {
          onSkip(p, p.check!)
          continue
        }
        onFile?.(p.file.size)
        inFlight.set(p.dest, p)
        yield { path: p.dest, data: r ? r.bytes : createReadStream(abs, { highWaterMark: 1 << 20 }) }
      }
    }
  } finally {
    await pool?.close()
  }
}

/** The SHA-256 of a local file, read and hashed off the main thread. */
async function hashLocalFile(file: string): Promise<string> {
  const h = new OffThreadSha256()
  try {
    await h.copyFile({ file }, null)
    return await h.digest()
  } catch (err) {
    h.abandon()
    const e = err as NodeJS.ErrnoException
    throw new VarveError(ErrorCodes.UNAVAILABLE, `cannot read ${file} (${e.code ?? 'EIO'}): ${e.message}`, { details: { file } })
  }
}
