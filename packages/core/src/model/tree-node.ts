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
/** A leaf with packed entries: readers that cannot find packed bytes must refuse it, not misread it. */
const PACKED_LEAF_TAG = 'varve/leaf:v2'
const INNER_TAG = 'varve/node:v1'

/**
 * Leaves are columnar (one array per field) because a listing decodes millions of entries and
 * JSON.parse builds a handful of arrays per leaf much faster than one array per entry. The
 * content-type and metadata columns are present only when some entry has one.
 */
interface EncodedLeaf {
  t: typeof LEAF_TAG | typeof PACKED_LEAF_TAG
  p: string[]
  a: string[]
  s: number[]
  m: number[]
  c?: (string | null)[]
  x?: (Record<string, string> | null)[]
  /** Pack id and offset of packed entries (v2 only). */
  k?: (string | null)[]
  o?: (number | null)[]
}

export function encodeTreeNode(node: TreeNode): Uint8Array {
  let json: string
  if (node.kind === 'leaf') {
    const es = node.entries
    const leaf: EncodedLeaf = { t: LEAF_TAG, p: es.map((e) => e.path), a: es.map((e) => e.address), s: es.map((e) => e.size), m: es.map((e) => e.lastModified) }
    if (es.some((e) => e.contentType !== undefined)) leaf.c = es.map((e) => e.contentType ?? null)
    if (es.some((e) => e.metadata !== undefined)) leaf.x = es.map((e) => e.metadata ?? null) // keys already sorted by validateMetadata
    if (es.some((e) => e.pack !== undefined)) {
      leaf.t = PACKED_LEAF_TAG
      leaf.k = es.map((e) => e.pack ?? null)
      leaf.o = es.map((e) => (e.pack !== undefined ? e.offset ?? 0 : null))
    }
    json = JSON.stringify(leaf)
  } else {
    json = JSON.stringify({ t: INNER_TAG, l: node.level, c: node.children.map((c) => [c.lastKey, c.id, c.count]) })
  }
  return Buffer.from(json, 'utf8')
}

export function decodeTreeNode(bytes: Uint8Array, id: string): TreeNode {
  let raw: Record<string, unknown>
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
  } catch (cause) {
    throw corrupt(id, 'not valid JSON', cause)
  }
  if ((raw.t === LEAF_TAG || raw.t === PACKED_LEAF_TAG) && Array.isArray(raw.p) && Array.isArray(raw.a) && Array.isArray(raw.s) && Array.isArray(raw.m)) {
    const { p, a, s, m, c, x, k, o } = raw as unknown as EncodedLeaf
    const entries: Entry[] = new Array(p.length)
    for (let i = 0; i < p.length; i++) {
      const entry: { -readonly [K in keyof Entry]: Entry[K] } = { path: p[i]!, address: a[i]!, size: s[i]!, lastModified: m[i]! }
      if (c && c[i] != null) entry.contentType = c[i]!
      if (x && x[i] != null) entry.metadata = x[i]!
      if (k && k[i] != null) {
        entry.pack = k[i]!
        entry.offset = o?.[i] ?? 0
      }
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
