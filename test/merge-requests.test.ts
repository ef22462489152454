import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository, VarveError, type RepositoryOptions } from '@varve/core'
import { trainPartition } from '@varve/core/testing'
import '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'
import { collect, runNode, tempDir, workers } from './helpers/processes.js'

// Merge requests on both stores: a local folder (files + SQLite) and an s3:// repository on a real
// MinIO. The races run in separate processes, as several machines would.

let s3: TestS3
let local: Awaited<ReturnType<typeof tempDir>>
const bucket = `varve-mr-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  local = await tempDir('varve-mr')
  s3 = await startTestS3()
  await s3.createBucket(bucket)
}, 120_000)
afterAll(async () => {
  await s3?.stop()
  await local?.cleanup()
})

interface Store {
  name: string
  location: () => string
  options: () => RepositoryOptions
  workerArg: () => string
}
const stores: Store[] = [
  { name: 'local', location: () => path.join(local.dir, randomBytes(5).toString('hex')), options: () => ({}), workerArg: () => '-' },
  {
    name: 'MinIO',
    location: () => `s3://${bucket}/${randomBytes(5).toString('hex')}`,
    options: () => ({ s3: s3.options }),
    workerArg: () => JSON.stringify(s3.options),
  },
]

const CONTRACT = `id: no-csv
on: [pre-merge]
branches: [main]
checks:
  - { type: path-pattern, forbid: ['[.]csv$'] }
`

async function failure(p: Promise<unknown>): Promise<VarveError> {
  try {
    await p
  } catch (e) {
    if (e instanceof VarveError) return e
    throw e
  }
  throw new Error('expected a VarveError')
}

