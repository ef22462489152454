import { randomBytes } from 'node:crypto'
import { BucketBlockStore, BucketRefStore, Repository } from '@varve/core'
import { blockStoreConformance, bucketConformance, FaultyBucket, refStoreConformance, repositoryBehaviour } from '@varve/core/testing'
import { GcsBucket } from '@varve/gcs-adapter'
import { startTestGcs, type TestGcs } from '@varve/gcs-adapter/testing'
import { afterAll, beforeAll } from 'vitest'

// The suites every store runs (the embedded ones, S3 on MinIO), here on fake-gcs-server.
let gcs: TestGcs
const bucketName = `varve-test-${randomBytes(4).toString('hex')}`
const fresh = () => `t-${randomBytes(6).toString('hex')}/`
beforeAll(async () => {
  gcs = await startTestGcs()
  await gcs.createBucket(bucketName)
}, 180_000)
afterAll(async () => gcs?.stop())

const bucket = (prefix = fresh()) => GcsBucket.open({ bucket: bucketName, prefix }, { endpoint: gcs.endpoint })

bucketConformance('GcsBucket (fake-gcs-server)', async () => ({ store: bucket(), cleanup: async () => {} }))
blockStoreConformance('BucketBlockStore (fake-gcs-server)', async () => ({ store: new BucketBlockStore(bucket()), cleanup: async () => {} }))
refStoreConformance('BucketRefStore (fake-gcs-server)', async () => ({ store: new BucketRefStore(bucket()), cleanup: async () => {} }))
refStoreConformance('BucketRefStore through retried writes and short pages (fake-gcs-server)', async () => ({
  store: new BucketRefStore(new FaultyBucket(bucket(), { retriedWrite: 0.4, shortPage: 0.5 }, 13)),
  cleanup: async () => {},
}))

repositoryBehaviour('gs:// on fake-gcs-server', async () => {
  const prefix = fresh()
  const location = `gs://${bucketName}/${prefix}`
  const options = { gcs: { endpoint: gcs.endpoint } }
  return {
    init: (o) => Repository.init(location, { ...o, ...options }),
    open: (o) => Repository.open(location, { ...o, ...options }),
    blocks: new BucketBlockStore(bucket(prefix)),
    cleanup: async () => {},
  }
})
