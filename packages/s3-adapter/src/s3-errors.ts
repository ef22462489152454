import { VarveError, ErrorCodes } from '@varve/core'

interface AwsError {
  name?: string
  Code?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
}

const status = (err: unknown) => (err as AwsError)?.$metadata?.httpStatusCode
const nameOf = (err: unknown) => (err as AwsError)?.name ?? (err as AwsError)?.Code ?? (err as AwsError)?.code ?? 'Error'

export const isNotFound = (err: unknown) => {
  const n = nameOf(err)
  return n === 'NoSuchKey' || n === 'NotFound' || (status(err) === 404 && n !== 'NoSuchBucket')
}
export const isPreconditionFailed = (err: unknown) => nameOf(err) === 'PreconditionFailed' || status(err) === 412
/** A conditional write that raced another conditional write of the same key (S3 answers 409). */
export const isConditionalConflict = (err: unknown) => nameOf(err) === 'ConditionalRequestConflict' || status(err) === 409

const PERMISSION = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'Forbidden'])

/**
 * Every S3 failure leaves the adapter as one VarveError line naming the S3 code, the operation and
 * the key; the SDK error stays as `cause`. Throttling and 5xx were already retried by the client.
 */
export function s3Error(err: unknown, operation: string, bucket: string, key: string): VarveError {
  if (err instanceof VarveError) return err
  const name = nameOf(err)
  const where = `s3://${bucket}/${key}`
  const details = { s3Code: name, bucket, key, operation, httpStatus: status(err) }
  if (name === 'NoSuchBucket')
    return new VarveError(ErrorCodes.NOT_FOUND, `S3 bucket ${bucket} does not exist (NoSuchBucket, ${operation} ${where})`, { cause: err, details })
  if (PERMISSION.has(name) || status(err) === 403)
    return new VarveError('PERMISSION_DENIED', `S3 refused ${operation} ${where}: ${name} (check the credentials and the bucket policy)`, {
      cause: err,
      details,
    })
  const netCode = (err as { code?: string }).code
  const msg = (err as AwsError)?.message ?? String(err)
  return new VarveError(ErrorCodes.UNAVAILABLE, `S3 ${operation} ${where} failed: ${name}${netCode && netCode !== name ? ` (${netCode})` : ''}: ${msg}`, {
    cause: err,
    details,
  })
}
