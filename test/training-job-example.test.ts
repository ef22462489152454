import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { trainPartition } from '@varve/core/testing'
import { runNode, tempDir } from './helpers/processes.js'
import { varve } from './helpers/varve-cli.js'

// Issue 10: the training-job example pins once and reads the pin afterwards, as its README promises.
const TRAIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'examples', 'training-job', 'train.mjs')

describe('examples/training-job', () => {
  it('the first run pins, later runs read the pin however the branch moved, --repin moves it', async () => {
    const t = await tempDir('training-job')
    try {
      const env = { VARVE_CACHE_DIR: path.join(t.dir, '.cache') }
      const cli = async (...args: string[]) => expect((await varve(args, { cwd: t.dir, env })).code).toBe(0)
      await fs.writeFile(path.join(t.dir, 'p0.parquet'), trainPartition(100))
      await cli('init')
      await cli('put', 'p0.parquet', 'main:train/day=1/part-0.parquet')
      await cli('commit', 'main', '-m', 'day 1')
      const lock = path.join(t.dir, 'varve.lock')
      const model = path.join(t.dir, 'model.json')
      const train = async (...extra: string[]) => {
        const out = await runNode(TRAIN, [path.join(t.dir, '.varve'), 'main', lock, model, ...extra])
        return { out, model: JSON.parse(await fs.readFile(model, 'utf8')) as { rows: number; data: { commit: string } } }
      }
      const first = await train()
      expect(first.out).toMatch(/^pinned main at [0-9a-f]{12} in /)
      expect(first.model.rows).toBe(100)

      await fs.writeFile(path.join(t.dir, 'p1.parquet'), trainPartition(50))
      await cli('put', 'p1.parquet', 'main:train/day=2/part-0.parquet')
      await cli('commit', 'main', '-m', 'day 2')
      const second = await train()
      expect(second.out).toMatch(/^reading the pin in .*: main at [0-9a-f]{12}, pinned /)
      expect(second.model).toEqual(first.model) // same commit, same rows, same "model"

      const third = await train('--repin')
      expect(third.model.rows).toBe(150)
      expect(third.model.data.commit).not.toBe(first.model.data.commit)
    } finally {
      await t.cleanup()
    }
  }, 120_000)
})
