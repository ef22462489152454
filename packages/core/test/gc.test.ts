import fc from 'fast-check'
import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalBlockStore, Repository, VarveError, systemRandom, type Clock } from '@varve/core'
import { commitRoot, keys, NEW_TREE_FORMAT, ObjectStore } from '@varve/core/internal'
import { collect, tempDir } from './helpers.js'

const DAY = 86_400_000

/** A clock the test moves forward; GC compares it with real file times, so "old" is set by moving it. */
function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) }
}

async function dataKeys(lake: string): Promise<string[]> {
  const blocks = new LocalBlockStore(path.join(lake, 'blocks'))
  return (await collect(blocks.list('data/'))).map((o) => o.key.slice(o.key.lastIndexOf('/') + 1))
}

describe('garbage collection', () => {
  it('deletes what nothing retained refers to, keeps heads, tags, staged data and the retention window', async () => {
    const t = await tempDir('gc')
    try {
      const clock = movableClock()
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { clock, durable: false })
      const a1 = await repo.put('main', 'a', 'a version 1')
      const tagged = await repo.put('main', 't', 'tagged only')
      await repo.commit('main', { message: 'c1' })
      await repo.createTag('v1', 'main')
      await repo.createBranch('tmp')
      const x = await repo.put('tmp', 'x', 'on a deleted branch')
      await repo.commit('tmp', { message: 'tmp work' })
      await repo.deleteBranch('tmp')
      await repo.put('main', 'a', 'a version 2')
      await repo.delete('main', 't')
      await repo.commit('main', { message: 'c2' })
      const discarded = await repo.put('main', 'd', 'discarded by reset')
      await repo.reset('main', 'main', { discardChanges: true })
      const staged = await repo.put('main', 's', 'staged, not committed')

      clock.advance(10 * DAY) // everything above is now old, and outside a 7-day window
      const young = await repo.put('main', 'y', 'written just now') // younger than the grace period
      const dry = await repo.gc({ retainDays: 7, graceSeconds: 3600, dryRun: true })
      expect(dry.dryRun).toBe(true)
      expect((await dataKeys(lake)).length).toBeGreaterThan(5)
      const r = await repo.gc({ retainDays: 7, graceSeconds: 3600 })
      expect(r.deletedObjects).toBe(dry.deletedObjects)
      expect(r.deletedBytes).toBe(dry.deletedBytes)
      const left = new Set(await dataKeys(lake))
      expect(left.has(x.address)).toBe(false) // deleted branch, outside the window
      expect(left.has(discarded.address)).toBe(false) // discarded staging
      expect(left.has(a1.address)).toBe(true) // still in v1 (tags keep their data)
      expect(left.has(tagged.address)).toBe(true)
      expect(left.has(staged.address)).toBe(true) // staged changes are roots
      expect(left.has(young.address)).toBe(true) // the grace period protects in-flight uploads
      expect(Buffer.from(await repo.get('main', 's')).toString()).toBe('staged, not committed')
      expect(Buffer.from(await repo.get('v1', 'a')).toString()).toBe('a version 1')
      expect((await repo.verify({ retainDays: 7 })).ok).toBe(true)
      // commits stay (history is readable), their old trees too; data outside retention does not
      expect((await collect(repo.log('main'))).map((c) => c.message)).toEqual(['c2', 'c1', 'Repository created'])
      // without the tag, v1's data goes too; a second run finds nothing more
      await repo.deleteTag('v1')
      clock.advance(10 * DAY)
      await repo.gc({ retainDays: 7, graceSeconds: 0 })
      expect(new Set(await dataKeys(lake)).has(a1.address)).toBe(false)
      expect((await repo.gc({ retainDays: 7, graceSeconds: 0 })).deletedObjects).toBe(0)
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('keeps what a ref-log entry inside the window points at (an accidental reset can be undone)', async () => {
    const t = await tempDir('gc')
    try {
      const clock = movableClock()
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { clock, durable: false })
      const precious = await repo.put('main', 'p', 'precious')
      const good = await repo.commit('main', { message: 'good' })
      clock.advance(8 * DAY) // the commit itself is now outside a 7-day window
      await repo.reset('main', 'main~1', { author: 'oops' }) // ... but this reset happened just now
      clock.advance(DAY)
      await repo.gc({ retainDays: 7, graceSeconds: 0 })
      expect(new Set(await dataKeys(lake)).has(precious.address)).toBe(true)
      await repo.reset('main', good.id) // undo the reset: the data is there
      expect(Buffer.from(await repo.get('main', 'p')).toString()).toBe('precious')
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('a reused object is touched, so GC does not delete it under a writer', async () => {
    const t = await tempDir('gc')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
      const e = await repo.put('main', 'k', 'content that comes back')
      await repo.commit('main', { message: 'k' })
      await repo.delete('main', 'k')
      await repo.commit('main', { message: 'no k' })
      const old = new Date(Date.now() - 3 * 3600_000)
      const file = path.join(lake, 'blocks', keys.data(e.address))
      await fs.utimes(file, old, old) // the orphan is old: GC would take it
      await repo.put('main', 'k-again', 'content that comes back') // dedup: reuses the old object
      const r = await repo.gc({ retainDays: 0, graceSeconds: 3600 })
      expect(new Set(await dataKeys(lake)).has(e.address)).toBe(true)
      await repo.commit('main', { message: 'k is back' })
      expect(Buffer.from(await repo.get('main', 'k-again')).toString()).toBe('content that comes back')
      expect(r.liveDataObjects).toBeGreaterThan(0)
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('a commit racing GC loses nothing', async () => {
    const t = await tempDir('gc')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
      let stop = false
      const collector = (async () => {
        let runs = 0
        while (!stop && runs < 200) {
          await repo.gc({ retainDays: 0, graceSeconds: 1 })
          runs++
        }
        return runs
      })()
      const written: string[] = []
      for (let i = 0; i < 40; i++) {
        await repo.put('main', `f/${i}`, `payload ${i % 7}`) // repeated contents: reuse under GC
        if (i % 4 === 3) await repo.commit('main', { message: `batch ${i}` })
        written.push(`f/${i}`)
        await repo.delete('main', `f/${i}`).catch(() => {}) // churn: make garbage while GC runs
        await repo.put('main', `f/${i}`, `payload ${i % 7}`)
      }
      await repo.commit('main', { message: 'last' }).catch((e) => {
        if (!VarveError.is(e, 'NOTHING_TO_COMMIT')) throw e
      })
      stop = true
      expect(await collector).toBeGreaterThan(0)
      for (const p of written) expect(Buffer.from(await repo.get('main', p)).toString()).toMatch(/^payload \d$/)
      expect(await repo.verify({ full: true, retainDays: 0 })).toMatchObject({ ok: true })
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('never deletes what is retained and deletes what is unreachable and old (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('put' as const), b: fc.constantFrom('main', 'b'), p: fc.constantFrom('a', 'b', 'c', 'd/e'), v: fc.nat(20) }),
            fc.record({ op: fc.constant('commit' as const), b: fc.constantFrom('main', 'b') }),
            fc.record({ op: fc.constant('age' as const), days: fc.integer({ min: 1, max: 5 }) }),
            fc.record({ op: fc.constant('branch' as const) }),
            fc.record({ op: fc.constant('drop' as const) }),
            fc.record({ op: fc.constant('discard' as const), b: fc.constantFrom('main', 'b') }),
          ),
          { maxLength: 30 },
        ),
        async (ops) => {
          const t = await tempDir('gcprop')
          const clock = movableClock()
          const lake = path.join(t.dir, 'lake')
          const repo = await Repository.init(lake, { clock, durable: false })
          try {
            for (const o of ops) {
              const ignore = (e: unknown) => {
                if (!(e instanceof VarveError)) throw e
              }
              if (o.op === 'put') await repo.put(o.b, o.p, `v${o.v}`).catch(ignore)
              else if (o.op === 'commit') await repo.commit(o.b, { message: 'm' }).catch(ignore)
              else if (o.op === 'age') clock.advance(o.days * DAY)
              else if (o.op === 'branch') await repo.createBranch('b').catch(ignore)
              else if (o.op === 'drop') await repo.deleteBranch('b').catch(ignore)
              else await repo.reset(o.b, o.b, { discardChanges: true }).catch(ignore)
            }
            clock.advance(2 * 3600_000) // everything is older than the grace period
            // What must survive, computed the slow way: every entry at every head, staged change,
            // and every commit inside the window or pointed at by a ref-log entry inside it.
            const since = clock.now() - 3 * DAY
            const live = new Set<string>()
            const retainedCommits = new Set<string>()
            for await (const b of repo.branches()) {
              retainedCommits.add(b.head)
              for await (const c of repo.uncommitted(b.name)) if (c.entry) live.add(c.entry.address)
              for await (const c of repo.log(b.name)) if (c.createdAt >= since) retainedCommits.add(c.id)
            }
            for (const ref of ['branch:main', 'branch:b'])
              for await (const r of repo.refLog(ref.split(':')[1]!)) if (r.at >= since) for (const id of [r.old, r.new]) if (id) retainedCommits.add(id)
            for (const id of retainedCommits) for await (const i of repo.list(id)) if (i.type === 'object') live.add(i.address)
            await repo.gc({ retainDays: 3, graceSeconds: 3600 })
            const left = new Set(await dataKeys(lake))
            for (const a of live) expect(left.has(a), `retained object ${a} was deleted`).toBe(true)
            for (const a of left) expect(live.has(a), `unreachable old object ${a} was kept`).toBe(true)
            expect((await repo.verify({ retainDays: 3 })).ok).toBe(true)
          } finally {
            await repo.close()
            await t.cleanup()
          }
        },
      ),
      { numRuns: Number(process.env.VARVE_PROPERTY_RUNS ?? 30), seed: 1123 },
    )
  })
})

describe('verify and corruption', () => {
  it('reads raise CORRUPT_OBJECT or NOT_FOUND naming the object, and verify lists each problem', async () => {
    const t = await tempDir('corrupt')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
      const flipped = await repo.put('main', 'flipped.bin', 'some bytes to damage')
      const gone = await repo.put('main', 'gone.bin', 'bytes that will vanish')
      for (let i = 0; i < 600; i++) await repo.put('main', `bulk/${String(i).padStart(4, '0')}`, `b${i}`)
      const c = await repo.commit('main', { message: 'data' })
      await repo.put('main', 'later', 'x')
      const c2 = await repo.commit('main', { message: 'later' })
      expect(await repo.verify({ full: true })).toMatchObject({ ok: true, problems: [] })

      const blocks = path.join(lake, 'blocks')
      const flip = async (key: string, at?: number) => {
        const f = path.join(blocks, key)
        const b = await fs.readFile(f)
        b[at ?? Math.floor(b.length / 2)] ^= 0x01
        await fs.writeFile(f, b)
      }
      await flip(keys.data(flipped.address))
      await fs.rm(path.join(blocks, keys.data(gone.address)))
      // damage one leaf of the head's tree (holding bulk entries) and the parent commit object
      const objects = new ObjectStore(new LocalBlockStore(blocks), { random: systemRandom, tree: NEW_TREE_FORMAT })
      const root = await objects.readNode(commitRoot(await repo.getCommit(c2.id)))
      const leaf = root.kind === 'inner' ? root.children[1] : undefined
      const leafId = leaf?.id ?? ''
      const at = leaf?.at
      expect(at?.pack.id).toBeDefined() // a packed leaf: damage its bytes inside the node pack
      const nodePack = at!.pack.id!
      await flip(keys.pack(nodePack), at!.offset + Math.floor(at!.size / 2))
      await flip(keys.commit(c.id))

      const fresh = await Repository.open(lake) // nothing cached
      const err = await fresh.get(c2.id, 'flipped.bin').catch((e: VarveError) => e)
      expect(err).toMatchObject({ code: 'CORRUPT_OBJECT', details: { object: flipped.address, path: 'flipped.bin' } })
      expect(await fresh.get(c2.id, 'gone.bin').catch((e: VarveError) => e.code)).toBe('NOT_FOUND')
      expect(await fresh.getCommit(c.id).catch((e: VarveError) => e.code)).toBe('CORRUPT_OBJECT')

      const quick = await fresh.verify()
      const full = await fresh.verify({ full: true })
      expect(full.ok).toBe(false)
      const summary = (r: typeof full) => r.problems.map((p) => `${p.kind} ${p.objectType} ${p.object.slice(0, 8)} ${p.path ?? ''}`).sort()
      expect(summary(full)).toEqual(
        [
          `corrupt commit ${c.id.slice(0, 8)} `,
          `corrupt data ${flipped.address.slice(0, 8)} flipped.bin`,
          `missing data ${gone.address.slice(0, 8)} gone.bin`,
          `corrupt tree ${leafId.slice(0, 8)} `,
          `corrupt pack ${nodePack.slice(0, 8)} `,
        ].sort(),
      )
      expect(full.problems.find((p) => p.objectType === 'tree')).toMatchObject({ object: leafId, commit: c2.id })
      expect(summary(quick)).toEqual(
        [`corrupt commit ${c.id.slice(0, 8)} `, `missing data ${gone.address.slice(0, 8)} gone.bin`, `corrupt tree ${leafId.slice(0, 8)} `].sort(),
      )
      const withCommit = full.problems.find((p) => p.objectType === 'data' && p.kind === 'missing')!
      expect(withCommit.commit).toBe(c2.id)
      await fresh.close()
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})
