import fs from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalBlockStore, Repository, SqliteRefStore, type BlockStore, type Clock, type RefStore } from '@varve/core'
import { keys } from '@varve/core/internal'
import { exploreInterleavings, PausingBlockStore, PausingRefStore, type StepFilter, type StepGate } from '@varve/core/testing'
import { S3BlockStore, S3RefStore } from '@varve/s3-adapter'
import { useTestS3 } from '../packages/s3-adapter/test/s3-fixtures.js'
import { tempDir } from './helpers/processes.js'

// Every ordering of the steps of one garbage collection and one writer that re-puts content the
// collection is about to take (docs/decisions/0006-gc-quarantine.md). The collection's steps: its
// marks (branch listing, staging listing), each compare-and-swap of its epoch, each move to
// quarantine, each delete. The writer's: reading the collector's epoch, storing (or finding) the
// object, staging it, checking and restoring it. After each ordering, the put must have returned and
// its bytes must read back, also after one more collection.

const CONTENT = 'content that comes back while it is being collected'
/** How many orderings ended with the writer acknowledged (a copy may fail honestly; some must not). */
let acknowledged = 0
const HOUR = 3_600_000

const gcSteps: { refs: StepFilter; blocks: StepFilter } = {
  refs: (call) => call === 'listBranches' || call === 'listStaged' || call === 'compareAndSetSetting',
  blocks: (call) => call === 'rename' || call === 'delete' || call === 'deleteMany',
}
// On MinIO (~0.5 s an ordering) every ordering of coarser steps: the collector's epoch
// compare-and-swaps, moves and deletes (its marks run with the step before them); the writer's
// epoch reads, store and staging (its re-check and restore run with its second epoch read).
const gcStepsCoarse: { refs: StepFilter; blocks: StepFilter } = {
  refs: (call) => call === 'compareAndSetSetting',
  blocks: (call) => call === 'rename' || call === 'deleteMany',
}
const writerStepsCoarse: { refs: StepFilter; blocks: StepFilter } = {
  refs: (call, arg) => call === 'putStaged' || (call === 'getSetting' && arg === 'gc/state'),
  blocks: (call, arg) => call === 'put' && arg.startsWith('data/'),
}
const writerSteps: { refs: StepFilter; blocks: StepFilter } = {
  refs: (call, arg) => call === 'putStaged' || (call === 'getSetting' && arg === 'gc/state'),
  blocks: (call, arg) => (call === 'put' || call === 'head' || call === 'rename') && (arg.startsWith('data/') || arg.startsWith('quarantine/')),
}

interface Stores {
  open(): { blocks: BlockStore; refs: RefStore }
  /** Makes the garbage old for the collector: file times locally, the collector's clock on S3. */
  age(repo: Repository, address: string): Promise<void>
  gcClock: Clock
  cleanup(): Promise<void>
}

/** A repository whose only data object is garbage: committed, then deleted and committed again. Returns the commit that had it. */
async function seedGarbage(stores: Pick<Stores, 'open' | 'age'>): Promise<string> {
  const seed = await Repository.init(stores.open(), { durable: false })
  const e = await seed.put('main', 'old/x', CONTENT)
  const had = await seed.commit('main', { message: 'x' })
  await seed.delete('main', 'old/x')
  await seed.commit('main', { message: 'x is garbage now' })
  await stores.age(seed, e.address)
  await seed.close()
  return had.id
}

/**
 * `put` stores the garbage's content again; `copy` stages an entry naming it from the commit that
 * had it (repo.copy writes nothing: it relies on the stored object, as a put that finds its content
 * stored does). A copy that fails (the collector took that commit's tree first) was never
 * acknowledged; one that returns must read back.
 */
async function scenario(gate: StepGate, stores: Stores, seededFrom?: string, coarse = false, mode: 'put' | 'copy' = 'put') {
  const garbageCommit = seededFrom ?? (await seedGarbage(stores))

  const wrap = (actor: string, steps: typeof gcSteps) => {
    const s = stores.open()
    return { blocks: new PausingBlockStore(s.blocks, gate, actor, steps.blocks), refs: new PausingRefStore(s.refs, gate, actor, steps.refs) }
  }
  const collector = await Repository.open(wrap('gc', coarse ? gcStepsCoarse : gcSteps), { clock: stores.gcClock })
  const writer = await Repository.open(wrap('writer', coarse ? writerStepsCoarse : writerSteps))
  return {
    actors: {
      gc: () => collector.gc({ retainDays: 0, graceSeconds: 3600 }),
      writer: () => (mode === 'put' ? writer.put('main', 'new/x', CONTENT) : writer.copy(garbageCommit, 'old/x', 'main', 'new/x')),
    },
    check: async (results: Record<string, PromiseSettledResult<unknown>>) => {
      if (results.writer!.status === 'rejected') {
        if (mode === 'copy' && ['NOT_FOUND', 'UNAVAILABLE'].includes((results.writer!.reason as { code?: string }).code ?? '')) return
        throw new Error(`the ${mode} failed: ${results.writer!.reason}`)
      }
      acknowledged++
      if (results.gc!.status === 'rejected') throw new Error(`gc failed: ${results.gc!.reason}`)
      const plain = stores.open()
      const reader = await Repository.open(plain, { clock: stores.gcClock })
      try {
        const entry = await reader.stat('main', 'new/x')
        expect(Buffer.from(await reader.get('main', 'new/x')).toString()).toBe(CONTENT)
        // Not only readable (reads fall back to quarantine): stored under its own key again, so no
        // later collection can take it (a purge deletes only from quarantine).
        expect(await plain.blocks.head(keys.data(entry.address))).toBeDefined()
      } finally {
        await reader.close()
      }
    },
    cleanup: async () => {
      await collector.close()
      await writer.close()
      await stores.cleanup()
    },
  }
}

