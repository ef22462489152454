import fs from 'node:fs/promises'
import path from 'node:path'
import { comparePaths } from '@varve/core'
import { mapLimit } from '@varve/core/internal'

/** A regular file found under a folder, with the stat fields the checksum cache compares. */
export interface LocalFile {
  /** Path relative to the folder, with '/' separators. */
  readonly rel: string
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number
}

/** Files stat'ed at once: stat is a thread-pool call, and a folder can hold a million files. */
const STAT_WIDTH = 64

/**
 * Every regular file under `dir`, recursively, sorted as Varve sorts paths (UTF-8 byte order), so it
 * can be merged with a branch listing. Symlinks are not followed. Compact on purpose: a million of them
 * are held at once.
 */
export async function walkFolder(dir: string): Promise<LocalFile[]> {
  const root = path.resolve(dir)
  const out: LocalFile[] = []
  const walk = async (rel: string): Promise<void> => {
    const entries = await fs.readdir(rel ? path.join(root, rel) : root, { withFileTypes: true })
    const files: string[] = []
    const dirs: string[] = []
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) dirs.push(childRel)
      else if (e.isFile()) files.push(childRel)
    }
    const stats = await mapLimit(files, STAT_WIDTH, (r) => fs.stat(path.join(root, r)).catch(() => undefined))
    files.forEach((r, i) => {
      const st = stats[i]
      if (st?.isFile()) out.push({ rel: r, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino })
    })
    for (const d of dirs) await walk(d)
  }
  await walk('')
  return out.sort((a, b) => comparePaths(a.rel, b.rel))
}
