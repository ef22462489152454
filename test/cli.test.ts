import { execFileSync } from 'node:child_process'
import fs from 'node:fs/promises'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import git from 'isomorphic-git'
import nodeFs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPinned } from '@varve/core'
import { trainPartition } from '@varve/core/testing'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { tempDir } from './helpers/processes.js'
import { ndjson, s3CliEnv, varve, VARVE_BIN } from './helpers/varve-cli.js'

let s3: TestS3
const bucket = `varve-cli-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  s3 = await startTestS3()
  await s3.createBucket(bucket)
}, 120_000)
afterAll(async () => s3?.stop())

interface Backend {
  name: string
  /** Environment for every varve call: where the repository is. */
  env(): NodeJS.ProcessEnv
}
const backends: Backend[] = [
  { name: 'local folder (.varve)', env: () => ({}) },
  {
    name: 's3:// on MinIO',
    env: () => ({
      VARVE_REPO: `s3://${bucket}/${testPrefix}`,
      ...s3CliEnv(s3.options),
    }),
  },
]
let testPrefix = ''

describe.each(backends)('varve CLI, end to end: $name', (backend) => {
  let t: Awaited<ReturnType<typeof tempDir>>
  const run = (...args: string[]) =>
    varve(args, { cwd: t.dir, env: { VARVE_AUTHOR: 'engineer', VARVE_CACHE_DIR: path.join(t.dir, '.cache'), ...backend.env() } })
  const ok = async (...args: string[]) => {
    const r = await run(...args)
    expect(r.stderr, `varve ${args.join(' ')}`).toBe('')
    expect(r.code, `varve ${args.join(' ')}: ${r.stderr}`).toBe(0)
    return r.stdout
  }
  beforeAll(async () => {
    t = await tempDir('cli')
    testPrefix = `${randomBytes(5).toString('hex')}/`
    await fs.mkdir(path.join(t.dir, 'data/day=1'), { recursive: true })
    await fs.mkdir(path.join(t.dir, 'data/day=2'), { recursive: true })
    await fs.writeFile(path.join(t.dir, 'data/day=1/part-0.parquet'), trainPartition(100))
    await fs.writeFile(path.join(t.dir, 'data/day=2/part-0.parquet'), trainPartition(50))
    await fs.writeFile(path.join(t.dir, 'data/labels.csv'), 'id,label\n1,a\n')
  })
  afterAll(async () => t?.cleanup())

  it("a data engineer's session: init, put a folder, branch, change, status, commit, diff, conflict (exit 3), resolve, merge, revert, log --json", async () => {
    expect(await ok('init')).toMatch(/Initialized an empty Varve repository/)
    const put = await run('put', 'data', 'main:train/')
    expect(put).toMatchObject({ code: 0, stderr: '' }) // no progress bar when stderr is not a terminal
    // The summary ends with the time and rates (files/s, bytes/s).
    expect(put.stdout).toMatch(/^Staged 3 files \([0-9.]+ KiB\) under main:train\/; 0 unchanged skipped; [0-9.]+ s, \d+ files\/s, [0-9.]+ (B|KiB|MiB)\/s\n$/)
    await ok('commit', 'main', '-m', 'initial data')
    expect((await ok('put', 'data', 'main:train/', '--json')).includes('"skipped": 3')).toBe(true) // cached and unchanged
    await ok('branch', 'create', 'exp', '--from', 'main')
    await fs.writeFile(path.join(t.dir, 'labels-v2.csv'), 'id,label\n1,b\n')
    await ok('put', 'labels-v2.csv', 'exp:train/labels.csv')
    await ok('rm', 'exp:train/day=2/part-0.parquet')
    expect(await ok('status', 'exp')).toMatch(/removed\s+train\/day=2\/part-0\.parquet\nchanged\s+train\/labels\.csv/)
    expect(ndjson(await ok('status', 'exp', '--json')).map((c) => [c.type, c.path])).toEqual([
      ['removed', 'train/day=2/part-0.parquet'],
      ['changed', 'train/labels.csv'],
    ])
    await ok('commit', 'exp', '-m', 'relabel, drop day 2')
    expect(await ok('diff', 'main', 'exp')).toBe('- removed train/day=2/part-0.parquet\n~ changed train/labels.csv\n')
    expect(JSON.parse(await ok('diff', 'main', 'exp', '--stat', '--json'))).toMatchObject({ added: 0, changed: 1, removed: 1 })
    // main changes the same file differently: a conflict, exit code 3, one line naming the path
    await fs.writeFile(path.join(t.dir, 'labels-v3.csv'), 'id,label\n1,c\n')
    await ok('branch', 'create', 'hotfix')
    await ok('put', 'labels-v3.csv', 'hotfix:train/labels.csv')
    await ok('commit', 'hotfix', '-m', 'hotfix labels')
    await ok('merge', 'hotfix', 'main')
    const conflict = await run('merge', 'exp', 'main')
    expect(conflict.code).toBe(3)
    expect(conflict.stdout).toBe('')
    expect(conflict.stderr).toMatch(
      /^error\[MERGE_CONFLICT\]: merge into main: 1 path conflict \(train\/labels\.csv\); run: varve merge exp main --dry-run to see both sides of each path, then settle them per path \(--resolve 'train\/labels\.csv=source' or =dest\) or all at once \(--strategy source-wins or dest-wins\)/,
    )
    expect(conflict.stderr.trim().split('\n')).toHaveLength(1)
    // resolve: take exp's side of that path, as the hint says
    const merged = JSON.parse(await ok('merge', 'exp', 'main', '--resolve', 'train/labels.csv=source', '--json'))
    expect(merged.commit.parents).toHaveLength(2)
    expect(await ok('cat', 'main:train/labels.csv')).toBe('id,label\n1,b\n')
    await ok('branch', 'create', 'undo')
    await ok('revert', 'undo', merged.commit.id)
    await ok('merge', 'undo', 'main')
    expect(await ok('cat', 'main:train/labels.csv')).toBe('id,label\n1,c\n')
    const log = ndjson(await ok('log', 'main', '--json', '-n', '4'))
    expect(log.map((c) => c.message)).toEqual(['Merge undo into main', 'Revert "Merge exp into main"', 'Merge exp into main', 'Merge hotfix into main'])
    expect(log[0]).toMatchObject({ author: 'engineer', parents: expect.any(Array), generation: expect.any(Number) })
    const oneline = await ok('log', 'main', '--oneline', '-n', '2')
    expect(oneline.split('\n')[0]).toMatch(/^[0-9a-f]{12} merge Merge undo into main$/)
    expect(ndjson(await ok('ls', 'main:', '--json')).map((i) => `${i.type}:${i.path}`)).toEqual(['prefix:train/'])
    expect(ndjson(await ok('ls', '-r', 'main:train/', '--json')).map((i) => i.path)).toEqual([
      'train/day=1/part-0.parquet',
      'train/day=2/part-0.parquet',
      'train/labels.csv',
    ])
    await ok('get', 'main:train/', 'out/')
    expect(await fs.readFile(path.join(t.dir, 'out/labels.csv'), 'utf8')).toBe('id,label\n1,c\n')
    expect((await fs.readFile(path.join(t.dir, 'out/day=1/part-0.parquet'))).equals(Buffer.from(trainPartition(100)))).toBe(true)
    const show = JSON.parse(await ok('show', merged.commit.id, '--json'))
    expect(show.changes).toEqual([
      { path: 'train/day=2/part-0.parquet', type: 'removed' },
      { path: 'train/labels.csv', type: 'changed' },
    ])
    expect(ndjson(await ok('branch', 'list', '--json')).map((b) => b.name)).toEqual(['exp', 'hotfix', 'main', 'undo'])
    await ok('tag', 'create', 'v1', 'main')
    expect(ndjson(await ok('tag', 'list', '--json'))[0]).toMatchObject({ name: 'v1' })
  }, 180_000)

  it('gates: hooks list, check and a refused merge (exit 4), runs --json', async () => {
    await fs.writeFile(
      path.join(t.dir, 'contract.yaml'),
      'id: train\non: [pre-merge]\nbranches: [main]\nchecks:\n  - type: parquet-schema\n    files: "train/**/*.parquet"\n    columns: { score: { type: double } }\n',
    )
    await ok('branch', 'create', 'rules')
    await ok('put', 'contract.yaml', 'rules:_varve/hooks/train.yaml')
    await ok('commit', 'rules', '-m', 'contract')
    await ok('merge', 'rules', 'main')
    expect(await ok('hooks', 'list', 'main')).toMatch(/train\s+pre-merge\s+main\s+parquet-schema\s+_varve\/hooks\/train\.yaml/)
    await fs.writeFile(path.join(t.dir, 'bad.parquet'), trainPartition(10, { scoreAsString: true }))
    await ok('branch', 'create', 'bad')
    await ok('put', 'bad.parquet', 'bad:train/day=9/part-0.parquet')
    await ok('commit', 'bad', '-m', 'bad scores')
    const check = await run('hooks', 'check', 'bad', 'main')
    expect(check.code).toBe(4)
    expect(check.stderr).toMatch(
      /^error\[HOOK_FAILED\]: pre-merge on main blocked: train: train\/day=9\/part-0\.parquet: column score has type string, expected double; run: varve hooks runs main/,
    )
    const refused = await run('merge', 'bad', 'main')
    expect(refused.code).toBe(4)
    const runs = ndjson(await ok('hooks', 'runs', 'main', '--json'))
    expect(runs[0]).toMatchObject({ hookId: 'train', status: 'failed', event: 'pre-merge' })
    await ok('branch', 'protect', 'main')
    const direct = await run('put', 'contract.yaml', 'main:x.yaml')
    expect(direct.code).toBe(1)
    expect(direct.stderr).toMatch(/^error\[PROTECTED_BRANCH\]/)
  }, 120_000)

  it('errors: bad refs, paths and arguments are one line with a code; usage errors exit 2', async () => {
    const cases: [string[], number, RegExp][] = [
      [['log', 'nope'], 1, /^error\[NOT_FOUND\]: no branch, tag or commit named "nope"\n$/],
      [['cat', 'main:no/such/file'], 1, /^error\[NOT_FOUND\]: main:no\/such\/file not found\n$/],
      [['cat', 'main:../etc/passwd'], 1, /^error\[INVALID_PATH\]: .*must not contain a "\.\." segment\n$/],
      [['branch', 'create', 'bad name'], 1, /^error\[INVALID_REF\]/],
      [['cat', 'no-colon'], 2, /^error\[INVALID_ARGUMENT\]: address "no-colon" must be ref:path/],
      [['merge', 'exp', 'main', '--strategy', 'coinflip'], 2, /^error\[INVALID_ARGUMENT\]: --strategy must be/],
      [['frobnicate'], 2, /error: unknown command 'frobnicate'/],
      [['commit', 'main'], 2, /error: required option '-m, --message <message>' not specified/],
      [['status'], 2, /error: missing required argument 'branch'/],
      [['log', 'main', '-n', 'abc'], 2, /^error\[INVALID_ARGUMENT\]: -n wants a positive whole number, not "abc"/],
      [['log', 'main', '-n', '0'], 2, /^error\[INVALID_ARGUMENT\]: -n wants a positive whole number/],
      [['pin', 'rm', 'no-such-pin'], 1, /^error\[NOT_FOUND\]: no pin named no-such-pin/],
      [['branch', 'unprotect', 'no-such-branch'], 1, /^error\[NOT_FOUND\]/],
    ]
    for (const [args, code, stderr] of cases) {
      const r = await run(...args)
      expect(r.code, `varve ${args.join(' ')}`).toBe(code)
      expect(r.stderr, `varve ${args.join(' ')}`).toMatch(stderr)
      expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
    }
    const debug = await varve(['log', 'nope'], { cwd: t.dir, env: { ...backend.env(), VARVE_DEBUG: '1' } })
    expect(debug.stderr).toMatch(/\n\s+at /)
    expect((await run('--help')).stdout).toMatch(/Exit codes: 0 ok, 1 error, 2 usage, 3 merge conflict, 4 a gate refused/)
    expect((await run('put', '--help')).stdout).toMatch(/Examples:\n {2}varve put part-0\.parquet exp:train\/part-0\.parquet/)
  }, 120_000)

  it('pins a ref to a lockfile and a training job reads the pinned bytes, whatever the branch does', async () => {
    const pin = JSON.parse(await ok('pin', 'main', '--name', 'train-data', '--json'))
    const lock = JSON.parse(await fs.readFile(path.join(t.dir, 'varve.lock'), 'utf8'))
    expect(lock.pins['train-data']).toEqual(pin)
    expect(pin).toMatchObject({ name: 'train-data', ref: 'main', commit: expect.stringMatching(/^[0-9a-f]{64}$/) })
    const before = await fs.readFile(path.join(t.dir, 'labels-v3.csv'), 'utf8')
    await ok('branch', 'create', 'later')
    await ok('put', 'labels-v2.csv', 'later:train/labels.csv')
    await ok('commit', 'later', '-m', 'move on')
    await ok('merge', 'later', 'main')
    expect(lock.pins['train-data'].repoPin).toBe('train-data')
    expect(ndjson(await ok('pin', 'list', '--json'))).toEqual([expect.objectContaining({ name: 'train-data', commit: pin.commit, ref: 'main' })])
    // the pin keeps its bytes through the most aggressive gc (issue 9.2)
    await ok('gc', '--retain-days', '0', '--grace-seconds', '0')
    const s3opts = backend.name.startsWith('s3')
      ? { s3: { endpoint: s3.options.endpoint, region: s3.options.region, credentials: s3.options.credentials, forcePathStyle: true } }
      : {}
    if (backend.name.startsWith('s3')) await import('@varve/s3-adapter')
    const ds = await openPinned(path.join(t.dir, 'varve.lock'), 'train-data', s3opts)
    expect(ds.commit).toBe(pin.commit)
    expect(Buffer.from(await ds.get('train/labels.csv')).toString()).toBe(before)
    expect((await ds.readTable('train/day=1/part-0.parquet')).numRows).toBe(100)
    expect(await ds.download('train/', path.join(t.dir, 'pinned'))).toBe(3)
    await ds.close()
    await expect(openPinned(path.join(t.dir, 'varve.lock'), 'nope', s3opts)).rejects.toMatchObject({ code: 'NOT_FOUND' })
    expect(await ok('pin', 'rm', 'train-data')).toBe('Removed pin train-data\n')
    expect(await ok('pin', 'list')).toBe('')
  }, 120_000)

  it('the checksum cache never skips a file changed with the same size and mtime (cp -p, rsync -a) (issue 9.6)', async () => {
    const dir = path.join(t.dir, 'cache-case')
    await fs.mkdir(dir, { recursive: true })
    const file = path.join(dir, 'f.csv')
    await fs.writeFile(file, 'id\naaaa\n')
    const old = new Date(Date.now() - 3_600_000)
    await fs.utimes(file, old, old)
    await ok('branch', 'create', 'cache-case')
    expect(await ok('put', dir, 'cache-case:c/', '--json')).toMatch(/"uploaded": 1/)
    expect(await ok('put', dir, 'cache-case:c/', '--json')).toMatch(/"skipped": 1/) // unchanged, old: trusted
    // same size, same mtime, other bytes: what cp -p or rsync -a of another file leaves
    await fs.writeFile(file, 'id\nbbbb\n')
    await fs.utimes(file, old, old)
    expect(await ok('put', dir, 'cache-case:c/', '--json')).toMatch(/"uploaded": 1/)
    expect(await ok('cat', 'cache-case:c/f.csv')).toBe('id\nbbbb\n')
    await ok('branch', 'delete', 'cache-case')
  }, 120_000)

  it('hooks validate checks local rules files; branch unprotect is the documented way out (issue 9.9)', async () => {
    await fs.writeFile(path.join(t.dir, 'good.yaml'), 'id: g\non: [pre-merge]\nchecks:\n  - { type: max-changed-files, max: 10 }\n')
    await fs.writeFile(
      path.join(t.dir, 'bad.yaml'),
      "id: b\non: [pre-merge]\nchecks:\n  - type: parquet-schema\n    files: '*.parquet'\n    columns: { t: { type: timestmp } }\n",
    )
    expect(await ok('hooks', 'validate', 'good.yaml')).toMatch(/^ok good\.yaml: contract g, 1 check on pre-merge\n$/)
    const r = await run('hooks', 'validate', 'good.yaml', 'bad.yaml')
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/invalid bad\.yaml:6: column t: unknown type "timestmp"/)
    await ok('branch', 'create', 'guarded')
    await ok('branch', 'protect', 'guarded')
    expect((await run('put', 'good.yaml', 'guarded:x.yaml')).stderr).toMatch(/PROTECTED_BRANCH/)
    expect(await ok('branch', 'unprotect', 'guarded')).toMatch(/^Unprotected guarded/)
    await ok('put', 'good.yaml', 'guarded:x.yaml')
    await ok('branch', 'delete', 'guarded')
  }, 120_000)

  it('get never leaves unverified bytes: a corrupt object fails and no file is written (issue 9.4)', async () => {
    if (backend.name.startsWith('s3')) return // the local store's files are damaged by hand here; S3 reads verify the same way
    await fs.writeFile(path.join(t.dir, 'unique.csv'), `id\n${randomBytes(8).toString('hex')}\n`)
    await ok('branch', 'create', 'damaged')
    await ok('put', 'unique.csv', 'damaged:corrupt/me.csv')
    const e = JSON.parse(await ok('ls', '-l', 'damaged:corrupt/', '--json').then((o) => o.split('\n')[0]!))
    const blocksDir = path.join(t.dir, '.varve', 'blocks')
    const file = path.join(blocksDir, 'data', e.address.slice(0, 2), e.address.slice(2, 4), e.address)
    const bytes = await fs.readFile(file)
    bytes[0] ^= 0xff
    await fs.writeFile(file, bytes)
    const out = path.join(t.dir, 'out-single', 'me.csv')
    const r = await run('get', 'damaged:corrupt/me.csv', out)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error\[CORRUPT_OBJECT\]/)
    expect(await fs.readdir(path.join(t.dir, 'out-single')).catch(() => [])).toEqual([])
    const r2 = await run('get', 'damaged:corrupt/', path.join(t.dir, 'out-prefix'))
    expect(r2.code).toBe(1)
    expect(await fs.readdir(path.join(t.dir, 'out-prefix')).catch(() => [])).toEqual([])
    // cat writes nothing of a corrupt file (issue 23: N8)
    const r3 = await run('cat', 'damaged:corrupt/me.csv')
    expect(r3.code).toBe(1)
    expect(r3.stderr).toMatch(/^error\[CORRUPT_OBJECT\]/)
    expect(r3.stdout).toBe('')
    await ok('branch', 'delete', 'damaged')
  }, 120_000)

  it('gc and verify', async () => {
    await fs.writeFile(path.join(t.dir, 'garbage.csv'), `id\n${randomBytes(8).toString('hex')}\n`)
    await ok('branch', 'create', 'scratch')
    await ok('put', 'garbage.csv', 'scratch:g.csv')
    await ok('commit', 'scratch', '-m', 'scratch work')
    await ok('branch', 'delete', 'scratch')
    const dry = JSON.parse(await ok('gc', '--dry-run', '--json'))
    expect(dry).toMatchObject({ dryRun: true, deletedObjects: 0 }) // everything is younger than the grace period
    const gc = JSON.parse(await ok('gc', '--grace-seconds', '0', '--retain-days', '0', '--json'))
    expect(gc.deletedObjects).toBeGreaterThan(0)
    const vr = await run('verify', '--full', '--retain-days', '0', '--json')
    expect(vr.code, vr.stdout).toBe(0)
    const v = JSON.parse(vr.stdout)
    expect(v).toMatchObject({ ok: true, problems: [] })
    expect(await ok('verify', '--retain-days', '0')).toMatch(/^ok: \d+ commits, \d+ tree nodes, \d+ data objects\n$/)
  }, 120_000)

  it('records code lineage for a commit made inside a git working tree', async () => {
    const work = path.join(t.dir, 'code-repo')
    await fs.mkdir(work)
    await git.init({ fs: nodeFs, dir: work, defaultBranch: 'trunk' })
    await fs.writeFile(path.join(work, 'etl.py'), 'print("etl")\n')
    await git.add({ fs: nodeFs, dir: work, filepath: 'etl.py' })
    const sha = await git.commit({ fs: nodeFs, dir: work, message: 'etl v1', author: { name: 't', email: 't@example.com' } })
    await git.setConfig({ fs: nodeFs, dir: work, path: 'remote.origin.url', value: 'https://example.com/etl.git' })
    const env = { VARVE_AUTHOR: 'etl', ...backend.env(), ...(backend.name.startsWith('local') ? { VARVE_REPO: path.join(t.dir, '.varve') } : {}) }
    await fs.writeFile(path.join(work, 'out.csv'), 'x\n')
    expect((await varve(['put', 'out.csv', 'exp:lineage/out.csv'], { cwd: work, env })).code).toBe(0)
    const c = await varve(['commit', 'exp', '-m', 'from etl', '--json'], { cwd: work, env })
    expect(c.code, c.stderr).toBe(0)
    const commit = JSON.parse(c.stdout)
    expect(commit.metadata.code).toEqual({ repo: 'https://example.com/etl.git', commit: sha, branch: 'trunk', dirty: false })
    const shown = await varve(['show', commit.id], { cwd: work, env: { ...env, NO_COLOR: '1' } })
    expect(shown.stdout).toContain(`Code:   https://example.com/etl.git ${sha.slice(0, 12)} (trunk)`)
    await fs.writeFile(path.join(work, 'etl.py'), 'print("changed")\n')
    const pin = await varve(['pin', 'exp', '--name', 'x', '--lock', path.join(work, 'x.lock'), '--json'], { cwd: work, env })
    expect(JSON.parse(pin.stdout).code).toMatchObject({ commit: sha, dirty: true })
  }, 120_000)
})

