import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Repository, VarveError, type MergeStrategy } from '../src/index.js'
import { collect, tempDir } from './helpers.js'

// Per-path conflict resolution against a model: for random base / source / destination trees over a
// few paths, random rules and a random strategy, the merge's tree (or its conflict list) is what the
// model says, path by path.

const PATHS = ['a', 'b/c', 'b/d', 'config/z.yaml', 'train/x.parquet', 'train/day=1/y']
// Each glob with the model's own reading of it.
const GLOBS: Record<string, (p: string) => boolean> = {
  '**': () => true,
  '*': (p) => !p.includes('/'),
  a: (p) => p === 'a',
  'b/*': (p) => p.startsWith('b/') && p.split('/').length === 2,
  'train/**': (p) => p.startsWith('train/'),
  'config/*.yaml': (p) => /^config\/[^/]*\.yaml$/.test(p),
  '{a,b/d}': (p) => p === 'a' || p === 'b/d',
}

type Tree = Record<string, string | undefined>
const version = fc.constantFrom<string | undefined>(undefined, '1', '2', '3')
const tree = fc.record(Object.fromEntries(PATHS.map((p) => [p, version])) as Record<string, fc.Arbitrary<string | undefined>>)
const rule = fc.record({ paths: fc.constantFrom(...Object.keys(GLOBS)), take: fc.constantFrom<'source' | 'dest'>('source', 'dest') })
const strategy = fc.constantFrom<MergeStrategy>('fail', 'source-wins', 'dest-wins')

function expected(
  base: Tree,
  source: Tree,
  dest: Tree,
  rules: { paths: string; take: 'source' | 'dest' }[],
  strategy: MergeStrategy,
): { tree: Tree } | { conflicts: string[] } {
  const out: Tree = {}
  const conflicts: string[] = []
  for (const p of PATHS) {
    const [b, s, d] = [base[p], source[p], dest[p]]
    if (s === b) out[p] = d
    else if (d === b || s === d) out[p] = s
    else {
      const side = rules.find((r) => GLOBS[r.paths]!(p))?.take ?? (strategy === 'source-wins' ? 'source' : strategy === 'dest-wins' ? 'dest' : undefined)
      if (side === undefined) conflicts.push(p)
      else out[p] = side === 'source' ? s : d
    }
  }
  return conflicts.length ? { conflicts } : { tree: out }
}

let t: Awaited<ReturnType<typeof tempDir>>
beforeAll(async () => {
  t = await tempDir('varve-resolve')
})
afterAll(async () => t.cleanup())

async function write(repo: Repository, branch: string, from: Tree | undefined, to: Tree, message: string): Promise<void> {
  for (const p of PATHS) {
    if (to[p] === from?.[p]) continue
    if (to[p] === undefined) await repo.delete(branch, p)
    else await repo.put(branch, p, to[p]!)
  }
  await repo.commit(branch, { message, allowEmpty: true })
}

describe('per-path conflict resolution', () => {
  it('matches the model for random trees, rules and strategies', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(tree, tree, tree, fc.array(rule, { maxLength: 3 }), strategy, async (base, source, dest, rules, strat) => {
        const repo = await Repository.init(path.join(t.dir, `r${run++}`), { durable: false })
        try {
          await write(repo, 'main', undefined, base, 'base')
          await repo.createBranch('src')
          await write(repo, 'src', base, source, 'source')
          await write(repo, 'main', base, dest, 'dest')
          const want = expected(base, source, dest, rules, strat)
          const dry = await repo.merge('src', 'main', { dryRun: true, resolve: rules, strategy: strat })
          if ('conflicts' in want) {
            expect(dry.conflicts!.map((c) => c.path).sort()).toEqual([...want.conflicts].sort())
            const err = await repo.merge('src', 'main', { resolve: rules, strategy: strat }).then(
              () => undefined,
              (e: unknown) => e,
            )
            expect(VarveError.is(err, 'MERGE_CONFLICT')).toBe(true)
            return
          }
          expect(dry.conflicts ?? []).toEqual([])
          const r = await repo.merge('src', 'main', { resolve: rules, strategy: strat })
          const got: Tree = {}
          for (const item of await collect(repo.list(r.commit.id)))
            if (item.type === 'object') got[item.path] = Buffer.from(await repo.get(r.commit.id, item.path)).toString()
          expect(got).toEqual(Object.fromEntries(Object.entries(want.tree).filter(([, v]) => v !== undefined)))
        } finally {
          await repo.close()
        }
      }),
      { numRuns: 60 },
    )
  }, 300_000)

  it('escapes, quotes and brackets in paths; too many globs are refused before any is compiled', async () => {
    const repo = await Repository.init(path.join(t.dir, 'escapes'), { durable: false })
    try {
      const odd = ['dirx/file1', "it's [x]*.txt"]
      for (const p of odd) await repo.put('main', p, 'base')
      await repo.commit('main', { message: 'base' })
      await repo.createBranch('src')
      for (const p of odd) await repo.put('src', p, 'src')
      await repo.commit('src', { message: 'src' })
      for (const p of odd) await repo.put('main', p, 'dest')
      await repo.commit('main', { message: 'dest' })
      // `\\x` is an escaped ordinary character: the rule still applies under `dirx/`
      const r = await repo.merge('src', 'main', {
        dryRun: true,
        resolve: [
          { paths: 'dir\\x/file*', take: 'source' },
          { paths: "it's \\[x\\]\\*.txt", take: 'dest' },
        ],
      })
      expect(r.conflicts).toEqual([])
      expect(r.resolved!.map((c) => [c.path, c.took])).toEqual([
        ['dirx/file1', 'source'],
        ["it's [x]*.txt", 'dest'],
      ])
      const many = Array.from({ length: 33 }, (_, i) => ({ paths: `g${i}/**`, take: 'source' as const }))
      const err = await repo.merge('src', 'main', { dryRun: true, resolve: many }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(VarveError.is(err, 'INVALID_ARGUMENT')).toBe(true)
    } finally {
      await repo.close()
    }
  })
})
