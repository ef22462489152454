/**
 * Every error Varve raises on purpose. `code` is the API (stable, documented); `message` is for people.
 */
export const ErrorCodes = {
  NOT_FOUND: 'NOT_FOUND',
  BRANCH_EXISTS: 'BRANCH_EXISTS',
  TAG_EXISTS: 'TAG_EXISTS',
  REPOSITORY_EXISTS: 'REPOSITORY_EXISTS',
  NOT_A_REPOSITORY: 'NOT_A_REPOSITORY',
  INVALID_PATH: 'INVALID_PATH',
  INVALID_REF: 'INVALID_REF',
  AMBIGUOUS_REF: 'AMBIGUOUS_REF',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  MERGE_CONFLICT: 'MERGE_CONFLICT',
  CONFLICT: 'CONFLICT',
  DIRTY_BRANCH: 'DIRTY_BRANCH',
  NOTHING_TO_COMMIT: 'NOTHING_TO_COMMIT',
  DEFAULT_BRANCH: 'DEFAULT_BRANCH',
  CORRUPT_OBJECT: 'CORRUPT_OBJECT',
  UNSUPPORTED_FORMAT: 'UNSUPPORTED_FORMAT',
  UNAVAILABLE: 'UNAVAILABLE',
  CLOSED: 'CLOSED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  HOOK_FAILED: 'HOOK_FAILED',
  INVALID_CONFIG: 'INVALID_CONFIG',
  PROTECTED_BRANCH: 'PROTECTED_BRANCH',
  INVALID_PARQUET: 'INVALID_PARQUET',
  /** A merge into a branch whose rules require an (approved) merge request, without one. */
  APPROVAL_REQUIRED: 'APPROVAL_REQUIRED',
  /** A change to a merge request that is merged or closed. */
  MERGE_REQUEST_NOT_OPEN: 'MERGE_REQUEST_NOT_OPEN',
  /** A conditional put (`ifNoneMatch: '*'`, `ifMatch`) whose condition did not hold. */
  PRECONDITION_FAILED: 'PRECONDITION_FAILED',
  /**
   * An imported entry's source object is no longer the one imported (its ETag or version moved): its
   * bytes are refused, never served in place of the imported ones (docs/decisions/0017).
   */
  IMPORTED_OBJECT_CHANGED: 'IMPORTED_OBJECT_CHANGED',
  /** A push that would not fast-forward the remote branch, or whose lease no longer holds (decision 0019). */
  NOT_FAST_FORWARD: 'NOT_FAST_FORWARD',
  /** Data a partial clone did not fetch (outside its prefix): fetch it, or clone with --lazy (decision 0019). */
  NOT_FETCHED: 'NOT_FETCHED',
  /**
   * A store that ignores conditional writes (a second create or a stale update succeeded), so many
   * writers would overwrite each other's refs: refused unless opened as a single writer (decision 0020).
   */
  CONDITIONAL_WRITES_IGNORED: 'CONDITIONAL_WRITES_IGNORED',
  /** An unexpected failure (a bug): what the API and the CLI say for an error no other code names. */
  INTERNAL: 'INTERNAL',
} as const

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | (string & {})

export interface VarveErrorOptions {
  details?: Record<string, unknown>
  cause?: unknown
}

export class VarveError extends Error {
  override readonly name = 'VarveError'
  readonly code: ErrorCode
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, options: VarveErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.details = Object.freeze({ ...(options.details ?? {}) })
  }

  /** Whether retrying the same call later may succeed (lost races, unavailable storage). */
  get retryable(): boolean {
    return this.code === ErrorCodes.CONFLICT || this.code === ErrorCodes.UNAVAILABLE
  }

  static is(err: unknown, code?: ErrorCode): err is VarveError {
    return err instanceof VarveError && (code === undefined || err.code === code)
  }
}

export const notFound = (what: string, details: Record<string, unknown> = {}) => new VarveError(ErrorCodes.NOT_FOUND, `${what} not found`, { details })

export const invalidArgument = (message: string, details: Record<string, unknown> = {}) => new VarveError(ErrorCodes.INVALID_ARGUMENT, message, { details })
