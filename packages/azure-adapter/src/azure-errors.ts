import { VarveError, ErrorCodes } from '@varve/core'

interface RestErrorLike {
  statusCode?: number
  code?: string
  message?: string
}

export const statusOf = (err: unknown) => (err as RestErrorLike)?.statusCode
const codeOf = (err: unknown) => (err as RestErrorLike)?.code ?? 'Error'

export const isNotFound = (err: unknown) => statusOf(err) === 404 && codeOf(err) !== 'ContainerNotFound'
/** A write whose condition failed: 412 ConditionNotMet, or 409 BlobAlreadyExists for `If-None-Match: *`. */
export const isConditionFailed = (err: unknown) => statusOf(err) === 412 || (statusOf(err) === 409 && codeOf(err) === 'BlobAlreadyExists')

/** Every Azure failure leaves the adapter as one VarveError naming the Azure code, the operation and the blob. */
export function azureError(err: unknown, operation: string, url: string): VarveError {
  if (err instanceof VarveError) return err
  const code = codeOf(err)
  const status = statusOf(err)
  const details = { azureCode: code, httpStatus: status, operation, location: url }
  if (code === 'ContainerNotFound')
    return new VarveError(ErrorCodes.NOT_FOUND, `Azure container of ${url} does not exist (ContainerNotFound, ${operation})`, { cause: err, details })
  if (status === 403 || status === 401)
    return new VarveError(ErrorCodes.PERMISSION_DENIED, `Azure refused ${operation} ${url}: ${code} (check the credentials and the container's access)`, {
      cause: err,
      details,
    })
  return new VarveError(ErrorCodes.UNAVAILABLE, `Azure ${operation} ${url} failed: ${code}: ${(err as RestErrorLike)?.message ?? String(err)}`, {
    cause: err,
    details,
  })
}
