import path from 'node:path'
import { Repository } from '@varve/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateServeConfig } from '../src/config.js'
import { startServer, type RunningServer } from '../src/server.js'
import { tempDir } from '../../core/test/helpers.js'

// Issue 26: the API routes the web UI's pages read beyond the first ones — cherry-picks, the ref log,
// blame, hook runs, a path search, branch protection, presigned links — each with the grants of the
// key that calls it (a branch-limited key reaches no other branch through any of them).

describe('varve serve: history, search, protection and presign routes (issue 26)', () => {
  let t: Awaited<ReturnType<typeof tempDir>>
  let server: RunningServer
  const call = async (method: string, p: string, body?: unknown, who = 'admin') => {
    const res = await fetch(`${server.url}/api/v1/repositories/lake${p}`, {
      method,
      headers: { Authorization: `Basic ${Buffer.from(`${who}:${who}-secret`).toString('base64')}`, 'Content-Type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string } } }
  }
  let fix: string

  beforeAll(async () => {
    t = await tempDir('ui-api')
    const repo = await Repository.init(path.join(t.dir, 'lake'), { author: 'setup' })
    for (let i = 0; i < 250; i++)
      await repo.put('main', `data/${i % 2 ? 'odd' : 'even'}/part-${String(i).padStart(3, '0')}.${i % 5 ? 'csv' : 'parquet'}`, `${i}`)
    await repo.put(
      'main',
      '_varve/hooks/no-tmp.yaml',
      "id: no-tmp\non: [pre-commit]\nbranches: [main]\nchecks:\n  - type: path-pattern\n    forbid: ['\\.tmp$']\n",
    )
    await repo.commit('main', { message: 'first' })
    await repo.createBranch('team/exp')
    await repo.put('team/exp', 'data/fix.csv', 'fixed')
    fix = (await repo.commit('team/exp', { message: 'the fix' })).id
    await repo.createBranch('secret')
    await repo.put('secret', 'hidden.csv', 'x')
    await repo.commit('secret', { message: 'hidden' })
    await repo.put('main', 'bad.tmp', 'x')
    await repo.commit('main', { message: 'refused' }).catch(() => {})
    await repo.delete('main', 'bad.tmp')
    await repo.close()
    server = await startServer(
      validateServeConfig({
        listen: '127.0.0.1:0',
        repositories: [{ name: 'lake', location: path.join(t.dir, 'lake') }],
        keys: [
          { accessKey: 'admin', secretKey: 'admin-secret', grants: [{ actions: ['read', 'write', 'commit', 'admin'] }] },
          {
            accessKey: 'team',
            secretKey: 'team-secret',
            grants: [
              { repositories: ['lake'], branches: ['team/*', 'main'], actions: ['read'] },
              { repositories: ['lake'], branches: ['team/*'], actions: ['write', 'commit'] },
            ],
          },
        ],
      }),
    )
  })
  afterAll(async () => {
    await server?.close()
    await t?.cleanup()
  })

  it('searches paths by glob under a prefix, a page at a time, each path once', async () => {
    const found: string[] = []
    let after: string | undefined
    for (let i = 0; i < 20; i++) {
      const r = await call(
        'GET',
        `/search?ref=main&prefix=data/&glob=${encodeURIComponent('**/*.parquet')}&limit=20${after ? `&after=${encodeURIComponent(after)}` : ''}`,
      )
      expect(r.status).toBe(200)
      found.push(...(r.body.paths as { path: string }[]).map((x) => x.path))
      if (!r.body.truncated) break
      after = r.body.next as string
    }
    expect(found).toHaveLength(50)
    expect(new Set(found).size).toBe(50)
    expect(found.every((p) => p.endsWith('.parquet'))).toBe(true)
    const odd = await call('GET', `/search?ref=main&prefix=data/odd/&glob=${encodeURIComponent('part-1?5.*')}`)
    expect((odd.body.paths as { path: string }[]).map((x) => x.path)).toEqual([
      'data/odd/part-105.parquet',
      'data/odd/part-115.parquet',
      'data/odd/part-125.parquet',
      'data/odd/part-135.parquet',
      'data/odd/part-145.parquet',
      'data/odd/part-155.parquet',
      'data/odd/part-165.parquet',
      'data/odd/part-175.parquet',
      'data/odd/part-185.parquet',
      'data/odd/part-195.parquet',
    ])
    // A hostile glob is bounded (picomatch has no backtracking trap for these) and a huge one refused.
    const hostile = await call('GET', `/search?ref=main&glob=${encodeURIComponent(`${'*a'.repeat(200)}b`)}`)
    expect(hostile.status).toBe(200)
    expect((await call('GET', `/search?ref=main&glob=${'a'.repeat(2000)}`)).status).toBe(400)
    expect((await call('GET', '/search?ref=secret', undefined, 'team')).status).toBe(403)
  })

  it('cherry-picks a commit the key can read onto a branch it may commit to; refuses one it cannot read', async () => {
    expect((await call('POST', '/branches', { name: 'team/other', from: 'main' })).status).toBe(201)
    const picked = await call('POST', '/branches/team/other/cherry-picks', { commit: fix }, 'team')
    expect(picked.status).toBe(201)
    expect(picked.body.message).toContain('the fix')
    const secretHead = (await call('GET', '/branches/secret')).body.head as string
    expect((await call('POST', '/branches/team/other/cherry-picks', { commit: secretHead }, 'team')).status).toBe(403)
    expect((await call('POST', '/branches/main/cherry-picks', { commit: fix }, 'team')).status).toBe(403)
  })

  it('the ref log, blame and hook runs, each only for refs the key can read', async () => {
    const log = await call('GET', '/reflog?ref=team/exp')
    expect((log.body.entries as { operation: string }[]).map((e) => e.operation)).toEqual(['commit', 'create'])
    expect((await call('GET', '/reflog?ref=secret', undefined, 'team')).status).toBe(403)
    const blame = await call('GET', '/blame?ref=team/exp&prefix=data/fix')
    expect(blame.body.lines).toEqual([expect.objectContaining({ path: 'data/fix.csv', commit: expect.objectContaining({ id: fix }) })])
    expect((await call('GET', '/blame?ref=secret', undefined, 'team')).status).toBe(403)
    const runs = await call('GET', '/hook-runs?branch=main')
    expect((runs.body.runs as { hookId: string; status: string; failures: { file: string }[] }[])[0]).toMatchObject({
      hookId: 'no-tmp',
      status: 'failed',
      failures: [expect.objectContaining({ file: 'bad.tmp' })],
    })
    expect((await call('GET', '/hook-runs?branch=secret', undefined, 'team')).status).toBe(403)
  })

  it('branch protection: admins set and remove rules by name or pattern; bad rules are typed errors; others are refused', async () => {
    const set = await call('PUT', '/protections/release-*', { requiredApprovals: 2, dismissStaleApprovals: true })
    expect(set.status).toBe(200)
    expect(set.body).toMatchObject({ requiredApprovals: 2, dismissStaleApprovals: true, requireMergeRequest: true })
    const list = await call('GET', '/protections')
    expect(list.body.protections).toEqual([expect.objectContaining({ branch: 'release-*' })])
    expect((await call('PUT', '/protections/main', { requiredApprovals: -1 })).body.error?.code).toBe('INVALID_ARGUMENT')
    expect((await call('PUT', '/protections/main', { directCommits: 'yes' })).status).toBe(400)
    expect((await call('PUT', '/protections/main', { sudo: true })).status).toBe(400)
    expect((await call('PUT', '/protections/team/exp', { deletion: false }, 'team')).status).toBe(403)
    expect((await call('DELETE', '/protections/release-*', undefined, 'team')).status).toBe(403)
    expect((await call('DELETE', '/protections/release-*')).status).toBe(200)
    expect((await call('GET', '/protections')).body.protections).toEqual([])
  })

  it('a garbage-collection dry run for admins; a real one is not served; bad retention is typed', async () => {
    const r = await call('POST', '/gc', { dryRun: true, retainDays: 0 })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ dryRun: true, retainedCommits: expect.any(Number) })
    expect((await call('POST', '/gc', {})).status).toBe(400)
    expect((await call('POST', '/gc', { dryRun: true, retainDays: -1 })).status).toBe(400)
    expect((await call('POST', '/gc', { dryRun: true }, 'team')).status).toBe(403)
  })

  it('a presigned link reads the object through the S3 API with the caller key, for a while', async () => {
    const r = await call('GET', '/objects/presign?ref=main&path=data/even/part-000.parquet&expires=60', undefined, 'team')
    expect(r.status).toBe(200)
    const url = r.body.url as string
    expect(url).toContain('X-Amz-Credential=team%2F')
    const got = await fetch(url)
    expect(got.status).toBe(200)
    expect(await got.text()).toBe('0')
    // Tampered: another path with the same signature is refused.
    expect((await fetch(url.replace('part-000', 'part-002'))).status).toBe(403)
    expect((await call('GET', '/objects/presign?ref=secret&path=hidden.csv', undefined, 'team')).status).toBe(403)
    expect((await call('GET', '/objects/presign?ref=main&path=nope')).status).toBe(404)
    expect((await call('GET', '/objects/presign?ref=main&path=data/even/part-000.parquet&expires=0')).status).toBe(400)
  })
})
