import { VarveError, ErrorCodes } from '../../errors/varve-error.js'
import type { MergeStrategy } from '../../merge/three-way.js'

// Checks of caller input shared by several operations.

export function checkPerson(name: unknown, what: string): string {
  if (typeof name !== 'string' || !name.trim() || name.length > 256 || /[\u0000-\u001f\u007f]/.test(name))
    throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `${what} must be a non-empty name of at most 256 characters, without control characters`)
  return name
}

export function checkStrategy(strategy: unknown): MergeStrategy {
  const s = strategy ?? 'fail'
  if (s !== 'fail' && s !== 'source-wins' && s !== 'dest-wins') throw new VarveError(ErrorCodes.INVALID_ARGUMENT, `unknown merge strategy ${JSON.stringify(s)}`)
  return s
}
