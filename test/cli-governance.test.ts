import fs from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { trainPartition } from '@varve/core/testing'
import { tempDir } from './helpers/processes.js'
import { varve } from './helpers/varve-cli.js'

// Governance through the built CLI, spawned as a process: merge requests, approvals, protection
// rules with patterns, dry runs and per-path resolution, with the exit codes scripts rely on.

let t: Awaited<ReturnType<typeof tempDir>>
const as =
  (author: string) =>
  (...args: string[]) =>
    varve(args, { cwd: t.dir, env: { VARVE_AUTHOR: author } })
const ann = as('ann')
const bob = as('bob')
const json = (s: string) => JSON.parse(s) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

beforeAll(async () => {
  t = await tempDir('cli-governance')
  await fs.writeFile(path.join(t.dir, 'a.parquet'), trainPartition(10))
  await fs.writeFile(path.join(t.dir, 'b.parquet'), trainPartition(20))
  await fs.writeFile(path.join(t.dir, 'c.parquet'), trainPartition(30))
  for (const args of [
    ['init'],
    ['put', 'a.parquet', 'main:train/t.parquet'],
    ['put', 'a.parquet', 'main:config/c.parquet'],
    ['commit', 'main', '-m', 'base'],
    ['branch', 'create', 'exp'],
    ['put', 'b.parquet', 'exp:train/t.parquet'],
    ['put', 'b.parquet', 'exp:config/c.parquet'],
    ['commit', 'exp', '-m', 'exp'],
    ['put', 'c.parquet', 'main:train/t.parquet'],
    ['put', 'c.parquet', 'main:config/c.parquet'],
    ['commit', 'main', '-m', 'main'],
  ]) {
    const r = await ann(...args)
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
}, 120_000)
afterAll(async () => t?.cleanup())

describe('varve merge --dry-run / --resolve, varve mr, varve branch protect (issue 13)', () => {
  it('a dry run lists both sides of every conflict (exit 3), moves nothing; --resolve settles them per path', async () => {
    const head = (await ann('log', 'main', '--json', '-n', '1')).stdout
    const dry = await ann('merge', 'exp', 'main', '--dry-run', '--json')
    expect(dry.code).toBe(3)
    const d = json(dry.stdout)
    expect(d.conflicts.map((c: { path: string }) => c.path)).toEqual(['config/c.parquet', 'train/t.parquet'])
    expect(d.conflicts[1]).toMatchObject({
      source: 'changed',
      dest: 'changed',
      rows: { base: 10, source: 20, dest: 30 },
      sourceEntry: { size: expect.any(Number) },
    })
    const text = await ann('merge', 'exp', 'main', '--dry-run')
    expect(text.code).toBe(3)
    expect(text.stdout).toMatch(/train\/t\.parquet +changed: .*20 rows.* +changed: .*30 rows/)
    expect((await ann('log', 'main', '--json', '-n', '1')).stdout).toBe(head)
    const half = await ann('merge', 'exp', 'main', '--resolve', 'train/**=source')
    expect(half.code).toBe(3)
    expect(half.stderr).toContain('config/c.parquet')
    expect(half.stderr).toContain("--resolve 'config/c.parquet=source'") // the hint names a real path
    const ok = await ann('merge', 'exp', 'main', '--resolve', 'train/**=source', '--resolve', 'config/*=dest', '--json')
    expect(ok.code, ok.stderr).toBe(0)
    expect(json(ok.stdout).commit.metadata['varve.merge.resolve']).toEqual([
      { paths: 'train/**', take: 'source' },
      { paths: 'config/*', take: 'dest' },
    ])
    const bad = await ann('merge', 'exp', 'main', '--resolve', 'train/**=theirs')
    expect(bad.code).toBe(2)
  })

  it('protect with approvals; a plain merge is APPROVAL_REQUIRED (exit 4); open, approve (not your own), merge', async () => {
    let r = await ann('branch', 'protect', 'main', '--required-approvals', '1', '--dismiss-stale-approvals')
    expect(r.code, r.stderr).toBe(0)
    r = await ann('branch', 'protect', 'release/*', '--required-approvals', '2')
    expect(r.code, r.stderr).toBe(0)
    const list = json((await ann('branch', 'protect', '--list', '--json')).stdout)
    expect(list.rules.map((x: { pattern: string; requiredApprovals: number }) => [x.pattern, x.requiredApprovals])).toEqual([
      ['main', 1],
      ['release/*', 2],
    ])
    expect((await ann('branch', 'protect', '--list')).stdout).toContain('release/*')
    await ann('branch', 'create', 'release/1')
    const branches = (await ann('branch', 'list', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { name: string; protected: boolean })
    expect(branches.filter((b) => b.protected).map((b) => b.name)).toEqual(['main', 'release/1'])
    await ann('branch', 'create', 'feature', '--from', 'main')
    await ann('put', 'a.parquet', 'feature:train/new.parquet')
    await ann('commit', 'feature', '-m', 'new file')

    const plain = await ann('merge', 'feature', 'main', '--json')
    expect(plain.code).toBe(4)
    expect(json(plain.stderr).error).toMatchObject({ code: 'APPROVAL_REQUIRED', details: { branch: 'main', required: 1 } })
    expect(json(plain.stderr).error.hint).toContain('varve mr open feature main')

    const opened = await ann('mr', 'open', 'feature', 'main', '-t', 'New file', '--json')
    expect(opened.code, opened.stderr).toBe(0)
    const id = json(opened.stdout).id as number
    expect(json(opened.stdout)).toMatchObject({ state: 'open', author: 'ann', gates: { status: 'passed' }, approval: { required: 1, satisfied: false } })
    const self = await ann('mr', 'approve', String(id))
    expect(self.code).toBe(1)
    expect(self.stderr).toContain('PERMISSION_DENIED')
    const early = await ann('mr', 'merge', String(id))
    expect(early.code).toBe(4)
    expect(early.stderr).toContain('APPROVAL_REQUIRED')
    expect((await bob('mr', 'comment', String(id), 'why this file?', '--path', 'train/new.parquet')).code).toBe(0)
    const approved = await bob('mr', 'approve', String(id))
    expect(approved.code, approved.stderr).toBe(0)
    const show = await ann('mr', 'show', String(id))
    expect(show.stdout).toContain('mergeable: yes')
    expect(show.stdout).toMatch(/approvals +1 of 1 required \(bob\)/)
    expect(show.stdout).toContain('#1 bob')
    const merged = await ann('mr', 'merge', String(id), '--json')
    expect(merged.code, merged.stderr).toBe(0)
    expect(json(merged.stdout).commit.metadata).toMatchObject({ 'varve.merge-request': id, 'varve.merge-request.approvers': ['bob'] })
    const again = await ann('mr', 'merge', String(id), '--json')
    expect(again.code).toBe(1)
    expect(json(again.stderr).error.code).toBe('MERGE_REQUEST_NOT_OPEN')
    const all = (await ann('mr', 'list', '--state', 'all', '--json')).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; state: string })
    expect(all.map((x) => [x.id, x.state])).toEqual([[id, 'merged']])
    const history = json((await ann('mr', 'show', String(id), '--json')).stdout).history.map((e: { operation: string }) => e.operation)
    expect(history).toEqual(['mr-merge', 'mr-merging', 'mr-approve', 'mr-comment', 'mr-open'])
    expect((await ann('branch', 'unprotect', 'release/*')).code).toBe(0)
  })
})
