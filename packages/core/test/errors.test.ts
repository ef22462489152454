import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  ForwardingBlockStore,
  LocalBlockStore,
  Repository,
  SqliteRefStore,
  VarveError,
  type BlockStore,
  type BranchRecord,
  type BranchState,
  type RefLogEntry,
} from '@varve/core'
import { tempDir } from './helpers.js'

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e) => (e instanceof VarveError ? e.code : `not a VarveError: ${e}`),
  )
}

describe('error codes that need a special setup', () => {
  it('NOT_A_REPOSITORY for a folder without a repository, and for a wrong manifest', async () => {
    const t = await tempDir('errs')
    try {
      expect(await codeOf(Repository.open(path.join(t.dir, 'missing')))).toBe('NOT_A_REPOSITORY')
      await fs.mkdir(path.join(t.dir, 'other/blocks'), { recursive: true })
      await fs.writeFile(path.join(t.dir, 'other/blocks/varve.json'), '{"format":"something-else"}')
      expect(await codeOf(Repository.open(path.join(t.dir, 'other')))).toBe('NOT_A_REPOSITORY')
      expect(await codeOf(Repository.open(''))).toBe('INVALID_ARGUMENT')
      expect(await codeOf(Repository.open('gs://bucket/x'))).toBe('INVALID_ARGUMENT')
      const err = await Repository.open('s3://bucket/x').catch((e: VarveError) => e)
      expect(err.message).toContain('@varve/s3-adapter')
    } finally {
      await t.cleanup()
    }
  })

  it('UNSUPPORTED_FORMAT for a repository written by a newer format', async () => {
    const t = await tempDir('errs')
    try {
      const lake = path.join(t.dir, 'lake')
      await (await Repository.init(lake)).close()
      await fs.writeFile(path.join(lake, 'blocks/varve.json'), JSON.stringify({ format: 'varve', version: 99, defaultBranch: 'main', createdAt: 0 }))
      expect(await codeOf(Repository.open(lake))).toBe('UNSUPPORTED_FORMAT')
    } finally {
      await t.cleanup()
    }
  })

  it('AMBIGUOUS_REF for a commit prefix shared by several commits', async () => {
    const t = await tempDir('errs')
    try {
      const repo = await Repository.init(path.join(t.dir, 'lake'), { durable: false })
      const seen = new Map<string, string>()
      let shared: string | undefined
      for (let i = 0; i < 3000 && !shared; i++) {
        const id = (await repo.commit('main', { message: `c${i}`, allowEmpty: true })).id
        const p = id.slice(0, 4)
        if (seen.has(p)) shared = p
        seen.set(p, id)
      }
      expect(shared).toBeDefined() // birthday bound: ~300 commits for a shared 4-hex prefix
      const err = await repo.resolve(shared!).catch((e: VarveError) => e)
      expect(err.code).toBe('AMBIGUOUS_REF')
      expect((err.details.candidates as string[]).length).toBeGreaterThanOrEqual(2)
      expect(await codeOf(repo.resolve('abc'))).toBe('NOT_FOUND') // shorter than 4: not a prefix
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('CONFLICT when a writer keeps losing the compare-and-swap; nothing moves', async () => {
    const t = await tempDir('errs')
    try {
      const lake = path.join(t.dir, 'lake')
      await (await Repository.init(lake)).close()
      // A real SQLite ref store whose branch swaps always lose, as if a faster peer always won.
      class AlwaysLosing extends SqliteRefStore {
        override async updateBranch(_e: BranchRecord, _n: BranchState, _l?: RefLogEntry) {
          return false
        }
      }
      const refs = new AlwaysLosing(path.join(lake, 'refs.sqlite3'))
      const repo = await Repository.open({ blocks: new LocalBlockStore(path.join(lake, 'blocks')), refs }, { retry: { attempts: 3, baseDelayMs: 1 } })
      const head = await repo.resolve('main')
      await repo.put('main', 'a', 'x')
      const err = await repo.commit('main', { message: 'm' }).catch((e: VarveError) => e)
      expect(err.code).toBe('CONFLICT')
      expect(err.retryable).toBe(true)
      expect(await repo.resolve('main')).toBe(head)
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })

  it('UNAVAILABLE, with the cause, when storage fails; the branch does not move', async () => {
    const t = await tempDir('errs')
    try {
      const lake = path.join(t.dir, 'lake')
      await (await Repository.init(lake)).close()
      let failPuts = false
      // A real local store whose writes fail on demand, as a dying disk's would.
      const flaky = new (class extends ForwardingBlockStore {
        override put(...args: Parameters<BlockStore['put']>) {
          return failPuts ? Promise.reject(Object.assign(new Error('disk gone'), { code: 'EIO' })) : super.put(...args)
        }
      })(new LocalBlockStore(path.join(lake, 'blocks')))
      const repo = await Repository.open({ blocks: flaky, refs: new SqliteRefStore(path.join(lake, 'refs.sqlite3')) })
      await repo.put('main', 'a', 'x')
      const head = await repo.resolve('main')
      failPuts = true
      const err = await repo.commit('main', { message: 'm' }).catch((e: VarveError) => e)
      expect(err).toBeInstanceOf(VarveError)
      expect(err.code).toBe('UNAVAILABLE')
      expect(err.message).toContain('EIO')
      expect((err.cause as Error).message).toBe('disk gone')
      expect(await repo.resolve('main')).toBe(head)
      failPuts = false
      await repo.commit('main', { message: 'm' }) // the staged change survived the failure
      expect(Buffer.from(await repo.get('main', 'a')).toString()).toBe('x')
      await repo.close()
    } finally {
      await t.cleanup()
    }
  })
})

describe('architecture', () => {
  it('no module of core imports an S3, AWS or adapter package', async () => {
    const src = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src')
    const files = (await fs.readdir(src, { recursive: true })).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(20)
    for (const f of files) {
      const text = await fs.readFile(path.join(src, f), 'utf8')
      const imports = [...text.matchAll(/from\s+'([^']+)'/g)].map((m) => m[1]!)
      for (const i of imports) expect(i, `${f} imports ${i}`).not.toMatch(/aws|s3|@varve\/(s3-adapter|cli)/i)
    }
  })
})
