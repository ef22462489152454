import { randomBytes } from 'node:crypto'
import { AzureBucket } from '@varve/azure-adapter'
import { startTestAzure, type TestAzure } from '@varve/azure-adapter/testing'
import { type Bucket, BucketBlockStore, BucketRefStore, type PutMode, Repository, VarveError } from '@varve/core'
import { GcsBucket } from '@varve/gcs-adapter'
import { startTestGcs, type TestGcs } from '@varve/gcs-adapter/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { collect } from './helpers/processes.js'

// Azurite and fake-gcs-server killed with SIGKILL at chosen moments and restarted on the same data,
// as s3-faults.test.ts does to MinIO: the block write of a commit, and the branch move itself.
interface Emulator {
  kill(): Promise<void>
  restart(): Promise<void>
  stop(): Promise<void>
  bucket(prefix: string): Promise<Bucket>
}

let azure: TestAzure
let gcs: TestGcs
const container = `varve-faults-${randomBytes(4).toString('hex')}`
beforeAll(async () => {
  ;[azure, gcs] = await Promise.all([startTestAzure(), startTestGcs()])
  await Promise.all([azure.createContainer(container), gcs.createBucket(container)])
}, 180_000)
afterAll(async () => {
  await Promise.all([azure?.stop(), gcs?.stop()])
})

const emulators: [string, () => Emulator][] = [
  [
    'Azurite',
    () => ({
      kill: () => azure.kill(),
      restart: () => azure.restart(),
      stop: () => azure.stop(),
      bucket: (prefix) => AzureBucket.open({ account: azure.account, container, prefix }, { connectionString: azure.connectionString, maxAttempts: 2 }),
    }),
  ],
  [
    'fake-gcs-server',
    () => ({
      kill: () => gcs.kill(),
      restart: () => gcs.restart(),
      stop: () => gcs.stop(),
      bucket: async (prefix) => GcsBucket.open({ bucket: container, prefix }, { endpoint: gcs.endpoint, maxAttempts: 2 }),
    }),
  ],
]

/** A bucket that kills the emulator just before the first write whose key and mode `when` picks. */
class KillingBucket implements Bucket {
  armed = false
  constructor(
    readonly inner: Bucket,
    readonly emulator: Emulator,
    readonly when: (key: string, mode: PutMode) => boolean,
  ) {}
  get url() {
    return this.inner.url
  }
  async put(key: string, body: Parameters<Bucket['put']>[1], mode: PutMode = 'overwrite', options?: Parameters<Bucket['put']>[3]) {
    if (this.armed && this.when(key, mode)) {
      this.armed = false
      await this.emulator.kill()
    }
    return this.inner.put(key, body, mode, options)
  }
  get: Bucket['get'] = (k, o) => this.inner.get(k, o)
  getStream: Bucket['getStream'] = (k) => this.inner.getStream(k)
  head: Bucket['head'] = (k) => this.inner.head(k)
  listPage: Bucket['listPage'] = (p, o) => this.inner.listPage(p, o)
  delete: Bucket['delete'] = (k) => this.inner.delete(k)
}

async function failure(p: Promise<unknown>): Promise<VarveError> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  )
  if (!(e instanceof VarveError)) throw new Error(`expected a VarveError, got ${e}`)
  return e
}

describe.skipIf(process.env.VARVE_TEST_AZURE_CONNECTION_STRING || process.env.VARVE_TEST_GCS_ENDPOINT).each(emulators)(
  'store faults: %s killed and restarted',
  (_name, emulator) => {
    it('a commit cut by a crash at its first block write fails clearly, the head does not move, and the retry commits everything', async () => {
      const e = emulator()
      const prefix = `${randomBytes(5).toString('hex')}/`
      const blocks = new KillingBucket(await e.bucket(prefix), e, (key) => key.startsWith('packs/'))
      const repo = await Repository.init({ blocks: new BucketBlockStore(blocks), refs: new BucketRefStore(await e.bucket(prefix)) })
      for (let i = 0; i < 30; i++) await repo.put('main', `part/${i}.csv`, `row ${i}`)
      const head = await repo.resolve('main')
      blocks.armed = true
      expect((await failure(repo.commit('main', { message: 'interrupted' }))).code).toBe('UNAVAILABLE')
      await e.restart()
      expect(await repo.resolve('main')).toBe(head)
      expect(await collect(repo.uncommitted('main'))).toHaveLength(30) // sealed, not lost
      const c = await repo.commit('main', { message: 'after restart' })
      expect(await collect(repo.list(c.id))).toHaveLength(30)
      expect((await collect(repo.refLog('main'))).map((r) => r.operation)).toEqual(['commit', 'create'])
      await repo.close()
    }, 180_000)

    it('a commit cut by a crash at the branch move itself: an error, then the branch and its log agree, and the retry lands', async () => {
      const e = emulator()
      const prefix = `${randomBytes(5).toString('hex')}/`
      const refsBucket = new KillingBucket(await e.bucket(prefix), e, (key, mode) => key === 'refs/branches/main' && typeof mode === 'object')
      const repo = await Repository.init({ blocks: new BucketBlockStore(await e.bucket(prefix)), refs: new BucketRefStore(refsBucket) })
      for (let i = 0; i < 10; i++) await repo.put('main', `part/${i}.csv`, `row ${i}`)
      refsBucket.armed = true
      const err = await failure(repo.commit('main', { message: 'interrupted' }))
      expect(err.code).toBe('UNAVAILABLE')
      await e.restart()
      // Another machine's view: the head is where the log says, and nothing staged is lost.
      const other = await Repository.open({ blocks: new BucketBlockStore(await e.bucket(prefix)), refs: new BucketRefStore(await e.bucket(prefix)) })
      const log = await collect(other.refLog('main'))
      expect(log[0]!.new).toBe(await other.resolve('main'))
      const c = await other.commit('main', { message: 'after restart' }).catch((x: unknown) => x)
      const files = await collect(other.list('main'))
      expect(files).toHaveLength(10)
      if (c instanceof Error) expect(VarveError.is(c, 'NOTHING_TO_COMMIT')).toBe(true)
      expect((await other.verify({ full: true })).ok).toBe(true)
      await other.close()
      await repo.close()
    }, 180_000)
  },
)
