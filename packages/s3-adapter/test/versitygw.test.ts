import { randomBytes } from 'node:crypto'
import { BucketRefStore, Repository } from '@varve/core'
import { blockStoreConformance, bucketConformance, FaultyBucket, refStoreConformance, repositoryBehaviour } from '@varve/core/testing'
import { S3BlockStore, S3Bucket, S3RefStore } from '@varve/s3-adapter'
import { startTestVersityGw, type TestS3 } from '@varve/s3-adapter/testing'
import { afterAll, beforeAll } from 'vitest'

// The S3 suites on a second S3 implementation (versitygw over a POSIX folder), as on MinIO.
let server: TestS3
const bucket = `varve-vgw-${randomBytes(4).toString('hex')}`
const fresh = () => `t-${randomBytes(6).toString('hex')}/`
beforeAll(async () => {
  server = await startTestVersityGw()
  await server.createBucket(bucket)
}, 180_000)
afterAll(async () => server?.stop())

bucketConformance('S3Bucket (versitygw)', async () => {
  const store = new S3Bucket({ ...server.options, bucket, prefix: fresh() })
  return { store, cleanup: () => store.close() }
})
blockStoreConformance(
  'S3BlockStore (versitygw)',
  async () => {
    const store = new S3BlockStore({ ...server.options, bucket, prefix: fresh(), partSize: 5 * 1024 * 1024 })
    return { store, cleanup: () => store.close() }
  },
  // Found here: an in-place CopyObject (S3BlockStore.touch) keeps LastModified. Varve no longer relies
  // on touch (decision 0006), so this changes nothing it does.
  { touchKeepsLastModified: true },
)
refStoreConformance('S3RefStore (versitygw)', async () => {
  const store = new S3RefStore({ ...server.options, bucket, prefix: fresh() })
  return { store, cleanup: () => store.close() }
})
refStoreConformance('BucketRefStore over S3Bucket through retried writes and short pages (versitygw)', async () => {
  const store = new BucketRefStore(new FaultyBucket(new S3Bucket({ ...server.options, bucket, prefix: fresh() }), { retriedWrite: 0.4, shortPage: 0.5 }, 17))
  return { store, cleanup: () => store.close() }
})
repositoryBehaviour('s3:// on versitygw', async () => {
  const prefix = fresh()
  const location = `s3://${bucket}/${prefix}`
  const blocks = new S3BlockStore({ ...server.options, bucket, prefix })
  return {
    init: (o) => Repository.init(location, { ...o, s3: server.options }),
    open: (o) => Repository.open(location, { ...o, s3: server.options }),
    blocks,
    cleanup: () => blocks.close(),
  }
})
