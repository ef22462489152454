import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(label = 'varve'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${label}-`))
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) }
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of it) out.push(x)
  return out
}
