import { describe, expect, it } from 'vitest'
import { Repository, type TableDiffRecord } from '@varve/core'
import { collect, tempDir } from './helpers.js'

// Issue 26: a row diff by position, for tables with no key (the web UI offers it next to a keyed one).

async function parquet(columns: Record<string, BigInt64Array | Float64Array | string[]>): Promise<Uint8Array> {
  const { tableFromArrays, tableToIPC } = await import('apache-arrow')
  const { Table, writeParquet } = await import('parquet-wasm')
  return writeParquet(Table.fromIPCStream(tableToIPC(tableFromArrays(columns), 'stream')))
}

describe('diffTable by position', () => {
  it('matches row i with row i: changed values, rows added at the end, rows removed from the end', async () => {
    const t = await tempDir('positional')
    try {
      const repo = await Repository.init(t.dir, { author: 't' })
      await repo.put('main', 't.parquet', await parquet({ city: ['Oslo', 'Lima', 'Pune', 'Kyiv'], temp: Float64Array.from([1, 2, 3, 4]) }))
      const before = (await repo.commit('main', { message: 'a' })).id
      await repo.put(
        'main',
        't.parquet',
        await parquet({ city: ['Oslo', 'Lima', 'Pune', 'Kyiv', 'Rome', 'Bern'], temp: Float64Array.from([1, 20, 3, 4, 5, 6]) }),
      )
      const after = (await repo.commit('main', { message: 'b' })).id
      const records = await collect(repo.diffTable(before, after, 't.parquet', { key: [], positional: true }))
      const rows = records.filter((r) => r.type !== 'schema' && r.type !== 'summary') as Exclude<TableDiffRecord, { type: 'schema' } | { type: 'summary' }>[]
      expect(rows.map((r) => [r.type, r.key])).toEqual([
        ['added', { row: 4 }],
        ['added', { row: 5 }],
        ['changed', { row: 1 }],
      ])
      expect(rows[2]).toMatchObject({ columns: ['temp'], before: { city: 'Lima', temp: 2 }, after: { city: 'Lima', temp: 20 } })
      expect(records.at(-1)).toMatchObject({ type: 'summary', added: 2, removed: 0, changed: 1, unchanged: 3 })
      // The other way round: the two last rows are removed.
      const back = await collect(repo.diffTable(after, before, 't.parquet', { key: [], positional: true }))
      expect(back.filter((r) => r.type === 'removed').map((r) => (r as { key: unknown }).key)).toEqual([{ row: 4 }, { row: 5 }])
      // A key and positional together, or neither, are typed errors.
      await expect(collect(repo.diffTable(before, after, 't.parquet', { key: ['city'], positional: true }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      await expect(collect(repo.diffTable(before, after, 't.parquet', { key: [] }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})
