import {
  BucketBlockStore,
  BucketRefStore,
  openBucketStores,
  probeConditionalWrites,
  registerStorageScheme,
  Repository,
  VarveError,
  type Bucket,
  type RefStore,
} from '@varve/core'
import { blockStoreConformance, bucketConformance, FaultyBucket, MemoryBucket, refStoreConformance, repositoryBehaviour } from '@varve/core/testing'
import { describe, expect, it } from 'vitest'

// The ref protocol (decision 0020) on the reference bucket, then through injected faults. Every real
// store (S3, Azure Blob, GCS) runs the same suites in its own package.

bucketConformance('MemoryBucket', async () => ({ store: new MemoryBucket(), cleanup: async () => {} }))
bucketConformance('FaultyBucket passing only short listing pages', async () => ({
  store: new FaultyBucket(new MemoryBucket(), { shortPage: 0.7 }, 7),
  cleanup: async () => {},
}))

refStoreConformance('BucketRefStore on MemoryBucket', async () => ({ store: new BucketRefStore(new MemoryBucket()), cleanup: async () => {} }))
blockStoreConformance('BucketBlockStore on MemoryBucket', async () => ({ store: new BucketBlockStore(new MemoryBucket()), cleanup: async () => {} }))

// Faults the protocol must hide entirely: a write retried after its answer was lost (a conditional
// write then meets itself and is refused) and listings cut into short pages.
refStoreConformance('BucketRefStore through retried writes and short listing pages', async () => ({
  store: new BucketRefStore(new FaultyBucket(new MemoryBucket(), { retriedWrite: 0.4, shortPage: 0.5 }, 11)),
  cleanup: async () => {},
}))

const buckets = new Map<string, MemoryBucket>()
registerStorageScheme('memtest', async (location) => {
  if (!buckets.has(location)) buckets.set(location, new MemoryBucket(location))
  return openBucketStores(buckets.get(location)!)
})
let n = 0
repositoryBehaviour('memtest:// (BucketBlockStore + BucketRefStore on MemoryBucket)', async () => {
  const location = `memtest://repo-${++n}/`
  const bucket = new MemoryBucket(location)
  buckets.set(location, bucket)
  const blocks = new BucketBlockStore(bucket, { ownsBucket: false })
  return { init: (o) => Repository.init(location, o), open: (o) => Repository.open(location, o), blocks, cleanup: async () => {} }
})

describe('the ref protocol under faults', () => {
  const log = (ref: string, operation: string, old: string | null, next: string) => ({ ref, old, new: next, operation, author: 't', at: Date.now() })

  it('loses no acknowledged move and logs every move it made, with 503s, lost answers, retried writes and 409s', async () => {
    for (const seed of Array.from({ length: 24 }, (_, i) => i + 1)) {
      const memory = new MemoryBucket()
      const faulty = new FaultyBucket(memory, { before: 0.08, after: 0.08, retriedWrite: 0.1, conflict: 0.1, shortPage: 0.3 }, seed)
      const refs = new BucketRefStore(faulty)
      const clean = new BucketRefStore(memory) // what another machine sees
      faulty.rates = {}
      await refs.createBranch({ name: 'main', head: 'c0', stagingToken: 't0', sealedTokens: [] }, log('branch:main', 'create', null, 'c0'))
      faulty.rates = { before: 0.08, after: 0.08, retriedWrite: 0.1, conflict: 0.1, shortPage: 0.3 }
      const acknowledged: string[] = []
      const refused: string[] = []
      // Four writers, each moving main 12 times by compare-and-swap, retrying lost races and failures.
      await Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          for (let i = 0; i < 12; i++) {
            const head = `w${w}-${i}`
            for (let attempt = 0; attempt < 200; attempt++) {
              let cur: Awaited<ReturnType<RefStore['getBranch']>>
              try {
                cur = await refs.getBranch('main')
              } catch (err) {
                expect(VarveError.is(err, 'UNAVAILABLE')).toBe(true)
                continue
              }
              try {
                if (await refs.updateBranch(cur!, { ...cur!, head }, log('branch:main', 'commit', cur!.head, head))) {
                  acknowledged.push(head)
                  break
                }
                refused.push(`${head}@${attempt}`)
              } catch (err) {
                // The outcome is unknown (the write may have happened): a caller reads again, as here.
                expect(VarveError.is(err, 'UNAVAILABLE')).toBe(true)
                if ((await clean.getBranch('main'))!.head === head) break
              }
            }
          }
        }),
      )
      const moves = []
      for await (const m of clean.listRefLog('branch:main')) moves.push(m)
      moves.reverse()
      // A chain: each move starts from the head the one before it made, so no move overwrote another.
      expect(moves[0]).toMatchObject({ operation: 'create', new: 'c0' })
      for (let i = 1; i < moves.length; i++) {
        expect(moves[i]!.old).toBe(moves[i - 1]!.new)
        expect(moves[i]!.seq).toBe(moves[i - 1]!.seq + 1)
      }
      const logged = new Set(moves.map((m) => m.new))
      for (const head of acknowledged) expect(logged.has(head)).toBe(true)
      expect((await clean.getBranch('main'))!.head).toBe(moves.at(-1)!.new)
      expect(moves.length).toBe(1 + 48) // every writer's every move landed exactly once
      expect(faulty.counts.retriedWrite + faulty.counts.after + faulty.counts.before + faulty.counts.conflict).toBeGreaterThan(20)
    }
  })
})

describe('the conditional-write probe', () => {
  const log = { ref: 'branch:x', old: null, new: 'c', operation: 'create', author: 't', at: 1 }
  /** A store that accepts the headers and ignores them (B2, older Ceph, some gateways). */
  class IgnoringBucket extends MemoryBucket {
    constructor(readonly ignore: 'create' | 'update') {
      super(`ignoring-${ignore}://b/`)
    }
    override put(key: string, body: Uint8Array, mode?: Parameters<Bucket['put']>[2]) {
      const dropped = (mode === 'create' && this.ignore === 'create') || (typeof mode === 'object' && this.ignore === 'update') ? 'overwrite' : mode
      return super.put(key, body, dropped)
    }
  }

  it('refuses a store that ignores If-None-Match or If-Match, unless opened as a single writer', async () => {
    for (const ignore of ['create', 'update'] as const) {
      const bucket = new IgnoringBucket(ignore)
      const err = await openBucketStores(bucket, { create: true }).catch((e: unknown) => e)
      expect(VarveError.is(err, 'CONDITIONAL_WRITES_IGNORED')).toBe(true)
      expect((err as Error).message).toContain('--unsafe-single-writer')
      expect((err as VarveError).details?.finding).toMatch(ignore === 'create' ? /second create/ : /update from a version/)
      // Opening an existing repository probes before the first ref write, never for reads.
      const reader = await openBucketStores(bucket)
      expect(await reader.refs.getBranch('main')).toBeUndefined()
      const write = await reader.refs.createBranch({ name: 'x', head: 'c', stagingToken: 't', sealedTokens: [] }, log).catch((e: unknown) => e)
      expect(VarveError.is(write, 'CONDITIONAL_WRITES_IGNORED')).toBe(true)
      expect(await reader.refs.getBranch('x')).toBeUndefined()
      const stores = await openBucketStores(bucket, { create: true, unsafeSingleWriter: true })
      expect(stores.refs).toBeInstanceOf(BucketRefStore)
    }
    const good = new MemoryBucket('memory://good/')
    expect(await probeConditionalWrites(good)).toBe('honoured')
    expect((await good.listPage('')).objects).toEqual([]) // the probe cleans up after itself
  })
})
