import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Repository, SqliteRefStore, VarveError, LocalBlockStore, systemRandom } from '@varve/core'
import { applyChanges, commitRoot, NEW_TREE_FORMAT, ObjectStore, packedRootOf } from '@varve/core/internal'
import { collect, tempDir } from './helpers.js'

/** A fresh local repository in a temp folder, closed and removed after `fn`. */
async function inLake(fn: (repo: Repository, lake: string) => Promise<void>): Promise<void> {
  const t = await tempDir('trust')
  try {
    const lake = path.join(t.dir, 'lake')
    const repo = await Repository.init(lake, { durable: false })
    try {
      await fn(repo, lake)
    } finally {
      await repo.close()
    }
  } finally {
    await t.cleanup()
  }
}

/** A closed repository in `dir`/lake whose main holds one committed data object. */
async function lakeWithOneCommittedObject(dir: string): Promise<string> {
  const lake = path.join(dir, 'lake')
  const repo = await Repository.init(lake, { durable: false })
  await repo.put('main', 'a', 'precious')
  await repo.commit('main', { message: 'a' })
  await repo.close()
  return lake
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  if (!(e instanceof VarveError)) throw new Error(`expected a VarveError, got ${String(e)}`)
  return e.code
}

describe('a lost or foreign ref store never lets gc wipe a repository (issue 9.3)', () => {
  it('open refuses a missing ref store and creates no file; a foreign one is refused too', async () => {
    const t = await tempDir('trust')
    try {
      const lake = await lakeWithOneCommittedObject(t.dir)
      for (const f of ['refs.sqlite3', 'refs.sqlite3-wal', 'refs.sqlite3-shm']) await fs.rm(path.join(lake, f), { force: true })
      expect(await codeOf(Repository.open(lake))).toBe('NOT_A_REPOSITORY')
      expect(await fs.readdir(lake)).toEqual(['blocks']) // no empty ref store was created
      // Another repository's ref store in its place
      const other = await Repository.init(path.join(t.dir, 'other'), { durable: false })
      await other.close()
      await fs.copyFile(path.join(t.dir, 'other', 'refs.sqlite3'), path.join(lake, 'refs.sqlite3'))
      expect(await codeOf(Repository.open(lake))).toBe('NOT_A_REPOSITORY')
      // The blocks are untouched: every object is still there
      const blocks = new LocalBlockStore(path.join(lake, 'blocks'))
      expect((await collect(blocks.list('data/'))).length).toBe(1)
    } finally {
      await t.cleanup()
    }
  })

  it('gc refuses to run on a ref store with no branch', async () => {
    const t = await tempDir('trust')
    try {
      const lake = await lakeWithOneCommittedObject(t.dir)
      // Same repository id, but every branch gone (a ref store restored from the wrong moment)
      const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
      const id = await refs.getSetting('repository/id')
      await refs.close()
      await fs.rm(path.join(lake, 'refs.sqlite3'))
      const empty = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
      await empty.setSetting('repository/id', id!)
      await empty.close()
      const opened = await Repository.open(lake)
      expect(await codeOf(opened.gc({ retainDays: 0, graceSeconds: 0 }))).toBe('NOT_A_REPOSITORY')
      await opened.close()
      const blocks = new LocalBlockStore(path.join(lake, 'blocks'))
      expect((await collect(blocks.list('data/'))).length).toBe(1)
    } finally {
      await t.cleanup()
    }
  })
})

describe('paths with control characters (issue 9.10)', () => {
  it('refuses newline, CR, ESC, other C0/C1 controls and DEL as INVALID_PATH, and writes nothing', async () => {
    await inLake(async (repo) => {
      for (const bad of ['a\nb', 'a\rb', 'x/\u001b[31mred', 'tab\there', 'del\u007f', 'c1\u0085', 'c1\u009b'])
        expect(await codeOf(repo.put('main', bad, 'x'))).toBe('INVALID_PATH')
      expect(await collect(repo.uncommitted('main'))).toEqual([])
      await repo.put('main', 'ok/ünïcode ✓', 'x') // printable Unicode stays fine
    })
  })
})

