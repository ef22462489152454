import { randomBytes } from 'node:crypto'
import { BlobServiceClient } from '@azure/storage-blob'
import { AzureBucket } from '@varve/azure-adapter'
import { startTestAzure, type TestAzure } from '@varve/azure-adapter/testing'
import { BucketBlockStore, BucketRefStore, Repository } from '@varve/core'
import { blockStoreConformance, bucketConformance, FaultyBucket, refStoreConformance, repositoryBehaviour } from '@varve/core/testing'
import { afterAll, beforeAll } from 'vitest'

// The suites every store runs (the embedded ones, S3 on MinIO), here on Azurite, Azure's emulator.
let azure: TestAzure
const container = `varve-test-${randomBytes(4).toString('hex')}`
const fresh = () => `t-${randomBytes(6).toString('hex')}/`
beforeAll(async () => {
  azure = await startTestAzure()
  await azure.createContainer(container)
}, 180_000)
afterAll(async () => azure?.stop())

const bucket = (prefix = fresh()) =>
  new AzureBucket({ account: azure.account, container, prefix }, BlobServiceClient.fromConnectionString(azure.connectionString).getContainerClient(container))

bucketConformance('AzureBucket (Azurite)', async () => ({ store: bucket(), cleanup: async () => {} }))
blockStoreConformance('BucketBlockStore (Azurite)', async () => ({ store: new BucketBlockStore(bucket()), cleanup: async () => {} }))
refStoreConformance('BucketRefStore (Azurite)', async () => ({ store: new BucketRefStore(bucket()), cleanup: async () => {} }))
refStoreConformance('BucketRefStore through retried writes and short pages (Azurite)', async () => ({
  store: new BucketRefStore(new FaultyBucket(bucket(), { retriedWrite: 0.4, shortPage: 0.5 }, 9)),
  cleanup: async () => {},
}))

repositoryBehaviour('az:// on Azurite', async () => {
  const prefix = fresh()
  const location = `az://${azure.account}/${container}/${prefix}`
  const options = { azure: { connectionString: azure.connectionString } }
  return {
    init: (o) => Repository.init(location, { ...o, ...options }),
    open: (o) => Repository.open(location, { ...o, ...options }),
    blocks: new BucketBlockStore(bucket(prefix)),
    cleanup: async () => {},
  }
})
