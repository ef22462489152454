import fs from 'node:fs'
import path from 'node:path'
import { comparePaths } from '@varve/core'

/** A regular file found under a folder, with the stat fields the checksum cache compares. */
export interface LocalFile {
  /** Path relative to the folder, with '/' separators. */
  readonly rel: string
  readonly size: number
  readonly mtimeMs: number
  readonly ctimeMs: number
  readonly ino: number
}

/**
 * Every regular file under `dir`, recursively, sorted as Varve sorts paths (UTF-8 byte order), so it
 * can be merged with a branch listing. Symlinks are not followed. Compact on purpose: a million of
 * them are held at once. Synchronous on purpose: nothing else runs during the walk, and handing 100k
 * stats to the thread pool one by one cost twice the stats themselves.
 */
export async function walkFolder(dir: string): Promise<LocalFile[]> {
  const root = path.resolve(dir)
  const out: LocalFile[] = []
  const stack = ['']
  while (stack.length) {
    const rel = stack.pop()!
    for (const e of fs.readdirSync(rel ? path.join(root, rel) : root, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) stack.push(childRel)
      else if (e.isFile()) {
        const st = fs.statSync(path.join(root, childRel), { throwIfNoEntry: false })
        if (st?.isFile()) out.push({ rel: childRel, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino })
      }
    }
  }
  return out.sort((a, b) => comparePaths(a.rel, b.rel))
}