describe('tree entries with invalid paths written by older versions (issue 9.10)', () => {
  it('verify --full reports them and merge refuses to copy them', async () => {
    await inLake(async (repo, lake) => {
      const e = await repo.put('main', 'good', 'bytes')
      await repo.commit('main', { message: 'good' })
      await repo.createBranch('legacy')
      // What an older Varve accepted: a path with a newline, committed on legacy
      const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks')), { random: systemRandom, tree: NEW_TREE_FORMAT })
      const head = await repo.getCommit('legacy')
      const { root, tree } = await applyChanges(objects, commitRoot(head), [{ path: 'bad\nname', entry: { ...e, path: 'bad\nname' } }])
      const c = await objects.writeCommit({
        parents: [head.id],
        root,
        rootAt: packedRootOf(tree)!,
        message: 'old',
        author: 'old',
        metadata: {},
        createdAt: Date.now(),
        generation: head.generation + 1,
      })
      const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
      const b = (await refs.getBranch('legacy'))!
      await refs.updateBranch(b, { name: b.name, head: c.id, stagingToken: b.stagingToken, sealedTokens: [] })
      await refs.close()
      const v = await repo.verify({ full: true })
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'invalid-path', path: 'bad\nname', commit: c.id })])
      expect(await codeOf(repo.merge('legacy', 'main'))).toBe('INVALID_PATH')
      expect(await repo.resolve('main')).toBe(head.id)
    })
  })
})

describe('verify and gc agree; gc collects detached staging and temp leftovers (issue 9.11)', () => {
  it('after gc collects old data, plain verify is ok and counts it as collected; a real loss is still a problem', async () => {
    await inLake(async (repo, lake) => {
      await repo.put('main', 'a', 'version 1')
      await repo.put('main', 'shared', 'kept by the head too')
      await repo.commit('main', { message: 'v1' })
      await repo.put('main', 'a', 'version 2')
      await repo.commit('main', { message: 'v2' })
      const r = await repo.gc({ retainDays: 0, graceSeconds: 0 })
      expect(r.deletedObjects).toBeGreaterThan(0)
      const v = await repo.verify()
      expect(v.problems).toEqual([])
      expect(v.ok).toBe(true)
      expect(v.collectedDataObjects).toBe(1)
      // Damage what the head needs: that is a problem, not "collected"
      const head = await repo.stat('main', 'shared')
      const { keys } = await import('@varve/core/internal')
      await fs.rm(path.join(lake, 'blocks', keys.data(head.address)))
      const broken = await repo.verify()
      expect(broken.ok).toBe(false)
      expect(broken.problems).toEqual([expect.objectContaining({ kind: 'missing', object: head.address })])
    })
  })

  it('drops staging no branch refers to and old temp files, keeps a live branch staging', async () => {
    await inLake(async (repo, lake) => {
      await repo.put('main', 'staged', 'still staged on main')
      const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
      const old = `st-${(Date.now() - 7_200_000).toString(36)}-deadbeef00`
      await refs.putStaged(old, [{ path: 'x', entry: null }]) // a token a crash detached from its branch
      const young = `st-${Date.now().toString(36)}-cafe000000`
      await refs.putStaged(young, [{ path: 'y', entry: null }]) // may belong to a branch being created: kept
      const tmpDir = path.join(lake, 'blocks', '.tmp')
      await fs.mkdir(tmpDir, { recursive: true })
      await fs.writeFile(path.join(tmpDir, 'crashed-upload'), 'partial')
      const hourAgo = new Date(Date.now() - 7_200_000)
      await fs.utimes(path.join(tmpDir, 'crashed-upload'), hourAgo, hourAgo)
      const r = await repo.gc()
      expect(r.droppedStagingTokens).toBe(1)
      expect(r.removedTempFiles).toBe(1)
      expect(await collect(refs.listStagingTokens())).not.toContain(old)
      expect(await collect(refs.listStagingTokens())).toContain(young)
      expect((await collect(repo.uncommitted('main'))).map((c) => c.path)).toEqual(['staged'])
      await refs.close()
    })
  })
})

