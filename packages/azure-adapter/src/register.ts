import { openBucketStores, registerStorageScheme } from '@varve/core'
import { AzureBucket } from './azure-bucket.js'
import { parseAzureUrl, type AzureOptions } from './azure-options.js'

/** Serves `az://<account>/<container>/<prefix>` for Repository.init/open; options come from `{ azure: AzureOptions }`. */
registerStorageScheme('az', async (location, options) => {
  const where = parseAzureUrl(location)
  const bucket = await AzureBucket.open(where, (options.azure ?? {}) as AzureOptions)
  return openBucketStores(bucket, {
    create: options.create,
    unsafeSingleWriter: options.unsafeSingleWriter === true,
    prefixBytes: Buffer.byteLength(where.prefix),
  })
})
