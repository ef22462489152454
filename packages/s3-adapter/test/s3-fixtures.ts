import { randomBytes } from 'node:crypto'
import type { S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll } from 'vitest'
import { createS3Client } from '@varve/s3-adapter'
import { startTestS3, type TestS3 } from '@varve/s3-adapter/testing'

/** One real S3 endpoint (MinIO) per test file, and a bucket in it; every fixture gets a fresh prefix. */
export function useTestS3(): { server: () => TestS3; client: () => S3Client; bucket: string; freshPrefix: () => string } {
  let server: TestS3 | undefined
  let client: S3Client | undefined
  const bucket = `varve-test-${randomBytes(4).toString('hex')}`
  beforeAll(async () => {
    server = await startTestS3()
    client = createS3Client(server.options)
    await server.createBucket(bucket)
  }, 120_000)
  afterAll(async () => {
    client?.destroy()
    await server?.stop()
  })
  return {
    server: () => server!,
    client: () => client!,
    bucket,
    freshPrefix: () => `t-${randomBytes(6).toString('hex')}/`,
  }
}
