import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalBlockStore, Repository, SqliteRefStore, VarveError, systemRandom, type Entry } from '@varve/core'
import {
  buildTree,
  commitRoot,
  COMPACT_LEAF_BITS,
  decodeTreeNode,
  isBoundary,
  keys,
  NEW_TREE_FORMAT,
  ObjectStore,
  packedRootOf,
  scanEntries,
  type ChildRef,
} from '@varve/core/internal'
import { collect, tempDir } from './helpers.js'

// Repository format 2 (docs/decisions/0008-node-packs.md): tree nodes in packs, 64-entry leaves.

const codeOf = (e: unknown) => (e instanceof VarveError ? e.code : `not a VarveError: ${String(e)}`)
const pad = (i: number) => String(i).padStart(5, '0')

async function inLake(fn: (lake: string) => Promise<void>): Promise<void> {
  const t = await tempDir('node-packs')
  try {
    await fn(path.join(t.dir, 'lake'))
  } finally {
    await t.cleanup()
  }
}

async function listKeys(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name))
}

describe('node packs (format 2)', () => {
  it('a commit writes its tree nodes as one pack and records the root location; a fresh reader finds everything', async () => {
    await inLake(async (lake) => {
      const repo = await Repository.init(lake, { durable: false })
      const manifest = JSON.parse(await fs.readFile(path.join(lake, 'blocks', 'varve.json'), 'utf8'))
      expect(manifest).toMatchObject({ version: 2, tree: { leafBits: 6, nodePacks: true } })
      const looseBefore = (await listKeys(path.join(lake, 'blocks', 'tree'))).length
      for (let i = 0; i < 3000; i++) await repo.put('main', `d/${pad(i)}`, `v${i}`)
      const c = await repo.commit('main', { message: 'many' })
      expect(c.rootAt?.pack).toMatch(/^[0-9a-f]{64}$/)
      // ~47 leaves and their parents: one node pack, no loose node files
      expect((await listKeys(path.join(lake, 'blocks', 'tree'))).length).toBe(looseBefore)
      expect(await listKeys(path.join(lake, 'blocks', 'packs'))).toHaveLength(1)
      await repo.close()

      const fresh = await Repository.open(lake)
      const listed = await collect(fresh.list('main'))
      expect(listed).toHaveLength(3000)
      expect((await fresh.get('main', 'd/02999')).toString()).toBe('v2999')
      // an edit, a branch, a merge and a diff across packed trees
      await fresh.createBranch('b')
      await fresh.put('b', 'd/01500', 'changed')
      await fresh.commit('b', { message: 'one change' })
      expect((await collect(fresh.diff('main', 'b'))).map((d) => d.path)).toEqual(['d/01500'])
      await fresh.merge('b', 'main')
      expect((await fresh.get('main', 'd/01500')).toString()).toBe('changed')
      expect((await fresh.verify({ full: true })).problems).toEqual([])
      await fresh.close()
    })
  })

  it('gc keeps the node packs of every commit and collects those of commits nothing refers to', async () => {
    await inLake(async (lake) => {
      const repo = await Repository.init(lake, { durable: false })
      for (let i = 0; i < 500; i++) await repo.put('main', `keep/${pad(i)}`, `k${i}`)
      const kept = await repo.commit('main', { message: 'kept' })
      await repo.createBranch('doomed')
      for (let i = 0; i < 500; i++) await repo.put('doomed', `gone/${pad(i)}`, `g${i}`)
      const doomed = await repo.commit('doomed', { message: 'doomed' })
      await repo.deleteBranch('doomed')
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await repo.gc({ retainDays: 0, graceSeconds: 0 }) // the second run purges the first run's quarantine
      const blocks = new LocalBlockStore(path.join(lake, 'blocks'))
      expect(await blocks.head(keys.pack(kept.rootAt!.pack))).toBeDefined()
      expect(await blocks.head(keys.pack(doomed.rootAt!.pack))).toBeUndefined()
      expect(await collect(repo.list('main'))).toHaveLength(500)
      expect((await repo.verify({ full: true, retainDays: 0 })).problems).toEqual([])
      await repo.close()
    })
  })

  it('a node stored in two packs stays readable through each (gc marks every ref, not every id once)', async () => {
    await inLake(async (lake) => {
      const repo = await Repository.init(lake, { durable: false })
      for (let i = 0; i < 400; i++) await repo.put('main', `a/${pad(i)}`, `a${i}`)
      await repo.commit('main', { message: 'a' })
      // The same leaves built again from scratch on another branch (a merge into a branch holding
      // one other file rebuilds the tree): equal leaf ids, stored in another pack.
      await repo.createBranch('twin', { from: (await collect(repo.log('main'))).at(-1)!.id })
      await repo.put('twin', 'zz', 'only on twin')
      await repo.commit('twin', { message: 'zz' })
      const { commit: twin } = await repo.merge('main', 'twin')
      const main = await repo.getCommit('main')
      expect(twin.rootAt!.pack).not.toBe(main.rootAt!.pack)
      const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks')), { random: systemRandom, tree: NEW_TREE_FORMAT })
      const leaves = async (c: typeof main) => {
        const root = await objects.readNode(commitRoot(c))
        return root.kind === 'inner' ? root.children : []
      }
      const [mainLeaves, twinLeaves] = [await leaves(main), await leaves(twin)]
      const shared = mainLeaves.find((l) => twinLeaves.some((t) => t.id === l.id))!
      expect(shared).toBeDefined()
      expect(twinLeaves.find((t) => t.id === shared.id)!.at!.pack.id).not.toBe(shared.at!.pack.id)
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await repo.close()
      const fresh = await Repository.open(lake) // nothing cached: each tree is read through its own packs
      expect(await collect(fresh.list('twin'))).toHaveLength(401)
      expect(await collect(fresh.list('main'))).toHaveLength(400)
      expect((await fresh.verify({ full: true, retainDays: 0 })).problems).toEqual([])
      await fresh.close()
    })
  })

  it('a pack holding only nodes another tree also has (at other offsets) is kept while its tree lives', async () => {
    // Tree b (marked first: its branch is listed last) starts with extra paths, so its packs cut
    // elsewhere: a's first pack holds only nodes b also has, in a pack of its own. A mark that skipped
    // refs to ids it had already seen would leave that pack unmarked, and gc would break tree a.
    await inLake(async (lake) => {
      const { a, b, lead } = await twinTrees(lake, 'main', 'other')
      const repo = await Repository.open(lake)
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      await repo.close()
      // Read through live keys only (a repository would also find a wrongly collected pack in
      // quarantine for a while): every node of both trees must still be stored.
      expect(await countLive(lake, b)).toBe(150_000 + lead.length)
      expect(await countLive(lake, a)).toBe(150_000)
    })
  }, 120_000)

  it("a long-lived reader never follows a cached copy of a node into another copy's collected packs", async () => {
    // The process reads tree a (caching its inner nodes), a is dropped and collected elsewhere, then
    // the process reads tree b, which holds nodes of the same ids stored in b's own packs.
    await inLake(async (lake) => {
      const { b, lead } = await twinTrees(lake, 'doomed', 'main')
      const reader = await Repository.open(lake)
      expect(await collect(reader.list('doomed', { limit: 1_000_000 }))).toHaveLength(150_000)
      const collector = await Repository.open(lake)
      await collector.deleteBranch('doomed')
      await collector.gc({ retainDays: 0, graceSeconds: 0 })
      await collector.gc({ retainDays: 0, graceSeconds: 0 })
      await collector.close()
      expect(await countLive(lake, b)).toBe(150_000 + lead.length) // b itself is intact
      expect(await collect(reader.list('main', { limit: 1_000_000 }))).toHaveLength(150_000 + lead.length)
      await reader.close()
    })
  }, 120_000)

  it('damaged child locations are CORRUPT_OBJECT, never a read of another key', async () => {
    const inner = Buffer.from(`{"t":"varve/node:v1","l":1,"c":[["a","${'e'.repeat(64)}",2],["b","${'f'.repeat(64)}",3]]}`)
    const at = (json: string) => Buffer.from(json)
    const ok = decodeTreeNode(inner, 'x', at(`{"t":"varve/node-locations:v1","k":["${'a'.repeat(64)}"],"c":[[0,10,20],[-1,30,5]]}`), 'b'.repeat(64))
    expect(ok.kind === 'inner' && ok.children.map((c) => [c.at?.pack.id, c.at?.offset, c.at?.size])).toEqual([
      ['a'.repeat(64), 10, 20],
      ['b'.repeat(64), 30, 5],
    ])
    const bad = [
      'not json',
      `{"t":"varve/node-locations:v1","k":["../../etc/passwd"],"c":[[0,1,1],null]}`,
      `{"t":"varve/node-locations:v1","k":[],"c":[null]}`,
      `{"t":"varve/node-locations:v1","k":[],"c":[[-1,0,1],null]}`, // "this pack", read from no pack
      `{"t":"varve/node-locations:v1","k":["${'a'.repeat(64)}"],"c":[[0,-5,1],null]}`,
      `{"t":"varve/node-locations:v1","k":["${'a'.repeat(64)}"],"c":[[3,0,1],null]}`,
      `{"t":"other","k":[],"c":[null,null]}`,
    ]
    for (const b of bad)
      expect(
        codeOf(
          (() => {
            try {
              decodeTreeNode(inner, 'x', at(b), undefined)
            } catch (e) {
              return e
            }
          })(),
        ),
      ).toBe('CORRUPT_OBJECT')
    // A v3 leaf's pack table is checked like any location: a bad id or index is CORRUPT_OBJECT.
    const v3 = (table: string, k: string) =>
      Buffer.from(`{"t":"varve/leaf:v3","p":["a"],"a":["${'a'.repeat(64)}"],"s":[1],"m":[1],"K":${table},"k":${k},"o":[0]}`)
    expect((decodeTreeNode(v3(`["${'c'.repeat(64)}"]`, '[0]'), 'x') as { entries: { pack?: string }[] }).entries[0]!.pack).toBe('c'.repeat(64))
    for (const [table, k] of [
      ['["../x"]', '[0]'],
      [`["${'c'.repeat(64)}"]`, '[1]'],
      ['{}', '[0]'],
      [`["${'c'.repeat(64)}"]`, '["c"]'],
    ])
      expect(
        codeOf(
          (() => {
            try {
              decodeTreeNode(v3(table!, k!), 'x')
            } catch (e) {
              return e
            }
          })(),
        ),
      ).toBe('CORRUPT_OBJECT')
    // A leaf never carries locations.
    const leaf = Buffer.from(`{"t":"varve/leaf:v1","p":[],"a":[],"s":[],"m":[]}`)
    expect(
      codeOf(
        (() => {
          try {
            decodeTreeNode(leaf, 'x', at('{}'))
          } catch (e) {
            return e
          }
        })(),
      ),
    ).toBe('CORRUPT_OBJECT')
  })

  it('a commit whose root pack is gone reads as NOT_FOUND naming the pack and the node', async () => {
    await inLake(async (lake) => {
      const repo = await Repository.init(lake, { durable: false })
      for (let i = 0; i < 100; i++) await repo.put('main', `x/${pad(i)}`, `x${i}`)
      const c = await repo.commit('main', { message: 'x' })
      await repo.close()
      await fs.rm(path.join(lake, 'blocks', keys.pack(c.rootAt!.pack)))
      const fresh = await Repository.open(lake)
      const err = await collect(fresh.list('main')).catch((e: unknown) => e)
      expect(err).toMatchObject({ code: 'NOT_FOUND', details: { object: c.rootAt!.pack, node: c.root } })
      const v = await fresh.verify()
      expect(v.problems.map((p) => [p.kind, p.objectType, p.object])).toEqual([['missing', 'tree', c.root]])
      await fresh.close()
    })
  })
})

