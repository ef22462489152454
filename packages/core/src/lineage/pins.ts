import fs from 'node:fs/promises'
import path from 'node:path'
import type { RecordBatch, Table } from 'apache-arrow'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import { readArrowTable } from '../parquet/parquet-reader.js'
import type { ReadDatasetOptions } from '../parquet/dataset-reader.js'
import { Repository, type ListItem, type ListOptions, type RepositoryOptions } from '../repository/repository.js'
import { readCodeLineage, type CodeLineage } from './code-lineage.js'
import { downloadPrefix, type DownloadOptions } from '../files/download.js'

/** One pinned dataset: which bytes a job reads, and which code pinned them. */
export interface Pin {
  readonly name: string
  /** The repository: an `s3://` URL, or a folder relative to the lockfile's directory. */
  readonly repo: string
  /** What was asked for (`main`, `v1`, ...). */
  readonly ref: string
  /** The commit it resolved to: what every read of this pin reads. */
  readonly commit: string
  readonly pinnedAt: string
  readonly code: CodeLineage | null
  /**
   * The pin in the repository's ref store that keeps this commit's data from garbage collection
   * (`varve pin list`, `varve pin rm <name>`). Absent in lockfiles written before pins were refs.
   */
  readonly repoPin?: string
}

export interface LockFile {
  readonly version: 1
  readonly pins: Readonly<Record<string, Pin>>
}

export async function readLockFile(file: string): Promise<LockFile> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, pins: {} }
    throw err
  }
  try {
    const lock = JSON.parse(text) as LockFile
    if (lock.version !== 1 || typeof lock.pins !== 'object') throw new Error('not a varve lockfile')
    return lock
  } catch (cause) {
    throw new VarveError('INVALID_CONFIG', `${file} is not a Varve lockfile: ${(cause as Error).message}`, { cause, details: { file, line: 1 } })
  }
}

async function writeLockFile(file: string, lock: LockFile): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  await fs.writeFile(tmp, JSON.stringify(lock, null, 2) + '\n')
  await fs.rename(tmp, file) // a crash never leaves a half-written lockfile
}

const isUrl = (location: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(location)

/**
 * Resolves `ref` now and records the commit under `name` in the lockfile, with the git HEAD of the
 * code around `codeDir` (when there is one). Returns the pin.
 */
export async function pinDataset(
  repo: Repository,
  ref: string,
  options: { name?: string; lock?: string; codeDir?: string; clock?: () => Date } = {},
): Promise<Pin> {
  const lockPath = path.resolve(options.lock ?? 'varve.lock')
  const name = options.name ?? 'default'
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `pin name ${JSON.stringify(name)} must be letters, digits, '.', '_' or '-'`)
  // The pin in the ref store comes first: a lockfile never names a commit that gc may take.
  const { commit } = await repo.pin(name, ref)
  const location = isUrl(repo.location) ? repo.location : path.relative(path.dirname(lockPath), path.resolve(repo.location)) || '.'
  const pin: Pin = {
    name,
    repo: location,
    ref,
    commit,
    pinnedAt: (options.clock?.() ?? new Date()).toISOString(),
    code: (await readCodeLineage(options.codeDir ?? process.cwd())) ?? null,
    repoPin: name,
  }
  const lock = await readLockFile(lockPath)
  await writeLockFile(lockPath, { version: 1, pins: { ...lock.pins, [name]: pin } })
  return pin
}

/**
 * A read-only view of a pinned commit. Reading the same pin twice reads the same bytes, whatever
 * happened to the branch since; if the commit no longer exists, opening fails with NOT_FOUND.
 */
export class PinnedDataset {
  private constructor(
    readonly pin: Pin,
    readonly repository: Repository,
  ) {}

  static async open(lockFile: string, name: string, options: RepositoryOptions = {}): Promise<PinnedDataset> {
    const lockPath = path.resolve(lockFile)
    const pin = (await readLockFile(lockPath)).pins[name]
    if (!pin) throw new VarveError(ErrorCodes.NOT_FOUND, `no pin named ${name} in ${lockFile}`, { details: { lock: lockFile, name } })
    const location = isUrl(pin.repo) ? pin.repo : path.resolve(path.dirname(lockPath), pin.repo)
    const repo = await Repository.open(location, options)
    try {
      await repo.getCommit(pin.commit)
    } catch (err) {
      await repo.close()
      if (VarveError.is(err, ErrorCodes.NOT_FOUND))
        throw new VarveError(ErrorCodes.NOT_FOUND, `pinned commit ${pin.commit} of ${name} no longer exists in ${pin.repo}`, {
          details: { name, commit: pin.commit },
          cause: err,
        })
      throw err
    }
    return new PinnedDataset(pin, repo)
  }

  get commit(): string {
    return this.pin.commit
  }

  list(options: ListOptions = {}): AsyncIterable<ListItem> {
    return this.repository.list(this.pin.commit, options)
  }

  stat(path: string): Promise<Entry> {
    return this.repository.stat(this.pin.commit, path)
  }

  get(path: string): Promise<Uint8Array> {
    return this.repository.get(this.pin.commit, path)
  }

  stream(path: string): ReturnType<Repository['getStream']> {
    return this.repository.getStream(this.pin.commit, path)
  }

  /**
   * A Parquet file at the pin as one apache-arrow Table, decoded whole in memory: for small files.
   * For large files or a folder of them, `readDataset` streams record batches.
   */
  async readTable(path: string): Promise<Table> {
    return readArrowTable(await this.get(path), path)
  }

  /** Record batches of every Parquet file under `prefix` at the pin (see Repository.readDataset). */
  readDataset(prefix: string, options: ReadDatasetOptions = {}): AsyncIterable<RecordBatch> {
    return this.repository.readDataset(this.pin.commit, prefix, options)
  }

  /**
   * Writes every file under `prefix` into `dir`, keeping paths relative to the prefix, each verified
   * before it takes its name (a corrupt object leaves no file). Returns the count.
   */
  async download(prefix: string, dir: string, options: DownloadOptions = {}): Promise<number> {
    return (await downloadPrefix({ list: (o) => this.list(o), stat: (p) => this.stat(p), stream: (p) => this.stream(p) }, prefix, dir, options)).files
  }

  close(): Promise<void> {
    return this.repository.close()
  }
}

/** Opens the pin `name` of a lockfile: `const ds = await openPinned('varve.lock', 'train-data')`. */
export function openPinned(lockFile: string, name: string, options: RepositoryOptions = {}): Promise<PinnedDataset> {
  return PinnedDataset.open(lockFile, name, options)
}
