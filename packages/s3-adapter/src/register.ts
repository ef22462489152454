import { openBucketStores, registerSourceScheme, registerStorageScheme } from '@varve/core'
import { parseS3Url } from './s3-client.js'
import { S3BlockStore } from './s3-block-store.js'
import type { S3Options } from './s3-options.js'
import { S3Bucket } from './s3-bucket.js'
import { S3Source } from './s3-source.js'
import { createS3Client } from './s3-client.js'

/** Serves `s3://bucket/prefix` for Repository.init/open; options come from `{ s3: S3Options }`. */
registerStorageScheme('s3', async (location, options) => {
  const where = parseS3Url(location)
  const s3 = (options.s3 ?? {}) as S3Options
  const client = createS3Client(s3) // one connection pool for both stores
  const bucket = new S3Bucket({ ...s3, ...where, client })
  // The conditional-write probe refuses a store that ignores If-None-Match/If-Match (decision 0020);
  // S3 keeps its own block store (multipart with parallel parts, presigned reads).
  return openBucketStores(bucket, {
    create: options.create,
    unsafeSingleWriter: options.unsafeSingleWriter === true,
    prefixBytes: Buffer.byteLength(where.prefix),
    blocks: new S3BlockStore({ ...s3, ...where, client }),
  })
})

/**
 * Serves `s3://` import sources (decision 0017): `options.s3` are the repository's S3 options, or a
 * named source's endpoint and region; credentials come from the SDK's chain (the environment or a
 * profile), never from the repository.
 */
registerSourceScheme('s3', async (url, name, options) => {
  const where = parseS3Url(url)
  const s3 = (options.s3 ?? {}) as S3Options
  return new S3Source(name, `s3://${where.bucket}/${where.prefix}`, where.bucket, createS3Client(s3))
})
