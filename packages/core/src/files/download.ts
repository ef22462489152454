import { createWriteStream } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Entry } from '../model/entry.js'
import { systemRandom } from '../util/clock.js'
import { mapLimit } from '../util/map-limit.js'
import { validatePath } from '../util/paths.js'

/** What a download reads from: a repository at one ref, or a pinned dataset. */
export interface DownloadSource {
  list(options: { prefix: string }): AsyncIterable<{ type: 'object' | 'prefix'; path: string; size?: number }>
  stat(path: string): Promise<Entry>
  stream(path: string): Promise<NodeJS.ReadableStream | AsyncIterable<Uint8Array>>
}

/**
 * Writes a stored file to `target` so that `target` only ever holds verified bytes: the stream goes to
 * a temporary file beside it, which becomes `target` only after the whole stream re-hashed to its
 * address (a CORRUPT_OBJECT read leaves nothing behind, not even the temporary file).
 */
export async function writeVerified(stream: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, target: string): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.varve-${systemRandom.hex(6)}.tmp`)
  try {
    await pipeline(stream as NodeJS.ReadableStream, createWriteStream(tmp, { flags: 'wx' }))
    await fs.rename(tmp, target)
  } catch (err) {
    await fs.rm(tmp, { force: true })
    throw err
  }
}

/** The local file a stored path maps to under `dir`, refusing any path that would leave it. */
export function localTarget(dir: string, relative: string): string {
  validatePath(relative)
  const root = path.resolve(dir)
  const target = path.resolve(root, ...relative.split('/'))
  if (!target.startsWith(root + path.sep))
    throw new VarveError(ErrorCodes.INVALID_PATH, `${JSON.stringify(relative)} would be written outside ${dir}`, { details: { path: relative } })
  return target
}

export interface DownloadOptions {
  /** Files downloaded at once (default 4). */
  readonly jobs?: number
  readonly onFile?: (path: string, size: number) => void
}

/**
 * Downloads every file under `prefix` into `dir` (paths relative to the prefix), each verified before
 * it takes its name. After a failure no new download starts; those in flight finish, then it is raised.
 */
export async function downloadPrefix(
  source: DownloadSource,
  prefix: string,
  dir: string,
  options: DownloadOptions = {},
): Promise<{ files: number; bytes: number }> {
  const items: { path: string; size: number }[] = []
  for await (const i of source.list({ prefix })) if (i.type === 'object') items.push({ path: i.path, size: i.size ?? 0 })
  // Every target is validated before anything is written.
  const jobs = items.map((item) => ({ item, target: localTarget(dir, item.path.slice(prefix.length)) }))
  await mapLimit(jobs, Math.max(1, options.jobs ?? 4), async ({ item, target }) => {
    await fs.mkdir(path.dirname(target), { recursive: true })
    await writeVerified(await source.stream(item.path), target)
    options.onFile?.(item.path, item.size)
  })
  return { files: items.length, bytes: items.reduce((s, i) => s + i.size, 0) }
}
