import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ForwardingBlockStore, LocalBlockStore, Repository, SqliteRefStore, VarveError, type HookFailure } from '@varve/core'
import { collect, tempDir } from './helpers.js'
import { parquetFile, trainPartition } from '@varve/core/testing'

const CONTRACT = `# _varve/hooks/train-contract.yaml
id: train-contract
on: [pre-merge]
branches: [main]
checks:
  - type: parquet-schema
    files: "train/**/*.parquet"
    columns:
      id: { type: int64, nullable: false }
      score: { type: double }
    allowExtraColumns: false
  - type: row-count
    files: "train/**/*.parquet"
    min: 1
`

let t: Awaited<ReturnType<typeof tempDir>>
let repo: Repository
beforeEach(async () => {
  t = await tempDir('gates')
  repo = await Repository.init(path.join(t.dir, 'lake'), { author: 'platform', durable: false })
})
afterEach(async () => {
  await repo.close()
  await t.cleanup()
})

async function failureOf(p: Promise<unknown>): Promise<VarveError> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  )
  if (!(e instanceof VarveError)) throw new Error(`expected a VarveError, got ${e}`)
  return e
}
const failures = (e: VarveError) => e.details.failures as HookFailure[]

async function withRules(...files: [string, string][]) {
  for (const [name, text] of files) await repo.put('main', `_varve/hooks/${name}`, text)
  await repo.put('main', 'train/day=1/part-0.parquet', trainPartition(100))
  await repo.commit('main', { message: 'rules and day 1' })
}

