import { BucketRefStore } from '@varve/core'
import { S3Bucket } from './s3-bucket.js'
import type { S3Location, S3Options } from './s3-options.js'

export type S3RefStoreOptions = S3Options & S3Location

/**
 * Branches, tags, staging and the ref log under `s3://bucket/prefix`: core's ref protocol
 * (BucketRefStore, decision 0020) over S3's conditional writes. The key layout is the one S3
 * repositories have always had.
 */
export class S3RefStore extends BucketRefStore {
  declare readonly bucket: S3Bucket

  constructor(options: S3RefStoreOptions) {
    super(new S3Bucket(options), { prefixBytes: Buffer.byteLength(options.prefix) })
  }

  get client() {
    return this.bucket.client
  }
}
