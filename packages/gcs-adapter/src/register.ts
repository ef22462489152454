import { openBucketStores, registerStorageScheme } from '@varve/core'
import { GcsBucket } from './gcs-bucket.js'
import { parseGcsUrl, type GcsOptions } from './gcs-options.js'

/** Serves `gs://<bucket>/<prefix>` for Repository.init/open; options come from `{ gcs: GcsOptions }`. */
registerStorageScheme('gs', async (location, options) => {
  const where = parseGcsUrl(location)
  const bucket = GcsBucket.open(where, (options.gcs ?? {}) as GcsOptions)
  return openBucketStores(bucket, {
    create: options.create,
    unsafeSingleWriter: options.unsafeSingleWriter === true,
    prefixBytes: Buffer.byteLength(where.prefix),
  })
})
