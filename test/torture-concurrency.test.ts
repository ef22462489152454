import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import { collect, runNode, tempDir, workers } from './helpers/processes.js'

// 8 processes mixing puts, commits, merges and branch creation on one repository. Afterwards the
// history is consistent: every commit's parents exist, no acknowledged commit is lost, none twice.
const OPS = Number(process.env.VARVE_TORTURE_OPS ?? 25)

describe('concurrency torture', () => {
  it('8 processes mixing puts, commits, merges and branch creation leave a consistent history', async () => {
    const t = await tempDir('mixed')
    try {
      const lake = path.join(t.dir, 'lake')
      const init = await Repository.init(lake)
      await init.createBranch('shared')
      await init.close()
      const startAt = String(Date.now() + 2000)
      const settled = await Promise.allSettled(
        Array.from({ length: 8 }, (_, id) => runNode(path.join(workers, 'mixed-worker.mjs'), [lake, String(id), String(OPS), startAt], { timeoutMs: 600_000 })),
      )
      for (const s of settled) if (s.status === 'rejected') throw s.reason
      const outs = settled.map((s) => (s as PromiseFulfilledResult<string>).value)
      const made = outs.flatMap((o) => JSON.parse(o) as [string, string][])
      expect(made.length).toBeGreaterThan(8 * OPS * 0.5)

      const repo = await Repository.open(lake)
      const reachable = new Map<string, number>()
      for await (const b of repo.branches())
        for await (const c of repo.log(b.name)) {
          reachable.set(c.id, (reachable.get(c.id) ?? 0) + 1)
          for (const p of c.parents) await repo.getCommit(p) // every parent exists and decodes
        }
      const mainLog = (await collect(repo.log('main'))).map((c) => c.id)
      expect(new Set(mainLog).size).toBe(mainLog.length) // no duplicates
      for (const [branch, id] of made) expect(reachable.has(id), `${branch} commit ${id} was lost`).toBe(true)
      const mergeCommits = made.filter(([b]) => b === 'main').map(([, id]) => id)
      expect(new Set(mergeCommits).size).toBe(mergeCommits.length) // each acknowledged once
      expect(await repo.verify({ full: true })).toMatchObject({ ok: true })
      await repo.close()
    } finally {
      await t.cleanup()
    }
  }, 900_000)
})
