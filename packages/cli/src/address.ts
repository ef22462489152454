import { VarveError, ErrorCodes, validatePrefix } from '@varve/core'

/** `ref:path` (`main:train/part-0.parquet`, `v1:`, `exp~2:data/`): ref names cannot hold ':'. */
export interface Address {
  readonly ref: string
  readonly path: string
}

export function parseAddress(text: string, what = 'address'): Address {
  const cut = text.indexOf(':')
  if (cut <= 0)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${what} ${JSON.stringify(text)} must be ref:path (e.g. main:train/part-0.parquet, v1:, exp~2:data/)`, {
      details: { usage: true },
    })
  const path = text.slice(cut + 1)
  validatePrefix(path)
  return { ref: text.slice(0, cut), path }
}
