import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LocalBlockStore, systemRandom, type Entry } from '@varve/core'
import {
  FORMAT_1_TREES,
  NEW_TREE_FORMAT,
  ObjectStore,
  applyChanges,
  buildTree,
  countEntries,
  diffTrees,
  emptyTree,
  getEntry,
  scanEntries,
  treeId,
  type TreeChange,
  type TreeFormat,
  type TreeRef,
} from '@varve/core/internal'
import { collect, tempDir } from './helpers.js'

const entry = (path: string, v = 0): Entry => ({ path, address: String(v).padStart(64, '0'), size: v, lastModified: 0 })
const byPath = (a: { path: string }, b: { path: string }) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path))

async function withObjects(tree: TreeFormat, fn: (o: ObjectStore) => Promise<void>) {
  const t = await tempDir('tree')
  try {
    await fn(new ObjectStore(new LocalBlockStore(t.dir, { durable: false }), { random: systemRandom, tree }))
  } finally {
    await t.cleanup()
  }
}

const pathArb = fc.oneof(
  fc.integer({ min: 0, max: 3000 }).map((n) => `p/${String(n).padStart(5, '0')}`),
  fc.string({ minLength: 1, maxLength: 6, unit: 'grapheme' }).filter((s) => s.isWellFormed()),
)

// Both formats: loose nodes with 256-entry leaves (format 1) and packed nodes with 64-entry leaves (format 2).
describe.each([
  ['format 1', FORMAT_1_TREES],
  ['format 2', NEW_TREE_FORMAT],
])('tree (%s)', (_name, format) => {
  it('an incremental edit gives exactly the tree a from-scratch build gives (canonical, history-independent)', async () => {
    await withObjects(format, async (store) => {
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(pathArb, { maxLength: 1500 }),
          fc.array(fc.tuple(pathArb, fc.option(fc.integer({ min: 1, max: 9 }), { nil: null })), { maxLength: 300 }),
          async (paths, edits) => {
            const initial = paths.map((p) => entry(p)).sort(byPath)
            const base = await buildTree(store, initial)
            const model = new Map(initial.map((e) => [e.path, e]))
            const changes = new Map<string, TreeChange>()
            for (const [p, v] of edits) {
              changes.set(p, { path: p, entry: v === null ? null : entry(p, v) })
              if (v === null) model.delete(p)
              else model.set(p, entry(p, v))
            }
            const sorted = [...changes.values()].sort(byPath)
            const edited = await applyChanges(store, base, sorted)
            const fresh = await buildTree(store, [...model.values()].sort(byPath))
            expect(edited.root).toBe(fresh.id)
            expect(edited.count).toBe(model.size)
            expect(await countEntries(store, edited.tree)).toBe(model.size)
            // and the diff between the two trees is exactly the effective changes
            const diff = await collect(diffTrees(store, base, edited.tree))
            const expected = sorted.filter((c) => {
              const before = initial.find((e) => e.path === c.path)
              return c.entry === null ? before !== undefined : before?.address !== c.entry.address
            })
            expect(diff.map((d) => d.path)).toEqual(expected.map((c) => c.path))
            // a diff cut to a prefix is the full diff's paths under it
            for (const prefix of ['p/00', 'p/01', 'p/029', 'q', '']) {
              const cut = await collect(diffTrees(store, base, edited.tree, undefined, { prefix }))
              expect(cut.map((d) => d.path)).toEqual(diff.map((d) => d.path).filter((p) => p.startsWith(prefix)))
            }
          },
        ),
        { numRuns: 40, seed: 42 },
      )
    })
  })

  it('a small edit of a big tree reads and writes only a few nodes', async () => {
    await withObjects(format, async (store) => {
      const entries = Array.from({ length: 100_000 }, (_, i) => entry(`data/part-${String(i).padStart(7, '0')}.parquet`))
      const base = await buildTree(store, entries)
      const { root, tree, stats } = await applyChanges(store, base, [{ path: 'data/part-0050000.parquet', entry: entry('data/part-0050000.parquet', 7) }])
      expect(root).not.toBe(base.id)
      // one leaf and its ancestors (plus at most a couple of neighbours where boundaries shift)
      expect(stats.nodesWritten).toBeLessThanOrEqual(6)
      expect(stats.nodesRead).toBeLessThanOrEqual(8)
      const counters = { nodesRead: 0 }
      const diff = await collect(diffTrees(store, base, tree, counters))
      expect(diff).toHaveLength(1)
      expect(counters.nodesRead).toBeLessThanOrEqual(12)
      expect((await getEntry(store, tree, 'data/part-0050000.parquet'))?.size).toBe(7)
      expect(await getEntry(store, tree, 'data/part-0050000.parquetx')).toBeUndefined()
    })
  })

  it('a diff cut to a prefix never reads the changed nodes outside it', async () => {
    await withObjects(format, async (store) => {
      const entries = Array.from({ length: 100_000 }, (_, i) =>
        entry(`data/day=${String(i % 100).padStart(3, '0')}/part-${String(i).padStart(7, '0')}.parquet`),
      ).sort(byPath)
      const base = await buildTree(store, entries)
      // 500 changes all over the tree, none under day=042/
      const changes = Array.from({ length: 500 }, (_, k) => entries[k * 200 + 7]!).filter((e) => !e.path.startsWith('data/day=042/'))
      const { tree } = await applyChanges(
        store,
        base,
        changes.map((e) => ({ path: e.path, entry: { ...e, size: 9, address: '9'.repeat(64) } })),
      )
      const full = { nodesRead: 0 }
      expect(await collect(diffTrees(store, base, tree, full))).toHaveLength(changes.length)
      const cut = { nodesRead: 0 }
      expect(await collect(diffTrees(store, base, tree, cut, { prefix: 'data/day=042/' }))).toEqual([])
      // the roots and the path down to day=042/ on each side, not the hundreds of changed leaves
      expect(full.nodesRead).toBeGreaterThan(400)
      expect(cut.nodesRead).toBeLessThanOrEqual(16)
      // an empty tree against the whole lake (a root commit's parent side): only the prefix's nodes
      const empty = await emptyTree(store)
      const fromEmpty = { nodesRead: 0 }
      const added = await collect(diffTrees(store, empty, tree, fromEmpty, { prefix: 'data/day=042/' }))
      expect(added.map((d) => d.path)).toEqual(entries.filter((e) => e.path.startsWith('data/day=042/')).map((e) => e.path))
      expect(added.every((d) => d.type === 'added')).toBe(true)
      expect(fromEmpty.nodesRead).toBeLessThanOrEqual(40)
      const backwards = await collect(diffTrees(store, tree, empty, undefined, { prefix: 'data/day=042/' }))
      expect(backwards.map((d) => d.type)).toEqual(added.map(() => 'removed'))
    })
  })

  it('scans from any key, inclusive or exclusive, across leaves', async () => {
    await withObjects(format, async (store) => {
      const entries = Array.from({ length: 5000 }, (_, i) => entry(`k/${String(i * 2).padStart(6, '0')}`))
      const built = await buildTree(store, entries)
      const from = async (k: string, ex: boolean) => (await collect(scanEntries(store, built, k, ex))).flat().map((e) => e.path)
      expect(await from('', false)).toHaveLength(5000)
      expect((await from('k/004000', false))[0]).toBe('k/004000')
      expect((await from('k/004000', true))[0]).toBe('k/004002')
      expect((await from('k/004001', false))[0]).toBe('k/004002')
      expect(await from('z', false)).toEqual([])
      const empty = await emptyTree(store)
      expect(await from.call(null, '', false)).toHaveLength(5000)
      expect(await collect(scanEntries(store, empty))).toEqual([])
    })
  })

  it('building the same entries in any batch order gives the same root id', async () => {
    await withObjects(format, async (store) => {
      const entries = Array.from({ length: 3000 }, (_, i) => entry(`x/${i}`)).sort(byPath)
      const a = await buildTree(store, entries)
      let root: TreeRef = await emptyTree(store)
      for (let i = 0; i < entries.length; i += 700)
        root = (
          await applyChanges(
            store,
            root,
            entries.slice(i, i + 700).map((e) => ({ path: e.path, entry: e })),
          )
        ).tree
      expect(treeId(root)).toBe(a.id)
    })
  })
})

