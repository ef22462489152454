import { VarveError, ErrorCodes } from '../errors/varve-error.js'

/**
 * Branch and tag names follow git's check-ref-format rules, so every name that works in git works
 * here, and names never collide with revision syntax (`~`, `^`, `:`) or commit ids.
 */
export function validateRefName(name: unknown, kind: 'branch' | 'tag' = 'branch'): string {
  const fail = (reason: string): never => {
    throw new VarveError(ErrorCodes.INVALID_REF, `invalid ${kind} name ${JSON.stringify(name)}: ${reason}`, {
      details: { name, reason },
    })
  }
  if (typeof name !== 'string' || name.length === 0) return fail('must be a non-empty string')
  if (Buffer.byteLength(name) > 255) return fail('longer than 255 bytes')
  if (name === '@') return fail('"@" is reserved')
  if (/^[0-9a-f]{64}$/.test(name)) return fail('a full commit id is not a name (it names that commit)')
  if (name.startsWith('-')) return fail('must not start with "-"')
  if (name.endsWith('/') || name.startsWith('/')) return fail('must not start or end with "/"')
  if (name.endsWith('.')) return fail('must not end with "."')
  if (name.includes('..')) return fail('must not contain ".."')
  if (name.includes('//')) return fail('must not contain "//"')
  if (name.includes('@{')) return fail('must not contain "@{"')
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return fail('must not contain spaces, control characters or any of ~^:?*[\\')
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return fail('no component may start with "."')
    if (part.endsWith('.lock')) return fail('no component may end with ".lock"')
  }
  if (!name.isWellFormed()) return fail('must be valid Unicode')
  return name
}
