import { errorKindOf, VarveError } from '@varve/core'

/** An S3 error: the code and HTTP status S3 clients act on. */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message)
  }
}

export const accessDenied = (message = 'Access Denied') => new S3Error('AccessDenied', 403, message)
export const invalidArgument = (message: string) => new S3Error('InvalidArgument', 400, message)
export const noSuchKey = (key: string) => new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key })
export const noSuchBucket = (bucket: string) => new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket })

/** A library error as S3 says it. */
export function s3ErrorOf(err: unknown, key?: string): S3Error {
  if (err instanceof S3Error) return err
  // A body the gateway refused while the library read it (a bad chunk signature, a digest that does
  // not match, a client gone) reaches here wrapped as the storage failing (UNAVAILABLE, 503, which
  // clients retry): the refusal itself is the answer.
  for (let c = (err as { cause?: unknown })?.cause, depth = 0; c !== undefined && depth < 8; c = (c as { cause?: unknown })?.cause, depth++)
    if (c instanceof S3Error) return c
  if (!(err instanceof VarveError)) return new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.')
  const withKey = key ? { Key: key } : {}
  const { s3 } = errorKindOf(err.code)
  if (err.code === 'PRECONDITION_FAILED') return new S3Error(s3.code, s3.status, 'At least one of the pre-conditions you specified did not hold', withKey)
  return new S3Error(s3.code, s3.status, err.message, withKey)
}
