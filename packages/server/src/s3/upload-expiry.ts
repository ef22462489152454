import fsp from 'node:fs/promises'
import path from 'node:path'
import { isStoreUrl, type ServeConfig } from '../config.js'
import type { Repositories } from '../repositories.js'
import type { Assembly } from './assembly.js'
import { uploadRootFor } from './local-multipart.js'

const UPLOAD_ID = /^[0-9a-f]{32}$/

/**
 * Expires abandoned uploads of every served repository: those kept in a store of its own (S3) through
 * `repo.uploads.expire`, and those in upload folders. Returns the upload ids removed.
 */
export async function expireAllUploads(config: ServeConfig, uploads: Map<string, Assembly>, repos: Repositories): Promise<string[]> {
  const removed = await expireUploads(config, uploads)
  const lifetime = config.uploadLifetimeHours * 3600_000
  for (const served of config.repositories) {
    if (!isStoreUrl(served.location)) continue
    const repo = await repos.get(served.name).catch(() => undefined) // unreachable now: tried again next round
    if (repo?.uploads.supported) removed.push(...(await repo.uploads.expire(lifetime).catch(() => [] as string[])))
  }
  return removed
}

/**
 * Removes multipart uploads nothing was written to for `uploadLifetimeHours` (S3's
 * AbortIncompleteMultipartUpload): an abandoned upload otherwise holds its parts on disk forever.
 * Activity is the newest modification time in the upload's folder, so a slow upload that keeps
 * sending parts is never taken. Returns the upload ids removed.
 */
export async function expireUploads(config: ServeConfig, uploads: Map<string, Assembly>, now = Date.now()): Promise<string[]> {
  const roots = new Set(config.repositories.map((r) => uploadRootFor(config, r.name)))
  const removed: string[] = []
  for (const root of roots) {
    const names = await fsp.readdir(root).catch(() => [] as string[])
    for (const id of names) {
      if (!UPLOAD_ID.test(id)) continue
      const dir = path.join(root, id)
      if (now - (await lastActivity(dir)) < config.uploadLifetimeHours * 3600_000) continue
      uploads.get(id)?.cancel()
      uploads.delete(id)
      await fsp.rm(dir, { recursive: true, force: true })
      removed.push(id)
    }
  }
  return removed
}

async function lastActivity(dir: string): Promise<number> {
  let newest = 0
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    const st = await fsp.stat(path.join(dir, name)).catch(() => undefined)
    if (st && st.mtimeMs > newest) newest = st.mtimeMs
  }
  return newest || (await fsp.stat(dir).catch(() => undefined))?.mtimeMs || 0
}
