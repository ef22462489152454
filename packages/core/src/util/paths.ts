import { VarveError, ErrorCodes } from '../errors/varve-error.js'

/** Longest accepted path, in UTF-8 bytes (S3 keys allow 1024; the tree itself has no hard limit). */
export const MAX_PATH_BYTES = 4096

/**
 * Validates a dataset path: relative, '/'-separated, no empty, '.' or '..' segment, no NUL,
 * no control characters that break terminals and logs, valid Unicode (no lone surrogates).
 */
export function validatePath(path: unknown, what = 'path'): string {
  const fail = (reason: string): never => {
    throw new VarveError(ErrorCodes.INVALID_PATH, `invalid ${what} ${JSON.stringify(path)}: ${reason}`, {
      details: { path, reason },
    })
  }
  if (typeof path !== 'string') return fail('must be a string')
  if (path.length === 0) return fail('must not be empty')
  if (path.startsWith('/')) return fail('must not start with "/"')
  if (path.includes('\0')) return fail('must not contain NUL')
  // eslint-disable-next-line no-control-regex
  const control = /[\u0001-\u001f\u007f-\u009f]/.exec(path)
  if (control) return fail(`must not contain control character U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`)
  if (!path.isWellFormed()) return fail('must be valid Unicode')
  if (Buffer.byteLength(path, 'utf8') > MAX_PATH_BYTES) return fail(`longer than ${MAX_PATH_BYTES} bytes`)
  for (const segment of path.split('/')) {
    if (segment === '') return fail('must not contain an empty segment')
    if (segment === '.' || segment === '..') return fail(`must not contain a "${segment}" segment`)
  }
  return path
}

/**
 * A path a write creates: valid, and in Unicode NFC. `é` can be written as one code point (NFC) or as
 * `e` plus a combining accent (NFD, what macOS file names often are): both would be different files
 * that look the same, so new names must be NFC (existing ones of either form stay readable and
 * removable). The CLI writes local file names as NFC.
 */
export function validateNewPath(path: unknown, what = 'path'): string {
  const p = validatePath(path, what)
  if (p.normalize('NFC') !== p)
    throw new VarveError(
      ErrorCodes.INVALID_PATH,
      `invalid ${what} ${JSON.stringify(p)}: not in Unicode NFC (a look-alike of ${JSON.stringify(p.normalize('NFC'))}); write it as path.normalize('NFC')`,
      {
        details: { path: p, reason: 'not NFC', nfc: p.normalize('NFC') },
      },
    )
  return p
}

/** Validates a listing prefix: like a path, but may be empty and may end with '/'. */
export function validatePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === '') return ''
  if (typeof prefix !== 'string') throw new VarveError(ErrorCodes.INVALID_PATH, 'prefix must be a string')
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix
  validatePath(body, 'prefix')
  return prefix
}

/**
 * Orders paths by their UTF-8 bytes (= code point order), the order S3 and SQLite use, so every
 * store and every implementation sorts a tree the same way. JS `<` compares UTF-16 code units,
 * which differs only when a surrogate pair meets a character in U+E000..U+FFFF.
 */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i)
    let cb = b.charCodeAt(i)
    if (ca !== cb) {
      if (ca >= 0xd800 && cb >= 0xd800) {
        ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000
        cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000
      }
      return ca - cb
    }
  }
  return a.length - b.length
}

/** The smallest string greater than every string that starts with `prefix`. */
export function prefixUpperBound(prefix: string): string {
  return prefix + '\u{10FFFF}'
}
