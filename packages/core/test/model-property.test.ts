import fc from 'fast-check'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { Repository, VarveError } from '@varve/core'
import { collect, tempDir } from './helpers.js'

/**
 * Random sequences of put/delete/commit/branch/merge/reset run against the engine and against a plain
 * in-memory model: files per commit, commits with parents, branches with a head and staged files.
 * The model computes merges itself (common ancestors by brute force, then a per-path three-way
 * choice), so every listing and every byte must agree.
 */
type Files = Map<string, string>
interface ModelCommit {
  files: Files
  parents: string[]
  generation: number
  createdAt: number
}
interface ModelBranch {
  head: string
  staged: Map<string, string | null>
}

const branchNames = ['main', 'b1', 'b2']
const pathNames = ['a', 'b', 'd/x', 'd/y', 'e/f/g']

type Op =
  | { op: 'put'; branch: string; path: string; value: string }
  | { op: 'delete'; branch: string; path: string }
  | { op: 'commit'; branch: string }
  | { op: 'branch'; branch: string; from: string }
  | { op: 'merge'; source: string; dest: string; strategy: 'fail' | 'source-wins' | 'dest-wins' }
  | { op: 'reset'; branch: string; back: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('put' as const),
      branch: fc.constantFrom(...branchNames),
      path: fc.constantFrom(...pathNames),
      value: fc.constantFrom('1', '2', '3'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), branch: fc.constantFrom(...branchNames), path: fc.constantFrom(...pathNames) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('commit' as const), branch: fc.constantFrom(...branchNames) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('branch' as const), branch: fc.constantFrom('b1', 'b2'), from: fc.constantFrom(...branchNames) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('merge' as const),
      source: fc.constantFrom(...branchNames),
      dest: fc.constantFrom(...branchNames),
      strategy: fc.constantFrom('fail' as const, 'source-wins' as const, 'dest-wins' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reset' as const), branch: fc.constantFrom(...branchNames), back: fc.integer({ min: 0, max: 2 }) }) },
)

class Model {
  readonly commits = new Map<string, ModelCommit>()
  readonly branches = new Map<string, ModelBranch>()

  view(name: string): Files {
    const b = this.branches.get(name)!
    const out = new Map(this.commits.get(b.head)!.files)
    for (const [p, v] of b.staged)
      if (v === null) out.delete(p)
      else out.set(p, v)
    return out
  }

  ancestors(id: string): Set<string> {
    const seen = new Set<string>()
    const stack = [id]
    while (stack.length) {
      const c = stack.pop()!
      if (seen.has(c)) continue
      seen.add(c)
      stack.push(...this.commits.get(c)!.parents)
    }
    return seen
  }

  /** The engine's choice, by brute force: the newest (generation, time, id) common ancestor. */
  mergeBase(a: string, b: string): string {
    const common = [...this.ancestors(a)].filter((c) => this.ancestors(b).has(c))
    const key = (id: string) => [this.commits.get(id)!.generation, this.commits.get(id)!.createdAt, id] as const
    return common.sort((x, y) => {
      const [gx, tx, ix] = key(x)
      const [gy, ty, iy] = key(y)
      return gy - gx || ty - tx || (iy > ix ? 1 : iy < ix ? -1 : 0)
    })[0]!
  }
}

describe('engine agrees with an in-memory model', () => {
  it('random histories of put, delete, commit, branch, merge and reset', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const t = await tempDir('model')
        let now = 0
        const repo = await Repository.init(path.join(t.dir, 'lake'), { durable: false, clock: { now: () => ++now } })
        try {
          const model = new Model()
          const root = await repo.getCommit('main')
          model.commits.set(root.id, { files: new Map(), parents: [], generation: 1, createdAt: root.createdAt })
          model.branches.set('main', { head: root.id, staged: new Map() })
          for (const o of ops) await step(repo, model, o)
          for (const [name, b] of model.branches) {
            expect(await repo.resolve(name)).toBe(b.head)
            const expected = [...model.view(name)].sort(([x], [y]) => (x < y ? -1 : 1))
            const items = await collect(repo.list(name))
            const actual = await Promise.all(items.map(async (i) => [i.path, Buffer.from(await repo.get(name, i.path)).toString()]))
            expect(actual).toEqual(expected)
          }
        } finally {
          await repo.close()
          await t.cleanup()
        }
      }),
      { numRuns: Number(process.env.VARVE_PROPERTY_RUNS ?? 60), seed: Number(process.env.VARVE_PROPERTY_SEED ?? 20261123) },
    )
  })
})

async function expectCode(p: Promise<unknown>, code: string, what: unknown) {
  const err = await p.then(
    () => undefined,
    (e) => e,
  )
  expect(VarveError.is(err, code), `${JSON.stringify(what)} should fail with ${code}, got ${err}`).toBe(true)
}

