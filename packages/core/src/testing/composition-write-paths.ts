import fs from 'node:fs/promises'
import path from 'node:path'
import type { Repository } from '../repository/repository.js'
import type { MatrixDataset } from './composition-dataset.js'
import type { MatrixCell, WritePath } from './composition-types.js'

/** The library's bulk path: small files packed many to an object, large ones loose. */
async function putManyAll(repo: Repository, branch: string, d: MatrixDataset): Promise<void> {
  const summary = await repo.putMany(
    branch,
    d.files.map((f) => ({ path: f.path, data: f.bytes })),
  )
  if (!summary.packs) throw new Error(`putMany wrote no pack for ${d.files.length} files: the matrix would not cover packed data`)
}

/** A side branch from the row's base holding the dataset, committed through putMany. */
async function sideWithDataset(c: MatrixCell, suffix: string): Promise<string> {
  const side = `${c.branch}-${suffix}`
  await c.repo.createBranch(side, { from: c.base })
  await putManyAll(c.repo, side, c.dataset)
  await c.repo.commit(side, { message: `dataset on ${side}` })
  return side
}

/** The write paths of the library itself; the CLI and the gateway add theirs (test/composition.test.ts). */
export const coreWritePaths: readonly WritePath[] = [
  {
    name: 'repo.put',
    async write(c) {
      for (const f of c.dataset.files) await c.repo.put(c.branch, f.path, f.bytes)
      await c.repo.commit(c.branch, { message: 'matrix: put' })
    },
  },
  {
    name: 'repo.put conditional (ifNoneMatch, as delta-rs commits)',
    async write(c) {
      for (const f of c.dataset.files) await c.repo.put(c.branch, f.path, f.bytes, { ifNoneMatch: '*' })
      await c.repo.commit(c.branch, { message: 'matrix: conditional put' })
    },
  },
  {
    name: 'putMany (packs)',
    async write(c) {
      await putManyAll(c.repo, c.branch, c.dataset)
      await c.repo.commit(c.branch, { message: 'matrix: putMany' })
    },
  },
  {
    name: 'repo.putFolder (then an unchanged re-put, known by the folder index)',
    async write(c) {
      const dir = path.join(c.tmp, 'put-folder')
      for (const f of c.dataset.files) {
        await fs.mkdir(path.dirname(path.join(dir, f.path)), { recursive: true })
        await fs.writeFile(path.join(dir, f.path), f.bytes)
      }
      const checksumCache = path.join(c.tmp, 'put-folder-cache')
      const first = await c.repo.putFolder(c.branch, dir, '', { checksumCache })
      if (first.uploaded !== c.dataset.files.length) throw new Error(`putFolder staged ${first.uploaded} of ${c.dataset.files.length} files`)
      await c.repo.commit(c.branch, { message: 'matrix: putFolder' })
      const again = await c.repo.putFolder(c.branch, dir, '', { checksumCache })
      if (again.uploaded !== 0 || again.skipped !== c.dataset.files.length) throw new Error(`an unchanged re-put staged ${again.uploaded} files`)
    },
  },
  {
    name: 'copy (from packed data)',
    async write(c) {
      const side = await sideWithDataset(c, 'copy-src')
      const from = await c.repo.resolve(side)
      for (const f of c.dataset.files) await c.repo.copy(from, f.path, c.branch, f.path)
      await c.repo.commit(c.branch, { message: 'matrix: copy' })
    },
  },
  {
    name: 'a merge result',
    async write(c) {
      const side = await sideWithDataset(c, 'merge-src')
      // The destination moves too, so the merge is a real three-way one (a merge commit, two parents).
      await c.repo.put(c.branch, '_matrix/dest-side.txt', 'the destination changed too')
      await c.repo.commit(c.branch, { message: 'matrix: the destination moves' })
      const r = await c.repo.merge(side, c.branch)
      if (r.commit.parents.length !== 2) throw new Error('the merge made no merge commit')
    },
  },
  {
    name: 'a revert result',
    async write(c) {
      await putManyAll(c.repo, c.branch, c.dataset)
      await c.repo.commit(c.branch, { message: 'matrix: dataset' })
      for (const f of c.dataset.files) await c.repo.delete(c.branch, f.path)
      const removal = await c.repo.commit(c.branch, { message: 'matrix: remove everything' })
      await c.repo.revert(c.branch, removal.id)
    },
  },
  {
    name: 'a cherry-pick result',
    async write(c) {
      const side = await sideWithDataset(c, 'pick-src')
      await c.repo.cherryPick(c.branch, side)
    },
  },
  {
    name: 'a reset target',
    async write(c) {
      const side = await sideWithDataset(c, 'reset-src')
      await c.repo.reset(c.branch, side)
    },
  },
]
