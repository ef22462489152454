import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ForwardingBlockStore, LocalBlockStore, Repository, SqliteRefStore } from '@varve/core'
import { tempDir } from './helpers.js'

// A read that misses an object's key looks where garbage collection quarantined it. An object being
// moved back (a writer restoring it; on S3 a rename is copy-then-delete) is in neither place for the
// instant between those two looks. Seen in CI: a collector's mark failed on a pack a writer restored.

/** A store that, the first time the quarantined copy of `key` is looked at, restores it just before. */
class RestoresUnderTheReader extends ForwardingBlockStore {
  restored = false
  constructor(
    inner: LocalBlockStore,
    private readonly key: string,
  ) {
    super(inner)
  }
  override async head(key: string) {
    if (!this.restored && key.startsWith('quarantine/') && key.endsWith(this.key)) {
      this.restored = true
      await this.inner.rename(key, this.key)
    }
    return this.inner.head(key)
  }
}

describe('reads racing a restore from quarantine', () => {
  for (const kind of ['a loose object', 'a packed one'] as const)
    it(`${kind} moved back between the two looks is still found`, async () => {
      const t = await tempDir('quarantine-read')
      try {
        const lake = path.join(t.dir, 'lake')
        const bytes = randomBytes(kind === 'a loose object' ? 3 * 1024 * 1024 : 1000)
        const repo = await Repository.init(lake, { durable: false })
        if (kind === 'a packed one') await repo.putMany('main', [{ path: 'f.bin', data: bytes }])
        else await repo.put('main', 'f.bin', bytes)
        await repo.commit('main', { message: 'f' })
        const entry = await repo.stat('main', 'f.bin')
        await repo.close()
        // quarantine it in an epoch the state says is pending, as a collection would have
        const key =
          entry.pack !== undefined
            ? `packs/${entry.pack.slice(0, 2)}/${entry.pack}`
            : `data/${entry.address.slice(0, 2)}/${entry.address.slice(2, 4)}/${entry.address}`
        expect(entry.pack !== undefined).toBe(kind === 'a packed one')
        const inner = new LocalBlockStore(path.join(lake, 'blocks'))
        const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
        await inner.rename(key, `quarantine/0000000007/${key}`)
        await refs.setSetting('gc/state', JSON.stringify({ epoch: 7, quarantining: false, completed: [], pending: [7] }))
        const blocks = new RestoresUnderTheReader(inner, key)
        const racing = await Repository.open({ blocks, refs })
        try {
          expect(Buffer.compare(Buffer.from(await racing.get('main', 'f.bin')), bytes)).toBe(0)
          expect(blocks.restored).toBe(true)
        } finally {
          await racing.close()
        }
      } finally {
        await t.cleanup()
      }
    })
})
