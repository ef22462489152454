import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pinDataset, PinnedDataset, Repository, VarveError, type HookFailure } from '@varve/core'
import { pythonVenv, runPython } from './helpers/serve.js'
import { varve } from './helpers/varve-cli.js'

// Contracts over Parquet written by pyarrow (the pinned venv): the values issue 11 found judged wrong
// (timestamps 1 ns apart, lists that join to the same string, big decimals, nested columns, a file of
// no rows) are written by a real writer at test time and judged through a real merge.

const RULES = `id: q
on: [pre-merge]
checks:
  - { type: unique, files: "f/ts_ns.parquet", column: ts }
  - { type: unique, files: "f/ts_dup.parquet", column: ts }
  - { type: unique, files: "f/lists.parquet", column: tags }
  - { type: unique, files: "f/lists_dup.parquet", column: tags }
  - { type: unique, files: "f/decimals.parquet", column: d }
  - { type: unique, files: "f/structs_dup.parquet", column: st }
  - { type: unique, files: "f/dict.parquet", column: c }
  - { type: unique, files: "f/interval.parquet", column: iv }
  - { type: null-fraction, files: "f/nested.parquet", max: 0.1 }
  - type: parquet-schema
    files: "f/nested.parquet"
    columns: { id: { nullable: false }, st: { nullable: false }, lst: { nullable: false }, m: { nullable: false } }
  - type: parquet-schema
    files: "f/empty.parquet"
    columns: { id: { nullable: false }, st: { nullable: false }, lst: { nullable: false }, m: { nullable: false } }
  - type: parquet-schema
    files: "f/types.parquet"
    allowExtraColumns: false
    columns:
      ts_ms: { type: "timestamp[ms]" }
      ts_us_utc: { type: "timestamp[us, tz=UTC]" }
      ts_ns_paris: { type: "timestamp[ns, tz=Europe/Paris]" }
      d: { type: "decimal128(10, 2)" }
      big: { type: "decimal256(40, 2)" }
      li: { type: "list<element: int32>" }
      ls: { type: "list<string>" }
      st: { type: "struct<a: int32, b: string>" }
      m: { type: "map<string, int32>" }
      t32: { type: "time32[ms]" }
      t64: { type: "time64[us]" }
      dt: { type: date32 }
      u: { type: uint16 }
      fx: { type: "fixed_size_binary[4]" }
      s: { type: large_string }
      st.a: { type: int32 }
      li.element: { type: int32 }
      m.value: { type: int32 }
  - type: parquet-schema
    files: "f/types.parquet"
    columns:
      ts_ms: { type: "timestamp[ns]" }
      ts_us_utc: { type: "timestamp[us]" }
      d: { type: "decimal(10, 3)" }
      li: { type: "list<int64>" }
      st: { type: "struct<a: int32, b: int32>" }
      m: { type: "map<string, string>" }
      st.c: { type: int32 }
`

