import fs from 'node:fs/promises'
import path from 'node:path'

export interface LocalFile {
  readonly abs: string
  /** Path relative to the folder, with '/' separators. */
  readonly rel: string
  readonly size: number
}

/** Every regular file under `dir`, recursively, in path order (symlinks are not followed). */
export async function walkFolder(dir: string): Promise<LocalFile[]> {
  const out: LocalFile[] = []
  async function walk(abs: string, rel: string): Promise<void> {
    const entries = await fs.readdir(abs, { withFileTypes: true })
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const childAbs = path.join(abs, e.name)
      const childRel = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await walk(childAbs, childRel)
      else if (e.isFile()) out.push({ abs: childAbs, rel: childRel, size: (await fs.stat(childAbs)).size })
    }
  }
  await walk(path.resolve(dir), '')
  return out
}
