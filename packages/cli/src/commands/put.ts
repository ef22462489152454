import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { PACKED_OBJECT_LIMIT, VarveError, comparePaths, validateNewPath, type PutManyItem, type Repository } from '@varve/core'
import { mapInOrder } from '@varve/core/internal'
import { parseAddress } from '../address.js'
import { ChecksumCache, type Known } from '../checksum-cache.js'
import type { Cli, JsonOption } from '../cli.js'
import { FileReaderPool } from '../file-reader.js'
import { walkFolder, type FileList, type LocalFile } from '../local-files.js'
import { formatBytes, print, printJson } from '../output.js'
import { startProgress, type Progress } from '../progress.js'

export function registerPut(cli: Cli): void {
  cli.program
    .command('put <local> <address>')
    .description('upload a file, or a folder recursively, into a branch (staged until commit)')
    .option('-j, --jobs <n>', 'files read at once', '16')
    .option('--follow-symlinks', 'in a folder, store what symbolic links point to (default: they are skipped, and counted in the summary)')
    .option('--json', 'print a summary as JSON')
    .addHelpText(
      'after',
      '\nA folder\'s files go under the address\'s path; files whose content the branch already has at that\n' +
        'path are skipped, and a local checksum cache avoids reading unchanged files at all. Small files are\n' +
        'stored in packs, so a folder of 100k files is a few hundred writes. Ctrl-C stops reading files and\n' +
        'stages what was read; running the command again continues where it stopped.\n\nExamples:\n' +
        '  varve put part-0.parquet exp:train/part-0.parquet\n  varve put ./backfill/ exp:train/day=2026-11-23/',
    )
    .action(async (local: string, address: string, opts: { jobs: string; followSymlinks?: boolean } & JsonOption) => {
      const { ref: branch, path: target } = parseAddress(address)
      const jobs = Number(opts.jobs)
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 256)
        throw new VarveError('INVALID_ARGUMENT', `--jobs must be a whole number from 1 to 256, not ${JSON.stringify(opts.jobs)}`)
      const repo = await cli.repo()
      const st = await fs.stat(local).catch(() => {
        throw new VarveError('NOT_FOUND', `local path ${local} does not exist`, { details: { path: local } })
      })
      if (!st.isDirectory()) {
        const dest = !target || target.endsWith('/') ? target + path.basename(local) : target
        const e = await repo.put(branch, dest, createReadStream(local))
        if (opts.json) return printJson({ uploaded: 1, skipped: 0, bytes: e.size, entries: [e] })
        return print(`Staged ${branch}:${dest} (${formatBytes(e.size)})`)
      }
      const prefix = target && !target.endsWith('/') ? `${target}/` : target
      const summary = await putFolder(repo, branch, local, prefix, jobs, { followSymlinks: opts.followSymlinks === true })
      if (opts.json) printJson(summary)
      else {
        const secs = Math.max(summary.seconds, 0.001)
        print(
          `${summary.interrupted ? 'Interrupted: staged' : 'Staged'} ${summary.uploaded} file${summary.uploaded === 1 ? '' : 's'} (${formatBytes(summary.bytes)}) under ${branch}:${prefix}; ` +
            `${summary.skipped} unchanged skipped; ${summary.seconds.toFixed(1)} s, ${Math.round(summary.files / secs)} files/s, ${formatBytes(summary.bytes / secs)}/s` +
            (summary.interrupted ? `; ${summary.files - summary.uploaded - summary.skipped} not read (run the command again to continue)` : '') +
            (summary.symlinksNotFollowed
              ? `; ${summary.symlinksNotFollowed} symbolic link${summary.symlinksNotFollowed === 1 ? '' : 's'} or special file${summary.symlinksNotFollowed === 1 ? '' : 's'} not stored (${summary.notFollowedExamples.join(', ')}${summary.symlinksNotFollowed > summary.notFollowedExamples.length ? ', ...' : ''}; --follow-symlinks stores what links point to)`
              : ''),
        )
      }
      if (summary.interrupted) process.exitCode = 130
    })
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
 * the rest, reading `jobs` files at a time.
 */
async function putFolder(repo: Repository, branch: string, dir: string, prefix: string, jobs: number, walk: { followSymlinks: boolean }): Promise<PutFolderSummary> {
  const started = performance.now()
  const root = path.resolve(dir)
  const files = walkFolder(root, walk)
  // Every destination is checked before anything is read: a bad name fails the command up front.
  for (let i = 0; i < files.count; i++) {
    const rel = files.rel(i)
    try {
      validateNewPath(prefix + rel)
    } catch (err) {
      if (err instanceof VarveError) throw new VarveError(err.code, `${path.join(root, rel)}: ${err.message}`, { details: { ...err.details, file: path.join(root, rel) } })
      throw err
    }
  }
  const cache = new ChecksumCache()
  const progress = startProgress('put', files.count, files.totalBytes)
  const abort = new AbortController()
  const onSigint = () => abort.abort()
  process.once('SIGINT', onSigint)
  let skipped = 0
  const skip = (size: number) => {
    skipped++
    progress.tick(size)
  }
  try {
    const inFlight = new Map<string, Pending>()
    const pending = planUploads(repo, branch, root, prefix, files, cache, skip)
    const result = await repo.putMany(branch, readItems(pending, jobs, inFlight, cache, progress, skip), {
      concurrency: jobs,
      signal: abort.signal,
      onStaged: (entries) => {
        const rows = []
        for (const e of entries) {
          const p = inFlight.get(e.path)
          if (!p) continue
          inFlight.delete(e.path)
          rows.push({ file: p.abs, stat: p.file, sha256: e.address })
        }
        cache.rememberMany(rows)
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
    process.off('SIGINT', onSigint)
    progress.stop()
    cache.close()
  }
}

/**
 * Which files need reading, produced as they are needed: the walk merged with the branch's listing
 * under the prefix (both in path order). A file whose cached address (stat unchanged) is what the
 * branch has is skipped without being read.
 */
async function* planUploads(
  repo: Repository,
  branch: string,
  root: string,
  prefix: string,
  files: FileList,
  cache: ChecksumCache,
  onSkip: (size: number) => void,
): AsyncGenerator<Pending> {
  const listing = repo.list(branch, { prefix })[Symbol.asyncIterator]()
  try {
    let cur = await listing.next()
    for (let i = 0; i < files.count; i++) {
      const file = files.at(i)
      const dest = prefix + file.rel
      while (!cur.done && (cur.value.type !== 'object' || comparePaths(cur.value.path, dest) < 0)) cur = await listing.next()
      const current = !cur.done && cur.value.type === 'object' && cur.value.path === dest ? cur.value.address : undefined
      const abs = path.join(root, file.rel)
      const known: Known | undefined = current ? cache.lookup(abs, file) : undefined
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
  cache: ChecksumCache,
  progress: Progress,
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
          throw new VarveError('UNAVAILABLE', `cannot read ${abs} (${r.error.code}): ${r.error.message}`, { details: { path: p.dest, file: abs } })
        if (r && 'unchanged' in r) {
          onSkip(p.file.size)
          refreshed.push({ file: abs, stat: p.file, sha256: p.check! })
          if (refreshed.length >= 1000) cache.rememberMany(refreshed.splice(0))
          continue
        }
        progress.tick(p.file.size)
        inFlight.set(p.dest, p)
        yield { path: p.dest, data: r ? r.bytes : createReadStream(abs, { highWaterMark: 1 << 20 }) }
      }
    }
    cache.rememberMany(refreshed)
  } finally {
    await pool.close()
  }
}
