import { createHash } from 'node:crypto'
import { VarveError, ErrorCodes } from '@varve/core'

/**
 * Server-side encryption of every object Varve writes to S3 (seed 000: encryption at rest):
 * - `sse-s3`: keys S3 manages (`x-amz-server-side-encryption: AES256`);
 * - `sse-kms`: a KMS key (`aws:kms`; `kmsKeyId`, else the bucket's default key);
 * - `sse-c`: a key the caller holds (32 bytes, base64). S3 keeps only its hash: every read and copy
 *   must send it too, and presigned links cannot carry it (serve reads by proxy, not redirect).
 */
export type S3Encryption =
  | { readonly type: 'sse-s3' }
  | { readonly type: 'sse-kms'; readonly kmsKeyId?: string }
  | { readonly type: 'sse-c'; readonly customerKey: string }

interface CustomerKey {
  readonly SSECustomerAlgorithm: 'AES256'
  readonly SSECustomerKey: string
  readonly SSECustomerKeyMD5: string
}

function customerKey(e: S3Encryption | undefined): CustomerKey | undefined {
  if (e?.type !== 'sse-c') return undefined
  const key = Buffer.from(e.customerKey, 'base64')
  if (key.length !== 32 || key.toString('base64') !== e.customerKey.trim())
    throw new VarveError(ErrorCodes.INVALID_CONFIG, 'an SSE-C key is 32 bytes, base64-encoded (openssl rand -base64 32)', { details: { encryption: 'sse-c' } })
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(key).digest('base64') }
}

/** Parameters of a request that writes an object (PutObject, CreateMultipartUpload, CopyObject's target). */
export function writeEncryption(e: S3Encryption | undefined): Record<string, string> {
  if (!e) return {}
  if (e.type === 'sse-s3') return { ServerSideEncryption: 'AES256' }
  if (e.type === 'sse-kms') return { ServerSideEncryption: 'aws:kms', ...(e.kmsKeyId ? { SSEKMSKeyId: e.kmsKeyId } : {}) }
  return { ...customerKey(e)! }
}

/** Parameters of a request that reads an object or sends a part of one (only SSE-C needs any). */
export function readEncryption(e: S3Encryption | undefined): Record<string, string> {
  return { ...customerKey(e) }
}

/** Parameters naming the key of a copy's source (only SSE-C needs any). */
export function copySourceEncryption(e: S3Encryption | undefined): Record<string, string> {
  const k = customerKey(e)
  return k
    ? { CopySourceSSECustomerAlgorithm: k.SSECustomerAlgorithm, CopySourceSSECustomerKey: k.SSECustomerKey, CopySourceSSECustomerKeyMD5: k.SSECustomerKeyMD5 }
    : {}
}
