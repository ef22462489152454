import type { ErrorCodes, ErrorCode } from './varve-error.js'

/** What kind of failure a code is: what a caller can do about it (SlateDB's ErrorKind, in spirit). */
export type ErrorCategory =
  | 'not-found' // name something that exists
  | 'conflict' // the state changed or does not allow it: look again, then retry or resolve
  | 'invalid-input' // fix the request
  | 'permission' // a key, a rule or a review must allow it
  | 'gate' // a quality gate refused the change: fix the data
  | 'precondition' // a condition the caller set did not hold
  | 'unavailable' // transient: retry
  | 'corrupt' // stored bytes do not match their address: restore them
  | 'internal' // a bug

/** How every surface says one code: its category, the JSON API's HTTP status, the S3 error and status, the CLI's exit code. */
export interface ErrorKind {
  readonly category: ErrorCategory
  readonly http: number
  readonly s3: { readonly code: string; readonly status: number }
  readonly exit: number
}

/** CLI exit codes: 0 ok, 1 error, 2 usage, 3 merge conflict, 4 refused by a gate or a review rule. */
export const EXIT_CODES = { ok: 0, error: 1, usage: 2, mergeConflict: 3, hookFailed: 4 } as const

const kind = (category: ErrorCategory, http: number, s3code: string, s3status: number, exit: number = EXIT_CODES.error): ErrorKind => ({
  category,
  http,
  s3: { code: s3code, status: s3status },
  exit,
})
const NOT_FOUND = kind('not-found', 404, 'NoSuchKey', 404)
const INVALID = kind('invalid-input', 400, 'InvalidArgument', 400)
const CONFLICT = kind('conflict', 409, 'OperationAborted', 409)
const DENIED = kind('permission', 403, 'AccessDenied', 403)
const UNAVAILABLE = kind('unavailable', 503, 'ServiceUnavailable', 503)

/**
 * The one table every surface derives its answer from: the JSON API's status (packages/server
 * api/routes.ts), the S3 gateway's error (server errors.ts), the CLI's exit code (cli exit-codes.ts).
 * A declared code missing here does not compile; `test/error-kinds.test.ts` walks them all.
 */
export const ERROR_KINDS: { readonly [K in keyof typeof ErrorCodes]: ErrorKind } = {
  NOT_FOUND,
  BRANCH_EXISTS: CONFLICT,
  TAG_EXISTS: CONFLICT,
  REPOSITORY_EXISTS: CONFLICT,
  NOT_A_REPOSITORY: kind('not-found', 404, 'NoSuchBucket', 404),
  INVALID_PATH: INVALID,
  INVALID_REF: INVALID,
  AMBIGUOUS_REF: INVALID,
  INVALID_ARGUMENT: INVALID,
  INVALID_CONFIG: INVALID,
  MERGE_CONFLICT: kind('conflict', 409, 'OperationAborted', 409, EXIT_CODES.mergeConflict),
  CONFLICT,
  DIRTY_BRANCH: CONFLICT,
  NOTHING_TO_COMMIT: CONFLICT,
  DEFAULT_BRANCH: CONFLICT,
  MERGE_REQUEST_NOT_OPEN: CONFLICT,
  // A stored object that no longer matches its address: the API says so (500); S3 clients get a
  // retryable 503, as for a storage failure (another replica or a restore may serve it).
  CORRUPT_OBJECT: kind('corrupt', 500, 'ServiceUnavailable', 503),
  UNSUPPORTED_FORMAT: kind('invalid-input', 422, 'NotImplemented', 501),
  UNAVAILABLE,
  CLOSED: UNAVAILABLE,
  PERMISSION_DENIED: DENIED,
  PROTECTED_BRANCH: DENIED,
  APPROVAL_REQUIRED: kind('permission', 403, 'AccessDenied', 403, EXIT_CODES.hookFailed),
  HOOK_FAILED: kind('gate', 422, 'AccessDenied', 403, EXIT_CODES.hookFailed),
  INVALID_PARQUET: kind('invalid-input', 422, 'InvalidArgument', 400),
  PRECONDITION_FAILED: kind('precondition', 412, 'PreconditionFailed', 412),
  // The source moved under an import: like a corrupt object, the bytes are not the recorded ones;
  // re-import (or restore the source object) to fix it.
  IMPORTED_OBJECT_CHANGED: kind('corrupt', 409, 'PreconditionFailed', 412),
  NOT_FAST_FORWARD: CONFLICT,
  NOT_FETCHED: NOT_FOUND,
  CONDITIONAL_WRITES_IGNORED: kind('invalid-input', 501, 'NotImplemented', 501),
  INTERNAL: kind('internal', 500, 'InternalError', 500),
}

/** The kind of any code; a code no table row names is `INTERNAL`'s. */
export function errorKindOf(code: ErrorCode): ErrorKind {
  return Object.hasOwn(ERROR_KINDS, code) ? ERROR_KINDS[code as keyof typeof ErrorCodes] : ERROR_KINDS.INTERNAL
}
