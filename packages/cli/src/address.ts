import { VarveError, ErrorCodes, validatePrefix, type Repository } from '@varve/core'

/** `ref:path` (`main:train/part-0.parquet`, `v1:`, `exp~2:data/`): ref names cannot hold ':'. */
export interface Address {
  readonly ref: string
  readonly path: string
}

export interface ParseAddressOptions {
  /** A bare ref (`main`) means the whole ref (`main:`), as for `ls` and `get`. */
  readonly bareRef?: boolean
}

export function parseAddress(text: string, what = 'address', options: ParseAddressOptions = {}): Address {
  const cut = text.indexOf(':')
  if (cut < 0 && options.bareRef && text) return { ref: text, path: '' }
  if (cut <= 0)
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${what} ${JSON.stringify(text)} must be ref:path (e.g. main:train/part-0.parquet, v1:, exp~2:data/)`, {
      details: { usage: true },
    })
  const path = text.slice(cut + 1)
  validatePrefix(path)
  return { ref: text.slice(0, cut), path }
}

/**
 * A path as a user means it in `log -- <path>` or `blame`: a file at that path, else the folder of
 * that name (`train/day=1` is `train/day=1/`, never also `train/day=10/`), else the text as a prefix.
 */
export async function pathSpec(repo: Repository, ref: string, path: string): Promise<string> {
  validatePrefix(path)
  if (path === '' || path.endsWith('/')) return path
  const file = await repo.stat(ref, path).then(
    () => true,
    (err: unknown) => (VarveError.is(err, ErrorCodes.NOT_FOUND) ? false : Promise.reject(err)),
  )
  if (file) return path
  for await (const _ of repo.list(ref, { prefix: `${path}/`, limit: 1 })) return `${path}/`
  return path
}
