// Over 400 lines on purpose: a conformance suite, one `it` per behaviour every store must keep; a
// store runs it whole.
import { describe, expect, it } from 'vitest'
import { VarveError } from '../errors/varve-error.js'
import { keys } from '../objects/keys.js'
import { decodePackIndex, packFooterBytes, packIndexRange } from '../objects/pack.js'
import type { PutManyItem } from '../ingest/put-many.js'
import type { Repository, RepositoryOptions } from '../repository/repository.js'
import type { BlockStore } from '../stores/block-store.js'
import { trainPartition } from './parquet-fixtures.js'
import { collect } from './suite-util.js'

/** A fresh, empty repository location on some pair of stores. */
export interface RepositoryFixture {
  init(options?: RepositoryOptions): Promise<Repository>
  open(options?: RepositoryOptions): Promise<Repository>
  /** The raw block store behind the repository, to damage objects on purpose. */
  readonly blocks: BlockStore
  cleanup(): Promise<void>
}

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8')
async function expectCode(p: Promise<unknown> | (() => Promise<unknown>), c: string): Promise<VarveError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    expect(e).toBeInstanceOf(VarveError)
    expect((e as VarveError).code).toBe(c)
    return e as VarveError
  }
  throw new Error(`expected VarveError ${c}, but the call succeeded`)
}

/**
 * The behaviour of a repository, independent of where it is stored. Every store pair runs these
 * same test bodies (the embedded folder + SQLite, and S3 on MinIO).
 */