describe('declarative contracts', () => {
  it('refuses a backfill whose score column is a string, naming file and column; passes after a fix', async () => {
    await withRules(['train-contract.yaml', CONTRACT])
    await repo.protectBranch('main')
    const head = await repo.resolve('main')
    await repo.createBranch('backfill')
    await repo.put('backfill', 'train/day=2/part-0.parquet', trainPartition(50, { scoreAsString: true }))
    await repo.commit('backfill', { message: 'day 2 (wrong type)' })
    const err = await failureOf(repo.merge('backfill', 'main'))
    expect(err.code).toBe('HOOK_FAILED')
    expect(err.message).toContain('train/day=2/part-0.parquet')
    expect(err.message).toContain('column score has type string, expected double')
    expect(failures(err)).toEqual([{ hookId: 'train-contract', file: 'train/day=2/part-0.parquet', reason: 'column score has type string, expected double' }])
    expect(await repo.resolve('main')).toBe(head)

    await repo.put('backfill', 'train/day=2/part-0.parquet', trainPartition(50))
    await repo.commit('backfill', { message: 'fix day 2' })
    const ok = await repo.merge('backfill', 'main')
    expect(ok.commit.parents[0]).toBe(head)
    const runs = await collect(repo.hookRuns({ branch: 'main' }))
    expect(runs.map((r) => r.status)).toEqual(['passed', 'failed'])
    expect(runs[1]).toMatchObject({ event: 'pre-merge', hookId: 'train-contract', origin: '_varve/hooks/train-contract.yaml' })
    expect(runs[1]!.failures[0]!.file).toBe('train/day=2/part-0.parquet')
  })

  it('flags missing, extra and nullable columns', async () => {
    await withRules(['train-contract.yaml', CONTRACT])
    await repo.createBranch('b')
    await repo.put('b', 'train/x/a.parquet', parquetFile([{ name: 'id', type: 'int64', values: [1, 2] }]))
    await repo.put(
      'b',
      'train/x/b.parquet',
      parquetFile([
        { name: 'id', type: 'int64', values: [1, null], nullable: true },
        { name: 'score', type: 'double', values: [1, 2] },
        { name: 'extra', type: 'string', values: ['a', 'b'] },
      ]),
    )
    await repo.put('b', 'notes/readme.parquet', 'not checked: outside the glob')
    await repo.commit('b', { message: 'bad files' })
    const reasons = failures(await failureOf(repo.merge('b', 'main'))).map((f) => `${f.file}: ${f.reason}`)
    expect(reasons).toEqual([
      'train/x/a.parquet: column score is missing',
      'train/x/b.parquet: column id is nullable and holds 1 null, expected non-nullable',
      'train/x/b.parquet: column extra is not allowed (allowExtraColumns: false)',
    ])
  })

  it('a file that is not Parquet is a failure of that file (INVALID_PARQUET); the other files are still judged', async () => {
    const rules = `id: train-contract
on: [pre-merge]
checks:
  - type: parquet-schema
    files: "train/**/*.parquet"
    columns: { id: { type: int64 }, score: { type: double } }
  - { type: unique, files: "train/**/*.parquet", column: id }
  - { type: row-count, files: "train/**/*.parquet", min: 1 }
`
    await withRules(['train-contract.yaml', rules])
    await repo.createBranch('b')
    await repo.put('b', 'train/x/broken.parquet', 'definitely not parquet')
    await repo.put('b', 'train/x/cut.parquet', trainPartition(50).subarray(0, 300)) // a file cut short
    await repo.put('b', 'train/x/wrong.parquet', trainPartition(50, { scoreAsString: true }))
    await repo.put('b', 'train/x/dups.parquet', trainPartition(50, { dupIds: true }))
    await repo.commit('b', { message: 'broken, cut, wrong type, duplicates' })
    const err = await failureOf(repo.merge('b', 'main'))
    expect(err.code).toBe('HOOK_FAILED')
    const found = failures(err).map((f) => ({ file: f.file, code: f.code, reason: f.code ? 'not Parquet' : f.reason }))
    expect(found).toEqual(
      expect.arrayContaining([
        { file: 'train/x/wrong.parquet', code: undefined, reason: 'column score has type string, expected double' },
        { file: 'train/x/dups.parquet', code: undefined, reason: 'column id has duplicate value 0' },
        { file: 'train/x/broken.parquet', code: 'INVALID_PARQUET', reason: 'not Parquet' },
        { file: 'train/x/cut.parquet', code: 'INVALID_PARQUET', reason: 'not Parquet' },
      ]),
    )
    expect(found).toHaveLength(4) // each broken file once, however many checks read it
    expect(failures(err).find((f) => f.file === 'train/x/broken.parquet')!.reason).toMatch(/train\/x\/broken\.parquet is not a valid Parquet file/)
    const runs = await collect(repo.hookRuns({ branch: 'main' }))
    expect(runs[0]!.status).toBe('failed') // judged, not an error of the contract
    expect(
      runs[0]!.failures
        .filter((f) => f.code === 'INVALID_PARQUET')
        .map((f) => f.file)
        .sort(),
    ).toEqual(['train/x/broken.parquet', 'train/x/cut.parquet'])
  })

  it('row-count, null-fraction, unique and file-size: failures and passes', async () => {
    const rules = `id: quality
on: [pre-merge]
checks:
  - { type: row-count, files: "t/**", min: 10, max: 1000, totalMax: 1500 }
  - { type: null-fraction, files: "t/**", columns: { score: 0.1 } }
  - { type: unique, files: "t/**", column: id }
  - { type: file-size, files: "t/**", max: 100000 }
`
    await repo.put('main', '_varve/hooks/q.yaml', rules)
    await repo.commit('main', { message: 'rules' })
    const attempt = async (name: string, bytes: Uint8Array) => {
      await repo.createBranch(name)
      await repo.put(name, `t/${name}.parquet`, bytes)
      await repo.commit(name, { message: name })
      return repo.merge(name, 'main').then(
        () => [] as string[],
        (e: VarveError) => failures(e).map((f) => f.reason),
      )
    }
    expect(await attempt('few', trainPartition(5))).toEqual(['has 5 rows, fewer than min 10'])
    expect(await attempt('nulls', trainPartition(100, { nullScores: 20 }))).toEqual(['column score is 20.00% null (20 of 100), more than 10.00%'])
    expect(await attempt('dups', trainPartition(100, { dupIds: true }))).toEqual(['column id has duplicate value 0'])
    expect(await attempt('ok', trainPartition(800, { nullScores: 5 }))).toEqual([])
    expect(await attempt('total', trainPartition(800))).toEqual(['files matching t/** hold 1600 rows in all, more than totalMax 1500'])
    const big = parquetFile([{ name: 'id', type: 'string', values: Array.from({ length: 900 }, (_, i) => `${i}-${'x'.repeat(200)}`) }])
    await repo.reset('main', 'main~1', { discardChanges: true }) // drop the 'ok' merge so totals stay small
    expect((await attempt('huge', big)).filter((r) => r.includes('larger than max'))).toHaveLength(1)
  })

  it('path rules: path-pattern, required-files, no-delete, max-changed-files', async () => {
    const rules = `id: layout
on: [pre-merge]
branches: ["main"]
checks:
  - type: path-pattern
    allow: ['^events/date=\\d{4}-\\d{2}-\\d{2}/', '^_varve/']
    forbid: ['\\.tmp$']
  - type: required-files
    files: "events/**/*.parquet"
    require: _SUCCESS
  - type: no-delete
    files: "events/**"
  - type: max-changed-files
    max: 3
`
    await repo.put('main', '_varve/hooks/layout.yaml', rules)
    await repo.put('main', 'events/date=2026-01-01/p.parquet', 'x')
    await repo.put('main', 'events/date=2026-01-01/_SUCCESS', '')
    await repo.commit('main', { message: 'layout' })
    await repo.createBranch('bad')
    await repo.put('bad', 'events/date=2026-01-02/p.parquet', 'x')
    await repo.put('bad', 'random/file.tmp', 'x')
    await repo.delete('bad', 'events/date=2026-01-01/p.parquet')
    await repo.put('bad', 'events/date=2026-01-03/p.parquet', 'x')
    await repo.commit('bad', { message: 'bad' })
    const reasons = failures(await failureOf(repo.merge('bad', 'main'))).map((f) => `${f.file ?? '-'}: ${f.reason}`)
    expect(reasons).toContain('random/file.tmp: path matches none of the allowed patterns /^events\\/date=\\d{4}-\\d{2}-\\d{2}\\//, /^_varve\\//')
    expect(reasons).toContain('random/file.tmp: path matches the forbidden pattern /\\.tmp$/')
    expect(reasons).toContain('events/date=2026-01-02/_SUCCESS: required in events/date=2026-01-02/, which this change writes to')
    expect(reasons).toContain('events/date=2026-01-01/p.parquet: may not be deleted')
    expect(reasons).toContain('-: 4 files changed, more than max 3')
    await repo.createBranch('good')
    await repo.put('good', 'events/date=2026-01-02/p.parquet', 'x')
    await repo.put('good', 'events/date=2026-01-02/_SUCCESS', '')
    await repo.commit('good', { message: 'good' })
    await repo.merge('good', 'main')
  })

  it('a rules file with a typo is INVALID_CONFIG naming the file and line; it never lands, nothing moves', async () => {
    const clean = await repo.resolve('main')
    await repo.createBranch('b', { from: clean })
    await repo.put('b', 'x', 'x')
    await repo.commit('b', { message: 'x' })
    await repo.put(
      'main',
      '_varve/hooks/typo.yaml',
      `id: typo
on: [pre-merge]
checks:
  - type: row-count
    files: "**"
    mn: 1
`,
    )
    // Refused where it is added (issue 9.9), though it governs only pre-merge: it can never brick main.
    const err = await failureOf(repo.commit('main', { message: 'typo' }))
    expect(err.code).toBe('INVALID_CONFIG')
    expect(err.message).toBe('_varve/hooks/typo.yaml:6: unknown key mn for a row-count check (known: files, min, max, totalMin, totalMax)')
    expect(err.details).toMatchObject({ file: '_varve/hooks/typo.yaml', line: 6 })
    expect(await repo.resolve('main')).toBe(clean)
    for (const [text, expected] of [
      ['id: x\non: [pre-merge]\nchecks:\n  - type: row-cnt\n    files: a\n', /typo\.yaml:4: unknown check type "row-cnt"/],
      ['id: x\non: [pre-mergee]\nchecks: []\n', /typo\.yaml:2: unknown event "pre-mergee"/],
      ['id: x\non: [pre-merge\n', /typo\.yaml:\d+: /],
      ['id: x\non: [pre-merge]\nchecks:\n  - type: path-pattern\n    forbid: ["(unclosed"]\n', /typo\.yaml:5: forbid\[0\] is not a valid regular expression/],
      // type names: misspelt, a unit that does not exist, a decimal without its scale, an unclosed list
      [
        'id: x\non: [pre-merge]\nchecks:\n  - type: parquet-schema\n    files: "**"\n    columns:\n      t: { type: timestmp }\n',
        /typo\.yaml:7: column t: unknown type "timestmp" \(types: int8, /,
      ],
      [
        'id: x\non: [pre-merge]\nchecks:\n  - type: parquet-schema\n    files: "**"\n    columns:\n      t: { type: "timestamp[xs]" }\n',
        /typo\.yaml:7: column t: unknown unit "xs" \(s, ms, us, ns\)/,
      ],
      [
        'id: x\non: [pre-merge]\nchecks:\n  - type: parquet-schema\n    files: "**"\n    columns:\n      d: { type: "decimal128(10)" }\n',
        /typo\.yaml:7: column d: expected "," at 14/,
      ],
      [
        'id: x\non: [pre-merge]\nchecks:\n  - type: parquet-schema\n    files: "**"\n    columns:\n      l: { type: "list<int32" }\n',
        /typo\.yaml:7: column l: expected ">"/,
      ],
    ] as const) {
      await repo.reset('main', clean, { discardChanges: true })
      await repo.put('main', '_varve/hooks/typo.yaml', text)
      const e = await failureOf(repo.commit('main', { message: 'next typo' }))
      expect(e.code).toBe('INVALID_CONFIG')
      expect(e.message).toMatch(expected)
      expect(await repo.resolve('main')).toBe(clean)
    }
    await repo.reset('main', clean, { discardChanges: true })
    await repo.merge('b', 'main') // nothing broken landed: merges go on
  })

  it('a merge that edits _varve/hooks/ is judged by the rules already on the destination', async () => {
    await withRules(['train-contract.yaml', CONTRACT])
    await repo.createBranch('sneaky')
    await repo.delete('sneaky', '_varve/hooks/train-contract.yaml')
    await repo.put('sneaky', 'train/day=9/part-0.parquet', trainPartition(10, { scoreAsString: true }))
    await repo.commit('sneaky', { message: 'drop the contract and sneak in bad data' })
    const err = await failureOf(repo.merge('sneaky', 'main'))
    expect(err.code).toBe('HOOK_FAILED')
    // A reviewed change of the rules alone merges; from then on the new rules apply.
    await repo.createBranch('relax')
    await repo.put('relax', '_varve/hooks/train-contract.yaml', CONTRACT.replace('score: { type: double }', 'score: { type: string }'))
    await repo.commit('relax', { message: 'score is a string now' })
    await repo.merge('relax', 'main')
    await repo.createBranch('later')
    await repo.put('later', 'train/day=10/part-0.parquet', trainPartition(10, { scoreAsString: true }))
    await repo.commit('later', { message: 'string scores' })
    await repo.merge('later', 'main')
  })

  it('dryRun runs the gates and moves nothing', async () => {
    await withRules(['train-contract.yaml', CONTRACT])
    await repo.createBranch('b')
    await repo.put('b', 'train/d/p.parquet', trainPartition(10))
    await repo.commit('b', { message: 'ok' })
    const head = await repo.resolve('main')
    const r = await repo.merge('b', 'main', { dryRun: true })
    expect(r.dryRun).toBe(true)
    expect(r.commit.parents).toEqual([head, await repo.resolve('b')])
    expect(await repo.resolve('main')).toBe(head)
  })
})

describe('hooks in code', () => {
  it('see the candidate, the base, the diff, the schema and the table', async () => {
    await repo.put('main', 'train/a.parquet', trainPartition(10))
    await repo.commit('main', { message: 'a' })
    await repo.createBranch('b')
    await repo.put('b', 'train/b.parquet', trainPartition(20))
    await repo.commit('b', { message: 'b' })
    const seen: unknown[] = []
    repo.hooks.register({
      id: 'inspect',
      events: ['pre-merge'],
      branches: ['ma*'],
      run: async (ctx) => {
        const diff = await collect(ctx.diff())
        const schema = await ctx.readParquetSchema('train/b.parquet')
        const table = await ctx.readTable('train/b.parquet')
        seen.push({
          event: ctx.event,
          branch: ctx.branch,
          source: ctx.source,
          diff: diff.map((d) => `${d.type} ${d.path}`),
          columns: schema.columns.map((c) => `${c.name}:${c.type}`),
          rows: table.numRows,
          baseHasB: await ctx.base!.stat('train/b.parquet').then(
            () => true,
            () => false,
          ),
          candidateFiles: (await collect(ctx.candidate.list())).length,
        })
        return { ok: true }
      },
    })
    await repo.merge('b', 'main')
    expect(seen).toEqual([
      {
        event: 'pre-merge',
        branch: 'main',
        source: 'b',
        diff: ['added train/b.parquet'],
        columns: ['id:int64', 'score:double'],
        rows: 20,
        baseHasB: false,
        candidateFiles: 2,
      },
    ])
  })

  it('a hook that throws and a hook that times out block the operation; both runs are recorded', async () => {
    repo.hooks.register({
      id: 'thrower',
      events: ['pre-commit'],
      run: () => {
        throw new Error('boom')
      },
    })
    let aborted = false
    repo.hooks.register({
      id: 'sleeper',
      events: ['pre-commit'],
      timeoutMs: 100,
      run: (ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted = true
            resolve({ ok: true })
          })
        }),
    })
    await repo.put('main', 'x', 'x')
    const head = await repo.resolve('main')
    const err = await failureOf(repo.commit('main', { message: 'x' }))
    expect(err.code).toBe('HOOK_FAILED')
    expect(
      failures(err)
        .map((f) => [f.hookId, f.reason])
        .sort(),
    ).toEqual([
      ['sleeper', 'timeout: timed out after 100 ms'],
      ['thrower', 'error: threw: boom'],
    ])
    expect(aborted).toBe(true)
    expect(await repo.resolve('main')).toBe(head)
    expect(await collect(repo.uncommitted('main'))).toHaveLength(1) // the change is still staged
    const runs = await collect(repo.hookRuns())
    expect(runs.map((r) => `${r.hookId}:${r.status}`).sort()).toEqual(['sleeper:timeout', 'thrower:error'])
    expect(runs[0]!.durationMs).toBeGreaterThanOrEqual(0)
    repo.hooks.unregister('thrower')
    repo.hooks.unregister('sleeper')
    await repo.commit('main', { message: 'x' })
  })

  it('a failing post-merge hook leaves the merge done and is recorded', async () => {
    repo.hooks.register({ id: 'notify', events: ['post-merge'], run: () => ({ ok: false, message: 'webhook unreachable' }) })
    await repo.createBranch('b')
    await repo.put('b', 'f', 'v')
    await repo.commit('b', { message: 'f' })
    const m = await repo.merge('b', 'main')
    expect(await repo.resolve('main')).toBe(m.commit.id)
    const [run] = await collect(repo.hookRuns({ branch: 'main', limit: 1 }))
    expect(run).toMatchObject({ event: 'post-merge', hookId: 'notify', status: 'failed', message: 'webhook unreachable', candidate: m.commit.id })
  })

  it('gates branch creation, deletion, tags and resets', async () => {
    repo.hooks.register({
      id: 'naming',
      events: ['pre-create-branch', 'pre-create-tag'],
      run: (ctx) => (/^(feature|fix)\/|^v\d/.test(ctx.branch) ? { ok: true } : { ok: false, message: `${ctx.branch} breaks the naming rule` }),
    })
    repo.hooks.register({ id: 'keep', events: ['pre-delete-branch', 'pre-reset'], branches: ['feature/keep'], run: () => ({ ok: false, message: 'no' }) })
    expect((await failureOf(repo.createBranch('tmp'))).code).toBe('HOOK_FAILED')
    await repo.createBranch('feature/keep')
    expect((await failureOf(repo.createTag('latest', 'main'))).message).toContain('latest breaks the naming rule')
    await repo.createTag('v1', 'main')
    expect((await failureOf(repo.deleteBranch('feature/keep'))).code).toBe('HOOK_FAILED')
    expect((await failureOf(repo.reset('feature/keep', 'main'))).code).toBe('HOOK_FAILED')
    await repo.getBranch('feature/keep')
  })

  it('rejects bad hook definitions', async () => {
    expect(() => repo.hooks.register({ id: '', events: ['pre-commit'], run: () => {} })).toThrow(VarveError)
    expect(() => repo.hooks.register({ id: 'x', events: ['pre-everything' as never], run: () => {} })).toThrow(/events must be/)
    repo.hooks.register({ id: 'x', events: ['pre-commit'], run: () => {} })
    expect(() => repo.hooks.register({ id: 'x', events: ['pre-commit'], run: () => {} })).toThrow(/already registered/)
  })
})

