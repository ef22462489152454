import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { canonicalJson, type JsonValue } from '../util/canonical-json.js'
import { sha256Hex } from './hash.js'

export interface Commit {
  /** SHA-256 of the canonical encoding of every other field. */
  readonly id: string
  readonly parents: readonly string[]
  /** Id of the root tree node. */
  readonly root: string
  readonly message: string
  readonly author: string
  readonly metadata: Readonly<Record<string, JsonValue>>
  /** Milliseconds since the epoch. */
  readonly createdAt: number
  /** 1 + the largest generation of the parents (1 for a root commit): a cheap bound for ancestry walks. */
  readonly generation: number
}

export type CommitFields = Omit<Commit, 'id'>

const COMMIT_TAG = 'varve/commit:v1'

export function encodeCommit(fields: CommitFields): Uint8Array {
  return Buffer.from(
    canonicalJson({
      t: COMMIT_TAG,
      parents: fields.parents,
      root: fields.root,
      message: fields.message,
      author: fields.author,
      metadata: fields.metadata,
      createdAt: fields.createdAt,
      generation: fields.generation,
    }),
    'utf8',
  )
}

export function makeCommit(fields: CommitFields): { commit: Commit; bytes: Uint8Array } {
  const bytes = encodeCommit(fields)
  return { commit: Object.freeze({ id: sha256Hex(bytes), ...fields }), bytes }
}

export function decodeCommit(bytes: Uint8Array, id: string): Commit {
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (cause) {
    throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `commit ${id} is corrupt: not valid JSON`, { details: { object: id }, cause })
  }
  if (raw.t !== COMMIT_TAG) {
    if (typeof raw.t === 'string' && raw.t.startsWith('varve/commit'))
      throw new VarveError(ErrorCodes.UNSUPPORTED_FORMAT, `commit ${id} has format ${raw.t}, which this version cannot read`)
    throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `object ${id} is not a commit`, { details: { object: id } })
  }
  return Object.freeze({
    id,
    parents: raw.parents as string[],
    root: raw.root as string,
    message: raw.message as string,
    author: raw.author as string,
    metadata: raw.metadata as Record<string, JsonValue>,
    createdAt: raw.createdAt as number,
    generation: raw.generation as number,
  })
}