async function step(repo: Repository, m: Model, o: Op): Promise<void> {
  switch (o.op) {
    case 'put': {
      const b = m.branches.get(o.branch)
      if (!b) return expectCode(repo.put(o.branch, o.path, o.value), 'NOT_FOUND', o)
      await repo.put(o.branch, o.path, o.value)
      b.staged.set(o.path, o.value)
      return
    }
    case 'delete': {
      const b = m.branches.get(o.branch)
      if (!b || !m.view(o.branch).has(o.path)) return expectCode(repo.delete(o.branch, o.path), 'NOT_FOUND', o)
      await repo.delete(o.branch, o.path)
      b.staged.set(o.path, null)
      return
    }
    case 'commit': {
      const b = m.branches.get(o.branch)
      if (!b) return expectCode(repo.commit(o.branch, { message: 'm' }), 'NOT_FOUND', o)
      const next = m.view(o.branch)
      const parent = m.commits.get(b.head)!
      const hadStaged = b.staged.size > 0
      b.staged.clear()
      if (!hadStaged || sameFiles(next, parent.files)) return expectCode(repo.commit(o.branch, { message: 'm' }), 'NOTHING_TO_COMMIT', o)
      const c = await repo.commit(o.branch, { message: 'm' })
      expect(c.parents).toEqual([b.head])
      m.commits.set(c.id, { files: next, parents: [b.head], generation: parent.generation + 1, createdAt: c.createdAt })
      b.head = c.id
      return
    }
    case 'branch': {
      const from = m.branches.get(o.from)
      if (!from) return expectCode(repo.createBranch(o.branch, { from: o.from }), 'NOT_FOUND', o)
      if (m.branches.has(o.branch)) return expectCode(repo.createBranch(o.branch, { from: o.from }), 'BRANCH_EXISTS', o)
      await repo.createBranch(o.branch, { from: o.from })
      m.branches.set(o.branch, { head: from.head, staged: new Map() })
      return
    }
    case 'merge': {
      const src = m.branches.get(o.source)
      const dst = m.branches.get(o.dest)
      const call = () => repo.merge(o.source, o.dest, { strategy: o.strategy })
      if (!src || !dst) return expectCode(call(), 'NOT_FOUND', o)
      if (dst.staged.size) return expectCode(call(), 'DIRTY_BRANCH', o)
      const base = m.mergeBase(src.head, dst.head)
      if (base === src.head) {
        const r = await call()
        expect(r.upToDate).toBe(true)
        return
      }
      const [bf, sf, df] = [m.commits.get(base)!.files, m.commits.get(src.head)!.files, m.commits.get(dst.head)!.files]
      const result = new Map<string, string>()
      const conflicts: string[] = []
      for (const p of new Set([...bf.keys(), ...sf.keys(), ...df.keys()])) {
        const [b, s, d] = [bf.get(p), sf.get(p), df.get(p)]
        let v: string | undefined
        if (s === b) v = d
        else if (d === b || s === d) v = s
        else if (o.strategy === 'source-wins') v = s
        else if (o.strategy === 'dest-wins') v = d
        else conflicts.push(p)
        if (v !== undefined) result.set(p, v)
      }
      if (conflicts.length) {
        const err = await call().then(
          () => undefined,
          (e) => e as VarveError,
        )
        expect(err?.code).toBe('MERGE_CONFLICT')
        expect((err!.details.conflicts as { path: string }[]).map((c) => c.path).sort()).toEqual(conflicts.sort())
        return
      }
      const r = await call()
      expect(r.commit.parents).toEqual([dst.head, src.head])
      const gen = 1 + Math.max(m.commits.get(dst.head)!.generation, m.commits.get(src.head)!.generation)
      m.commits.set(r.commit.id, { files: result, parents: [dst.head, src.head], generation: gen, createdAt: r.commit.createdAt })
      dst.head = r.commit.id
      return
    }
    case 'reset': {
      const b = m.branches.get(o.branch)
      if (!b) return expectCode(repo.reset(o.branch, 'main'), 'NOT_FOUND', o)
      let target = b.head
      for (let i = 0; i < o.back; i++) target = m.commits.get(target)!.parents[0] ?? target
      const rev = `${o.branch}~${o.back}`
      if (target === b.head && o.back > 0 && m.commits.get(b.head)!.parents.length === 0) return expectCode(repo.reset(o.branch, rev), 'NOT_FOUND', o)
      let chainOk = true
      for (let i = 0, c = b.head; i < o.back; i++) {
        const p = m.commits.get(c)!.parents[0]
        if (!p) chainOk = false
        else c = p
      }
      if (!chainOk) return expectCode(repo.reset(o.branch, rev, { discardChanges: true }), 'NOT_FOUND', o)
      if (b.staged.size) await expectCode(repo.reset(o.branch, rev), 'DIRTY_BRANCH', o)
      await repo.reset(o.branch, rev, { discardChanges: true })
      b.head = target
      b.staged.clear()
      return
    }
  }
}

const sameFiles = (a: Files, b: Files) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v)
