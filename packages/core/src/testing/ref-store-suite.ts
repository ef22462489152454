import { describe, expect, it } from 'vitest'
import { VarveError } from '../errors/varve-error.js'
import type { RefLogEntry, RefStore, StagedChange } from '../stores/ref-store.js'
import { collect, withFixture, type StoreFixture } from './suite-util.js'

const log = (ref: string, operation: string, n: string | null = null): RefLogEntry => ({
  ref,
  old: null,
  new: n,
  operation,
  author: 'test',
  at: 1,
})
const put = (path: string, address = 'a'.repeat(64)): StagedChange => ({
  path,
  entry: { path, address, size: 1, lastModified: 1 },
})

/** The behaviour every RefStore must have. Run it against each implementation. */
export function refStoreConformance(name: string, make: () => Promise<StoreFixture<RefStore>>): void {
  describe(`RefStore conformance: ${name}`, () => {
    const withStore = (fn: (s: RefStore) => Promise<void>) => withFixture(make, fn)

    it(
      'creates a branch once; a second create is BRANCH_EXISTS',
      withStore(async (s) => {
        await s.createBranch({ name: 'main', head: 'c1', stagingToken: 't1', sealedTokens: [] }, log('branch:main', 'create', 'c1'))
        const b = await s.getBranch('main')
        expect(b).toMatchObject({ name: 'main', head: 'c1', stagingToken: 't1', sealedTokens: [] })
        expect(typeof b?.version).toBe('string')
        await expect(s.createBranch({ name: 'main', head: 'c2', stagingToken: 't2', sealedTokens: [] }, log('branch:main', 'create'))).rejects.toSatisfy(
          (e: unknown) => VarveError.is(e, 'BRANCH_EXISTS'),
        )
        expect((await s.getBranch('main'))?.head).toBe('c1')
        expect(await s.getBranch('nope')).toBeUndefined()
      }),
    )

    it(
      'compare-and-swap moves a branch only from the version read',
      withStore(async (s) => {
        await s.createBranch({ name: 'b', head: 'c1', stagingToken: 't', sealedTokens: [] }, log('branch:b', 'create', 'c1'))
        const v1 = (await s.getBranch('b'))!
        expect(await s.updateBranch(v1, { name: 'b', head: 'c2', stagingToken: 't2', sealedTokens: ['t'] }, log('branch:b', 'commit', 'c2'))).toBe(true)
        expect(await s.updateBranch(v1, { name: 'b', head: 'c3', stagingToken: 't', sealedTokens: [] }, log('branch:b', 'commit', 'c3'))).toBe(false)
        const v2 = (await s.getBranch('b'))!
        expect(v2).toMatchObject({ head: 'c2', stagingToken: 't2', sealedTokens: ['t'] })
        expect(v2.version).not.toBe(v1.version)
        const moves = await collect(s.listRefLog('branch:b'))
        expect(moves.map((m) => m.new)).toEqual(['c2', 'c1']) // the failed swap logged nothing
      }),
    )

    it(
      'concurrent compare-and-swaps from one version: exactly one wins',
      withStore(async (s) => {
        await s.createBranch({ name: 'r', head: 'c0', stagingToken: 't', sealedTokens: [] }, log('branch:r', 'create', 'c0'))
        const v = (await s.getBranch('r'))!
        const wins = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            s.updateBranch(v, { name: 'r', head: `c${i + 1}`, stagingToken: 't', sealedTokens: [] }, log('branch:r', 'commit')),
          ),
        )
        expect(wins.filter(Boolean)).toHaveLength(1)
      }),
    )

    it(
      'deletes a branch by compare-and-swap and lists branches in order',
      withStore(async (s) => {
        for (const n of ['zeta', 'alpha', 'feature/x'])
          await s.createBranch({ name: n, head: 'c', stagingToken: `t-${n}`, sealedTokens: [] }, log(`branch:${n}`, 'create'))
        expect((await collect(s.listBranches())).map((b) => b.name)).toEqual(['alpha', 'feature/x', 'zeta'])
        const z = (await s.getBranch('zeta'))!
        expect(await s.deleteBranch(z, log('branch:zeta', 'delete'))).toBe(true)
        expect(await s.deleteBranch(z, log('branch:zeta', 'delete'))).toBe(false)
        expect(await s.getBranch('zeta')).toBeUndefined()
      }),
    )

    it(
      'tags are created once and deleted',
      withStore(async (s) => {
        await s.createTag({ name: 'v1', commit: 'c1', createdAt: 5 }, log('tag:v1', 'create', 'c1'))
        await expect(s.createTag({ name: 'v1', commit: 'c2', createdAt: 6 }, log('tag:v1', 'create'))).rejects.toSatisfy((e: unknown) =>
          VarveError.is(e, 'TAG_EXISTS'),
        )
        expect(await s.getTag('v1')).toEqual({ name: 'v1', commit: 'c1', createdAt: 5 })
        expect((await collect(s.listTags())).map((t) => t.name)).toEqual(['v1'])
        expect(await s.deleteTag('v1', log('tag:v1', 'delete'))).toBe(true)
        expect(await s.deleteTag('v1', log('tag:v1', 'delete'))).toBe(false)
        expect(await s.getTag('v1')).toBeUndefined()
      }),
    )

    it(
      'stages puts and deletes per token; later writes of a path replace earlier ones',
      withStore(async (s) => {
        await s.putStaged('t1', [put('b'), put('a')])
        await s.putStaged('t1', [{ path: 'b', entry: null }])
        await s.putStaged('t2', [put('a', 'b'.repeat(64))])
        expect(await collect(s.listStaged('t1'))).toEqual([put('a'), { path: 'b', entry: null }])
        expect((await s.getStaged('t2', 'a'))?.entry?.address).toBe('b'.repeat(64))
        expect(await s.getStaged('t2', 'b')).toBeUndefined()
        await s.dropStaged('t1')
        expect(await collect(s.listStaged('t1'))).toEqual([])
        expect(await collect(s.listStaged('t2'))).toHaveLength(1)
      }),
    )

    it(
      'lists staged changes in UTF-8 byte order with prefix and after, across pages',
      withStore(async (s) => {
        const paths = ['a/ﬀ', 'a/😀', 'a/z', 'a/Z', 'a/é', 'b/1', 'a/']
        await s.putStaged(
          'u',
          paths.map((p) => put(p)),
        )
        const bytes = (p: string) => Buffer.from(p)
        const sorted = [...paths].sort((x, y) => Buffer.compare(bytes(x), bytes(y)))
        expect((await collect(s.listStaged('u'))).map((c) => c.path)).toEqual(sorted)
        expect((await collect(s.listStaged('u', { prefix: 'a/' }))).map((c) => c.path)).toEqual(sorted.filter((p) => p.startsWith('a/')))
        expect((await collect(s.listStaged('u', { after: 'a/z' }))).map((c) => c.path)).toEqual(
          sorted.filter((p) => Buffer.compare(bytes(p), bytes('a/z')) > 0),
        )
        const many = Array.from({ length: 2500 }, (_, i) => put(`m/${String(i).padStart(5, '0')}`))
        await s.putStaged('big', many)
        const listed = await collect(s.listStaged('big', { prefix: 'm/', after: 'm/00099' }))
        expect(listed).toHaveLength(2400)
        expect(listed[0]?.path).toBe('m/00100')
      }),
    )

    it(
      'keeps settings: set, overwrite, remove, list by prefix',
      withStore(async (s) => {
        expect(await s.getSetting('protection/main')).toBeUndefined()
        await s.setSetting('protection/main', '{"a":1}')
        await s.setSetting('protection/main', '{"a":2}')
        await s.setSetting('protection/feature/x', '{}')
        await s.setSetting('other', 'v')
        expect(await s.getSetting('protection/main')).toBe('{"a":2}')
        expect(await collect(s.listSettings('protection/'))).toEqual([
          { key: 'protection/feature/x', value: '{}' },
          { key: 'protection/main', value: '{"a":2}' },
        ])
        await s.setSetting('protection/main', null)
        await s.setSetting('never-set', null)
        expect(await s.getSetting('protection/main')).toBeUndefined()
        expect((await collect(s.listSettings(''))).map((x) => x.key)).toEqual(['other', 'protection/feature/x'])
      }),
    )

    it(
      'lists the tokens that hold staged changes',
      withStore(async (s) => {
        expect(await collect(s.listStagingTokens())).toEqual([])
        await s.putStaged('st-b', [put('x'), put('y')])
        await s.putStaged('st-a', [put('z')])
        expect(await collect(s.listStagingTokens())).toEqual(['st-a', 'st-b'])
        await s.dropStaged('st-a')
        expect(await collect(s.listStagingTokens())).toEqual(['st-b'])
      }),
    )

    it(
      'compare-and-swap of a setting: exactly one of two writers from one value wins',
      withStore(async (s) => {
        expect(await s.compareAndSetSetting('gc/state', 'x', 'a')).toBe(false) // expected a value, there is none
        expect(await s.compareAndSetSetting('gc/state', undefined, 'v1')).toBe(true)
        expect(await s.compareAndSetSetting('gc/state', undefined, 'v1b')).toBe(false) // it exists now
        const results = await Promise.all([s.compareAndSetSetting('gc/state', 'v1', 'from-a'), s.compareAndSetSetting('gc/state', 'v1', 'from-b')])
        expect(results.filter(Boolean)).toHaveLength(1)
        const won = results[0] ? 'from-a' : 'from-b'
        expect(await s.getSetting('gc/state')).toBe(won)
        expect(await s.compareAndSetSetting('gc/state', won, 'v3')).toBe(true)
        expect(await s.getSetting('gc/state')).toBe('v3')
      }),
    )

    it(
      'a setting swap carrying a log entry logs it iff the swap happened, newest first',
      withStore(async (s) => {
        const ref = 'setting:mr/1'
        expect(await s.compareAndSetSetting('mr/1', undefined, 'open', log(ref, 'mr-open', 'c1'))).toBe(true)
        expect(await s.compareAndSetSetting('mr/1', undefined, 'again', log(ref, 'mr-open', 'c9'))).toBe(false)
        const racers = await Promise.all(
          ['ann', 'bob', 'cy'].map((who) => s.compareAndSetSetting('mr/1', 'open', `approved by ${who}`, { ...log(ref, 'mr-approve', 'c1'), author: who })),
        )
        expect(racers.filter(Boolean)).toHaveLength(1)
        const winner = ['ann', 'bob', 'cy'][racers.indexOf(true)]!
        expect(await s.compareAndSetSetting('mr/1', `approved by ${winner}`, 'merged', log(ref, 'mr-merge', 'c2'))).toBe(true)
        const entries = await collect(s.listRefLog(ref))
        expect(entries.map((e) => [e.operation, e.new])).toEqual([
          ['mr-merge', 'c2'],
          ['mr-approve', 'c1'],
          ['mr-open', 'c1'],
        ])
        expect(entries[1]!.author).toBe(winner)
        expect(entries[0]!.seq).toBeGreaterThan(entries[1]!.seq)
        expect((await collect(s.listRefLog(ref, { limit: 1 }))).map((e) => e.operation)).toEqual(['mr-merge'])
        expect(await collect(s.listRefLogRefs())).toContain(ref)
        expect(await s.getSetting('mr/1')).toBe('merged')
        await expect(s.compareAndSetSetting('mr/2', undefined, 'x', log('branch:main', 'mr-open'))).rejects.toSatisfy((e: unknown) =>
          VarveError.is(e, 'INVALID_ARGUMENT'),
        )
      }),
    )

    it(
      'keeps an append-only ref log per ref, newest first, with limit',
      withStore(async (s) => {
        await s.createBranch({ name: 'x', head: 'c0', stagingToken: 't', sealedTokens: [] }, log('branch:x', 'create', 'c0'))
        for (let i = 1; i <= 5; i++) {
          const b = (await s.getBranch('x'))!
          await s.updateBranch(b, { name: 'x', head: `c${i}`, stagingToken: 't', sealedTokens: [] }, { ...log('branch:x', 'commit', `c${i}`), old: b.head })
        }
        const all = await collect(s.listRefLog('branch:x'))
        expect(all.map((r) => r.new)).toEqual(['c5', 'c4', 'c3', 'c2', 'c1', 'c0'])
        expect(all[0]).toMatchObject({ old: 'c4', operation: 'commit', author: 'test' })
        expect(all[0]!.seq).toBeGreaterThan(all[1]!.seq)
        expect((await collect(s.listRefLog('branch:x', { limit: 2 }))).map((r) => r.new)).toEqual(['c5', 'c4'])
        expect(await collect(s.listRefLog('branch:none'))).toEqual([])
        await s.createTag({ name: 'feature/t', commit: 'c', createdAt: 1 }, log('tag:feature/t', 'create', 'c'))
        expect(await collect(s.listRefLogRefs())).toEqual(['branch:x', 'tag:feature/t'])
      }),
    )
  })
}
