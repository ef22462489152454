import { Repository } from '@varve/core'
import { BucketRefStore } from '@varve/core'
import { blockStoreConformance, bucketConformance, FaultyBucket, refStoreConformance, repositoryBehaviour } from '@varve/core/testing'
import { S3BlockStore, S3Bucket, S3RefStore } from '@varve/s3-adapter'
import { useTestS3 } from './s3-fixtures.js'

// The very suites the embedded stores run (packages/core/test/conformance.test.ts), here on a real MinIO.
const s3 = useTestS3()

blockStoreConformance('S3BlockStore (MinIO)', async () => {
  const store = new S3BlockStore({ ...s3.server().options, bucket: s3.bucket, prefix: s3.freshPrefix(), partSize: 5 * 1024 * 1024 })
  return { store, cleanup: () => store.close() }
})

bucketConformance('S3Bucket (MinIO)', async () => {
  const store = new S3Bucket({ ...s3.server().options, bucket: s3.bucket, prefix: s3.freshPrefix() })
  return { store, cleanup: () => store.close() }
})

// The protocol must hide a write retried after its answer was lost and listings cut short, on the real store too.
refStoreConformance('BucketRefStore over S3Bucket through retried writes and short pages (MinIO)', async () => {
  const bucket = new S3Bucket({ ...s3.server().options, bucket: s3.bucket, prefix: s3.freshPrefix() })
  const store = new BucketRefStore(new FaultyBucket(bucket, { retriedWrite: 0.4, shortPage: 0.5 }, 5))
  return { store, cleanup: () => store.close() }
})

refStoreConformance('S3RefStore (MinIO)', async () => {
  const store = new S3RefStore({ ...s3.server().options, bucket: s3.bucket, prefix: s3.freshPrefix() })
  return { store, cleanup: () => store.close() }
})

repositoryBehaviour('s3:// on MinIO (S3BlockStore + S3RefStore)', async () => {
  const location = `s3://${s3.bucket}/${s3.freshPrefix()}`
  const prefix = location.slice(`s3://${s3.bucket}/`.length)
  const blocks = new S3BlockStore({ ...s3.server().options, bucket: s3.bucket, prefix })
  return {
    init: (o) => Repository.init(location, { ...o, s3: s3.server().options }),
    open: (o) => Repository.open(location, { ...o, s3: s3.server().options }),
    blocks,
    cleanup: () => blocks.close(),
  }
})
