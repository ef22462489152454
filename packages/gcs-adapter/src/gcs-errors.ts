import { VarveError, ErrorCodes } from '@varve/core'

interface ApiErrorLike {
  code?: number | string
  message?: string
  errors?: { reason?: string }[]
}

export const statusOf = (err: unknown) => {
  const c = (err as ApiErrorLike)?.code
  return typeof c === 'number' ? c : undefined
}
export const isNotFound = (err: unknown) => statusOf(err) === 404
export const isPreconditionFailed = (err: unknown) => statusOf(err) === 412

/** Every GCS failure leaves the adapter as one VarveError naming the status, the operation and the object. */
export function gcsError(err: unknown, operation: string, url: string): VarveError {
  if (err instanceof VarveError) return err
  const status = statusOf(err)
  const reason = (err as ApiErrorLike)?.errors?.[0]?.reason ?? String((err as ApiErrorLike)?.code ?? 'Error')
  const details = { gcsReason: reason, httpStatus: status, operation, location: url }
  const message = (err as ApiErrorLike)?.message ?? String(err)
  if (status === 404)
    return new VarveError(ErrorCodes.NOT_FOUND, `GCS ${operation} ${url}: not found (${message}; does the bucket exist?)`, { cause: err, details })
  if (status === 401 || status === 403)
    return new VarveError(ErrorCodes.PERMISSION_DENIED, `GCS refused ${operation} ${url}: ${reason} (check the credentials and the bucket's IAM)`, {
      cause: err,
      details,
    })
  return new VarveError(ErrorCodes.UNAVAILABLE, `GCS ${operation} ${url} failed: ${reason}: ${message}`, { cause: err, details })
}