describe('rules files cannot hang a gate or brick a branch (issues 9.8, 9.9, 9.12)', () => {
  const contract = (checks: string, extra = '') => `id: c\non: [pre-merge, pre-commit]\nbranches: [main]\n${extra}checks:\n${checks}`

  it('catastrophic regexes and extglobs match in linear time; oversize files and bad patterns are INVALID_CONFIG', async () => {
    const { parseContract } = await import('@varve/core')
    const regex = parseContract('_varve/hooks/r.yaml', contract("  - type: path-pattern\n    allow: ['^(a+)+$']\n"))
    const glob = parseContract('_varve/hooks/g.yaml', contract("  - type: file-size\n    files: '+(a|aa)+(a|aa)*!'\n    max: 10\n"))
    const hostile = 'a'.repeat(4000) + 'b' // seconds to minutes for a backtracking engine
    const env = { written: [{ path: hostile, address: 'x'.repeat(64), size: 100, lastModified: 0 }] } as never
    const findings = await regex.checks[0]!.run(env)
    expect(findings).toHaveLength(1)
    expect(await glob.checks[0]!.run(env)).toEqual([])
    const codeOfSync = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        return (e as VarveError).code + ' ' + (e as Error).message
      }
      return 'ok'
    }
    expect(codeOfSync(() => parseContract('_varve/hooks/big.yaml', '# comment\n'.repeat(2_000_000)))).toMatch(
      /^INVALID_CONFIG _varve\/hooks\/big\.yaml:1: a rules file is limited/,
    )
    expect(codeOfSync(() => parseContract('_varve/hooks/x.yaml', contract("  - type: path-pattern\n    allow: ['(?=a)a']\n")))).toMatch(
      /^INVALID_CONFIG _varve\/hooks\/x\.yaml:6: .*RE2/,
    )
    expect(codeOfSync(() => parseContract('_varve/hooks/x.yaml', contract("  - type: file-size\n    files: '!(x)'\n    max: 1\n")))).toMatch(
      /^INVALID_CONFIG _varve\/hooks\/x\.yaml:5: .*not supported/,
    )
    expect(
      codeOfSync(() =>
        parseContract('_varve/hooks/x.yaml', contract("  - type: parquet-schema\n    files: '*.parquet'\n    columns: { t: { type: timestmp } }\n")),
      ),
    ).toMatch(/^INVALID_CONFIG _varve\/hooks\/x\.yaml:7: column t: unknown type "timestmp"/)
    expect(
      codeOfSync(() =>
        parseContract('_varve/hooks/x.yaml', contract("  - type: parquet-schema\n    files: '*.parquet'\n    columns: { n: { type: int65 } }\n")),
      ),
    ).toMatch(/unknown type "int65"/)
    // timeoutMs is clamped to a sane range
    expect(parseContract('_varve/hooks/t.yaml', contract("  - type: no-delete\n    files: 'a/**'\n", 'timeoutMs: 99999999999\n')).timeoutMs).toBe(600_000)
    expect(parseContract('_varve/hooks/t.yaml', contract("  - type: no-delete\n    files: 'a/**'\n", 'timeoutMs: 0\n')).timeoutMs).toBe(100)
    // The YAML parser's resource limits are bad config, not a retryable failure
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill('*' + String.fromCharCode(97 + i))
          .join(', ')}]`,
    ).join('\n')}\n`
    expect(codeOfSync(() => parseContract('_varve/hooks/bomb.yaml', bomb))).toMatch(/^INVALID_CONFIG _varve\/hooks\/bomb\.yaml:1:/)
  })

  it('a change that adds or modifies an invalid rules file is refused, so protected main can never be bricked', async () => {
    await inLake(async (repo) => {
      await repo.put('main', '_varve/hooks/ok.yaml', contract("  - type: no-delete\n    files: 'train/**'\n"))
      await repo.commit('main', { message: 'rules' })
      await repo.protectBranch('main')
      const good = await repo.resolve('main')
      const broken: [string, RegExp][] = [
        ['id: x\non: [pre-merge\n', /_varve\/hooks\/bad\.yaml:\d+:/], // YAML syntax
        [contract('  - type: row-cnt\n'), /_varve\/hooks\/bad\.yaml:5: unknown check type "row-cnt"/],
        [contract("  - type: parquet-schema\n    files: '*.parquet'\n    columns: { ts: { type: timestmp } }\n"), /unknown type "timestmp"/],
        // governs another event only: still validated when it lands
        [
          "id: y\non: [pre-create-tag]\nchecks:\n  - type: parquet-schema\n    files: '*.parquet'\n    columns: { a: { type: int65 } }\n",
          /unknown type "int65"/,
        ],
      ]
      for (const [text, message] of broken) {
        await repo.createBranch('edit', { from: 'main' })
        await repo.put('edit', '_varve/hooks/bad.yaml', text)
        const e = await repo.commit('edit', { message: 'bad rules' }).then(
          () => undefined,
          (err: unknown) => err as VarveError,
        )
        expect(e?.code).toBe('INVALID_CONFIG')
        expect(e?.message).toMatch(message)
        await repo.reset('edit', 'main', { discardChanges: true })
        await repo.deleteBranch('edit')
      }
      expect(await repo.resolve('main')).toBe(good)
      await repo.createBranch('still-works', { from: 'main' }) // main is not bricked
    })
  })
})