describe('varve completion', () => {
  it('prints a bash completion script that completes verbs, sub-verbs and options', async () => {
    const t = await tempDir('cli-completion')
    try {
      const script = (await varve(['completion', 'bash'], { cwd: t.dir })).stdout
      await fs.writeFile(path.join(t.dir, 'varve.bash'), script)
      const probe = (words: string[], cword: number) =>
        execFileSync(
          'bash',
          ['-c', `source varve.bash; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${cword}; _varve; echo "\${COMPREPLY[*]}"`],
          { cwd: t.dir, encoding: 'utf8' },
        ).trim()
      expect(probe(['varve', 'br'], 1)).toBe('branch')
      expect(probe(['varve', 'branch', 'pr'], 2)).toBe('protect')
      expect(probe(['varve', 'merge', 'a', 'b', '--str'], 4)).toBe('--strategy')
      expect((await varve(['completion', 'tcsh'], { cwd: t.dir })).code).toBe(2)
    } finally {
      await t.cleanup()
    }
  })
})

describe('varve CLI on a terminal', () => {
  it('shows a progress bar on stderr when stderr is a TTY', async () => {
    const t = await tempDir('cli-tty')
    try {
      await fs.mkdir(path.join(t.dir, 'd'))
      for (let i = 0; i < 20; i++) await fs.writeFile(path.join(t.dir, 'd', `f${i}.bin`), Buffer.alloc(50_000, i))
      const env = { ...process.env, VARVE_REPO: path.join(t.dir, 'lake'), VARVE_CACHE_DIR: path.join(t.dir, '.cache') }
      execFileSync(process.execPath, [VARVE_BIN, 'init'], { cwd: t.dir, env })
      // `script` gives the command a pseudo-terminal, as an interactive shell would.
      const out = execFileSync('script', ['-qec', `${process.execPath} ${VARVE_BIN} put d main:d/`, '/dev/null'], { cwd: t.dir, env, encoding: 'utf8' })
      expect(out).toMatch(/put .*100% \| 20\/20 files \| \d+ files\/s \| 976\.6 KiB\/976\.6 KiB \| [0-9.]+ [KMG]?i?B\/s/)
      expect(out).toContain('Staged 20 files')
    } finally {
      await t.cleanup()
    }
  }, 60_000)
})
