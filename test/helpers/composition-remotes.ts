import { randomBytes } from 'node:crypto'
import fs from 'node:fs/promises'
import path from 'node:path'
import { Repository } from '@varve/core'
import { expectBytes, type MatrixCell, type ReadPath, type WritePath } from '@varve/core/testing'
import { expect } from 'vitest'
import { varve } from './varve-cli.js'

// Issue 27: clone, fetch and push join the composition matrix. As write paths, the dataset reaches the
// row's branch from a clone (pushed back by the built CLI, or pulled by the repository under test from
// the clone); as read paths, a lazy clone and a partial clone read what every write path wrote.

const cliEnv = (c: MatrixCell) => (c.services as { cliEnv: NodeJS.ProcessEnv }).cliEnv
const run = async (c: MatrixCell, args: string[], cwd = c.tmp) => {
  const r = await varve(args, { cwd, env: cliEnv(c), timeoutMs: 180_000 })
  if (r.code !== 0) throw new Error(`varve ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r
}
const fresh = (c: MatrixCell, label: string) => path.join(c.tmp, `${label}-${randomBytes(3).toString('hex')}`)
/** The row's head in a clone: the branch is `origin/<branch>` there; a commit id is itself. */
const inClone = (c: MatrixCell & { ref: string }) => (c.ref === c.branch ? `origin/${c.branch}` : c.ref)

export const remoteWrites: WritePath[] = [
  {
    name: 'varve clone, put, commit, push (CLI, from a local clone)',
    async write(c) {
      const side = fresh(c, 'clone')
      await run(c, ['clone', c.location, side])
      const folder = path.join(c.tmp, 'push-upload')
      for (const f of c.dataset.files) {
        await fs.mkdir(path.dirname(path.join(folder, f.path)), { recursive: true })
        await fs.writeFile(path.join(folder, f.path), f.bytes)
      }
      await run(c, ['branch', 'create', c.branch, '--from', `origin/${c.branch}`], side)
      await run(c, ['put', `${folder}/${c.dataset.prefix}`, `${c.branch}:${c.dataset.prefix}`], side)
      await run(c, ['commit', c.branch, '-m', 'matrix: pushed from a clone'], side)
      await run(c, ['push', 'origin', c.branch], side)
    },
  },
  {
    name: 'repo.pull from a clone (fetch writes into the repository)',
    async write(c) {
      const side = fresh(c, 'pulled-from')
      const clone = await Repository.clone(c.location, side, c.options)
      try {
        await clone.createBranch(c.branch, { from: `origin/${c.branch}` })
        await clone.putMany(
          c.branch,
          c.dataset.files.map((f) => ({ path: f.path, data: f.bytes })),
        )
        await clone.commit(c.branch, { message: 'matrix: pulled from a clone' })
      } finally {
        await clone.close()
      }
      const name = `side-${randomBytes(3).toString('hex')}`
      await c.repo.addRemote(name, side)
      const r = await c.repo.pull(name, { branch: c.branch })
      expect(r.outcome).toBe('fast-forward')
      await c.repo.removeRemote(name)
    },
  },
]

export const remoteReads: ReadPath[] = [
  {
    name: 'a lazy clone (varve clone --lazy, then varve get: fetched on first read)',
    async read(c) {
      const side = fresh(c, 'lazy')
      await run(c, ['clone', c.location, side, '--lazy'])
      const out = fresh(c, 'lazy-get')
      await run(c, ['get', `${inClone(c)}:${c.dataset.prefix}`, out], side)
      for (const f of c.dataset.files) expectBytes(f, await fs.readFile(path.join(out, f.path.slice(c.dataset.prefix.length))), 'lazy clone')
    },
  },
  {
    name: 'a partial clone of the dataset prefix (Repository.clone with prefix)',
    async read(c) {
      const clone = await Repository.clone(c.location, fresh(c, 'partial'), { ...c.options, clone: { prefix: c.dataset.prefix } })
      try {
        for (const f of c.dataset.files) expectBytes(f, await clone.get(inClone(c), f.path), 'partial clone')
      } finally {
        await clone.close()
      }
    },
  },
]
