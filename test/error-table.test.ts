import { describe, expect, it } from 'vitest'
import { ERROR_KINDS, ErrorCodes, errorKindOf, VarveError } from '@varve/core'
import { exitCodeOf } from '../packages/cli/src/exit-codes.js'
import { s3ErrorOf } from '../packages/server/src/errors.js'

// Issue 24: one table of error kinds; the JSON API's status, the S3 gateway's error and the CLI's
// exit code all come from it. Every declared code has a row, and every surface says it as the row does.
describe('the error table', () => {
  const codes = Object.values(ErrorCodes)

  it('has a row for every declared code, and no row for an undeclared one', () => {
    expect(Object.keys(ERROR_KINDS).sort()).toEqual([...codes].sort())
    expect(errorKindOf('SOMETHING_NEW')).toBe(ERROR_KINDS.INTERNAL)
  })

  it.each(codes)('%s: a 4xx or 5xx everywhere; only a bug or corrupt bytes is a 500; the S3 error and the exit code follow the row', (code) => {
    const kind = errorKindOf(code)
    expect(kind.http).toBeGreaterThanOrEqual(400)
    expect(kind.http).toBeLessThan(600)
    if (kind.http === 500) expect(['INTERNAL', 'CORRUPT_OBJECT']).toContain(code)
    if (kind.category === 'unavailable') expect(kind.http).toBe(503) // retryable
    const s3 = s3ErrorOf(new VarveError(code, 'm'))
    expect([s3.code, s3.status]).toEqual([kind.s3.code, kind.s3.status])
    expect(exitCodeOf(new VarveError(code, 'm'))).toBe(kind.exit)
  })

  it('keeps the CLI contract: merge conflicts exit 3, gates and review rules 4, usage errors 2, the rest 1', () => {
    expect(exitCodeOf(new VarveError('MERGE_CONFLICT', 'm'))).toBe(3)
    expect(exitCodeOf(new VarveError('HOOK_FAILED', 'm'))).toBe(4)
    expect(exitCodeOf(new VarveError('APPROVAL_REQUIRED', 'm'))).toBe(4)
    expect(exitCodeOf(new VarveError('INVALID_ARGUMENT', 'm', { details: { usage: true } }))).toBe(2)
    expect(exitCodeOf(new VarveError('NOT_FOUND', 'm'))).toBe(1)
  })
})
