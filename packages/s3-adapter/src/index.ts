import './sdk-notice.js' // first: before any SDK client exists
import './register.js'

export { S3BlockStore } from './s3-block-store.js'
export type { S3BlockStoreOptions } from './s3-block-store.js'
export { S3RefStore } from './s3-ref-store.js'
export { S3Bucket, type S3BucketOptions } from './s3-bucket.js'
export type { S3RefStoreOptions } from './s3-ref-store.js'
export { createS3Client, parseS3Url } from './s3-client.js'
export type { S3Options, S3Location } from './s3-options.js'
export type { S3Encryption } from './s3-encryption.js'
export { S3Source } from './s3-source.js'
