import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RecordBatch } from 'apache-arrow'
import { pinDataset, PinnedDataset, Repository, VarveError } from '@varve/core'
import { pythonVenv, runPython } from './helpers/serve.js'

// Issue 11, streaming reads for training jobs: a Hive-partitioned dataset written by pyarrow
// (write_to_dataset: split=/year=/region= folders, 1,000-row groups, URL-encoded values, a _SUCCESS
// marker) read back through readDataset must give what pyarrow.dataset reads, per partition.

describe('readDataset over a dataset pyarrow wrote', () => {
  let dir: string
  let repo: Repository
  let expected: { rows: number; files: string[]; groups: [string, string, string, number, number][] }
  let lock: string

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-read-dataset-'))
    const out = path.join(dir, 'hive')
    expected = (await runPython(await pythonVenv(), 'hive_dataset.py', { OUT: out })) as unknown as typeof expected
    repo = await Repository.init(path.join(dir, 'lake'), { author: 'test', durable: false })
    for (const f of expected.files) await repo.put('main', `ds/${f}`, await fs.readFile(path.join(out, f)))
    await repo.put('main', 'other/not-in-prefix.parquet', await fs.readFile(path.join(out, expected.files.find((f) => f.endsWith('.parquet'))!)))
    await repo.commit('main', { message: 'dataset' })
    lock = path.join(dir, 'varve.lock')
    await pinDataset(repo, 'main', { lock, name: 'train' })
  }, 20 * 60_000)
  afterAll(async () => {
    await repo?.close()
    if (dir) await fs.rm(dir, { recursive: true, force: true })
  })

  const collect = async (batches: AsyncIterable<RecordBatch>) => {
    const all: RecordBatch[] = []
    for await (const b of batches) all.push(b)
    return all
  }
  const groupsOf = (batches: RecordBatch[]) => {
    const g = new Map<string, [string, string, string, number, number]>()
    for (const b of batches) {
      const split = b.getChild('split')!,
        year = b.getChild('year')!,
        region = b.getChild('region')!,
        x = b.getChild('x')!
      for (let i = 0; i < b.numRows; i++) {
        const k = `${split.get(i)}|${year.get(i)}|${region.get(i)}`
        const row = g.get(k) ?? [split.get(i), year.get(i), region.get(i), 0, 0]
        row[3]++
        row[4] += x.get(i)
        g.set(k, row)
      }
    }
    return [...g.values()].sort()
  }

  it('reads every row with its partition columns (URL-decoded), as pyarrow.dataset does', async () => {
    const batches = await collect(repo.readDataset('main', 'ds/'))
    expect(batches.reduce((n, b) => n + b.numRows, 0)).toBe(expected.rows)
    expect(batches[0]!.schema.fields.map((f) => f.name)).toEqual(['id', 'x', 'label', 'split', 'year', 'region'])
    expect(groupsOf(batches)).toEqual(expected.groups)
    expect(expected.groups.map((g) => g[2])).toContain('eu/west')
  })

  it('projects columns in the order asked, picks files by partition values, and cuts batches to batchSize', async () => {
    const only = await collect(repo.readDataset('main', 'ds/', { columns: ['x', 'split'], filter: { split: 'train', year: ['2024', '2025'] }, batchSize: 300 }))
    expect(only[0]!.schema.fields.map((f) => f.name)).toEqual(['x', 'split'])
    const want = expected.groups.filter((g) => g[0] === 'train' && (g[1] === '2024' || g[1] === '2025')).reduce((n, g) => n + g[3], 0)
    expect(only.reduce((n, b) => n + b.numRows, 0)).toBe(want)
    expect(Math.max(...only.map((b) => b.numRows))).toBeLessThanOrEqual(300)
    expect(only.every((b) => [...b.getChild('split')!].every((v) => v === 'train'))).toBe(true)
    // a function filter sees each file's path and partition; partition columns alone count rows
    const seen: string[] = []
    const keys = await collect(repo.readDataset('main', 'ds/', { columns: ['region'], filter: (f) => (seen.push(f.path), f.partition.region === 'us east') }))
    expect(keys.reduce((n, b) => n + b.numRows, 0)).toBe(expected.groups.filter((g) => g[2] === 'us east').reduce((n, g) => n + g[3], 0))
    expect(seen.some((p) => p.includes('_SUCCESS'))).toBe(false)
  })

  it('at a pinned commit, reads the pinned files after the branch moved on', async () => {
    await repo.delete('main', expected.files.filter((f) => f.endsWith('.parquet')).map((f) => `ds/${f}`)[0]!)
    await repo.commit('main', { message: 'drop a file' })
    const pinned = await PinnedDataset.open(lock, 'train')
    try {
      const rows = (await collect(pinned.readDataset('ds/', { columns: ['id'] }))).reduce((n, b) => n + b.numRows, 0)
      expect(rows).toBe(expected.rows)
    } finally {
      await pinned.repository.close()
    }
    const now = (await collect(repo.readDataset('main', 'ds/', { columns: ['id'] }))).reduce((n, b) => n + b.numRows, 0)
    expect(now).toBeLessThan(expected.rows)
  })

  it('refuses what it cannot do with a typed error: unknown column, bad batch size, a broken file', async () => {
    const code = (p: AsyncIterable<RecordBatch>) =>
      collect(p).then(
        () => 'none',
        (e: unknown) => (e instanceof VarveError ? e.code : String(e)),
      )
    expect(await code(repo.readDataset('main', 'ds/', { columns: ['nope'] }))).toBe('INVALID_ARGUMENT')
    expect(await code(repo.readDataset('main', 'ds/', { batchSize: 0 }))).toBe('INVALID_ARGUMENT')
    await repo.put('main', 'ds/split=train/year=2023/region=x/broken.parquet', 'PAR1 not really PAR1')
    const err = await collect(repo.readDataset('main', 'ds/', { filter: { region: 'x' } })).catch((e: unknown) => e)
    expect(VarveError.is(err, 'INVALID_PARQUET')).toBe(true)
    expect((err as VarveError).message).toContain('broken.parquet')
  })
})
