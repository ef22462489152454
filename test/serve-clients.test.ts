import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers/processes.js'
import { pythonVenv, runPython, spawnServe, type ServeProcess } from './helpers/serve.js'
import { ndjson, varve } from './helpers/varve-cli.js'

// Issue 12: the clients users have, against `varve serve` spawned from the built CLI, with no Varve
// code on their side: boto3, pyarrow, DuckDB (httpfs), pandas + s3fs and the AWS CLI, from a venv of
// pinned versions (scripts/python-venv.sh; CI makes it, later runs reuse it).

describe('varve serve with the clients users have (issue 12)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let server: ServeProcess
  let venv: string
  const keys = {
    ADMIN_KEY: 'admin-key',
    ADMIN_SECRET: 'admin-secret-0123456789',
    READER_KEY: 'reader-key',
    READER_SECRET: 'reader-secret-0123456789',
    REVIEWER_KEY: 'reviewer-key',
    REVIEWER_SECRET: 'reviewer-secret-0123456789',
  }
  const env = () => ({ ENDPOINT: server.url, BUCKET: 'lake', WORK: t.dir, ...keys })
  const cli = async (...args: string[]) => {
    const r = await varve([...args, '--repo', path.join(t.dir, 'lake')], { cwd: t.dir })
    expect(r.code, r.stderr).toBe(0)
    return r.stdout
  }

  beforeAll(async () => {
    t = await tempDir('serve-clients')
    venv = await pythonVenv()
    expect((await varve(['init', path.join(t.dir, 'lake')], { cwd: t.dir })).code).toBe(0)
    await cli('tag', 'create', 'v0', 'main')
    await fs.writeFile(
      path.join(t.dir, 'serve.yaml'),
      [
        'listen: 127.0.0.1:0',
        'repositories:',
        '  - { name: lake, location: ./lake }',
        'keys:',
        `  - accessKey: ${keys.ADMIN_KEY}`,
        `    secretKey: ${keys.ADMIN_SECRET}`,
        '    grants: [{ repositories: ["*"], branches: ["*"], actions: [read, write, commit, admin] }]',
        `  - accessKey: ${keys.READER_KEY}`,
        `    secretKey: ${keys.READER_SECRET}`,
        '    grants: [{ repositories: [lake], branches: ["*"], actions: [read] }]',
        `  - accessKey: ${keys.REVIEWER_KEY}`,
        `    secretKey: ${keys.REVIEWER_SECRET}`,
        '    grants: [{ repositories: [lake], branches: ["*"], actions: [read, approve] }]',
        '',
      ].join('\n'),
    )
    server = await spawnServe(['--config', 'serve.yaml'], { cwd: t.dir })
  }, 25 * 60_000)

  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0) // SIGTERM drains and exits 0
    await t?.cleanup()
  })

  it(
    'boto3: list, get with ranges, put, multipart (100 MiB), delete, copy, presigned GET; wrong secret; read-only key',
    async () => {
      const seen = await runPython(venv, 'boto3_client.py', env())
      expect(seen).toMatchObject({ buckets: ['lake'], multipart: 100 * 1024 * 1024, keys: ['main/raw/big.bin', 'main/raw/small.bin'] })
      // what boto3 wrote is staged on main, as repo.put stages it
      const staged = ndjson(await cli('status', 'main', '--json')).map((c) => [c.type, c.path])
      expect(staged).toEqual([
        ['added', 'raw/big.bin'],
        ['added', 'raw/small.bin'],
      ])
    },
    10 * 60_000,
  )

  it(
    'pyarrow, DuckDB, pandas + s3fs and the AWS CLI read a pinned commit and write a branch',
    async () => {
      const seen = await runPython(venv, 'dataset_clients.py', env())
      expect(seen).toMatchObject({ pyarrow_rows: 3000, duckdb: [3000, 3], pandas_rows: 3000, aws_cli: true })
      const log = ndjson(await cli('log', 'features', '--json', '-n', '2')).map((c) => c.message)
      expect(log).toEqual(['derived scores from pandas', 'train data from pyarrow'])
      expect(await cli('ls', 'features:cli/')).toContain('cli/copy.parquet')
      expect((await cli('show', String(seen.commit), '--json')).length).toBeGreaterThan(0)
    },
    10 * 60_000,
  )

  it(
    'a review bot in Python (boto3 + urllib): a plain merge is refused, the reviewer key approves, the request merges',
    async () => {
      await cli('branch', 'create', 'reviewed')
      await cli('branch', 'protect', 'reviewed', '--required-approvals', '1', '--dismiss-stale-approvals')
      const seen = await runPython(venv, 'merge_request_client.py', env())
      expect(seen).toEqual({
        refused: 'APPROVAL_REQUIRED',
        gates: 'passed',
        approvers: ['reviewer-key'],
        request: 1,
        state: 'merged',
        history: ['mr-comment', 'mr-approve', 'mr-open'],
        merged_bytes: 'id,label\n1,cat\n',
      })
      expect(await cli('cat', 'reviewed:labels/fix.csv')).toBe('id,label\n1,cat\n')
    },
    5 * 60_000,
  )
})
