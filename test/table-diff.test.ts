import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository, VarveError, type TableDiffRecord } from '@varve/core'
import { pythonVenv, runPython } from './helpers/serve.js'
import { varve } from './helpers/varve-cli.js'

// Issue 11, row-level diff: two versions of a 50k-row table written by pyarrow (test/python/
// table_versions.py: ids dropped, scores and names changed, ids added, rows shuffled, a column
// added, 8,192-row groups), diffed by key against the ids the script says it changed.

interface Expected {
  removed: number
  added: number
  changed: number
  unchanged: number
  removedIds: number[]
  addedIds: number[]
  changedIds: Record<string, string[]>
}

describe('diffTable over two versions pyarrow wrote', () => {
  let dir: string
  let repo: Repository
  let expected: Expected
  const env = () => ({ VARVE_REPO: path.join(dir, 'lake'), NO_COLOR: '1' })

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-table-diff-'))
    const out = path.join(dir, 'versions')
    await fs.mkdir(out)
    expected = (await runPython(await pythonVenv(), 'table_versions.py', { OUT: out })) as unknown as Expected
    const v1 = await fs.readFile(path.join(out, 'v1.parquet'))
    const v2 = await fs.readFile(path.join(out, 'v2.parquet'))
    repo = await Repository.init(path.join(dir, 'lake'), { author: 'test', durable: false })
    await repo.put('main', 't/data.parquet', v1)
    await repo.put('main', 'p/part-0.parquet', v1)
    await repo.commit('main', { message: 'v1' })
    await repo.createBranch('v1')
    await repo.put('main', 't/data.parquet', v2)
    await repo.put('main', 'p/part-0.parquet', v2)
    await repo.commit('main', { message: 'v2' })
    await repo.createBranch('dup', { from: 'main' })
    await repo.put('dup', 'p/part-1.parquet', v1) // every old id again: the key is no longer unique
    await repo.commit('dup', { message: 'duplicate ids' })
  }, 20 * 60_000)
  afterAll(async () => {
    await repo?.close()
    if (dir) await fs.rm(dir, { recursive: true, force: true })
  })

  const collect = async (it: AsyncIterable<TableDiffRecord>) => {
    const out: TableDiffRecord[] = []
    for await (const r of it) out.push(r)
    return out
  }

  it('finds exactly the rows removed, added and changed (with the changed columns and both values), a file or a folder alike', async () => {
    for (const target of ['t/data.parquet', 'p/']) {
      const records = await collect(repo.diffTable('v1', 'main', target, { key: ['id'] }))
      expect(records[0]).toEqual({ type: 'schema', added: [{ name: 'extra', type: 'int32' }], removed: [], changed: [] })
      expect(records.at(-1)).toEqual({
        type: 'summary',
        rows: { before: 50_000, after: 50_000 - expected.removed + expected.added },
        added: expected.added,
        removed: expected.removed,
        changed: expected.changed,
        unchanged: expected.unchanged,
      })
      const ids = (type: string) =>
        records
          .filter((r) => r.type === type)
          .map((r) => Number((r as { key: { id: bigint } }).key.id))
          .sort((a, b) => a - b)
      expect(ids('removed')).toEqual(expected.removedIds)
      expect(ids('added')).toEqual(expected.addedIds)
      const changed = records.filter((r): r is Extract<TableDiffRecord, { type: 'changed' }> => r.type === 'changed')
      expect(Object.fromEntries(changed.map((r) => [String(r.key.id), r.columns]))).toEqual(expected.changedIds)
      const named = changed.find((r) => r.columns.includes('name'))!
      const n = Number(named.key.id)
      expect(named.before).toEqual({ id: BigInt(n), name: `n${n}`, score: n * 0.25 })
      expect(named.after).toEqual({ id: BigInt(n), name: `n${n}x`, score: n * 0.25, extra: 1 })
      const scored = changed.find((r) => r.columns.includes('score'))!
      const k = Number(scored.key.id)
      expect([scored.before.score, scored.after.score]).toEqual([k * 0.25, k * 0.25 + 1])
    }
  })

  it('refuses a key that is not unique, or not there, with a typed error', async () => {
    const err = await collect(repo.diffTable('v1', 'dup', 'p/', { key: ['id'] })).catch((e: unknown) => e)
    expect(VarveError.is(err, 'INVALID_ARGUMENT')).toBe(true)
    expect((err as Error).message).toMatch(/the key \(id\) is not unique in the new version: \{"id":\d+\} is at rows \d+ and \d+/)
    const missing = await collect(repo.diffTable('v1', 'main', 't/data.parquet', { key: ['nope'] })).catch((e: unknown) => e)
    expect(VarveError.is(missing, 'INVALID_ARGUMENT')).toBe(true)
    const none = await collect(repo.diffTable('v1', 'main', 'nothing/', { key: ['id'] })).catch((e: unknown) => e)
    expect(VarveError.is(none, 'NOT_FOUND')).toBe(true)
  })

  it('varve diff -- <path> --rows --key: NDJSON, counts only, text, and the schema alone', async () => {
    const json = await varve(['diff', 'v1', 'main', '--', 't/data.parquet', '--rows', '--key', 'id', '--json'], { cwd: dir, env: env() })
    expect(json.code).toBe(0)
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines).toHaveLength(2 + expected.added + expected.removed + expected.changed)
    const removed = lines.find((l) => l.type === 'removed')
    expect(removed.key.id).toBe(expected.removedIds[0]) // integers as JSON numbers
    const stat = await varve(['diff', 'v1', 'main', '--rows', '--key', 'id', '--stat', '--', 't/'], { cwd: dir, env: env() })
    expect(stat.stdout.trim().split('\n')).toEqual([
      'columns:  +extra int32',
      `${expected.added} added, ${expected.removed} removed, ${expected.changed} changed, ${expected.unchanged} unchanged rows (50000 → ${50_000 - expected.removed + expected.added})`,
    ])
    const text = await varve(['diff', 'v1', 'main', '--', 't/data.parquet', '--rows', '--key', 'id', '--columns', 'score'], { cwd: dir, env: env() })
    expect(text.stdout).toContain(`- id=${expected.removedIds[1]} score=${expected.removedIds[1]! * 0.25}`)
    expect(text.stdout).toMatch(/~ id=\d+ {2}score: [\d.]+ → [\d.]+/)
    const schema = await varve(['diff', 'v1', 'main', '--', 't/', '--schema'], { cwd: dir, env: env() })
    expect(schema.stdout.trim()).toBe('t/data.parquet  +extra int32')
    const noKey = await varve(['diff', 'v1', 'main', '--', 't/', '--rows'], { cwd: dir, env: env() })
    expect(noKey.code).not.toBe(0)
    expect(noKey.stderr).toContain('INVALID_ARGUMENT')
    // --json after the path, as the flags of the example: the error is a JSON document too
    const noKeyJson = await varve(['diff', 'v1', 'main', '--', 't/', '--rows', '--json'], { cwd: dir, env: env() })
    expect(JSON.parse(noKeyJson.stderr).error.code).toBe('INVALID_ARGUMENT')
  })
})