describe('format-1 repositories (made before decision 0008)', () => {
  it('keep loose nodes and 256-entry leaves, and are read and written as before', async () => {
    await inLake(async (lake) => {
      const made = await Repository.init(lake, { durable: false })
      await made.close()
      // What an earlier Varve wrote: version 1, no tree format (its first commit's root is a loose node).
      const manifestPath = path.join(lake, 'blocks', 'varve.json')
      const m = JSON.parse(await fs.readFile(manifestPath, 'utf8'))
      delete m.tree
      await fs.writeFile(manifestPath, JSON.stringify({ ...m, version: 1 }))
      const repo = await Repository.open(lake)
      for (let i = 0; i < 2000; i++) await repo.put('main', `f/${pad(i)}`, `v${i}`)
      const c = await repo.commit('main', { message: 'format 1' })
      expect(c.rootAt).toBeUndefined()
      expect(await fs.readdir(path.join(lake, 'blocks', 'packs')).catch(() => [])).toEqual([])
      // ~8 leaves of 256 on average and a root, each its own file
      const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks')), { random: systemRandom })
      const root = await objects.readNode(commitRoot(c))
      expect(root.kind === 'inner' && root.children.length).toBeLessThan(30)
      expect(root.kind === 'inner' && root.children.every((ch) => ch.at === undefined)).toBe(true)
      await repo.createBranch('b')
      await repo.put('b', 'f/00001', 'changed')
      await repo.commit('b', { message: 'edit' })
      await repo.merge('b', 'main')
      expect(await collect(repo.list('main'))).toHaveLength(2000)
      await repo.gc({ retainDays: 0, graceSeconds: 0 })
      expect((await repo.verify({ full: true, retainDays: 0 })).problems).toEqual([])
      await repo.close()
      expect(JSON.parse(await fs.readFile(manifestPath, 'utf8')).version).toBe(1)
    })
  })

  it('a manifest of a newer format is refused, and so is a format-2 manifest without a valid tree format', async () => {
    await inLake(async (lake) => {
      await (await Repository.init(lake, { durable: false })).close()
      const manifestPath = path.join(lake, 'blocks', 'varve.json')
      const m = JSON.parse(await fs.readFile(manifestPath, 'utf8'))
      await fs.writeFile(manifestPath, JSON.stringify({ ...m, version: 3 }))
      expect(codeOf(await Repository.open(lake).catch((e: unknown) => e))).toBe('UNSUPPORTED_FORMAT')
      await fs.writeFile(manifestPath, JSON.stringify({ ...m, tree: { leafBits: 'six', nodePacks: true } }))
      expect(codeOf(await Repository.open(lake).catch((e: unknown) => e))).toBe('CORRUPT_OBJECT')
    })
  })
})

