import { VarveError, ErrorCodes } from '../errors/varve-error.js'
import type { Entry } from './entry.js'

/**
 * A tree is a Prolly-style B-tree of immutable, content-addressed nodes. Leaves hold entries in path
 * order; inner nodes hold references to the level below. A node's id is the SHA-256 of its encoding.
 * See docs/decisions/0002-tree-format.md.
 */
export interface ChildRef {
  /** Last (greatest) path below this child. Empty string for an empty leaf. */
  readonly lastKey: string
  readonly id: string
  /** Number of entries below this child. */
  readonly count: number
}

export type TreeNode =
  | { readonly kind: 'leaf'; readonly entries: readonly Entry[] }
  | { readonly kind: 'inner'; readonly level: number; readonly children: readonly ChildRef[] }

const LEAF_TAG = 'varve/leaf:v1'
const INNER_TAG = 'varve/node:v1'

type EncodedEntry = [string, string, number, number, string | null, Record<string, string> | null]

export function encodeTreeNode(node: TreeNode): Uint8Array {
  let json: string
  if (node.kind === 'leaf') {
    const rows: EncodedEntry[] = node.entries.map((e) => [
      e.path,
      e.address,
      e.size,
      e.lastModified,
      e.contentType ?? null,
      e.metadata ?? null, // already key-sorted by validateMetadata
    ])
    json = JSON.stringify({ t: LEAF_TAG, e: rows })
  } else {
    json = JSON.stringify({ t: INNER_TAG, l: node.level, c: node.children.map((c) => [c.lastKey, c.id, c.count]) })
  }
  return Buffer.from(json, 'utf8')
}

export function decodeTreeNode(bytes: Uint8Array, id: string): TreeNode {
  let raw: { t?: unknown; e?: unknown; l?: unknown; c?: unknown }
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (cause) {
    throw corrupt(id, 'not valid JSON', cause)
  }
  if (raw.t === LEAF_TAG && Array.isArray(raw.e)) {
    const entries: Entry[] = new Array(raw.e.length)
    for (let i = 0; i < raw.e.length; i++) {
      const r = raw.e[i] as EncodedEntry
      const entry: { -readonly [K in keyof Entry]: Entry[K] } = { path: r[0], address: r[1], size: r[2], lastModified: r[3] }
      if (r[4] !== null) entry.contentType = r[4]
      if (r[5] !== null) entry.metadata = r[5]
      entries[i] = entry
    }
    return { kind: 'leaf', entries }
  }
  if (raw.t === INNER_TAG && Array.isArray(raw.c) && typeof raw.l === 'number') {
    const children = (raw.c as [string, string, number][]).map(([lastKey, cid, count]) => ({ lastKey, id: cid, count }))
    return { kind: 'inner', level: raw.l, children }
  }
  if (typeof raw.t === 'string' && raw.t.startsWith('varve/'))
    throw new VarveError(ErrorCodes.UNSUPPORTED_FORMAT, `tree node ${id} has format ${raw.t}, which this version cannot read`)
  throw corrupt(id, 'not a tree node')
}

function corrupt(id: string, why: string, cause?: unknown) {
  return new VarveError(ErrorCodes.CORRUPT_OBJECT, `tree node ${id} is corrupt: ${why}`, { details: { object: id }, cause })
}