describe('contracts over files pyarrow wrote', () => {
  let dir: string
  let repo: Repository
  let files: string[]

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'varve-parquet-writers-'))
    const fixtures = path.join(dir, 'fixtures')
    await fs.mkdir(fixtures)
    const venv = await pythonVenv()
    files = (await runPython(venv, 'parquet_fixtures.py', { FIXTURES: fixtures })).files as string[]
    repo = await Repository.init(path.join(dir, 'lake'), { author: 'test', durable: false })
    await repo.put('main', '_varve/hooks/q.yaml', RULES)
    await repo.commit('main', { message: 'rules' })
    await repo.createBranch('data')
    for (const f of files) await repo.put('data', `f/${f}`, await fs.readFile(path.join(fixtures, f)))
    await repo.commit('data', { message: 'fixtures' })
  }, 20 * 60_000)
  afterAll(async () => {
    await repo?.close()
    await fs.rm(dir, { recursive: true, force: true })
  })

  it('unique is exact for every type; null-fraction and nullable judge nested columns by their own nulls; a file of no rows holds none; precise types and nested fields', async () => {
    expect(files).toHaveLength(11)
    const err = await repo.merge('data', 'main').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(VarveError.is(err, 'HOOK_FAILED')).toBe(true)
    const all = ((err as VarveError).details.failures as HookFailure[]).map((f) => `${f.file}: ${f.reason}`).sort()
    // precise types: what a wrong expectation is told, in pyarrow's spelling
    expect(all.filter((f) => f.startsWith('f/types.parquet'))).toEqual([
      'f/types.parquet: column d has type decimal128(10, 2), expected decimal128(10, 3)',
      'f/types.parquet: column li has type list<element: int32>, expected list<element: int64>',
      'f/types.parquet: column m has type map<string, int32>, expected map<string, string>',
      'f/types.parquet: column st has type struct<a: int32, b: string>, expected struct<a: int32, b: int32>',
      'f/types.parquet: column st.c is missing',
      'f/types.parquet: column ts_ms has type timestamp[ms], expected timestamp[ns]',
      'f/types.parquet: column ts_us_utc has type timestamp[us, tz=UTC], expected timestamp[us]',
    ])
    const found = all.filter((f) => !f.startsWith('f/types.parquet'))
    expect(found).toHaveLength(5)
    expect(found[0]).toMatch(/^f\/lists_dup\.parquet: column tags has duplicate value \["x"\]$/)
    expect(found[1]).toBe('f/nested.parquet: column st is 25.00% null (1 of 4), more than 10.00%')
    expect(found[2]).toBe('f/nested.parquet: column st is nullable and holds 1 null, expected non-nullable')
    expect(found[3]).toMatch(/^f\/structs_dup\.parquet: column st has duplicate value \{"a":1,"b":"x"\}$/)
    expect(found[4]).toMatch(/^f\/ts_dup\.parquet: column ts has duplicate value /)
    // nothing about the leaves inside nested columns, nothing about ts_ns, lists, decimals, dict or empty
    expect(found.join('\n')).not.toMatch(/element|key|value\b.*missing|missing|ts_ns|f\/lists\.parquet|decimals|dict|empty|interval/)
  })

  it('diff --stat shows per Parquet file its rows and column changes, from the footers', async () => {
    const fixtures = path.join(dir, 'fixtures')
    const bytes = (f: string) => fs.readFile(path.join(fixtures, f))
    await repo.createBranch('v1', { from: 'main' })
    await repo.put('v1', 't/grows.parquet', await bytes('empty.parquet'))
    await repo.put('v1', 't/retyped.parquet', await bytes('ts_ns.parquet'))
    await repo.put('v1', 't/reshaped.parquet', await bytes('nested.parquet'))
    await repo.put('v1', 't/gone.parquet', await bytes('lists.parquet'))
    await repo.put('v1', 't/notes.txt', 'not a table')
    await repo.commit('v1', { message: 'v1' })
    await repo.createBranch('v2', { from: 'v1' })
    await repo.put('v2', 't/grows.parquet', await bytes('nested.parquet'))
    await repo.put('v2', 't/retyped.parquet', await bytes('ts_dup.parquet'))
    await repo.put('v2', 't/reshaped.parquet', await bytes('types.parquet'))
    await repo.delete('v2', 't/gone.parquet')
    await repo.put('v2', 't/new.parquet', await bytes('dict.parquet'))
    await repo.put('v2', 't/broken.parquet', 'not parquet')
    await repo.put('v2', 't/notes.txt', 'still not a table')
    await repo.commit('v2', { message: 'v2' })
    const stats = []
    for await (const st of repo.tableChangeStats('v1', 'v2', { prefix: 't/' })) stats.push(st)
    expect(stats.map((st) => st.path)).toEqual([
      't/broken.parquet',
      't/gone.parquet',
      't/grows.parquet',
      't/new.parquet',
      't/reshaped.parquet',
      't/retyped.parquet',
    ])
    const by = Object.fromEntries(stats.map((st) => [st.path, st]))
    expect(by['t/broken.parquet']!.invalid).toMatch(/not a valid Parquet file/)
    expect(by['t/gone.parquet']).toMatchObject({ type: 'removed', rows: { before: 4 } })
    expect(by['t/grows.parquet']).toMatchObject({ type: 'changed', rows: { before: 0, after: 4 }, columns: { added: [], removed: [], changed: [] } })
    expect(by['t/new.parquet']).toMatchObject({ type: 'added', rows: { after: 3 } })
    expect(by['t/retyped.parquet']!.columns.changed).toEqual([{ name: 'ts', before: 'timestamp[ns]', after: 'timestamp[ns, tz=UTC]' }])
    const reshaped = by['t/reshaped.parquet']!
    expect(reshaped.rows).toEqual({ before: 4, after: 1 })
    expect(reshaped.columns.removed.map((c) => c.name)).toEqual(['id', 'lst'])
    expect(reshaped.columns.added.map((c) => c.name)).toContain('ts_us_utc')
    expect(reshaped.columns.changed).toEqual([]) // st and m have the same types in both files

    // the CLI prints the same, one line per file under the summary
    const out = await varve(['diff', 'v1', 'v2', '--stat', '--prefix', 't/'], { cwd: dir, env: { VARVE_REPO: path.join(dir, 'lake'), NO_COLOR: '1' } })
    expect(out.code).toBe(0)
    expect(out.stdout).toMatch(/^2 added, 4 changed, 1 removed/)
    expect(out.stdout).toContain('  t/grows.parquet  rows 0 → 4 (+4)')
    expect(out.stdout).toContain('  t/retyped.parquet  2 rows  ~ts timestamp[ns] → timestamp[ns, tz=UTC]')
    expect(out.stdout).toContain('  t/gone.parquet  4 rows removed')
    const json = JSON.parse(
      (await varve(['diff', 'v1', 'v2', '--stat', '--json', '--prefix', 't/'], { cwd: dir, env: { VARVE_REPO: path.join(dir, 'lake') } })).stdout,
    )
    expect(json.tables).toHaveLength(6)
  })

  it('reads INTERVAL columns whole: months, days and milliseconds (they lost their months)', async () => {
    const lock = path.join(dir, 'varve.lock')
    await pinDataset(repo, 'data', { lock, name: 'iv' })
    const table = await (await PinnedDataset.open(lock, 'iv')).readTable('f/interval.parquet')
    expect(String(table.schema.fields.find((f) => f.name === 'iv')!.type)).toBe('Interval<MONTH_DAY_NANO>')
    const words = [...table.getChild('iv')!].map((v) => (v ? [...(v as Int32Array)] : null))
    // months, days, then nanoseconds as two 32-bit words (3 s = 3e9 ns)
    expect(words).toEqual([[14, 2, 3_000_000_000 | 0, 0], null, [0, 1, 0, 0], [0, 2, 3_000_000_000 | 0, 0]])
    expect([...table.getChild('id')!].map(Number)).toEqual([1, 2, 3, 4])
  })
})