describe('a contract timeout really stops Parquet decoding (issue 9.8)', () => {
  it('unique on a 5M-row file with timeoutMs 100: the run times out and its decoder thread is gone', async () => {
    const { Field, Int64, RecordBatch, Schema, Struct, Table, makeData, tableToIPC } = await import('apache-arrow')
    const { Table: WasmTable, writeParquet } = await import('parquet-wasm')
    const { liveColumnScans } = await import('@varve/core/internal')
    const rows = 5_000_000
    const ids = new BigInt64Array(rows)
    for (let i = 0; i < rows; i++) ids[i] = BigInt(i)
    const fields = [new Field('id', new Int64(), false)]
    const child = makeData({ type: new Int64(), length: rows, data: ids })
    const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows, nullCount: 0, children: [child] }))
    const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(new Table(new Schema(fields), batch), 'stream')))
    await inLake(async (repo) => {
      await repo.put(
        'main',
        '_varve/hooks/u.yaml',
        "id: u\non: [pre-commit]\ntimeoutMs: 100\nchecks:\n  - type: unique\n    files: 'big/*.parquet'\n    column: id\n",
      )
      await repo.commit('main', { message: 'rules' })
      await repo.put('main', 'big/ids.parquet', bytes)
      const e = await repo.commit('main', { message: 'big' }).then(
        () => undefined,
        (err: unknown) => err as VarveError,
      )
      expect(e?.code).toBe('HOOK_FAILED')
      expect(e?.message).toMatch(/timeout: timed out after 100 ms/)
      // the decoder was terminated, not left running in the background
      for (let i = 0; i < 100 && liveColumnScans() > 0; i++) await new Promise((r) => setTimeout(r, 20))
      expect(liveColumnScans()).toBe(0)
    })
  }, 120_000)
})

describe('globs compiled to RE2 keep their meaning (issue 9.8)', () => {
  it('matches as picomatch did with dot: true, and refuses negation it cannot express', async () => {
    const { parseContract } = await import('@varve/core')
    const matches = (glob: string, path: string) =>
      parseContract('_varve/hooks/g.yaml', `id: g\non: [pre-merge]\nchecks:\n  - type: file-size\n    files: '${glob}'\n    max: 0\n`)
        .checks[0]!.run({ written: [{ path, address: 'x'.repeat(64), size: 1, lastModified: 0 }] } as never)
        .then((f) => f.length === 1)
    const cases: [string, string, boolean][] = [
      ['train/**/*.parquet', 'train/a/b.parquet', true],
      ['train/**/*.parquet', 'train/b.parquet', true],
      ['**/*.parquet', 'x.parquet', true],
      ['**', '.hidden/x', true],
      ['train/**', 'train/x/y', true],
      ['*.yaml', 'a/b.yaml', false],
      ['{a,b}/x', 'b/x', true],
      ['{a,b}/x', 'c/x', false],
      ['day=[0-9]*', 'day=1x', true],
      ['day=[!0-9]*', 'day=1x', false],
      ['part-?.csv', 'part-1.csv', true],
      ['part-?.csv', 'part-10.csv', false],
      ['@(a|b).txt', 'a.txt', true],
      ['+(ab).txt', 'ababab.txt', true],
      ['a\\*b', 'a*b', true],
      ['a\\*b', 'axb', false],
    ]
    for (const [glob, path, expected] of cases) expect(await matches(glob, path), `${glob} ~ ${path}`).toBe(expected)
    expect(() =>
      parseContract('_varve/hooks/g.yaml', "id: g\non: [pre-merge]\nbranches: ['!main']\nchecks:\n  - { type: max-changed-files, max: 1 }\n"),
    ).toThrow(/branches\[0\] is not a valid glob: negated globs/)
  })
})

// Issue 14: batches (packs written, then staged) racing garbage collection with no grace period, so a
// pack written but not yet staged is fair game for a run's quarantine. Nothing acknowledged may be
// lost: gc must mark packs through staged and committed entries, reads must fall back to quarantine,
// and a later run must move a pack back once an entry refers to it. (The fence's own re-check only
// matters when a pack is purged by two complete runs before its batch is staged; this race does not
// reach that window: the pack-marking half fails this test if broken, the fence's half does not.)
describe('putMany racing garbage collection', () => {
  it('gc with grace 0 running throughout a multi-batch putMany: every staged entry reads back, verify --full is clean', async () => {
    await inLake(async (repo) => {
      await repo.put('main', 'seed.txt', 'seed')
      await repo.commit('main', { message: 'seed' })
      const n = 3 * 8192 + 100 // four batches
      const items = Array.from({ length: n }, (_, i) => ({ path: `batch/f${String(i).padStart(6, '0')}`, data: `content ${i}` }))
      let stop = false
      let runs = 0
      const collector = (async () => {
        while (!stop) {
          await repo.gc({ retainDays: 0, graceSeconds: 0 })
          runs++
        }
      })()
      const summary = await repo.putMany('main', items, { concurrency: 8 })
      stop = true
      await collector
      expect(summary.files).toBe(n)
      expect(summary.packs).toBe(4)
      expect(runs).toBeGreaterThan(0)
      await repo.commit('main', { message: 'batch' })
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      for (const i of [0, 1, 8191, 8192, 16384, 24576, n - 1]) expect(Buffer.from(await repo.get('main', items[i]!.path)).toString()).toBe(items[i]!.data)
      expect((await collect(repo.list('main', { prefix: 'batch/' }))).length).toBe(n)
      expect((await repo.verify({ full: true, retainDays: 0 })).problems).toEqual([])
    })
  }, 180_000)
})
