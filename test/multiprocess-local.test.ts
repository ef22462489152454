import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Repository } from '@varve/core'
import { collect, runNode, tempDir, workers } from './helpers/processes.js'

describe('several processes on one local repository', () => {
  it('4 processes x 25 branch-commit-merge cycles: main holds all 100 merges, each once', async () => {
    const t = await tempDir('mp-merge')
    try {
      const lake = path.join(t.dir, 'lake')
      await (await Repository.init(lake)).close()
      const startAt = String(Date.now() + 1500)
      const outs = await Promise.all(
        [0, 1, 2, 3].map((id) => runNode(path.join(workers, 'merge-worker.mjs'), [lake, '', String(id), '25', startAt], { timeoutMs: 240_000 })),
      )
      const reported = outs.flatMap((o) => (JSON.parse(o) as { merges: string[] }).merges)
      expect(new Set(reported).size).toBe(100)

      const repo = await Repository.open(lake)
      const log = await collect(repo.log('main'))
      const merges = log.filter((c) => c.parents.length === 2)
      expect(merges).toHaveLength(100)
      expect(new Set(merges.map((c) => c.message)).size).toBe(100)
      expect(new Set(log.map((c) => c.id)).size).toBe(log.length)
      for (const id of reported) expect(log.some((c) => c.id === id)).toBe(true)
      const files = await collect(repo.list('main', { prefix: 'workers/' }))
      expect(files).toHaveLength(100)
      for (const f of files) expect(Buffer.from(await repo.get('main', f.path)).toString()).toMatch(/^worker \d iteration \d+\n$/)
      const moves = await collect(repo.refLog('main'))
      expect(moves.filter((r) => r.operation === 'merge')).toHaveLength(100)
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('4 processes stage 50 files each onto one branch at once; one commit holds all 200', async () => {
    const t = await tempDir('mp-stage')
    try {
      const lake = path.join(t.dir, 'lake')
      const init = await Repository.init(lake)
      await init.createBranch('ingest')
      await init.close()
      const startAt = String(Date.now() + 1500)
      await Promise.all([0, 1, 2, 3].map((id) => runNode(path.join(workers, 'stage-worker.mjs'), [lake, '', String(id), '50', 'ingest', startAt])))
      const repo = await Repository.open(lake)
      expect(await collect(repo.uncommitted('ingest'))).toHaveLength(200)
      const c = await repo.commit('ingest', { message: 'all of it' })
      const files = await collect(repo.list(c.id))
      expect(files).toHaveLength(200)
      expect(await collect(repo.uncommitted('ingest'))).toEqual([])
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})