// VARVE_INTERLEAVING_MAX_RUNS bounds the search (for a quick look); by default every ordering runs.
const maxRuns = Number(process.env.VARVE_INTERLEAVING_MAX_RUNS) || undefined
const progress = (label: string) => (runs: number, steps: number) => {
  if (process.env.VARVE_DEBUG && runs % 25 === 0) process.stderr.write(`${label}: ${runs} orderings (last ${steps} steps)\n`)
}

describe('garbage collection against a writer reusing its content: every interleaving', () => {
  it.each(['put', 'copy'] as const)(
    'local store: no ordering loses the acknowledged %s',
    async (mode) => {
      const localStores = (dir: string) => ({
        open: () => ({ blocks: new LocalBlockStore(path.join(dir, 'blocks'), { durable: false }), refs: new SqliteRefStore(path.join(dir, 'refs.sqlite3')) }),
        age: async (_repo: Repository, address: string) => {
          const old = new Date(Date.now() - 3 * HOUR)
          await fs.utimes(path.join(dir, 'blocks', keys.data(address)), old, old)
        },
      })
      const template = await tempDir('gc-interleave-template')
      const garbageCommit = await seedGarbage(localStores(template.dir))
      acknowledged = 0
      const r = await exploreInterleavings(
        async (gate) => {
          const t = await tempDir('gc-interleave')
          await fs.cp(template.dir, t.dir, { recursive: true, preserveTimestamps: true })
          const stores: Stores = { ...localStores(t.dir), gcClock: { now: () => Date.now() }, cleanup: t.cleanup }
          return scenario(gate, stores, garbageCommit, false, mode)
        },
        { onRun: progress(`local ${mode}`), ...(maxRuns ? { maxRuns } : {}) },
      ).finally(template.cleanup)
      console.log(`gc interleavings (local, ${mode}): ${r.runs} orderings, up to ${r.longest} steps, ${acknowledged} acknowledged`)
      expect(r.runs).toBeGreaterThan(maxRuns ? 0 : 100)
      expect(acknowledged).toBeGreaterThan(mode === 'put' ? r.runs - 1 : 0)
    },
    1_800_000,
  )

  describe('MinIO', () => {
    const s3 = useTestS3()

    it('S3 store: no ordering loses the acknowledged put', async () => {
      const r = await exploreInterleavings(
        async (gate) => {
          const prefix = s3.freshPrefix()
          const clients: { close(): Promise<void> }[] = []
          const stores: Stores = {
            open: () => {
              const blocks = new S3BlockStore({ ...s3.server().options, bucket: s3.bucket, prefix })
              const refs = new S3RefStore({ ...s3.server().options, bucket: s3.bucket, prefix })
              clients.push(blocks, refs)
              return { blocks, refs }
            },
            age: async () => {}, // S3 sets LastModified itself: the collector's clock runs 3 hours ahead instead
            gcClock: { now: () => Date.now() + 3 * HOUR },
            cleanup: async () => {
              // Empty the prefix: MinIO lists more slowly as a bucket fills with thousands of runs.
              const all = new S3BlockStore({ ...s3.server().options, bucket: s3.bucket, prefix })
              const keys: string[] = []
              for await (const o of all.list('')) keys.push(o.key)
              await all.deleteMany(keys)
              await all.close()
              await Promise.all(clients.map((c) => c.close().catch(() => {})))
            },
          }
          return scenario(gate, stores, undefined, true)
        },
        { onRun: progress('MinIO'), ...(maxRuns ? { maxRuns } : {}) },
      )
      console.log(`gc interleavings (MinIO): ${r.runs} orderings, up to ${r.longest} steps`)
      expect(r.runs).toBeGreaterThan(maxRuns ? 0 : 30)
    }, 3_600_000)
  })
})