describe('folder listings on a branch (issue 26: the web UI lists folders a page at a time)', () => {
  it('with a delimiter, a branch lists exactly what its full listing groups into: staged changes under the prefix or not', async () => {
    const { Repository } = await import('@varve/core')
    const t = await tempDir('folder-listing')
    try {
      const repo = await Repository.init(t.dir, { author: 't' })
      for (const p of ['a/1', 'a/2', 'b/x/1', 'c/1', 'c/d/1', 'e']) await repo.put('main', p, p)
      await repo.commit('main', { message: 'one' })
      // Staged: a new folder under b/, a delete that empties c/'s top file, a new top-level folder.
      await repo.put('main', 'b/y/2', 'y')
      await repo.delete('main', 'c/1')
      await repo.put('main', 'd/1', 'd')
      const grouped = async (prefix: string) => {
        const out: string[] = []
        for (const e of await collect(repo.list('main', { prefix }))) {
          const rest = e.path.slice(prefix.length)
          const cut = rest.indexOf('/')
          const item = cut < 0 ? e.path : prefix + rest.slice(0, cut + 1)
          if (out.at(-1) !== item) out.push(item)
        }
        return out
      }
      for (const prefix of ['', 'a/', 'b/', 'c/', 'c/d/', 'd/', 'z/']) {
        const listed = (await collect(repo.list('main', { prefix, delimiter: '/' }))).map((i) => i.path)
        expect(listed, prefix).toEqual(await grouped(prefix))
      }
      expect((await collect(repo.list('main', { prefix: 'b/', delimiter: '/' }))).map((i) => i.path)).toEqual(['b/x/', 'b/y/'])
      expect((await collect(repo.list('main', { prefix: 'c/', delimiter: '/' }))).map((i) => i.path)).toEqual(['c/d/'])
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})