describe('protected branches', () => {
  it('refuse direct writes, commits, reverts, deletion and reset; merges still arrive, through the gates', async () => {
    await repo.put('main', 'a', '1')
    const c = await repo.commit('main', { message: 'a' })
    await repo.createBranch('dev')
    const all = {
      directCommits: false,
      deletion: false,
      reset: false,
      requiredApprovals: 0,
      dismissStaleApprovals: false,
      requireMergeRequest: false,
      signedApprovals: false,
    }
    expect(await repo.protectBranch('main')).toEqual(all)
    expect(await collect(repo.protectedBranches())).toEqual([{ branch: 'main', rules: all }])
    // one at a time: a rejection created before it is awaited is an unhandled one
    for (const attempt of [
      () => repo.put('main', 'b', '2'),
      () => repo.delete('main', 'a'),
      () => repo.commit('main', { message: 'x', allowEmpty: true }),
      () => repo.revert('main', c.id),
      () => repo.cherryPick('main', c.id),
      () => repo.reset('main', 'main~1'),
    ])
      expect((await failureOf(attempt())).code).toBe('PROTECTED_BRANCH')
    expect((await failureOf(repo.protectBranch('nope'))).code).toBe('NOT_FOUND')
    await repo.put('dev', 'b', '2')
    await repo.commit('dev', { message: 'b' })
    repo.hooks.register({ id: 'guard', events: ['pre-merge'], branches: ['main'], run: async (ctx) => ({ ok: (await collect(ctx.diff())).length < 5 }) })
    await repo.merge('dev', 'main')
    expect(Buffer.from(await repo.get('main', 'b')).toString()).toBe('2')
    await repo.protectBranch('dev', { directCommits: true, deletion: false })
    repo.hooks.register({
      id: 'no-csv',
      events: ['pre-commit'],
      branches: ['dev'],
      run: async (ctx) => ({ ok: !(await collect(ctx.diff())).some((d) => d.path.endsWith('.csv')) }),
    })
    await repo.put('dev', 'c.csv', 'x')
    expect((await failureOf(repo.commit('dev', { message: 'csv' }))).code).toBe('HOOK_FAILED') // a pre-commit hook on a protected branch
    expect((await failureOf(repo.deleteBranch('dev'))).code).toBe('PROTECTED_BRANCH')
    await repo.unprotectBranch('main')
    expect(await repo.branchProtection('main')).toBeUndefined()
    await repo.put('main', 'c', '3')
  })
})

