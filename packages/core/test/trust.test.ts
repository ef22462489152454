import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Repository, SqliteRefStore, VarveError, LocalBlockStore, systemRandom } from '@varve/core'
import { applyChanges, ObjectStore } from '@varve/core/internal'
import { collect, tempDir } from './helpers.js'

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err)
  if (!(e instanceof VarveError)) throw new Error(`expected a VarveError, got ${String(e)}`)
  return e.code
}

describe('a lost or foreign ref store never lets gc wipe a repository (issue 9.3)', () => {
  it('open refuses a missing ref store and creates no file; a foreign one is refused too', async () => {
    const t = await tempDir('trust')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
      await repo.put('main', 'a', 'precious')
      await repo.commit('main', { message: 'a' })
      await repo.close()
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
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
      await repo.put('main', 'a', 'precious')
      await repo.commit('main', { message: 'a' })
      await repo.close()
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
    const t = await tempDir('trust')
    try {
      const repo = await Repository.init(path.join(t.dir, 'lake'), { durable: false })
      for (const bad of ['a\nb', 'a\rb', 'x/\u001b[31mred', 'tab\there', 'del\u007f', 'c1\u0085', 'c1\u009b'])
        expect(await codeOf(repo.put('main', bad, 'x'))).toBe('INVALID_PATH')
      expect(await collect(repo.uncommitted('main'))).toEqual([])
      await repo.put('main', 'ok/ünïcode ✓', 'x') // printable Unicode stays fine
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})

describe('tree entries with invalid paths written by older versions (issue 9.10)', () => {
  it('verify --full reports them and merge refuses to copy them', async () => {
    const t = await tempDir('trust')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
      const e = await repo.put('main', 'good', 'bytes')
      await repo.commit('main', { message: 'good' })
      await repo.createBranch('legacy')
      // What an older Varve accepted: a path with a newline, committed on legacy
      const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks')), { random: systemRandom })
      const head = await repo.getCommit('legacy')
      const { root } = await applyChanges(objects, head.root, [{ path: 'bad\nname', entry: { ...e, path: 'bad\nname' } }])
      const c = await objects.writeCommit({ parents: [head.id], root, message: 'old', author: 'old', metadata: {}, createdAt: Date.now(), generation: head.generation + 1 })
      const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
      const b = (await refs.getBranch('legacy'))!
      await refs.updateBranch(b, { name: b.name, head: c.id, stagingToken: b.stagingToken, sealedTokens: [] })
      await refs.close()
      const v = await repo.verify({ full: true })
      expect(v.problems).toEqual([expect.objectContaining({ kind: 'invalid-path', path: 'bad\nname', commit: c.id })])
      expect(await codeOf(repo.merge('legacy', 'main'))).toBe('INVALID_PATH')
      expect(await repo.resolve('main')).toBe(head.id)
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})

describe('verify and gc agree; gc collects detached staging and temp leftovers (issue 9.11)', () => {
  it('after gc collects old data, plain verify is ok and counts it as collected; a real loss is still a problem', async () => {
    const t = await tempDir('trust')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
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
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('drops staging no branch refers to and old temp files, keeps a live branch staging', async () => {
    const t = await tempDir('trust')
    try {
      const lake = path.join(t.dir, 'lake')
      const repo = await Repository.init(lake, { durable: false })
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
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})