/**
 * Two trees of nearly the same 150k entries, each over two or more node packs, on branches `aBranch`
 * and `bBranch`: b starts with extra paths up to one that ends a level-1 node, so past it b's inner
 * nodes have a's ids but are stored in b's packs, which cut at other places.
 */
async function twinTrees(lake: string, aBranch: string, bBranch: string) {
  await (await Repository.init(lake, { durable: false })).close()
  const objects = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks'), { durable: false }), { random: systemRandom, tree: NEW_TREE_FORMAT })
  const blob = await objects.writeData(Buffer.from('shared bytes'))
  const paths = Array.from(
    { length: 150_000 },
    (_, i) => `partition=${String(i % 97).padStart(3, '0')}/some/longer/path/segment/file-${String(i).padStart(7, '0')}.parquet`,
  ).sort()
  const entries = (first: string[]) => [...first, ...paths].map((p): Entry => ({ path: p, address: blob.address, size: blob.size, lastModified: 1 }))
  const a = await buildTree(objects, entries([]))
  const lead: string[] = []
  for (let i = 0; !isBoundary(1, lead.at(-1) ?? '', COMPACT_LEAF_BITS); i++) lead.push(`a/${String(i).padStart(6, '0')}`)
  const b = await buildTree(objects, entries(lead))
  expect(await fs.readdir(path.join(lake, 'blocks', 'packs'), { recursive: true }).then((xs) => xs.filter((x) => x.length > 3).length)).toBeGreaterThanOrEqual(
    4,
  )
  const refs = new SqliteRefStore(path.join(lake, 'refs.sqlite3'))
  const main = (await refs.getBranch('main'))!
  const commit = async (root: typeof a, message: string) =>
    (
      await objects.writeCommit({
        parents: [main.head],
        root: root.id,
        rootAt: packedRootOf(root)!,
        message,
        author: 't',
        metadata: {},
        createdAt: Date.now(),
        generation: 2,
      })
    ).id
  const heads = { [aBranch]: await commit(a, 'a'), [bBranch]: await commit(b, 'b') }
  for (const [name, head] of Object.entries(heads)) {
    const log = {
      ref: `branch:${name}`,
      old: name === 'main' ? main.head : null,
      new: head,
      operation: name === 'main' ? 'commit' : 'create',
      author: 't',
      at: Date.now(),
    } as const
    if (name === 'main') await refs.updateBranch(main, { ...main, head }, log)
    else await refs.createBranch({ name, head, stagingToken: `${name}-token`, sealedTokens: [] }, log)
  }
  await refs.close()
  return { a, b, lead }
}

/** Entries of a tree read through live keys only, by a store of its own (nothing cached). */
async function countLive(lake: string, t: ChildRef): Promise<number> {
  const live = new ObjectStore(new LocalBlockStore(path.join(lake, 'blocks')), { random: systemRandom, tree: NEW_TREE_FORMAT })
  return (await collect(scanEntries(live, t))).reduce((n, batch) => n + batch.length, 0)
}
