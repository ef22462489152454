import { describe, expect, it } from 'vitest'
import type { Change, Session } from '../src/api.js'
import { countByFolder } from '../src/change-counts.js'
import { baseName, bytes } from '../src/format.js'
import { can } from '../src/grants.js'

// The web UI's logic outside the views (the views are driven in Chromium by test/web-ui.test.ts).

describe('countByFolder', () => {
  const ch = (path: string, type: Change['type'] = 'changed'): Change => ({ path, type })
  it('counts one level below the folder every change shares', () => {
    const counts = countByFolder([ch('weather/day=1/a.csv'), ch('weather/day=2/a.csv', 'added'), ch('weather/day=2/b.csv', 'removed')])
    expect([...counts]).toEqual([
      ['weather/day=1/', { added: 0, changed: 1, removed: 0 }],
      ['weather/day=2/', { added: 1, changed: 0, removed: 1 }],
    ])
  })
  it('puts files directly in the shared folder under that folder, and top-level files under "(top level)"', () => {
    expect([...countByFolder([ch('a/x'), ch('a/b/y')]).keys()]).toEqual(['a/', 'a/b/'])
    expect([...countByFolder([ch('x'), ch('a/y')]).keys()]).toEqual(['(top level)', 'a/'])
    expect([...countByFolder([ch('only/one/file.txt')]).keys()]).toEqual(['only/one/'])
    expect(countByFolder([]).size).toBe(0)
  })
  it('does not take a folder for shared when only a name prefix is shared', () => {
    expect([...countByFolder([ch('data/a'), ch('data2/b')]).keys()]).toEqual(['data/', 'data2/'])
  })
})

describe('can (which buttons a key sees)', () => {
  const session = (grants: Session['grants']): Session => ({ accessKey: 'k', grants, csrfToken: '', expiresAt: '' })
  it('matches repositories and refs as the server does: * within a segment, ** across', () => {
    const s = session([{ repositories: ['lake'], branches: ['team/*'], actions: ['read', 'write'] }])
    expect(can(s, 'write', 'lake', 'team/exp')).toBe(true)
    expect(can(s, 'write', 'lake', 'team/exp/deeper')).toBe(false)
    expect(can(s, 'write', 'lake', 'main')).toBe(false)
    expect(can(s, 'admin', 'lake', 'team/exp')).toBe(false)
    expect(can(s, 'write', 'lake')).toBe(true)
    expect(can(s, 'read', 'other')).toBe(false)
    expect(can(session([{ repositories: ['*'], branches: ['*'], actions: ['admin'] }]), 'admin', 'x', 'a/b/c')).toBe(true)
    expect(can(session([{ repositories: ['l*'], branches: ['**'], actions: ['read'] }]), 'read', 'lake', 'a/b')).toBe(true)
  })
  it('takes a ref name literally: regex characters in a pattern are not operators', () => {
    const s = session([{ repositories: ['lake'], branches: ['v1.0'], actions: ['read'] }])
    expect(can(s, 'read', 'lake', 'v1.0')).toBe(true)
    expect(can(s, 'read', 'lake', 'v1x0')).toBe(false)
  })
})

describe('format', () => {
  it('sizes and names', () => {
    expect(bytes(0)).toBe('0 B')
    expect(bytes(1536)).toBe('1.5 KiB')
    expect(bytes(5 * 1024 ** 3)).toBe('5.0 GiB')
    expect(bytes(300 * 1024 ** 2)).toBe('300 MiB')
    expect(baseName('a/b/c.csv')).toBe('c.csv')
    expect(baseName('a/b/')).toBe('b/')
    expect(baseName('top')).toBe('top')
  })
})

describe('rowsToIpc (Parquet rows into DuckDB without Arrow builders)', async () => {
  const { tableFromIPC } = await import('apache-arrow')
  const { rowsToIpc } = await import('../src/arrow-rows.js')
  it('keeps each column typed: int64, double, bool, timestamps, text; nulls stay null; mixed or nested values become text', () => {
    const t = tableFromIPC(
      rowsToIpc(
        ['id', 'score', 'ok', 'at', 'name', 'mixed', 'nested'],
        [
          { id: 1n, score: 0.5, ok: true, at: new Date(0), name: 'ä', mixed: 1, nested: { a: [1n] } },
          { id: null, score: null, ok: false, at: null, name: null, mixed: 'x', nested: null },
        ],
      ),
    )
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'id:Int64',
      'score:Float64',
      'ok:Bool',
      'at:Timestamp<MILLISECOND>',
      'name:Utf8',
      'mixed:Utf8',
      'nested:Utf8',
    ])
    expect(t.getChild('id')!.toArray()).toEqual(new BigInt64Array([1n, 0n]))
    expect(t.getChild('id')!.get(1)).toBeNull()
    expect(t.getChild('score')!.get(0)).toBe(0.5)
    expect([t.getChild('ok')!.get(0), t.getChild('ok')!.get(1)]).toEqual([true, false])
    expect(t.getChild('name')!.get(0)).toBe('ä')
    expect(t.getChild('name')!.get(1)).toBeNull()
    expect([t.getChild('mixed')!.get(0), t.getChild('mixed')!.get(1)]).toEqual(['1', 'x'])
    expect(t.getChild('nested')!.get(0)).toBe('{"a":["1"]}')
  })
})

describe('graphRows (the commit graph)', async () => {
  const { graphRows } = await import('../src/commit-graph.js')
  it('a line of history stays in one lane', () => {
    const rows = graphRows([
      { id: 'c', parents: ['b'] },
      { id: 'b', parents: ['a'] },
      { id: 'a', parents: [] },
    ])
    expect(rows.map((r) => r.col)).toEqual([0, 0, 0])
    expect(rows.map((r) => r.entered)).toEqual([false, true, true])
    expect(rows[2]!.below).toEqual([])
  })
  it('a merge forks a lane for its second parent, and the branch point joins it back', () => {
    // m merges x (a side branch off a) into b; both come from a.
    const rows = graphRows([
      { id: 'm', parents: ['b', 'x'] },
      { id: 'b', parents: ['a'] },
      { id: 'x', parents: ['a'] },
      { id: 'a', parents: [] },
    ])
    expect(rows[0]).toMatchObject({ col: 0, forks: [1], below: ['b', 'x'] })
    expect(rows[1]).toMatchObject({ col: 0, below: ['a', 'x'] })
    expect(rows[2]).toMatchObject({ col: 1, below: ['a', 'a'] })
    expect(rows[3]).toMatchObject({ col: 0, joins: [1], below: [] })
  })
  it('two branch heads shown together take two lanes', () => {
    const rows = graphRows([
      { id: 'h1', parents: ['a'] },
      { id: 'h2', parents: ['a'] },
      { id: 'a', parents: [] },
    ])
    expect(rows.map((r) => r.col)).toEqual([0, 1, 0])
    expect(rows[2]!.joins).toEqual([1])
  })
})
