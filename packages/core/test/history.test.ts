import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalBlockStore, Repository, SqliteRefStore, systemRandom } from '@varve/core'
import { ObjectStore } from '@varve/core/internal'
import { collect, tempDir } from './helpers.js'

describe('deep history', () => {
  it('10k commits: main~5000 resolves, log pages, merge base is found by generation', async () => {
    const t = await tempDir('deep')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
      const root = (await repo.getCommit('main')).root
      // Write the chain straight through the object layer: 10k repo.commit calls would mostly time fsync.
      const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks'), { durable: false }), { random: systemRandom })
      let head = await repo.resolve('main')
      const ids: string[] = [head]
      for (let i = 1; i < 10_000; i++) {
        head = (await objects.writeCommit({ parents: [head], root, message: `c${i}`, author: 'gen', metadata: {}, createdAt: i, generation: i + 1 })).id
        ids.push(head)
      }
      const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
      const b = (await refs.getBranch('main'))!
      expect(await refs.updateBranch(b, { ...b, head }, { ref: 'branch:main', old: b.head, new: head, operation: 'reset', author: 'gen', at: 1 })).toBe(true)
      await refs.close()

      const reopened = await Repository.open(lake)
      expect(await reopened.resolve('main~5000')).toBe(ids[9999 - 5000])
      expect(await reopened.resolve('main~9999')).toBe(ids[0])
      const page = await collect(reopened.log('main', { limit: 20 }))
      expect(page.map((c) => c.message)).toEqual(Array.from({ length: 20 }, (_, i) => `c${9999 - i}`))
      await reopened.createBranch('old', { from: 'main~9000' })
      await reopened.put('old', 'f', 'x')
      await reopened.commit('old', { message: 'side' })
      const m = await reopened.merge('old', 'main')
      expect(m.commit.parents[1]).toBe(await reopened.resolve('old'))
      expect((await reopened.getCommit('main')).generation).toBe(10_001)
      await reopened.close()
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})