export function repositoryBehaviour(name: string, make: () => Promise<RepositoryFixture>): void {
  describe(`Repository behaviour: ${name}`, () => {
    const withRepo = (fn: (repo: Repository, f: RepositoryFixture) => Promise<void>) => async () => {
      const f = await make()
      const repo = await f.init({ author: 'tester' })
      try {
        await fn(repo, f)
      } finally {
        await repo.close()
        await f.cleanup()
      }
    }

    it('init creates main with one root commit; init again is REPOSITORY_EXISTS; open finds it', async () => {
      const f = await make()
      try {
        const repo = await f.init({ author: 'a' })
        const log = await collect(repo.log('main'))
        expect(log).toHaveLength(1)
        expect(log[0]).toMatchObject({ parents: [], generation: 1, message: 'Repository created' })
        await repo.close()
        await expectCode(f.init(), 'REPOSITORY_EXISTS')
        const again = await f.open()
        expect(await again.resolve('main')).toBe(log[0]!.id)
        await again.close()
      } finally {
        await f.cleanup()
      }
    })

    it(
      'conditional puts are atomic: of racing ifNoneMatch puts exactly one wins; ifMatch moves only from the address seen',
      withRepo(async (repo) => {
        await repo.createBranch('delta')
        const log = '_delta_log/00000000000000000001.json'
        const racers = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => repo.put('delta', log, `writer ${i}`, { ifNoneMatch: '*' })))
        const won = racers.filter((r) => r.status === 'fulfilled')
        expect(won).toHaveLength(1)
        for (const r of racers) if (r.status === 'rejected') expect((r.reason as VarveError).code).toBe('PRECONDITION_FAILED')
        const winner = (won[0] as PromiseFulfilledResult<{ address: string }>).value
        expect((await repo.stat('delta', log)).address).toBe(winner.address)
        // committed, it still exists for the condition; removed and committed, it can be created again
        await repo.commit('delta', { message: 'version 1' })
        await expectCode(repo.put('delta', log, 'late', { ifNoneMatch: '*' }), 'PRECONDITION_FAILED')
        const updates = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => repo.put('delta', log, `update ${i}`, { ifMatch: winner.address })))
        expect(updates.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
        await expectCode(repo.put('delta', 'absent.json', 'x', { ifMatch: winner.address }), 'PRECONDITION_FAILED')
        await repo.delete('delta', log)
        await repo.commit('delta', { message: 'gone' })
        await repo.put('delta', log, 'again', { ifNoneMatch: '*' })
        await expectCode(repo.put('delta', log, 'x', { ifNoneMatch: '*', ifMatch: 'abc' } as never), 'INVALID_ARGUMENT')
      }),
    )

    it(
      'new paths are Unicode NFC: a look-alike (NFD) name is refused, so two files never look the same',
      withRepo(async (repo) => {
        const nfc = 'data/caf\u00e9.csv'
        const nfd = 'data/cafe\u0301.csv'
        await repo.put('main', nfc, 'a')
        const err = await expectCode(repo.put('main', nfd, 'b'), 'INVALID_PATH')
        expect(err.message).toContain('not in Unicode NFC')
        expect(err.details).toMatchObject({ reason: 'not NFC', nfc })
        await expectCode(repo.putMany('main', [{ path: nfd, data: 'b' }]), 'INVALID_PATH')
        await expectCode(repo.copy('main', nfc, 'main', nfd), 'INVALID_PATH')
        expect((await collect(repo.list('main', { prefix: 'data/' }))).map((e) => e.path)).toEqual([nfc])
      }),
    )

    it(
      'puts, stats and gets files with metadata; identical content is stored once',
      withRepo(async (repo) => {
        await repo.createBranch('exp')
        const e1 = await repo.put('exp', 'a/one.csv', 'same bytes', { metadata: { source: 'x' }, contentType: 'text/csv' })
        const e2 = await repo.put('exp', 'b/two.csv', Buffer.from('same bytes'))
        expect(e1.address).toBe(e2.address)
        expect(e1.address).toMatch(/^[0-9a-f]{64}$/)
        expect(text(await repo.get('exp', 'a/one.csv'))).toBe('same bytes')
        expect(await repo.stat('exp', 'a/one.csv')).toMatchObject({ size: 10, metadata: { source: 'x' }, contentType: 'text/csv' })
        const chunks: Buffer[] = []
        for await (const c of await repo.getStream('exp', 'b/two.csv')) chunks.push(c as Buffer)
        expect(Buffer.concat(chunks).toString()).toBe('same bytes')
        await expectCode(repo.get('main', 'a/one.csv'), 'NOT_FOUND') // branches are isolated
      }),
    )

    it(
      'streams a large object through its hash without holding it whole',
      withRepo(async (repo) => {
        const part = Buffer.alloc(1 << 20, 7)
        async function* source() {
          for (let i = 0; i < 12; i++) yield part
        }
        const e = await repo.put('main', 'big.bin', source())
        expect(e.size).toBe(12 << 20)
        const { createHash } = await import('node:crypto')
        const h = createHash('sha256')
        for (let i = 0; i < 12; i++) h.update(part)
        expect(e.address).toBe(h.digest('hex'))
        let n = 0
        for await (const c of await repo.getStream('main', 'big.bin')) n += (c as Buffer).length
        expect(n).toBe(12 << 20)
      }),
    )

    it(
      'shows uncommitted changes, commits them, and refuses an empty commit',
      withRepo(async (repo) => {
        await repo.put('main', 'keep.txt', 'k')
        await repo.put('main', 'old.txt', 'o')
        await repo.commit('main', { message: 'base', metadata: { run: 1 } })
        await expectCode(repo.commit('main', { message: 'nothing' }), 'NOTHING_TO_COMMIT')
        await repo.put('main', 'new.txt', 'n')
        await repo.put('main', 'keep.txt', 'k2')
        await repo.delete('main', 'old.txt')
        await repo.put('main', 'same.txt', 's')
        await repo.delete('main', 'same.txt') // added then removed: no change
        expect((await collect(repo.uncommitted('main'))).map((c) => [c.path, c.type])).toEqual([
          ['keep.txt', 'changed'],
          ['new.txt', 'added'],
          ['old.txt', 'removed'],
        ])
        expect((await repo.getBranch('main')).dirty).toBe(true)
        const c = await repo.commit('main', { message: 'edit', author: 'etl-bot' })
        expect(c).toMatchObject({ message: 'edit', author: 'etl-bot', generation: 3 })
        expect(await collect(repo.uncommitted('main'))).toEqual([])
        expect(text(await repo.get('main', 'keep.txt'))).toBe('k2')
        await expectCode(repo.stat('main', 'old.txt'), 'NOT_FOUND')
        const empty = await repo.commit('main', { message: 'marker', allowEmpty: true })
        expect(empty.root).toBe(c.root)
        expect((await repo.getCommit('main~2')).metadata).toEqual({ run: 1 })
      }),
    )

    it(
      're-staging what is already committed is nothing to commit',
      withRepo(async (repo) => {
        await repo.put('main', 'x', 'same')
        await repo.commit('main', { message: 'x' })
        await repo.put('main', 'x', 'same')
        expect(await collect(repo.uncommitted('main'))).toEqual([])
        await expectCode(repo.commit('main', { message: 'again' }), 'NOTHING_TO_COMMIT')
        expect((await repo.getBranch('main')).dirty).toBe(false)
      }),
    )

    it(
      'lists with prefix, after, delimiter and limit, including staged changes',
      withRepo(async (repo) => {
        for (const p of ['d/a/1', 'd/a/2', 'd/b/1', 'd/c', 'e/1', 'd.txt']) await repo.put('main', p, p)
        await repo.commit('main', { message: 'files' })
        await repo.put('main', 'd/b/2', 'staged')
        await repo.delete('main', 'd/c')
        const paths = async (opts: Parameters<Repository['list']>[1]) => (await collect(repo.list('main', opts))).map((i) => `${i.type}:${i.path}`)
        expect(await paths({})).toEqual(['object:d.txt', 'object:d/a/1', 'object:d/a/2', 'object:d/b/1', 'object:d/b/2', 'object:e/1'])
        expect(await paths({ prefix: 'd/' })).toEqual(['object:d/a/1', 'object:d/a/2', 'object:d/b/1', 'object:d/b/2'])
        expect(await paths({ prefix: 'd/', delimiter: '/' })).toEqual(['prefix:d/a/', 'prefix:d/b/'])
        expect(await paths({ delimiter: '/' })).toEqual(['object:d.txt', 'prefix:d/', 'prefix:e/']) // '.' sorts before '/'
        expect(await paths({ prefix: 'd/', after: 'd/a/2' })).toEqual(['object:d/b/1', 'object:d/b/2'])
        expect(await paths({ limit: 2 })).toEqual(['object:d.txt', 'object:d/a/1'])
        const commitView = (await collect(repo.list('main~0', { prefix: 'd/' }))).map((i) => i.path)
        expect(commitView).toEqual(['d/a/1', 'd/a/2', 'd/b/1', 'd/c']) // a commit shows no staged changes
      }),
    )

    it(
      'diffs two commits: added, removed and changed, in path order',
      withRepo(async (repo) => {
        for (let i = 0; i < 500; i++) await repo.put('main', `p/${String(i).padStart(4, '0')}`, `v${i}`)
        const a = await repo.commit('main', { message: 'a' })
        await repo.put('main', 'p/0100', 'changed')
        await repo.delete('main', 'p/0200')
        await repo.put('main', 'p/0200x', 'added')
        await repo.put('main', 'q', 'added')
        const b = await repo.commit('main', { message: 'b' })
        const d = await collect(repo.diff(a.id, b.id))
        expect(d.map((x) => [x.path, x.type])).toEqual([
          ['p/0100', 'changed'],
          ['p/0200', 'removed'],
          ['p/0200x', 'added'],
          ['q', 'added'],
        ])
        expect(d[0]!.left?.address).not.toBe(d[0]!.right?.address)
        expect((await collect(repo.diff(b.id, a.id))).map((x) => x.type)).toEqual(['changed', 'added', 'removed', 'removed'])
        expect(await collect(repo.diff('main', 'main'))).toEqual([])
        expect((await collect(repo.diff(a.id, b.id, { prefix: 'q' }))).map((x) => x.path)).toEqual(['q'])
      }),
    )

    it(
      'merges a branch with a two-parent merge commit; already merged is up to date',
      withRepo(async (repo) => {
        await repo.put('main', 'base.txt', 'b')
        await repo.commit('main', { message: 'base' })
        await repo.createBranch('exp', { from: 'main' })
        await repo.put('exp', 'exp.txt', 'e')
        await repo.commit('exp', { message: 'exp work' })
        await repo.put('main', 'main.txt', 'm')
        await repo.commit('main', { message: 'main work' })
        const m = await repo.merge('exp', 'main', { author: 'merger' })
        expect(m.upToDate).toBe(false)
        expect(m.commit.parents).toEqual([await repo.resolve('main~1'), await repo.resolve('exp')])
        expect(m.commit.author).toBe('merger')
        expect((await collect(repo.list('main'))).map((i) => i.path)).toEqual(['base.txt', 'exp.txt', 'main.txt'])
        expect((await repo.merge('exp', 'main')).upToDate).toBe(true)
        expect(await repo.resolve('main^2')).toBe(await repo.resolve('exp'))
      }),
    )

    it(
      'reports conflicts with their paths, and resolves them by strategy',
      withRepo(async (repo) => {
        await repo.put('main', 'c.txt', 'base')
        await repo.put('main', 'd.txt', 'base')
        await repo.put('main', 'same.txt', 'base')
        await repo.commit('main', { message: 'base' })
        await repo.createBranch('exp')
        await repo.put('exp', 'c.txt', 'exp')
        await repo.delete('exp', 'd.txt')
        await repo.put('exp', 'same.txt', 'both')
        await repo.commit('exp', { message: 'exp' })
        await repo.put('main', 'c.txt', 'main')
        await repo.put('main', 'd.txt', 'main')
        await repo.put('main', 'same.txt', 'both')
        await repo.commit('main', { message: 'main' })
        const head = await repo.resolve('main')
        const err = await expectCode(repo.merge('exp', 'main'), 'MERGE_CONFLICT')
        expect((err.details.conflicts as { path: string }[]).map((c) => c.path)).toEqual(['c.txt', 'd.txt'])
        expect(await repo.resolve('main')).toBe(head) // nothing moved
        await repo.createBranch('main2', { from: 'main' })
        await repo.merge('exp', 'main', { strategy: 'source-wins' })
        expect(text(await repo.get('main', 'c.txt'))).toBe('exp')
        await expectCode(repo.stat('main', 'd.txt'), 'NOT_FOUND')
        await repo.merge('exp', 'main2', { strategy: 'dest-wins' })
        expect(text(await repo.get('main2', 'c.txt'))).toBe('main')
        expect(text(await repo.get('main2', 'd.txt'))).toBe('main')
        await expectCode(repo.merge('exp', 'main', { strategy: 'bogus' as never }), 'INVALID_ARGUMENT')
      }),
    )

    it(
      'a conflict names the merge source; log with a prefix and blame follow the first parents',
      withRepo(async (repo) => {
        await repo.put('main', 'train/day=1/a', '1')
        await repo.put('main', 'train/day=10/a', '1')
        await repo.put('main', 'other', '1')
        const c1 = await repo.commit('main', { message: 'c1' })
        await repo.createBranch('side')
        await repo.put('side', 'train/day=1/b', 'side')
        const s1 = await repo.commit('side', { message: 's1' })
        await repo.put('main', 'train/day=10/a', '2')
        const c2 = await repo.commit('main', { message: 'c2' })
        await repo.put('main', 'other', '2')
        await repo.commit('main', { message: 'c3' })
        const m = await repo.merge('side', 'main')
        const messages = async (prefix: string, o: { firstParent?: boolean; limit?: number } = {}) =>
          (await collect(repo.log('main', { prefix, ...o }))).map((c) => c.message)
        // the merge brings day=1/b onto main's line: it is that path's change on the first-parent line
        expect(await messages('train/day=1/', { firstParent: true })).toEqual(['Merge side into main', 'c1'])
        expect(await messages('train/day=1/')).toEqual(['Merge side into main', 's1', 'c1'])
        expect(await messages('train/day=10/', { firstParent: true })).toEqual(['c2', 'c1'])
        expect(await messages('other', { firstParent: true, limit: 1 })).toEqual(['c3'])
        expect(await messages('nothing/')).toEqual([])
        await expectCode(collect(repo.log('main', { prefix: '../x' })), 'INVALID_PATH')
        const blame = new Map((await collect(repo.blame('main', 'train/'))).map((b) => [b.path, b.commit.id]))
        expect(Object.fromEntries(blame)).toEqual({ 'train/day=1/a': c1.id, 'train/day=1/b': m.commit.id, 'train/day=10/a': c2.id })
        expect((await collect(repo.blame('side', ''))).map((b) => [b.path, b.commit.id]).sort()).toEqual([
          ['other', c1.id],
          ['train/day=1/a', c1.id],
          ['train/day=1/b', s1.id],
          ['train/day=10/a', c1.id],
        ])
        expect(await collect(repo.blame('main', 'nothing/'))).toEqual([])
        // a conflict and a refused merge say which source was merged
        await repo.put('side', 'other', 'side')
        await repo.commit('side', { message: 's2' })
        const err = await expectCode(repo.merge('side', 'main'), 'MERGE_CONFLICT')
        expect(err.details).toMatchObject({ branch: 'main', source: 'side', operation: 'merge' })
      }),
    )

    it(
      'copy stages the same stored data at a new path, from any revision, without writing it again',
      withRepo(async (repo, f) => {
        const src = await repo.put('main', 'a/src.bin', 'payload', { contentType: 'application/x-test', metadata: { k: 'v' } })
        const c = await repo.commit('main', { message: 'src' })
        const before = await collect(f.blocks.list(''))
        const copied = await repo.copy(c.id, 'a/src.bin', 'main', 'b/dst.bin')
        expect(copied).toMatchObject({ path: 'b/dst.bin', address: src.address, size: 7, contentType: 'application/x-test', metadata: { k: 'v' } })
        const renamed = await repo.copy('main', 'b/dst.bin', 'main', 'c/x.bin', { metadata: { k: 'w' }, contentType: 'text/plain' })
        expect(renamed).toMatchObject({ metadata: { k: 'w' }, contentType: 'text/plain' })
        expect(text(await repo.get('main', 'c/x.bin'))).toBe('payload')
        expect((await collect(f.blocks.list(''))).filter((k) => !before.some((b) => b.key === k.key) && k.key.includes('data'))).toEqual([])
        await expectCode(repo.copy('main', 'nope', 'main', 'd'), 'NOT_FOUND')
        await expectCode(repo.copy('main', 'a/src.bin', 'main', '../d'), 'INVALID_PATH')
        await repo.createTag('t', 'main')
        await expectCode(repo.copy('main', 'a/src.bin', 't', 'd'), 'NOT_FOUND')
      }),
    )

    it(
      'refuses to merge into a branch with uncommitted changes',
      withRepo(async (repo) => {
        await repo.createBranch('exp')
        await repo.put('exp', 'x', 'x')
        await repo.commit('exp', { message: 'x' })
        await repo.put('main', 'wip', 'w')
        await expectCode(repo.merge('exp', 'main'), 'DIRTY_BRANCH')
      }),
    )

    it(
      'reverts a commit and a merge commit, and cherry-picks',
      withRepo(async (repo) => {
        await repo.put('main', 'a', '1')
        await repo.commit('main', { message: 'a1' })
        await repo.put('main', 'a', '2')
        await repo.put('main', 'b', '1')
        const bad = await repo.commit('main', { message: 'bad' })
        const r = await repo.revert('main', bad.id, { author: 'ops' })
        expect(r.parents).toEqual([bad.id])
        expect(r.message).toBe('Revert "bad"')
        expect(text(await repo.get('main', 'a'))).toBe('1')
        await expectCode(repo.stat('main', 'b'), 'NOT_FOUND')

        await repo.createBranch('feat')
        await repo.put('feat', 'f', 'feature')
        const pick = await repo.commit('feat', { message: 'feature file' })
        const merged = await repo.merge('feat', 'main')
        expect(text(await repo.get('main', 'f'))).toBe('feature')
        await repo.revert('main', merged.commit.id) // undo what the merge brought in (mainline = parent 1)
        await expectCode(repo.stat('main', 'f'), 'NOT_FOUND')
        await expectCode(repo.revert('main', merged.commit.id, { parent: 3 }), 'INVALID_ARGUMENT')

        const picked = await repo.cherryPick('main', pick.id)
        expect(picked.message).toBe('feature file')
        expect(picked.parents).toHaveLength(1)
        expect(text(await repo.get('main', 'f'))).toBe('feature')
      }),
    )

    it(
      'a revert that conflicts with later changes is a MERGE_CONFLICT',
      withRepo(async (repo) => {
        await repo.put('main', 'a', '1')
        const c1 = await repo.commit('main', { message: '1' })
        await repo.put('main', 'a', '2')
        await repo.commit('main', { message: '2' })
        await expectCode(repo.revert('main', c1.id), 'MERGE_CONFLICT')
      }),
    )

    it(
      'resets a branch (rollback), logged in the ref log; refuses when dirty unless told',
      withRepo(async (repo) => {
        await repo.put('main', 'a', '1')
        const good = await repo.commit('main', { message: 'good' })
        await repo.put('main', 'a', 'bad')
        const bad = await repo.commit('main', { message: 'bad' })
        await repo.reset('main', good.id, { author: 'oncall' })
        expect(await repo.resolve('main')).toBe(good.id)
        expect(text(await repo.get('main', 'a'))).toBe('1')
        const moves = await collect(repo.refLog('main'))
        expect(moves.map((m) => m.operation)).toEqual(['reset', 'commit', 'commit', 'create'])
        expect(moves[0]).toMatchObject({ old: bad.id, new: good.id, author: 'oncall' })
        expect((await repo.getCommit(bad.id)).message).toBe('bad') // still reachable by id
        await repo.put('main', 'wip', 'x')
        await expectCode(repo.reset('main', bad.id), 'DIRTY_BRANCH')
        await repo.reset('main', bad.id, { discardChanges: true })
        expect(await collect(repo.uncommitted('main'))).toEqual([])
        expect(text(await repo.get('main', 'a'))).toBe('bad')
      }),
    )

    it(
      'creates, resolves, lists and deletes tags and branches',
      withRepo(async (repo) => {
        await repo.put('main', 'a', '1')
        const c = await repo.commit('main', { message: 'a' })
        const tag = await repo.createTag('v1', 'main')
        expect(tag.commit).toBe(c.id)
        await expectCode(repo.createTag('v1', 'main'), 'TAG_EXISTS')
        expect(await repo.resolve('v1')).toBe(c.id)
        expect(text(await repo.get('v1', 'a'))).toBe('1')
        await repo.createBranch('from-tag', { from: 'v1' })
        await expectCode(repo.createBranch('from-tag'), 'BRANCH_EXISTS')
        expect((await collect(repo.branches())).map((b) => b.name)).toEqual(['from-tag', 'main'])
        expect((await collect(repo.tags())).map((t) => t.name)).toEqual(['v1'])
        await repo.deleteBranch('from-tag')
        await expectCode(repo.getBranch('from-tag'), 'NOT_FOUND')
        await expectCode(repo.deleteBranch('from-tag'), 'NOT_FOUND')
        await expectCode(repo.deleteBranch('main'), 'DEFAULT_BRANCH')
        await repo.deleteTag('v1')
        await expectCode(repo.resolve('v1'), 'NOT_FOUND')
        await expectCode(repo.deleteTag('v1'), 'NOT_FOUND')
      }),
    )

    it(
      'resolves ~N, ^, ^2, ids and unique prefixes',
      withRepo(async (repo) => {
        const ids: string[] = [await repo.resolve('main')]
        for (let i = 0; i < 4; i++) ids.push((await repo.commit('main', { message: `c${i}`, allowEmpty: true })).id)
        expect(await repo.resolve('main~0')).toBe(ids[4])
        expect(await repo.resolve('main~2')).toBe(ids[2])
        expect(await repo.resolve('main^')).toBe(ids[3])
        expect(await repo.resolve('main^^~1')).toBe(ids[1])
        expect(await repo.resolve(ids[2]!)).toBe(ids[2])
        expect(await repo.resolve(ids[2]!.slice(0, 10))).toBe(ids[2])
        expect(await repo.resolve(`${ids[3]!.slice(0, 8)}~1`)).toBe(ids[2])
        await expectCode(repo.resolve('main~9'), 'NOT_FOUND')
        await expectCode(repo.resolve('main^2'), 'NOT_FOUND')
        await expectCode(repo.resolve('nope'), 'NOT_FOUND')
        await expectCode(repo.resolve('main~x'), 'INVALID_REF')
        await expectCode(repo.resolve(''), 'INVALID_REF')
        await expectCode(repo.resolve('f'.repeat(64)), 'NOT_FOUND')
      }),
    )

    it(
      'rejects bad paths, names and arguments with typed errors and changes nothing',
      withRepo(async (repo) => {
        const head = await repo.resolve('main')
        for (const bad of ['', '/abs', 'a//b', 'a/./b', 'a/../b', '..', 'a/', 'nul\0byte', 'x'.repeat(5000), '\ud800lone'])
          await expectCode(repo.put('main', bad, 'x'), 'INVALID_PATH')
        for (const bad of ['', 'a..b', 'has space', 'tilde~1', 'caret^', 'colon:x', '-lead', 'x.lock', '.hidden', 'a/', '@', 'q?', 'a//b'])
          await expectCode(repo.createBranch(bad), 'INVALID_REF')
        await expectCode(repo.createTag('bad name', 'main'), 'INVALID_REF')
        // a full commit id names that commit, never a ref (pinned reads look it up as a commit first)
        await expectCode(repo.createBranch(head), 'INVALID_REF')
        await expectCode(repo.createTag(head, 'main'), 'INVALID_REF')
        expect(await repo.resolve(head)).toBe(head)
        await expectCode(repo.put('nope', 'a', 'x'), 'NOT_FOUND')
        await expectCode(repo.commit('nope', { message: 'm' }), 'NOT_FOUND')
        await expectCode(repo.delete('main', 'never-was'), 'NOT_FOUND')
        await expectCode(repo.put('main', 'a', 42 as never), 'INVALID_ARGUMENT')
        await expectCode(repo.put('main', 'a', 'x', { metadata: { n: 1 } as never }), 'INVALID_ARGUMENT')
        await expectCode(repo.commit('main', {} as never), 'INVALID_ARGUMENT')
        await expectCode(collect(repo.list('main', { prefix: '/x' })), 'INVALID_PATH')
        await expectCode(collect(repo.log('nope')), 'NOT_FOUND')
        expect(await repo.resolve('main')).toBe(head)
        expect(await collect(repo.uncommitted('main'))).toEqual([])
      }),
    )

    it(
      'handles unicode and very long paths, in UTF-8 byte order',
      withRepo(async (repo) => {
        const paths = ['données/été.csv', 'données/ﬀ', 'données/😀.bin', '数据/分区=1/文件.parquet', `${'deep/'.repeat(150)}leaf.txt`, 'Z', 'a b/c d']
        for (const p of paths) await repo.put('main', p, p)
        await repo.commit('main', { message: 'unicode' })
        const sorted = [...paths].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
        expect((await collect(repo.list('main'))).map((i) => i.path)).toEqual(sorted)
        for (const p of paths) expect(text(await repo.get('main', p))).toBe(p)
        expect((await collect(repo.list('main', { prefix: 'données/', delimiter: '/' }))).map((i) => i.path)).toEqual(
          sorted.filter((p) => p.startsWith('données/')),
        )
      }),
    )

    it(
      'detects corrupt and missing objects on read',
      withRepo(async (repo, f) => {
        const e = await repo.put('main', 'victim.bin', 'precious bytes')
        await repo.commit('main', { message: 'v' })
        await f.blocks.put(keys.data(e.address), Buffer.from('precious bytez'))
        const err = await expectCode(repo.get('main', 'victim.bin'), 'CORRUPT_OBJECT')
        expect(err.message).toContain('victim.bin')
        await expectCode(async () => {
          for await (const _ of await repo.getStream('main', 'victim.bin')) {
            /* drain */
          }
        }, 'CORRUPT_OBJECT')
        await f.blocks.delete(keys.data(e.address))
        await expectCode(repo.get('main', 'victim.bin'), 'NOT_FOUND')
      }),
    )

    it(
      'detects a damaged large (streamed) object, wherever the store keeps its bytes',
      withRepo(async (repo, f) => {
        const size = 9 * 1024 * 1024
        async function* source() {
          yield Buffer.alloc(size, 3)
        }
        await repo.put('main', 'large.bin', source())
        await repo.commit('main', { message: 'large' })
        const holders = (await collect(f.blocks.list(''))).filter((o) => o.size === size)
        expect(holders).toHaveLength(1)
        await f.blocks.put(holders[0]!.key, Buffer.alloc(size, 4))
        await expectCode(repo.get('main', 'large.bin'), 'CORRUPT_OBJECT')
        await f.blocks.delete(holders[0]!.key)
        await expectCode(repo.get('main', 'large.bin'), 'NOT_FOUND')
      }),
    )

    it(
      'a contract in _varve/hooks blocks a bad merge, reading only Parquet footers',
      withRepo(async (repo) => {
        await repo.put(
          'main',
          '_varve/hooks/train.yaml',
          `id: train
on: [pre-merge]
branches: [main]
checks:
  - type: parquet-schema
    files: "train/**/*.parquet"
    columns: { id: { type: int64, nullable: false }, score: { type: double } }
  - { type: row-count, files: "train/**/*.parquet", min: 1 }
`,
        )
        await repo.put('main', 'train/day=1/part-0.parquet', trainPartition(100))
        await repo.commit('main', { message: 'rules' })
        const head = await repo.resolve('main')
        await repo.createBranch('backfill')
        // Staged as a batch: the file is packed, so the gate reads its footer by range from the pack.
        await repo.putMany('backfill', [{ path: 'train/day=2/part-0.parquet', data: trainPartition(20_000, { scoreAsString: true }) }])
        expect((await repo.stat('backfill', 'train/day=2/part-0.parquet')).pack).toBeDefined()
        await repo.commit('backfill', { message: 'bad day 2' })
        const err = await expectCode(repo.merge('backfill', 'main'), 'HOOK_FAILED')
        expect(err.message).toContain('train/day=2/part-0.parquet: column score has type string, expected double')
        expect(await repo.resolve('main')).toBe(head)
        await repo.putMany('backfill', [{ path: 'train/day=2/part-0.parquet', data: trainPartition(20_000) }])
        await repo.commit('backfill', { message: 'fixed day 2' })
        await repo.merge('backfill', 'main')
        expect((await collect(repo.hookRuns({ branch: 'main' }))).map((r) => r.status)).toEqual(['passed', 'failed'])
      }),
    )

    it(
      're-putting identical content does not make a branch dirty or block a merge (and is not resurrected by it)',
      withRepo(async (repo) => {
        await repo.put('main', 'data/a', 'same bytes')
        await repo.commit('main', { message: 'a' })
        await repo.createBranch('feature')
        await repo.put('feature', 'data/a', 'new bytes')
        await repo.commit('feature', { message: 'change a' })
        await repo.put('main', 'data/a', 'same bytes') // a fresh CI runner uploads the same file again
        expect(await collect(repo.uncommitted('main'))).toEqual([])
        expect((await repo.getBranch('main')).dirty).toBe(false)
        await repo.merge('feature', 'main')
        expect(text(await repo.get('main', 'data/a'))).toBe('new bytes') // the stale staged row is gone
        expect((await repo.getBranch('main')).dirty).toBe(false)
        await expectCode(repo.commit('main', { message: 'nothing' }), 'NOTHING_TO_COMMIT')
        await repo.put('main', 'data/a', 'new bytes')
        await repo.reset('main', 'main~1')
        expect(text(await repo.get('main', 'data/a'))).toBe('same bytes') // reset too starts a fresh staging area
        await repo.put('main', 'data/a', 'different')
        expect((await repo.getBranch('main')).dirty).toBe(true)
      }),
    )

    it(
      'a pin keeps every byte of its commit through gc with retention 0, until it is removed',
      withRepo(async (repo) => {
        await repo.put('main', 'train/a.bin', 'pinned bytes a')
        await repo.put('main', 'train/b.bin', 'pinned bytes b')
        await repo.commit('main', { message: 'data v1' })
        const pin = await repo.pin('train-data', 'main')
        expect(pin).toMatchObject({ name: 'train-data', ref: 'main', commit: await repo.resolve('main') })
        expect((await collect(repo.pins())).map((p) => p.name)).toEqual(['train-data'])
        // main moves on: the pinned files are gone from the head and from every retained commit
        await repo.delete('main', 'train/a.bin')
        await repo.put('main', 'train/b.bin', 'replaced')
        await repo.commit('main', { message: 'data v2' })
        await repo.gc({ retainDays: 0, graceSeconds: 0 })
        expect(text(await repo.get(pin.commit, 'train/a.bin'))).toBe('pinned bytes a')
        expect(text(await repo.get(pin.commit, 'train/b.bin'))).toBe('pinned bytes b')
        expect((await repo.verify()).problems).toEqual([])
        // removed: collected like any other old data
        await repo.unpin('train-data')
        await expectCode(repo.unpin('train-data'), 'NOT_FOUND')
        await expectCode(repo.getPin('train-data'), 'NOT_FOUND')
        expect(await collect(repo.pins())).toEqual([])
        await repo.gc({ retainDays: 0, graceSeconds: 0 })
        await expectCode(repo.get(pin.commit, 'train/a.bin'), 'NOT_FOUND')
        // verify agrees with gc: what it collected on purpose is counted, not reported (issue 9.11)
        const v = await repo.verify()
        expect(v.problems).toEqual([])
        expect(v.collectedDataObjects).toBeGreaterThan(0)
        await expectCode(repo.pin('bad name', 'main'), 'INVALID_REF')
      }),
    )

    it(
      'never loses staged writes that race with commits in one process',
      withRepo(async (repo) => {
        await repo.createBranch('busy')
        const writers = Array.from({ length: 4 }, async (_, w) => {
          for (let i = 0; i < 15; i++) await repo.put('busy', `w${w}/f${i}`, `${w}-${i}`)
        })
        let commits = 0
        const committer = (async () => {
          for (let i = 0; i < 6; i++) {
            await new Promise((r) => setTimeout(r, 5))
            await repo.commit('busy', { message: `tick ${i}` }).then(
              () => commits++,
              (e) => {
                if (!VarveError.is(e, 'NOTHING_TO_COMMIT')) throw e
              },
            )
          }
        })()
        await Promise.all([...writers, committer])
        await repo.commit('busy', { message: 'final' }).catch((e) => {
          if (!VarveError.is(e, 'NOTHING_TO_COMMIT')) throw e
        })
        const files = (await collect(repo.list('busy~0'))).map((i) => i.path)
        expect(files).toHaveLength(60)
        expect(commits).toBeGreaterThan(0)
      }),
    )

    // ---- putMany: packs and batches (issue 14, docs/decisions/0007-packs.md) ----------------------
    const items = (n: number, tag: string, from = 0): (PutManyItem & { data: string })[] =>
      Array.from({ length: n }, (_, k) => ({
        path: `batch/${tag}/f${String(from + k).padStart(5, '0')}.bin`,
        data: `${tag} ${from + k} `.repeat(1 + ((from + k) % 50)),
      }))

    it(
      'putMany stores small content in packs and reads it back whole, streamed and by range; verify --full checks it',
      withRepo(async (repo, f) => {
        const batch: PutManyItem[] = items(300, 'a')
        batch.push({ path: 'batch/a/large.bin', data: Buffer.alloc(1024 * 1024 + 17, 7) }) // over the pack limit: stored on its own
        batch.push({ path: 'batch/a/dup.bin', data: batch[0]!.data }) // same content twice in one pack: stored once
        const s = await repo.putMany('main', batch, { concurrency: 8 })
        expect(s).toMatchObject({ files: 302, packs: 1, looseObjects: 1, interrupted: false })
        expect(s.packedObjects).toBe(300)
        await repo.commit('main', { message: 'batch' })
        const e = await repo.stat('main', 'batch/a/f00007.bin')
        expect(e.pack).toMatch(/^[0-9a-f]{64}$/)
        expect(text(await repo.get('main', e.path))).toBe(batch[7]!.data)
        expect(text(await repo.get('main', 'batch/a/dup.bin'))).toBe(batch[0]!.data)
        expect((await repo.get('main', 'batch/a/large.bin')).byteLength).toBe(1024 * 1024 + 17)
        expect((await repo.stat('main', 'batch/a/large.bin')).pack).toBeUndefined()
        const chunks: Buffer[] = []
        for await (const c of await repo.getStream('main', 'batch/a/f00123.bin')) chunks.push(c as Buffer)
        expect(Buffer.concat(chunks).toString('utf8')).toBe(batch[123]!.data)
        expect(await dataPackKeys(f.blocks)).toHaveLength(1)
        expect((await repo.verify({ full: true })).problems).toEqual([])
        // A damaged pack index (no entry's bytes touched) is a pack problem for verify --full.
        const [pack] = (await collect(f.blocks.list('packs/'))).filter((o) => o.key === keys.pack(e.pack!))
        const original = Buffer.from((await f.blocks.get(pack!.key))!)
        const badIndex = Buffer.from(original)
        badIndex[badIndex.length - 20] = badIndex[badIndex.length - 20]! ^ 0x01
        await f.blocks.put(pack!.key, badIndex)
        expect((await repo.verify({ full: true })).problems).toEqual([expect.objectContaining({ kind: 'corrupt', objectType: 'pack', object: e.pack })])
        expect(text(await repo.get('main', e.path))).toBe(batch[7]!.data)
        await f.blocks.put(pack!.key, original)
        // A damaged pack is CORRUPT_OBJECT on read and a problem for verify, naming the path.
        const bytes = Buffer.from(original)
        bytes[e.offset! + 1] = bytes[e.offset! + 1]! ^ 0xff
        await f.blocks.put(pack!.key, bytes)
        const err = await expectCode(repo.get('main', e.path), 'CORRUPT_OBJECT')
        expect(err.message).toContain(e.path)
        expect((await repo.verify({ full: true })).problems.map((p) => p.path)).toContain(e.path)
        await f.blocks.delete(pack!.key)
        await expectCode(repo.get('main', e.path), 'NOT_FOUND')
        expect((await repo.verify()).problems.length).toBeGreaterThan(0)
      }),
    )

    it(
      'putMany: a bad path or an unreadable item in the middle is a typed error naming it, and stages nothing of its batch',
      withRepo(async (repo) => {
        const bad: PutManyItem[] = items(100, 'b')
        bad[50] = { path: 'batch/b/../escape', data: 'x' }
        const e1 = await expectCode(repo.putMany('main', bad), 'INVALID_PATH')
        expect(e1.details.path).toBe('batch/b/../escape')
        expect(await collect(repo.uncommitted('main'))).toEqual([])
        async function* failing() {
          yield Buffer.from('first part')
          throw Object.assign(new Error('disk went away'), { code: 'EIO' })
        }
        const unreadable: PutManyItem[] = items(100, 'c')
        unreadable[60] = { path: 'batch/c/broken.bin', data: failing() }
        const e2 = await expectCode(repo.putMany('main', unreadable), 'UNAVAILABLE')
        expect(e2.details.path).toBe('batch/c/broken.bin')
        expect(e2.message).toContain('batch/c/broken.bin')
        expect(await collect(repo.uncommitted('main'))).toEqual([])
        expect((await repo.getBranch('main')).dirty).toBe(false)
        await expectCode(repo.putMany('main', 'not items' as never), 'INVALID_ARGUMENT')
        await expectCode(repo.putMany('nope', items(1, 'd')), 'NOT_FOUND')
      }),
    )

    it(
      'putMany: whole batches are staged before a failure, each fully readable; an abort stages what was read',
      withRepo(async (repo) => {
        // ~20 MiB of items fill more than one 16 MiB pack: the first batch is staged before item 900 fails.
        const unique = (k: number) => {
          const b = Buffer.alloc(20 * 1024, k % 251)
          b.writeUInt32LE(k, 0) // distinct content: a pack stores equal content once
          return b
        }
        const big: PutManyItem[] = Array.from({ length: 1000 }, (_, k) => ({ path: `big/f${String(k).padStart(4, '0')}`, data: unique(k) }))
        big[900] = { path: 'big/../bad', data: 'x' }
        const err = await expectCode(repo.putMany('main', big, { concurrency: 4 }), 'INVALID_PATH')
        const staged = err.details.staged as number
        expect(staged).toBeGreaterThan(0)
        expect(staged).toBeLessThan(900)
        const listed = await collect(repo.list('main', { prefix: 'big/' }))
        expect(listed).toHaveLength(staged)
        for (const item of listed.slice(0, 5).concat(listed.slice(-5)))
          if (item.type === 'object') expect((await repo.get('main', item.path)).byteLength).toBe(20 * 1024)
        const abort = new AbortController()
        let seen = 0
        const slow = (async function* () {
          for (let k = 0; k < 1000; k++) {
            if (++seen === 40) abort.abort()
            yield { path: `slow/f${k}`, data: `slow ${k}` }
          }
        })()
        const s = await repo.putMany('main', slow, { signal: abort.signal })
        expect(s.interrupted).toBe(true)
        expect(s.files).toBeGreaterThan(0)
        expect(s.files).toBeLessThan(1000)
        expect(await collect(repo.list('main', { prefix: 'slow/' }))).toHaveLength(s.files)
      }),
    )

    it(
      'gc keeps packs any retained entry uses and collects packs nothing refers to',
      withRepo(async (repo, f) => {
        await repo.putMany('main', items(50, 'g'))
        await repo.commit('main', { message: 'first' })
        const firstPacks = await dataPackKeys(f.blocks)
        // Half of the paths rewritten: the first pack still holds the other half.
        await repo.putMany(
          'main',
          items(25, 'g2').map((it, k) => ({ ...it, path: `batch/g/f${String(k).padStart(5, '0')}.bin` })),
        )
        await repo.commit('main', { message: 'half' })
        await repo.gc({ retainDays: 0, graceSeconds: 0 })
        expect((await collect(f.blocks.list('packs/'))).map((o) => o.key)).toEqual(expect.arrayContaining(firstPacks))
        // Every path rewritten: the first pack is garbage once no retained commit uses it.
        await repo.putMany(
          'main',
          items(50, 'g3').map((it, k) => ({ ...it, path: `batch/g/f${String(k).padStart(5, '0')}.bin` })),
        )
        await repo.commit('main', { message: 'all' })
        await repo.gc({ retainDays: 0, graceSeconds: 0 })
        await repo.gc({ retainDays: 0, graceSeconds: 0 }) // the second run purges the first run's quarantine
        const left = await dataPackKeys(f.blocks)
        for (const k of firstPacks) expect(left).not.toContain(k)
        for (const it of await collect(repo.list('main', { prefix: 'batch/g/' }))) if (it.type === 'object') await repo.get('main', it.path)
        expect((await repo.verify({ full: true, retainDays: 0 })).problems).toEqual([])
      }),
    )
  })
}

/** Keys of the data packs in the store (node packs, decision 0008, hold tree nodes: not these). */
async function dataPackKeys(blocks: BlockStore): Promise<string[]> {
  const out: string[] = []
  for await (const o of blocks.list('packs/')) {
    const footer = await blocks.getRange(o.key, o.size - packFooterBytes, o.size)
    const { start, end } = packIndexRange(footer!, o.size, o.key)
    const id = o.key.slice(o.key.lastIndexOf('/') + 1)
    if (decodePackIndex((await blocks.getRange(o.key, start, end))!, id).kind === 'data') out.push(o.key)
  }
  return out.sort()
}
