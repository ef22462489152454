import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository, VarveError, type HookFailure, type TableDiffRecord } from '@varve/core'
import { pythonVenv, runPython } from './helpers/serve.js'

// Issue 11: one table written by every writer and option users meet (pyarrow data pages v1 and v2,
// each codec, dictionary on and off, 100-row groups, Parquet format 1.0; DuckDB; polars; pandas and
// fastparquet): every file streams back the same rows, passes the same contract, and diffs as equal
// to the pyarrow file row for row.

const RULES = `id: w
on: [pre-merge]
checks:
  - { type: unique, files: "w/*.parquet", column: id }
  - { type: null-fraction, files: "w/*.parquet", columns: { name: 0.1 } }
  - { type: unique, files: "w/*.parquet", column: day }
`

describe('the same table from every writer', () => {
  let dir: string
  let repo: Repository
  let written: { files: string[]; rows: number; idSum: number; names: number }

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-writer-matrix-'))
    const out = path.join(dir, 'files')
    await fs.mkdir(out)
    written = (await runPython(await pythonVenv(), 'writer_matrix.py', { OUT: out })) as unknown as typeof written
    repo = await Repository.init(path.join(dir, 'lake'), { author: 'test', durable: false })
    await repo.put('main', '_varve/hooks/w.yaml', RULES)
    await repo.commit('main', { message: 'rules' })
    await repo.createBranch('data')
    for (const f of written.files) await repo.put('data', `w/${f}`, await fs.readFile(path.join(out, f)))
    await repo.commit('data', { message: 'every writer' })
  }, 20 * 60_000)
  afterAll(async () => {
    await repo?.close()
    if (dir) await fs.rm(dir, { recursive: true, force: true })
  })

  it('every file streams back the same rows', async () => {
    expect(written.files.length).toBeGreaterThanOrEqual(19)
    for (const f of written.files) {
      let rows = 0
      let idSum = 0
      let names = 0
      for await (const b of repo.readDataset('data', `w/${f}`.replace(/[^/]+$/, ''), {
        columns: ['id', 'name'],
        filter: (file) => file.path === `w/${f}`,
        batchSize: 7000,
      })) {
        rows += b.numRows
        for (const v of b.getChild('id')!) idSum += Number(v)
        names += b.numRows - b.getChild('name')!.nullCount
      }
      expect({ f, rows, idSum, names }).toEqual({ f, rows: written.rows, idSum: written.idSum, names: written.names })
    }
  })

  it('the contract judges every file alike: id unique, names 9% null, day repeated', async () => {
    const err = await repo.merge('data', 'main', { dryRun: true }).catch((e: unknown) => e)
    expect(VarveError.is(err, 'HOOK_FAILED')).toBe(true)
    const failures = (err as VarveError).details.failures as HookFailure[]
    expect(failures.map((x) => x.file).sort()).toEqual(written.files.map((f) => `w/${f}`).sort())
    for (const x of failures) expect(x.reason).toMatch(/^column day has duplicate value "?2026-11-\d\d"?$/)
  })

  it('each file diffs as equal to the pyarrow file, row for row', async () => {
    await repo.createBranch('a', { from: 'data' })
    await repo.createBranch('b', { from: 'data' })
    await repo.put('a', 'cmp.parquet', await repo.get('data', 'w/pyarrow-v1-snappy.parquet'))
    await repo.commit('a', { message: 'base' })
    for (const f of written.files) {
      await repo.put('b', 'cmp.parquet', await repo.get('data', `w/${f}`))
      await repo.commit('b', { message: f })
      const records: TableDiffRecord[] = []
      for await (const r of repo.diffTable('a', 'b', 'cmp.parquet', { key: ['id'] })) records.push(r)
      const summary = records.at(-1) as Extract<TableDiffRecord, { type: 'summary' }>
      expect({ f, changed: summary.changed, added: summary.added, removed: summary.removed, unchanged: summary.unchanged }).toEqual({
        f,
        changed: 0,
        added: 0,
        removed: 0,
        unchanged: written.rows,
      })
    }
  })
})