describe.each(stores)('merge requests ($name)', (store) => {
  async function setup(rules: Parameters<Repository['protectBranch']>[1] = { requiredApprovals: 1 }) {
    const location = store.location()
    const repo = await Repository.init(location, { ...store.options(), author: 'admin' })
    await repo.put('main', '_varve/hooks/no-csv.yaml', CONTRACT)
    await repo.put('main', 'train/a.txt', 'a1')
    await repo.commit('main', { message: 'base' })
    await repo.protectBranch('main', rules)
    await repo.createBranch('feature')
    await repo.put('feature', 'train/b.txt', 'b1')
    await repo.commit('feature', { message: 'add b', author: 'ann' })
    return { repo, location }
  }

  it('open, show the gates, approve, merge: the merge names the request and its approvers; every change is logged', async () => {
    const { repo } = await setup()
    expect((await failure(repo.merge('feature', 'main'))).code).toBe('APPROVAL_REQUIRED')
    const id = await repo.openMergeRequest('feature', 'main', { title: 'Add b', description: 'one more file', author: 'ann' })
    expect(id).toBe(1)
    expect(await repo.openMergeRequest('feature', 'main', { title: 'second', author: 'ann' })).toBe(2)
    let view = await repo.mergeRequest(id)
    expect(view).toMatchObject({ id, state: 'open', source: 'feature', dest: 'main', author: 'ann', mergeable: false })
    expect(view.sourceHead).toBe(await repo.resolve('feature'))
    expect(view.changes).toMatchObject({ added: 1, removed: 0, changed: 0 })
    expect(view.changes!.paths.map((p) => p.path)).toEqual(['train/b.txt'])
    expect(view.gates!.status).toBe('passed')
    expect(view.gates!.runs!.map((r) => r.hookId)).toEqual(['no-csv'])
    expect(view.conflicts).toEqual([])
    expect(view.approval).toEqual({ required: 1, counted: [], stale: [], satisfied: false })
    expect(view.blockers).toEqual(['0 of 1 required approvals'])

    const self = await failure(repo.approve(id, { reviewer: 'ann' }))
    expect(self.code).toBe('PERMISSION_DENIED')
    expect(self.details.reason).toBe('self-approval')
    // the same person under another spelling is the same person (issue 23: N12)
    for (const alias of ['Ann', 'ann ', ' ANN', 'ａｎｎ'])
      expect((await failure(repo.approve(id, { reviewer: alias }))).details.reason, JSON.stringify(alias)).toBe('self-approval')
    expect((await failure(repo.approve(id, { reviewer: 'b\u200bob' }))).code).toBe('INVALID_ARGUMENT') // an invisible character
    expect((await failure(repo.mergeMergeRequest(id, { author: 'ann' }))).code).toBe('APPROVAL_REQUIRED')
    await repo.comment(id, { author: 'bob', text: 'is b complete?', path: 'train/b.txt' })
    await repo.comment(id, { author: 'ann', text: 'yes' })
    await repo.approve(id, { reviewer: 'Bob' })
    await repo.approve(id, { reviewer: 'bob' }) // one reviewer, one approval, whatever the spelling
    view = await repo.mergeRequest(id)
    expect(view.approvals.map((a) => a.reviewer)).toEqual(['bob'])
    expect(view.mergeable).toBe(true)
    expect(view.comments.map((c) => [c.id, c.author, c.path ?? null])).toEqual([
      [1, 'bob', 'train/b.txt'],
      [2, 'ann', null],
    ])

    const r = await repo.mergeMergeRequest(id, { author: 'ann' })
    expect(r.upToDate).toBe(false)
    expect(r.commit.parents).toEqual([expect.any(String), view.sourceHead])
    expect(r.commit.metadata).toMatchObject({ 'varve.merge-request': id, 'varve.merge-request.approvers': ['bob'] })
    expect(r.request).toMatchObject({ state: 'merged', merged: { commit: r.commit.id, by: 'ann', approvers: ['bob'] } })
    expect(await repo.resolve('main')).toBe(r.commit.id)
    expect(Buffer.from(await repo.get('main', 'train/b.txt')).toString()).toBe('b1')

    // one at a time: a rejection created before it is awaited is an unhandled one
    for (const attempt of [() => repo.approve(id, { reviewer: 'cy' }), () => repo.closeMergeRequest(id), () => repo.mergeMergeRequest(id)])
      expect((await failure(attempt())).code).toBe('MERGE_REQUEST_NOT_OPEN')
    const log = await collect(repo.mergeRequestLog(id))
    expect(log.map((e) => [e.operation, e.author])).toEqual([
      ['mr-merge', 'ann'],
      ['mr-merging', 'ann'],
      ['mr-approve', 'bob'],
      ['mr-approve', 'Bob'],
      ['mr-comment', 'ann'],
      ['mr-comment', 'bob'],
      ['mr-open', 'ann'],
    ])
    expect(log[0]!.new).toBe(r.commit.id)
    expect((await collect(repo.mergeRequests({ state: 'open' }))).map((m) => m.id)).toEqual([2])
    expect((await collect(repo.mergeRequests())).map((m) => [m.id, m.state])).toEqual([
      [1, 'merged'],
      [2, 'open'],
    ])
    const closed = await repo.closeMergeRequest(2, { author: 'ann' })
    expect(closed).toMatchObject({ state: 'closed', closed: { by: 'ann' } })
    expect((await failure(repo.mergeRequest(99))).code).toBe('NOT_FOUND')
    expect((await failure(repo.approve(99, { reviewer: 'bob' }))).code).toBe('NOT_FOUND')
    expect((await failure(repo.mergeRequest('1' as unknown as number))).code).toBe('INVALID_ARGUMENT')
    for (const bad of [{ title: 'two\nlines' }, { title: '' }, { title: 'x'.repeat(501) }, {}])
      expect((await failure(repo.openMergeRequest('feature', 'main', bad as { title: string }))).code).toBe('INVALID_ARGUMENT')
    expect((await failure(repo.openMergeRequest('feature', 'feature', { title: 'self' }))).code).toBe('INVALID_ARGUMENT')
    expect((await failure(repo.openMergeRequest('nope', 'main', { title: 'gone' }))).code).toBe('NOT_FOUND')
    expect((await failure(repo.comment(2, { text: 'x', path: '../etc' }))).code).toBe('INVALID_PATH')
    // the record (rewritten on every change) stays under 1 MiB: 16 comments of 64 KiB fill it
    const long = 'x'.repeat(64 * 1024)
    let refused: VarveError | undefined
    for (let i = 0; i < 20 && !refused; i++)
      refused = await repo.comment(2, { text: long }).then(
        () => undefined,
        (e: VarveError) => e,
      )
    expect(refused?.code).toBe('INVALID_ARGUMENT')
    expect((await repo.mergeRequest(2, { standing: false })).comments.length).toBe(15)
    await repo.close()
  }, 120_000)

  it('with dismissStaleApprovals, a new source commit voids an approval; approving a head that moved is a CONFLICT', async () => {
    const { repo } = await setup({ requiredApprovals: 1, dismissStaleApprovals: true })
    const id = await repo.openMergeRequest('feature', 'main', { title: 'b', author: 'ann' })
    const seen = await repo.resolve('feature')
    await repo.approve(id, { reviewer: 'bob', head: seen })
    await repo.put('feature', 'train/c.txt', 'c1')
    await repo.commit('feature', { message: 'and c', author: 'ann' })
    const view = await repo.mergeRequest(id)
    expect(view.approval).toMatchObject({ required: 1, counted: [], stale: ['bob'], satisfied: false })
    const refused = await failure(repo.mergeMergeRequest(id, { author: 'ann' }))
    expect(refused.code).toBe('APPROVAL_REQUIRED')
    expect(refused.details).toMatchObject({ request: id, required: 1, approvals: [], stale: ['bob'] })
    expect((await repo.mergeRequest(id)).merging).toBeUndefined()
    const moved = await failure(repo.approve(id, { reviewer: 'bob', head: seen }))
    expect(moved.code).toBe('CONFLICT')
    await repo.approve(id, { reviewer: 'bob', head: (await repo.resolve('feature')).slice(0, 12) })
    const r = await repo.mergeMergeRequest(id, { author: 'ann' })
    expect(Buffer.from(await repo.get(r.commit.id, 'train/c.txt')).toString()).toBe('c1')
    await repo.close()
  }, 120_000)

  it('without dismissStaleApprovals an approval survives new commits; a withdrawn one does not count', async () => {
    const { repo } = await setup({ requiredApprovals: 2 })
    const id = await repo.openMergeRequest('feature', 'main', { title: 'b', author: 'ann' })
    await repo.approve(id, { reviewer: 'bob' })
    await repo.approve(id, { reviewer: 'cy' })
    await repo.unapprove(id, { reviewer: 'cy' })
    expect((await failure(repo.unapprove(id, { reviewer: 'cy' }))).code).toBe('NOT_FOUND')
    await repo.put('feature', 'train/c.txt', 'c1')
    await repo.commit('feature', { message: 'and c' })
    expect((await failure(repo.mergeMergeRequest(id))).code).toBe('APPROVAL_REQUIRED')
    await repo.approve(id, { reviewer: 'dee' })
    expect((await repo.mergeRequest(id)).approval).toMatchObject({ counted: ['bob', 'dee'], stale: ['bob'], satisfied: true })
    await repo.mergeMergeRequest(id, { author: 'ann' })
    await repo.close()
  }, 120_000)

  it('a request whose gates fail cannot merge, and its claim is released; after the fix it merges', async () => {
    const { repo } = await setup()
    await repo.put('feature', 'train/bad.csv', 'x,y')
    await repo.commit('feature', { message: 'a csv' })
    const id = await repo.openMergeRequest('feature', 'main', { title: 'with csv', author: 'ann' })
    await repo.approve(id, { reviewer: 'bob' })
    const view = await repo.mergeRequest(id)
    expect(view.gates).toMatchObject({ status: 'failed', failures: [expect.objectContaining({ hookId: 'no-csv', file: 'train/bad.csv' })] })
    expect(view.mergeable).toBe(false)
    const head = await repo.resolve('main')
    expect((await failure(repo.mergeMergeRequest(id, { author: 'ann' }))).code).toBe('HOOK_FAILED')
    expect(await repo.resolve('main')).toBe(head)
    const after = await repo.mergeRequest(id)
    expect(after.state).toBe('open')
    expect(after.merging).toBeUndefined()
    expect((await collect(repo.mergeRequestLog(id)))[0]).toMatchObject({ operation: 'mr-merge-failed', message: 'HOOK_FAILED' })
    await repo.delete('feature', 'train/bad.csv')
    await repo.commit('feature', { message: 'no csv' })
    await repo.approve(id, { reviewer: 'bob' })
    await repo.mergeMergeRequest(id, { author: 'ann' })
    await repo.close()
  }, 120_000)

  it('patterns: release/* requires approvals; rules combine to the strictest; --list shows the pattern', async () => {
    const repo = await Repository.init(store.location(), store.options())
    await repo.put('main', 'a', '1')
    await repo.commit('main', { message: 'a' })
    await repo.protectBranch('release/*', { requiredApprovals: 2, directCommits: true, deletion: true, reset: true })
    await repo.createBranch('release/1')
    await repo.createBranch('fix')
    await repo.put('release/1', 'direct', 'ok') // the pattern allows direct commits
    await repo.commit('release/1', { message: 'direct' })
    await repo.put('fix', 'b', '2')
    await repo.commit('fix', { message: 'b' })
    expect((await failure(repo.merge('fix', 'release/1'))).code).toBe('APPROVAL_REQUIRED')
    await repo.merge('fix', 'main') // main has no rules
    await repo.protectBranch('release/1', { requiredApprovals: 1, dismissStaleApprovals: true })
    expect(await repo.branchProtection('release/1')).toEqual({
      directCommits: false,
      deletion: false,
      reset: false,
      requiredApprovals: 2,
      dismissStaleApprovals: true,
      requireMergeRequest: true,
      signedApprovals: false,
    })
    expect(await repo.branchProtection('release/x/y')).toBeUndefined() // * stays within a segment
    expect((await collect(repo.protectedBranches())).map((p) => p.branch)).toEqual(['release/1', 'release/*'])
    expect((await failure(repo.protectBranch('release/[', {}))).code).toBe('INVALID_REF')
    await repo.unprotectBranch('release/*')
    expect((await failure(repo.unprotectBranch('release/*'))).code).toBe('NOT_FOUND')
    expect((await repo.branchProtection('release/1'))!.requiredApprovals).toBe(1)
    await repo.close()
  }, 120_000)

  it('merge --dry-run lists every conflict with both sides (sizes, addresses, Parquet rows); resolve rules settle them per path', async () => {
    const repo = await Repository.init(store.location(), store.options())
    await repo.put('main', 'train/t.parquet', trainPartition(10))
    await repo.put('main', 'config/c.yaml', 'v: 1')
    await repo.put('main', 'docs/readme', 'r')
    await repo.commit('main', { message: 'base' })
    await repo.createBranch('exp')
    await repo.put('exp', 'train/t.parquet', trainPartition(20))
    await repo.put('exp', 'config/c.yaml', 'v: exp')
    await repo.put('exp', 'docs/readme', 'r exp')
    await repo.commit('exp', { message: 'exp' })
    await repo.put('main', 'train/t.parquet', trainPartition(30))
    await repo.put('main', 'config/c.yaml', 'v: main')
    await repo.delete('main', 'docs/readme')
    await repo.commit('main', { message: 'main' })
    const head = await repo.resolve('main')
    const dry = await repo.merge('exp', 'main', { dryRun: true })
    expect(dry.dryRun).toBe(true)
    expect(dry.commit.id).toBe(head)
    expect(dry.conflicts!.map((c) => [c.path, c.source, c.dest])).toEqual([
      ['config/c.yaml', 'changed', 'changed'],
      ['docs/readme', 'changed', 'removed'],
      ['train/t.parquet', 'changed', 'changed'],
    ])
    const t = dry.conflicts![2]!
    expect(t.rows).toEqual({ base: 10, source: 20, dest: 30 })
    expect(t.sourceEntry!.address).toBe((await repo.stat('exp', 'train/t.parquet')).address)
    expect(t.destEntry!.size).toBe((await repo.stat('main', 'train/t.parquet')).size)
    expect(typeof t.base!.lastModified).toBe('number')
    expect(dry.conflicts![1]!.destEntry).toBeUndefined()
    expect(await repo.resolve('main')).toBe(head)

    const partial = await repo.merge('exp', 'main', { dryRun: true, resolve: [{ paths: 'train/**', take: 'source' }] })
    expect(partial.conflicts!.map((c) => c.path)).toEqual(['config/c.yaml', 'docs/readme'])
    expect(partial.resolved!.map((c) => [c.path, c.took, c.by])).toEqual([['train/t.parquet', 'source', 'rule']])
    const left = await failure(repo.merge('exp', 'main', { resolve: [{ paths: 'train/**', take: 'source' }] }))
    expect(left.code).toBe('MERGE_CONFLICT')
    expect((left.details.conflicts as { path: string }[]).map((c) => c.path)).toEqual(['config/c.yaml', 'docs/readme'])
    const merged = await repo.merge('exp', 'main', {
      resolve: [
        { paths: 'train/**', take: 'source' },
        { paths: ['config/*'], take: 'dest' },
      ],
      strategy: 'source-wins',
    })
    expect(merged.commit.metadata['varve.merge.resolve']).toEqual([
      { paths: 'train/**', take: 'source' },
      { paths: ['config/*'], take: 'dest' },
    ])
    expect((await repo.stat('main', 'train/t.parquet')).address).toBe((await repo.stat('exp', 'train/t.parquet')).address)
    expect(Buffer.from(await repo.get('main', 'config/c.yaml')).toString()).toBe('v: main')
    expect(Buffer.from(await repo.get('main', 'docs/readme')).toString()).toBe('r exp')
    for (const bad of [[{ paths: 'x', take: 'theirs' }], [{ paths: '', take: 'source' }], [{ paths: 'a/**b', take: 'source' }], 'x'])
      expect((await failure(repo.merge('exp', 'main', { dryRun: true, resolve: bad as never }))).code).toBe('INVALID_ARGUMENT')
    await repo.close()
  }, 120_000)

  it('revert and cherry-pick take the same options and list their conflicts', async () => {
    const repo = await Repository.init(store.location(), store.options())
    await repo.put('main', 'a', '1')
    await repo.put('main', 'b', '1')
    const c1 = await repo.commit('main', { message: 'one' })
    await repo.put('main', 'a', '2')
    await repo.put('main', 'b', '2')
    const c2 = await repo.commit('main', { message: 'two' })
    await repo.put('main', 'a', '3')
    await repo.put('main', 'b', '3')
    await repo.commit('main', { message: 'three' })
    const dry = await repo.revert('main', c2.id, { dryRun: true })
    expect(dry.conflicts!.map((c) => [c.path, c.sourceEntry!.size, c.destEntry!.size])).toEqual([
      ['a', 1, 1],
      ['b', 1, 1],
    ])
    const err = await failure(repo.revert('main', c2.id))
    expect((err.details.conflicts as { path: string }[]).map((c) => c.path)).toEqual(['a', 'b'])
    await repo.revert('main', c2.id, { resolve: [{ paths: 'a', take: 'source' }], strategy: 'dest-wins' })
    expect(Buffer.from(await repo.get('main', 'a')).toString()).toBe('1')
    expect(Buffer.from(await repo.get('main', 'b')).toString()).toBe('3')
    await repo.createBranch('other', { from: c1.id })
    await repo.put('other', 'b', 'other')
    await repo.commit('other', { message: 'other b' })
    const pick = await repo.cherryPick('other', c2.id, { dryRun: true })
    expect(pick.conflicts!.map((c) => c.path)).toEqual(['b'])
    await repo.cherryPick('other', c2.id, { resolve: [{ paths: '*', take: 'source' }] })
    expect(Buffer.from(await repo.get('other', 'b')).toString()).toBe('2')
    await repo.close()
  }, 120_000)

  it('processes race: 4 approvals all land; 4 merges of one request make exactly one merge commit', async () => {
    const { repo, location } = await setup({ requiredApprovals: 4 })
    const id = await repo.openMergeRequest('feature', 'main', { title: 'race', author: 'ann' })
    const run = (action: string, who: string, at: number) =>
      runNode(path.join(workers, 'merge-request-worker.mjs'), [location, store.workerArg(), action, String(id), who, String(at)]).then(
        (o) => JSON.parse(o) as { result: string; commit?: string },
      )
    let at = Date.now() + 1500
    const approvals = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((who) => run('approve', who, at)))
    expect(approvals.map((a) => a.result)).toEqual(['ok', 'ok', 'ok', 'ok'])
    expect((await repo.mergeRequest(id)).approvals.map((a) => a.reviewer).sort()).toEqual(['r1', 'r2', 'r3', 'r4'])
    at = Date.now() + 1500
    const merges = await Promise.all(['m1', 'm2', 'm3', 'm4'].map((who) => run('merge', who, at)))
    for (const m of merges) expect(['ok', 'MERGE_REQUEST_NOT_OPEN']).toContain(m.result)
    const view = await repo.mergeRequest(id)
    expect(view.state).toBe('merged')
    const mergeCommits = (await collect(repo.log('main', { firstParent: true }))).filter((c) => c.metadata['varve.merge-request'] === id)
    expect(mergeCommits).toHaveLength(1)
    expect(view.merged!.commit).toBe(mergeCommits[0]!.id)
    for (const m of merges.filter((x) => x.result === 'ok')) expect(m.commit).toBe(mergeCommits[0]!.id)
    expect((await collect(repo.mergeRequestLog(id))).filter((e) => e.operation === 'mr-merge')).toHaveLength(1)
    await repo.close()
  }, 300_000)

  it('processes race: merge against close ends in one coherent state; an approval racing a source commit is stale or current, never wrong', async () => {
    const { repo, location } = await setup({ requiredApprovals: 1, dismissStaleApprovals: true })
    const run = (id: number, action: string, who: string, at: number) =>
      runNode(path.join(workers, 'merge-request-worker.mjs'), [location, store.workerArg(), action, String(id), who, String(at)]).then(
        (o) => JSON.parse(o) as { result: string },
      )
    for (let round = 0; round < 2; round++) {
      const id = await repo.openMergeRequest('feature', 'main', { title: `race ${round}`, author: 'ann' })
      const at = Date.now() + 1500
      const [approve, commit] = await Promise.all([run(id, 'approve', 'bob', at), run(id, 'commit', 'feature', at)])
      expect([approve.result, commit.result]).toEqual(['ok', 'ok'])
      const view = await repo.mergeRequest(id)
      const approved = view.approvals[0]!.sourceHead
      expect(view.approval!.satisfied).toBe(approved === view.sourceHead)
      if (!view.approval!.satisfied) await repo.approve(id, { reviewer: 'bob' })
      const head = await repo.resolve('main')
      const at2 = Date.now() + 1500
      const [merge, close] = await Promise.all([run(id, 'merge', 'ann', at2), run(id, 'close', 'cy', at2)])
      const after = await repo.mergeRequest(id)
      if (after.state === 'merged') {
        expect(merge.result).toBe('ok')
        expect(['MERGE_REQUEST_NOT_OPEN', 'CONFLICT']).toContain(close.result)
        expect(await repo.resolve('main')).toBe(after.merged!.commit)
      } else {
        expect(after.state).toBe('closed')
        expect(close.result).toBe('ok')
        expect(merge.result).toBe('MERGE_REQUEST_NOT_OPEN')
        expect(await repo.resolve('main')).toBe(head)
      }
    }
    await repo.close()
  }, 300_000)
})
