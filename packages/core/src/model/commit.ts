import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import { canonicalJson, type JsonValue } from '../util/canonical-json.js'
import { isObjectId, sha256Hex } from './hash.js'
import type { TreeRef } from './tree-node.js'

export interface Commit {
  /** SHA-256 of the canonical encoding of every other field. */
  readonly id: string
  readonly parents: readonly string[]
  /** Id of the root tree node. */
  readonly root: string
  /** Where the root node is when it is packed (decision 0008); absent: under its own key. */
  readonly rootAt?: PackedRoot
  readonly message: string
  readonly author: string
  /**
   * Who made the commit, when that is not the author (git's committer): `varve serve` records the
   * access key here while a request body's `author` stays the author. Absent: the author committed.
   */
  readonly committer?: string
  readonly metadata: Readonly<Record<string, JsonValue>>
  /** Milliseconds since the epoch. */
  readonly createdAt: number
  /** 1 + the largest generation of the parents (1 for a root commit): a cheap bound for ancestry walks. */
  readonly generation: number
}

export interface PackedRoot {
  readonly pack: string
  readonly offset: number
  readonly size: number
}

export type CommitFields = Omit<Commit, 'id'>

/** The commit's root tree, as tree functions take it: with its location when it is packed. */
export function commitRoot(c: Pick<Commit, 'root' | 'rootAt'>): TreeRef {
  const at = c.rootAt
  return at === undefined ? c.root : { id: c.root, lastKey: '', count: -1, at: { pack: { id: at.pack }, offset: at.offset, size: at.size } }
}

const COMMIT_TAG = 'varve/commit:v1'

export function encodeCommit(fields: CommitFields): Uint8Array {
  return Buffer.from(
    canonicalJson({
      t: COMMIT_TAG,
      parents: fields.parents,
      root: fields.root,
      message: fields.message,
      author: fields.author,
      // Only when set: commits without it keep the encoding (and ids) they always had.
      ...(fields.committer !== undefined ? { committer: fields.committer } : {}),
      metadata: fields.metadata,
      createdAt: fields.createdAt,
      generation: fields.generation,
      ...(fields.rootAt !== undefined ? { rootAt: [fields.rootAt.pack, fields.rootAt.offset, fields.rootAt.size] } : {}),
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
  let rootAt: PackedRoot | undefined
  if (raw.rootAt !== undefined) {
    const at = raw.rootAt
    if (
      !Array.isArray(at) ||
      at.length !== 3 ||
      typeof at[0] !== 'string' ||
      !isObjectId(at[0]) ||
      !Number.isSafeInteger(at[1]) ||
      !Number.isSafeInteger(at[2]) ||
      at[1] < 0 ||
      at[2] < 0
    )
      throw new VarveError(ErrorCodes.CORRUPT_OBJECT, `commit ${id} is corrupt: a malformed root location`, { details: { object: id } })
    rootAt = { pack: at[0], offset: at[1], size: at[2] }
  }
  return Object.freeze({
    id,
    parents: raw.parents as string[],
    root: raw.root as string,
    ...(rootAt ? { rootAt } : {}),
    message: raw.message as string,
    author: raw.author as string,
    ...(typeof raw.committer === 'string' ? { committer: raw.committer } : {}),
    metadata: raw.metadata as Record<string, JsonValue>,
    createdAt: raw.createdAt as number,
    generation: raw.generation as number,
  })
}
