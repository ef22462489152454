import fs from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalBlockStore, Repository, VarveError } from '@varve/core'
import { collect, tempDir } from './helpers.js'

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8')

describe('remotes: clone, fetch, push, pull (decision 0019)', () => {
  let t: { dir: string; cleanup: () => Promise<void> }
  let origin: Repository
  const open: Repository[] = []
  const keep = <R extends Repository>(r: R) => (open.push(r), r)

  beforeEach(async () => {
    t = await tempDir('remotes')
    origin = keep(await Repository.init(path.join(t.dir, 'origin'), { durable: false, author: 'ann' }))
    // Two calls, two packs: a partial clone copies whole packs, so what it holds is decided per pack.
    await origin.putMany(
      'main',
      Array.from({ length: 300 }, (_, i) => ({ path: `train/p${String(i).padStart(4, '0')}.txt`, data: `train row ${i}` })),
    )
    await origin.putMany(
      'main',
      Array.from({ length: 50 }, (_, i) => ({ path: `eval/e${i}.txt`, data: `eval row ${i}` })),
    )
    await origin.put('main', 'big.bin', Buffer.alloc(3 * 1024 * 1024, 7))
    await origin.commit('main', { message: 'first' })
    await origin.createBranch('dev')
    await origin.put('dev', 'train/dev-only.txt', 'dev')
    await origin.commit('dev', { message: 'on dev' })
  })
  afterEach(async () => {
    for (const r of open.splice(0)) await r.close().catch(() => {})
    await t.cleanup()
  })

  it('clones every branch as origin/<branch>, checks out the default one, and reads everything', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    expect(await clone.resolve('main')).toBe(await origin.resolve('main'))
    expect(await clone.resolve('origin/dev')).toBe(await origin.resolve('dev'))
    expect(text(await clone.get('main', 'train/p0007.txt'))).toBe('train row 7')
    expect((await clone.get('main', 'big.bin')).byteLength).toBe(3 * 1024 * 1024)
    expect(text(await clone.get('origin/dev', 'train/dev-only.txt'))).toBe('dev')
    expect((await clone.verify({ full: true })).ok).toBe(true)
    expect((await clone.remotes()).map((r) => r.name)).toEqual(['origin'])
  })

  it('a fetch with nothing new copies nothing; one with a change copies only it', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    const none = await clone.fetch()
    expect(none.updates).toEqual([])
    expect(none.transferred).toMatchObject({ commits: 0, nodes: 0, objects: 0, packs: 0, bytes: 0 })
    await origin.put('main', 'eval/new.txt', 'new')
    const c = await origin.commit('main', { message: 'one more' })
    const one = await clone.fetch()
    expect(one.updates).toEqual([{ ref: 'main', old: expect.any(String), new: c.id, status: 'fast-forward' }])
    expect(one.transferred.commits).toBe(1)
    expect(one.transferred.objects).toBe(1)
    expect(text(await clone.get('origin/main', 'eval/new.txt'))).toBe('new')
  })

  it('push fast-forwards the remote branch, refuses what does not, and --force-with-lease checks the lease', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    await clone.put('main', 'from-clone.txt', 'hello')
    const mine = await clone.commit('main', { message: 'from the clone' })
    const pushed = await clone.push('origin', { branches: ['main'] })
    expect(pushed.updates[0]).toMatchObject({ ref: 'main', new: mine.id, status: 'fast-forward' })
    expect(await origin.resolve('main')).toBe(mine.id)
    expect(await clone.resolve('origin/main')).toBe(mine.id)
    expect(text(await origin.get('main', 'from-clone.txt'))).toBe('hello')

    // Someone else moves the remote branch: a push that does not contain it is refused.
    await origin.put('main', 'theirs.txt', 'theirs')
    const theirs = await origin.commit('main', { message: 'theirs' })
    await clone.put('main', 'mine2.txt', 'mine')
    await clone.commit('main', { message: 'mine' })
    const refused = await clone.push('origin', { branches: ['main'] }).catch((e: unknown) => e)
    expect(VarveError.is(refused, 'NOT_FAST_FORWARD')).toBe(true)
    expect((refused as VarveError).message).toContain(theirs.id.slice(0, 12))
    expect((refused as VarveError).message).toContain('varve pull')
    // The lease is origin/main as last fetched: stale, so refused too.
    expect(VarveError.is(await clone.push('origin', { branches: ['main'], forceWithLease: true }).catch((e: unknown) => e), 'NOT_FAST_FORWARD')).toBe(true)
    // Pull merges theirs in; then the push fast-forwards.
    const pulled = await clone.pull('origin', { branch: 'main' })
    expect(pulled.outcome).toBe('merged')
    expect(text(await clone.get('main', 'theirs.txt'))).toBe('theirs')
    await clone.push('origin', { branches: ['main'] })
    expect(await origin.resolve('main')).toBe(await clone.resolve('main'))
    expect((await origin.verify({ full: true })).ok).toBe(true)
  })

  it('push refuses a remote branch with uncommitted changes before sending anything', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    await origin.put('main', 'half-done.txt', 'staged at the origin')
    await clone.put('main', 'mine.txt', 'mine')
    await clone.commit('main', { message: 'mine' })
    const before = await origin.resolve('main')
    const e = await clone.push().catch((err: unknown) => err)
    expect(VarveError.is(e, 'DIRTY_BRANCH')).toBe(true)
    expect(await origin.resolve('main')).toBe(before)
  })

  it('resolves remote-tracking refs with branch names holding "/", and refuses hostile remote names', async () => {
    await origin.createBranch('feature/x')
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    expect(await clone.resolve('origin/feature/x')).toBe(await origin.resolve('feature/x'))
    for (const bad of ['a/b', '', '..', 'x y', '-rf'])
      expect(VarveError.is(await clone.addRemote(bad, path.join(t.dir, 'origin')).catch((err: unknown) => err), 'INVALID_REF')).toBe(true)
    expect(VarveError.is(await clone.addRemote('origin', path.join(t.dir, 'x')).catch((err: unknown) => err), 'CONFLICT')).toBe(true)
    expect(VarveError.is(await clone.fetch('nope').catch((err: unknown) => err), 'NOT_FOUND')).toBe(true)
  })

  it('pull fast-forwards a branch that has nothing of its own', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    await origin.put('main', 'later.txt', 'later')
    const c = await origin.commit('main', { message: 'later' })
    const r = await clone.pull()
    expect(r).toMatchObject({ outcome: 'fast-forward', head: c.id, branch: 'main' })
    expect((await clone.pull()).outcome).toBe('up-to-date')
  })

  it('push to a location holding no repository creates one there', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    await clone.addRemote('backup', path.join(t.dir, 'backup'))
    await clone.push('backup', { branches: ['main'], tags: true })
    const backup = keep(await Repository.open(path.join(t.dir, 'backup')))
    expect(await backup.resolve('main')).toBe(await origin.resolve('main'))
    expect(text(await backup.get('main', 'eval/e3.txt'))).toBe('eval row 3')
    expect((await backup.verify({ full: true })).ok).toBe(true)
  })

  it('a partial clone holds data under its prefix only, and refuses the rest with NOT_FETCHED', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false, clone: { prefix: 'eval/' } }))
    expect(text(await clone.get('main', 'eval/e1.txt'))).toBe('eval row 1')
    const e = await clone.get('main', 'train/p0001.txt').catch((err: unknown) => err)
    expect(VarveError.is(e, 'NOT_FETCHED')).toBe(true)
    expect((e as VarveError).message).toContain('"eval/"')
    expect(VarveError.is(await clone.get('main', 'big.bin').catch((err: unknown) => err), 'NOT_FETCHED')).toBe(true)
    // Listing needs no data: the whole tree is there.
    expect((await collect(clone.list('main', { prefix: 'train/' }))).length).toBe(300)
  })

  it('a lazy clone fetches data on first read, checks it, and keeps it', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false, clone: { lazy: true } }))
    expect(text(await clone.get('main', 'train/p0100.txt'))).toBe('train row 100')
    expect((await clone.get('main', 'big.bin')).byteLength).toBe(3 * 1024 * 1024)
    await origin.close()
    open.splice(open.indexOf(origin), 1)
    // Fetched once, read here from now on (the origin is closed, not gone: a second read must not need it).
    const again = keep(await Repository.open(path.join(t.dir, 'clone')))
    expect(text(await again.get('main', 'train/p0101.txt'))).toBe('train row 101')
  })

  it('copies a node pack larger than it holds in memory (read again after its references)', async () => {
    await origin.putMany(
      'main',
      Array.from({ length: 20_000 }, (_, i) => ({ path: `wide/${String(i).padStart(6, '0')}-${'x'.repeat(40)}.txt`, data: `w${i}` })),
    )
    await origin.commit('main', { message: 'wide' })
    // The data of 20k tiny files is one small pack; the tree's nodes fill one of several MiB.
    const sizes = await Promise.all((await collect(new LocalBlockStore(path.join(t.dir, 'origin', 'blocks')).list('packs/'))).map((o) => o.size))
    expect(Math.max(...sizes)).toBeGreaterThan(1024 * 1024)
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    expect((await clone.verify({ full: true })).problems).toEqual([])
    expect(text(await clone.get('main', `wide/012345-${'x'.repeat(40)}.txt`))).toBe('w12345')
  })

  it('clones a format-1 repository (loose tree nodes) as format 1, and refuses to mix formats', async () => {
    const old = path.join(t.dir, 'format1')
    await (await Repository.init(old, { durable: false })).close()
    const manifestPath = path.join(old, 'blocks', 'varve.json')
    const m = JSON.parse(await fs.readFile(manifestPath, 'utf8'))
    delete m.tree
    await fs.writeFile(manifestPath, JSON.stringify({ ...m, version: 1 }))
    const repo = keep(await Repository.open(old, { durable: false }))
    for (let i = 0; i < 600; i++) await repo.put('main', `f/${String(i).padStart(4, '0')}`, `v${i}`)
    await repo.commit('main', { message: 'format 1' })
    const clone = keep(await Repository.clone(old, path.join(t.dir, 'clone1'), { durable: false }))
    expect(text(await clone.get('main', 'f/0599'))).toBe('v599')
    expect((await clone.verify({ full: true })).problems).toEqual([])
    // Written out in the clone's manifest: 256-entry leaves, loose nodes (format 1's trees).
    expect(JSON.parse(await fs.readFile(path.join(t.dir, 'clone1', 'blocks', 'varve.json'), 'utf8')).tree).toEqual({ leafBits: 8, nodePacks: false })
    // A format-2 repository cannot take format-1 trees into its history.
    await origin.addRemote('old', old)
    expect(VarveError.is(await origin.fetch('old').catch((e: unknown) => e), 'UNSUPPORTED_FORMAT')).toBe(true)
  })

  it('verify in partial and lazy clones counts what they did not fetch, and fetches nothing', async () => {
    const part = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'part'), { durable: false, clone: { prefix: 'eval/' } }))
    const v = await part.verify({ full: true })
    expect(v.problems).toEqual([])
    expect(v.notFetchedDataObjects).toBeGreaterThan(0)
    const lazy = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'lazy'), { durable: false, clone: { lazy: true } }))
    await lazy.get('main', 'eval/e1.txt')
    const lv = await lazy.verify({ full: true })
    expect(lv.problems).toEqual([])
    expect(lv.notFetchedDataObjects).toBeGreaterThan(0)
    expect((await collect(new LocalBlockStore(path.join(t.dir, 'lazy', 'blocks')).list('data/'))).length).toBe(0) // big.bin was not fetched by verify
  })

  it('a lazy clone pushes to another remote what it never read, fetching it from its origin; a partial one refuses', async () => {
    const lazy = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'lazy'), { durable: false, clone: { lazy: true } }))
    await lazy.addRemote('backup', path.join(t.dir, 'backup'))
    await lazy.push('backup', { branches: ['main'] })
    const backup = keep(await Repository.open(path.join(t.dir, 'backup')))
    expect((await backup.verify({ full: true })).problems).toEqual([])
    expect(text(await backup.get('main', 'train/p0003.txt'))).toBe('train row 3')
    const part = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'part'), { durable: false, clone: { prefix: 'eval/' } }))
    await part.addRemote('backup2', path.join(t.dir, 'backup2'))
    expect(VarveError.is(await part.push('backup2', { branches: ['main'] }).catch((e: unknown) => e), 'NOT_FETCHED')).toBe(true)
  })

  it('pushes and fetches while garbage collection sweeps both sides with no retention: nothing acknowledged is lost', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    // Collectors two hours ahead: every unreferenced object is past their grace period at once (what a
    // push has written before its ref moves, what a fetch has copied), while temp files of live writers,
    // swept by real time, are not (as in test/gc-reuse-race.test.ts).
    const later = { now: () => Date.now() + 7_200_000 }
    const collectors = [
      keep(await Repository.open(path.join(t.dir, 'origin'), { clock: later })),
      keep(await Repository.open(path.join(t.dir, 'clone'), { clock: later })),
    ]
    let sweeping = true
    let quarantined = 0
    const sweeps = collectors.map(async (r) => {
      while (sweeping) quarantined += (await r.gc({ retainDays: 0, graceSeconds: 3600 })).quarantinedObjects
    })
    try {
      for (let i = 0; i < 6; i++) {
        await clone.putMany(
          'main',
          Array.from({ length: 50 }, (_, f) => ({ path: `race/${i}/${f}.txt`, data: `push ${i} file ${f}` })),
        )
        await clone.put('main', `race/${i}/large.bin`, Buffer.alloc(1200 * 1024, i + 1))
        await clone.commit('main', { message: `race ${i}` })
        // A push that overlapped two whole collections may refuse (UNAVAILABLE: repeat it); one that returned is whole.
        for (let attempt = 0; ; attempt++) {
          const r = await clone.push().catch((e: unknown) => e)
          if (!(r instanceof Error)) break
          if (!VarveError.is(r, 'UNAVAILABLE') || attempt > 5) throw r
        }
        await origin.put('main', `theirs/${i}.txt`, `theirs ${i}`)
        await origin.commit('main', { message: `theirs ${i}` })
        await clone.pull()
      }
    } finally {
      sweeping = false
      await Promise.allSettled(sweeps)
    }
    expect(quarantined).toBeGreaterThan(0) // the collectors did take garbage away meanwhile
    for (const r of [origin, clone]) {
      expect((await r.verify({ full: true })).problems).toEqual([])
      for (let i = 0; i < 6; i++) {
        expect(text(await r.get('main', `race/${i}/49.txt`))).toBe(`push ${i} file 49`)
        expect((await r.get('main', `race/${i}/large.bin`))[0]).toBe(i + 1)
        expect(text(await r.get('main', `theirs/${i}.txt`))).toBe(`theirs ${i}`)
      }
    }
  })

  it('gc keeps what remote-tracking refs reach', async () => {
    const clone = keep(await Repository.clone(path.join(t.dir, 'origin'), path.join(t.dir, 'clone'), { durable: false }))
    await clone.gc({ retainDays: 0, graceSeconds: 0 })
    expect(text(await clone.get('origin/dev', 'train/dev-only.txt'))).toBe('dev')
    expect((await clone.verify()).ok).toBe(true)
  })
})