describe('footer-only schema reads', () => {
  it('read a few KiB of a multi-MiB file', async () => {
    const lake = path.join(t.dir, 'counted')
    let bytesRead = 0
    const counting = new (class extends ForwardingBlockStore {
      override async get(key: string) {
        const b = await super.get(key)
        if (key.startsWith('data/')) bytesRead += b?.byteLength ?? 0
        return b
      }
      override async getRange(key: string, s: number, e: number) {
        const b = await super.getRange(key, s, e)
        bytesRead += b?.byteLength ?? 0
        return b
      }
      override async getStream(key: string) {
        if (key.startsWith('data/')) throw new Error('a footer read must not stream the file')
        return super.getStream(key)
      }
    })(new LocalBlockStore(path.join(lake, 'blocks'), { durable: false }))
    await (await Repository.init(lake, { durable: false })).close()
    const r = await Repository.open({ blocks: counting, refs: new SqliteRefStore(path.join(lake, 'refs.sqlite3')) })
    const file = trainPartition(300_000)
    await r.put('main', 'train/big.parquet', file)
    await r.commit('main', { message: 'big' })
    let schemaCols: string[] = []
    r.hooks.register({
      id: 'schema',
      events: ['pre-commit'],
      run: async (ctx) => {
        bytesRead = 0
        schemaCols = (await ctx.readParquetSchema('train/big.parquet')).columns.map((c) => c.name)
        return { ok: true }
      },
    })
    await r.commit('main', { message: 'x', allowEmpty: true })
    expect(schemaCols).toEqual(['id', 'score'])
    expect(file.byteLength).toBeGreaterThan(2_000_000)
    expect(bytesRead).toBeLessThan(64 * 1024)
    await r.close()
  })
})
