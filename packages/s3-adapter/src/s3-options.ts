import type { S3Client } from '@aws-sdk/client-s3'
import type { S3Encryption } from './s3-encryption.js'

/** How to reach S3. Without credentials, the SDK's default chain (env, profile, instance role) is used. */
export interface S3Options {
  readonly endpoint?: string
  readonly region?: string
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }
  /** Path-style addressing (`endpoint/bucket/key`), needed by MinIO and most S3-compatible servers. */
  readonly forcePathStyle?: boolean
  /** Attempts per request for throttling, 5xx and network errors, with the SDK's backoff (default 6). */
  readonly maxAttempts?: number
  /** Server-side encryption of every object written (SSE-S3, SSE-KMS or SSE-C): see S3Encryption. */
  readonly encryption?: S3Encryption
  /** A ready client, instead of the options above. */
  readonly client?: S3Client
}

/** Where a repository lives in S3: a bucket and a key prefix ('' or ending in '/'). */
export interface S3Location {
  readonly bucket: string
  readonly prefix: string
}
